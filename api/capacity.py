"""`carewatch bench-cameras`: how many cameras one box watches, beside plain Ultralytics.

For each camera count N (twice when motion gating can be switched: off, then on) a fresh process
runs the real service (`alert_latency.running_service`: runner, alert service, uvicorn, a guard on
the WebSocket) on N cameras. Camera i plays clip i of a fixed mix of real fall, fight and normal
clips, each looping at its own speed like a live camera; the last `idle` cameras (all but one at
most) show an empty still room. After a warm-up it reads `runner.health()` once a second for
`seconds` and reports:

- analysed fps per camera while active: the frames it analysed over the seconds it was `active`
  (all of them when the runner has no gating), then the median and minimum over cameras;
- the share of frames the gate skipped as idle, the wait for the shared model (when reported);
- frame -> WebSocket latency of each alert whose frame was taken in the window;
- cores busy (process CPU seconds / wall seconds over the window) and the process's peak RSS.

A run is ok when every camera active for at least 5 s keeps 5 analysed fps (less 5 %: one frame
more or less at the edges of 5 s) and the alerts' p95 latency is under 2 s with none missing.
The capacity is the largest N that passed with every smaller N passing too.

The reference runs in the same command: `scripts/bench_ultralytics.py` tracks the first clips of
the mix one after the other with plain Ultralytics at the same input size, in one process using
every core. Its frames per wall second is its throughput; throughput / 5 is its capacity at 5
analysed fps (its best case), throughput / source fps its capacity analysing every frame, as it
does. CareWatch's capacity is divided by each.

    report = run(cameras=(1, 2, 4), seconds=30, clips=Path("../shared/data/clips"))
    print(to_markdown(report))
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from api.bench import last_json_line

log = logging.getLogger(__name__)

MIN_FPS = 5.0
MIN_ACTIVE_S = 5.0
"""A camera's fps counts once it was active this long in the window."""
FPS_TOLERANCE = 0.05
"""A camera keeping MIN_FPS for MIN_ACTIVE_S can count one frame less at the window's edges."""
MAX_P95_S = 2.0
WARMUP_S = 5.0
STILL_FPS = 15.0
MIX = ("fall", "fight", "normal")
DEFAULT_CLIPS = Path("../shared/data/clips")
REFERENCE_CLIPS = 6
REFERENCE_FRAMES = 60
"""Frames tracked per reference clip (the fight clips have 60); the first 5 of the run warm up."""
REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SCRIPT = REPO_ROOT / "scripts" / "bench_ultralytics.py"


@dataclass(frozen=True)
class Clip:
    """What one camera plays: a video file, its kind (fall, fight, normal, demo, idle) and fps."""

    path: Path
    kind: str
    fps: float


def parse_counts(text: str) -> tuple[int, ...]:
    """'1,2,4' -> (1, 2, 4): camera counts, sorted, each at least 1."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"--cameras must be numbers separated by commas, got {text!r}") from None
    if not counts or counts[0] < 1:
        raise ValueError(f"--cameras needs counts of at least 1, got {text!r}")
    return tuple(counts)


def select_clips(clips_dir: Path, count: int) -> list[Clip]:
    """`count` clips of `clips_dir/labels.csv`: fall, fight and normal in turn, each kind's picks
    spread evenly over its clips sorted by name (so the mix spans rooms), cycling when a kind has
    fewer clips than picks. The same folder and count always give the same list.

    Raises `api.evaluation.harness.LabelsError` when the labels or a clip cannot be used.
    """
    from api.evaluation.harness import LabelsError, read_labels

    labels = read_labels(clips_dir / "labels.csv")
    by_kind = {k: sorted((c for c in labels if c.label == k), key=lambda c: c.file) for k in MIX}
    kinds = [k for k in MIX if by_kind[k]]
    if not kinds:
        raise LabelsError(f"{clips_dir / 'labels.csv'}: no {', '.join(MIX)} clips")
    order = [kinds[i % len(kinds)] for i in range(count)]
    picks: dict[str, list[int]] = {}
    for kind in kinds:
        have, want = len(by_kind[kind]), order.count(kind)
        picks[kind] = [j * have // want if want <= have else j % have for j in range(want)]
    out = []
    for kind in order:
        label = by_kind[kind][picks[kind].pop(0)]
        path = clips_dir / label.file
        if not path.is_file():
            raise LabelsError(f"{path}: named in labels.csv but not there")
        out.append(Clip(path, kind, label.fps))
    return out


def write_still(path: Path, *, size: tuple[int, int] = (640, 480), fps: float = STILL_FPS) -> Path:
    """A 2 s H.264 video of an empty room that never changes (smooth seeded texture on a wall
    and a floor), for cameras watching a room where nothing happens."""
    import cv2

    from vision.video_io import H264Writer

    w, h = size
    rng = np.random.default_rng(0)
    texture = cv2.resize(rng.uniform(-12, 12, (h // 16, w // 16, 3)), (w, h))
    room = np.empty((h, w, 3), np.float64)
    room[: h * 3 // 5] = (176, 186, 190)  # wall (BGR)
    room[h * 3 // 5 :] = (96, 112, 128)  # floor
    image = np.clip(room + texture, 0, 255).astype(np.uint8)
    with H264Writer(path, fps=fps, size=size, crf=18) as out:
        for _ in range(round(2 * fps)):
            out.write(image)
    return path


def video_fps(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        return float(cap.get(cv2.CAP_PROP_FPS)) or 0.0
    finally:
        cap.release()


def gating_supported() -> bool:
    """Whether this build's camera config accepts a `gating` section."""
    from api.config import ConfigError, parse_config

    try:
        camera = {"id": "probe", "source": "demo", "gating": {"enabled": False}}
        parse_config({"cameras": [camera]}, "probe")
    except ConfigError:
        return False
    return True


def gating_modes(asked: str | None, supported: bool) -> list[str]:
    """The gating settings to run each N with: "off", "on", or "default" (no gating key).

    `asked` None means both when the config accepts a gating section, else the default alone.
    """
    if asked is None:
        return ["off", "on"] if supported else ["default"]
    if not supported:
        raise ValueError(f"--gating {asked}: this build's camera config has no gating section")
    return ["off", "on"] if asked == "both" else [asked]


def cpu_seconds() -> float:
    """CPU seconds this process (all its threads) has used, user and system."""
    t = os.times()
    return t.user + t.system


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cores_busy(cpu_s: float, wall_s: float) -> float:
    """CPU seconds per wall second: 1.0 is one core busy all the time."""
    return cpu_s / wall_s if wall_s > 0 else float("nan")


def _median_p95(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(np.median(values)), float(np.percentile(values, 95))


def summarise_health(
    samples: Sequence[tuple[float, Sequence[Mapping[str, Any]]]],
) -> dict[str, Any]:
    """Per camera and over cameras, from `(monotonic time, runner.health())` read once a second.

    A camera's fps is the frames it analysed over the seconds between samples where it was
    `active` at both ends (all of them when health has no `active`): its average rate while
    active. Reading `analysed_fps` instead would count the idle rate still in its 5 s window
    just after a camera wakes. Cameras active under `MIN_ACTIVE_S` in all do not count in
    `fps_median`/`fps_min` (too few frames to tell 4.8 from 5). `skipped_idle_share` = frames
    skipped idle / (skipped + analysed) (None without `frames_skipped_idle`);
    `inference_wait_ms` is the median and p95 over all samples that report it; `decode_cores` is
    the sum over cameras of each one's median `decode_load` (cores spent reading and decoding).
    """
    by_camera: dict[str, list[tuple[float, Mapping[str, Any]]]] = {}
    for t, sample in samples:
        for h in sample:
            by_camera.setdefault(str(h["camera_id"]), []).append((t, h))
    cameras, waits = [], []
    for camera, rows in by_camera.items():
        active_s = frames = 0.0
        for (t0, h0), (t1, h1) in pairwise(rows):
            if h0.get("active", True) and h1.get("active", True):
                active_s += t1 - t0
                frames += h1["frames_analysed"] - h0["frames_analysed"]
        (_, first), (_, last) = rows[0], rows[-1]
        waits += [h["inference_wait_ms"] for _, h in rows if h.get("inference_wait_ms") is not None]
        loads = [h["decode_load"] for _, h in rows if h.get("decode_load") is not None]
        skipped = None
        if "frames_skipped_idle" in last:
            skipped = last["frames_skipped_idle"] - first.get("frames_skipped_idle", 0)
        cameras.append(
            {
                "camera": camera,
                "fps": round(frames / active_s, 2) if active_s else None,
                "active_s": round(active_s, 1),
                "counted": active_s >= MIN_ACTIVE_S,
                "frames_analysed": last["frames_analysed"] - first["frames_analysed"],
                "frames_skipped_idle": skipped,
                "lag_ms": last.get("lag_ms"),
                "decode_load": statistics.median(loads) if loads else None,
                "decode_ms": last.get("decode_ms"),
                "model_pixels_share": last.get("model_pixels_share"),
            }
        )
    fps = [c["fps"] for c in cameras if c["counted"]]
    counted = [c for c in cameras if c["frames_skipped_idle"] is not None]
    skipped_n = sum(c["frames_skipped_idle"] for c in counted)
    seen = skipped_n + sum(c["frames_analysed"] for c in counted)
    wait_median, wait_p95 = _median_p95(waits)
    loads = [c["decode_load"] for c in cameras if c["decode_load"] is not None]
    shares = [c["model_pixels_share"] for c in cameras if c["model_pixels_share"] is not None]
    return {
        "cameras": cameras,
        "cameras_active": len(fps),
        "fps_median": statistics.median(fps) if fps else None,
        "fps_min": min(fps) if fps else None,
        "skipped_idle_share": skipped_n / seen if counted and seen else None,
        "inference_wait_ms": {"median": wait_median, "p95": wait_p95},
        "decode_cores": round(sum(loads), 3) if loads else None,
        "model_pixels_share": round(statistics.median(shares), 3) if shares else None,
    }


def verdict(run: Mapping[str, Any]) -> list[str]:
    """Why a run is not ok; empty when it is."""
    if run.get("error"):
        return [f"failed: {run['error']}"]
    why = []
    floor = MIN_FPS * (1 - FPS_TOLERANCE)
    if not run["cameras_active"]:
        why.append(f"no camera active for {MIN_ACTIVE_S:g} s")
    elif run["fps_min"] < floor:
        why.append(f"a camera at {run['fps_min']:.1f} fps")
    latency = run["frame_to_websocket"]
    if not latency["n"]:
        why.append("no alert to time")
    elif latency["p95_s"] >= MAX_P95_S:
        why.append(f"p95 {latency['p95_s']:.2f} s")
    if run["missing_on_websocket"]:
        why.append(f"{run['missing_on_websocket']} alert(s) not on the WebSocket")
    return why


def capacity(runs: Sequence[Mapping[str, Any]], gating: str) -> int:
    """The largest N whose run with this gating passed, every smaller N passing too (0: none)."""
    best = 0
    for run in sorted((r for r in runs if r["gating"] == gating), key=lambda r: r["n"]):
        if not run["ok"]:
            break
        best = run["n"]
    return best


def measure_run(
    sources: Sequence[Path],
    *,
    seconds: float,
    size: int,
    gating: str,
    regions: str = "default",
    fit: str = "default",
) -> dict[str, Any]:
    """The service on one camera per source for `seconds` after a warm-up, in this process."""
    import psutil

    from api.alert_latency import (
        SETTLE_S,
        behaviour_alerts,
        delays,
        latency_stats,
        running_service,
        service_config,
    )

    camera: dict[str, Any] = {}
    for section, mode in (("gating", gating), ("regions", regions)):
        if mode != "default":
            camera[section] = {"enabled": mode == "on"}
    model = {} if fit == "default" else {"fit_frame": fit == "on"}
    config = service_config(
        sources, mqtt=None, size=size, camera=camera, model=model, origin="bench-cameras"
    )
    with (
        tempfile.TemporaryDirectory(prefix="carewatch-cameras-") as tmp,
        running_service(config, Path(tmp)) as service,
    ):
        time.sleep(WARMUP_S)
        machine0, cpu0, start = psutil.cpu_times(), cpu_seconds(), time.time()
        t0 = time.monotonic()
        samples = []
        for tick in range(1, max(1, round(seconds)) + 1):
            samples.append((time.monotonic(), service.runner.health()))
            time.sleep(max(0.0, t0 + tick - time.monotonic()))
        samples.append((time.monotonic(), service.runner.health()))
        machine1, cpu1, end = psutil.cpu_times(), cpu_seconds(), time.time()
        t1 = time.monotonic()
        time.sleep(SETTLE_S)  # deliveries of alerts raised at the very end
        alerts = behaviour_alerts(service.alerts, since=start, until=end)
        ws = delays(alerts, service.arrivals.ws)
    own, wall = cpu1 - cpu0, t1 - t0
    busy = _busy(machine1) - _busy(machine0)
    kinds: dict[str, int] = {}
    for a in alerts:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    return {
        **summarise_health(samples),
        "window_s": round(wall, 2),
        "cpu_s": round(own, 2),
        "cores_busy": round(cores_busy(own, wall), 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "others_cpu_share": round(max(0.0, busy - own) / (wall * (psutil.cpu_count() or 1)), 3),
        "alerts": len(alerts),
        "kinds": kinds,
        "frame_to_websocket": latency_stats(ws),
        "missing_on_websocket": len(alerts) - len(ws),
    }


def _busy(times: Any) -> float:
    """CPU seconds the whole machine spent busy (not idle, not waiting for I/O)."""
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _run_json(
    cmd: list[str], env: Mapping[str, str], timeout_s: float, what: str
) -> dict[str, Any]:
    """Run a measuring process whose last stdout line is JSON; RuntimeError when it fails.

    Unless the process says so itself, `others_cpu_share` is added: the share of all cores that
    other processes used while it ran.
    """
    import psutil

    log.info("bench-cameras: %s", what)
    machine0, t0 = psutil.cpu_times(), time.monotonic()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            cmd, env=dict(env), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {exc}") from exc
    result = last_json_line(done.stdout)
    if done.returncode != 0 or result is None:
        tail = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {tail}")
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    others = _busy(psutil.cpu_times()) - _busy(machine0) - own
    capacity_s = (time.monotonic() - t0) * (psutil.cpu_count() or 1)
    result.setdefault("others_cpu_share", round(max(0.0, others) / capacity_s, 3))
    return result


def _measure_in_process(
    sources: Sequence[Path], *, seconds: float, size: int, gating: str, regions: str, fit: str
) -> dict[str, Any]:
    """`measure_run` in a fresh process, so CPU, RSS and threads are this run's alone."""
    cmd = [sys.executable, "-m", "api.capacity", "--worker", "--seconds", str(seconds)]
    cmd += ["--size", str(size), "--gating", gating, "--regions", regions, "--fit", fit]
    cmd += ["--sources"]
    cmd += [str(s) for s in sources]
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    what = f"{len(sources)} camera(s), gating {gating}"
    return _run_json(cmd, env, seconds + WARMUP_S + 180, what)


def measure_reference(clips: Sequence[Clip], *, size: int) -> tuple[dict[str, Any] | None, str]:
    """Plain Ultralytics tracking the clips one after the other in one process using every core:
    (its throughput and capacities, how it ran) or (None, why it did not)."""
    from models.acquire import BUNDLED_STEM, export_env_dir, model_dir

    python = export_env_dir() / "bin" / "python"
    pt = model_dir() / f"{BUNDLED_STEM}.pt"
    if not python.exists():
        return (
            None,
            f"skipped: no export environment python at {python} (`carewatch models install`)",
        )
    if not pt.is_file():
        return None, f"skipped: no checkpoint at {pt} (`carewatch models install`)"
    if not REFERENCE_SCRIPT.is_file():
        return None, f"skipped: {REFERENCE_SCRIPT} is not there (run from a source checkout)"
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cmd = [str(python), str(REFERENCE_SCRIPT), "--pt", str(pt), "--size", str(size)]
    cmd += ["--threads", str(threads or 1), "--max-frames", str(REFERENCE_FRAMES), "--warmup", "5"]
    cmd += ["--video", *(str(c.path) for c in clips)]
    with tempfile.TemporaryDirectory(prefix="carewatch-yolo-") as yolo_dir:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env |= {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "False", "YOLO_CONFIG_DIR": yolo_dir}
        try:
            raw = _run_json(cmd, env, 1800, f"Ultralytics on {len(clips)} clip(s)")
        except RuntimeError as exc:
            log.warning("reference not measured: %s", exc)
            return None, f"FAILED: {exc}"
    if "skipped" in raw:
        return None, f"skipped: {raw['skipped']}"
    frames, wall = len(raw["frame_ms"]), float(raw["wall_s"])
    throughput = frames / wall
    source_fps = statistics.mean(c.fps for c in clips)
    versions = raw.get("versions") or {}
    note = (
        f"Ultralytics {versions.get('ultralytics', '?')} (torch {versions.get('torch', '?')}): "
        f"YOLO({pt.name}).track(imgsz={size}, stream=True, persist=True, "
        f"tracker='bytetrack.yaml', device='cpu'), torch.set_num_threads({raw['threads']}), "
        f"over {len(clips)} clip(s) one after the other, up to {REFERENCE_FRAMES} frames each"
    )
    return {
        "clips": [c.path.name for c in clips],
        "frames": frames,
        "wall_s": round(wall, 2),
        "threads": raw["threads"],
        "throughput_fps": round(throughput, 2),
        "cores_busy": round(cores_busy(float(raw["cpu_s"]), wall), 2),
        "peak_rss_mib": round(float(raw["peak_rss_bytes"]) / 2**20, 1),
        "source_fps": round(source_fps, 2),
        "cameras_at_5fps": round(throughput / MIN_FPS, 2),
        "cameras_every_frame": round(throughput / source_fps, 2),
        "others_cpu_share": raw["others_cpu_share"],
    }, note


def run(
    *,
    cameras: Sequence[int],
    seconds: float,
    clips: Path = DEFAULT_CLIPS,
    idle: int = 0,
    gating: str | None = None,
    regions: str | None = None,
    fit: str | None = None,
    size: int = 480,
    reference: bool = True,
    data_dir: Path = Path("data"),
) -> dict[str, Any]:
    """Measure every camera count (and gating setting), then the reference; the whole report.

    Without `clips/labels.csv` every camera plays the demo video (generated into `data_dir`).
    Raises ValueError for arguments that cannot work, `ModelInstallError` when the model of
    `size` is not installed.
    """
    from api.alert_latency import demo_video
    from api.bench import machine_info
    from models.acquire import model_dir, resolve_onnx
    from models.config import PoseModelConfig

    if seconds <= 0 or idle < 0 or not cameras or min(cameras) < 1:
        raise ValueError("need seconds > 0, idle >= 0 and camera counts of at least 1")
    resolve_onnx(PoseModelConfig(input_size=size), model_dir())
    modes = gating_modes(gating, gating_supported())
    most = max(cameras)
    if (clips / "labels.csv").is_file():
        mix = select_clips(clips, max(most, REFERENCE_CLIPS))
        source = f"mixed real clips from {clips}"
    else:
        demo = demo_video(data_dir)
        mix = [Clip(demo, "demo", video_fps(demo))] * most
        source = f"the demo video on every camera (no labels.csv in {clips})"
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    runs = []
    with tempfile.TemporaryDirectory(prefix="carewatch-cameras-") as tmp:
        still = write_still(Path(tmp) / "still.mp4")
        for n in cameras:
            idle_n = min(idle, n - 1)  # one camera at least plays a clip
            chosen = [*mix[: n - idle_n], *[Clip(still, "idle", STILL_FPS)] * idle_n]
            for mode in modes:
                row: dict[str, Any] = {"n": n, "idle": idle_n, "gating": mode}
                try:
                    row |= _measure_in_process(
                        [c.path for c in chosen],
                        seconds=seconds,
                        size=size,
                        gating=mode,
                        regions=regions or "default",
                        fit=fit or "default",
                    )
                except RuntimeError as exc:
                    log.warning("%s", exc)
                    row["error"] = str(exc)
                for camera, clip in zip(row.get("cameras", []), chosen, strict=False):
                    camera["clip"], camera["kind"] = clip.path.name, clip.kind
                row["why_not"] = verdict(row)
                row["ok"] = not row["why_not"]
                runs.append(row)
    ref, note = None, "not run (--no-reference)"
    if reference:
        ref, note = measure_reference(list(dict.fromkeys(mix))[:REFERENCE_CLIPS], size=size)
    capacities = {m: capacity(runs, m) for m in modes}
    ratios = None
    if ref is not None:
        ratios = {
            m: {
                "vs_at_5fps": round(n / ref["cameras_at_5fps"], 2),
                "vs_every_frame": round(n / ref["cameras_every_frame"], 2),
            }
            for m, n in capacities.items()
        }
    return {
        "started_at": started_at,
        "machine": machine_info(),
        "input_size": size,
        "regions": regions or "default",
        "fit_frame": fit or "default",
        "seconds": seconds,
        "warmup_s": WARMUP_S,
        "source": source,
        "idle": idle,
        "cameras": [
            {"camera": f"cam{i + 1}", "clip": c.path.name, "kind": c.kind}
            for i, c in enumerate(mix[:most])
        ],
        "runs": runs,
        "capacity": capacities,
        "reference": ref,
        "reference_note": note,
        "ratios": ratios,
    }


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def to_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: conditions, one row per run, capacities, the reference."""
    m = report["machine"]
    cams = ", ".join(f"{c['camera']} `{c['clip']}` ({c['kind']})" for c in report["cameras"])
    lines = [
        f"Cameras per box: {report['source']}; input {report['input_size']}, regions "
        f"{report.get('regions', 'default')}, fitted input {report.get('fit_frame', 'default')}, "
        f"{report['seconds']:g} s per run after a {report['warmup_s']:g} s warm-up.",
        "",
        f"- Machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
        f"{m['memory_gib']} GiB; {m['os']}; onnxruntime {m['onnxruntime']}",
        f"- Camera i plays clip i: {cams}"
        + (
            f"; but the last {report['idle']} camera(s) of each run (all but one, when N is "
            "smaller) show an empty still room"
            if report["idle"]
            else ""
        ),
        f"- Started {report['started_at']}",
        f"- ok: every camera active for {MIN_ACTIVE_S:g} s or more analyses {MIN_FPS:g} fps "
        f"while active (down to {MIN_FPS * (1 - FPS_TOLERANCE):g}: a frame at the edges) and "
        f"alert latency frame -> WebSocket has p95 under {MAX_P95_S:g} s with none missing; "
        "largest ok N: every N up to it ok",
        "- cores busy: the service process's CPU seconds per wall second; skipped idle: frames "
        "the motion gate kept from the model / (skipped + analysed); model pixels: median over "
        "cameras of the share of each frame's pixels the model was given (regions); others' "
        "CPU: share of all cores other processes used meanwhile (above a few % the run was "
        "disturbed)",
        "",
        "| N | idle | gating | active cams | fps median | fps min | skipped idle | "
        "model pixels | inference wait ms (median/p95) | alerts | latency median s | p95 s | "
        "missing | cores busy | decode cores | peak RSS MiB | others' CPU | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        gating = r["gating"]
        verdict_cell = "yes" if r["ok"] else "no: " + "; ".join(r["why_not"])
        if r.get("error"):
            lines.append(
                f"| {r['n']} | {r['idle']} | {gating} |" + " – |" * 14 + f" {verdict_cell} |"
            )
            continue
        wait, lat = r["inference_wait_ms"], r["frame_to_websocket"]
        lines.append(
            f"| {r['n']} | {r['idle']} | {gating} | {r['cameras_active']} | "
            f"{_num(r['fps_median'])} | {_num(r['fps_min'])} | {_pct(r['skipped_idle_share'])} | "
            f"{_pct(r.get('model_pixels_share'))} | "
            f"{_num(wait['median'])}/{_num(wait['p95'])} | {r['alerts']} | "
            f"{_num(lat['median_s'], 2)} | {_num(lat['p95_s'], 2)} | {r['missing_on_websocket']} | "
            f"{r['cores_busy']:.2f} | {_num(r.get('decode_cores'), 2)} | "
            f"{r['peak_rss_mib']:.0f} | {_pct(r['others_cpu_share'])} | "
            f"{verdict_cell} |"
        )
    capacities = "; ".join(f"gating {mode}: {n}" for mode, n in report["capacity"].items())
    lines += ["", f"Largest ok N: {capacities}.", "", f"Reference: {report['reference_note']}."]
    ref = report["reference"]
    if ref is not None:
        lines += [
            "",
            f"Plain Ultralytics: {ref['throughput_fps']:.1f} frames/s over {ref['frames']} frames "
            f"({ref['cores_busy']:.2f} cores busy, peak RSS {ref['peak_rss_mib']:.0f} MiB, "
            f"others' CPU {_pct(ref['others_cpu_share'])}); "
            f"clips at {ref['source_fps']:.1f} fps on average. Its capacity: "
            f"{ref['cameras_at_5fps']:.2f} cameras at {MIN_FPS:g} analysed fps (best case), "
            f"{ref['cameras_every_frame']:.2f} analysing every frame.",
            "",
            "| gating | CareWatch N | ÷ reference at 5 fps | ÷ reference every frame |",
            "|---|---|---|---|",
        ]
        for mode, ratio in (report["ratios"] or {}).items():
            lines.append(
                f"| {mode} | {report['capacity'][mode]} | {ratio['vs_at_5fps']:.2f}× | "
                f"{ratio['vs_every_frame']:.2f}× |"
            )
    return "\n".join(lines) + "\n"


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="one bench-cameras run (used by `run`)")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--sources", required=True, nargs="+", type=Path)
    parser.add_argument("--seconds", required=True, type=float)
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--gating", required=True, choices=("on", "off", "default"))
    parser.add_argument("--regions", default="default", choices=("on", "off", "default"))
    parser.add_argument("--fit", default="default", choices=("on", "off", "default"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = measure_run(
        args.sources,
        seconds=args.seconds,
        size=args.size,
        gating=args.gating,
        regions=args.regions,
        fit=args.fit,
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
