"""Multi-person tracking: stable ids for the people the pose model finds, with their history.

Association comes from Roboflow's `trackers` library: OC-SORT by default (Kalman-filtered boxes
with observation-centric re-update and direction consistency, which holds a person's id through
the sudden, non-linear box change of a fall even at 5 analysed frames a second), or ByteTrack.
`scripts/compare_trackers.py` measured the choice on real falls (docs/TRACKING.md). This module
only links the library's ids back to the keypoints and keeps each person's bounded history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker, OCSORTTracker

from vision.config import TrackerConfig
from vision.types import Poses, Track, TrackPoint

_ROW = "row"
"""Key under which each detection carries its row in `Poses` through the tracker."""


@dataclass(frozen=True)
class Tracked:
    """What one tracker update produced.

    `poses` are this frame's people with `track_id` set (-1 for a detection that has no track
    yet); `tracks` are every live track, also those not seen in this frame; `ended` are the ids
    forgotten at this update.
    """

    poses: Poses
    tracks: tuple[Track, ...]
    ended: tuple[int, ...]


class PoseTracker:
    """Assigns track ids to `Poses` and keeps each track's history (one camera)."""

    def __init__(self, camera_id: str, cfg: TrackerConfig) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        common: dict[str, Any] = {
            # `trackers` counts the lost-track buffer in 30 fps frames and, given timestamps,
            # turns it into seconds: buffer / 30.
            "lost_track_buffer": max(1, round(cfg.lost_track_s * 30)),
            "minimum_consecutive_frames": cfg.minimum_consecutive_frames,
            "minimum_iou_threshold": cfg.minimum_iou_threshold,
            "high_conf_det_threshold": cfg.high_conf_det_threshold,
        }
        self._tracker: OCSORTTracker | ByteTrackTracker = (
            OCSORTTracker(**common)
            if cfg.type == "ocsort"
            else ByteTrackTracker(
                track_activation_threshold=cfg.track_activation_threshold, **common
            )
        )
        self.tracks: dict[int, Track] = {}

    def update(self, poses: Poses, t: float, frame_index: int = 0) -> Tracked:
        """Match `poses` (seen at time `t`, seconds) to tracks; returns them with ids."""
        detections = sv.Detections(
            xyxy=poses.xyxy.astype(np.float32),
            confidence=poses.score.astype(np.float32),
            class_id=np.zeros(len(poses), dtype=int),
            data={_ROW: np.arange(len(poses))},
        )
        result = self._tracker.update(detections, timestamp=t)
        track_id = np.full(len(poses), -1, dtype=np.int64)
        if len(result):
            rows = np.asarray(result.data[_ROW], dtype=np.int64)
            track_id[rows] = np.asarray(result.tracker_id, dtype=np.int64)
        tracked = poses.with_track_ids(track_id)

        for i in np.flatnonzero(track_id >= 0):
            tid = int(track_id[i])
            track = self.tracks.get(tid)
            if track is None:
                track = self.tracks[tid] = Track(tid, self.camera_id, self.cfg.history_len)
            track.history.append(
                TrackPoint(
                    timestamp=t,
                    frame_index=frame_index,
                    xyxy=tracked.xyxy[i].copy(),
                    score=float(tracked.score[i]),
                    keypoints=tracked.keypoints[i].copy(),
                    keypoint_score=tracked.keypoint_score[i].copy(),
                )
            )
        ended = tuple(
            tid for tid, tr in self.tracks.items() if t - tr.last_seen > self.cfg.lost_track_s
        )
        for tid in ended:
            del self.tracks[tid]
        return Tracked(tracked, tuple(self.tracks.values()), ended)
