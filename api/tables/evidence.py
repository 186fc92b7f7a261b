"""Holds on alert evidence: an alert "marked to keep" keeps its snapshot and clip past the
retention period (`api.retention`) until an admin releases it."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from api.tables.base import Base


class AlertHold(Base):
    """One held alert (e.g. evidence asked for by the police or an insurer)."""

    __tablename__ = "alert_holds"

    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    held_by: Mapped[str] = mapped_column(String(64))
    held_at: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500), default="")
