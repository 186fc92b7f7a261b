"""The activity gate: every frame while the picture moves, one every `1 / idle_fps` s while it
does not, and a fall that starts from stillness is still found with gating on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from tests import skeletons as sk
from vision.behaviours.fall import FallConfig, FallDetector
from vision.config import CameraConfig, TrackerConfig
from vision.motion import ActivityGate, GatingConfig
from vision.pipeline import Analyzer, Perception
from vision.regions import RegionConfig, RegionPlanner
from vision.tracking import PoseTracker
from vision.types import Poses

STILL = np.full((60, 80), 90, np.uint8)


def moved(thumb: np.ndarray, pixels: int, at: int = 0) -> np.ndarray:
    """`thumb` with `pixels` pixels from flat index `at` brightened well above the gate's noise
    level."""
    out = thumb.copy()
    out.flat[at : at + pixels] = 200
    return out


def admitted(gate: ActivityGate, thumbs: list[np.ndarray], fps: float = 5.0) -> list[bool]:
    return [gate.admit(thumb, i / fps) for i, thumb in enumerate(thumbs)]


def test_a_still_picture_is_analysed_at_the_idle_rate() -> None:
    gate = ActivityGate(GatingConfig(idle_fps=1.0, hold_s=0.0))
    verdicts = admitted(gate, [STILL] * 26)  # 5 s at 5 fps
    assert [i for i, ok in enumerate(verdicts) if ok] == [0, 5, 10, 15, 20, 25]
    assert (gate.admitted, gate.skipped) == (6, 20) and not gate.active


def test_an_empty_still_room_is_analysed_at_the_empty_rate() -> None:
    gate = ActivityGate(GatingConfig(idle_fps=1.0, empty_fps=0.2, hold_s=0.0))
    verdicts = []
    for i in range(60):  # 12 s at 5 fps
        verdicts.append(gate.admit(STILL, i / 5))
        if verdicts[-1]:
            gate.saw(0)  # nobody there
    assert [i for i, ok in enumerate(verdicts) if ok] == [0, 25, 50]
    gate.saw(1)  # someone sits still in the room: back to the idle rate
    assert [gate.admit(STILL, 12 + i / 5) for i in range(6)] == [True] + [False] * 4 + [True]


def test_motion_analyses_every_frame_and_holds_the_rate_afterwards() -> None:
    gate = ActivityGate(GatingConfig(idle_fps=1.0, hold_s=1.0))
    walking = [moved(STILL, 20, at=100 * i) for i in range(5)]  # frames 3-7
    verdicts = admitted(gate, [STILL] * 3 + walking + [walking[-1]] * 12)
    assert all(verdicts[3:8]), "every moving frame"
    assert all(verdicts[8:13]), "held for 1 s after the last motion (t = 1.4 s)"
    assert verdicts[13:] == [False, False, False, False, True, False, False]
    assert all(verdicts[:3]), "a camera starts active (nothing to compare with yet)"


def test_noise_below_the_thresholds_does_not_count() -> None:
    gate = ActivityGate(GatingConfig(hold_s=0.0))
    rng = np.random.default_rng(0)
    noisy = [np.clip(STILL + rng.integers(-8, 9, STILL.shape), 0, 255).astype(np.uint8)]
    few = [moved(STILL, 5)]  # 5 of 4800 pixels: under the 0.2 % share
    verdicts = admitted(gate, [STILL] + noisy * 4 + few * 4)
    assert sum(verdicts) == 2  # the first frame and the 1 s idle frame


def test_slow_change_adds_up_against_the_last_analysed_frame() -> None:
    gate = ActivityGate(GatingConfig(idle_fps=0.5, hold_s=0.0, pixel_delta=20))
    ramp = [np.full((60, 80), 90 + 6 * i, np.uint8) for i in range(6)]  # 6 levels a frame
    verdicts = admitted(gate, ramp)
    assert verdicts == [True, False, False, False, True, False]  # 24 levels > 20 at frame 4


def test_off_admits_everything_and_time_going_back_restarts() -> None:
    off = ActivityGate(GatingConfig(enabled=False))
    assert all(admitted(off, [STILL] * 10))
    gate = ActivityGate(GatingConfig(hold_s=0.0))
    assert gate.admit(STILL, 10.0) and not gate.admit(STILL, 10.2)
    assert gate.admit(STILL, 0.0), "a file camera that started again"


def test_settings_are_checked_and_on_by_default() -> None:
    assert CameraConfig(id="c", source="x.mp4").gating.enabled
    for bad in ({"idle_fps": 0}, {"empty_fps": 0}, {"pixel_delta": 300}, {"speed": 1}):
        with pytest.raises(ValidationError):
            GatingConfig.model_validate(bad)


def silhouette(poses: Poses, size: tuple[int, int]) -> np.ndarray:
    """A motion thumbnail of the scene: the people's boxes, filled, on a grey floor."""
    w, h = size
    thumb = np.full((h // 8, w // 8), 90, np.uint8)
    for x1, y1, x2, y2 in poses.xyxy / 8:
        cv2.rectangle(thumb, (int(x1), int(y1)), (int(x2), int(y2)), 200, -1)
    return thumb


@pytest.mark.parametrize("before_s", [8.0, 20.0])
def test_a_fall_from_stillness_is_found_with_gating_on(before_s: float) -> None:
    """Someone standing still for a long while (analysed once a second), then falling: the
    fall moves pixels, so the frames of the fall are analysed at the full rate and it alerts."""
    camera = sk.Camera(fps=5)
    person = sk.fall("right", before_s=before_s)
    gate = ActivityGate(GatingConfig())
    analyzer = Analyzer(
        "cam", PoseTracker("cam", TrackerConfig()), [FallDetector(FallConfig())], 0.0
    )
    events, analysed_still = [], 0
    for i, (t, poses) in enumerate(sk.render([person], camera)):
        thumb = silhouette(poses, camera.frame_size)
        if not gate.admit(thumb, t):
            continue
        analysed_still += t < before_s
        step = analyzer.step(Perception("cam", i, t, camera.frame_size, poses, thumb))
        gate.saw(len(step.poses))
        events += step.events
    assert [e.kind for e in events] == ["fall"]
    assert events[0].detected_at >= before_s
    assert analysed_still <= before_s * 1.0 + 4 * camera.fps  # idle once the hold ran out


@pytest.mark.parametrize("direction", ["right", "left"])
def test_a_fall_from_stillness_stays_inside_the_region_the_model_sees(direction: str) -> None:
    """Gating and regions on together: someone standing still for 8 s in a large room (a person
    of 110 px in 1280x960), then falling. The model is asked only about the region
    `RegionPlanner` picks (people outside it are not found), and the fall is still found: the
    falling person never leaves the widened box of where they stood, and most frames of the fall
    cost a crop, not the whole frame."""
    camera = sk.Camera(fps=5, frame_size=(1280, 960), body_height_px=110.0, floor_y_px=700.0)
    person = sk.fall(direction, before_s=8.0)
    gate = ActivityGate(GatingConfig())
    planner = RegionPlanner(RegionConfig())
    analyzer = Analyzer(
        "cam", PoseTracker("cam", TrackerConfig()), [FallDetector(FallConfig())], 0.0
    )
    events, falling, cropped, lost = [], 0, 0, 0
    for i, (t, poses) in enumerate(sk.render([person], camera)):
        thumb = silhouette(poses, camera.frame_size)
        if not gate.admit(thumb, t):
            continue
        region = planner.plan(camera.frame_size[::-1], thumb, t)
        falling += t >= 8.0
        seen = poses
        if region is not None:
            cropped += t >= 8.0
            inside = (
                (poses.xyxy[:, 0] >= region.x0)
                & (poses.xyxy[:, 1] >= region.y0)
                & (poses.xyxy[:, 2] <= region.x1)
                & (poses.xyxy[:, 3] <= region.y1)
            )
            lost += int((~inside).sum())
            seen = poses[inside]
        planner.saw(seen.xyxy)
        step = analyzer.step(Perception("cam", i, t, camera.frame_size, seen, thumb))
        gate.saw(len(step.poses))
        events += step.events
    assert lost == 0
    assert [e.kind for e in events] == ["fall"]
    assert cropped >= 0.6 * falling
    share = planner.pixels_share()
    assert share is not None and share < 0.5
