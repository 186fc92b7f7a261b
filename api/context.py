"""What the records say about a camera's place, for alerts: "Room 3 — 2 residents, 1 with fall
risk".

Guards see this on every alert, so it counts residents and their care flags and never names
anyone or shows an ID number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.tables.records import FLAGS, CameraRecord, Resident, Room

PHRASES = {
    "fall_risk": ("with fall risk", "with fall risk"),
    "epilepsy": ("with epilepsy", "with epilepsy"),
    "mental_health_support": ("needing mental health support", "needing mental health support"),
    "disability": ("with a disability", "with disabilities"),
    "elderly": ("elderly", "elderly"),
}
"""Each care flag in words after a count, (singular, plural): "1 with a disability"."""


def summary(room_name: str, residents: int, flags: dict[str, int]) -> str:
    """One line for guards, e.g. "Room 3 — 2 residents, 1 with fall risk, 2 elderly".

    >>> summary("Room 3", 1, {"disability": 1})
    'Room 3 — 1 resident, 1 with a disability'
    """
    if residents == 0:
        return f"{room_name} — no residents"
    parts = [f"{residents} resident{'' if residents == 1 else 's'}"]
    for flag in FLAGS:
        n = flags.get(flag, 0)
        if n:
            parts.append(f"{n} {PHRASES[flag][0 if n == 1 else 1]}")
    return f"{room_name} — {', '.join(parts)}"


def alert_context(db: Session, camera_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per camera id placed in a room: the room, how many current residents it has and how many
    of them carry each care flag (only flags that someone has), and a summary line::

        {"cam1": {"room": {"id": 3, "name": "Room 3"}, "residents": 2,
                  "flags": {"fall_risk": 1}, "summary": "Room 3 — 2 residents, 1 with fall risk"}}

    Cameras without a room, or without a record, are absent.
    """
    ids = sorted(set(camera_ids))
    if not ids:
        return {}
    placed = db.execute(
        select(CameraRecord.id, Room.id, Room.name)
        .join(Room, Room.id == CameraRecord.room_id)
        .where(CameraRecord.id.in_(ids))
    ).all()
    if not placed:
        return {}
    room_ids = sorted({room_id for _, room_id, _ in placed})
    columns = [func.sum(case((getattr(Resident, f).is_(True), 1), else_=0)) for f in FLAGS]
    rows = db.execute(
        select(Resident.room_id, func.count(), *columns)
        .where(Resident.room_id.in_(room_ids), Resident.discharge_date.is_(None))
        .group_by(Resident.room_id)
    ).all()
    counts: dict[int, tuple[int, dict[str, int]]] = {}
    for room_id, n, *sums in rows:
        flags = {f: int(k) for f, k in zip(FLAGS, sums, strict=True) if k}
        counts[int(room_id)] = (int(n), flags)
    out = {}
    for camera_id, room_id, room_name in placed:
        n, flags = counts.get(room_id, (0, {}))
        out[camera_id] = {
            "room": {"id": room_id, "name": room_name},
            "residents": n,
            "flags": flags,
            "summary": summary(room_name, n, flags),
        }
    return out
