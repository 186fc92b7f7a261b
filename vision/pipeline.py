"""The pure per-frame step of one camera: frame -> poses -> tracks.

No threads and no I/O here (the runner owns those), so a file, a live camera and a test feed the
same code. Behaviour detectors plug in after the tracker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from vision.tracking import PoseTracker
from vision.types import Frame, Poses, Track


class Estimator(Protocol):
    """What the pipeline needs of a pose model (see `models.protocol.PoseEstimator`)."""

    model_version: str

    def infer(self, frame: Frame) -> Poses: ...


@dataclass(frozen=True)
class StepResult:
    """Everything one analysed frame produced; `timings_s` holds seconds per stage."""

    frame: Frame
    poses: Poses
    tracks: tuple[Track, ...]
    ended_track_ids: tuple[int, ...]
    timings_s: dict[str, float] = field(default_factory=dict)


class Pipeline:
    """`step(frame)` runs the pose model and the tracker on one frame of one camera."""

    def __init__(self, camera_id: str, estimator: Estimator, tracker: PoseTracker) -> None:
        self.camera_id = camera_id
        self.estimator = estimator
        self.tracker = tracker

    def step(self, frame: Frame) -> StepResult:
        if frame.camera_id != self.camera_id:
            raise ValueError(f"frame of camera {frame.camera_id} given to {self.camera_id}")
        t0 = time.perf_counter()
        poses = self.estimator.infer(frame)
        t1 = time.perf_counter()
        tracked = self.tracker.update(poses, frame.timestamp, frame.index)
        t2 = time.perf_counter()
        return StepResult(
            frame=frame,
            poses=tracked.poses,
            tracks=tracked.tracks,
            ended_track_ids=tracked.ended,
            timings_s={"pose": t1 - t0, "tracking": t2 - t1},
        )
