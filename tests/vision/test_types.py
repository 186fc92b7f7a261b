from __future__ import annotations

import numpy as np
import pytest

from tests.builders import standing_poses
from vision.types import Frame, Poses


def test_poses_index_every_column_together() -> None:
    poses = standing_poses([(0, 0, 10, 20), (50, 0, 60, 20), (100, 0, 110, 20)])
    poses = poses.with_track_ids(np.array([7, 8, 9]))
    picked = poses[poses.xyxy[:, 0] > 20]
    assert len(picked) == 2
    assert picked.track_id is not None and picked.track_id.tolist() == [8, 9]
    np.testing.assert_array_equal(picked.keypoints, poses.keypoints[1:])


@pytest.mark.parametrize(
    ("field", "shape"),
    [("xyxy", (2, 3)), ("score", (3,)), ("keypoints", (2, 17, 3)), ("keypoint_score", (2, 16))],
)
def test_poses_reject_wrong_shapes(field: str, shape: tuple[int, ...]) -> None:
    good = standing_poses([(0, 0, 10, 20), (50, 0, 60, 20)])
    columns = {
        "xyxy": good.xyxy,
        "score": good.score,
        "keypoints": good.keypoints,
        "keypoint_score": good.keypoint_score,
    }
    columns[field] = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=field):
        Poses(**columns)


def test_empty_poses() -> None:
    assert len(Poses.empty()) == 0


def test_frame_requires_bgr_uint8() -> None:
    with pytest.raises(ValueError, match="uint8"):
        Frame("cam", 0, 0.0, np.zeros((4, 4), np.uint8))
    frame = Frame("cam", 0, 0.0, np.zeros((4, 6, 3), np.uint8))
    assert frame.size == (6, 4)
