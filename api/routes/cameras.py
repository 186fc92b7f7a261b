"""Camera records: any signed-in role reads, admins change; a change reaches the running service
at once through `app.state.camera_control` (see `api.camera_records.CameraControl`).

    GET    /api/cameras               list (room_id, enabled; sort id|name|room), each with its
                                      live `health` (None when no worker runs it)
    POST   /api/cameras               add (and start it when enabled)
    GET    /api/cameras/{camera_id}   one camera
    PATCH  /api/cameras/{camera_id}   change (restart it; disabling stops it)
    DELETE /api/cameras/{camera_id}   delete (and stop it)

The stream URL is stored with its credentials, which no response ever contains: answers carry
`source_masked` and `has_credentials`, validation errors do not echo the request
(the app-wide 422 handler in `api/app.py`), and error messages are scrubbed of the password.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit import audit
from api.camera_records import (
    RECORD_FIELDS,
    config_by_id,
    has_credentials,
    masked_source,
    record_config,
    scrub,
)
from api.db import DB
from api.routes.records import (
    CONFLICT,
    LINE,
    LINE_OR_EMPTY,
    MAX_ID,
    NOT_FOUND,
    SIGNED_IN,
    UNCHANGED,
    Body,
    Id,
    Limit,
    Offset,
    RoomRef,
    SortOrder,
    Strip,
    apply_changes,
    commit_or_409,
    not_found,
    page_total,
    sort_by,
)
from api.security import Principal, require
from api.tables.records import CameraRecord, Room

log = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

CameraId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
CameraName = Annotated[str, StringConstraints(max_length=120, pattern=LINE_OR_EMPTY), Strip]
Source = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=LINE), Strip]
Fps = Annotated[
    float,
    Field(ge=0.01, le=60, description="Frames per second analysed, 0.01 (one every 100 s) to 60."),
]
CameraPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The camera id.")
]


router = APIRouter(tags=["cameras"], responses=SIGNED_IN)
guard = require("guard")
admin = require("admin")

_apply_lock = threading.Lock()
"""Serialises applying changes, so the service ends up running what was committed last."""


class CameraIn(Body):
    id: CameraId = Field(description="Short unique id: letters, digits, '-' and '_'.")
    name: CameraName = Field("", description="Shown to guards.")
    source: Source = Field(
        description="A video file path, rtsp://user:password@host/..., http(s)://..., or "
        "device:N. Stored as given; shown only masked."
    )
    room_id: Id | None = Field(None, description="The room it watches.")
    enabled: bool = Field(True, description="Read and analysed.")
    analysis_fps: Fps = 5.0
    loop: bool = Field(False, description="Replay a video file from the start when it ends.")
    realtime: bool = Field(True, description="Read video files at their own frame rate.")


class CameraPatch(Body):
    """Only the fields given change; `room_id` can be cleared with null."""

    name: CameraName = Field(UNCHANGED)
    source: Source = Field(UNCHANGED)
    room_id: Id | None = None
    enabled: bool = Field(UNCHANGED)
    analysis_fps: Fps = Field(UNCHANGED)
    loop: bool = Field(UNCHANGED)
    realtime: bool = Field(UNCHANGED)


class CameraOut(BaseModel):
    id: str
    name: str
    source_masked: str = Field(description="The source with its password replaced by ***.")
    has_credentials: bool = Field(description="Whether the stored source carries credentials.")
    room: RoomRef | None
    enabled: bool
    analysis_fps: float
    loop: bool
    realtime: bool
    created_at: float
    updated_at: float
    health: dict[str, Any] | None = Field(
        description="The running worker's health (state, fps, errors); None when not running."
    )


class CameraChange(CameraOut):
    applied: bool = Field(description="Whether the running service took the change.")
    apply_error: str | None = Field(description="Why it did not, when it failed.")


class CameraPage(BaseModel):
    total: int
    cameras: list[CameraOut]


def live_health(request: Request) -> dict[str, dict[str, Any]]:
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        return {}
    return {h["camera_id"]: h for h in runner.health()}


def cameras_out(db: Session, request: Request, records: list[CameraRecord]) -> list[CameraOut]:
    room_ids = {r.room_id for r in records if r.room_id is not None}
    rooms = {r.id: r for r in db.scalars(select(Room).where(Room.id.in_(room_ids)))}
    health = live_health(request)
    out = []
    for r in records:
        room = rooms.get(r.room_id) if r.room_id is not None else None
        found = health.get(r.id)
        out.append(
            CameraOut(
                id=r.id,
                name=r.name,
                source_masked=masked_source(r.source),
                has_credentials=has_credentials(r.source),
                room=None if room is None else RoomRef(id=room.id, name=room.name),
                enabled=r.enabled,
                analysis_fps=r.analysis_fps,
                loop=r.loop,
                realtime=r.realtime,
                created_at=r.created_at,
                updated_at=r.updated_at,
                health=None
                if found is None
                else {k: scrub(v, r.source) if isinstance(v, str) else v for k, v in found.items()},
            )
        )
    return out


def camera_or_404(db: Session, camera_id: str) -> CameraRecord:
    record = db.get(CameraRecord, camera_id)
    if record is None:
        raise not_found("camera", camera_id)
    return record


def _check_room(db: Session, room_id: int | None) -> None:
    if room_id is not None and db.get(Room, room_id) is None:
        raise not_found("room", room_id)


def _check_config(record: CameraRecord) -> None:
    """422 when the record would not make a valid camera (the service could not run it)."""
    try:
        record_config(record)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {
                    "type": e["type"],
                    "loc": ("body", *e["loc"]),
                    "msg": scrub(e["msg"], record.source),
                }
                for e in exc.errors()
            ]
        ) from None


def apply_live(db: Session, request: Request, camera_id: str) -> tuple[bool, str | None]:
    """Hand the committed record (None when deleted or disabled) to `app.state.camera_control`;
    (applied, error). The record is read again under a lock, so concurrent changes end with the
    service running the last one committed."""
    control = getattr(request.app.state, "camera_control", None)
    if control is None:
        return False, None
    with _apply_lock:
        db.expire_all()
        record = db.get(CameraRecord, camera_id)
        try:
            cfg = None
            if record is not None and record.enabled:
                config = getattr(request.app.state, "config", None)
                base = config_by_id(getattr(config, "cameras", ()), camera_id)
                cfg = record_config(record, base)
            control.apply(cfg, camera_id)
        except Exception as exc:  # the record is committed; say what the service made of it
            message = f"{type(exc).__name__}: {exc}"
            if record is not None:
                message = scrub(message, record.source)
            log.error(
                "camera %s: applying the change to the service failed: %s", camera_id, message
            )
            return False, message
    return True, None


def changed_out(
    db: Session, request: Request, record: CameraRecord, applied: tuple[bool, str | None]
) -> CameraChange:
    db.refresh(record)
    out = cameras_out(db, request, [record])[0]
    return CameraChange(**out.model_dump(), applied=applied[0], apply_error=applied[1])


@router.get("/api/cameras", dependencies=[guard])
def list_cameras(
    db: DB,
    request: Request,
    room_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    enabled: bool | None = None,
    sort: Literal["id", "name", "room"] = "id",
    order: SortOrder = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> CameraPage:
    """Cameras with their masked source, room and live health."""
    query = select(CameraRecord)
    if room_id is not None:
        query = query.where(CameraRecord.room_id == room_id)
    if enabled is not None:
        query = query.where(CameraRecord.enabled.is_(enabled))
    total = page_total(db, query)
    key: Any = CameraRecord.id
    if sort == "room":
        query = query.outerjoin(Room, Room.id == CameraRecord.room_id)
        key = func.lower(Room.name)
    elif sort == "name":
        key = func.lower(CameraRecord.name)
    found = list(
        db.scalars(sort_by(query, key, order, CameraRecord.id).limit(limit).offset(offset))
    )
    return CameraPage(total=total, cameras=cameras_out(db, request, found))


@router.post("/api/cameras", status_code=201, responses=NOT_FOUND | CONFLICT)
def create_camera(body: CameraIn, db: DB, request: Request, who: Principal = admin) -> CameraChange:
    """Add a camera; an enabled one starts at once (409 when the id is taken)."""
    if db.get(CameraRecord, body.id) is not None:
        raise HTTPException(409, f"a camera with id {body.id!r} already exists")
    _check_room(db, body.room_id)
    now = time.time()
    record = CameraRecord(**body.model_dump(), created_at=now, updated_at=now)
    _check_config(record)
    db.add(record)
    audit(
        db,
        who,
        "camera.create",
        "camera",
        record.id,
        {"changed": ["id", *RECORD_FIELDS, "room_id"]},
        request,
    )
    commit_or_409(db, f"a camera with id {body.id!r} already exists")
    return changed_out(db, request, record, apply_live(db, request, record.id))


@router.get("/api/cameras/{camera_id}", dependencies=[guard], responses=NOT_FOUND)
def get_camera(camera_id: CameraPath, db: DB, request: Request) -> CameraOut:
    return cameras_out(db, request, [camera_or_404(db, camera_id)])[0]


@router.patch("/api/cameras/{camera_id}", responses=NOT_FOUND | CONFLICT)
def update_camera(
    camera_id: CameraPath, body: CameraPatch, db: DB, request: Request, who: Principal = admin
) -> CameraChange:
    """Change the given fields; the running worker restarts when what it runs changed
    (not for the room alone), and stops when disabled."""
    record = camera_or_404(db, camera_id)
    values = body.model_dump(exclude_unset=True)
    if "room_id" in values:
        _check_room(db, values["room_id"])
    changed = apply_changes(record, values)
    if not changed:
        return changed_out(db, request, record, (False, None))
    _check_config(record)
    record.updated_at = time.time()
    audit(db, who, "camera.update", "camera", record.id, {"changed": changed}, request)
    commit_or_409(db, "the camera changed meanwhile; try again")
    applied: tuple[bool, str | None] = (False, None)
    if set(changed) & set(RECORD_FIELDS):
        applied = apply_live(db, request, record.id)
    return changed_out(db, request, record, applied)


@router.delete("/api/cameras/{camera_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_camera(camera_id: CameraPath, db: DB, request: Request, who: Principal = admin) -> None:
    """Delete the record and stop the camera (its alerts and profiles stay)."""
    record = camera_or_404(db, camera_id)
    db.delete(record)
    audit(db, who, "camera.delete", "camera", camera_id, {"changed": ["id"]}, request)
    commit_or_409(db, "the camera is still referred to; try again")
    apply_live(db, request, camera_id)
