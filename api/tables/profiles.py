"""Versioned per-camera threshold and zone profiles: every change is a new version, never an edit.

A profile's `document` is what the camera's detectors are built from::

    {"behaviours": <BehavioursConfig as JSON>, "zones": [<ZoneConfig as JSON>, ...]}

Versions count 1, 2, 3, ... per camera; `changes` lists what differs from the version before
(`[{"path": "behaviours.fall.confirm_down_s", "old": 5.0, "new": 4.0}]`). Which version is in
force is `ActiveProfile` (one row per camera), so "which one runs" is never ambiguous.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.tables.base import Base


class CameraProfile(Base):
    """One version of one camera's behaviour settings and zones (append-only)."""

    __tablename__ = "camera_profiles"
    __table_args__ = (UniqueConstraint("camera_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    restored_from: Mapped[int | None] = mapped_column(Integer, default=None)


class ActiveProfile(Base):
    """The version of a camera's profile in force (the one its running pipeline uses)."""

    __tablename__ = "camera_profiles_active"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    activated_at: Mapped[float] = mapped_column(Float)
    activated_by: Mapped[str] = mapped_column(String(64))
