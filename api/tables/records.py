"""Rooms, beds, residents and camera records: what the station knows about its places and people.

Residents are never deleted: a discharge sets `discharge_date` and frees the room and bed, and the
record stays (the audit log and old alerts refer to it). A current resident is one without a
`discharge_date`; only current residents hold a room or a bed, so `residents.bed_id` is unique
(NULLs are distinct on SQLite and PostgreSQL alike) and one bed never has two occupants.

`cameras.source` keeps the stream URL with its credentials, because the service must open it; the
API only ever shows it masked (`api.camera_records.masked_source`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.tables.base import Base

FLAGS = ("fall_risk", "epilepsy", "mental_health_support", "disability", "elderly")
"""The care flags of a resident, in the order they are shown (alert context, lists)."""

SEXES = ("male", "female", "other", "unknown")


class Room(Base):
    """A room (or dormitory, hall) of the station; cameras and residents are placed in rooms."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    floor: Mapped[str | None] = mapped_column(String(32), default=None)
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Bed(Base):
    """One bed of a room, labelled within it ("A", "window", "3")."""

    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("room_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    label: Mapped[str] = mapped_column(String(32))


class Resident(Base):
    """A person staying (or who stayed) at the station, with the care flags guards should know.

    `id_number` is the ID document number, stored whole and shown masked to non-admins.
    """

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("bed_id"),
        CheckConstraint("sex IN ('male', 'female', 'other', 'unknown')", name="sex"),
        CheckConstraint(
            "discharge_date IS NULL OR discharge_date >= intake_date", name="discharge_after_intake"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    id_number: Mapped[str | None] = mapped_column(String(64), default=None)
    sex: Mapped[str] = mapped_column(String(8), default="unknown")
    birth_year: Mapped[int | None] = mapped_column(Integer, default=None)
    intake_date: Mapped[date] = mapped_column(Date)
    discharge_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), default=None, index=True)
    bed_id: Mapped[int | None] = mapped_column(ForeignKey("beds.id"), default=None)
    fall_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    epilepsy: Mapped[bool] = mapped_column(Boolean, default=False)
    mental_health_support: Mapped[bool] = mapped_column(Boolean, default=False)
    disability: Mapped[bool] = mapped_column(Boolean, default=False)
    elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class CameraRecord(Base):
    """A camera as the admins manage it; the running service is built from the enabled ones.

    Seeded from the YAML config on first start (`api.camera_records.import_config_cameras`); the
    database wins afterwards. Zones and behaviour settings live in the camera profiles.
    """

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(Text)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), default=None, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    analysis_fps: Mapped[float] = mapped_column(Float, default=5.0)
    loop: Mapped[bool] = mapped_column(Boolean, default=False)
    realtime: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
