"""Tuning aids for the console: what a proposed profile would have done to the camera's labelled
alerts (`POST /api/cameras/{id}/whatif`, operators), and the behaviour settings' schema with
descriptions, bounds and defaults (`GET /api/behaviours/schema`, guards). Nothing here changes
anything: applying a profile is `POST /api/cameras/{id}/profiles`. The method and its limits are
in `api.whatif`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.service import AlertService
from api.db import DB
from api.profiles import ProfileError, updated, validate
from api.routes.profiles import (
    MAX_ZONES,
    CameraId,
    active_document,
    finite_json,
    unprocessable,
)
from api.security import Principal, require
from api.whatif import what_if
from vision.behaviours.config import BehavioursConfig
from vision.zones import ZoneConfig

router = APIRouter(
    tags=["tuning"],
    dependencies=[Depends(finite_json)],
    responses={401: {"description": "Not signed in."}},
)
guard = require("guard")
operator = require("operator")


class WhatIf(BaseModel):
    """A proposed change of the active profile, shaped like `POST .../profiles` (no comment)."""

    model_config = ConfigDict(extra="forbid")

    behaviours: dict[str, Any] | None = Field(
        None,
        description="Behaviour settings to try, as a partial `behaviours` section, e.g. "
        '`{"fall": {"confirm_down_s": 3}}`; `null` for a key means its default.',
    )
    zones: list[ZoneConfig] | None = Field(
        None, max_length=MAX_ZONES, description="A zone list to try instead of the active one."
    )


@router.post(
    "/api/cameras/{camera_id}/whatif",
    responses={
        403: {"description": "Needs the operator role."},
        404: {"description": "No such camera."},
        422: {"description": "The proposal does not validate; each wrong key is named."},
    },
)
def whatif(
    camera_id: CameraId,
    body: WhatIf,
    db: DB,
    request: Request,
    limit: int = Query(50, ge=1, le=200, description="How many labelled alerts, newest first."),
    who: Principal = operator,
) -> dict[str, Any]:
    """Replay the clips of the camera's newest alerts resolved as `real_incident` or
    `false_alarm` with the active profile (`before`) and with it changed by the proposal
    (`after`): `{camera_id, labelled, replayed, before, after, alerts, skipped}` where `before`
    and `after` are `{caught, missed, false_alarms, quiet_on_false}`, `alerts` lists each
    replayed alert with `fired_before`/`fired_after`, and `skipped` each alert that could not be
    replayed (`id`, `reason`). It can show detections lost and false alarms removed, not new
    detections elsewhere. Changes nothing."""
    _, current = active_document(db, request, camera_id)
    zones = None if body.zones is None else [z.model_dump(mode="json") for z in body.zones]
    try:
        before = validate(current or {})
    except ProfileError as exc:
        raise HTTPException(
            409, f"the active profile of camera {camera_id} does not validate: {exc}"
        ) from None
    try:
        after = validate(updated(current or {}, body.behaviours, zones))
    except ProfileError as exc:
        raise unprocessable(exc.problems, "body") from None
    service: AlertService | None = request.app.state.alerts
    if service is None:
        raise HTTPException(503, "this service keeps no alerts")
    return what_if(
        service.store,
        service.evidence_root,
        camera_id,
        before,
        after,
        request.app.state.config.tracker,
        limit,
    )


@router.get("/api/behaviours/schema", dependencies=[guard])
def behaviours_schema() -> dict[str, Any]:
    """JSON Schemas of the behaviour settings (`behaviours`: each setting's description,
    bounds and default, per detector in `$defs`) and of a zone (`zone`: its types and fields),
    for forms that edit a profile."""
    return {
        "behaviours": BehavioursConfig.model_json_schema(),
        "zone": ZoneConfig.model_json_schema(),
    }
