"""What if: a proposed profile re-scored on the camera's labelled alerts, by replaying their real
clip sidecars (written by the alert clip writer from procedural falls, sitting down, ...) with
the active and the proposed thresholds. Over the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alerts.evidence import RingFrame, write_clip
from alerts.model import Alert
from api.profiles import seed_profiles, validate
from api.whatif import history_needed_s, motion_thumbnails, read_clip
from tests.api.conftest import ApiEnv
from tests.skeletons import Camera, Person, fall, fall_onto_bottom, render, sit_down
from vision.config import CameraConfig
from vision.types import Poses

T0 = 1_790_000_000.0
DETECTED_S = 4.4
"""Where in each clip the (synthetic) alert was detected: after the fall, as live."""
CAMERA = Camera(fps=5)
SCENES = {"fall": fall, "bottom": fall_onto_bottom, "sit": sit_down}
"""fall: a fall (fires with default thresholds); bottom: dropping onto the floor and staying
seated (fires after confirm_seated_s = 3 s); sit: sitting down on a chair (never fires)."""


@functools.cache
def scene(name: str) -> tuple[tuple[float, Poses], ...]:
    person: Person = SCENES[name]()
    return tuple(render([person], CAMERA))


def make_alert(
    api: ApiEnv,
    scene_name: str | None,
    at: float,
    *,
    camera: str = "cam1",
    kind: str = "fall",
    disposition: str | None = None,
) -> str:
    """An alert whose clip (MP4 and sidecar, written like the service writes them) shows
    `scene_name` (no clip when None), resolved with `disposition` by a guard through the API."""
    alert_id = f"a{int(at)}{camera}"
    relpath = None
    if scene_name is not None:
        relpath = f"{camera}/2026-09-21/{alert_id}-v1.mp4"
        image = np.full((480, 640, 3), 90, np.uint8)
        frames = [RingFrame(at + t, image, poses) for t, poses in scene(scene_name)]
        path = api.alerts.evidence_root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        write_clip(path, frames, detected_at=at + DETECTED_S, crf=35)
    alert = Alert(
        id=alert_id,
        version=1,
        kind=kind,
        camera_id=camera,
        zone=None,
        track_ids=(1,),
        severity="critical",
        state="new",
        started_at=at + DETECTED_S - 1,
        detected_at=at + DETECTED_S,
        last_seen_at=at + DETECTED_S,
        updated_at=at + DETECTED_S,
        confidence=0.8,
        clip=relpath,
    )
    api.alerts.store.record(alert, "created", actor="system", at=at + DETECTED_S)
    if disposition is not None:
        r = api.client.post(
            f"/api/alerts/{alert_id}/resolve",
            json={"disposition": disposition},
            headers=api.headers("guard"),
        )
        assert r.status_code == 200, r.text
    return alert_id


def seed(api: ApiEnv, *camera_ids: str) -> None:
    cameras = [CameraConfig.model_validate({"id": c, "source": "hall.mp4"}) for c in camera_ids]
    with api.app.state.sessions() as db:
        seed_profiles(db, cameras)


def whatif(api: ApiEnv, body: dict[str, Any], role: str = "operator", **params: Any) -> Any:
    return api.client.post(
        "/api/cameras/cam1/whatif",
        json=body,
        params=params,
        headers=api.headers(role),  # type: ignore[arg-type]
    )


def scores(caught: int, missed: int, false_alarms: int, quiet: int) -> dict[str, int]:
    return {
        "caught": caught,
        "missed": missed,
        "false_alarms": false_alarms,
        "quiet_on_false": quiet,
    }


def test_proposals_are_scored_on_the_labelled_clips(api: ApiEnv) -> None:
    seed(api, "cam1", "cam2")
    real_fall = make_alert(api, "fall", T0, disposition="real_incident")
    hard_sit = make_alert(api, "bottom", T0 + 100, disposition="false_alarm")
    chair = make_alert(api, "sit", T0 + 200, disposition="false_alarm")
    no_clip = make_alert(api, None, T0 + 300, disposition="real_incident")
    broken = make_alert(api, "fall", T0 + 400, disposition="false_alarm")
    sidecar = api.alerts.evidence_root / f"cam1/2026-09-21/{broken}-v1.json"
    sidecar.write_text('{"frames": "not a list"}')
    make_alert(api, "fall", T0 + 500)  # still open: no label
    make_alert(api, "fall", T0 + 600, disposition="duplicate")  # says nothing about thresholds
    make_alert(api, "fall", T0 + 700, camera="cam2", disposition="false_alarm")  # other camera

    same = whatif(api, {})
    assert same.status_code == 200, same.text
    result = same.json()
    assert (result["camera_id"], result["labelled"], result["replayed"]) == ("cam1", 5, 3)
    assert result["before"] == result["after"] == scores(1, 0, 1, 1)
    assert [a["id"] for a in result["alerts"]] == [chair, hard_sit, real_fall]  # newest first
    fired = {a["id"]: (a["fired_before"], a["fired_after"]) for a in result["alerts"]}
    assert fired == {real_fall: (True, True), hard_sit: (True, True), chair: (False, False)}
    alert = result["alerts"][-1]
    assert (alert["kind"], alert["disposition"], alert["detected_at"]) == (
        "fall",
        "real_incident",
        T0 + DETECTED_S,
    )
    skipped = {s["id"]: s["reason"] for s in result["skipped"]}
    assert skipped[no_clip] == "no clip"
    assert skipped[broken].startswith("clip unreadable")

    # Longer seated confirmation: the hard sit-down stops alarming, the fall is still caught.
    seated = whatif(api, {"behaviours": {"fall": {"confirm_seated_s": 10}}}).json()
    assert seated["before"] == scores(1, 0, 1, 1)
    assert seated["after"] == scores(1, 0, 0, 2)
    fired = {a["id"]: (a["fired_before"], a["fired_after"]) for a in seated["alerts"]}
    assert fired[hard_sit] == (True, False) and fired[real_fall] == (True, True)

    # Waiting 30 s on the floor loses the fall; a disabled detector fires nothing at all.
    slow = whatif(api, {"behaviours": {"fall": {"confirm_down_s": 30}}}).json()
    assert slow["after"] == scores(0, 1, 1, 1)
    off = whatif(api, {"behaviours": {"fall": {"enabled": False}}}).json()
    assert off["after"] == scores(0, 1, 0, 2)

    assert whatif(api, {}, limit=1).json()["labelled"] == 1

    # "before" is the active profile: after applying the slow one, the default catches again.
    versions = api.client.get("/api/cameras/cam1/profiles", headers=api.headers("guard"))
    r = api.client.post(
        "/api/cameras/cam1/profiles",
        json={"behaviours": {"fall": {"confirm_down_s": 30}}},
        headers=api.headers("operator"),
    )
    assert r.status_code == 201, r.text
    back = whatif(api, {"behaviours": {"fall": {"confirm_down_s": None}}}).json()
    assert back["before"] == scores(0, 1, 1, 1)
    assert back["after"] == scores(1, 0, 1, 1)
    after = api.client.get("/api/cameras/cam1/profiles", headers=api.headers("guard")).json()
    assert after["total"] == versions.json()["total"] + 1  # the what-if itself stored nothing
    active = api.client.get("/api/cameras/cam1/profile", headers=api.headers("guard")).json()
    assert active["document"]["behaviours"]["fall"]["confirm_down_s"] == 30


def test_bad_proposals_roles_and_unknown_cameras(api: ApiEnv) -> None:
    seed(api, "cam1")
    unknown = whatif(api, {"behaviours": {"fall": {"confirm_down": 3}}})
    assert unknown.status_code == 422
    (problem,) = unknown.json()["detail"]
    assert problem["path"] == "behaviours.fall.confirm_down"
    assert "confirm_down_s" in problem["msg"]  # the allowed keys are listed
    too_big = whatif(api, {"behaviours": {"fall": {"confirm_down_s": 31}}})
    assert too_big.status_code == 422
    assert too_big.json()["detail"][0]["path"] == "behaviours.fall.confirm_down_s"
    zone = {"name": "bed", "type": "bed", "polygon": [[0, 0], [2, 0], [2, 1]]}
    assert whatif(api, {"zones": [zone]}).status_code == 422
    assert whatif(api, {"comment": "not here"}).status_code == 422
    nan = api.client.post(
        "/api/cameras/cam1/whatif",
        content='{"behaviours": {"fall": {"confirm_down_s": NaN}}}',
        headers={**api.headers("operator"), "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert whatif(api, {}, limit=201).status_code == 422

    assert whatif(api, {}, role="guard").status_code == 403
    assert api.client.post("/api/cameras/cam1/whatif", json={}).status_code == 401
    r = api.client.post("/api/cameras/nope/whatif", json={}, headers=api.headers("admin"))
    assert r.status_code == 404
    empty = whatif(api, {"zones": []}, role="admin").json()
    assert empty["labelled"] == 0 and empty["before"] == empty["after"] == scores(0, 0, 0, 0)


def test_rules_needing_more_history_than_the_clip_are_skipped(api: ApiEnv) -> None:
    seed(api, "cam1")
    lying = make_alert(api, "fall", T0, kind="person_down", disposition="real_incident")
    result = whatif(api, {"behaviours": {"fall": {"person_down_after_s": 2}}}).json()
    (skipped,) = result["skipped"]
    assert skipped["id"] == lying
    assert "person_down needs 60 s of history" in skipped["reason"]  # the active profile's
    assert result["replayed"] == 0 and result["after"] == scores(0, 0, 0, 0)


def test_history_needed_by_each_rule() -> None:
    doc = validate(
        {
            "behaviours": {"wandering": {"default_dwell_limit_s": 300}},
            "zones": [
                {"name": "hall", "type": "corridor", "polygon": [[0, 0], [1, 0], [1, 1]]},
                {"name": "door", "type": "exit", "polygon": [[0, 0], [1, 0], [1, 1]]},
                {
                    "name": "sofa",
                    "type": "room",
                    "polygon": [[0, 0], [1, 0], [1, 1]],
                    "dwell_limit_s": 4,
                },
            ],
        }
    )
    assert history_needed_s("fall", doc, None) == 0
    assert history_needed_s("person_down", doc, None) == 60
    assert history_needed_s("pacing", doc, None) == 15
    assert history_needed_s("loitering", doc, "hall") == 300
    assert history_needed_s("loitering", doc, "sofa") == 4
    assert history_needed_s("loitering", doc, None) == 4


def test_motion_comes_from_the_clip_video(tmp_path: Path) -> None:
    frames = [
        RingFrame(T0 + i / 5, np.full((120, 160, 3), 40 * (i % 2), np.uint8), Poses.empty())
        for i in range(6)
    ]
    clip = write_clip(tmp_path / "c.mp4", frames, detected_at=T0 + 0.5, crf=20)
    sidecar = read_clip(clip.json_path)
    assert (sidecar.width, sidecar.height, len(sidecar.frames)) == (160, 120, 6)
    assert sidecar.frames[1].time_s == pytest.approx(0.2)
    thumbs = motion_thumbnails(clip.path, 6)
    assert thumbs is not None and thumbs[0].shape == (15, 20)
    assert abs(int(thumbs[1].mean()) - int(thumbs[0].mean())) > 20  # the frames differ
    assert motion_thumbnails(clip.path, 7) is None  # fewer frames than the sidecar
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert motion_thumbnails(tmp_path / "bad.mp4", 1) is None


def test_schema_of_the_settings_for_the_console(api_sqlite: ApiEnv) -> None:
    r = api_sqlite.client.get("/api/behaviours/schema", headers=api_sqlite.headers("guard"))
    assert r.status_code == 200
    schema = r.json()
    confirm = schema["behaviours"]["$defs"]["FallConfig"]["properties"]["confirm_down_s"]
    assert (confirm["default"], confirm["minimum"], confirm["maximum"]) == (0.6, 0, 30)
    assert "stay down" in confirm["description"]
    assert "bed" in schema["zone"]["properties"]["type"]["enum"]
    assert api_sqlite.client.get("/api/behaviours/schema").status_code == 401
