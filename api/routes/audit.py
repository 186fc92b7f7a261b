"""Reading the audit log (admins only). There is deliberately no way to change or delete it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.db import DB
from api.security import require
from api.tables.audit import AuditEntry

MAX_OFFSET = 2**31 - 1
"""Integers past this do not fit the databases' INTEGER columns."""

router = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[require("admin")])


@router.get("")
def list_audit(
    db: DB,
    actor: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=64, description="Exact, or a prefix ending in '.'"),
    target_type: str | None = Query(None, max_length=32),
    target_id: str | None = Query(None, max_length=64),
    since: float | None = Query(
        None, allow_inf_nan=False, description="At or after (epoch seconds)."
    ),
    until: float | None = Query(None, allow_inf_nan=False, description="Before (epoch seconds)."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Audit entries, newest first, filtered; `total` counts all matching entries."""
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(
            AuditEntry.action.startswith(action)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return {
        "total": total,
        "entries": [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": e.details,
                "address": e.address,
            }
            for e in rows
        ],
    }
