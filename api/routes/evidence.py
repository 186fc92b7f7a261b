"""Alert evidence beyond viewing it (admins only): keep it past retention, run retention, and
export one alert with its evidence and audit trail as a ZIP file.

- `POST /api/alerts/{id}/keep` `{"keep": true, "reason": "police asked"}` holds the evidence
  (`alert.keep`); `{"keep": false}` releases it (`alert.release`).
- `GET /api/retention`: the settings, how many alerts are held and the last pass's report;
  `POST /api/retention/run` runs a pass now (`api.retention`).
- `GET /api/alerts/{id}/export.zip` (`api.export`), audited as `alert.export`: faces pixelated
  (`?faces=blurred`, the default) or, with `?faces=as_stored&reason=...`, the files as stored.
"""

from __future__ import annotations

import time
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask

from alerts.service import AlertService
from api.audit import audit
from api.config import AppConfig, RetentionConfig
from api.db import DB
from api.export import UnknownAlertError, export_alert
from api.retention import last_report, run_for_app
from api.security import Principal, require
from api.tables.evidence import AlertHold

router = APIRouter(
    tags=["evidence"],
    responses={
        401: {"description": "Not signed in."},
        403: {"description": "Needs the admin role."},
        404: {"description": "No such alert."},
        503: {"description": "The alert service is not running."},
    },
)
admin = require("admin")

AlertId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The alert's id.")]


class Keep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: bool = Field(description="True: keep the evidence past retention; false: release it.")
    reason: str = Field(
        "", max_length=500, pattern=r"^[^\x00]*$", description="Why (e.g. who asked for it)."
    )


def _service(request: Request) -> AlertService:
    service: AlertService | None = getattr(request.app.state, "alerts", None)
    if service is None:
        raise HTTPException(503, "the alert service is not running")
    return service


def _retention_config(request: Request) -> RetentionConfig:
    config: AppConfig | None = getattr(request.app.state, "config", None)
    return config.retention if config is not None else RetentionConfig()


def _hold_dict(alert_id: str, hold: AlertHold | None) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "keep": hold is not None,
        "held_by": None if hold is None else hold.held_by,
        "held_at": None if hold is None else hold.held_at,
        "reason": None if hold is None else hold.reason,
    }


def _known_alert(request: Request, alert_id: str) -> None:
    if _service(request).store.get(alert_id) is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")


@router.get("/api/alerts/{alert_id}/keep", dependencies=[admin])
def get_hold(alert_id: AlertId, db: DB, request: Request) -> dict[str, Any]:
    """Whether the alert's evidence is marked to keep, by whom, since when, why."""
    _known_alert(request, alert_id)
    return _hold_dict(alert_id, db.get(AlertHold, alert_id))


@router.post("/api/alerts/{alert_id}/keep")
def set_hold(
    alert_id: AlertId, body: Keep, db: DB, request: Request, who: Principal = admin
) -> dict[str, Any]:
    """Mark the alert's evidence to keep past retention (`keep` true), or release it."""
    _known_alert(request, alert_id)
    hold = db.get(AlertHold, alert_id)
    if body.keep:
        if hold is None:
            hold = AlertHold(alert_id=alert_id, held_by=who.username, held_at=time.time())
            db.add(hold)
        hold.reason = body.reason
        audit(db, who, "alert.keep", "alert", alert_id, {"reason": body.reason}, request)
    else:
        if hold is not None:
            db.delete(hold)
            hold = None
        audit(db, who, "alert.release", "alert", alert_id, {"reason": body.reason}, request)
    try:
        db.commit()
    except IntegrityError:  # held by someone else at the same moment: theirs stands
        db.rollback()
        hold = db.get(AlertHold, alert_id)
    return _hold_dict(alert_id, hold)


@router.get("/api/retention", dependencies=[admin])
def retention_status(db: DB, request: Request) -> dict[str, Any]:
    """The retention settings, how many alerts are held, and the last pass's report (null
    before the first pass since start-up)."""
    report = last_report(request.app.state)
    return {
        "settings": _retention_config(request).model_dump(),
        "held": db.scalar(select(func.count()).select_from(AlertHold)) or 0,
        "last_run": None if report is None else report.to_dict(),
    }


@router.post("/api/retention/run")
def retention_run(db: DB, request: Request, who: Principal = admin) -> dict[str, Any]:
    """Run a retention pass now; returns its report (also kept as the last run's). Audited
    as `retention.run` (each alert cleared also as `retention.delete`)."""
    _service(request)
    report = run_for_app(request.app.state, _retention_config(request), time.time())
    summary = {"cleared": len(report.cleared), "files_deleted": report.files_deleted}
    audit(db, who, "retention.run", "retention", None, summary, request)
    db.commit()
    return report.to_dict()


@router.get(
    "/api/alerts/{alert_id}/export.zip",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP archive."}},
)
def export(
    alert_id: AlertId,
    db: DB,
    request: Request,
    faces: Literal["blurred", "as_stored"] = Query(
        "blurred",
        description="`blurred`: faces pixelated in the snapshot and clip (a file whose poses "
        "are missing is left out); `as_stored`: the files as stored, needs a `reason`.",
    ),
    reason: str | None = Query(
        None,
        min_length=3,
        max_length=500,
        pattern=r"^[^\x00]*$",
        description="Why (needed for `as_stored`; audited).",
    ),
    who: Principal = admin,
) -> FileResponse:
    """The alert with its history, deliveries, evidence files and audit entries as a ZIP
    (`README.txt` inside says what is what, and how faces were treated). Audited as
    `alert.export` with `faces` and `reason`."""
    if faces == "as_stored" and not (reason and reason.strip()):
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("query", "reason"),
                    "msg": "exporting faces as stored needs a reason (3-500 characters)",
                }
            ]
        )
    service = _service(request)
    now = time.time()
    try:
        path = export_alert(
            db,
            service.store,
            service.evidence_root,
            alert_id,
            exported_by=f"{who.username} ({who.role})",
            now=now,
            blur_faces=faces == "blurred",
            reason=reason or "",
        )
    except UnknownAlertError:
        raise HTTPException(404, f"no alert with id {alert_id!r}") from None
    details = {"bytes": path.stat().st_size, "faces": faces, "reason": reason}
    audit(db, who, "alert.export", "alert", alert_id, details, request)
    db.commit()
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"carewatch-alert-{alert_id}.zip",
        background=BackgroundTask(FilePath.unlink, path, missing_ok=True),
    )
