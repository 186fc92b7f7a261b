"""`run_bench` times every stage of CareWatch (and Ultralytics) on a real clip with the real model.

The clip is made here: 2 s at 10 fps, 320x240, panning over Ultralytics' zidane.jpg (two people),
so the model finds someone to track. Timings are measured, never asserted against a number.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from api.bench import STAGES, BenchReport, EngineResult, Stat, format_markdown, run_bench
from models.acquire import ModelInstallError, assets_dir, export_env_dir, model_dir, resolve_onnx
from models.config import PoseModelConfig

FPS, SECONDS, SIZE = 10, 2, (320, 240)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        resolve_onnx(PoseModelConfig.model_validate({"input_size": 320}), model_dir())
        photo = cv2.imread(str(assets_dir(model_dir()) / "zidane.jpg"))
    except ModelInstallError as exc:
        pytest.skip(f"model cache incomplete: {exc}")
    assert photo is not None, "cannot read zidane.jpg from the model cache"
    w, h = SIZE
    # Scale the photo to the clip's height plus a margin, then pan across it.
    scale = (h + 40) / photo.shape[0]
    photo = cv2.resize(photo, (round(photo.shape[1] * scale), h + 40))
    path = tmp_path_factory.mktemp("bench") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, SIZE)
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for i in range(FPS * SECONDS):
        x, y = i * 3, (i * 2) % 40
        writer.write(np.ascontiguousarray(photo[y : y + h, x : x + w]))
    writer.release()
    return path


def _check_engine(e: EngineResult, *, frames: int) -> None:
    assert e.frames == frames
    assert set(e.stages) == set(STAGES)
    for name, stat in e.stages.items():
        # Ultralytics' decode is a remainder (wall minus timed stages) and may round to zero.
        floor = 0.0 if (e.engine, name) == ("ultralytics", "decode") else 1e-6
        assert stat.median_ms >= floor and stat.p95_ms >= stat.median_ms, (name, stat)
    assert 0 < e.frame.median_ms <= e.frame.p95_ms
    assert e.fps > 0 and e.frames_per_cpu_s > 0 and e.cpu_cores_busy > 0
    assert e.peak_rss_mib > 50  # at least an interpreter with numpy and the model loaded
    assert e.people_max >= 1  # zidane.jpg shows two people


def test_carewatch_stages_on_a_generated_clip(clip: Path) -> None:
    report = run_bench(clip, sizes=(320,), max_frames=10, reference=False, warmup=3)

    assert report.video_frames == FPS * SECONDS and report.video_size == SIZE
    (result,) = report.results
    assert result.input_size == 320 and result.ultralytics is None and result.fps_ratio is None
    _check_engine(result.carewatch, frames=10 - 3)
    assert result.carewatch.network_input_hw == (320, 320)  # square (model.fit_frame off)
    assert result.carewatch.threads == 2
    assert report.reference.startswith("not run")
    assert report.machine["onnxruntime"] and report.machine["logical_cores"]

    text = format_markdown(report)
    assert "| 320 | CareWatch | 320×320 |" in text
    assert "| 320 | Ultralytics | – |" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["results"][0]["carewatch"]["stages"]["inference"]["median_ms"] > 0
    assert data["results"][0]["fps_ratio"] is None


def test_missing_export_env_skips_the_reference(clip: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-env" / "bin" / "python"
    report = run_bench(clip, sizes=(320,), max_frames=6, export_python=missing, warmup=3)

    assert report.reference.startswith("skipped") and str(missing) in report.reference
    assert report.results[0].ultralytics is None
    assert report.results[0].carewatch.frames == 3
    assert "skipped" in format_markdown(report)


@pytest.mark.parametrize(
    ("max_frames", "warmup", "match"),
    [(5, 5, "must exceed"), (10, 3, "cannot open")],
)
def test_bad_arguments_are_refused(
    tmp_path: Path, max_frames: int, warmup: int, match: str
) -> None:
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("not a video")
    with pytest.raises(ValueError, match=match):
        run_bench(not_a_video, max_frames=max_frames, warmup=warmup, reference=False)


def test_stat_is_median_and_95th_percentile() -> None:
    stat = Stat.of([float(x) for x in range(1, 101)])
    assert stat.median_ms == pytest.approx(50.5)
    assert stat.p95_ms == pytest.approx(95.05)
    with pytest.raises(ValueError):
        Stat.of([])


@pytest.mark.slow
def test_ultralytics_reference_runs_beside_carewatch(clip: Path) -> None:
    python = export_env_dir() / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no export environment at {python.parent.parent}")
    report: BenchReport = run_bench(clip, sizes=(320,), max_frames=10, warmup=3, threads=2)
    if report.reference.startswith("skipped"):
        pytest.skip(f"reference not runnable here: {report.reference}")

    assert "FAILED" not in report.reference, report.reference
    (result,) = report.results
    assert result.ultralytics is not None
    _check_engine(result.ultralytics, frames=10 - 3)
    assert result.ultralytics.threads == 2  # pinned like ONNX Runtime, not Ultralytics' own pick
    # Ultralytics letterboxes a .pt model to a multiple of 32 only: 320x240 -> 320x256.
    assert result.ultralytics.network_input_hw == (256, 320)
    assert result.fps_ratio is not None and result.fps_ratio > 0
    assert "torch.set_num_threads(2)" in report.reference
    text = format_markdown(report)
    assert "| 320 | Ultralytics | 320×256 |" in text and "×" in text.split("fps ratio")[1]
