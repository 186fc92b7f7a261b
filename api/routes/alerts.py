"""Alerts over HTTP and WebSocket: list and filter, details with history and deliveries,
acknowledge and resolve, the snapshot and clip, and the live change stream.

The stream (`/api/alerts/ws?since=SEQ`) first replays every stored change after `SEQ`, then
pushes new ones as they are committed; each message carries its `seq`, so a console that
reconnects with the last `seq` it saw misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from alerts.evidence import real_path
from alerts.model import Alert, Disposition
from alerts.service import AlertService, UnknownAlertError
from alerts.store import ConflictError
from api.audit import audit
from api.context import alert_context
from api.db import DB
from api.security import Principal, current_principal, require

log = logging.getLogger(__name__)

MAX_OFFSET = 2**31 - 1
"""Integers past this do not fit the databases' INTEGER columns."""


class Acknowledge(BaseModel):
    note: str | None = Field(None, max_length=2000)


class Resolve(BaseModel):
    disposition: Disposition = Field(description="real_incident, false_alarm, duplicate, cleared")
    note: str | None = Field(None, max_length=2000)


def with_context(db: Any, alerts: list[Alert]) -> list[dict[str, Any]]:
    """Alerts as JSON, each with `context`: its camera's room and residents from the records."""
    context = alert_context(db, {a.camera_id for a in alerts})
    return [{**a.to_dict(), "context": context.get(a.camera_id)} for a in alerts]


def alerts_router(service: AlertService) -> APIRouter:
    """Every route needs a signed-in guard or above; viewing evidence is audited."""
    router = APIRouter(prefix="/api/alerts", tags=["alerts"])
    store = service.store
    guard = require("guard")

    def alert_or_404(alert_id: str) -> Any:
        alert = store.get(alert_id)
        if alert is None:
            raise HTTPException(404, f"no alert with id {alert_id!r}")
        return alert

    def evidence_file(alert_id: str, which: str, suffix: str = "") -> Path:
        alert = alert_or_404(alert_id)
        relpath = getattr(alert, which)
        if not relpath:
            raise HTTPException(404, f"alert {alert_id} has no {which} yet")
        root = service.evidence_root.resolve()
        path = (root / relpath).resolve()
        if suffix:
            path = path.with_suffix(suffix)
        if root not in path.parents or not path.is_file():
            raise HTTPException(404, f"the {which} of alert {alert_id} is not on disk")
        return path

    def shown_file(alert_id: str, which: str, role: str) -> tuple[Path, bool]:
        """The evidence file someone of `role` sees, and whether it is the real picture kept
        beside a skeleton one (for roles the camera does not limit to skeletons)."""
        path = evidence_file(alert_id, which)
        real = real_path(path)
        if real.is_file() and not service.shows_skeleton(alert_or_404(alert_id).camera_id, role):
            return real, True
        return path, False

    @router.get("", dependencies=[guard])
    def list_alerts(
        db: DB,
        camera: str | None = None,
        kind: str | None = None,
        state: str | None = None,
        disposition: str | None = None,
        since: float | None = Query(
            None, allow_inf_nan=False, description="Detected at or after (epoch seconds)."
        ),
        until: float | None = Query(
            None, allow_inf_nan=False, description="Detected before (epoch seconds)."
        ),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict[str, Any]:
        """Alerts newest first, filtered; `last_seq` is the cursor to stream from."""
        found = store.find(
            camera_id=camera,
            kind=kind,
            state=state,
            disposition=disposition,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return {"alerts": with_context(db, found), "last_seq": service.feed.last_seq}

    @router.get("/changes", dependencies=[guard])
    def changes(
        since: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(500, ge=1, le=5000)
    ) -> dict[str, Any]:
        """Stored changes after cursor `since`, oldest first (HTTP alternative to the stream)."""
        found = store.changes_since(since, limit=limit)
        return {"changes": [c.to_dict() for c in found], "last_seq": service.feed.last_seq}

    @router.get("/deliveries", dependencies=[guard])
    def delivery_summary() -> dict[str, dict[str, int]]:
        """Per channel: deliveries pending, delivered and failed."""
        return store.delivery_counts()

    @router.get("/{alert_id}")
    def get_alert(alert_id: str, db: DB, who: Principal = guard) -> dict[str, Any]:
        """One alert (with its records context), its history of changes and its deliveries.
        `real_evidence` says which pictures the caller sees as skeletons while a real one is
        kept beside them (admins can open those with a reason)."""
        alert = alert_or_404(alert_id)
        root = service.evidence_root
        skeleton = service.shows_skeleton(alert.camera_id, who.role)
        real = {
            which: skeleton and bool(rel) and real_path(root / str(rel)).is_file()
            for which, rel in (("snapshot", alert.snapshot), ("clip", alert.clip))
        }
        return {
            "alert": {**with_context(db, [alert])[0], "real_evidence": real},
            "history": [
                {k: v for k, v in c.to_dict().items() if k != "alert"}
                | {"version": c.alert.version}
                for c in store.history(alert_id)
            ],
            "deliveries": [d.to_dict() for d in store.deliveries(alert_id)],
        }

    @router.post("/{alert_id}/acknowledge")
    def acknowledge(
        alert_id: str, body: Acknowledge, db: DB, request: Request, who: Principal = guard
    ) -> dict[str, Any]:
        """Acknowledge as the signed-in user (409 when already resolved)."""
        try:
            change = service.acknowledge(alert_id, actor=who.username, note=body.note)
        except UnknownAlertError:
            raise HTTPException(404, f"no alert with id {alert_id!r}") from None
        except (ValueError, ConflictError) as exc:
            raise HTTPException(409, str(exc)) from None
        audit(db, who, "alert.acknowledge", "alert", alert_id, {"note": body.note}, request)
        db.commit()
        return change.to_dict()

    @router.post("/{alert_id}/resolve")
    def resolve(
        alert_id: str, body: Resolve, db: DB, request: Request, who: Principal = guard
    ) -> dict[str, Any]:
        """Resolve as the signed-in user with a disposition (409 when already resolved)."""
        try:
            change = service.resolve(
                alert_id, actor=who.username, disposition=body.disposition, note=body.note
            )
        except UnknownAlertError:
            raise HTTPException(404, f"no alert with id {alert_id!r}") from None
        except (ValueError, ConflictError) as exc:
            raise HTTPException(409, str(exc)) from None
        audit(
            db,
            who,
            "alert.resolve",
            "alert",
            alert_id,
            {"disposition": body.disposition, "note": body.note},
            request,
        )
        db.commit()
        return change.to_dict()

    def viewed(
        db: DB, who: Principal, what: str, alert_id: str, request: Request, real: bool
    ) -> None:
        """One audit entry per view of a piece of evidence (not per range request of a clip)."""
        if what == "clip" and request.headers.get("range", "bytes=0-") not in ("bytes=0-", ""):
            return
        details = {"picture": "real"} if real else None
        audit(db, who, f"{what}.view", "alert", alert_id, details, request)
        db.commit()

    @router.get("/{alert_id}/snapshot.jpg", response_class=FileResponse)
    def snapshot(alert_id: str, db: DB, request: Request, who: Principal = guard) -> FileResponse:
        """The snapshot JPEG taken at detection (people drawn; as skeletons for the roles the
        camera's `privacy.skeleton_only` names). Audited."""
        path, real = shown_file(alert_id, "snapshot", who.role)
        viewed(db, who, "snapshot", alert_id, request, real)
        return FileResponse(path, media_type="image/jpeg")

    @router.get("/{alert_id}/clip.mp4", response_class=FileResponse)
    def clip(alert_id: str, db: DB, request: Request, who: Principal = guard) -> FileResponse:
        """The H.264 clip around the event (supports HTTP range requests for seeking; as
        skeletons for the camera's skeleton-only roles). Audited."""
        path, real = shown_file(alert_id, "clip", who.role)
        viewed(db, who, "clip", alert_id, request, real)
        return FileResponse(path, media_type="video/mp4")

    admin = require("admin")

    def real_file(alert_id: str, which: str) -> Path:
        path = real_path(evidence_file(alert_id, which))
        if not path.is_file():
            raise HTTPException(404, f"alert {alert_id} has no separate real {which}")
        return path

    @router.get("/{alert_id}/real/snapshot.jpg", response_class=FileResponse)
    def real_snapshot(
        alert_id: str,
        db: DB,
        request: Request,
        reason: str = Query(min_length=3, max_length=500, description="Why (audited)."),
        who: Principal = admin,
    ) -> FileResponse:
        """The real picture of a skeleton-only camera's alert (masked, faces blurred): admins
        only, with a reason, recorded in the audit log."""
        path = real_file(alert_id, "snapshot")
        audit(
            db,
            who,
            "evidence.open_real",
            "alert",
            alert_id,
            {"what": "snapshot", "reason": reason},
            request,
        )
        db.commit()
        return FileResponse(path, media_type="image/jpeg")

    @router.get("/{alert_id}/real/clip.mp4", response_class=FileResponse)
    def real_clip(
        alert_id: str,
        db: DB,
        request: Request,
        reason: str = Query(min_length=3, max_length=500, description="Why (audited)."),
        who: Principal = admin,
    ) -> FileResponse:
        """The real clip of a skeleton-only camera's alert: admins only, with a reason, audited."""
        path = real_file(alert_id, "clip")
        if request.headers.get("range", "bytes=0-") in ("bytes=0-", ""):
            audit(
                db,
                who,
                "evidence.open_real",
                "alert",
                alert_id,
                {"what": "clip", "reason": reason},
                request,
            )
            db.commit()
        return FileResponse(path, media_type="video/mp4")

    @router.get("/{alert_id}/clip.json", response_class=FileResponse, dependencies=[guard])
    def clip_overlay(alert_id: str) -> FileResponse:
        """Per-frame boxes and skeletons of the clip, and when detection happened in it."""
        return FileResponse(evidence_file(alert_id, "clip", ".json"), media_type="application/json")

    @router.websocket("/ws")
    async def stream(
        websocket: WebSocket, since: int | None = Query(None, ge=0, le=MAX_OFFSET)
    ) -> None:
        """Replay changes after `since` (default: only new ones), then push new changes.
        Needs the session cookie or `?token=<access token>` of a guard or above."""
        try:
            await asyncio.to_thread(_authorise_socket, websocket)
        except HTTPException as exc:
            await websocket.close(code=4401 if exc.status_code == 401 else 4403, reason=exc.detail)
            return
        await websocket.accept()
        cursor = service.feed.last_seq if since is None else since
        await websocket.send_json({"type": "hello", "last_seq": service.feed.last_seq})
        try:
            while True:
                batch = await asyncio.to_thread(store.changes_since, cursor, limit=200)
                for change in batch:
                    await websocket.send_json({"type": "change", **change.to_dict()})
                    cursor = change.seq
                if not batch:
                    await service.feed.wait(cursor, timeout_s=5.0)
                    if service.feed.last_seq <= cursor:
                        await websocket.send_json({"type": "ping", "last_seq": cursor})
        except WebSocketDisconnect:
            return
        except Exception as exc:  # the client vanished mid-send, or the server is stopping
            log.debug("alert stream closed: %s", exc)

    return router


def _authorise_socket(websocket: WebSocket) -> Principal:
    """Check a WebSocket's caller like an HTTP request: cookie, or the token query parameter
    (browsers cannot set headers on WebSockets)."""
    scope = dict(websocket.scope)
    token = websocket.query_params.get("token")
    if token:
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        scope["headers"] = [*headers, (b"authorization", f"Bearer {token}".encode())]
    request = Request({**scope, "type": "http"})
    factory = websocket.app.state.sessions
    with factory() as db:
        who = current_principal(request, db)
    if who.role not in ("guard", "operator", "admin"):
        raise HTTPException(403, "this needs the guard role")
    return who
