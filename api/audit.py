"""Writing the audit log: one call per thing worth answering "who did that, and when?".

    audit(db, who, "resident.update", "resident", resident.id, {"changed": ["room_id"]}, request)
    db.commit()  # the entry commits with the change it describes

Actions are `<area>.<verb>`: `login.success`, `login.failure`, `logout`, `user.create`,
`resident.update`, `camera.update`, `profile.apply`, `alert.acknowledge`, `clip.view`,
`snapshot.view`, `alert.export`, `retention.delete`, ... Entries are never changed or deleted
through the API.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from api.tables.audit import AuditEntry


class Actor(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...


def client_address(request: Request | None) -> str | None:
    if request is None or request.client is None:
        return None
    return request.client.host


def audit(
    db: Session,
    actor: Actor | str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    request: Request | None = None,
) -> AuditEntry:
    """Add an audit entry to `db`'s transaction (the caller commits)."""
    name, role = (actor, None) if isinstance(actor, str) else (actor.username, actor.role)
    entry = AuditEntry(
        at=time.time(),
        actor=name,
        role=role,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
        address=client_address(request),
    )
    db.add(entry)
    return entry
