"""Exporting one alert as a ZIP: its record, history, deliveries, evidence files, audit trail and
a README, for admins only, audited, and the temporary file removed after sending. Faces are
pixelated at export (real pictures stored unblurred by the alert service, decoded and compared),
a file whose poses are missing is left out, and exporting as stored needs a reason."""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from alerts.evidence import snapshot_sidecar
from alerts.model import Alert
from api.retention import DAY_S, run_retention
from api.tables.audit import AuditEntry
from tests.alerts.builders import T0, event
from tests.api.conftest import ApiEnv
from tests.api.test_retention import MONTH, hold, raise_alert
from tests.builders import read_frames, standing_poses
from vision.privacy import PrivacyConfig, face_boxes

FPS = 5.0
PERSON = standing_poses([(100, 40, 160, 220)])
"""Someone standing, facing the camera: nose, eyes and ears seen (score 0.9)."""


EVERY_FILE = ["README.txt", "alert.json", "audit.json", "clip.json", "clip.mp4", "snapshot.jpg"]
"""An export's files, sorted, when all the evidence is there."""


def leftovers(alert_id: str) -> list[Path]:
    temp = Path(tempfile.gettempdir())
    return [*temp.glob(f"carewatch-{alert_id}-*.zip"), *temp.glob(".carewatch-blur-*.mp4")]


def scene(i: int) -> np.ndarray:
    """A textured 320x240 frame that changes every frame, with detail that H.264 and JPEG keep
    (2x2 blocks of random colours) and pixelation removes."""
    small = np.random.default_rng(i).integers(40, 220, (120, 160, 3), dtype=np.uint8)
    return np.asarray(cv2.resize(small, (320, 240), interpolation=cv2.INTER_NEAREST))


def recorded_alert(api: ApiEnv, camera: str = "hall") -> Alert:
    """An alert of `camera`, whose `privacy.blur_faces` is off, detected 6 s into 12 s of frames
    (5 fps, ending now) of `PERSON` in `scene`: the alert service wrote its snapshot and clip,
    faces unblurred, with their pose sidecars."""
    service = api.alerts
    service.set_privacy(camera, PrivacyConfig(blur_faces=False))
    start = time.time() - 12.0
    created = []
    for i in range(int(12 * FPS)):
        t = start + i / FPS
        events = [event("fall", t - T0, camera=camera)] if i == 30 else []
        created += service.observe(camera, t, scene(i), PERSON, events)
    assert service.clips.wait_idle(30)
    (change,) = created
    alert = service.get(change.alert.id)
    assert alert.snapshot is not None and alert.clip is not None
    return alert


def face_masks(margin: int) -> tuple[np.ndarray, np.ndarray]:
    """(inside `PERSON`'s face box, farther than `margin` px from it) as 240x320 masks."""
    (x1, y1, x2, y2) = face_boxes(PERSON)[0]
    inside = np.zeros((240, 320), bool)
    inside[max(0, y1) : y2, x1:x2] = True
    near = np.zeros_like(inside)
    near[max(0, y1 - margin) : y2 + margin, max(0, x1 - margin) : x2 + margin] = True
    return inside, ~near


def jpeg(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, dtype=np.int16)


def video(data: bytes, tmp_path: Path) -> list[np.ndarray]:
    """The BGR frames of an MP4 (decoded by OpenCV)."""
    path = tmp_path / f"v{len(list(tmp_path.glob('v*.mp4')))}.mp4"
    path.write_bytes(data)
    return [np.asarray(image, dtype=np.int16) for image in read_frames(path)]


def export(api: ApiEnv, alert_id: str, query: str = "") -> zipfile.ZipFile:
    r = api.client.get(
        f"/api/alerts/{alert_id}/export.zip{query}", headers=api.headers("admin", "boss")
    )
    assert r.status_code == 200, r.text
    return zipfile.ZipFile(io.BytesIO(r.content))


def exports(api: ApiEnv) -> list[AuditEntry]:
    with api.app.state.sessions() as db:
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "alert.export")
                .order_by(AuditEntry.id)
            )
        )


def test_export_holds_the_alert_its_evidence_and_its_audit_trail(api: ApiEnv) -> None:
    """Exported as stored (with a reason), the evidence files are the stored bytes."""
    # Detected now (real clock), so the service's ticker does not escalate it meanwhile.
    alert = raise_alert(api, "hall", time.time() - T0, state="new")
    guard = api.headers("guard", "guard.li")
    assert api.client.post(f"/api/alerts/{alert.id}/acknowledge", json={}, headers=guard).is_success
    assert api.client.get(f"/api/alerts/{alert.id}/snapshot.jpg", headers=guard).is_success
    hold(api, alert.id, "insurer asked")
    url = f"/api/alerts/{alert.id}/export.zip?faces=as_stored"
    admin = api.headers("admin", "boss")
    refused = (
        "",
        "&reason=",
        "&reason=no",
        "&reason=%20%20%20",
        "&reason=a%00bc",
        "&reason=" + "x" * 501,
    )
    for query in refused:
        assert api.client.get(url + query, headers=admin).status_code == 422, query
    assert exports(api) == [], "a refused export is not an export"

    r = api.client.get(url + "&reason=insurer asked for the original", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="carewatch-alert-{alert.id}.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == EVERY_FILE
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
    assert "exported as stored (not pixelated at export) by boss (admin)" in readme
    assert "reason: insurer asked for the original" in readme
    assert "Not included" not in readme and "Left out" not in readme

    exported = exports(api)
    assert [(e.actor, e.target_type, e.target_id) for e in exported] == [
        ("boss", "alert", alert.id)
    ]
    assert exported[0].details == {
        "bytes": len(r.content),
        "faces": "as_stored",
        "reason": "insurer asked for the original",
    }
    assert leftovers(alert.id) == []


def test_export_pixelates_faces_the_camera_stored_unblurred(
    api_sqlite: ApiEnv, tmp_path: Path
) -> None:
    api = api_sqlite
    alert = recorded_alert(api)
    root = api.alerts.evidence_root
    stored_jpg = (root / str(alert.snapshot)).read_bytes()
    stored_mp4 = (root / str(alert.clip)).read_bytes()

    archive = export(api, alert.id)
    assert sorted(archive.namelist()) == EVERY_FILE
    inside, far = face_masks(margin=8)  # JPEG and H.264 blocks spread a change up to 8 px

    stored, exported = jpeg(stored_jpg), jpeg(archive.read("snapshot.jpg"))
    assert stored.shape == exported.shape == (240, 320, 3)
    diff = np.abs(stored - exported).mean(axis=2)
    assert diff[inside].mean() > 15, "the face is pixelated"
    assert diff[far].mean() < 4 and np.percentile(diff[far], 99) < 12, "the rest is as stored"

    before, after = video(stored_mp4, tmp_path), video(archive.read("clip.mp4"), tmp_path)
    assert len(before) == len(after) == len(json.loads(archive.read("clip.json"))["frames"])
    assert len(before) > 40
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        diff = np.abs(a - b).mean(axis=2)
        assert diff[inside].mean() > 15, f"frame {i}: the face is pixelated"
        assert diff[far].mean() < 8, f"frame {i}: the rest differs by encoding noise only"
    assert archive.read("clip.json") == (root / str(alert.clip)).with_suffix(".json").read_bytes()
    assert (root / str(alert.snapshot)).read_bytes() == stored_jpg, "stored files unchanged"
    assert (root / str(alert.clip)).read_bytes() == stored_mp4

    readme = archive.read("README.txt").decode()
    assert "Faces in snapshot.jpg and clip.mp4 were pixelated at export" in readme
    assert "Left out" not in readme
    (entry,) = exports(api)
    assert (entry.details["faces"], entry.details["reason"]) == ("blurred", None)
    assert leftovers(alert.id) == []


def _drop_keypoint_scores(record: dict[str, Any]) -> None:
    del record["keypoint_score"]


def _face_scores_low(record: dict[str, Any]) -> None:
    for person in record["keypoint_score"]:
        person[:5] = [0.1] * 5  # nose, eyes, ears below the live threshold (0.3)


@pytest.mark.parametrize(
    ("edit", "pixelated"),
    [(_drop_keypoint_scores, True), (_face_scores_low, False)],
    ids=["older sidecars without keypoint_score", "face keypoints scored below threshold"],
)
def test_faces_are_placed_with_the_live_keypoint_threshold(
    api_sqlite: ApiEnv, tmp_path: Path, edit: Callable[[dict[str, Any]], None], pixelated: bool
) -> None:
    """Sidecars written before keypoint scores were recorded count every present joint as seen;
    joints scored below the live threshold place no face (nothing to blur: the stored bytes)."""
    api = api_sqlite
    alert = recorded_alert(api)
    root = api.alerts.evidence_root
    snapshot, clip = root / str(alert.snapshot), root / str(alert.clip)
    for path in (snapshot_sidecar(snapshot), clip.with_suffix(".json")):
        sidecar = json.loads(path.read_text())
        for record in sidecar.get("frames", [sidecar]):
            edit(record)
        path.write_text(json.dumps(sidecar))
    archive = export(api, alert.id)
    inside, _ = face_masks(margin=8)
    exported = archive.read("snapshot.jpg")
    face_change = np.abs(jpeg(snapshot.read_bytes()) - jpeg(exported)).mean(axis=2)[inside]
    first = [video(data, tmp_path)[0] for data in (clip.read_bytes(), archive.read("clip.mp4"))]
    if pixelated:
        assert face_change.mean() > 15
        assert np.abs(first[0] - first[1]).mean(axis=2)[inside].mean() > 15
    else:
        assert exported == snapshot.read_bytes()
        assert np.abs(first[0] - first[1]).mean(axis=2)[inside].mean() < 8


def _no_snapshot_sidecar(root: Path, alert: Alert) -> None:
    snapshot_sidecar(root / str(alert.snapshot)).unlink()


def _clip_sidecar_one_record_short(root: Path, alert: Alert) -> None:
    path = (root / str(alert.clip)).with_suffix(".json")
    sidecar = json.loads(path.read_text())
    sidecar["frames"] = sidecar["frames"][:-1]
    path.write_text(json.dumps(sidecar))


def _clip_unreadable(root: Path, alert: Alert) -> None:
    (root / str(alert.clip)).write_bytes(b"not a video " * 50)


def _no_clip_sidecar(root: Path, alert: Alert) -> None:
    (root / str(alert.clip)).with_suffix(".json").unlink()


@pytest.mark.parametrize(
    ("breakage", "names", "left_out", "why"),
    [
        (_no_snapshot_sidecar, ["clip.json", "clip.mp4"], "snapshot.jpg", "sidecar is missing"),
        (_clip_sidecar_one_record_short, ["clip.json", "snapshot.jpg"], "clip.mp4", "pose records"),
        (_clip_unreadable, ["clip.json", "snapshot.jpg"], "clip.mp4", "could not be decoded"),
        (_no_clip_sidecar, ["snapshot.jpg"], "clip.mp4", "sidecar is missing"),
    ],
)
def test_a_file_whose_poses_are_missing_is_left_out_and_the_readme_says_why(
    api_sqlite: ApiEnv,
    breakage: Callable[[Path, Alert], None],
    names: list[str],
    left_out: str,
    why: str,
) -> None:
    api = api_sqlite
    alert = recorded_alert(api)
    breakage(api.alerts.evidence_root, alert)
    archive = export(api, alert.id)
    assert sorted(archive.namelist()) == sorted(["README.txt", "alert.json", "audit.json", *names])
    readme = archive.read("README.txt").decode()
    assert "Left out because faces could not be pixelated" in readme
    (line,) = [x for x in readme.split("Left out")[1].splitlines() if x.startswith("  ")]
    assert line.split()[0] == left_out and why in line
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
    assert api.client.get(f"{url}?faces=hidden", headers=admin).status_code == 422
    with api.app.state.sessions() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "alert.export")) is None
