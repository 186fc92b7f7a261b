"""`carewatch bench-cameras`: the clip mix, the health summary, the ok/capacity logic, the CPU
and memory helpers and the report, then one short end-to-end run on the demo video. Speeds are
measured by the command and written down in docs/PERFORMANCE.md, never asserted here."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.capacity import (
    capacity,
    cores_busy,
    cpu_seconds,
    gating_modes,
    gating_supported,
    parse_counts,
    peak_rss_mib,
    select_clips,
    summarise_health,
    to_markdown,
    verdict,
    write_still,
)
from api.cli import main
from api.evaluation.harness import LabelsError
from tests.builders import read_frames

HEADER = "file,label,subtype,event_start,event_end,fps,frames,width,height\n"


def _labels(folder: Path, rows: dict[str, str]) -> Path:
    """A labels.csv of `file -> label` rows (fall and fight with an event), clips as empty files."""
    lines = []
    for file, label in rows.items():
        event = "10,20" if label in ("fall", "fight") else ","
        lines.append(f"{file},{label},x,{event},18.0,100,640,480\n")
        (folder / file).write_bytes(b"")
    (folder / "labels.csv").write_text(HEADER + "".join(lines))
    return folder


def test_clips_take_turns_by_kind_spread_over_sorted_names(tmp_path: Path) -> None:
    rows = {f"f{i}.mp4": "fall" for i in range(6)} | {"x1.mp4": "fight"}
    rows |= {f"n{i}.mp4": "normal" for i in (3, 1, 2)}
    clips = select_clips(_labels(tmp_path, rows), 7)

    assert [c.kind for c in clips] == ["fall", "fight", "normal"] * 2 + ["fall"]
    # 3 of 6 falls spread over the names, the lone fight repeated, normal in name order
    assert [c.path.name for c in clips if c.kind == "fall"] == ["f0.mp4", "f2.mp4", "f4.mp4"]
    assert [c.path.name for c in clips if c.kind == "fight"] == ["x1.mp4", "x1.mp4"]
    assert [c.path.name for c in clips if c.kind == "normal"] == ["n1.mp4", "n2.mp4"]
    assert clips[0].fps == 18.0 and clips[0].path == tmp_path / "f0.mp4"
    assert select_clips(tmp_path, 3) == clips[:3]  # a bigger N keeps the smaller N's cameras


def test_clips_without_a_kind_use_the_others(tmp_path: Path) -> None:
    clips = select_clips(_labels(tmp_path, {"a.mp4": "normal", "b.mp4": "fall"}), 3)
    assert [c.path.name for c in clips] == ["b.mp4", "a.mp4", "b.mp4"]


def test_missing_clip_is_a_clear_error(tmp_path: Path) -> None:
    _labels(tmp_path, {"a.mp4": "fall"})
    (tmp_path / "a.mp4").unlink()
    with pytest.raises(LabelsError, match=r"a\.mp4: named in labels\.csv but not there"):
        select_clips(tmp_path, 1)
    with pytest.raises(LabelsError, match="not found"):
        select_clips(tmp_path / "nowhere", 1)


def test_still_room_video_does_not_change(tmp_path: Path) -> None:
    path = write_still(tmp_path / "still.mp4", size=(320, 240), fps=10)
    frames = [image.astype(np.int16) for image in read_frames(path)]
    assert len(frames) == 20 and frames[0].shape == (240, 320, 3)
    assert frames[0].std() > 5  # a textured room, not a flat colour
    assert max(int(np.abs(f - frames[0]).max()) for f in frames) <= 6  # codec noise at most


@pytest.mark.parametrize(
    ("text", "counts"), [("1,2,4,8,16", (1, 2, 4, 8, 16)), ("4, 1,4", (1, 4)), ("3", (3,))]
)
def test_camera_counts(text: str, counts: tuple[int, ...]) -> None:
    assert parse_counts(text) == counts


@pytest.mark.parametrize("text", ["", "0,2", "two", "1;2"])
def test_bad_camera_counts(text: str) -> None:
    with pytest.raises(ValueError, match="--cameras"):
        parse_counts(text)


@pytest.mark.parametrize(
    ("asked", "supported", "modes"),
    [
        (None, True, ["off", "on"]),
        (None, False, ["default"]),
        ("both", True, ["off", "on"]),
        ("on", True, ["on"]),
        ("off", True, ["off"]),
    ],
)
def test_gating_modes(asked: str | None, supported: bool, modes: list[str]) -> None:
    assert gating_modes(asked, supported) == modes


def test_gating_asked_without_gating_in_the_config() -> None:
    with pytest.raises(ValueError, match="no gating section"):
        gating_modes("on", False)
    assert isinstance(gating_supported(), bool)


def _health(camera: str, analysed: int, **gating: Any) -> dict[str, Any]:
    return {"camera_id": camera, "analysed_fps": 0.0, "frames_analysed": analysed, **gating}


def test_health_without_gating_counts_every_second() -> None:
    samples = [(float(t), [_health("cam1", 5 * t), _health("cam2", 4 * t)]) for t in range(11)]
    s = summarise_health(samples)

    assert [(c["camera"], c["fps"], c["active_s"]) for c in s["cameras"]] == [
        ("cam1", 5.0, 10.0),
        ("cam2", 4.0, 10.0),
    ]
    assert (s["cameras_active"], s["fps_median"], s["fps_min"]) == (2, 4.5, 4.0)
    assert s["skipped_idle_share"] is None
    assert s["inference_wait_ms"] == {"median": None, "p95": None}
    assert s["decode_cores"] is None
    assert s["model_pixels_share"] is None


def test_decode_cost_is_summed_over_cameras() -> None:
    samples = [
        (
            float(t),
            [_health("cam1", 5 * t, decode_load=0.05), _health("cam2", 5 * t, decode_load=d)],
        )
        for t, d in enumerate([0.1, 0.3, 0.2])
    ]
    s = summarise_health(samples)
    assert [c["decode_load"] for c in s["cameras"]] == [0.05, 0.2]
    assert s["decode_cores"] == 0.25


def test_health_with_gating_counts_only_active_seconds() -> None:
    samples = []
    analysed = skipped = 0
    for t in range(21):
        active = t < 8  # cam1 busy for 8 s (5 fps), then idle (1 fps, 4 of 5 frames skipped)
        samples.append(
            (
                float(t),
                [
                    _health(
                        "cam1",
                        analysed,
                        active=active,
                        frames_skipped_idle=skipped,
                        inference_wait_ms=10.0 + t,
                        model_pixels_share=0.5,
                    ),
                    _health(
                        "cam2",
                        t,
                        active=False,
                        frames_skipped_idle=4 * t,
                        inference_wait_ms=0.0,
                        model_pixels_share=1.0,
                    ),
                ],
            )
        )
        analysed += 5 if t < 7 else 1
        skipped += 0 if t < 7 else 4
    s = summarise_health(samples)

    cam1, cam2 = s["cameras"]
    assert (cam1["fps"], cam1["active_s"], cam1["counted"]) == (5.0, 7.0, True)
    assert (cam2["fps"], cam2["counted"], cam2["frames_skipped_idle"]) == (None, False, 80)
    assert (s["cameras_active"], s["fps_min"]) == (1, 5.0)  # the idle room does not count
    assert s["skipped_idle_share"] == pytest.approx((52 + 80) / (52 + 80 + 48 + 20))
    # cam1 waited 10..30 ms, cam2 never (0.0 is a wait too, unlike a missing figure)
    assert s["inference_wait_ms"]["median"] == 5.0
    assert s["model_pixels_share"] == 0.75  # the median over the two cameras


def _run(n: int, gating: str = "off", **over: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "n": n,
        "idle": 0,
        "gating": gating,
        "cameras_active": n,
        "fps_median": 5.0,
        "fps_min": 4.9,
        "frame_to_websocket": {"n": 4, "median_s": 0.3, "p95_s": 0.8, "max_s": 0.9},
        "missing_on_websocket": 0,
    }
    run |= over
    run["why_not"] = verdict(run)
    run["ok"] = not run["why_not"]
    return run


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({}, []),
        ({"fps_min": 4.7}, ["a camera at 4.7 fps"]),
        ({"cameras_active": 0, "fps_min": None}, ["no camera active for 5 s"]),
        ({"frame_to_websocket": {"n": 3, "p95_s": 2.0}}, ["p95 2.00 s"]),
        ({"frame_to_websocket": {"n": 0, "p95_s": None}}, ["no alert to time"]),
        ({"missing_on_websocket": 1}, ["1 alert(s) not on the WebSocket"]),
        ({"error": "boom"}, ["failed: boom"]),
    ],
)
def test_verdict_says_why_a_run_is_not_ok(over: dict[str, Any], why: list[str]) -> None:
    assert _run(2, **over)["why_not"] == why


def test_capacity_is_the_largest_n_with_every_smaller_n_ok() -> None:
    runs = [
        _run(1),
        _run(2),
        _run(4, fps_min=3.0),
        _run(8),  # a lucky pass after a failure does not count
        _run(1, "on"),
        _run(2, "on"),
        _run(4, "on"),
    ]
    assert capacity(runs, "off") == 2
    assert capacity(runs, "on") == 4
    assert capacity([_run(1, fps_min=1.0)], "off") == 0


def test_cpu_and_memory_helpers() -> None:
    import psutil

    before = cpu_seconds()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert cpu_seconds() - before >= 0.1  # os.times counts in clock ticks (10 ms)
    current = psutil.Process().memory_info().rss / 2**20
    assert peak_rss_mib() >= current * 0.99  # in MiB, and a peak
    assert cores_busy(3.0, 2.0) == 1.5
    assert np.isnan(cores_busy(1.0, 0.0))


def _report(reference: bool) -> dict[str, Any]:
    waits = {"median": 12.0, "p95": 30.0}
    runs = [
        _run(1, skipped_idle_share=None, inference_wait_ms=waits),
        _run(
            2, skipped_idle_share=0.25, inference_wait_ms=waits, fps_min=4.0, model_pixels_share=0.4
        ),
        {"n": 4, "idle": 1, "gating": "off", "error": "worker died"},
    ]
    for r in runs:
        r.setdefault("alerts", 4)
        r |= {"cores_busy": 1.5, "peak_rss_mib": 600.0, "others_cpu_share": 0.01}
        r["why_not"] = verdict(r)
        r["ok"] = not r["why_not"]
    ref = {
        "throughput_fps": 20.0,
        "frames": 300,
        "cores_busy": 1.9,
        "peak_rss_mib": 800.0,
        "source_fps": 25.0,
        "cameras_at_5fps": 4.0,
        "cameras_every_frame": 0.8,
        "others_cpu_share": 0.02,
    }
    return {
        "machine": {
            "cpu": "Test CPU",
            "logical_cores": 2,
            "usable_cores": 2,
            "memory_gib": 8,
            "os": "Linux",
            "onnxruntime": "1.0",
        },
        "source": "mixed real clips from clips",
        "input_size": 480,
        "seconds": 30.0,
        "warmup_s": 5.0,
        "idle": 1,
        "started_at": "2026-01-01T00:00:00+00:00",
        "cameras": [{"camera": "cam1", "clip": "f0.mp4", "kind": "fall"}],
        "runs": runs,
        "capacity": {"off": capacity(runs, "off")},
        "reference": ref if reference else None,
        "reference_note": "Ultralytics 8 ..." if reference else "not run (--no-reference)",
        "ratios": {"off": {"vs_at_5fps": 0.25, "vs_every_frame": 1.25}} if reference else None,
    }


def test_report_rows_capacity_and_reference() -> None:
    text = to_markdown(_report(reference=True))

    row = "| 1 | 0 | off | 1 | 5.0 | 4.9 | – | – | 12.0/30.0 | 4 | 0.30 | 0.80 | 0 | 1.50 | – |"
    assert row + " 600 | 1% | yes |" in text
    assert "| 2 | 0 | off | 2 | 5.0 | 4.0 | 25% | 40% |" in text
    assert "no: a camera at 4.0 fps |" in text
    assert "| 4 | 1 | off |" + " – |" * 14 + " no: failed: worker died |" in text
    assert "Largest ok N: gating off: 1." in text
    assert "cam1 `f0.mp4` (fall); but the last 1 camera(s)" in text
    assert "others' CPU 2%" in text
    assert "20.0 frames/s over 300 frames" in text and "4.00 cameras at 5 analysed fps" in text
    assert "| off | 1 | 0.25× | 1.25× |" in text


def test_report_without_reference_says_why() -> None:
    text = to_markdown(_report(reference=False))
    assert "Reference: not run (--no-reference)." in text and "÷ reference" not in text


def test_bad_arguments_are_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-cameras", "--cameras", "0,2"]) == 2
    assert "--cameras needs counts of at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_one_demo_camera_end_to_end(
    tmp_path: Path, demo_video: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_video[0], data / "demo.mp4")  # what ensure_demo_video would make
    out = tmp_path / "cameras.json"
    args = ["bench-cameras", "--cameras", "1", "--seconds", "5", "--no-reference"]
    args += ["--clips", str(tmp_path / "no-clips"), "--data-dir", str(data), "--json", str(out)]

    assert main(args) == 0

    report = json.loads(out.read_text())
    assert report["source"].startswith("the demo video on every camera")
    assert report["cameras"] == [{"camera": "cam1", "clip": "demo.mp4", "kind": "demo"}]
    assert report["reference"] is None and report["reference_note"].startswith("not run")
    modes = gating_modes(None, gating_supported())
    assert [r["gating"] for r in report["runs"]] == modes and set(report["capacity"]) == set(modes)
    for run in report["runs"]:
        assert "error" not in run, run["error"]
        for key in (
            "fps_median",
            "fps_min",
            "skipped_idle_share",
            "inference_wait_ms",
            "alerts",
            "frame_to_websocket",
            "missing_on_websocket",
            "cores_busy",
            "peak_rss_mib",
            "others_cpu_share",
            "ok",
            "why_not",
        ):
            assert key in run, key
        (camera,) = run["cameras"]
        assert camera["camera"] == "cam1" and camera["frames_analysed"] > 0
        assert run["cores_busy"] > 0 and run["peak_rss_mib"] > 100  # a model was loaded
        assert run["ok"] == (not run["why_not"])
    printed = capsys.readouterr().out
    assert "| N | idle | gating |" in printed and "Largest ok N:" in printed
