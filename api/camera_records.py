"""Camera records and the running service: seeding them from the YAML config, turning them back
into `CameraConfig`s, and showing their sources without credentials.

At start-up the service calls, in order::

    import_config_cameras(db, config.cameras)  # config cameras new to the database are added
    cameras = camera_configs(db, config.cameras)  # what to run: the enabled records

so the YAML file seeds the table once and the database wins afterwards (an admin's edit, disable
or delete survives a restart). Zones, behaviour settings and reconnect/timeout settings are not
part of a record; they come from the config camera of the same id (and from the profiles work).

After a change through the API, the routes call `app.state.camera_control.apply(cfg, camera_id)`
(see `CameraControl`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import audit
from api.tables.records import CameraRecord
from vision.config import CameraConfig
from vision.sources import mask_url

log = logging.getLogger(__name__)

RECORD_FIELDS = ("name", "source", "enabled", "analysis_fps", "loop", "realtime")
"""The `CameraConfig` fields a camera record holds (besides `id`)."""

NAME_MAX = 120
"""Longest camera name a record keeps (`cameras.name`)."""

CONFIG_ACTOR = "config"
"""Audit actor of records imported from the YAML config."""

_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:password|passwd|pass|pwd|secret|token|access_token|key|api_key|apikey|auth)=)"
    r"[^&;#]*"
)
"""Query parameters that carry secrets in some cameras' HTTP snapshot and stream URLs."""


class CameraControl(Protocol):
    """What applies a changed camera record to the running service (`app.state.camera_control`).

    `apply(cfg, camera_id)`: start or restart the camera's worker with `cfg`, or stop and remove
    it when `cfg` is None (the record was disabled or deleted). Called after the change is
    committed; an exception is logged and reported in the response, the record stays changed.
    """

    def apply(self, cfg: CameraConfig | None, camera_id: str) -> None: ...


def masked_source(source: str) -> str:
    """`source` with the URL password and secret query values replaced by `***`.

    >>> masked_source("rtsp://admin:pw@10.0.0.5/live?token=abc&ch=1")
    'rtsp://admin:***@10.0.0.5/live?token=***&ch=1'
    """
    return _SECRET_PARAM.sub(r"\1***", mask_url(source))


def has_credentials(source: str) -> bool:
    """Whether the URL names a user or password, or has a secret query parameter."""
    if _SECRET_PARAM.search(source):
        return True
    try:
        parts = urlsplit(source)
        return bool(parts.netloc) and (parts.username is not None or parts.password is not None)
    except ValueError:
        return False


def secrets_of(source: str) -> list[str]:
    """The secret parts of `source` (password, secret query values), to scrub from messages."""
    found = [m.group(0)[len(m.group(1)) :] for m in _SECRET_PARAM.finditer(source)]
    try:
        password = urlsplit(source).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    return [s for s in found if s]


def scrub(text: str, source: str) -> str:
    """`text` (an error message) without the credentials of `source`."""
    text = text.replace(source, masked_source(source))
    for secret in sorted(secrets_of(source), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def record_config(record: CameraRecord, base: CameraConfig | None = None) -> CameraConfig:
    """The record as a `CameraConfig`: its own fields over `base` (the config camera of the same
    id, whose zones, behaviours, reconnect and timeouts are kept) or over the defaults.
    Raises pydantic's `ValidationError` when the stored values are not a valid camera."""
    data: dict[str, Any] = base.model_dump() if base is not None else {}
    data.update(id=record.id, **{f: getattr(record, f) for f in RECORD_FIELDS})
    return CameraConfig.model_validate(data)


def config_by_id(cameras: Sequence[CameraConfig], camera_id: str) -> CameraConfig | None:
    return next((c for c in cameras if c.id == camera_id), None)


def import_config_cameras(db: Session, cameras: Sequence[CameraConfig]) -> list[str]:
    """Insert each config camera that has no record yet (audited as actor "config"); commits.

    Returns the ids imported, in config order; a second call imports nothing. A record changed or
    disabled through the API stays as it is; one deleted through the API comes back at the next
    start while the camera is still in the file (disable it instead, or take it out of the file).
    """
    existing = set(db.scalars(select(CameraRecord.id)))
    imported = []
    now = time.time()
    for cam in cameras:
        if cam.id in existing:
            continue
        db.add(
            CameraRecord(
                id=cam.id,
                name=cam.name[:NAME_MAX],  # the config does not limit names
                source=cam.source,
                enabled=cam.enabled,
                analysis_fps=cam.analysis_fps,
                loop=cam.loop,
                realtime=cam.realtime,
                room_id=None,
                created_at=now,
                updated_at=now,
            )
        )
        audit(
            db,
            CONFIG_ACTOR,
            "camera.import",
            "camera",
            cam.id,
            {"changed": ["id", *RECORD_FIELDS]},
        )
        existing.add(cam.id)
        imported.append(cam.id)
    db.commit()
    if imported:
        log.info("cameras imported from the config: %s", ", ".join(imported))
    return imported


def camera_configs(db: Session, base: Sequence[CameraConfig]) -> list[CameraConfig]:
    """The enabled camera records as `CameraConfig`s (by id), each over the config camera of the
    same id when there is one. A record that is not a valid camera is logged and skipped, so
    one bad row never stops the service."""
    out = []
    records = db.scalars(
        select(CameraRecord).where(CameraRecord.enabled.is_(True)).order_by(CameraRecord.id)
    )
    for record in records:
        try:
            out.append(record_config(record, config_by_id(base, record.id)))
        except ValidationError as exc:
            log.error(
                "camera %s: the stored record is not a valid camera, skipped: %s",
                record.id,
                scrub(str(exc), record.source),
            )
    return out
