"""Evidence retention over the real alert service, database and evidence folder: what is deleted
(old, resolved, not held), what is kept (open, held, recent), the alert change and audit entry
each deletion leaves, holds through the API, and the periodic job."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from alerts.evidence import real_path, snapshot_sidecar
from alerts.model import Alert
from api.config import RetentionConfig
from api.retention import DAY_S, RetentionJob, last_report, run_retention
from api.tables.audit import AuditEntry
from api.tables.evidence import AlertHold
from tests.alerts.builders import T0, event
from tests.api.conftest import ApiEnv
from tests.servers import wait_until

MONTH = RetentionConfig(evidence_days=30)
NOW = T0 + 31 * DAY_S


def raise_alert(
    api: ApiEnv,
    camera: str,
    t: float = 0.0,
    *,
    state: str = "resolved",
    files: bool = True,
) -> Alert:
    """An alert of `camera` detected at T0 + t, in `state`, with a snapshot and a clip (and the
    clip's sidecar) recorded, and on disk unless `files` is False."""
    service = api.alerts
    change = service.handle(event("fall", t, camera=camera))
    assert change is not None
    alert_id = change.alert.id
    if state == "resolved":
        service.resolve(alert_id, actor="guard", disposition="real_incident")
    elif state == "acknowledged":
        service.acknowledge(alert_id, actor="guard")
    current = service.get(alert_id)
    stem = f"{camera}/day/{alert_id}-v1"
    if files:
        root = service.evidence_root
        (root / camera / "day").mkdir(parents=True, exist_ok=True)
        (root / f"{stem}.jpg").write_bytes(b"\xff\xd8jpeg " + alert_id.encode())
        (root / f"{stem}.mp4").write_bytes(b"mp4 " * 100)
        (root / f"{stem}.json").write_text('{"frames": []}')
    service.store.record(
        current.evolve(snapshot=f"{stem}.jpg", clip=f"{stem}.mp4", updated_at=T0 + t),
        "evidence",
        actor=None,
        at=T0 + t,
    )
    return service.get(alert_id)


def on_disk(api: ApiEnv, alert: Alert) -> list[str]:
    """Which of the alert's evidence files exist (by suffix)."""
    root = api.alerts.evidence_root
    stem = (root / str(alert.snapshot)).with_suffix("")
    return [s for s in (".jpg", ".mp4", ".json") if stem.with_suffix(s).exists()]


def hold(api: ApiEnv, alert_id: str, reason: str = "police asked") -> None:
    with api.app.state.sessions() as db:
        db.add(AlertHold(alert_id=alert_id, held_by="admin", held_at=T0, reason=reason))
        db.commit()


def test_old_resolved_evidence_goes_open_held_and_recent_stay(api: ApiEnv) -> None:
    old = raise_alert(api, "hall", 0)
    gone = raise_alert(api, "yard", 10, files=False)  # files already deleted by hand
    still_open = raise_alert(api, "kitchen", 20, state="acknowledged")
    held = raise_alert(api, "door", 30)
    recent = raise_alert(api, "bath", 2 * DAY_S)
    hold(api, held.id)
    files = [str(old.snapshot), str(old.clip), str(Path(str(old.clip)).with_suffix(".json"))]
    size = sum((api.alerts.evidence_root / p).stat().st_size for p in files)

    with api.app.state.sessions() as db:
        report = run_retention(db, api.alerts.store, api.alerts.evidence_root, MONTH, NOW)

    assert report.cutoff == NOW - 30 * DAY_S
    assert report.checked == 4  # the recent one is not due yet
    assert report.cleared == [old.id, gone.id]
    assert (report.kept_open, report.kept_held) == (1, 1)
    assert (report.files_deleted, report.files_missing, report.bytes_freed) == (3, 3, size)
    assert report.failed == []

    assert on_disk(api, old) == []
    for kept in (still_open, held, recent):
        assert on_disk(api, kept) == [".jpg", ".mp4", ".json"]
    for cleared in (old, gone):
        now = api.alerts.get(cleared.id)
        assert (now.snapshot, now.clip, now.updated_at) == (None, None, NOW)
        assert now.state == "resolved" and now.version == cleared.version + 1
        last = api.alerts.store.history(cleared.id)[-1]
        assert (last.action, last.actor, last.at) == ("evidence", "retention", NOW)
    for kept in (still_open, held, recent):
        assert api.alerts.get(kept.id) == kept

    with api.app.state.sessions() as db:
        entries = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "retention.delete")
            .order_by(AuditEntry.id)
        ).all()
    assert [(e.target_id, e.actor, e.at) for e in entries] == [
        (old.id, "retention", NOW),
        (gone.id, "retention", NOW),
    ]
    assert entries[0].details["deleted"] == files
    assert entries[0].details["missing"] == [] and len(entries[1].details["missing"]) == 3

    # Nothing left to do: a second pass changes nothing.
    with api.app.state.sessions() as db:
        again = run_retention(db, api.alerts.store, api.alerts.evidence_root, MONTH, NOW + 60)
    assert (again.checked, again.cleared, again.kept_open, again.kept_held) == (2, [], 1, 1)


def test_evidence_outside_the_folder_is_never_touched(api_sqlite: ApiEnv, tmp_path: Path) -> None:
    api = api_sqlite
    outside = tmp_path / "precious.jpg"
    outside.write_bytes(b"not evidence")
    change = api.alerts.handle(event("fall", 0, camera="hall"))
    assert change is not None
    api.alerts.resolve(change.alert.id, actor="guard", disposition="false_alarm")
    current = api.alerts.get(change.alert.id)
    api.alerts.store.record(
        current.evolve(snapshot="../../precious.jpg", updated_at=T0),
        "evidence",
        actor=None,
        at=T0,
    )
    api.alerts.evidence_root.mkdir(parents=True, exist_ok=True)
    with api.app.state.sessions() as db:
        report = run_retention(db, api.alerts.store, api.alerts.evidence_root, MONTH, NOW)
    assert outside.exists()
    assert report.cleared == [] and report.failed[0]["alert_id"] == change.alert.id
    assert "outside the evidence folder" in report.failed[0]["error"]


def test_keep_and_release_through_the_api(api: ApiEnv) -> None:
    admin = api.headers("admin", "admin.kim")
    alert = raise_alert(api, "hall", time.time() - T0 - 40 * DAY_S)  # 40 days ago, real clock
    r = api.client.post(
        f"/api/alerts/{alert.id}/keep", json={"keep": True, "reason": "police"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert (r.json()["keep"], r.json()["held_by"], r.json()["reason"]) == (
        True,
        "admin.kim",
        "police",
    )
    assert api.client.get(f"/api/alerts/{alert.id}/keep", headers=admin).json()["keep"] is True

    status = api.client.get("/api/retention", headers=admin).json()
    assert status["settings"] == {"evidence_days": 30.0, "interval_s": 3600.0}
    assert (status["held"], status["last_run"]) == (1, None)

    run = api.client.post("/api/retention/run", headers=admin).json()
    assert (run["cleared"], run["kept_held"]) == ([], 1)
    assert on_disk(api, alert) == [".jpg", ".mp4", ".json"]

    r = api.client.post(f"/api/alerts/{alert.id}/keep", json={"keep": False}, headers=admin)
    assert r.json() == {
        "alert_id": alert.id,
        "keep": False,
        "held_by": None,
        "held_at": None,
        "reason": None,
    }
    run = api.client.post("/api/retention/run", headers=admin).json()
    assert run["cleared"] == [alert.id] and run["files_deleted"] == 3
    assert on_disk(api, alert) == []
    last = api.client.get("/api/retention", headers=admin).json()["last_run"]
    assert last == run

    with api.app.state.sessions() as db:
        actions = [
            (e.action, e.actor)
            for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith(("alert.", "retention."))
        ]
    assert actions == [
        ("alert.keep", "admin.kim"),
        ("retention.run", "admin.kim"),
        ("alert.release", "admin.kim"),
        ("retention.delete", "retention"),
        ("retention.run", "admin.kim"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/alerts/{id}/keep", {"keep": True}),
        ("GET", "/api/alerts/{id}/keep", None),
        ("GET", "/api/retention", None),
        ("POST", "/api/retention/run", None),
    ],
)
def test_retention_routes_are_for_admins(
    api_sqlite: ApiEnv, method: str, path: str, body: dict[str, bool] | None
) -> None:
    api = api_sqlite
    alert = raise_alert(api, "hall", 0, files=False)
    url = path.format(id=alert.id)
    assert api.client.request(method, url, json=body).status_code == 401
    for role in ("guard", "operator"):
        r = api.client.request(method, url, json=body, headers=api.headers(role))
        assert r.status_code == 403
    assert api.client.request(method, url, json=body, headers=api.headers("admin")).is_success


def test_keep_errors(api_sqlite: ApiEnv) -> None:
    api = api_sqlite
    admin = api.headers("admin")
    assert (
        api.client.post("/api/alerts/nope/keep", json={"keep": True}, headers=admin).status_code
        == 404
    )
    assert api.client.get("/api/alerts/nope/keep", headers=admin).status_code == 404
    alert = raise_alert(api, "hall", 0, files=False)
    for body in [{}, {"keep": "maybe"}, {"keep": True, "reason": "x" * 501}, {"keep": 1, "y": 2}]:
        r = api.client.post(f"/api/alerts/{alert.id}/keep", json=body, headers=admin)
        assert r.status_code == 422, body
    assert api.client.get("/api/alerts/a%20b/keep", headers=admin).status_code == 422


def test_the_job_runs_passes_and_survives_errors(
    api_sqlite: ApiEnv, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_sqlite
    old = raise_alert(api, "hall", 0)
    job = RetentionJob(api.app.state, MONTH, clock=lambda: NOW)
    report = job.run_once()
    assert report is not None and report.cleared == [old.id]
    assert last_report(api.app.state) is report
    assert api.client.get("/api/retention", headers=api.headers("admin")).json()["last_run"][
        "cleared"
    ] == [old.id]

    broken = RetentionJob(SimpleNamespace(sessions=api.app.state.sessions, alerts=None), MONTH)
    with caplog.at_level(logging.ERROR, logger="api.retention"):
        assert broken.run_once() is None
    assert "retention pass failed" in caplog.text

    state = SimpleNamespace(sessions=api.app.state.sessions, alerts=api.alerts)
    threaded = RetentionJob(state, MONTH, first_run_s=0.0, clock=lambda: NOW)
    threaded.start()
    try:
        assert wait_until(lambda: last_report(state) is not None, timeout_s=20)
    finally:
        threaded.stop()
    assert not threaded.alive
    report = last_report(state)
    assert report is not None and report.ran_at == NOW and report.cleared == []


def test_the_real_pictures_of_skeleton_only_cameras_go_too(api_sqlite: ApiEnv) -> None:
    old = raise_alert(api_sqlite, "ward", 0)
    root = api_sqlite.alerts.evidence_root
    stem = (root / str(old.snapshot)).with_suffix("")
    real = [stem.with_name(stem.name + ".real" + s) for s in (".jpg", ".mp4", ".json")]
    for path in real:
        path.write_bytes(b"real picture")
    with api_sqlite.app.state.sessions() as db:
        report = run_retention(db, api_sqlite.alerts.store, root, MONTH, NOW)
    assert report.cleared == [old.id]
    assert report.files_deleted == 6 and report.files_missing == 0
    assert not any(p.exists() for p in real)


def test_snapshot_sidecars_go_with_their_snapshots(api_sqlite: ApiEnv) -> None:
    """The poses beside the snapshot (`x.jpg.json`) and beside a skeleton-only camera's real
    snapshot (`x.real.jpg.json`) are deleted with them; an alert without them misses nothing."""
    api = api_sqlite
    old = raise_alert(api, "ward", 0)
    without = raise_alert(api, "hall", 10)  # stored before snapshots had sidecars
    root = api.alerts.evidence_root
    snapshot = root / str(old.snapshot)
    real = real_path(snapshot)
    real.write_bytes(b"real picture")
    sidecars = [snapshot_sidecar(snapshot), snapshot_sidecar(real)]
    for path in sidecars:
        path.write_text('{"xyxy": [], "keypoints": []}')
    with api.app.state.sessions() as db:
        report = run_retention(db, api.alerts.store, root, MONTH, NOW)
        entries = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "retention.delete")
            .order_by(AuditEntry.id)
        ).all()
    assert report.cleared == [old.id, without.id]
    assert (report.files_deleted, report.files_missing) == ((3 + 1 + 2) + 3, 0)
    assert not any(p.exists() for p in [snapshot, real, *sidecars])
    deleted = entries[0].details["deleted"]
    stem = str(old.snapshot)[: -len(".jpg")]
    assert f"{stem}.jpg.json" in deleted and f"{stem}.real.jpg.json" in deleted
    assert entries[1].details["missing"] == []
