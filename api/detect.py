"""`carewatch detect VIDEO`: the pose model and tracker over a file, every person in every frame.

Writes one JSON object per analysed frame (`--out`) and optionally an annotated H.264 video.
Missing keypoints are written as `null` coordinates with their (low) score.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from api.config import AppConfig
from vision.annotate import draw_poses
from vision.config import CameraConfig
from vision.pipeline import Estimator, Pipeline, StepResult
from vision.sources import VideoSource, open_source
from vision.tracking import PoseTracker
from vision.types import Frame, Poses
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


@dataclass
class DetectSummary:
    """What a detect run saw: frames read and analysed, and per track id its frames and times."""

    frames_read: int = 0
    frames_analysed: int = 0
    tracks: dict[int, dict[str, float]] = field(default_factory=dict)

    def add(self, result: StepResult) -> None:
        self.frames_analysed += 1
        ids = result.poses.track_id
        for tid in [] if ids is None else ids.tolist():
            if tid < 0:
                continue
            entry = self.tracks.setdefault(
                tid, {"frames": 0, "first_t": result.frame.timestamp, "last_t": 0.0}
            )
            entry["frames"] += 1
            entry["last_t"] = result.frame.timestamp


def iter_frames(source: VideoSource, camera_id: str = "file") -> Iterator[Frame]:
    """Every frame of an opened source, as fast as it decodes (SourceError when it breaks)."""
    index = 0
    while (item := source.read()) is not None:
        image, timestamp = item
        yield Frame(camera_id, index, timestamp, image)
        index += 1


def detect_video(
    video: Path,
    config: AppConfig,
    estimator: Estimator,
    *,
    out: IO[str] | None = None,
    annotate: Path | None = None,
    fps: float | None = None,
) -> DetectSummary:
    """Run pose + tracking on `video`; `fps` analyses at most that many frames a second."""
    pipeline = Pipeline("file", estimator, PoseTracker("file", config.tracker))
    summary = DetectSummary()
    writer: H264Writer | None = None
    next_t = -math.inf
    source = open_source(CameraConfig(id="file", source=str(video), realtime=False))
    out_fps = fps or source.fps or 15.0
    try:
        for frame in iter_frames(source):
            summary.frames_read += 1
            if fps is not None and frame.timestamp < next_t - 1e-3:  # ms rounding of positions
                continue
            next_t = frame.timestamp + 1.0 / fps if fps else next_t
            result = pipeline.step(frame)
            summary.add(result)
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
