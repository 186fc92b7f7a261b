"""`carewatch detect VIDEO`: pose, tracking and behaviours over a file, every person in every frame.

Writes one JSON object per analysed frame (`--out`), every behaviour event (`--events`), and
optionally an annotated H.264 video. Missing keypoints are written as `null` coordinates with
their (low) score. Zones and thresholds come from a camera of `--config`, as for a live camera.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from api.config import AppConfig
from vision.annotate import draw_poses
from vision.config import CameraConfig
from vision.pipeline import Estimator, Pipeline, StepResult
from vision.sources import VideoSource, open_source
from vision.types import BehaviourEvent, Frame, Poses
from vision.video_io import H264Writer

log = logging.getLogger(__name__)


def _num(value: float, digits: int = 2) -> float | None:
    return None if math.isnan(value) else round(float(value), digits)


def poses_to_json(poses: Poses) -> list[dict[str, Any]]:
    """People of one frame as JSON-ready dicts (keypoints as [x, y, score], NaN -> null)."""
    people = []
    for i in range(len(poses)):
        people.append(
            {
                "track_id": None if poses.track_id is None else int(poses.track_id[i]),
                "xyxy": [round(float(v), 2) for v in poses.xyxy[i]],
                "score": round(float(poses.score[i]), 4),
                "keypoints": [
                    [_num(x), _num(y), round(float(s), 4)]
                    for (x, y), s in zip(poses.keypoints[i], poses.keypoint_score[i], strict=True)
                ],
            }
        )
    return people


def event_to_json(event: BehaviourEvent, frame_index: int) -> dict[str, Any]:
    """One behaviour event as a JSON-ready dict (the `--events` line format)."""
    return {
        "kind": event.kind,
        "camera": event.camera_id,
        "track_ids": list(event.track_ids),
        "frame": frame_index,
        "detected_at": round(event.detected_at, 3),
        "started_at": round(event.started_at, 3),
        "confidence": round(event.confidence, 3),
        "zone": event.zone,
        "evidence": event.evidence,
    }


@dataclass
class DetectSummary:
    """What a detect run saw: frames read and analysed, each track's frames and times, events."""

    frames_read: int = 0
    frames_analysed: int = 0
    tracks: dict[int, dict[str, float]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, result: StepResult, t: float) -> None:
        self.frames_analysed += 1
        ids = result.poses.track_id
        for tid in [] if ids is None else ids.tolist():
            if tid < 0:
                continue
            entry = self.tracks.setdefault(tid, {"frames": 0, "first_t": t, "last_t": 0.0})
            entry["frames"] += 1
            entry["last_t"] = t


def _local_midnight() -> float:
    now = datetime.now()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def iter_frames(source: VideoSource, camera_id: str = "file") -> Iterator[Frame]:
    """Every frame of an opened source, as fast as it decodes (SourceError when it breaks)."""
    index = 0
    while (item := source.read()) is not None:
        image, timestamp = item
        yield Frame(camera_id, index, timestamp, image)
        index += 1


def camera_for_file(config: AppConfig, camera_id: str | None) -> CameraConfig:
    """The camera whose zones and behaviour settings a file is analysed with.

    The named camera, else the config's only camera, else the defaults (no zones).
    """
    if camera_id is not None:
        match = [c for c in config.cameras if c.id == camera_id]
        if not match:
            known = ", ".join(c.id for c in config.cameras) or "none"
            raise ValueError(f"no camera {camera_id!r} in the config (cameras: {known})")
        return match[0]
    if len(config.cameras) == 1:
        return config.cameras[0]
    return CameraConfig(id="file", source="file")


def detect_video(
    video: Path,
    config: AppConfig,
    estimator: Estimator,
    *,
    out: IO[str] | None = None,
    events: IO[str] | None = None,
    annotate: Path | None = None,
    fps: float | None = None,
    camera_id: str | None = None,
) -> DetectSummary:
    """Run pose, tracking and behaviours on `video`; `fps` analyses at most N frames a second."""
    from api.service import analyzer_for

    camera = camera_for_file(config, camera_id)
    # File positions start at 0: anchor them to midnight so zone time windows are reproducible.
    analyzer = analyzer_for(camera, config)
    analyzer.wall_start = _local_midnight()
    pipeline = Pipeline(camera.id, estimator, analyzer)
    summary = DetectSummary()
    writer: H264Writer | None = None
    next_t = -math.inf
    source = open_source(CameraConfig(id=camera.id, source=str(video), realtime=False))
    out_fps = fps or source.fps or 15.0
    try:
        for frame in iter_frames(source, camera.id):
            summary.frames_read += 1
            if fps is not None and frame.timestamp < next_t - 1e-3:  # ms rounding of positions
                continue
            next_t = frame.timestamp + 1.0 / fps if fps else next_t
            result = pipeline.step(frame)
            summary.add(result, frame.timestamp)
            for event in result.events:
                line = event_to_json(event, frame.index)
                summary.events.append(line)
                if events is not None:
                    events.write(json.dumps(line) + "\n")
            if out is not None:
                line = {
                    "frame": frame.index,
                    "t": round(frame.timestamp, 4),
                    "people": poses_to_json(result.poses),
                }
                out.write(json.dumps(line) + "\n")
            if annotate is not None:
                if writer is None:
                    writer = H264Writer(annotate, out_fps, frame.size)
                writer.write(draw_poses(frame.image, result.poses))
    finally:
        source.close()
        if writer is not None:
            writer.close()
    return summary
