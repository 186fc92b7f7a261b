"""Each camera's threshold profile, zones and privacy masks: read, change, history, restore
(`api.profiles`).

Every change is a new version that becomes active at once and is applied to the running camera
without a restart; nothing is edited in place, so "who set fall confirmation to 3 s, and when"
always has an answer (`GET .../profiles`) and any earlier version can be brought back
(`POST .../profiles/{version}/restore`, itself a new version). Reading needs a guard, changing
an operator, and any change of the privacy masks (a restore included) an admin; every change is
audited as `profile.apply` or `profile.restore`.

A camera is known when it has stored profiles or runs in this service; others are 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit import audit
from api.db import DB
from api.profiles import (
    SEED_COMMENT,
    Problem,
    ProfileError,
    active_profile,
    add_version,
    apply_to_runner,
    camera_document,
    changes_masks,
    diff,
    has_profiles,
    normalise,
    profile_dict,
    profile_version,
    updated,
)
from api.security import Principal, require
from api.tables.profiles import CameraProfile
from vision.privacy import PrivacyMask
from vision.runner import Runner
from vision.zones import ZoneConfig

log = logging.getLogger(__name__)


class _NonFiniteError(ValueError):
    pass


def _reject(constant: str) -> float:
    raise _NonFiniteError(constant)


async def finite_json(request: Request) -> None:
    """422 for a body with NaN or Infinity: Python's JSON parser accepts them, but no setting
    can hold them and FastAPI's own 422 could not echo them back."""
    raw = await request.body()
    if not raw:
        return
    try:
        json.loads(raw, parse_constant=_reject)
    except _NonFiniteError as exc:
        raise HTTPException(
            422,
            [{"loc": ["body"], "msg": f"{exc} is not a number here", "type": "finite_number"}],
        ) from None
    except ValueError:  # not JSON at all: FastAPI says so
        return


router = APIRouter(
    prefix="/api/cameras/{camera_id}",
    tags=["profiles"],
    dependencies=[Depends(finite_json)],
    responses={
        401: {"description": "Not signed in."},
        403: {"description": "Changing needs the operator role (masks: the admin role)."},
        404: {"description": "No such camera or version."},
        409: {"description": "Someone else saved a version at the same moment; try again."},
    },
)
guard = require("guard")
operator = require("operator")
admin = require("admin")

CameraId = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The camera's id, as in the configuration."),
]
Version = Annotated[int, Path(ge=1, le=2_147_483_647, description="A version of the profile.")]
Comment = Annotated[
    str,
    Field(max_length=500, pattern=r"^[^\x00]*$", description="Why (shown in the profile history)."),
]
MAX_ZONES = 100


class ProfileChange(BaseModel):
    """A change of the active profile: only what changes."""

    model_config = ConfigDict(extra="forbid")

    behaviours: dict[str, Any] | None = Field(
        None,
        description="Behaviour settings to change, as a partial `behaviours` section, e.g. "
        '`{"fall": {"confirm_down_s": 3}}`; `null` for a key puts it back to its default.',
    )
    zones: list[ZoneConfig] | None = Field(
        None, max_length=MAX_ZONES, description="The new zone list (replaces the old one)."
    )
    comment: Comment = ""


class ZonesChange(BaseModel):
    """A new zone list for the camera (replaces the old one)."""

    model_config = ConfigDict(extra="forbid")

    zones: list[ZoneConfig] = Field(max_length=MAX_ZONES, description="Every zone, in order.")
    comment: Comment = ""


class MasksChange(BaseModel):
    """A new privacy mask list for the camera (replaces the old one)."""

    model_config = ConfigDict(extra="forbid")

    masks: list[PrivacyMask] = Field(max_length=MAX_ZONES, description="Every mask, in order.")
    comment: Comment = ""


class Restore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment = ""


def _runner(request: Request) -> Runner | None:
    runner: Runner | None = getattr(request.app.state, "runner", None)
    return runner


def unprocessable(problems: Sequence[Problem], where: str) -> HTTPException:
    """422 shaped like FastAPI's own validation errors, with the dotted key path added."""
    return HTTPException(
        422,
        [
            {
                "loc": [where, *p.loc],
                "msg": f"{p.path}: {p.message}",
                "type": p.type,
                "path": p.path,
            }
            for p in problems
        ],
    )


def active_document(
    db: Session, request: Request, camera_id: str
) -> tuple[CameraProfile | None, Any]:
    """The active version and its document; for a running camera without stored profiles,
    (None, its configuration's document). 404 for an unknown camera."""
    row = active_profile(db, camera_id)
    if row is not None:
        return row, row.document
    runner = _runner(request)
    worker = None if runner is None else runner.workers.get(camera_id)
    if worker is not None:
        return None, camera_document(worker.cfg)
    if has_profiles(db, camera_id):  # versions without an active one: the newest
        newest = db.scalar(
            select(CameraProfile)
            .where(CameraProfile.camera_id == camera_id)
            .order_by(CameraProfile.version.desc())
        )
        return newest, None if newest is None else newest.document
    raise HTTPException(404, f"no camera {camera_id!r} (not running here and no stored profile)")


def _save(
    db: Session,
    request: Request,
    who: Principal,
    camera_id: str,
    document: dict[str, Any],
    *,
    comment: str,
    action: str,
    where: str,
    restored_from: int | None = None,
) -> dict[str, Any] | None:
    """Store `document` as the next version, audit, commit, apply to the running camera.
    None when it equals the active document (nothing stored)."""
    row, current = active_document(db, request, camera_id)
    try:
        normal = normalise(document)
    except ProfileError as exc:
        raise unprocessable(exc.problems, where) from None
    if restored_from is None and current is not None and not diff(current, normal):
        return None
    if who.role != "admin" and changes_masks(diff(current or {"masks": []}, normal)):
        raise HTTPException(403, "changing privacy masks needs the admin role")
    try:
        if row is None:  # a running camera's first change: its configuration becomes version 1
            add_version(db, camera_id, current, actor="config", comment=SEED_COMMENT)
        saved = add_version(
            db, camera_id, normal, actor=who.username, comment=comment, restored_from=restored_from
        )
        details: dict[str, Any] = {
            "version": saved.version,
            "changed": [c["path"] for c in saved.changes],
            "comment": comment,
        }
        if restored_from is not None:
            details["restored_from"] = restored_from
        audit(db, who, action, "camera", camera_id, details, request)
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(
            409, f"the profile of camera {camera_id} changed meanwhile; reload and try again"
        ) from None
    alerts = getattr(request.app.state, "alerts", None)
    applied = apply_to_runner(_runner(request), camera_id, saved.document, alerts)
    log.info(
        "camera %s: profile version %d by %s (%s)",
        camera_id,
        saved.version,
        who.username,
        ", ".join(details["changed"]) or "no changes",
    )
    return {**profile_dict(saved, saved.version), "applied": applied}


def _unchanged(db: Session, request: Request, camera_id: str) -> dict[str, Any]:
    row, current = active_document(db, request, camera_id)
    data = _profile_or_config(camera_id, row, current)
    return {**data, "applied": False}


def _profile_or_config(camera_id: str, row: CameraProfile | None, current: Any) -> dict[str, Any]:
    if row is not None:
        return profile_dict(row, row.version)
    return {
        "camera_id": camera_id,
        "version": None,
        "active": True,
        "comment": f"{SEED_COMMENT} (no version stored yet)",
        "created_by": None,
        "created_at": None,
        "restored_from": None,
        "changes": [],
        "document": current,
    }


def _replace_list(
    db: Session,
    request: Request,
    who: Principal,
    camera_id: str,
    key: str,
    items: list[dict[str, Any]],
    comment: str,
) -> dict[str, Any]:
    """Replace the document's `key` list ("zones" or "masks") as a new version; the list as
    stored, the version, whether it `changed` and was `applied`."""
    _, current = active_document(db, request, camera_id)
    lists = {"zones": None, "masks": None, key: items}
    document = updated(current or {}, None, lists["zones"], lists["masks"])
    saved = _save(
        db, request, who, camera_id, document, comment=comment, action="profile.apply", where="body"
    )
    data = saved if saved is not None else _unchanged(db, request, camera_id)
    return {
        "camera_id": camera_id,
        "version": data["version"],
        key: data["document"][key],
        "changed": saved is not None,
        "applied": data["applied"],
    }


@router.get("/profile", dependencies=[guard])
def get_profile(camera_id: CameraId, db: DB, request: Request) -> dict[str, Any]:
    """The active profile: `version` (null for a running camera whose settings were never
    stored), `document` (`behaviours` and `zones`), who made it, when, and what it changed."""
    row, current = active_document(db, request, camera_id)
    return _profile_or_config(camera_id, row, current)


@router.get("/profiles", dependencies=[guard])
def list_profiles(
    camera_id: CameraId,
    db: DB,
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    documents: bool = Query(False, description="Include each version's whole document."),
) -> dict[str, Any]:
    """The history, newest first: each version's `changes` (path, old, new), `comment`,
    `created_by`, `created_at`, `restored_from` and whether it is `active`."""
    row, _ = active_document(db, request, camera_id)
    where = CameraProfile.camera_id == camera_id
    total = db.scalar(select(func.count()).select_from(CameraProfile).where(where)) or 0
    rows = db.scalars(
        select(CameraProfile)
        .where(where)
        .order_by(CameraProfile.version.desc())
        .limit(limit)
        .offset(offset)
    )
    active = None if row is None else row.version
    return {
        "camera_id": camera_id,
        "active_version": active,
        "total": total,
        "profiles": [profile_dict(r, active, document=documents) for r in rows],
    }


@router.get("/profiles/{version}", dependencies=[guard])
def get_version(camera_id: CameraId, version: Version, db: DB, request: Request) -> dict[str, Any]:
    """One stored version with its document."""
    row, _ = active_document(db, request, camera_id)
    found = profile_version(db, camera_id, version)
    if found is None:
        raise HTTPException(404, f"camera {camera_id} has no profile version {version}")
    return profile_dict(found, None if row is None else row.version)


@router.post(
    "/profiles",
    status_code=201,
    responses={200: {"description": "Nothing changed: the active profile, no new version."}},
)
def change_profile(
    camera_id: CameraId,
    body: ProfileChange,
    db: DB,
    request: Request,
    response: Response,
    who: Principal = operator,
) -> dict[str, Any]:
    """Change behaviour settings and/or zones: a new version (201) that becomes active and is
    applied to the running camera at once (`applied`). 422 names each invalid key."""
    _, current = active_document(db, request, camera_id)
    zones = None if body.zones is None else [z.model_dump(mode="json") for z in body.zones]
    document = updated(current or {}, body.behaviours, zones)
    saved = _save(
        db,
        request,
        who,
        camera_id,
        document,
        comment=body.comment,
        action="profile.apply",
        where="body",
    )
    if saved is None:
        response.status_code = 200
        return _unchanged(db, request, camera_id)
    return saved


@router.post("/profiles/{version}/restore", status_code=201)
def restore_profile(
    camera_id: CameraId,
    version: Version,
    db: DB,
    request: Request,
    body: Restore | None = None,
    who: Principal = operator,
) -> dict[str, Any]:
    """Bring back an earlier version: a new version with the same document (`restored_from`
    names the old one), active and applied at once."""
    active_document(db, request, camera_id)
    old = profile_version(db, camera_id, version)
    if old is None:
        raise HTTPException(404, f"camera {camera_id} has no profile version {version}")
    comment = (body.comment if body else "") or f"restored version {version}"
    saved = _save(
        db,
        request,
        who,
        camera_id,
        dict(old.document),
        comment=comment,
        action="profile.restore",
        where="document",
        restored_from=version,
    )
    assert saved is not None  # a restore always stores a version
    return saved


@router.get("/zones", dependencies=[guard])
def get_zones(camera_id: CameraId, db: DB, request: Request) -> dict[str, Any]:
    """The camera's zones in the active profile (relative 0-1 polygons, types, time windows)."""
    row, current = active_document(db, request, camera_id)
    return {
        "camera_id": camera_id,
        "version": None if row is None else row.version,
        "zones": (current or {}).get("zones", []),
    }


@router.put("/zones")
def put_zones(
    camera_id: CameraId,
    body: ZonesChange,
    db: DB,
    request: Request,
    who: Principal = operator,
) -> dict[str, Any]:
    """Replace the zone list: a new profile version (the behaviour settings stay), active and
    applied at once; `changed` is false (and no version is made) when the zones are the same."""
    zones = [z.model_dump(mode="json") for z in body.zones]
    return _replace_list(db, request, who, camera_id, "zones", zones, body.comment)


@router.get("/masks", dependencies=[guard])
def get_masks(camera_id: CameraId, db: DB, request: Request) -> dict[str, Any]:
    """The camera's privacy masks in the active profile (relative 0-1 polygons; `detect`:
    whether detection still sees the area)."""
    row, current = active_document(db, request, camera_id)
    return {
        "camera_id": camera_id,
        "version": None if row is None else row.version,
        "masks": (current or {}).get("masks", []),
    }


@router.put("/masks", responses={403: {"description": "Changing masks needs the admin role."}})
def put_masks(
    camera_id: CameraId,
    body: MasksChange,
    db: DB,
    request: Request,
    who: Principal = admin,
) -> dict[str, Any]:
    """Replace the mask list (admins): a new profile version, active at once. From the next
    analysed frame the masks are black in the live view and in every snapshot and clip stored
    after; `detect: false` masks are also blacked out before the pose model. `changed` is false
    (and no version is made) when the masks are the same."""
    masks = [m.model_dump(mode="json") for m in body.masks]
    return _replace_list(db, request, who, camera_id, "masks", masks, body.comment)
