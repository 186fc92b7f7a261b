"""Measures how often each tracker configuration loses a falling person's id (docs/TRACKING.md).

For every fall clip in the labelled footage it runs the pose model once per frame, then replays
the poses through `vision.tracking.PoseTracker` at several analysis rates. A track id born between
the start of the fall and one second after its end is counted as a "new id at a fall": either
the faller's id switched, or a spurious track appeared. Fewer is better.

    .venv/bin/python scripts/compare_trackers.py --clips ../shared/data/clips
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from api.evaluation.cache import load_or_compute
from models.acquire import model_dir, resolve_onnx
from models.config import PoseModelConfig
from models.onnx_pose import OnnxPoseEstimator
from vision.config import TrackerConfig
from vision.tracking import PoseTracker
from vision.types import Poses

VARIANTS: dict[str, TrackerConfig] = {
    "ocsort (default: score 0.3 starts a track at once)": TrackerConfig(),
    "ocsort, score 0.5, 2 frames to start": TrackerConfig(
        high_conf_det_threshold=0.5, minimum_consecutive_frames=2
    ),
    "ocsort, min IoU 0.3": TrackerConfig(minimum_iou_threshold=0.3),
    "bytetrack": TrackerConfig(type="bytetrack"),
    "bytetrack, score 0.5, 2 frames to start": TrackerConfig(
        type="bytetrack", high_conf_det_threshold=0.5, minimum_consecutive_frames=2
    ),
}
RATES = (5.0, 9.0, 18.0)


def poses_of(clip: Path, estimator: OnnxPoseEstimator) -> tuple[list[tuple[float, Poses]], float]:
    """Every frame's poses, from the evaluation cache (computed once per clip and model)."""
    cached = load_or_compute(clip, estimator)
    return list(zip(cached.timestamps.tolist(), cached.poses, strict=True)), cached.fps


def new_ids_at_fall(
    frames: list[tuple[float, Poses]],
    fps: float,
    start: int,
    end: int,
    cfg: TrackerConfig,
    rate: float,
) -> int:
    tracker = PoseTracker("eval", cfg)
    step = max(1, round(fps / rate))
    born: dict[int, int] = {}
    for i in range(0, len(frames), step):
        t, poses = frames[i]
        ids = tracker.update(poses, t, i).poses.track_id
        for tid in [] if ids is None else ids.tolist():
            if tid >= 0:
                born.setdefault(tid, i)
    return sum(1 for i in born.values() if start <= i <= end + round(fps))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=Path("../shared/data/clips"))
    parser.add_argument("--input-size", type=int, default=480)
    args = parser.parse_args()
    cfg = PoseModelConfig(input_size=args.input_size)
    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_dir()), cfg)
    with (args.clips / "labels.csv").open() as f:
        falls = [r for r in csv.DictReader(f) if r["label"] == "fall"]
    cached = [(poses_of(args.clips / r["file"], estimator), r) for r in falls]
    print(f"{len(falls)} falls, pose model at {args.input_size}\n")
    print("| tracker | " + " | ".join(f"{r:g} fps" for r in RATES) + " |")
    print("|---|" + "---|" * len(RATES))
    for name, tcfg in VARIANTS.items():
        counts = [
            sum(
                new_ids_at_fall(frames, fps, int(r["event_start"]), int(r["event_end"]), tcfg, rate)
                for (frames, fps), r in cached
            )
            for rate in RATES
        ]
        print(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
