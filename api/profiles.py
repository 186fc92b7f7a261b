"""Threshold profiles: each camera's behaviour settings, zones and privacy masks as versioned
documents.

A document is what a camera's detectors are built from, the `behaviours` and `zones` of its
`CameraConfig` as JSON, with its `privacy.masks`::

    {"behaviours": {"fall": {"confirm_down_s": 5.0, ...}, "fight": {...}, "wandering": {...}},
     "zones": [{"name": "bed 1", "type": "bed", "polygon": [[0.1, 0.5], ...], ...}],
     "masks": [{"name": "shower", "polygon": [[0.7, 0.1], ...], "detect": true}]}

Staff change them through the API (`api.routes.profiles`): a partial update is merged into the
active document (`updated`), validated with the same pydantic models as the configuration file
(`validate`: a `ProfileError` names each wrong key), stored as the next version with its `diff`
against the one before (`add_version`), and applied to the running camera (`apply_to_runner`):
new detectors from the next analysed frame on, no restart, tracks kept.

At start-up `seed_profiles` gives every camera without a stored profile its version 1 from the
configuration file; after that the database wins over the YAML::

    with sessions() as db:
        documents = seed_profiles(db, config.cameras)
    cameras = [with_profile(c, documents[c.id]) if c.id in documents else c for c in cameras]
    # ... build the runner from `cameras`, or, for pipelines already built:
    for camera_id, document in documents.items():
        apply_to_runner(runner, camera_id, document)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.service import AlertService
from api.audit import audit
from api.behaviour_models import BehaviourModelError, detectors_for, scorers_for
from api.tables.profiles import ActiveProfile, CameraProfile
from vision.behaviours.config import BehavioursConfig
from vision.config import CameraConfig
from vision.configbase import StrictModel, unique_names
from vision.privacy import PrivacyMask
from vision.runner import Runner
from vision.zones import ZoneConfig

log = logging.getLogger(__name__)

SEED_COMMENT = "from the configuration file"
MASKS_COMMENT = "privacy masks from the configuration file"


class ProfileDocument(StrictModel):
    """A profile document, validated: the camera's behaviour settings and its zones."""

    behaviours: BehavioursConfig = Field(
        default_factory=BehavioursConfig, description="Thresholds of each behaviour detector."
    )
    zones: tuple[ZoneConfig, ...] = Field((), description="The camera's zones; names unique.")
    masks: tuple[PrivacyMask, ...] = Field(
        (), description="The camera's privacy masks (areas blacked out everywhere); names unique."
    )

    @field_validator("zones")
    @classmethod
    def _unique_names(cls, value: tuple[ZoneConfig, ...]) -> tuple[ZoneConfig, ...]:
        return unique_names(value, "zone names must be unique per camera")

    @field_validator("masks")
    @classmethod
    def _unique_mask_names(cls, value: tuple[PrivacyMask, ...]) -> tuple[PrivacyMask, ...]:
        return unique_names(value, "mask names must be unique per camera")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (`loc` and the dotted `path`) and what."""

    loc: tuple[str | int, ...]
    message: str
    type: str

    @property
    def path(self) -> str:
        """`behaviours.fall.confirm_down_s`, `zones[2].polygon`."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "(document)"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ProfileError(ValueError):
    """A document that does not validate; `problems` names each wrong key."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------- documents


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the section holding `loc` (for "unknown key" messages)."""
    model: type[BaseModel] = ProfileDocument
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        candidates = [field.annotation, *get_args(field.annotation)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def _problem(error: Mapping[str, Any]) -> Problem:
    loc = tuple(error["loc"])
    kind = str(error["type"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        message = "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    elif kind != "missing" and not isinstance(error.get("input"), dict | list):
        message += f" (got {error.get('input')!r})"
    return Problem(loc, message, kind)


def _non_finite(value: Any, loc: tuple[str | int, ...] = ()) -> list[Problem]:
    """NaN and infinities anywhere in `value` (JSON has no place for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [Problem(loc, f"must be a finite number (got {value!r})", "finite_number")]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _non_finite(v, (*loc, str(k)))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*loc, i))]
    return []


def validate(document: Mapping[str, Any]) -> ProfileDocument:
    """The document as configs; `ProfileError` naming every wrong key otherwise."""
    problems = _non_finite(document)
    if problems:
        raise ProfileError(problems)
    try:
        parsed = ProfileDocument.model_validate(document)
    except ValidationError as exc:
        raise ProfileError([_problem(e) for e in exc.errors()]) from None
    try:
        scorers_for(parsed.behaviours)  # a classifier path that cannot be used is wrong here
    except BehaviourModelError as exc:
        loc = ("behaviours", exc.behaviour, "model", "path")
        raise ProfileError([Problem(loc, str(exc), "value_error")]) from None
    return parsed


def as_document(
    behaviours: BehavioursConfig,
    zones: Sequence[ZoneConfig],
    masks: Sequence[PrivacyMask] = (),
) -> dict[str, Any]:
    """The JSON document of a camera's settings (every key, defaults included)."""
    parsed = ProfileDocument(behaviours=behaviours, zones=tuple(zones), masks=tuple(masks))
    return parsed.model_dump(mode="json")


def camera_document(camera: CameraConfig) -> dict[str, Any]:
    """The document of a camera as its configuration file gives it."""
    return as_document(camera.behaviours, camera.zones, camera.privacy.masks)


def with_profile(camera: CameraConfig, document: Mapping[str, Any]) -> CameraConfig:
    """`camera` with the behaviours, zones and privacy masks of `document` (validated;
    `ProfileError`), e.g. to build a camera's pipeline from its stored profile rather than the
    YAML."""
    parsed = validate(document)
    privacy = camera.privacy.model_copy(update={"masks": parsed.masks})
    return camera.model_copy(
        update={"behaviours": parsed.behaviours, "zones": parsed.zones, "privacy": privacy}
    )


def normalise(document: Mapping[str, Any]) -> dict[str, Any]:
    """Validated and written out in full (missing keys get their defaults), as stored."""
    return validate(document).model_dump(mode="json")


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `patch` laid over it: mappings merge key by key, anything else replaces, and
    `None` removes the key (so it goes back to its default)::

        merge({"fall": {"a": 1, "b": 2}}, {"fall": {"b": 3, "a": None}}) == {"fall": {"b": 3}}
    """
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def updated(
    current: Mapping[str, Any],
    behaviours: Mapping[str, Any] | None = None,
    zones: Sequence[Mapping[str, Any]] | None = None,
    masks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """`current` with a partial `behaviours` merged in and the zone and mask lists replaced by
    `zones` and `masks` (when given). Not validated: pass the result to `normalise`."""
    return {
        "behaviours": merge(current.get("behaviours") or {}, behaviours or {}),
        "zones": list(current.get("zones") or []) if zones is None else list(zones),
        "masks": list(current.get("masks") or []) if masks is None else list(masks),
    }


def _diff_values(old: Any, new: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            _diff_values(old.get(key), new.get(key), f"{path}.{key}" if path else key, out)
    elif old != new:
        out.append({"path": path, "old": old, "new": new})


def _by_name(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(z.get("name")): z for z in items if isinstance(z, Mapping)}


def _diff_named(old: Any, new: Any, key: str, out: list[dict[str, Any]]) -> None:
    before, after = _by_name(old), _by_name(new)
    for name in [*before, *(n for n in after if n not in before)]:
        was, now = before.get(name), after.get(name)
        if was is None or now is None:
            out.append({"path": f"{key}[{name}]", "old": was, "new": now})
        else:
            _diff_values(was, now, f"{key}[{name}]", out)
    if set(before) == set(after) and list(before) != list(after):
        out.append({"path": key, "old": list(before), "new": list(after)})


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed from `old` to `new`, one entry per leaf: `{"path", "old", "new"}`.

    Behaviour settings by dotted path (`behaviours.fall.confirm_down_s`); zones and masks by
    name (`zones[door].dwell_limit_s`; a zone added or removed is one entry `zones[door]` with
    `old` or `new` None, a new order of the same zones is `zones` with the lists of names).
    """
    out: list[dict[str, Any]] = []
    _diff_values(old.get("behaviours") or {}, new.get("behaviours") or {}, "behaviours", out)
    _diff_named(old.get("zones"), new.get("zones"), "zones", out)
    _diff_named(old.get("masks"), new.get("masks"), "masks", out)
    return out


def changes_masks(changes: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a version's `changes` touch the privacy masks (which only admins may change)."""
    return any(str(c["path"]).startswith("masks") for c in changes)


# ---------------------------------------------------------------------------- storage


def active_profile(db: Session, camera_id: str) -> CameraProfile | None:
    """The version of the camera's profile in force, if it has any."""
    active = db.get(ActiveProfile, camera_id)
    if active is None:
        return None
    return profile_version(db, camera_id, active.version)


def profile_version(db: Session, camera_id: str, version: int) -> CameraProfile | None:
    return db.scalar(
        select(CameraProfile)
        .where(CameraProfile.camera_id == camera_id)
        .where(CameraProfile.version == version)
    )


def has_profiles(db: Session, camera_id: str) -> bool:
    return (
        db.scalar(select(CameraProfile.id).where(CameraProfile.camera_id == camera_id)) is not None
    )


def add_version(
    db: Session,
    camera_id: str,
    document: Mapping[str, Any],
    *,
    actor: str,
    comment: str = "",
    restored_from: int | None = None,
    now: float | None = None,
) -> CameraProfile:
    """Store `document` (validated here; `ProfileError` otherwise) as the camera's next version
    and make it the active one. The caller commits; a concurrent writer of the same camera
    makes the flush or commit fail with an IntegrityError (same version number)."""
    document = normalise(document)
    now = time.time() if now is None else now
    current = active_profile(db, camera_id)
    latest = db.scalar(
        select(func.max(CameraProfile.version)).where(CameraProfile.camera_id == camera_id)
    )
    row = CameraProfile(
        camera_id=camera_id,
        version=int(latest or 0) + 1,
        document=document,
        changes=[] if current is None else diff(current.document, document),
        comment=comment,
        created_by=actor,
        created_at=now,
        restored_from=restored_from,
    )
    db.add(row)
    active = db.get(ActiveProfile, camera_id)
    if active is None:
        db.add(
            ActiveProfile(
                camera_id=camera_id, version=row.version, activated_at=now, activated_by=actor
            )
        )
    else:
        active.version, active.activated_at, active.activated_by = row.version, now, actor
    db.flush()
    return row


def seed_profiles(
    db: Session, cameras: Sequence[CameraConfig], actor: str = "config", now: float | None = None
) -> dict[str, dict[str, Any]]:
    """Give each camera without a stored profile its version 1 from `cameras` (commits), and
    return the active document of every camera of `cameras`, to apply at start-up.

    A stored document that no longer validates (say, written by an older CareWatch with a key
    since removed) is logged and left out, so that camera runs with its configuration file's
    settings until staff save a new version. A stored document from before masks were part of
    profiles gets the configuration file's masks as a new version, so no mask is dropped.
    """
    documents: dict[str, dict[str, Any]] = {}
    for camera in cameras:
        current = active_profile(db, camera.id)
        if current is None:
            row = add_version(
                db, camera.id, camera_document(camera), actor=actor, comment=SEED_COMMENT, now=now
            )
            audit(db, actor, "profile.seed", "camera", camera.id, {"version": row.version})
            log.info("camera %s: profile version %d from the configuration", camera.id, row.version)
            documents[camera.id] = row.document
            continue
        if "masks" not in current.document and camera.privacy.masks:
            masks = [m.model_dump(mode="json") for m in camera.privacy.masks]
            try:
                current = add_version(
                    db,
                    camera.id,
                    {**current.document, "masks": masks},
                    actor=actor,
                    comment=MASKS_COMMENT,
                    now=now,
                )
            except ProfileError:
                pass  # reported below, like any stored document that no longer validates
            else:
                details = {"version": current.version, "masks": len(masks)}
                audit(db, actor, "profile.seed_masks", "camera", camera.id, details)
        try:
            documents[camera.id] = normalise(current.document)
        except ProfileError as exc:
            log.error(
                "camera %s: stored profile version %d is not valid (%s); the configuration "
                "file's settings apply until a new version is saved",
                camera.id,
                current.version,
                exc,
            )
    db.commit()
    return documents


def profile_dict(
    row: CameraProfile, active_version: int | None, document: bool = True
) -> dict[str, Any]:
    """A stored version as JSON (with its document unless `document` is False)."""
    data: dict[str, Any] = {
        "camera_id": row.camera_id,
        "version": row.version,
        "active": row.version == active_version,
        "comment": row.comment,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "restored_from": row.restored_from,
        "changes": row.changes,
    }
    if document:
        data["document"] = row.document
    return data


# ---------------------------------------------------------------------------- running cameras


def apply_to_runner(
    runner: Runner | None,
    camera_id: str,
    document: Mapping[str, Any],
    alerts: AlertService | None = None,
) -> bool:
    """Rebuild the running camera's detectors from `document` and swap them in (from its next
    analysed frame; tracks are kept). False when the camera is not running here; `ProfileError`
    when the document does not validate.

    The worker's `cfg` is updated to the new behaviours, zones and masks too, so what the API
    reports and the live view shows is what it runs with; masks hidden from detection are
    blacked out before the model from the next frame; `alerts` (the alert service, which
    blacks out masks before frames are buffered for evidence) gets the new masks at once.
    """
    worker = None if runner is None else runner.workers.get(camera_id)
    if worker is None:
        return False
    cfg = with_profile(worker.cfg, document)
    detectors = detectors_for(cfg.behaviours, cfg.zones)
    if alerts is not None:
        alerts.set_privacy(camera_id, cfg.privacy)
    worker.pipeline.hide(cfg.privacy.masks)
    worker.pipeline.analyzer.reconfigure(detectors)
    worker.cfg = cfg
    log.info(
        "camera %s: new thresholds, zones and masks in force (%d detectors, %d zones, %d masks)",
        camera_id,
        len(detectors),
        len(cfg.zones),
        len(cfg.privacy.masks),
    )
    return True
