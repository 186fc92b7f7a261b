"""`GET /metrics` in Prometheus text format: a real camera worker reading a real clip, the
alert store's open alerts and deliveries, no sign-in, and one registry per app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.builders import T0, event
from tests.api.conftest import ApiEnv, build_api
from tests.servers import make_clip, wait_until
from vision.config import CameraConfig, TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.runner import CameraWorker
from vision.tracking import PoseTracker
from vision.types import Frame, Poses


class NoPoses:
    """Stands in for the pose model: these tests count frames, they do not look at them."""

    model_version = "none"

    def infer(self, frame: Frame) -> Poses:
        return Poses.empty()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def worker(cfg: CameraConfig) -> CameraWorker:
    analyzer = Analyzer(cfg.id, PoseTracker(cfg.id, TrackerConfig()))
    return CameraWorker(cfg, Pipeline(cfg.id, NoPoses(), analyzer))


@pytest.fixture
def hall(api_sqlite: ApiEnv, tmp_path: Path) -> Iterator[CameraWorker]:
    """Camera `hall` reading a looping 25 fps clip at 10 analysed frames/s, and camera `yard`,
    disabled; both in the app's runner."""
    clip = make_clip(tmp_path / "hall.mp4", seconds=2.0)
    running = worker(
        CameraConfig(id="hall", source=str(clip), loop=True, analysis_fps=10.0, name="Hall")
    )
    off = worker(CameraConfig(id="yard", source=str(clip), enabled=False))
    runner = api_sqlite.app.state.runner
    runner.workers = {**runner.workers, "hall": running, "yard": off}
    running.start()
    yield running
    running.stop()


def test_metrics_of_cameras_alerts_and_deliveries(api_sqlite: ApiEnv, hall: CameraWorker) -> None:
    api = api_sqlite
    store = api.alerts.store
    now = time.time() - T0  # detected now: the service's ticker does not escalate them
    for camera in ("hall", "yard", "door"):
        change = api.alerts.handle(event("fall", now, camera=camera))
        assert change is not None
        if camera == "door":
            api.alerts.resolve(change.alert.id, actor="guard", disposition="false_alarm")
    alert = store.find(camera_id="hall")[0]
    store.record(
        alert.evolve(note="seen"), "updated", actor=None, at=alert.updated_at, sinks=["a", "b"]
    )
    first = store.deliveries(alert.id)[0]
    store.mark_delivered(first.id, at=alert.updated_at)
    assert wait_until(lambda: hall.health()["frames_analysed"] >= 3, timeout_s=30)
    assert wait_until(lambda: hall.health()["state"] == "online", timeout_s=30)

    r = api.client.get("/metrics")  # no sign-in
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    got = samples(r.text)
    health = {c["camera_id"]: c for c in api.app.state.runner.health()}

    hall_, yard = (("camera", "hall"),), (("camera", "yard"),)
    assert got[("carewatch_camera_up", hall_)] == 1.0
    assert got[("carewatch_camera_up", yard)] == 0.0
    assert got[("carewatch_camera_input_fps", hall_)] > 0
    assert got[("carewatch_camera_analysed_fps", yard)] == 0.0
    assert got[("carewatch_camera_frames_analysed_total", hall_)] >= 3
    assert got[("carewatch_camera_frames_dropped_total", hall_)] >= 0
    assert got[("carewatch_camera_frames_dropped_total", yard)] == 0
    assert got[("carewatch_camera_reconnects_total", hall_)] == health["hall"]["reconnects"]
    assert got[("carewatch_camera_analysis_errors_total", hall_)] == 0
    assert got[("carewatch_alerts_open", ())] == 2.0
    deliveries = {
        labels: value
        for (name, labels), value in got.items()
        if name == "carewatch_alert_deliveries"
    }
    assert deliveries == {
        (("channel", first.sink), ("status", "delivered")): 1.0,
        (("channel", "b" if first.sink == "a" else "a"), ("status", "pending")): 1.0,
    }
    assert got[("carewatch_uptime_seconds", ())] > 0


def test_each_app_has_its_own_registry(
    api_sqlite: ApiEnv, hall: CameraWorker, tmp_path: Path
) -> None:
    other = build_api(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other")
    with other.client:
        theirs = samples(other.client.get("/metrics").text)
    other.engine.dispose()
    mine = samples(api_sqlite.client.get("/metrics").text)
    assert ("carewatch_camera_up", (("camera", "hall"),)) in mine
    assert not any(labels for (name, labels) in theirs if name.startswith("carewatch_camera"))
    assert theirs[("carewatch_alerts_open", ())] == 0.0
