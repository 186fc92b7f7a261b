"""The data that flows between CareWatch's stages.

    camera -> Frame -> pose model -> Poses -> tracker -> Tracks
           -> behaviour detectors -> BehaviourEvent

Only numpy is imported here, so every other package (models, alerts, api) can depend on these
types without pulling in OpenCV, ONNX Runtime or the web stack.

Coordinates are frame pixels, x to the right and y down. Missing keypoints are NaN, never (0, 0).
`Frame.timestamp` (seconds) is the only clock the logic reads: replaying a file and watching a live
camera behave the same, and tests never sleep.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
Image = npt.NDArray[np.uint8]

NUM_KEYPOINTS = 17
"""COCO-17 keypoints, the order every YOLO-pose model uses."""

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

SKELETON: tuple[tuple[int, int], ...] = (
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),  # arms and shoulders
    (5, 11), (6, 12), (11, 12),  # torso
    (11, 13), (13, 15), (12, 14), (14, 16),  # legs
    (0, 1), (0, 2), (1, 3), (2, 4),  # face
)  # fmt: skip
"""Pairs of keypoint indices joined when a skeleton is drawn."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded image from one camera.

    `image` is BGR uint8 of shape (h, w, 3). `index` counts decoded frames of the source (gaps mean
    dropped frames); `timestamp` is seconds from the stream (file position or wall clock for live
    sources).
    """

    camera_id: str
    index: int
    timestamp: float
    image: Image

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(
                f"Frame image must be uint8 (h, w, 3), got {self.image.dtype} {self.image.shape}"
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, eq=False)
class Poses:
    """Everyone found in one frame, as columns (in the manner of supervision's `Detections`).

    Shapes: `xyxy (n, 4)`, `score (n,)`, `keypoints (n, 17, 2)` with NaN for missing joints,
    `keypoint_score (n, 17)`, `track_id (n,)` or None before tracking. Boolean or integer indexing
    returns a new `Poses` with the same rows of every column::

        upright = poses[poses.score > 0.5]
    """

    xyxy: FloatArray
    score: FloatArray
    keypoints: FloatArray
    keypoint_score: FloatArray
    track_id: IntArray | None = None

    def __post_init__(self) -> None:
        n = self.xyxy.shape[0]
        checks = {
            "xyxy": (self.xyxy.shape, (n, 4)),
            "score": (self.score.shape, (n,)),
            "keypoints": (self.keypoints.shape, (n, NUM_KEYPOINTS, 2)),
            "keypoint_score": (self.keypoint_score.shape, (n, NUM_KEYPOINTS)),
        }
        if self.track_id is not None:
            checks["track_id"] = (self.track_id.shape, (n,))
        for name, (got, want) in checks.items():
            if got != want:
                raise ValueError(f"Poses.{name} must have shape {want}, got {got}")

    @classmethod
    def empty(cls) -> Poses:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            score=np.zeros((0,), np.float32),
            keypoints=np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            keypoint_score=np.zeros((0, NUM_KEYPOINTS), np.float32),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | slice) -> Poses:
        return Poses(
            xyxy=self.xyxy[index],
            score=self.score[index],
            keypoints=self.keypoints[index],
            keypoint_score=self.keypoint_score[index],
            track_id=None if self.track_id is None else self.track_id[index],
        )

    def with_track_ids(self, track_id: IntArray) -> Poses:
        return Poses(self.xyxy, self.score, self.keypoints, self.keypoint_score, track_id)


@dataclass(frozen=True)
class TrackPoint:
    """One observation of a tracked person: where they were at `timestamp`."""

    timestamp: float
    frame_index: int
    xyxy: FloatArray
    score: float
    keypoints: FloatArray
    keypoint_score: FloatArray


@dataclass(eq=False)
class Track:
    """One person's recent history on one camera, oldest first, bounded to `maxlen` points.

    The tracker owns and mutates it; stages after the tracker read it.
    """

    track_id: int
    camera_id: str
    maxlen: int = 150
    history: deque[TrackPoint] = field(init=False)

    def __post_init__(self) -> None:
        self.history = deque(maxlen=self.maxlen)

    @property
    def last(self) -> TrackPoint:
        return self.history[-1]

    @property
    def first_seen(self) -> float:
        return self.history[0].timestamp

    @property
    def last_seen(self) -> float:
        return self.history[-1].timestamp


@dataclass(frozen=True)
class BehaviourEvent:
    """Something a detector saw that people may need to know about.

    `evidence` explains the decision (features, thresholds in force, model version); no stage
    branches on it.
    """

    kind: str
    camera_id: str
    track_ids: tuple[int, ...]
    started_at: float
    detected_at: float
    confidence: float
    zone: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Scene:
    """What behaviour detectors see at one analysed frame of one camera.

    `tracks` are every live track (some not seen in this frame: check `Track.last_seen`);
    `ended_track_ids` were forgotten at this frame, so detectors drop their state for them.
    `motion` is the absolute difference of this and the previous analysed frame as a small grey
    image (`motion_scale` frame pixels per motion pixel), or None on the first frame: cheap image
    motion for rules that want it. `wall_time` is epoch seconds for time-of-day windows.
    """

    camera_id: str
    frame_index: int
    timestamp: float
    wall_time: float
    frame_size: tuple[int, int]
    tracks: tuple[Track, ...]
    ended_track_ids: tuple[int, ...] = ()
    motion: Image | None = None
    motion_scale: float = 8.0

    def seen_now(self) -> tuple[Track, ...]:
        """The tracks observed in this very frame."""
        return tuple(t for t in self.tracks if t.last_seen == self.timestamp)
