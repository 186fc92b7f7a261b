"""Cached perception for evaluation: every frame's poses and motion thumbnail, per clip and model.

Running the pose model is the slow part of evaluating on footage (about 50 ms a frame here); the
rules after it take microseconds. So each clip's perception is computed once and kept in
`~/.cache/carewatch/eval/` keyed by the clip's content hash and the model file's hash; re-scoring
with other thresholds (`carewatch eval`, `carewatch tune`) then takes seconds. The cache holds
keypoints and 1/8-scale grey thumbnails, never full frames.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.acquire import cache_root
from models.onnx_pose import OnnxPoseEstimator
from vision.config import CameraConfig
from vision.motion import ActivityGate, GatingConfig, thumbnail
from vision.pipeline import Analyzer, Perception, StepResult
from vision.regions import RegionPlanner
from vision.sources import open_source
from vision.types import NUM_KEYPOINTS, Frame, Poses

log = logging.getLogger(__name__)

FORMAT = 1
"""Bumped when what is stored changes, so old entries are recomputed."""

REGIONS_FORMAT = 2
"""Bumped when how regions are chosen or analysed changes (2: whole frame when a crop cuts
someone)."""


@dataclass(frozen=True)
class CachedClip:
    """One clip's perception: per decoded frame, its timestamp, poses and motion thumbnail."""

    name: str
    fps: float
    frame_size: tuple[int, int]
    timestamps: npt.NDArray[np.float64]
    poses: tuple[Poses, ...]
    thumbs: npt.NDArray[np.uint8]
    model_version: str

    def __len__(self) -> int:
        return len(self.poses)

    def perception(self, camera_id: str, index: int) -> Perception:
        return Perception(
            camera_id=camera_id,
            frame_index=index,
            timestamp=float(self.timestamps[index]),
            frame_size=self.frame_size,
            poses=self.poses[index],
            thumb=self.thumbs[index],
        )


def eval_cache_dir() -> Path:
    return cache_root() / "eval"


@cache
def _file_hash(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    stat = path.stat()
    return _file_hash(path.resolve(), stat.st_size, stat.st_mtime)


def cache_path(clip: Path, estimator: OnnxPoseEstimator, directory: Path) -> Path:
    model = content_hash(estimator.path)[:12] if estimator.path.exists() else "unknown"
    fit = "fit" if estimator.fits_frame else ""
    key = f"{content_hash(clip)[:20]}-{model}-{estimator.input_hw[0]}{fit}-v{FORMAT}"
    return directory / f"{clip.stem}-{key}.npz"


def _compute(clip: Path, estimator: OnnxPoseEstimator) -> CachedClip:
    source = open_source(CameraConfig(id="eval", source=str(clip), realtime=False))
    stamps: list[float] = []
    poses: list[Poses] = []
    thumbs = []
    size = (0, 0)
    try:
        while (item := source.read()) is not None:
            image, t = item
            size = (int(image.shape[1]), int(image.shape[0]))
            stamps.append(t)
            poses.append(estimator.infer_image(image))
            thumbs.append(thumbnail(image))
    finally:
        source.close()
    return CachedClip(
        name=clip.name,
        fps=source.fps or 30.0,
        frame_size=size,
        timestamps=np.array(stamps, np.float64),
        poses=tuple(poses),
        thumbs=np.stack(thumbs) if thumbs else np.zeros((0, 1, 1), np.uint8),
        model_version=estimator.model_version,
    )


def _save(path: Path, clip: CachedClip) -> None:
    counts = np.array([len(p) for p in clip.poses], np.int32)

    def column(name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        parts = [getattr(p, name) for p in clip.poses]
        return np.concatenate(parts) if parts else np.zeros((0, *shape), np.float32)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.part.npz")
    np.savez_compressed(
        tmp,
        name=np.array(clip.name),
        fps=np.array(clip.fps),
        frame_size=np.array(clip.frame_size),
        timestamps=clip.timestamps,
        counts=counts,
        xyxy=column("xyxy", (4,)),
        score=column("score", ()),
        keypoints=column("keypoints", (NUM_KEYPOINTS, 2)),
        keypoint_score=column("keypoint_score", (NUM_KEYPOINTS,)),
        thumbs=clip.thumbs,
        model_version=np.array(clip.model_version),
    )
    tmp.replace(path)


def _load(path: Path) -> CachedClip:
    # `data[key]` decompresses the array again on every access: read each one once.
    with np.load(path) as npz:
        data = {key: npz[key] for key in npz.files}
    bounds = np.concatenate([[0], np.cumsum(data["counts"])])
    xyxy, score, keypoints, keypoint_score = (
        data[k] for k in ("xyxy", "score", "keypoints", "keypoint_score")
    )
    poses = tuple(
        Poses(
            xyxy=xyxy[a:b],
            score=score[a:b],
            keypoints=keypoints[a:b],
            keypoint_score=keypoint_score[a:b],
        )
        for a, b in itertools.pairwise(bounds)
    )
    w, h = (int(v) for v in data["frame_size"])
    return CachedClip(
        name=str(data["name"]),
        fps=float(data["fps"]),
        frame_size=(w, h),
        timestamps=data["timestamps"],
        poses=poses,
        thumbs=data["thumbs"],
        model_version=str(data["model_version"]),
    )


def load_or_compute(
    clip: Path, estimator: OnnxPoseEstimator, directory: Path | None = None
) -> CachedClip:
    """The clip's cached perception, computing (and storing) it on first use."""
    path = cache_path(clip, estimator, directory or eval_cache_dir())
    return _cached(path, clip.name, lambda: _compute(clip, estimator))


def _cached(path: Path, what: str, compute: Callable[[], CachedClip]) -> CachedClip:
    """The entry stored at `path`, else `compute()`'s result, stored there."""
    if path.exists():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("recomputing unreadable cache entry %s (%s)", path, exc)
    log.info("running the pose model on %s (cached afterwards)", what)
    computed = compute()
    _save(path, computed)
    return computed


def with_regions(
    clip: Path,
    cached: CachedClip,
    estimator: OnnxPoseEstimator,
    camera: CameraConfig,
    analysis_fps: float | None,
    directory: Path | None = None,
) -> CachedClip:
    """The clip's perception as a live camera with `camera.regions` on would have it: the
    frames its activity gate admits at `analysis_fps`, each seen by the model on the region
    `RegionPlanner` picks from the previous ones (the cached whole-frame poses where it picks the
    whole frame). Cached too, keyed by everything the regions depend on."""
    if not camera.regions.enabled or not estimator.takes_any_shape:
        return cached
    settings = json.dumps(
        [
            REGIONS_FORMAT,
            analysis_fps,
            camera.gating.model_dump(mode="json"),
            camera.regions.model_dump(),
        ],
        sort_keys=True,
    )
    base = cache_path(clip, estimator, directory or eval_cache_dir())
    tag = hashlib.sha256(settings.encode()).hexdigest()[:10]
    path = base.with_name(f"{base.stem}-regions-{tag}.npz")
    return _cached(
        path,
        f"the regions of {clip.name}",
        lambda: _compute_regions(clip, cached, estimator, camera, analysis_fps),
    )


def _compute_regions(
    clip: Path,
    cached: CachedClip,
    estimator: OnnxPoseEstimator,
    camera: CameraConfig,
    analysis_fps: float | None,
) -> CachedClip:
    wanted = iter(analysed_indices(cached, analysis_fps))
    next_index = next(wanted, None)
    gate = ActivityGate(camera.gating)
    planner = RegionPlanner(camera.regions)
    poses = list(cached.poses)
    source = open_source(CameraConfig(id="eval", source=str(clip), realtime=False))
    try:
        for index in itertools.count():
            if next_index is None or (item := source.read()) is None:
                break
            if index != next_index:
                continue
            next_index = next(wanted, None)
            t = float(cached.timestamps[index])
            thumb = cached.thumbs[index]
            if not gate.admit(thumb, t):
                continue
            region = planner.plan(item[0].shape[:2], thumb, t)
            if region is not None:
                frame = Frame("eval", index, t, item[0])
                poses[index] = estimator.infer_region(frame, region)
            planner.saw(poses[index].xyxy)
            gate.saw(len(poses[index]))
    finally:
        source.close()
    return replace(cached, poses=tuple(poses))


def analysed_indices(clip: CachedClip, analysis_fps: float | None) -> Iterator[int]:
    """Frame indices a camera analysing at `analysis_fps` would take (all when None)."""
    next_t = -np.inf
    for i, t in enumerate(clip.timestamps):
        if analysis_fps is not None and t < next_t - 1e-3:
            continue
        next_t = float(t) + (1.0 / analysis_fps if analysis_fps else 0.0)
        yield i


def replay(
    clip: CachedClip,
    analyzer: Analyzer,
    analysis_fps: float | None,
    gating: GatingConfig | None = None,
) -> Iterator[tuple[int, StepResult]]:
    """Feed the cached perception through `analyzer` at the camera's analysis rate, leaving
    out the frames a live camera's activity gate (`gating`) would not analyse."""
    gate = None if gating is None else ActivityGate(gating)
    for i in analysed_indices(clip, analysis_fps):
        if gate is None:
            yield i, analyzer.step(clip.perception(analyzer.camera_id, i))
        elif gate.admit(clip.thumbs[i], float(clip.timestamps[i])):
            step = analyzer.step(clip.perception(analyzer.camera_id, i))
            gate.saw(len(step.poses))
            yield i, step
