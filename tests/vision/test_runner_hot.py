"""Adding, replacing and removing cameras on a running `Runner`: real workers reading a real clip
(decoded by FFmpeg through OpenCV), with a pose model that finds nobody, so no model is needed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import make_clip, wait_until
from vision.config import CameraConfig, TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.runner import CameraWorker, Runner
from vision.tracking import PoseTracker
from vision.types import Frame, Poses


class NoPeople:
    """An estimator that sees nobody (the runner's threads, not the model, are under test)."""

    model_version = "none"

    def infer(self, frame: Frame) -> Poses:
        return Poses.empty()


def worker_for(cfg: CameraConfig) -> CameraWorker:
    """A real worker for `cfg`: reader thread, analysis thread, tracking, no detectors."""
    analyzer = Analyzer(cfg.id, PoseTracker(cfg.id, TrackerConfig()))
    return CameraWorker(cfg, Pipeline(cfg.id, NoPeople(), analyzer))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("hot") / "clip.mp4", seconds=2, size=(160, 120))


def camera(clip: Path, camera_id: str = "hall", **kw: object) -> CameraConfig:
    return CameraConfig.model_validate(
        {"id": camera_id, "source": str(clip), "loop": True, "analysis_fps": 10, **kw}
    )


def threads_of(camera_id: str) -> list[str]:
    """Names of the live threads of a camera (its reader and its analysis loop)."""
    names = {f"camera-{camera_id}", f"analyse-{camera_id}"}
    return sorted(t.name for t in threading.enumerate() if t.name in names and t.is_alive())


def analysed(worker: CameraWorker) -> int:
    return int(worker.health()["frames_analysed"])


@pytest.fixture
def runner() -> Iterator[Runner]:
    runner = Runner([])
    runner.start()
    yield runner
    runner.stop()


def test_add_starts_a_camera_that_reads_and_analyses(runner: Runner, clip: Path) -> None:
    worker = worker_for(camera(clip))
    runner.add(worker)
    assert runner.workers == {"hall": worker}
    assert wait_until(lambda: analysed(worker) >= 3, 15), worker.health()
    assert [h["camera_id"] for h in runner.health()] == ["hall"]
    assert runner.health()[0]["state"] == "online"
    assert threads_of("hall") == ["analyse-hall", "camera-hall"]


def test_add_replaces_and_stops_the_worker_of_the_same_camera(runner: Runner, clip: Path) -> None:
    first = worker_for(camera(clip))
    runner.add(first)
    assert wait_until(lambda: analysed(first) >= 1, 15)
    second = worker_for(camera(clip, analysis_fps=5, name="Hall"))
    runner.add(second)
    assert runner.workers["hall"] is second
    assert first.reader.health().state == "ended", "the replaced worker is stopped"
    stopped_at = analysed(first)
    assert wait_until(lambda: analysed(second) >= 2, 15)
    assert analysed(first) == stopped_at
    assert threads_of("hall") == ["analyse-hall", "camera-hall"], "one reader per camera"
    assert runner.health()[0]["name"] == "Hall"


def test_remove_stops_the_camera(runner: Runner, clip: Path) -> None:
    worker = worker_for(camera(clip))
    runner.add(worker)
    assert wait_until(lambda: analysed(worker) >= 1, 15)
    assert runner.remove("hall") is True
    assert runner.workers == {} and runner.health() == []
    assert worker.reader.health().state == "ended"
    assert wait_until(lambda: threads_of("hall") == [], 5)
    assert runner.remove("hall") is False
    assert runner.remove("never-there") is False


def test_added_unstarted_workers_start_with_the_runner_once(clip: Path) -> None:
    runner = Runner([worker_for(camera(clip, "a"))])
    late = worker_for(camera(clip, "b"))
    runner.add(late, start=False)
    assert threads_of("b") == []
    runner.start()
    try:
        assert wait_until(lambda: analysed(late) >= 1, 15)
        runner.start()  # a second start starts nothing twice
        runner.add(late)  # nor does adding the same running worker again
        assert threads_of("a") == ["analyse-a", "camera-a"]
        assert threads_of("b") == ["analyse-b", "camera-b"]
    finally:
        runner.stop()
    assert all(w.reader.health().state == "ended" for w in runner.workers.values())


def test_health_and_iteration_survive_concurrent_adds_and_removes(clip: Path) -> None:
    runner = Runner([])
    done = threading.Event()
    failures: list[BaseException] = []

    def watch() -> None:
        while not done.is_set():
            try:
                runner.health()
                for _ in runner.workers.items():
                    pass
            except BaseException as exc:  # "dictionary changed size during iteration"
                failures.append(exc)
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(20):
            runner.add(worker_for(camera(clip, f"c{i % 4}", enabled=False)), start=False)
            if i % 3 == 0:
                runner.remove(f"c{(i + 1) % 4}")
    finally:
        done.set()
        watcher.join(10)
        runner.stop()
    assert failures == []
    assert set(runner.workers) <= {"c0", "c1", "c2", "c3"}
