"""Training windows for a learned classifier, made by the detectors' own code.

A *sample* is one clip's perception (per frame: timestamp, poses, motion thumbnail) with a
clip-level label: whether it holds the behaviour. Samples come from three places, all turned into
the same `Sample`:

- clips of a labels.csv (the evaluation harness's cached perception; `sources.labelled_samples`),
- the procedural generator (`models.behaviour.generator`; `sources.generated_samples`),
- the station's own alerts that staff resolved as a real incident or a false alarm, from the
  skeletons stored beside each alert clip (`api.training.station`).

`windows_of(sample)` replays a sample through a fresh tracker and the behaviour's detector with
a `RecordingScorer` in the place of the classifier, at the camera's analysis rate: what the
detector would have asked the classifier at run time is exactly what it is trained on.

Augmentation (`augmented`) makes more of each real clip the way cameras differ: mirrored,
slightly rotated and scaled about the frame centre, keypoints dropped at random, played 20 %
faster or slower, started at another analysed frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from api.config import AppConfig
from vision.behaviours.base import BehaviourDetector
from vision.behaviours.fall import FALL_FEATURES, FALL_STEP_S, FALL_STEPS, FallDetector
from vision.behaviours.fight import FIGHT_FEATURES, FIGHT_STEP_S, FIGHT_STEPS, FightDetector
from vision.behaviours.sequence import RecordingScorer
from vision.config import CameraConfig
from vision.pipeline import Analyzer, Perception
from vision.tracking import PoseTracker
from vision.types import FloatArray, Image, Poses

FLIP = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
"""COCO-17 joint order after a left-right mirror."""


@dataclass(frozen=True)
class Sample:
    """One clip's perception and whether it holds the behaviour (`positive`).

    `weight` scales its say in training (a station's own resolved alerts count more).
    """

    name: str
    positive: bool
    fps: float
    frame_size: tuple[int, int]
    timestamps: npt.NDArray[np.float64]
    poses: tuple[Poses, ...]
    thumbs: np.ndarray
    source: str
    weight: float = 1.0

    def perceptions(self, camera_id: str, analysis_fps: float | None) -> Iterator[Perception]:
        next_t = -math.inf
        for i, t in enumerate(self.timestamps):
            if analysis_fps and t < next_t - 1e-3:
                continue
            next_t = float(t) + (1.0 / analysis_fps if analysis_fps else 0.0)
            yield Perception(
                camera_id=camera_id,
                frame_index=i,
                timestamp=float(t),
                frame_size=self.frame_size,
                poses=self.poses[i],
                thumb=self.thumbs[i],
            )


SPECS: dict[str, tuple[tuple[str, ...], int, float]] = {
    "fall": (FALL_FEATURES, FALL_STEPS, FALL_STEP_S),
    "fight": (FIGHT_FEATURES, FIGHT_STEPS, FIGHT_STEP_S),
}
"""Per behaviour with a classifier: the step features, steps per window and step length."""


def recording_detector(
    behaviour: str, camera: CameraConfig
) -> tuple[BehaviourDetector, RecordingScorer]:
    """The behaviour's detector with a recording scorer, configured as `camera` has it."""
    if behaviour not in SPECS:
        raise ValueError(f"no learned classifier for {behaviour!r} (there are: fall, fight)")
    recorder = RecordingScorer(behaviour, *SPECS[behaviour])
    section = getattr(camera.behaviours, behaviour)
    cfg = section.model_copy(update={"model": section.model.model_copy(update={"enabled": True})})
    if behaviour == "fall":
        return FallDetector(cfg, camera.zones, recorder), recorder
    return FightDetector(cfg, camera.zones, recorder), recorder


def windows_of(
    sample: Sample, behaviour: str, camera: CameraConfig, config: AppConfig
) -> FloatArray:
    """Every window the detector would have scored on `sample`, `(n, steps, channels)`."""
    detector, recorder = recording_detector(behaviour, camera)
    analyzer = Analyzer(camera.id, PoseTracker(camera.id, config.tracker), [detector])
    for seen in sample.perceptions(camera.id, camera.analysis_fps):
        analyzer.step(seen)
    return recorder.take()


# --------------------------------------------------------------------------- augmentation


def _mirror_poses(poses: Poses, width: int) -> Poses:
    xyxy = poses.xyxy.copy()
    xyxy[:, [0, 2]] = width - poses.xyxy[:, [2, 0]]
    kp = poses.keypoints[:, FLIP].copy()
    kp[..., 0] = width - kp[..., 0]
    return replace(poses, xyxy=xyxy, keypoints=kp, keypoint_score=poses.keypoint_score[:, FLIP])


def _warp_poses(poses: Poses, size: tuple[int, int], angle_deg: float, scale: float) -> Poses:
    """Rotate and scale about the frame centre; boxes are the warped corners' bounding boxes."""
    if len(poses) == 0:
        return poses
    cx, cy = size[0] / 2, size[1] / 2
    a = math.radians(angle_deg)
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)

    def warp(points: FloatArray) -> FloatArray:
        return np.asarray((points - (cx, cy)) @ rot.T + (cx, cy), np.float32)

    kp = warp(poses.keypoints.reshape(-1, 2)).reshape(poses.keypoints.shape)
    x1, y1, x2, y2 = poses.xyxy.T
    corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x1, y2], 1),
                        np.stack([x2, y2], 1)], 1)  # fmt: skip
    warped = warp(corners.reshape(-1, 2)).reshape(corners.shape)
    xyxy = np.concatenate([warped.min(axis=1), warped.max(axis=1)], axis=1).astype(np.float32)
    return replace(poses, xyxy=xyxy, keypoints=kp)


def _drop_joints(poses: Poses, rng: np.random.Generator, share: float) -> Poses:
    if len(poses) == 0 or share <= 0:
        return poses
    drop = rng.random(poses.keypoint_score.shape) < share
    kp = poses.keypoints.copy()
    kp[drop] = np.nan
    return replace(poses, keypoints=kp, keypoint_score=np.where(drop, 0.0, poses.keypoint_score))


def augmented(sample: Sample, rng: np.random.Generator, copy: int) -> Sample:
    """One randomly varied copy of `sample` (see the module docstring)."""
    width, _ = sample.frame_size
    mirror = bool(rng.random() < 0.5)
    angle = float(rng.uniform(-6, 6))
    scale = float(rng.uniform(0.85, 1.15))
    drop = float(rng.uniform(0.0, 0.1))
    speed = float(rng.uniform(0.8, 1.25))
    skip = int(rng.integers(0, 3))
    poses = []
    for p in sample.poses:
        q = _mirror_poses(p, width) if mirror else p
        poses.append(_drop_joints(_warp_poses(q, sample.frame_size, angle, scale), rng, drop))
    thumbs: Image = sample.thumbs[:, :, ::-1] if mirror else sample.thumbs
    start = min(skip, max(len(poses) - 2, 0))
    times = (sample.timestamps[start:] - sample.timestamps[start]) / speed
    return replace(
        sample,
        name=f"{sample.name}~{copy}",
        timestamps=times,
        poses=tuple(poses[start:]),
        thumbs=np.ascontiguousarray(thumbs[start:]),
    )


# --------------------------------------------------------------------------- data set


@dataclass(frozen=True)
class WindowSet:
    """Training windows with the clip (bag) each came from; what the trainer reads."""

    windows: FloatArray
    bag: np.ndarray
    bag_label: np.ndarray
    bag_weight: np.ndarray
    bag_names: tuple[str, ...]

    def save(self, path: str) -> None:
        np.savez_compressed(
            path,
            windows=self.windows,
            bag=self.bag,
            bag_label=self.bag_label,
            bag_weight=self.bag_weight,
        )


@dataclass(frozen=True)
class Bag:
    """One sample's windows and its label: what multiple-instance training learns from."""

    name: str
    windows: FloatArray
    label: float
    weight: float


def variants(sample: Sample, rng: np.random.Generator, copies: int) -> list[Sample]:
    """`sample` and `copies` augmented copies of it; generated clips vary by construction and
    get none (so a model trained on generated data alone does not depend on `copies`)."""
    n = 0 if sample.source.startswith("generated") else copies
    return [sample, *(augmented(sample, rng, k) for k in range(1, n + 1))]


def bag_of(sample: Sample, behaviour: str, camera: CameraConfig, config: AppConfig) -> Bag:
    windows = windows_of(sample, behaviour, camera, config)
    return Bag(sample.name, windows, 1.0 if sample.positive else 0.0, sample.weight)


def collect(bags: Iterable[Bag], behaviour: str) -> WindowSet:
    """The bags as one window set; a bag with no window (nobody judged) still counts for nothing
    but is listed, so positives the detector cannot see are visible in the figures."""
    listed = list(bags)
    features, steps, _ = SPECS[behaviour]
    empty = np.zeros((0, steps, len(features) + 1), np.float32)
    return WindowSet(
        windows=np.concatenate([empty, *(b.windows for b in listed)]),
        bag=np.concatenate(
            [np.zeros(0, np.int64), *(np.full(len(b.windows), i) for i, b in enumerate(listed))]
        ).astype(np.int64),
        bag_label=np.array([b.label for b in listed], np.float32),
        bag_weight=np.array([b.weight for b in listed], np.float32),
        bag_names=tuple(b.name for b in listed),
    )


def window_set(
    samples: Iterable[Sample],
    behaviour: str,
    camera: CameraConfig,
    config: AppConfig,
    *,
    copies: int = 0,
    seed: int = 0,
) -> WindowSet:
    """Windows of every sample and of `copies` augmented copies of each real one."""
    rng = np.random.default_rng(seed)
    return collect(
        (
            bag_of(v, behaviour, camera, config)
            for sample in samples
            for v in variants(sample, rng, copies)
        ),
        behaviour,
    )
