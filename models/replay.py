"""Replay of recorded keypoint sequences as `Poses`, in place of running the pose model.

Real motion recorded by others (e.g. the UR Fall Detection skeletons: 30 falls, 13 joints
normalised to 640x480) lets the behaviour logic be tested on real falls without video. Each
sequence becomes one `Poses` per source frame (empty where nobody was recorded), with timestamps
from the frame rate and a per-frame ground-truth label::

    seqs = load_urfd(csv_path, official_labels=falls_csv)
    seq = seqs["fall-01"]
    for t, poses in seq.frames():
        ...

`ReplayEstimator` serves a sequence through the `vision.pipeline.Estimator` protocol, keyed by
frame index, so the full pipeline can run on it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.types import NUM_KEYPOINTS, FloatArray, Frame, Poses

NOT_LYING, FALLING, LYING = 0, 1, 2
"""Per-frame labels of a replayed sequence (the UR Fall keypoint file's classes)."""

URFD_JOINTS: tuple[tuple[str, int], ...] = (
    ("Nose", 0),
    ("LShoulder", 5),
    ("RShoulder", 6),
    ("LElbow", 7),
    ("RElbow", 8),
    ("LWrist", 9),
    ("RWrist", 10),
    ("LHip", 11),
    ("RHip", 12),
    ("LKnee", 13),
    ("RKnee", 14),
    ("LAnkle", 15),
    ("RAnkle", 16),
)
"""The UR Fall keypoint file's 13 joints (column prefix) and their COCO-17 index."""

_OFFICIAL_LABEL = {-1: NOT_LYING, 0: FALLING, 1: LYING}
"""UR Fall's official label files: -1 not lying, 0 falling, 1 lying."""


def box_from_keypoints(keypoints: FloatArray, pad: float = 0.1) -> FloatArray:
    """A person box `(4,)` around the visible joints of one pose `(17, 2)`.

    Joints stop at the nose and ankles, so the box is grown by `pad` of the joints' larger extent
    on every side (about where a detector puts the top of the head and the soles). NaN when no
    joint is visible.
    """
    ok = ~np.isnan(keypoints).any(axis=1)
    if not ok.any():
        return np.full(4, np.nan, np.float32)
    pts = keypoints[ok]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    margin = pad * float(max(hi - lo))
    return np.array([lo[0] - margin, lo[1] - margin, hi[0] + margin, hi[1] + margin], np.float32)


def poses_from_keypoints(
    keypoints: FloatArray, keypoint_score: FloatArray, min_score: float = 0.5
) -> Poses:
    """`Poses` of people `(n, 17, 2)` with joint scores `(n, 17)`: boxes and scores from joints.

    Joints scored below `min_score` become NaN, as the pose model's output does. A person with
    no joint left is dropped.
    """
    kp = np.array(keypoints, np.float32, copy=True)
    ks = np.asarray(keypoint_score, np.float32)
    kp[ks < min_score] = np.nan
    boxes = np.array([box_from_keypoints(p) for p in kp], np.float32).reshape(-1, 4)
    keep = ~np.isnan(boxes).any(axis=1)
    seen = ~np.isnan(kp[..., 0])
    mean_score = (ks * seen).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
    return Poses(
        xyxy=boxes[keep],
        score=mean_score[keep].astype(np.float32),
        keypoints=kp[keep],
        keypoint_score=ks[keep],
    )


@dataclass(frozen=True)
class KeypointSequence:
    """One recorded sequence: a `Poses` and a label per source frame, at a fixed frame rate.

    `frame_numbers` are the source's own numbers (UR Fall counts from 1); `timestamps` are
    seconds from the first frame; `labels` hold NOT_LYING, FALLING or LYING per frame.
    """

    name: str
    fps: float
    frame_size: tuple[int, int]
    frame_numbers: npt.NDArray[np.int64]
    poses: tuple[Poses, ...]
    labels: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.poses)

    @property
    def timestamps(self) -> npt.NDArray[np.float64]:
        offsets = (self.frame_numbers - self.frame_numbers[0]).astype(np.float64)
        return np.asarray(offsets / self.fps, np.float64)

    def frames(self, analysis_fps: float | None = None) -> Iterator[tuple[int, float, Poses]]:
        """(index, timestamp, poses) per frame, or per frame a camera at `analysis_fps` takes."""
        next_t = -np.inf
        for i, t in enumerate(self.timestamps):
            if analysis_fps is not None and t < next_t - 1e-3:
                continue
            next_t = float(t) + (1.0 / analysis_fps if analysis_fps else 0.0)
            yield i, float(t), self.poses[i]

    def padded(self, before_s: float, after_s: float) -> KeypointSequence:
        """The sequence with its first person held `before_s` longer and its last `after_s`.

        Recorded falls are cut tightly (some start 0.1 s before the fall and end 0.1 s after
        the body is down), while a camera watches the person stand before and lie after. The
        held frames keep their first and last label; the original frames keep their times
        relative to each other.
        """
        n_before = round(before_s * self.fps)
        n_after = round(after_s * self.fps)
        found = [p for p in self.poses if len(p)] or [Poses.empty()]
        first, last = int(self.frame_numbers[0]), int(self.frame_numbers[-1])
        numbers = np.arange(first - n_before, last + n_after + 1, dtype=np.int64)
        poses = (found[0],) * n_before + self.poses + (found[-1],) * n_after
        labels = np.concatenate(
            [
                np.full(n_before, self.labels[0], np.int64),
                self.labels,
                np.full(n_after, self.labels[-1], np.int64),
            ]
        )
        return KeypointSequence(self.name, self.fps, self.frame_size, numbers, poses, labels)

    def first_time(self, label: int) -> float | None:
        """When the first frame with `label` is, seconds; None if there is none."""
        hits = np.flatnonzero(self.labels == label)
        return float(self.timestamps[hits[0]]) if len(hits) else None


def _read_official(path: Path) -> dict[str, dict[int, int]]:
    labels: dict[str, dict[int, int]] = {}
    with path.open(newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 3 and row[0].strip():
                labels.setdefault(row[0].strip(), {})[int(row[1])] = _OFFICIAL_LABEL[int(row[2])]
    return labels


def load_urfd(
    path: Path,
    official_labels: Path | None = None,
    *,
    fps: float = 30.0,
    frame_size: tuple[int, int] = (640, 480),
    min_score: float = 0.5,
) -> dict[str, KeypointSequence]:
    """The UR Fall keypoint file (`video, frame, <joint>_x/_y/_s..., label`) as sequences.

    Coordinates are fractions of `frame_size` and become pixels. Frames run from the first to
    the last frame either file names; frames without keypoints are empty `Poses` (the person was
    not found). Some rows repeat a frame with another label: the first keypoints are kept, and
    the label comes from `official_labels` (the dataset's per-frame file) where it has the frame,
    else the largest label given.
    """
    w, h = frame_size
    scale = np.array([w, h], np.float32)
    kps: dict[str, dict[int, tuple[FloatArray, FloatArray]]] = {}
    file_labels: dict[str, dict[int, int]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            video, frame = row["video"], int(row["frame"])
            label = int(row["label"])
            seen = file_labels.setdefault(video, {})
            seen[frame] = max(label, seen.get(frame, label))
            if frame in kps.setdefault(video, {}):
                continue
            kp = np.full((NUM_KEYPOINTS, 2), np.nan, np.float32)
            ks = np.zeros(NUM_KEYPOINTS, np.float32)
            for name, idx in URFD_JOINTS:
                kp[idx] = (float(row[f"{name}_x"]), float(row[f"{name}_y"]))
                ks[idx] = float(row[f"{name}_s"])
            kps[video][frame] = (kp * scale, ks)
    official = _read_official(official_labels) if official_labels else {}

    sequences: dict[str, KeypointSequence] = {}
    for video, by_frame in kps.items():
        truth = official.get(video, {})
        numbers = [*by_frame, *truth]
        span = range(min(numbers), max(numbers) + 1)
        poses: list[Poses] = []
        labels = []
        for n in span:
            if n in by_frame:
                kp, ks = by_frame[n]
                poses.append(poses_from_keypoints(kp[None], ks[None], min_score))
            else:
                poses.append(Poses.empty())
            labels.append(truth.get(n, file_labels[video].get(n, NOT_LYING)))
        sequences[video] = KeypointSequence(
            name=video,
            fps=fps,
            frame_size=frame_size,
            frame_numbers=np.array(span, np.int64),
            poses=tuple(poses),
            labels=np.array(labels, np.int64),
        )
    return dict(sorted(sequences.items()))


class ReplayEstimator:
    """A `vision.pipeline.Estimator` giving a recorded sequence's poses for `frame.index`."""

    def __init__(self, sequence: KeypointSequence) -> None:
        self.sequence = sequence
        self.model_version = f"replay:{sequence.name}"

    def infer(self, frame: Frame) -> Poses:
        if 0 <= frame.index < len(self.sequence):
            return self.sequence.poses[frame.index]
        return Poses.empty()
