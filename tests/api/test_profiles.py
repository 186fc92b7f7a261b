"""Threshold profiles over the real app and database: versions seeded from the configuration,
partial changes with their diff, validation naming the key, restore, history, zones, roles, and
changes applied to a camera's running pipeline without a restart."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from api.profiles import (
    MASKS_COMMENT,
    SEED_COMMENT,
    apply_to_runner,
    camera_document,
    diff,
    merge,
    seed_profiles,
)
from api.tables.audit import AuditEntry
from api.tables.profiles import ActiveProfile, CameraProfile
from tests.api.conftest import ApiEnv
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.fall import FallConfig, FallDetector
from vision.behaviours.registry import build_detectors
from vision.config import CameraConfig, TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.runner import CameraWorker
from vision.tracking import PoseTracker
from vision.types import Frame, Poses

DOOR = {"name": "door", "type": "exit", "polygon": [[0.8, 0.2], [1, 0.2], [1, 0.9], [0.8, 0.9]]}
BED = {
    "name": "bed 1",
    "type": "bed",
    "polygon": [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]],
    "night": [{"start": "22:00", "end": "06:00"}],
}
DEFAULT_CONFIRM_S = FallConfig().confirm_down_s
SHOWER = {"name": "shower", "polygon": [[0.5, 0], [1, 0], [1, 0.5], [0.5, 0.5]], "detect": True}
WINDOW = {"name": "window", "polygon": [[0, 0], [0.25, 0], [0.25, 0.25]], "detect": False}


def camera(camera_id: str = "cam1", **data: Any) -> CameraConfig:
    return CameraConfig.model_validate({"id": camera_id, "source": "hall.mp4", **data})


def seed(api: ApiEnv, *cameras: CameraConfig) -> dict[str, dict[str, Any]]:
    with api.app.state.sessions() as db:
        return seed_profiles(db, cameras)


def audit_actions(api: ApiEnv, prefix: str = "profile.") -> list[tuple[str, str, dict[str, Any]]]:
    with api.app.state.sessions() as db:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
        )
        return [(e.action, e.actor, e.details) for e in rows]


class NoPoses:
    """Stands in for the pose model: these tests are about thresholds, not pictures."""

    model_version = "none"

    def infer(self, frame: Frame) -> Poses:
        return Poses.empty()


def running_camera(api: ApiEnv, cfg: CameraConfig) -> CameraWorker:
    """A camera worker (not started) with a real analyzer, in the app's runner."""
    analyzer = Analyzer(
        cfg.id,
        PoseTracker(cfg.id, TrackerConfig()),
        build_detectors(cfg.behaviours, cfg.zones),
        wall_start=0.0,
    )
    worker = CameraWorker(cfg, Pipeline(cfg.id, NoPoses(), analyzer))
    runner = api.app.state.runner
    runner.workers = {**runner.workers, cfg.id: worker}
    return worker


# --------------------------------------------------------------------------- pure helpers


def test_merge_lays_a_partial_over_and_none_removes() -> None:
    base = {"fall": {"a": 1, "b": 2}, "fight": {"c": 3}}
    assert merge(base, {"fall": {"b": 5, "a": None}, "wandering": {"d": 4}}) == {
        "fall": {"b": 5},
        "fight": {"c": 3},
        "wandering": {"d": 4},
    }
    assert base == {"fall": {"a": 1, "b": 2}, "fight": {"c": 3}}  # not changed in place


def test_diff_names_settings_by_path_and_zones_by_name() -> None:
    old = camera_document(camera(zones=[DOOR, BED]))
    new = camera_document(
        camera(
            behaviours={"fall": {"confirm_down_s": 3.0}},
            zones=[{**DOOR, "dwell_limit_s": 60}, {**BED, "name": "bed 2"}],
        )
    )
    changes = {c["path"]: (c["old"], c["new"]) for c in diff(old, new)}
    assert changes["behaviours.fall.confirm_down_s"] == (DEFAULT_CONFIRM_S, 3.0)
    assert changes["zones[door].dwell_limit_s"] == (None, 60.0)
    assert changes["zones[bed 1]"][1] is None and changes["zones[bed 2]"][0] is None
    assert len(changes) == 4
    assert diff(old, old) == []
    swapped = camera_document(camera(zones=[BED, DOOR]))
    assert diff(old, swapped) == [
        {"path": "zones", "old": ["door", "bed 1"], "new": ["bed 1", "door"]}
    ]


# --------------------------------------------------------------------------- versions


def test_versions_partial_change_invalid_values_restore_and_history(api: ApiEnv) -> None:
    documents = seed(api, camera(zones=[DOOR]))
    assert documents["cam1"]["behaviours"]["fall"]["confirm_down_s"] == DEFAULT_CONFIRM_S
    guard, operator = api.headers("guard"), api.headers("operator", "op.ana")

    v1 = api.client.get("/api/cameras/cam1/profile", headers=guard).json()
    assert (v1["version"], v1["created_by"], v1["comment"]) == (1, "config", SEED_COMMENT)
    assert v1["document"]["zones"][0]["name"] == "door" and v1["changes"] == []

    r = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 3.0}}, "comment": "quicker alarms"},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["version"], v2["active"], v2["created_by"]) == (2, True, "op.ana")
    assert v2["changes"] == [
        {"path": "behaviours.fall.confirm_down_s", "old": DEFAULT_CONFIRM_S, "new": 3.0}
    ]
    assert v2["applied"] is False  # the camera does not run in this app
    expected = merge(v1["document"], {"behaviours": {"fall": {"confirm_down_s": 3.0}}})
    assert v2["document"] == expected  # everything else as it was, zones included

    bad = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": -1}}},
        headers=operator,
    )
    assert bad.status_code == 422
    (problem,) = bad.json()["detail"]
    assert problem["path"] == "behaviours.fall.confirm_down_s"
    assert problem["loc"] == ["body", "behaviours", "fall", "confirm_down_s"]
    assert "greater than" in problem["msg"] and "-1" in problem["msg"]
    unknown = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_s": 2}, "sleep": {}}},
        headers=operator,
    )
    assert unknown.status_code == 422
    messages = {p["path"]: p["msg"] for p in unknown.json()["detail"]}
    assert "confirm_down_s" in messages["behaviours.fall.confirm_s"]  # lists the allowed keys
    assert "allowed here: fall, fight, wandering" in messages["behaviours.sleep"]
    wrong_type = api.client.post(
        "/api/cameras/cam1/profiles", json={"behaviours": {"fall": 3}}, headers=operator
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["path"] == (
        "behaviours.fall"
    )
    rule = api.client.post(  # a rule across keys (pacing must fit in its window)
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"wandering": {"pacing_window_s": 10, "pacing_min_duration_s": 60}}},
        headers=operator,
    )
    assert rule.status_code == 422 and "pacing_min_duration_s" in rule.text
    no_model = api.client.post(  # a classifier file that is not there
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fight": {"model": {"path": "/nowhere/fight.onnx"}}}},
        headers=operator,
    )
    assert no_model.status_code == 422
    (problem,) = no_model.json()["detail"]
    assert problem["path"] == "behaviours.fight.model.path" and "does not exist" in problem["msg"]

    same = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 3.0}}},
        headers=operator,
    )
    assert same.status_code == 200 and same.json()["version"] == 2  # nothing new stored

    r = api.client.post(
        "/api/cameras/cam1/profiles/1/restore", json={"comment": "back"}, headers=operator
    )
    assert r.status_code == 201, r.text
    v3 = r.json()
    assert (v3["version"], v3["restored_from"], v3["comment"]) == (3, 1, "back")
    assert v3["document"] == v1["document"]
    assert v3["changes"] == [
        {"path": "behaviours.fall.confirm_down_s", "old": 3.0, "new": DEFAULT_CONFIRM_S}
    ]
    assert (
        api.client.post("/api/cameras/cam1/profiles/9/restore", headers=operator).status_code == 404
    )

    history = api.client.get("/api/cameras/cam1/profiles", headers=guard).json()
    assert history["total"] == 3 and history["active_version"] == 3
    rows = history["profiles"]
    assert [(p["version"], p["active"]) for p in rows] == [(3, True), (2, False), (1, False)]
    assert [p["created_by"] for p in rows] == ["op.ana", "op.ana", "config"]
    assert rows[0]["created_at"] >= rows[1]["created_at"] >= rows[2]["created_at"] > 0
    assert "document" not in rows[0]
    page = api.client.get(
        "/api/cameras/cam1/profiles?limit=1&offset=1&documents=true", headers=guard
    ).json()
    assert [p["version"] for p in page["profiles"]] == [2]
    assert page["profiles"][0]["document"] == v2["document"]
    one = api.client.get("/api/cameras/cam1/profiles/2", headers=guard).json()
    assert one["document"] == v2["document"] and one["active"] is False

    assert audit_actions(api) == [
        ("profile.seed", "config", {"version": 1}),
        (
            "profile.apply",
            "op.ana",
            {
                "version": 2,
                "changed": ["behaviours.fall.confirm_down_s"],
                "comment": "quicker alarms",
            },
        ),
        (
            "profile.restore",
            "op.ana",
            {
                "version": 3,
                "changed": ["behaviours.fall.confirm_down_s"],
                "comment": "back",
                "restored_from": 1,
            },
        ),
    ]
    # The database wins over the configuration from now on: seeding again changes nothing.
    again = seed(api, camera(behaviours={"fall": {"confirm_down_s": 9.0}}))
    assert again["cam1"] == v3["document"]
    with api.app.state.sessions() as db:
        active = db.get(ActiveProfile, "cam1")
        assert active is not None and active.version == 3


def test_zones_are_read_and_replaced_as_a_new_version(api: ApiEnv) -> None:
    seed(api, camera())
    operator = api.headers("operator")
    assert api.client.get("/api/cameras/cam1/zones", headers=api.headers("guard")).json() == {
        "camera_id": "cam1",
        "version": 1,
        "zones": [],
    }
    r = api.client.put(
        "/api/cameras/cam1/zones", json={"zones": [DOOR, BED], "comment": "v2"}, headers=operator
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["version"], body["changed"]) == (2, True)
    assert [z["name"] for z in body["zones"]] == ["door", "bed 1"]
    assert body["zones"][1]["night"] == [{"start": "22:00", "end": "06:00"}]
    v2 = api.client.get("/api/cameras/cam1/profile", headers=operator).json()
    assert [c["path"] for c in v2["changes"]] == ["zones[door]", "zones[bed 1]"]

    again = api.client.put("/api/cameras/cam1/zones", json={"zones": [DOOR, BED]}, headers=operator)
    assert again.json()["changed"] is False and again.json()["version"] == 2

    for zones, where in [
        ([{**DOOR, "polygon": [[0, 0], [2, 0], [2, 1]]}], "polygon"),  # not relative
        ([{**DOOR, "polygon": [[0, 0], [0.5, 0.5], [1, 1]]}], "polygon"),  # no area
        ([{**DOOR, "type": "garden"}], "type"),
        ([{**BED, "night": [{"start": "25:00", "end": "06:00"}]}], "start"),
        ([{**DOOR, "colour": "red"}], "colour"),
        ([DOOR, DOOR], "unique"),
    ]:
        bad = api.client.put("/api/cameras/cam1/zones", json={"zones": zones}, headers=operator)
        assert bad.status_code == 422, (zones, bad.text)
        assert where in bad.text
    history = api.client.get("/api/cameras/cam1/profiles", headers=operator).json()
    assert history["total"] == 2


def test_unknown_cameras_versions_and_bad_input_are_4xx(api_sqlite: ApiEnv) -> None:
    api = api_sqlite
    seed(api, camera())
    operator = api.headers("operator")
    for method, path in [
        ("GET", "/api/cameras/nope/profile"),
        ("GET", "/api/cameras/nope/profiles"),
        ("GET", "/api/cameras/nope/zones"),
        ("GET", "/api/cameras/cam1/profiles/7"),
        ("POST", "/api/cameras/nope/profiles/1/restore"),
    ]:
        assert api.client.request(method, path, headers=operator).status_code == 404, path
    assert (
        api.client.post("/api/cameras/nope/profiles", json={}, headers=operator).status_code == 404
    )
    assert (
        api.client.put("/api/cameras/nope/zones", json={"zones": []}, headers=operator).status_code
        == 404
    )
    for path, body in [
        ("/api/cameras/cam1/profiles", '{"behaviours": {"fall": {"confirm_down_s": NaN}}}'),
        (
            "/api/cameras/cam1/profiles",
            '{"zones": [{"name": "x", "type": "bed", "polygon": [[0, 0], [1, 0], [1, Infinity]]}]}',
        ),
        ("/api/cameras/cam1/profiles", {"behaviours": {"fall": {"confirm_down_s": "soon"}}}),
        ("/api/cameras/cam1/profiles", {"behaviours": [1, 2]}),
        ("/api/cameras/cam1/profiles", {"thresholds": {}}),
        ("/api/cameras/cam1/profiles", {"comment": "nul\x00byte"}),
        ("/api/cameras/cam1/profiles/0/restore", {}),
        ("/api/cameras/cam1/profiles/99999999999/restore", {}),
        ("/api/cameras/bad%20id/profiles", {}),
    ]:
        if isinstance(body, str):  # JSON with NaN or Infinity, which Python's parser accepts
            json_type = {**operator, "content-type": "application/json"}
            r = api.client.post(path, content=body, headers=json_type)
        else:
            r = api.client.post(path, json=body, headers=operator)
        assert r.status_code == 422, (path, body, r.text)
    assert api.client.get("/api/cameras/cam1/profiles?limit=0", headers=operator).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body", "reader"),
    [
        ("GET", "/api/cameras/cam1/profile", None, True),
        ("GET", "/api/cameras/cam1/profiles", None, True),
        ("GET", "/api/cameras/cam1/profiles/1", None, True),
        ("GET", "/api/cameras/cam1/zones", None, True),
        (
            "POST",
            "/api/cameras/cam1/profiles",
            {"behaviours": {"fight": {"enabled": False}}},
            False,
        ),
        ("POST", "/api/cameras/cam1/profiles/1/restore", {}, False),
        ("PUT", "/api/cameras/cam1/zones", {"zones": [DOOR]}, False),
    ],
)
def test_roles(
    api_sqlite: ApiEnv, method: str, path: str, body: dict[str, Any] | None, reader: bool
) -> None:
    """Anonymous: 401. Guards read, but changing needs an operator (403); admins may too."""
    api = api_sqlite
    seed(api, camera())
    assert api.client.request(method, path, json=body).status_code == 401
    guard = api.client.request(method, path, json=body, headers=api.headers("guard"))
    assert guard.status_code == (200 if reader else 403)
    for role in ("operator", "admin"):
        r = api.client.request(method, path, json=body, headers=api.headers(role))
        assert r.status_code in (200, 201), (role, r.text)


# --------------------------------------------------------------------------- running cameras


def test_a_change_is_applied_to_the_running_pipeline(api: ApiEnv) -> None:
    cfg = camera("hall", zones=[DOOR])
    worker = running_camera(api, cfg)
    analyzer = worker.pipeline.analyzer
    operator = api.headers("operator")
    assert [type(d).__name__ for d in analyzer.detectors] == [
        "FallDetector",
        "FightDetector",
        "WanderingDetector",
    ]

    unsaved = api.client.get("/api/cameras/hall/profile", headers=operator).json()
    assert unsaved["version"] is None and unsaved["document"] == camera_document(cfg)

    r = api.client.post(
        "/api/cameras/hall/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 2.5}, "fight": {"enabled": False}}},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["applied"]) == (2, True)  # v1: the configuration
    fall = analyzer.detectors[0]
    assert isinstance(fall, FallDetector) and fall.cfg.confirm_down_s == 2.5
    assert [type(d).__name__ for d in analyzer.detectors] == ["FallDetector", "WanderingDetector"]
    assert worker.cfg.behaviours.fall.confirm_down_s == 2.5  # what the API reports about it

    r = api.client.put(
        "/api/cameras/hall/zones", json={"zones": [DOOR, BED]}, headers=operator
    ).json()
    assert r["applied"] is True
    assert [z.name for z in analyzer.detectors[0].zones] == ["door", "bed 1"]  # type: ignore[attr-defined]
    assert [z.name for z in worker.cfg.zones] == ["door", "bed 1"]
    assert analyzer.detectors[0].cfg.confirm_down_s == 2.5  # type: ignore[attr-defined]

    frame = Frame("hall", 0, 0.0, np.zeros((48, 64, 3), np.uint8))
    assert worker.pipeline.step(frame).events == ()  # the new detectors run

    history = api.client.get("/api/cameras/hall/profiles", headers=operator).json()
    assert [(p["version"], p["created_by"]) for p in history["profiles"]] == [
        (3, "operator"),
        (2, "operator"),
        (1, "config"),
    ]


def test_stored_profiles_win_at_start_up(api: ApiEnv) -> None:
    """What `carewatch run` does: seed, then apply the stored documents to fresh pipelines."""
    cfg = camera("hall")
    seed(api, cfg)
    api.client.post(
        "/api/cameras/hall/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 4.0}}},
        headers=api.headers("admin"),
    )
    worker = running_camera(api, cfg)  # built from the YAML again, as after a restart
    assert worker.pipeline.analyzer.detectors[0].cfg.confirm_down_s == DEFAULT_CONFIRM_S  # type: ignore[attr-defined]
    documents = seed(api, cfg)
    assert apply_to_runner(api.app.state.runner, "hall", documents["hall"]) is True
    assert worker.pipeline.analyzer.detectors[0].cfg.confirm_down_s == 4.0  # type: ignore[attr-defined]
    assert apply_to_runner(api.app.state.runner, "elsewhere", documents["hall"]) is False


def test_a_stored_document_that_no_longer_validates(
    api_sqlite: ApiEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """Say an older CareWatch stored a knob since removed: start-up keeps the YAML for that
    camera and says why; staff remove the key with `null`."""
    api = api_sqlite
    seed(api, camera())
    with api.app.state.sessions() as db:
        v1 = db.scalar(select(CameraProfile).where(CameraProfile.version == 1))
        assert v1 is not None
        old = merge(v1.document, {"behaviours": {"fall": {"old_knob": 1}}})
        db.add(
            CameraProfile(
                camera_id="cam1", version=2, document=old, created_by="old", created_at=1.0
            )
        )
        active = db.get(ActiveProfile, "cam1")
        assert active is not None
        active.version = 2
        db.commit()
    with caplog.at_level(logging.ERROR, logger="api.profiles"):
        assert seed(api, camera()) == {}
    assert "cam1" in caplog.text and "old_knob" in caplog.text
    operator = api.headers("operator")
    r = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 3}}},
        headers=operator,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "behaviours.fall.old_knob"
    r = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 3, "old_knob": None}}},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    assert "old_knob" not in r.json()["document"]["behaviours"]["fall"]
    assert BehavioursConfig.model_validate(r.json()["document"]["behaviours"])


# --------------------------------------------------------------------------- privacy masks


def test_masks_are_changed_by_admins_as_versions_and_applied_at_once(api: ApiEnv) -> None:
    """Masks drawn in the console: a new version, black in the live view and the evidence
    buffer from the next frame, `detect: false` ones hidden from the model; only admins may
    change them, through `PUT .../masks` or by restoring a version with other masks."""
    import cv2

    worker = running_camera(api, camera("hall"))
    admin, operator = api.headers("admin"), api.headers("operator")
    body = {"masks": [SHOWER, WINDOW], "comment": "bathroom door"}
    assert api.client.put("/api/cameras/hall/masks", json=body, headers=operator).status_code == 403
    r = api.client.put("/api/cameras/hall/masks", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["changed"], r.json()["applied"]) == (2, True, True)
    assert api.client.get("/api/cameras/hall/masks", headers=api.headers("guard")).json() == {
        "camera_id": "hall",
        "version": 2,
        "masks": [SHOWER, WINDOW],
    }
    v2 = api.client.get("/api/cameras/hall/profile", headers=operator).json()
    assert [c["path"] for c in v2["changes"]] == ["masks[shower]", "masks[window]"]
    assert [m.name for m in worker.cfg.privacy.masks] == ["shower", "window"]
    assert [m.name for m in worker.pipeline.hidden] == ["window"]

    image = np.full((120, 160, 3), 200, np.uint8)
    worker._latest = worker.pipeline.step(Frame("hall", 0, 0.0, image))
    live = api.client.get("/api/cameras/hall/snapshot.jpg?overlay=false", headers=operator)
    shown = cv2.imdecode(np.frombuffer(live.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert shown[5:55, 85:155].max() <= 8 and shown[2:10, 25:37].max() <= 8  # both masks black
    assert shown[70:115, 10:150].min() >= 190  # the rest is the picture
    api.alerts.observe("hall", 1000.0, image, Poses.empty())
    buffered = api.alerts.ring("hall").latest()
    assert buffered is not None
    h, w = buffered.image.shape[:2]
    assert (buffered.image[: h // 2 - 2, w // 2 + 2 :] == 0).all()

    # operators tune thresholds without touching masks, but cannot bring back a version without
    r = api.client.post(
        "/api/cameras/hall/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 3}}},
        headers=operator,
    )
    assert r.status_code == 201 and r.json()["document"]["masks"] == [SHOWER, WINDOW]
    restore = "/api/cameras/hall/profiles/1/restore"
    assert api.client.post(restore, headers=operator).status_code == 403
    assert api.client.post(restore, headers=admin).status_code == 201
    assert worker.cfg.privacy.masks == () and worker.pipeline.hidden == ()
    assert api.client.get("/api/cameras/hall/profiles", headers=admin).json()["total"] == 4

    for masks, where in [
        ([{**SHOWER, "polygon": [[0, 0], [1, 1]]}], "polygon"),
        ([{**SHOWER, "polygon": [[0, 0], [1.5, 0], [1, 1]]}], "polygon"),
        ([SHOWER, SHOWER], "unique"),
        ([{**SHOWER, "colour": "red"}], "colour"),
    ]:
        bad = api.client.put("/api/cameras/hall/masks", json={"masks": masks}, headers=admin)
        assert bad.status_code == 422, (masks, bad.text)
        assert where in bad.text


def test_masks_of_the_configuration_survive_profiles_stored_before_masks_were_in_them(
    api: ApiEnv,
) -> None:
    """A profile stored by an older CareWatch has no `masks`: start-up adds the configuration
    file's masks as a new version instead of dropping them."""
    seed(api, camera())
    with api.app.state.sessions() as db:
        v1 = db.scalar(select(CameraProfile).where(CameraProfile.version == 1))
        assert v1 is not None
        v1.document = {k: v for k, v in v1.document.items() if k != "masks"}
        db.commit()
    documents = seed(api, camera(privacy={"masks": [SHOWER]}))
    assert documents["cam1"]["masks"] == [SHOWER]
    v2 = api.client.get("/api/cameras/cam1/profile", headers=api.headers("guard")).json()
    assert (v2["version"], v2["comment"], v2["created_by"]) == (2, MASKS_COMMENT, "config")
    assert ("profile.seed_masks", "config", {"version": 2, "masks": 1}) in audit_actions(api)
    seed(api, camera(privacy={"masks": [SHOWER]}))
    assert (
        api.client.get("/api/cameras/cam1/profiles", headers=api.headers("guard")).json()["total"]
        == 2
    )
