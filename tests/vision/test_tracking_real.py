"""Tracking on real footage: a real fall's actor keeps one id through it (skips without data)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from models.onnx_pose import OnnxPoseEstimator
from tests.conftest import SHARED_DATA, shared_clip
from vision.config import CameraConfig, TrackerConfig
from vision.sources import open_source
from vision.tracking import PoseTracker
from vision.types import Poses

CLIP = "upfall_A01_S1_T1_C2.mp4"  # forward fall onto a mattress; a seated second person


@pytest.fixture(scope="module")
def fall(estimator: OnnxPoseEstimator) -> tuple[list[tuple[float, Poses]], dict[str, str]]:
    path = shared_clip(CLIP)
    with (SHARED_DATA / "clips" / "labels.csv").open() as f:
        label = next(r for r in csv.DictReader(f) if r["file"] == CLIP)
    source = open_source(CameraConfig(id="t", source=str(path), realtime=False))
    frames = []
    while (item := source.read()) is not None:
        frames.append((item[1], estimator.infer_image(item[0])))
    source.close()
    return frames, label


@pytest.mark.parametrize("rate", [5.0, 9.0, 18.0])
def test_the_faller_keeps_one_id_through_the_fall(
    fall: tuple[list[tuple[float, Poses]], dict[str, str]], rate: float
) -> None:
    frames, label = fall
    start, end = int(label["event_start"]), int(label["event_end"])
    step = max(1, round(float(label["fps"]) / rate))
    tracker = PoseTracker("t", TrackerConfig())
    before: dict[int, float] = {}  # id -> box top before the fall
    after: dict[int, float] = {}  # id -> box top a second after landing
    after_box: dict[int, np.ndarray] = {}
    for i in range(0, len(frames), step):
        t, poses = frames[i]
        tracked = tracker.update(poses, t, i).poses
        assert tracked.track_id is not None
        for tid, box in zip(tracked.track_id.tolist(), tracked.xyxy, strict=True):
            if tid < 0:
                continue
            if i <= start - 3:
                before[tid] = float(box[1])
            elif i >= end + 18:
                after.setdefault(tid, float(box[1]))
                after_box.setdefault(tid, box)
    dropped = {tid: after[tid] - before[tid] for tid in before.keys() & after.keys()}
    fallers = [tid for tid, d in dropped.items() if d > 100]
    assert fallers, f"no id spans the fall with the body dropping: before {before}, after {after}"
    lying = after_box[fallers[0]]
    for tid in after.keys() - before.keys():  # ids born during the fall
        assert _iou(after_box[tid], lying) < 0.3, f"a second id {tid} on the lying person"


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union)
