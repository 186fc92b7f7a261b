"""Times plain Ultralytics tracking on a video: the reference `carewatch bench` compares against.

Runs in the export environment's python (it needs torch and ultralytics); `api.bench` starts it as
a subprocess, one per input size, and reads the single JSON line it prints::

    ~/.cache/carewatch/export-env/bin/python scripts/bench_ultralytics.py \\
        --pt ~/.cache/carewatch/models/yolo11n-pose.pt --video clip.mp4 --size 480 \\
        --threads 2 --max-frames 150 --warmup 5

What runs is `YOLO(pt).track(source=video, imgsz=size, stream=True, persist=True,
tracker="bytetrack.yaml", device="cpu")` with Ultralytics' defaults otherwise (conf 0.25, IoU 0.7,
rect letterbox). ByteTrack rather than the default BoT-SORT because CareWatch tracks with ByteTrack:
the tracking columns then compare the same algorithm. torch is pinned to `--threads` intra-op
threads (and one inter-op thread), as CareWatch pins ONNX Runtime; Ultralytics itself would pick
min(8, cores - 1) when it selects the CPU device, and the JSON says what that was.

Per timed frame it records Ultralytics' own `result.speed` (preprocess, inference, postprocess ms),
the time of the tracker's `update` (wrapped), and the wall time of one step of the result
generator, which also holds decoding (cv2) and bookkeeping. The first `--warmup` frames are not
timed. If something it needs is missing it prints `{"skipped": "why"}` and exits 0.

Several `--video`s are tracked one after the other by the same model and tracker (up to
`--max-frames` each; the warm-up is the run's first frames): `wall_s` then spans them all, which
is how `carewatch bench-cameras` measures the plain pipeline's throughput over mixed clips.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _skip(reason: str) -> int:
    print(json.dumps({"skipped": reason}))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pt", required=True, type=Path)
    parser.add_argument("--video", required=True, type=Path, nargs="+", help="one or more")
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--threads", required=True, type=int)
    parser.add_argument("--max-frames", required=True, type=int)
    parser.add_argument("--warmup", required=True, type=int)
    args = parser.parse_args(argv)

    for module in ("torch", "ultralytics", "lap"):
        if importlib.util.find_spec(module) is None:
            return _skip(
                f"{sys.executable} has no `{module}` (Ultralytics' tracker needs lap>=0.5.12; "
                f"install it with `{sys.executable} -m pip install 'lap>=0.5.12'`)"
                if module == "lap"
                else f"{sys.executable} has no `{module}`"
            )
    if not args.pt.is_file():
        return _skip(f"no checkpoint at {args.pt} (run `carewatch models install`)")

    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    import ultralytics
    from ultralytics import YOLO

    model = YOLO(str(args.pt))
    state: dict[str, Any] = {
        "wrapped": False,
        "track_s": 0.0,
        "people": 0,
        "input_hw": None,
        "default_threads": None,
    }

    def wrap(predictor: Any) -> None:
        """Once per run: time the tracker's update and note the network input shape."""
        if state["wrapped"]:
            return
        state["wrapped"] = True
        # Ultralytics' select_device() (run while the predictor is set up, after our first pin)
        # resets torch to min(8, cores - 1) threads: note that and pin again.
        state["default_threads"] = torch.get_num_threads()
        torch.set_num_threads(args.threads)
        preprocess = predictor.preprocess

        def noting_preprocess(im0s: Any) -> Any:
            im = preprocess(im0s)
            state["input_hw"] = [int(im.shape[2]), int(im.shape[3])]
            return im

        predictor.preprocess = noting_preprocess
        for tracker in predictor.trackers:
            update = tracker.update

            def timed_update(det: Any, *a: Any, _update: Any = update, **kw: Any) -> Any:
                t0 = time.perf_counter()
                out = _update(det, *a, **kw)
                state["track_s"] += time.perf_counter() - t0
                state["people"] += len(det)
                return out

            tracker.update = timed_update

    model.add_callback("on_predict_batch_start", wrap)
    stage_ms: dict[str, list[float]] = {
        "preprocess": [],
        "inference": [],
        "postprocess": [],
        "tracking": [],
    }
    frame_ms: list[float] = []
    people: list[int] = []
    cpu0 = wall0 = 0.0
    index = 0  # over all videos: the first --warmup frames of the run are not timed
    for video in args.video:
        results = model.track(
            source=str(video),
            imgsz=args.size,
            stream=True,
            persist=True,
            tracker="bytetrack.yaml",
            device="cpu",
            verbose=False,
        )
        for _ in range(args.max_frames):
            state["track_s"], state["people"] = 0.0, 0
            t0 = time.perf_counter()
            if index == args.warmup:
                cpu0, wall0 = time.process_time(), t0
            try:
                result = next(results)
            except StopIteration:
                break
            t1 = time.perf_counter()
            if index >= args.warmup:
                frame_ms.append((t1 - t0) * 1e3)
                for stage in ("preprocess", "inference", "postprocess"):
                    stage_ms[stage].append(float(result.speed[stage]))
                stage_ms["tracking"].append(state["track_s"] * 1e3)
                people.append(int(state["people"]))
            index += 1
        results.close()
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    if not frame_ms:
        videos = ", ".join(str(v) for v in args.video)
        return _skip(f"{videos}: no frames after the {args.warmup} warm-up frames")
    # What the generator step spent outside the timed stages: cv2 decoding and bookkeeping.
    stage_ms["decode"] = [
        max(0.0, total - sum(stage_ms[s][i] for s in stage_ms)) for i, total in enumerate(frame_ms)
    ]
    print(
        json.dumps(
            {
                "engine": "ultralytics",
                "input_size": args.size,
                "videos": len(args.video),
                "network_input_hw": state["input_hw"],
                "threads": torch.get_num_threads(),
                "interop_threads": torch.get_num_interop_threads(),
                "ultralytics_default_threads": state["default_threads"],
                "warmup_frames": args.warmup,
                "stage_ms": stage_ms,
                "frame_ms": frame_ms,
                "wall_s": wall_s,
                "cpu_s": cpu_s,
                # Linux reports ru_maxrss in KiB.
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "people": people,
                "versions": {"torch": torch.__version__, "ultralytics": ultralytics.__version__},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
