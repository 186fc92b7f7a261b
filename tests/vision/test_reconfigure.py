"""`Analyzer.reconfigure`: new detectors from the next step on, tracks kept, and a swap from
another thread never lands in the middle of a step."""

from __future__ import annotations

import threading

import numpy as np

from tests.builders import standing_poses
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.fall import FallDetector
from vision.behaviours.registry import build_detectors
from vision.config import TrackerConfig
from vision.pipeline import Analyzer, Perception
from vision.tracking import PoseTracker
from vision.types import BehaviourEvent, Scene

SIZE = (640, 480)
THUMB = np.zeros((60, 80), np.uint8)


class Recorder:
    """A detector that notes the frames it saw and reports one event per frame."""

    def __init__(self, kind: str, gate: threading.Event | None = None) -> None:
        self.kind = kind
        self.frames: list[int] = []
        self.gate = gate
        self.entered = threading.Event()

    def update(self, scene: Scene) -> list[BehaviourEvent]:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        self.frames.append(scene.frame_index)
        return [
            BehaviourEvent(
                kind=self.kind,
                camera_id=scene.camera_id,
                track_ids=tuple(t.track_id for t in scene.tracks),
                started_at=scene.timestamp,
                detected_at=scene.timestamp,
                confidence=1.0,
            )
        ]


def seen(i: int) -> Perception:
    """Frame `i` (5 fps) of one person standing still."""
    return Perception("cam", i, i * 0.2, SIZE, standing_poses([(300, 100, 380, 400)]), THUMB)


def analyzer(*detectors: Recorder) -> Analyzer:
    return Analyzer("cam", PoseTracker("cam", TrackerConfig()), detectors, wall_start=0.0)


def test_new_detectors_take_over_at_the_next_step_and_tracks_are_kept() -> None:
    old, new = Recorder("old"), Recorder("new")
    a = analyzer(old)
    before = [a.step(seen(i)) for i in range(3)]
    a.reconfigure([new])
    after = [a.step(seen(i)) for i in range(3, 6)]
    assert old.frames == [0, 1, 2]
    assert new.frames == [3, 4, 5]
    assert [e.kind for r in after for e in r.events] == ["new"] * 3
    ids_before = {t.track_id for t in before[-1].tracks}
    assert ids_before and ids_before == {t.track_id for t in after[0].tracks}


def test_reconfigure_with_real_detectors_changes_thresholds_and_can_disable() -> None:
    a = Analyzer("cam", PoseTracker("cam", TrackerConfig()), build_detectors(BehavioursConfig()))
    cfg = BehavioursConfig.model_validate(
        {"fall": {"confirm_down_s": 2.5}, "fight": {"enabled": False}}
    )
    a.reconfigure(build_detectors(cfg))
    kinds = [type(d).__name__ for d in a.detectors]
    assert kinds == ["FallDetector", "WanderingDetector"]
    fall = a.detectors[0]
    assert isinstance(fall, FallDetector) and fall.cfg.confirm_down_s == 2.5
    a.step(seen(0))  # the new detectors run


def test_a_swap_from_another_thread_waits_for_the_step_in_progress() -> None:
    gate = threading.Event()
    old, new = Recorder("old", gate), Recorder("new")
    a = analyzer(old)
    results = []
    stepping = threading.Thread(target=lambda: results.append(a.step(seen(0))))
    stepping.start()
    assert old.entered.wait(10)  # the step is inside the old detector now
    swapped = threading.Event()

    def swap() -> None:
        a.reconfigure([new])
        swapped.set()

    swapping = threading.Thread(target=swap)
    swapping.start()
    assert not swapped.wait(0.3), "reconfigure returned while a step still used the old detectors"
    gate.set()
    stepping.join(10)
    swapping.join(10)
    assert swapped.is_set()
    assert [e.kind for e in results[0].events] == ["old"]  # the step finished as it began
    assert new.frames == []
    assert [e.kind for e in a.step(seen(1)).events] == ["new"]
