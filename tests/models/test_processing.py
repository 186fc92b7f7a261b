from __future__ import annotations

import numpy as np
import pytest

from models.processing import Letterbox, decode, letterbox, nms, to_input_tensor
from vision.types import NUM_KEYPOINTS


@pytest.mark.parametrize(
    ("hw", "size", "gain", "pad"),
    [
        ((480, 640), (640, 640), 1.0, (0, 80)),
        ((1080, 810), (640, 640), 640 / 1080, (80, 0)),
        ((240, 320), (480, 480), 1.5, (0, 60)),
    ],
)
def test_letterbox_centres_and_pads_with_grey(
    hw: tuple[int, int], size: tuple[int, int], gain: float, pad: tuple[int, int]
) -> None:
    image = np.full((*hw, 3), 7, np.uint8)
    out, lb = letterbox(image, size)
    assert out.shape == (*size, 3)
    assert (lb.pad_x, lb.pad_y) == pad
    assert lb.gain_x == pytest.approx(gain, rel=0.01)
    assert out[0, 0].tolist() == [114, 114, 114] or pad == (0, 0)
    assert out[size[0] // 2, size[1] // 2].tolist() == [7, 7, 7]


def test_input_tensor_is_rgb_chw_0_to_1() -> None:
    image = np.zeros((2, 3, 3), np.uint8)
    image[..., 0] = 255  # blue in BGR
    tensor = to_input_tensor(image)
    assert tensor.shape == (1, 3, 2, 3)
    assert tensor[0, 2].max() == 1.0 and tensor[0, 0].max() == 0.0


def test_nms_keeps_best_of_overlapping_boxes() -> None:
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    score = np.array([0.5, 0.9, 0.4], np.float32)
    assert nms(xyxy, score, 0.5).tolist() == [1, 2]
    assert nms(xyxy, score, 0.99).tolist() == [1, 0, 2]


def _raw(people: list[tuple[float, float, float, float, float]], kscore: float) -> np.ndarray:
    """Raw (56, N) output: boxes as cx, cy, w, h, score; every keypoint at the box centre."""
    cols = []
    for cx, cy, w, h, s in people:
        kp = np.tile([cx, cy, kscore], NUM_KEYPOINTS)
        cols.append(np.concatenate([[cx, cy, w, h, s], kp]))
    return np.array(cols, np.float32).T


def test_decode_maps_back_to_frame_pixels_and_filters() -> None:
    lb = Letterbox(gain_x=0.5, gain_y=0.5, pad_x=0, pad_y=40, frame_w=1280, frame_h=480)
    raw = _raw([(100, 140, 20, 40, 0.9), (300, 140, 20, 40, 0.1)], kscore=0.8)
    poses = decode(
        raw, lb, conf_threshold=0.25, iou_threshold=0.7, keypoint_min_score=0.5, max_people=10
    )
    assert len(poses) == 1
    np.testing.assert_allclose(poses.xyxy[0], [180, 160, 220, 240])
    np.testing.assert_allclose(poses.keypoints[0, 0], [200, 200])
    assert poses.score[0] == pytest.approx(0.9)


def test_decode_marks_low_score_keypoints_missing_not_zero() -> None:
    lb = Letterbox(1.0, 1.0, 0, 0, 640, 640)
    raw = _raw([(100, 100, 20, 40, 0.9)], kscore=0.2)
    poses = decode(
        raw, lb, conf_threshold=0.25, iou_threshold=0.7, keypoint_min_score=0.5, max_people=10
    )
    assert np.isnan(poses.keypoints).all()
    np.testing.assert_allclose(poses.keypoint_score, 0.2, rtol=1e-6)


def test_decode_rejects_non_pose_output() -> None:
    with pytest.raises(ValueError, match="pose model"):
        decode(
            np.zeros((84, 10), np.float32),
            Letterbox(1, 1, 0, 0, 10, 10),
            conf_threshold=0.25,
            iou_threshold=0.7,
            keypoint_min_score=0.5,
            max_people=10,
        )


def test_decode_of_nothing_is_empty() -> None:
    poses = decode(
        _raw([(1, 1, 1, 1, 0.01)], 0.9),
        Letterbox(1, 1, 0, 0, 10, 10),
        conf_threshold=0.25,
        iou_threshold=0.7,
        keypoint_min_score=0.5,
        max_people=10,
    )
    assert len(poses) == 0 and poses.keypoints.shape == (0, NUM_KEYPOINTS, 2)
