"""Evidence retention: snapshots and clips of old, closed alerts are deleted; the alerts stay.

An alert's evidence is deleted once it was detected more than `retention.evidence_days` ago,
unless the alert is still open (not resolved) or an admin marked it to keep (`AlertHold`). The
alert itself, its history and the audit log are kept: only the files go (the JPEG, the MP4, the
clip's `.json` sidecar, and where present the snapshot's `.jpg.json` sidecar and a skeleton-only
camera's real pictures), the alert gets a change `evidence` with `snapshot` and `clip`
cleared (actor `retention`), and each deletion is audited as `retention.delete` with the files.

`run_retention` is one pass (times passed in, so tests need no clock); `RetentionJob` runs it
every `retention.interval_s` in a thread of the service. A file already gone is not an error:
a pass interrupted half-way is simply finished by the next one.

    job = RetentionJob(app.state, config.retention)
    job.start()
    ...
    job.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.evidence import real_path, snapshot_sidecar
from alerts.feed import ChangeFeed
from alerts.model import Alert
from alerts.store import AlertStore, ConflictError, alerts_table
from api.audit import audit
from api.config import RetentionConfig
from api.tables.evidence import AlertHold

log = logging.getLogger(__name__)

ACTOR = "retention"
DAY_S = 86_400.0

_RUN_LOCK = threading.Lock()
"""One pass at a time (the job and `POST /api/retention/run` may overlap)."""


@dataclass
class RetentionReport:
    """What one pass did. `checked`: alerts past the cutoff that still had evidence; of those,
    `cleared` lost their files, `kept_open` and `kept_held` kept them, `failed` could not be
    cleared (the error, retried next pass)."""

    ran_at: float
    cutoff: float
    evidence_days: float
    checked: int = 0
    cleared: list[str] = field(default_factory=list)
    kept_open: int = 0
    kept_held: int = 0
    files_deleted: int = 0
    files_missing: int = 0
    bytes_freed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evidence_paths(alert: Alert) -> list[str]:
    """The alert's evidence files relative to the evidence folder: snapshot, clip, its sidecar."""
    paths = [p for p in (alert.snapshot, alert.clip) if p]
    if alert.clip:
        paths.append(str(Path(alert.clip).with_suffix(".json")))
    return paths


def _inside(root: Path, relpath: str) -> Path:
    """`relpath` under `root`; ValueError when it points elsewhere (never delete outside)."""
    path = (root / relpath).resolve()
    if root not in path.parents:
        raise ValueError(f"evidence path {relpath!r} is outside the evidence folder")
    return path


def _delete_files(root: Path, alert: Alert, report: RetentionReport) -> dict[str, list[str]]:
    deleted, missing = [], []
    paths = [(relpath, _inside(root, relpath)) for relpath in evidence_paths(alert)]
    for relpath, path in list(paths):  # a skeleton-only camera's real pictures go with them
        real = real_path(path)
        if real.exists():
            paths.append((str(Path(relpath).with_name(real.name)), real))
    if alert.snapshot:  # the snapshots' pose sidecars (alerts stored before them have none)
        snapshot = _inside(root, alert.snapshot)
        for path in (snapshot, real_path(snapshot)):
            sidecar = snapshot_sidecar(path)
            if sidecar.exists():
                paths.append((str(Path(alert.snapshot).with_name(sidecar.name)), sidecar))
    for relpath, path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            missing.append(relpath)
            continue
        deleted.append(relpath)
        report.bytes_freed += size
    report.files_deleted += len(deleted)
    report.files_missing += len(missing)
    return {"deleted": deleted, "missing": missing}


def _clear(
    store: AlertStore, root: Path, alert_id: str, now: float, report: RetentionReport
) -> tuple[Alert, dict[str, list[str]], int] | None:
    """Delete one alert's files and record the change; None when it changed meanwhile so that
    it no longer qualifies (reopened, evidence already gone)."""
    for _ in range(3):
        alert = store.get(alert_id)
        if alert is None or alert.open or not (alert.snapshot or alert.clip):
            return None
        files = _delete_files(root, alert, report)
        try:
            change = store.record(
                alert.evolve(snapshot=None, clip=None, updated_at=now),
                "evidence",
                actor=ACTOR,
                at=now,
            )
        except ConflictError:  # someone changed the alert meanwhile: look again
            continue
        return alert, files, change.seq
    raise ConflictError(f"alert {alert_id} kept changing; will try again next time")


def run_retention(
    db: Session,
    alert_store: AlertStore,
    evidence_root: Path,
    cfg: RetentionConfig,
    now: float,
    *,
    feed: ChangeFeed | None = None,
) -> RetentionReport:
    """One pass: delete the evidence of alerts detected before `now - evidence_days` that are
    resolved and not held. Commits an audit entry per alert cleared; `feed` (the alert
    service's) is told of the new changes so consoles see them at once."""
    cutoff = now - cfg.evidence_days * DAY_S
    report = RetentionReport(ran_at=now, cutoff=cutoff, evidence_days=cfg.evidence_days)
    root = evidence_root.resolve()
    t = alerts_table.c
    query = (
        select(t.id, t.state)
        .where(t.detected_at < cutoff)
        .where(or_(t.snapshot.is_not(None), t.clip.is_not(None)))
        .order_by(t.detected_at)
    )
    with alert_store.engine.connect() as conn:
        candidates = [(str(r.id), str(r.state)) for r in conn.execute(query)]
    held = set(db.scalars(select(AlertHold.alert_id)))
    for alert_id, state in candidates:
        report.checked += 1
        if state != "resolved":
            report.kept_open += 1
            continue
        if alert_id in held:
            report.kept_held += 1
            continue
        try:
            done = _clear(alert_store, root, alert_id, now, report)
        except Exception as exc:  # one alert's trouble must not stop the pass
            log.exception("retention: clearing the evidence of alert %s failed", alert_id)
            report.failed.append({"alert_id": alert_id, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if done is None:
            continue
        alert, files, seq = done
        entry = audit(
            db,
            ACTOR,
            "retention.delete",
            "alert",
            alert_id,
            {
                **files,
                "camera_id": alert.camera_id,
                "detected_at": alert.detected_at,
                "cutoff": cutoff,
            },
        )
        entry.at = now
        db.commit()
        report.cleared.append(alert_id)
        if feed is not None:
            feed.publish(seq)
        log.info(
            "retention: evidence of alert %s (camera %s) deleted: %s",
            alert_id,
            alert.camera_id,
            ", ".join(files["deleted"]) or "files were already gone",
        )
    log.info(
        "retention: %d alerts past %.0f days checked, %d cleared (%d files, %d bytes), "
        "%d open, %d held, %d failed",
        report.checked,
        cfg.evidence_days,
        len(report.cleared),
        report.files_deleted,
        report.bytes_freed,
        report.kept_open,
        report.kept_held,
        len(report.failed),
    )
    return report


def run_for_app(state: Any, cfg: RetentionConfig, now: float) -> RetentionReport:
    """One pass over an app's database and alert service (`app.state`); the report is kept as
    `state.retention_report` for `GET /api/retention`. One pass at a time per process."""
    sessions: sessionmaker[Session] = state.sessions
    service = state.alerts
    if service is None:
        raise RuntimeError("the alert service is not running")
    with _RUN_LOCK, sessions() as db:
        report = run_retention(
            db, service.store, service.evidence_root, cfg, now, feed=service.feed
        )
    state.retention_report = report
    return report


def last_report(state: Any) -> RetentionReport | None:
    report: RetentionReport | None = getattr(state, "retention_report", None)
    return report


class RetentionJob:
    """Runs retention over an app's state (`app.state`: `sessions`, `alerts`) every
    `cfg.interval_s` seconds in a daemon thread, the first pass `first_run_s` after `start()`.
    A failing pass is logged and the next one runs as planned."""

    def __init__(
        self,
        state: Any,
        cfg: RetentionConfig,
        *,
        first_run_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.cfg = cfg
        self.first_run_s = first_run_s
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()
        log.info(
            "retention: evidence kept %.0f days, checked every %.0f s",
            self.cfg.evidence_days,
            self.cfg.interval_s,
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the pass in progress, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> RetentionReport | None:
        """One pass now; None (logged) when it failed."""
        try:
            return run_for_app(self.state, self.cfg, self.clock())
        except Exception:
            log.exception("retention pass failed; next try in %.0f s", self.cfg.interval_s)
            return None

    def _loop(self) -> None:
        delay = self.first_run_s
        while not self._stop.wait(delay):
            self.run_once()
            delay = self.cfg.interval_s
