"""The pure per-frame step of one camera: frame -> poses -> tracks -> behaviour events.

Two stages, so the expensive one can be cached: *perception* (the pose model and a motion
thumbnail, per frame, no state) and *analysis* (`Analyzer`: tracking and the behaviour detectors,
stateful per camera). A live camera runs both through `Pipeline.step(frame)`; the evaluation
harness replays cached perception into an `Analyzer` and gets the same events.

No threads and no I/O here (the runner owns those), so a file, a live camera and a test feed the
same code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vision.behaviours.base import BehaviourDetector
from vision.motion import MOTION_SCALE, difference, thumbnail
from vision.privacy import PrivacyMask, apply_masks
from vision.regions import Region, RegionConfig, RegionPlanner
from vision.tracking import PoseTracker
from vision.types import BehaviourEvent, Frame, Image, Poses, Scene, Track

LIVE_CLOCK_AFTER = 1e9
"""Timestamps above this are epoch seconds (live cameras); below, positions in a file."""


class Estimator(Protocol):
    """The one small protocol every pose model implements (ONNX, replayed keypoints, fakes)."""

    model_version: str

    def infer(self, frame: Frame) -> Poses: ...


@runtime_checkable
class RegionEstimator(Estimator, Protocol):
    """An estimator that can also look at part of a frame only (`vision.regions`)."""

    def infer_region(self, frame: Frame, region: Region) -> Poses: ...


@dataclass(frozen=True)
class Perception:
    """What the per-frame, stateless stage saw: everyone's pose and a motion thumbnail."""

    camera_id: str
    frame_index: int
    timestamp: float
    frame_size: tuple[int, int]
    poses: Poses
    thumb: Image


@dataclass(frozen=True)
class StepResult:
    """Everything one analysed frame produced; `timings_s` holds seconds per stage.

    `frame` is None when the step was replayed from cached perception (no image).
    `wall_time` is the frame's time on the wall clock (epoch seconds; file positions are
    anchored to when the analyzer started), what alerts and time-of-day windows use.
    """

    frame: Frame | None
    poses: Poses
    tracks: tuple[Track, ...]
    ended_track_ids: tuple[int, ...]
    events: tuple[BehaviourEvent, ...] = ()
    timings_s: dict[str, float] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def clock_offset(self) -> float:
        """Add to a camera-clock time (e.g. an event's `detected_at`) to get wall-clock time."""
        return self.wall_time - (self.frame.timestamp if self.frame is not None else self.wall_time)


class Analyzer:
    """Tracking and behaviour detection for one camera; `step(perception)` per analysed frame.

    `wall_start` anchors file positions to the wall clock for time-of-day zone windows
    (default: when the analyzer was made); live cameras' timestamps already are epoch seconds.

    `reconfigure(detectors)` swaps the detectors while the camera runs (new thresholds or
    zones from the admin API), safely from another thread.
    """

    def __init__(
        self,
        camera_id: str,
        tracker: PoseTracker,
        detectors: Sequence[BehaviourDetector] = (),
        wall_start: float | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.tracker = tracker
        self.detectors = list(detectors)
        self.wall_start = time.time() if wall_start is None else wall_start
        self._previous_thumb: Image | None = None
        self._detectors_lock = threading.Lock()

    def reconfigure(self, detectors: Sequence[BehaviourDetector]) -> None:
        """Use `detectors` from the next analysed frame on, without a restart.

        Tracks (ids and history) are kept; the new detectors start without per-track state, so
        an episode being confirmed (someone down for 2 of 5 s) starts over under the new
        thresholds. Thread-safe: a `step` running in another thread finishes with the old
        detectors, and this returns only after it has, so every step after the call uses the
        new ones.
        """
        replacement = list(detectors)
        with self._detectors_lock:
            self.detectors = replacement

    def step(self, seen: Perception, frame: Frame | None = None) -> StepResult:
        if seen.camera_id != self.camera_id:
            raise ValueError(f"frame of camera {seen.camera_id} given to {self.camera_id}")
        t0 = time.perf_counter()
        tracked = self.tracker.update(seen.poses, seen.timestamp, seen.frame_index)
        t1 = time.perf_counter()
        wall = seen.timestamp
        if wall < LIVE_CLOCK_AFTER:
            wall += self.wall_start
        scene = Scene(
            camera_id=self.camera_id,
            frame_index=seen.frame_index,
            timestamp=seen.timestamp,
            wall_time=wall,
            frame_size=seen.frame_size,
            tracks=tracked.tracks,
            ended_track_ids=tracked.ended,
            motion=difference(self._previous_thumb, seen.thumb),
            motion_scale=float(MOTION_SCALE),
        )
        self._previous_thumb = seen.thumb
        events: list[BehaviourEvent] = []
        with self._detectors_lock:
            for detector in self.detectors:
                events.extend(detector.update(scene))
        t2 = time.perf_counter()
        return StepResult(
            frame=frame,
            poses=tracked.poses,
            tracks=tracked.tracks,
            ended_track_ids=tracked.ended,
            events=tuple(events),
            timings_s={"tracking": t1 - t0, "behaviours": t2 - t1},
            wall_time=wall,
        )


def perceive(
    frame: Frame, estimator: Estimator, thumb: Image | None = None, region: Region | None = None
) -> Perception:
    """The stateless stage: run the pose model (on `region` of the frame when given and the
    estimator can) and make the motion thumbnail (unless given)."""
    if region is not None and isinstance(estimator, RegionEstimator):
        poses = estimator.infer_region(frame, region)
    else:
        poses = estimator.infer(frame)
    return Perception(
        camera_id=frame.camera_id,
        frame_index=frame.index,
        timestamp=frame.timestamp,
        frame_size=frame.size,
        poses=poses,
        thumb=thumbnail(frame.image) if thumb is None else thumb,
    )


class Pipeline:
    """`step(frame)`: the pose model, then tracking and behaviours, for one camera.

    `hidden` are privacy masks with `detect: false`: blacked out before the model sees the frame,
    so nothing downstream (model, alerts, live view) ever has those pixels. `regions`: let the
    model look only where there is motion or people (`vision.regions`; None: whole frames).
    """

    def __init__(
        self,
        camera_id: str,
        estimator: Estimator,
        analyzer: Analyzer,
        hidden: tuple[PrivacyMask, ...] = (),
        regions: RegionConfig | None = None,
    ) -> None:
        if analyzer.camera_id != camera_id:
            raise ValueError(f"analyzer of camera {analyzer.camera_id} given to {camera_id}")
        self.camera_id = camera_id
        self.estimator = estimator
        self.analyzer = analyzer
        self.hidden: tuple[PrivacyMask, ...] = ()
        self.hide(hidden)
        self.regions = RegionPlanner(regions) if regions is not None else None

    def hide(self, masks: tuple[PrivacyMask, ...]) -> None:
        """Use `masks` from the next frame on: those with `detect: false` are blacked out
        before the model sees the frame."""
        self.hidden = tuple(m for m in masks if not m.detect)

    def step(self, frame: Frame, thumb: Image | None = None) -> StepResult:
        """`thumb`: the frame's motion thumbnail when the caller made it already."""
        if self.hidden:
            frame = Frame(
                frame.camera_id,
                frame.index,
                frame.timestamp,
                apply_masks(frame.image, self.hidden, detection_only=True),
            )
            thumb = None  # the hidden areas' motion is not the detectors' business either
        t0 = time.perf_counter()
        if thumb is None:
            thumb = thumbnail(frame.image)
        region = None
        if self.regions is not None:
            region = self.regions.plan(frame.image.shape[:2], thumb, frame.timestamp)
        seen = perceive(frame, self.estimator, thumb, region)
        t1 = time.perf_counter()
        result = self.analyzer.step(seen, frame)
        result.timings_s["pose"] = t1 - t0
        if self.regions is not None:
            self.regions.saw(seen.poses.xyxy)  # the model's own boxes: a replay can repeat it
        return result
