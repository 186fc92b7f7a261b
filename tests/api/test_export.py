"""Exporting one alert as a ZIP: its record, history, deliveries, evidence files, audit trail and
a README, for admins only, audited, and the temporary file removed after sending."""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
from pathlib import Path

from sqlalchemy import select

from api.retention import DAY_S, run_retention
from api.tables.audit import AuditEntry
from tests.alerts.builders import T0
from tests.api.conftest import ApiEnv
from tests.api.test_retention import MONTH, hold, raise_alert


def leftovers(alert_id: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"carewatch-{alert_id}-*.zip"))


def test_export_holds_the_alert_its_evidence_and_its_audit_trail(api: ApiEnv) -> None:
    # Detected now (real clock), so the service's ticker does not escalate it meanwhile.
    alert = raise_alert(api, "hall", time.time() - T0, state="new")
    guard = api.headers("guard", "guard.li")
    assert api.client.post(f"/api/alerts/{alert.id}/acknowledge", json={}, headers=guard).is_success
    assert api.client.get(f"/api/alerts/{alert.id}/snapshot.jpg", headers=guard).is_success
    hold(api, alert.id, "insurer asked")

    r = api.client.get(f"/api/alerts/{alert.id}/export.zip", headers=api.headers("admin", "boss"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="carewatch-alert-{alert.id}.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == [
        "README.txt",
        "alert.json",
        "audit.json",
        "clip.json",
        "clip.mp4",
        "snapshot.jpg",
    ]
    root = api.alerts.evidence_root
    assert archive.read("snapshot.jpg") == (root / str(alert.snapshot)).read_bytes()
    assert archive.read("clip.mp4") == (root / str(alert.clip)).read_bytes()
    assert json.loads(archive.read("clip.json")) == {"frames": []}

    record = json.loads(archive.read("alert.json"))
    assert record["alert"]["id"] == alert.id and record["alert"]["state"] == "acknowledged"
    assert [c["action"] for c in record["history"]] == ["created", "evidence", "acknowledged"]
    assert record["deliveries"] == []
    assert record["hold"]["reason"] == "insurer asked"

    trail = json.loads(archive.read("audit.json"))
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("alert.acknowledge", "guard.li"),
        ("snapshot.view", "guard.li"),
    ]
    readme = archive.read("README.txt").decode()
    assert f"Alert {alert.id}: fall on camera hall" in readme
    assert "by boss (admin)" in readme and "insurer asked" in readme
    assert "Not included" not in readme

    with api.app.state.sessions() as db:
        exported = db.scalars(select(AuditEntry).where(AuditEntry.action == "alert.export")).all()
    assert [(e.actor, e.target_type, e.target_id) for e in exported] == [
        ("boss", "alert", alert.id)
    ]
    assert exported[0].details["bytes"] == len(r.content)
    assert leftovers(alert.id) == []


def test_export_after_retention_says_what_is_missing(api_sqlite: ApiEnv) -> None:
    api = api_sqlite
    alert = raise_alert(api, "hall", 0)
    with api.app.state.sessions() as db:
        run_retention(db, api.alerts.store, api.alerts.evidence_root, MONTH, T0 + 40 * DAY_S)
    r = api.client.get(f"/api/alerts/{alert.id}/export.zip", headers=api.headers("admin"))
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == ["README.txt", "alert.json", "audit.json"]
    readme = archive.read("README.txt").decode()
    assert "Not included" in readme and "clip.mp4" in readme.split("Not included")[1]
    record = json.loads(archive.read("alert.json"))
    assert record["history"][-1]["action"] == "evidence"
    assert record["history"][-1]["actor"] == "retention"
    trail = json.loads(archive.read("audit.json"))
    assert [e["action"] for e in trail] == ["retention.delete"]


def test_export_is_for_admins_and_needs_an_alert(api_sqlite: ApiEnv) -> None:
    api = api_sqlite
    alert = raise_alert(api, "hall", 0, files=False)
    url = f"/api/alerts/{alert.id}/export.zip"
    assert api.client.get(url).status_code == 401
    for role in ("guard", "operator"):
        assert api.client.get(url, headers=api.headers(role)).status_code == 403
    admin = api.headers("admin")
    assert api.client.get("/api/alerts/nope/export.zip", headers=admin).status_code == 404
    assert api.client.get("/api/alerts/no%20pe/export.zip", headers=admin).status_code == 422
    with api.app.state.sessions() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "alert.export")) is None
