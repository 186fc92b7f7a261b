from __future__ import annotations

import numpy as np
import pytest

from tests.builders import standing_poses
from vision.config import TrackerConfig
from vision.tracking import PoseTracker
from vision.types import Poses


def _run(frames: list[Poses], cfg: TrackerConfig | None = None, fps: float = 10.0) -> list[Poses]:
    tracker = PoseTracker("cam", cfg or TrackerConfig())
    return [tracker.update(p, i / fps, i).poses for i, p in enumerate(frames)]


TYPES = pytest.mark.parametrize("kind", ["ocsort", "bytetrack"])


@TYPES
def test_two_people_walking_past_each_other_keep_their_ids(kind: str) -> None:
    # A walks right, B walks left, on parallel lines a little apart (a corridor).
    frames = [
        standing_poses(
            [(10 + 12 * i, 100, 60 + 12 * i, 250), (400 - 12 * i, 120, 450 - 12 * i, 270)]
        )
        for i in range(30)
    ]
    out = _run(frames, TrackerConfig(type=kind))  # type: ignore[arg-type]
    first = out[2]
    assert first.track_id is not None
    a_id, b_id = (int(first.track_id[0]), int(first.track_id[1]))
    assert a_id >= 0 and b_id >= 0 and a_id != b_id
    for poses in out[2:]:
        assert poses.track_id is not None
        by_x = dict(zip(poses.track_id.tolist(), poses.xyxy[:, 1].tolist(), strict=True))
        assert by_x[a_id] == 100 and by_x[b_id] == 120  # each id stays on its own person


@TYPES
def test_keypoints_stay_with_their_id_when_detection_order_changes(kind: str) -> None:
    tracker = PoseTracker("cam", TrackerConfig(type=kind))  # type: ignore[arg-type]
    boxes = [(0, 0, 50, 150), (300, 0, 350, 150)]
    for i in range(5):
        tracker.update(standing_poses(boxes), i * 0.1, i)
    swapped = standing_poses(boxes[::-1])
    out = tracker.update(swapped, 0.5, 5)
    assert out.poses.track_id is not None
    for row in range(2):
        tid = int(out.poses.track_id[row])
        track = tracker.tracks[tid]
        np.testing.assert_array_equal(track.last.keypoints, swapped.keypoints[row])
        np.testing.assert_array_equal(track.last.xyxy, swapped.xyxy[row])


def test_history_is_bounded_and_ended_tracks_are_forgotten() -> None:
    cfg = TrackerConfig(history_len=5, lost_track_s=1.0)
    tracker = PoseTracker("cam", cfg)
    for i in range(12):
        result = tracker.update(standing_poses([(0, 0, 50, 150)]), i * 0.1, i)
    (track,) = result.tracks
    assert len(track.history) == 5
    assert track.last.frame_index == 11
    ended: tuple[int, ...] = ()
    t = 1.2
    while not ended and t < 5:
        result = tracker.update(Poses.empty(), t, 0)
        ended, t = result.ended, t + 0.1
    assert ended == (track.track_id,)
    assert tracker.tracks == {}
    assert 2.0 <= t <= 2.6  # forgotten about lost_track_s after the last sighting


@TYPES
@pytest.mark.parametrize("gap_s", [0.3, 1.5])
def test_short_gap_keeps_the_id(kind: str, gap_s: float) -> None:
    tracker = PoseTracker("cam", TrackerConfig(type=kind, lost_track_s=3.0))  # type: ignore[arg-type]
    for i in range(5):
        first = tracker.update(standing_poses([(0, 0, 50, 150)]), i * 0.1, i).poses
    assert first.track_id is not None
    again = tracker.update(standing_poses([(2, 0, 52, 150)]), 0.4 + gap_s, 6).poses
    assert again.track_id is not None and again.track_id.tolist() == first.track_id.tolist()
