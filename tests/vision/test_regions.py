"""Where the pose model looks: motion boxes, the region planner, and the pipeline using it."""

from __future__ import annotations

import numpy as np
import pytest

from vision.motion import MOTION_SCALE
from vision.pipeline import Analyzer, Pipeline
from vision.regions import Region, RegionConfig, RegionPlanner, motion_box
from vision.tracking import PoseTracker, TrackerConfig
from vision.types import Frame, Poses

HW = (480, 640)
THUMB = (HW[0] // MOTION_SCALE, HW[1] // MOTION_SCALE)


def still() -> np.ndarray:
    return np.full(THUMB, 100, np.uint8)


def moved(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """A thumbnail where the block [y0:y1, x0:x1] (thumbnail pixels) changed."""
    thumb = still()
    thumb[y0:y1, x0:x1] = 200
    return thumb


def boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


def test_motion_box_ignores_lone_pixels_and_finds_moving_blocks() -> None:
    assert motion_box(None, still(), 14) is None
    noise = still()
    noise[5, 5] = 255
    noise[50, 70] = 0
    assert motion_box(still(), noise, 14) is None
    assert motion_box(still(), moved(10, 20, 14, 30), 14) == Region(80, 160, 112, 240)
    small_change = still() + 10
    assert motion_box(still(), small_change, 14) is None


@pytest.mark.parametrize(
    ("name", "cfg", "seen", "thumb", "t", "expected"),
    [
        # widened by the person's larger side (100 px) on every side, clipped to the frame
        ("person", {}, boxes((300, 200, 350, 300)), still(), 1.0, Region(200, 100, 450, 400)),
        ("person at the border", {}, boxes((0, 0, 40, 80)), still(), 1.0, Region(0, 0, 120, 160)),
        (
            "half margin",
            {"margin": 0.5},
            boxes((300, 200, 350, 300)),
            still(),
            1.0,
            Region(250, 150, 400, 350),
        ),
        # motion alone (someone the model has not found yet), 2 thumbnail pixels around it
        ("motion", {}, boxes(), moved(10, 20, 14, 30), 1.0, Region(64, 144, 128, 256)),
        # person and motion elsewhere: one region holding both
        (
            "both",
            {},
            boxes((300, 200, 350, 300)),
            moved(10, 20, 14, 30),
            1.0,
            Region(64, 100, 450, 400),
        ),
        ("nothing to look at", {}, boxes(), still(), 1.0, None),
        ("too much of the frame", {}, boxes((100, 50, 500, 450)), still(), 1.0, None),
        ("whole frame due", {}, boxes((300, 200, 350, 300)), still(), 2.0, None),
        ("file started again", {}, boxes((300, 200, 350, 300)), still(), -1.0, None),
        ("off", {"enabled": False}, boxes((300, 200, 350, 300)), still(), 1.0, None),
    ],
)
def test_planner_regions(
    name: str,
    cfg: dict[str, object],
    seen: np.ndarray,
    thumb: np.ndarray,
    t: float,
    expected: Region | None,
) -> None:
    planner = RegionPlanner(RegionConfig.model_validate(cfg))
    assert planner.plan(HW, still(), 0.0) is None  # the first frame is always whole
    planner.saw(seen)
    assert planner.plan(HW, thumb, t) == expected, name


def test_a_box_at_an_inner_edge_of_the_region_is_cut() -> None:
    region = Region(100, 50, 300, 250)
    inside = boxes((150, 100, 250, 200))
    assert not region.cuts(inside, HW)
    assert region.cuts(boxes((101, 100, 250, 200)), HW)  # the left edge, inside the frame
    assert region.cuts(boxes((150, 100, 250, 249)), HW)  # the bottom edge
    at_frame_border = Region(0, 0, 640, 250)
    assert not at_frame_border.cuts(boxes((0, 0, 50, 100), (600, 10, 640, 100)), HW)
    assert at_frame_border.cuts(boxes((0, 150, 50, 250)), HW)  # the bottom is inside the frame


def test_planner_reports_the_share_of_pixels_the_model_was_given() -> None:
    planner = RegionPlanner(RegionConfig())
    assert planner.pixels_share() is None
    planner.plan(HW, still(), 0.0)
    planner.saw(boxes((300, 200, 350, 300)))
    region = planner.plan(HW, still(), 0.2)
    assert region is not None
    assert planner.full == 1 and planner.cropped == 1
    assert planner.pixels_share() == pytest.approx((1 + region.share_of(HW)) / 2)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="max_share"):
        RegionConfig.model_validate({"max_share": 0})
    with pytest.raises(ValueError, match="full_frame_s"):
        RegionConfig.model_validate({"full_frame_s": -1})


class RegionRecorder:
    """A fake model that reports one person where it is told to look, and records it."""

    model_version = "fake@1"

    def __init__(self) -> None:
        self.asked: list[Region | None] = []

    def _person(self) -> Poses:
        return Poses(
            xyxy=np.array([[300, 200, 350, 300]], np.float32),
            score=np.array([0.9], np.float32),
            keypoints=np.full((1, 17, 2), np.nan, np.float32),
            keypoint_score=np.zeros((1, 17), np.float32),
        )

    def infer(self, frame: Frame) -> Poses:
        self.asked.append(None)
        return self._person()

    def infer_region(self, frame: Frame, region: Region) -> Poses:
        self.asked.append(region)
        return self._person()


def test_pipeline_asks_the_model_for_regions_after_the_first_frame() -> None:
    model = RegionRecorder()
    analyzer = Analyzer("cam", PoseTracker("cam", TrackerConfig()), [])
    pipeline = Pipeline("cam", model, analyzer, regions=RegionConfig())
    image = np.full((*HW, 3), 100, np.uint8)
    for i in range(12):  # 2.4 s at 5 fps
        pipeline.step(Frame("cam", i, i * 0.2, image))
    whole = [i for i, region in enumerate(model.asked) if region is None]
    assert whole == [0, 10]  # the first frame, then every full_frame_s (2 s)
    assert model.asked[1] == Region(200, 100, 450, 400)
    assert pipeline.regions is not None and pipeline.regions.cropped == 10


def test_pipeline_without_regions_gives_whole_frames() -> None:
    model = RegionRecorder()
    analyzer = Analyzer("cam", PoseTracker("cam", TrackerConfig()), [])
    pipeline = Pipeline("cam", model, analyzer)
    image = np.full((*HW, 3), 100, np.uint8)
    for i in range(3):
        pipeline.step(Frame("cam", i, i * 0.2, image))
    assert model.asked == [None, None, None]
