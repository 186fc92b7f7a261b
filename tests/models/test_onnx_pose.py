"""The ONNX estimator against Ultralytics' own predictor on the .pt (the committed reference)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from models import onnx_pose
from models.acquire import resolve_onnx
from models.config import PoseModelConfig
from models.onnx_pose import OnnxPoseEstimator
from models.processing import crop_letterbox
from vision.regions import Region
from vision.types import Frame

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "ultralytics_pose_reference.json"
CASES = json.loads(REFERENCE.read_text())["results"]


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=lambda c: f"{c['photo']}@{c['input_size']}-{'fit' if c['fit_frame'] else 'square'}",
)
def test_matches_ultralytics_within_2px(case: dict[str, object], model_cache: Path) -> None:
    """Square input against Ultralytics' `rect=False`, fitted input against its `rect=True`."""
    size = int(case["input_size"])  # type: ignore[call-overload]
    cfg = PoseModelConfig(input_size=size, fit_frame=bool(case["fit_frame"]))
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    image = cv2.imread(str(model_cache / "assets" / str(case["photo"])))
    square = (size, size)
    assert (estimator.input_shape(image.shape[:2]) != square) == case["fit_frame"]
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


def test_a_fixed_size_export_is_always_fed_its_own_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fit_frame` needs dynamic axes: a static export (here a session reporting a fixed
    256x256 input, as ONNX Runtime does for one) keeps its square input."""

    class FixedSession:
        def __init__(self, *_: object, **__: object) -> None:
            pass

        def get_inputs(self) -> list[SimpleNamespace]:
            return [SimpleNamespace(name="images", shape=[1, 3, 256, 256])]

    monkeypatch.setattr(onnx_pose.ort, "InferenceSession", FixedSession)
    estimator = OnnxPoseEstimator(tmp_path / "fixed.onnx", PoseModelConfig(input_size=480))
    assert estimator.input_hw == (256, 256)
    assert not estimator.fits_frame
    assert estimator.input_shape((480, 640)) == (256, 256)


def test_a_dynamic_export_fits_each_frame(model_cache: Path) -> None:
    cfg = PoseModelConfig(input_size=480, fit_frame=True)
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    assert estimator.fits_frame
    tensor, _ = estimator.preprocess(np.zeros((720, 1280, 3), np.uint8))
    assert tensor.shape == (1, 3, 288, 480)
    off = OnnxPoseEstimator(
        resolve_onnx(cfg, model_cache), cfg.model_copy(update={"fit_frame": False})
    )
    assert off.preprocess(np.zeros((720, 1280, 3), np.uint8))[0].shape == (1, 3, 480, 480)


def test_a_region_finds_the_same_people_in_frame_pixels(model_cache: Path) -> None:
    """bus.jpg (810x1080): the model on a crop around the two people on the left, at the whole
    frame's scale, finds them where it finds them in the whole frame, for a third of the
    pixels."""
    cfg = PoseModelConfig(input_size=480)
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    image = cv2.imread(str(model_cache / "assets" / "bus.jpg"))
    frame = Frame("test", 0, 0.0, image)
    whole = estimator.infer(frame)
    left = whole[whole.xyxy[:, 2] < 380]
    assert len(left) == 2
    tensor, _ = crop_letterbox(image, (0, 350, 380, 950), 480)
    assert tensor.shape[:2] == (288, 192)  # the whole frame: 480x384
    part = estimator.infer_region(frame, Region(0, 350, 380, 950))
    assert len(part) == 2
    for box in left.xyxy:
        assert np.abs(part.xyxy - box).max(axis=1).min() <= 8


def test_unloadable_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load ONNX model"):
        OnnxPoseEstimator(bad, PoseModelConfig())
