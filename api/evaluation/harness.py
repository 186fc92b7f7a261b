"""Run the behaviour detectors over the labelled clips and collect what they raised.

For each clip of `labels.csv`: its cached perception (`cache.load_or_compute`: the pose model runs
once per clip and model, afterwards loading takes milliseconds), a fresh `Analyzer` built for the
camera exactly as the service builds it (`api.service.analyzer_for`), replayed at the camera's
analysis rate. What comes out is small: per clip, the events it raised with the frame index and
timestamp at which each was raised. Scoring is `scoring.py`'s job.

    result = evaluate(Path("../shared/data/clips/labels.csv"), Path("../shared/data/clips"),
                      load_config(None))
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from api.config import AppConfig
from api.evaluation.cache import (
    CachedClip,
    analysed_indices,
    load_or_compute,
    replay,
    with_regions,
)
from models.acquire import model_dir, resolve_onnx
from models.onnx_pose import OnnxPoseEstimator
from vision.config import CameraConfig
from vision.pipeline import Analyzer
from vision.types import BehaviourEvent

log = logging.getLogger(__name__)

LABELS = ("fall", "normal", "fight")
"""The `label` values of labels.csv."""

REQUIRED_COLUMNS = ("file", "label", "subtype", "event_start", "event_end", "fps", "frames")

ROOMS: dict[str, str] = {
    "upfall-C1": "UP-Fall lab, C1 side view",
    "upfall-C2": "UP-Fall lab, C2 elevated front view",
    "dorm-phone": "Dorm room, phone camera",
    "assist-iot": "ASSIST-IoT lab room",
    "cctv": "CCTV (fight dataset)",
}
"""Room keys (derived from the file name) and how reports name them."""

AnalyzerFactory = Callable[[CameraConfig, AppConfig], Analyzer]


class LabelsError(ValueError):
    """labels.csv or the clips folder cannot be used; the message says what is wrong."""


def room_of(file: str, source_repo: str = "") -> str:
    """The room (camera and place) a clip was filmed in, from its name or source repository.

    >>> room_of("upfall_A01_S1_T1_C2.mp4")
    'upfall-C2'
    """
    stem = Path(file).stem
    if stem.startswith("upfall_"):
        return f"upfall-{stem.rsplit('_', 1)[-1]}"
    if stem.startswith("thanhnc58_") or "fall-detector" in source_repo:
        return "dorm-phone"
    if stem.startswith("assistiot_") or "ASSIST-IoT" in source_repo:
        return "assist-iot"
    if stem.startswith("survfight_") or "fight-detection" in source_repo:
        return "cctv"
    return source_repo or "other"


@dataclass(frozen=True)
class ClipLabel:
    """One row of labels.csv. `event_start`/`event_end` are 0-based frame indices or None."""

    file: str
    label: str
    subtype: str
    event_start: int | None
    event_end: int | None
    fps: float
    frames: int
    room: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0


def _frame_or_none(value: str) -> int | None:
    value = value.strip()
    return int(float(value)) if value else None


def read_labels(path: Path) -> list[ClipLabel]:
    """The rows of a labels.csv (columns as in ../shared/data/README.md)."""
    if not path.is_file():
        raise LabelsError(f"labels file {path} not found")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise LabelsError(
                f"{path}: not a labels file, missing columns {', '.join(missing)} "
                f"(needs {', '.join(REQUIRED_COLUMNS)})"
            )
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                if row["label"] not in LABELS:
                    raise ValueError(f"label {row['label']!r} is not one of {', '.join(LABELS)}")
                label = ClipLabel(
                    file=row["file"],
                    label=row["label"],
                    subtype=row["subtype"],
                    event_start=_frame_or_none(row["event_start"]),
                    event_end=_frame_or_none(row["event_end"]),
                    fps=float(row["fps"]),
                    frames=int(row["frames"]),
                    room=room_of(row["file"], row.get("source_repo") or ""),
                )
                if label.label in ("fall", "fight") and label.event_start is None:
                    raise ValueError(f"a {label.label} clip needs event_start and event_end")
            except (TypeError, ValueError) as exc:
                raise LabelsError(f"{path}, line {line}: {exc}") from None
            rows.append(label)
    return rows


@dataclass(frozen=True)
class ClipEvent:
    """One event a clip raised: at analysed frame `frame` (clip position `t`, seconds)."""

    kind: str
    frame: int
    t: float
    confidence: float
    track_ids: tuple[int, ...] = ()
    zone: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "frame": self.frame,
            "t": round(self.t, 3),
            "confidence": round(self.confidence, 3),
            "track_ids": list(self.track_ids),
            "zone": self.zone,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ClipRun:
    """What the detectors raised on one labelled clip."""

    clip: ClipLabel
    events: tuple[ClipEvent, ...]
    frames_analysed: int = 0
    frames_offered: int = 0
    """Frames at the camera's analysis rate; those the activity gate let through were analysed."""


@dataclass(frozen=True)
class EvalResult:
    """Every clip's events, and what they were measured with."""

    runs: tuple[ClipRun, ...]
    camera_id: str
    analysis_fps: float | None
    model_version: str
    behaviours: dict[str, Any]
    seconds: float
    detectors: tuple[str, ...] = ()
    """The `kind` of each detector the camera's analyzer ran (a behaviour missing here had none)."""
    gating: dict[str, Any] | None = None
    """The camera's activity gating settings when it was on."""
    regions: dict[str, Any] | None = None
    """The camera's region settings when the model looked at regions of frames."""

    @property
    def analysed_share(self) -> float | None:
        """Share of the frames at the analysis rate that went to the model (gating skips the
        rest)."""
        offered = sum(r.frames_offered for r in self.runs)
        return sum(r.frames_analysed for r in self.runs) / offered if offered else None


def compact(value: Any, depth: int = 0) -> Any:
    """`evidence` made small and JSON-ready: numpy to Python, floats to 3 decimals, short lists."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if depth >= 3:
        return str(value)[:80]
    if isinstance(value, dict):
        return {str(k): compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        shown = [compact(v, depth + 1) for v in items[:8]]
        return shown + ([f"... {len(items) - 8} more"] if len(items) > 8 else [])
    return str(value)[:80]


def to_clip_event(event: BehaviourEvent, frame: int, t: float) -> ClipEvent:
    return ClipEvent(
        kind=event.kind,
        frame=frame,
        t=t,
        confidence=float(event.confidence),
        track_ids=tuple(int(i) for i in event.track_ids),
        zone=event.zone,
        evidence=compact(event.evidence),
    )


def local_midnight(day: str = "2025-01-06") -> float:
    """Epoch seconds of local midnight on a fixed day, the wall clock a replayed clip starts at.

    Fixed, so that zone time windows (night movement) give the same result on every run; the
    same anchor as `carewatch detect` uses (midnight), on a fixed date.
    """
    return datetime.fromisoformat(day).timestamp()


def analyse_clip(
    clip: ClipLabel,
    cached: CachedClip,
    camera: CameraConfig,
    config: AppConfig,
    *,
    analysis_fps: float | None = None,
    make_analyzer: AnalyzerFactory | None = None,
) -> ClipRun:
    """Replay one clip's cached perception through a fresh analyzer; the events it raised."""
    if make_analyzer is None:
        from api.service import analyzer_for

        make_analyzer = analyzer_for
    analyzer = make_analyzer(camera, config)
    analyzer.wall_start = local_midnight()
    events: list[ClipEvent] = []
    frames = 0
    for index, step in replay(cached, analyzer, analysis_fps, camera.gating):
        frames += 1
        for event in step.events:
            events.append(to_clip_event(event, index, float(cached.timestamps[index])))
    offered = sum(1 for _ in analysed_indices(cached, analysis_fps))
    return ClipRun(clip=clip, events=tuple(events), frames_analysed=frames, frames_offered=offered)


def default_estimator(config: AppConfig) -> OnnxPoseEstimator:
    return OnnxPoseEstimator(resolve_onnx(config.model, model_dir()), config.model)


def select(labels: Iterable[ClipLabel], only: set[str] | None) -> list[ClipLabel]:
    """The clips named in `only` (file names, with or without extension); all when None."""
    rows = list(labels)
    if only is None:
        return rows
    wanted = {Path(name).stem for name in only}
    chosen = [c for c in rows if Path(c.file).stem in wanted]
    unknown = wanted - {Path(c.file).stem for c in chosen}
    if unknown:
        raise LabelsError(f"not in the labels file: {', '.join(sorted(unknown))}")
    return chosen


def for_behaviour(labels: Iterable[ClipLabel], behaviour: str | None) -> set[str] | None:
    """The clips that measure one behaviour: its own and the normal ones (None: all clips)."""
    if behaviour is None:
        return None
    if behaviour not in ("fall", "fight"):
        raise LabelsError(f"unknown behaviour {behaviour!r}; choose fall or fight")
    return {c.file for c in labels if c.label in (behaviour, "normal")}


def check_clips(labels: Sequence[ClipLabel], clips_dir: Path) -> None:
    """LabelsError unless the folder holds every labelled clip."""
    if not clips_dir.is_dir():
        raise LabelsError(f"clips folder {clips_dir} not found")
    missing = [c.file for c in labels if not (clips_dir / c.file).is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise LabelsError(f"{len(missing)} labelled clips are not in {clips_dir}: {shown}")


def iter_clips(
    labels: Sequence[ClipLabel],
    clips_dir: Path,
    estimator: OnnxPoseEstimator,
    cache_dir: Path | None = None,
    camera: CameraConfig | None = None,
    analysis_fps: float | None = None,
) -> Iterator[tuple[ClipLabel, CachedClip]]:
    """Each clip's cached perception, one at a time (the pose model runs on clips not cached).
    With `camera` (and its analysis rate), as that camera would perceive it: on regions of the
    frames when its `regions` are on (`with_regions`)."""
    check_clips(labels, clips_dir)
    start = time.perf_counter()
    for n, clip in enumerate(labels, start=1):
        path = clips_dir / clip.file
        cached = load_or_compute(path, estimator, cache_dir)
        if camera is not None:
            fps = camera.analysis_fps if analysis_fps is None else analysis_fps
            cached = with_regions(path, cached, estimator, camera, fps, cache_dir)
        yield clip, cached
        if n == len(labels) or n % max(1, len(labels) // 10) == 0:
            log.info("%d of %d clips done (%.1f s)", n, len(labels), time.perf_counter() - start)


def load_clips(
    labels: Sequence[ClipLabel],
    clips_dir: Path,
    estimator: OnnxPoseEstimator,
    cache_dir: Path | None = None,
    camera: CameraConfig | None = None,
    analysis_fps: float | None = None,
) -> list[tuple[ClipLabel, CachedClip]]:
    """Every clip's cached perception in memory (for replaying them many times, as `tune` does)."""
    return list(iter_clips(labels, clips_dir, estimator, cache_dir, camera, analysis_fps))


def run_loaded(
    loaded: Iterable[tuple[ClipLabel, CachedClip]],
    camera: CameraConfig,
    config: AppConfig,
    *,
    analysis_fps: float | None = None,
    make_analyzer: AnalyzerFactory | None = None,
) -> EvalResult:
    """Score-ready events of already loaded clips (`tune` replays the same clips many times).

    `analysis_fps` defaults to the camera's.
    """
    fps = camera.analysis_fps if analysis_fps is None else analysis_fps
    if make_analyzer is None:
        from api.service import analyzer_for

        make_analyzer = analyzer_for
    detectors = tuple(str(d.kind) for d in make_analyzer(camera, config).detectors)
    start = time.perf_counter()
    runs = []
    versions = set()
    replay_s = 0.0
    for clip, cached in loaded:
        t0 = time.perf_counter()
        runs.append(
            analyse_clip(
                clip, cached, camera, config, analysis_fps=fps, make_analyzer=make_analyzer
            )
        )
        replay_s += time.perf_counter() - t0
        versions.add(cached.model_version)
    seconds = time.perf_counter() - start
    raised = sum(len(r.events) for r in runs)
    log.info(
        "camera %s: %d clips at %s fps in %.1f s (of which tracking and detectors %.1f s), "
        "%d events",
        camera.id,
        len(runs),
        fps,
        seconds,
        replay_s,
        raised,
    )
    return EvalResult(
        runs=tuple(runs),
        camera_id=camera.id,
        analysis_fps=fps,
        model_version=", ".join(sorted(versions)),
        behaviours=camera.behaviours.model_dump(mode="json"),
        seconds=seconds,
        detectors=detectors,
        gating=camera.gating.model_dump(mode="json") if camera.gating.enabled else None,
        regions=camera.regions.model_dump(mode="json") if camera.regions.enabled else None,
    )


def evaluate(
    labels_csv: Path,
    clips_dir: Path,
    config: AppConfig,
    *,
    camera: CameraConfig | None = None,
    estimator: OnnxPoseEstimator | None = None,
    only: set[str] | None = None,
    analysis_fps: float | None = None,
    make_analyzer: AnalyzerFactory | None = None,
    cache_dir: Path | None = None,
) -> EvalResult:
    """Every labelled clip through cached perception and a fresh analyzer for `camera`.

    `camera` defaults to the config's only camera, else a default camera (no zones, default
    thresholds); its `analysis_fps` is the analysis rate unless `analysis_fps` is given. `only`
    restricts the run to the named clips. `make_analyzer` replaces `api.service.analyzer_for`
    (tests use it to plug in their own detectors).
    """
    from api.detect import camera_for_file

    start = time.perf_counter()
    labels = select(read_labels(labels_csv), only)
    cam = camera or camera_for_file(config, None)
    check_clips(labels, clips_dir)
    loaded = iter_clips(
        labels,
        clips_dir,
        estimator or default_estimator(config),
        cache_dir,
        camera=cam,
        analysis_fps=analysis_fps,
    )
    result = run_loaded(loaded, cam, config, analysis_fps=analysis_fps, make_analyzer=make_analyzer)
    seconds = time.perf_counter() - start
    log.info("evaluation of %d clips took %.1f s", len(labels), seconds)
    return replace(result, seconds=seconds)
