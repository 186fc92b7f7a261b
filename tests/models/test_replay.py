"""Replay of recorded keypoints: the UR Fall skeleton file as `Poses` per frame, with labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.replay import (
    FALLING,
    LYING,
    NOT_LYING,
    URFD_JOINTS,
    KeypointSequence,
    ReplayEstimator,
    box_from_keypoints,
    load_urfd,
    poses_from_keypoints,
)
from tests.conftest import SHARED_DATA
from vision.types import NUM_KEYPOINTS, Frame, Poses

HEADER = "video,frame," + ",".join(f"{n}_x,{n}_y,{n}_s" for n, _ in URFD_JOINTS) + ",label"


def row(video: str, frame: int, x: float, y: float, label: int, score: float = 0.9) -> str:
    joints = ",".join(f"{x},{y + 0.01 * i},{score}" for i in range(len(URFD_JOINTS)))
    return f"{video},{frame},{joints},{label}"


@pytest.fixture
def small_file(tmp_path: Path) -> tuple[Path, Path]:
    """Two sequences: 'a' with a gap at frame 4 and a repeated frame 5, 'b' with low scores."""
    lines = [
        HEADER,
        row("a", 2, 0.5, 0.2, 0),
        row("a", 3, 0.5, 0.3, 1),
        row("a", 5, 0.5, 0.6, 1),
        row("a", 5, 0.4, 0.6, 2),  # the same frame again with another label
        row("b", 1, 0.1, 0.1, 0, score=0.2),
        row("b", 2, 0.1, 0.1, 0),
    ]
    csv_path = tmp_path / "kp.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    official = tmp_path / "labels.csv"
    official.write_text("a,1,-1,0\na,2,-1,0\na,3,0,0\na,4,0,0\na,5,1,0\na,6,1,0\n")
    return csv_path, official


def test_frames_run_over_both_files_with_empty_gaps(small_file: tuple[Path, Path]) -> None:
    seqs = load_urfd(*small_file)
    a = seqs["a"]
    assert a.frame_numbers.tolist() == [1, 2, 3, 4, 5, 6]
    assert [len(p) for p in a.poses] == [0, 1, 1, 0, 1, 0]
    assert a.timestamps == pytest.approx(np.arange(6) / 30.0)
    assert len(a) == 6


def test_official_labels_win_over_the_keypoint_file(small_file: tuple[Path, Path]) -> None:
    a = load_urfd(*small_file)["a"]
    assert a.labels.tolist() == [NOT_LYING, NOT_LYING, FALLING, FALLING, LYING, LYING]
    assert a.first_time(FALLING) == pytest.approx(2 / 30)
    assert a.first_time(LYING) == pytest.approx(4 / 30)


def test_without_official_labels_a_repeated_frame_takes_the_larger_label(
    small_file: tuple[Path, Path],
) -> None:
    a = load_urfd(small_file[0])["a"]
    assert a.frame_numbers.tolist() == [2, 3, 4, 5]
    assert a.labels.tolist() == [NOT_LYING, FALLING, NOT_LYING, LYING]
    assert a.first_time(LYING) == pytest.approx(3 / 30)


def test_keypoints_are_pixels_in_coco_order_and_the_first_repeat_is_kept(
    small_file: tuple[Path, Path],
) -> None:
    a = load_urfd(*small_file)["a"]
    p = a.poses[4]  # frame 5: two rows, x 0.5 then 0.4
    kp = p.keypoints[0]
    assert kp[0] == pytest.approx((320.0, 0.6 * 480))
    assert kp[5] == pytest.approx((320.0, 0.61 * 480))  # LShoulder, the second joint
    assert np.isnan(kp[1:5]).all()  # eyes and ears are not in the file
    assert p.xyxy.shape == (1, 4) and p.score[0] == pytest.approx(0.9)


def test_low_scored_joints_are_missing_and_a_person_without_joints_is_dropped(
    small_file: tuple[Path, Path],
) -> None:
    b = load_urfd(*small_file)["b"]
    assert len(b.poses[0]) == 0
    assert len(b.poses[1]) == 1
    b_all = load_urfd(small_file[0], min_score=0.1)["b"]
    assert len(b_all.poses[0]) == 1


def test_box_surrounds_the_joints_with_a_margin() -> None:
    kp = np.full((NUM_KEYPOINTS, 2), np.nan, np.float32)
    kp[0], kp[15] = (100, 50), (120, 250)
    box = box_from_keypoints(kp, pad=0.1)
    assert box.tolist() == pytest.approx([80, 30, 140, 270])
    assert np.isnan(box_from_keypoints(np.full((NUM_KEYPOINTS, 2), np.nan, np.float32))).all()
    poses = poses_from_keypoints(kp[None], np.full((1, NUM_KEYPOINTS), 0.8, np.float32))
    assert isinstance(poses, Poses) and len(poses) == 1


def test_frames_at_an_analysis_rate_and_padding(small_file: tuple[Path, Path]) -> None:
    a = load_urfd(*small_file)["a"]
    assert [i for i, _, _ in a.frames(10.0)] == [0, 3]
    padded = a.padded(0.1, 0.1)
    assert len(padded) == len(a) + 6
    assert len(padded.poses[0]) == 1  # the first person found, held
    assert len(padded.poses[-1]) == 1
    assert padded.labels[:3].tolist() == [NOT_LYING] * 3
    assert padded.labels[-3:].tolist() == [LYING] * 3
    falling = a.first_time(FALLING)
    assert falling is not None
    assert padded.first_time(FALLING) == pytest.approx(falling + 0.1)


def test_replay_estimator_answers_by_frame_index(small_file: tuple[Path, Path]) -> None:
    a = load_urfd(*small_file)["a"]
    est = ReplayEstimator(a)
    image = np.zeros((480, 640, 3), np.uint8)
    assert est.model_version == "replay:a"
    assert len(est.infer(Frame("cam", 1, 0.0, image))) == 1
    assert len(est.infer(Frame("cam", 3, 0.0, image))) == 0
    assert len(est.infer(Frame("cam", 99, 0.0, image))) == 0


def test_the_real_urfd_file() -> None:
    path = SHARED_DATA / "skeleton" / "urfd_pose_13kp_3classes.csv"
    labels = SHARED_DATA / "skeleton" / "urfd_labels" / "urfall-cam0-falls.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data is for development only)")
    seqs = load_urfd(path, labels)
    assert len(seqs) == 30
    for seq in seqs.values():
        assert isinstance(seq, KeypointSequence)
        falling, lying = seq.first_time(FALLING), seq.first_time(LYING)
        assert falling is not None and lying is not None and falling < lying
        assert sum(len(p) for p in seq.poses) >= 40  # someone found in most recorded frames
    # fall-13: the keypoint file repeats frames 30-85 with conflicting labels; the official
    # file says falling from frame 44 and lying from 74.
    f13 = seqs["fall-13"]
    assert f13.first_time(FALLING) == pytest.approx(43 / 30)
    assert f13.first_time(LYING) == pytest.approx(73 / 30)
