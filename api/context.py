"""What the records say about a camera's place: for alerts ("Room 3 — 2 residents, 1 with fall
risk"). Filled in by the records work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session


def alert_context(db: Session, camera_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per camera id: its room and the residents assigned there with their care flags."""
    return {}
