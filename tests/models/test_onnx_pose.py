"""The ONNX estimator against Ultralytics' own predictor on the .pt (the committed reference)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.acquire import resolve_onnx
from models.config import PoseModelConfig
from models.onnx_pose import OnnxPoseEstimator
from vision.types import Frame

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "ultralytics_pose_reference.json"
CASES = json.loads(REFERENCE.read_text())["results"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['photo']}@{c['input_size']}")
def test_matches_ultralytics_within_2px(case: dict[str, object], model_cache: Path) -> None:
    size = int(case["input_size"])  # type: ignore[call-overload]
    cfg = PoseModelConfig(input_size=size)
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    image = cv2.imread(str(model_cache / "assets" / str(case["photo"])))
    poses = estimator.infer(Frame("test", 0, 0.0, image))

    ref_xyxy = np.array(case["xyxy"])
    assert len(poses) == len(ref_xyxy), "not the same people as Ultralytics"
    for i, box in enumerate(ref_xyxy):
        j = int(np.argmin(np.abs(poses.xyxy - box).max(axis=1)))
        assert np.abs(poses.xyxy[j] - box).max() <= 2.0
        assert poses.score[j] == pytest.approx(case["score"][i], abs=0.01)  # type: ignore[index]
        visible = np.array(case["keypoint_score"][i]) >= 0.5  # type: ignore[index]
        ref_kp = np.array(case["keypoints"][i])[visible]  # type: ignore[index]
        got_kp = poses.keypoints[j][visible]
        assert not np.isnan(got_kp).any()
        assert np.abs(got_kp - ref_kp).max(initial=0.0) <= 2.0
        assert np.isnan(poses.keypoints[j][~visible]).all()


def test_threads_and_version_from_config(model_cache: Path) -> None:
    cfg = PoseModelConfig(input_size=320, threads=1)
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    assert estimator.input_hw == (320, 320)
    assert estimator.model_version == "yolo11n-pose-320@320"
    assert estimator.session.get_session_options().intra_op_num_threads == 1


def test_unloadable_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load ONNX model"):
        OnnxPoseEstimator(bad, PoseModelConfig())
