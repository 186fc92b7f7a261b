"""`carewatch bench`: how fast CareWatch analyses a video on this machine, stage by stage.

For each model input size the same clip goes through CareWatch's own per-frame path, timed stage by
stage: decode (`cv2.VideoCapture.read`), preprocess, inference and postprocess (the ONNX estimator's
three calls) and tracking (`PoseTracker.update`). In the same run, plain Ultralytics tracks the same
frames with the `.pt` checkpoint on torch (`scripts/bench_ultralytics.py`, in the export
environment's python) as the reference, with torch pinned to as many threads as ONNX Runtime.

Each measurement runs in a fresh process, so its peak RSS is that of a process doing only this
(interpreter and libraries included) and sizes do not share caches or warm allocators. The first
`warmup` frames of the clip are run but not timed. Timings are wall-clock `perf_counter`;
"frames per CPU-second" divides the timed frames by the process CPU time (`time.process_time`, all
threads) spent on them, so it shows what a frame costs on a busy machine with many cameras.

    report = run_bench(Path("clip.mp4"))
    print(format_markdown(report))
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from models.acquire import BUNDLED_STEM, export_env_dir, model_dir, resolve_onnx
from models.config import PoseModelConfig
from vision.types import Image

log = logging.getLogger(__name__)

STAGES = ("decode", "preprocess", "inference", "postprocess", "tracking")
"""Per-frame stages, in order; whole-frame time is measured separately (it also holds the glue)."""

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SCRIPT = REPO_ROOT / "scripts" / "bench_ultralytics.py"
DEFAULT_WARMUP = 5
WORKER_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Stat:
    """Median and 95th percentile of one per-frame time, in milliseconds."""

    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Stat:
        values = np.asarray(samples_ms, dtype=np.float64)
        if values.size == 0:
            raise ValueError("no samples")
        return cls(float(np.median(values)), float(np.percentile(values, 95)))


@dataclass(frozen=True)
class EngineResult:
    """One engine (CareWatch or Ultralytics) at one input size on the clip.

    `network_input_hw` is the tensor the network saw (CareWatch pads to a square unless
    `model.fit_frame` is on; Ultralytics letterboxes a .pt model only to a multiple of 32).
    `fps` is 1 / mean whole-frame time; `frames_per_cpu_s` is timed frames / process CPU
    seconds; `cpu_cores_busy` is CPU seconds per wall second during the timed frames.
    `people_*` count detections per frame before tracking. `others_cpu_share` is the fraction
    of all CPUs that other processes used while this ran (0-1): above a few percent the
    timings are disturbed.
    """

    engine: str
    input_size: int
    network_input_hw: tuple[int, int] | None
    threads: int
    frames: int
    warmup_frames: int
    stages: dict[str, Stat]
    frame: Stat
    fps: float
    frames_per_cpu_s: float
    cpu_cores_busy: float
    peak_rss_mib: float
    people_mean: float
    people_max: int
    others_cpu_share: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> EngineResult:
        """Summarise a worker's JSON (per-frame samples) into statistics."""
        frame_ms = [float(x) for x in raw["frame_ms"]]
        people = [int(x) for x in raw["people"]]
        cpu_s, wall_s = float(raw["cpu_s"]), float(raw["wall_s"])
        hw = raw.get("network_input_hw")
        known = {
            "engine",
            "input_size",
            "network_input_hw",
            "threads",
            "warmup_frames",
            "stage_ms",
            "frame_ms",
            "wall_s",
            "cpu_s",
            "peak_rss_bytes",
            "people",
            "others_cpu_share",
        }
        return cls(
            engine=str(raw["engine"]),
            input_size=int(raw["input_size"]),
            network_input_hw=(int(hw[0]), int(hw[1])) if hw else None,
            threads=int(raw["threads"]),
            frames=len(frame_ms),
            warmup_frames=int(raw["warmup_frames"]),
            stages={s: Stat.of(raw["stage_ms"][s]) for s in STAGES if s in raw["stage_ms"]},
            frame=Stat.of(frame_ms),
            fps=1000.0 / float(np.mean(frame_ms)),
            frames_per_cpu_s=len(frame_ms) / cpu_s if cpu_s > 0 else float("nan"),
            cpu_cores_busy=cpu_s / wall_s if wall_s > 0 else float("nan"),
            peak_rss_mib=float(raw["peak_rss_bytes"]) / 2**20,
            people_mean=float(np.mean(people)) if people else 0.0,
            people_max=max(people, default=0),
            others_cpu_share=raw.get("others_cpu_share"),
            notes={k: v for k, v in raw.items() if k not in known},
        )


@dataclass(frozen=True)
class SizeResult:
    """Both engines at one input size; `ultralytics` is None when the reference did not run."""

    input_size: int
    carewatch: EngineResult
    ultralytics: EngineResult | None
    load_after: tuple[float, float, float]

    @property
    def fps_ratio(self) -> float | None:
        """CareWatch fps / Ultralytics fps (above 1: CareWatch is faster)."""
        return self.carewatch.fps / self.ultralytics.fps if self.ultralytics else None

    @property
    def cpu_ratio(self) -> float | None:
        """CareWatch frames per CPU-second / Ultralytics'."""
        if self.ultralytics is None:
            return None
        return self.carewatch.frames_per_cpu_s / self.ultralytics.frames_per_cpu_s


@dataclass(frozen=True)
class BenchReport:
    """Everything one `run_bench` measured, plus what a reader needs to judge it."""

    video: str
    video_frames: int
    video_fps: float
    video_size: tuple[int, int]
    max_frames: int
    warmup_frames: int
    threads: int
    started_at: str
    duration_s: float
    machine: dict[str, Any]
    load_before: tuple[float, float, float]
    reference: str
    """How the Ultralytics reference ran, or why it was skipped."""
    results: tuple[SizeResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (stats in ms, RSS in MiB), ratios included."""
        out = asdict(self)
        for row, result in zip(out["results"], self.results, strict=True):
            row["fps_ratio"] = result.fps_ratio
            row["cpu_ratio"] = result.cpu_ratio
        return out


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory and the versions of what runs the model."""
    import cv2
    import onnxruntime
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


def _probe(video: Path) -> tuple[int, float, tuple[int, int]]:
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        if not cap.isOpened():
            raise ValueError(f"cannot open video {video}")
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 0.0
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()
    return frames, fps, size


def measure_carewatch(
    video: Path, onnx: Path, *, size: int, threads: int, max_frames: int, warmup: int
) -> dict[str, Any]:
    """Run CareWatch's per-frame path on `video` in this process; per-frame samples as a dict.

    Called by the worker process `run_bench` starts (`python -m api.bench --worker ...`).
    """
    import resource

    import cv2

    from models.onnx_pose import OnnxPoseEstimator
    from vision.config import TrackerConfig
    from vision.tracking import PoseTracker

    estimator = OnnxPoseEstimator(
        onnx, PoseModelConfig.model_validate({"input_size": size, "threads": threads})
    )
    tracker = PoseTracker("bench", TrackerConfig.model_validate({}))
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {video}")
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
    frame_hw = (int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)))
    stage_ms: dict[str, list[float]] = {s: [] for s in STAGES}
    frame_ms: list[float] = []
    people: list[int] = []
    cpu0 = wall0 = 0.0
    perf = time.perf_counter
    try:
        for index in range(max_frames):
            t0 = perf()
            if index == warmup:
                cpu0, wall0 = time.process_time(), t0
            ok, read = cap.read()
            if not ok:
                break
            image: Image = np.asarray(read, dtype=np.uint8)
            t1 = perf()
            tensor, lb = estimator.preprocess(image)
            t2 = perf()
            output = estimator.run(tensor)
            t3 = perf()
            poses = estimator.postprocess(output, lb)
            t4 = perf()
            tracker.update(poses, index / fps, index)
            t5 = perf()
            if index >= warmup:
                for stage, dt in zip(
                    STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
                ):
                    stage_ms[stage].append(dt * 1e3)
                frame_ms.append((t5 - t0) * 1e3)
                people.append(len(poses))
    finally:
        cap.release()
    cpu_s, wall_s = time.process_time() - cpu0, perf() - wall0
    if not frame_ms:
        raise ValueError(f"{video} has no frames after the {warmup} warm-up frames")
    return {
        "engine": "carewatch",
        "input_size": size,
        "network_input_hw": list(estimator.input_shape(frame_hw)),
        "threads": threads,
        "interop_threads": 1,
        "warmup_frames": warmup,
        "stage_ms": stage_ms,
        "frame_ms": frame_ms,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        # Linux reports ru_maxrss in KiB.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "people": people,
        "model": estimator.model_version,
    }


def last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _run_worker(cmd: list[str], env: dict[str, str], what: str) -> dict[str, Any]:
    """Run a measuring subprocess; its last stdout line is JSON. Raises RuntimeError on failure."""
    import resource

    import psutil

    log.info("bench: %s", what)
    cpu0, child0, t0 = psutil.cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {exc}") from exc
    cpu1, child1, t1 = psutil.cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    result = last_json_line(done.stdout)
    if done.returncode != 0 or result is None:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {tail}")
    # Busy CPU time of the whole machine minus the worker's own, over the worker's life: how much
    # of the CPUs other processes took while this was measured.
    busy = (sum(cpu1) - cpu1.idle - getattr(cpu1, "iowait", 0.0)) - (
        sum(cpu0) - cpu0.idle - getattr(cpu0, "iowait", 0.0)
    )
    own = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    capacity = (t1 - t0) * (psutil.cpu_count() or 1)
    if capacity > 0:
        result["others_cpu_share"] = min(1.0, max(0.0, (busy - own) / capacity))
    return result


def run_bench(
    video: Path,
    *,
    sizes: tuple[int, ...] = (640, 480, 320),
    threads: int = 2,
    max_frames: int = 150,
    reference: bool = True,
    export_python: Path | None = None,
    model_directory: Path | None = None,
    warmup: int = DEFAULT_WARMUP,
) -> BenchReport:
    """Time CareWatch (and, with `reference`, plain Ultralytics) on `video` at each input size.

    `max_frames` caps the frames read from the clip, the first `warmup` of them untimed.
    `export_python` is the python with torch and ultralytics (default: the export environment in
    the model cache); when it, the checkpoint or the reference script is missing, or the reference
    fails, the report says so and carries CareWatch's numbers alone. Raises
    `models.acquire.ModelInstallError` when an ONNX export for a size is not installed,
    ValueError for a video that cannot be read or is shorter than the warm-up, and RuntimeError
    when CareWatch's own measurement fails (the message ends with the worker's last lines).
    """
    if threads < 1:
        raise ValueError("threads must be at least 1 (the same count is given to torch)")
    if max_frames <= warmup:
        raise ValueError(f"max_frames ({max_frames}) must exceed the {warmup} warm-up frames")
    video = Path(video).resolve()
    frames, fps, frame_size = _probe(video)
    if 0 < frames <= warmup:
        raise ValueError(f"{video} has {frames} frames, not more than the {warmup} warm-up frames")
    directory = model_directory or model_dir()
    onnx = {
        s: resolve_onnx(PoseModelConfig.model_validate({"input_size": s}), directory) for s in sizes
    }

    python = export_python or export_env_dir() / "bin" / "python"
    pt = directory / f"{BUNDLED_STEM}.pt"
    skip = None
    if not reference:
        skip = "not run (reference=False)"
    elif not python.exists():
        skip = f"skipped: no export environment python at {python} (`carewatch models install`)"
    elif not pt.is_file():
        skip = f"skipped: no checkpoint at {pt} (`carewatch models install`)"
    elif not REFERENCE_SCRIPT.is_file():
        skip = f"skipped: {REFERENCE_SCRIPT} is not there (run from a source checkout)"
    reference_note = skip or (
        f"Ultralytics YOLO({pt.name}).track(imgsz=size, stream=True, persist=True, "
        f"tracker='bytetrack.yaml', device='cpu') in {python}; torch.set_num_threads({threads}), "
        "interop threads 1"
    )

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    t_start = time.perf_counter()
    load_before = os.getloadavg()
    common = ["--video", str(video), "--threads", str(threads)]
    common += ["--max-frames", str(max_frames), "--warmup", str(warmup)]
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    worker = [sys.executable, "-m", "api.bench", "--worker"]
    script = [str(python), str(REFERENCE_SCRIPT)]
    failures: list[str] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="carewatch-bench-") as yolo_dir:
        ref_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        ref_env |= {
            "YOLO_OFFLINE": "1",
            "YOLO_AUTOINSTALL": "False",
            "YOLO_CONFIG_DIR": yolo_dir,
            "OMP_NUM_THREADS": str(threads),
        }
        for size in sizes:
            raw = _run_worker(
                [*worker, "--onnx", str(onnx[size]), "--size", str(size), *common],
                env,
                f"CareWatch at {size} on {video.name}",
            )
            carewatch = EngineResult.from_raw(raw)
            ultralytics = None
            if skip is None:
                try:
                    raw = _run_worker(
                        [*script, "--pt", str(pt), "--size", str(size), *common],
                        ref_env,
                        f"Ultralytics at {size} on {video.name}",
                    )
                except RuntimeError as exc:
                    log.warning("reference not measured: %s", exc)
                    failures.append(str(exc))
                else:
                    if "skipped" in raw:  # something it needs is missing: no use trying again
                        skip = f"skipped: {raw['skipped']}"
                    else:
                        ultralytics = EngineResult.from_raw(raw)
            results.append(SizeResult(size, carewatch, ultralytics, os.getloadavg()))
    measured = [r.ultralytics for r in results if r.ultralytics is not None]
    if skip is not None:
        reference_note = skip
    elif measured:
        reference_note += _reference_details(measured[0])
    if failures:
        reference_note += "; FAILED: " + "; ".join(failures)
    return BenchReport(
        video=str(video),
        video_frames=frames,
        video_fps=fps,
        video_size=frame_size,
        max_frames=max_frames,
        warmup_frames=warmup,
        threads=threads,
        started_at=started_at,
        duration_s=time.perf_counter() - t_start,
        machine=machine_info(),
        load_before=load_before,
        reference=reference_note,
        results=tuple(results),
    )


def _reference_details(result: EngineResult) -> str:
    versions = result.notes.get("versions") or {}
    out = f"; torch {versions.get('torch', '?')}, ultralytics {versions.get('ultralytics', '?')}"
    default = result.notes.get("ultralytics_default_threads")
    if default is not None and default != result.threads:
        out += f" (left alone, Ultralytics would have set torch to {default} thread(s) here)"
    return out


def _ms(stat: Stat | None) -> str:
    return "–" if stat is None else f"{stat.median_ms:.1f}"


def _share(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def _hw(hw: tuple[int, int] | None) -> str:
    return "?" if hw is None else f"{hw[1]}×{hw[0]}"


def format_markdown(report: BenchReport) -> str:
    """The report as Markdown: conditions, one table of medians, ratios, p95s and notes."""
    m = report.machine
    load = ", ".join(f"{x:.2f}" for x in report.load_before)
    timed = report.results[0].carewatch.frames if report.results else 0
    lines = [
        f"Video `{Path(report.video).name}` ({report.video_size[0]}×{report.video_size[1]}, "
        f"{report.video_frames} frames at {report.video_fps:.1f} fps): first "
        f"{report.warmup_frames} frames warm-up, then {timed} timed.",
        "",
        f"- Machine: {m['cpu']}, {m['logical_cores']} logical cores "
        f"({m['usable_cores']} usable), {m['memory_gib']} GiB; {m['os']}, Python {m['python']}",
        f"- CareWatch: onnxruntime {m['onnxruntime']} (CPU), {report.threads} intra-op threads, "
        f"1 inter-op; opencv {m['opencv']}",
        f"- Reference: {report.reference}",
        f"- Load average (1, 5, 15 min) before: {load}; after each size: "
        + "; ".join(
            f"{r.input_size}: {', '.join(f'{x:.2f}' for x in r.load_after)}" for r in report.results
        ),
        f"- Started {report.started_at}, took {report.duration_s:.0f} s",
        "",
        "Medians in ms per frame. fps = 1 / mean whole-frame time; frames/CPU-s = timed frames / "
        "process CPU seconds (all threads); cores busy = its CPU seconds per wall second; "
        "RSS = the measuring process's peak; others' CPU = share of all cores that other "
        "processes used meanwhile (above a few % the numbers are disturbed).",
        "",
        "| size | engine | net input | decode | pre | infer | post | track | frame median | "
        "frame p95 | fps | frames/CPU-s | cores busy | peak RSS MiB | people/frame | others' CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        for name, e in (("CareWatch", r.carewatch), ("Ultralytics", r.ultralytics)):
            if e is None:
                lines.append(f"| {r.input_size} | {name} | – | " + "– | " * 13)
                continue
            decode = _ms(e.stages.get("decode")) + ("*" if e.engine == "ultralytics" else "")
            stages = " | ".join([decode] + [_ms(e.stages.get(s)) for s in STAGES[1:]])
            lines.append(
                f"| {r.input_size} | {name} | {_hw(e.network_input_hw)} | {stages} | "
                f"{e.frame.median_ms:.1f} | {e.frame.p95_ms:.1f} | {e.fps:.1f} | "
                f"{e.frames_per_cpu_s:.1f} | {e.cpu_cores_busy:.2f} | {e.peak_rss_mib:.0f} | "
                f"{e.people_mean:.2f} (max {e.people_max}) | {_share(e.others_cpu_share)} |"
            )
    lines += ["", "| size | CareWatch fps | Ultralytics fps | fps ratio | frames/CPU-s ratio |"]
    lines.append("|---|---|---|---|---|")
    for r in report.results:
        u = r.ultralytics
        lines.append(
            f"| {r.input_size} | {r.carewatch.fps:.1f} | "
            + (f"{u.fps:.1f} | {r.fps_ratio:.2f}× | {r.cpu_ratio:.2f}× |" if u else "– | – | – |")
        )
    lines += ["", "p95 per stage, ms:", ""]
    lines.append("| size | engine | decode | pre | infer | post | track |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in report.results:
        for name, e in (("CareWatch", r.carewatch), ("Ultralytics", r.ultralytics)):
            if e is not None:
                cells = " | ".join(
                    f"{e.stages[s].p95_ms:.1f}" if s in e.stages else "–" for s in STAGES
                )
                lines.append(f"| {r.input_size} | {name} | {cells} |")
    if any(r.ultralytics for r in report.results):
        lines += [
            "",
            "\\* Ultralytics' decode column is the rest of each frame's wall time after its own "
            "`result.speed` stages and the timed tracker update: cv2 decoding plus its per-frame "
            "bookkeeping. Its pre/infer/post are Ultralytics' own `result.speed`.",
        ]
    return "\n".join(lines) + "\n"


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="one CareWatch measurement (used by run_bench)")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--video", required=True, type=Path)
    parser.add_argument("--onnx", required=True, type=Path)
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--threads", required=True, type=int)
    parser.add_argument("--max-frames", required=True, type=int)
    parser.add_argument("--warmup", required=True, type=int)
    args = parser.parse_args(argv)
    raw = measure_carewatch(
        args.video,
        args.onnx,
        size=args.size,
        threads=args.threads,
        max_frames=args.max_frames,
        warmup=args.warmup,
    )
    sys.stdout.write(json.dumps(raw) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
