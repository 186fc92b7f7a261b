"""The command line as a person uses it: real model, real files, clear errors with status 2."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import pytest

from api.cli import main


def test_detect_writes_tracks_and_an_annotated_video(
    people_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, video = tmp_path / "tracks.jsonl", tmp_path / "annotated.mp4"
    assert main(["detect", str(people_clip), "--out", str(out), "--annotate", str(video)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(45))
    assert all(b["t"] > a["t"] for a, b in itertools.pairwise(lines))
    late = lines[3:]
    ids = {p["track_id"] for line in late for p in line["people"] if p["track_id"] >= 0}
    assert len(ids) == 2, "two people, each on one stable id"
    for line in late:
        assert {p["track_id"] for p in line["people"]} >= ids, f"someone lost at {line['frame']}"
    person = late[0]["people"][0]
    assert len(person["keypoints"]) == 17 and len(person["xyxy"]) == 4
    assert "2 tracks" in capsys.readouterr().out
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 45
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(15, abs=0.1)


def test_detect_subsamples_to_the_requested_rate(people_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracks.jsonl"
    assert main(["detect", str(people_clip), "--out", str(out), "--fps", "5"]) == 0
    frames = [json.loads(line)["frame"] for line in out.read_text().splitlines()]
    assert len(frames) == 15 and frames[:3] == [0, 3, 6]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "not found"), (b"hello, not a video", "not a video")],
)
def test_detect_on_a_broken_video_says_what_is_wrong(
    tmp_path: Path,
    model_cache: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    expected: str,
) -> None:
    video = tmp_path / "camera.mp4"
    if content is not None:
        video.write_bytes(content)
    assert main(["detect", str(video), "--out", str(tmp_path / "t.jsonl")]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(video) in err


def test_truncated_video_is_reported_without_losing_what_was_written(
    people_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Re-encode with the index first (faststart), then cut: the head decodes, the rest is gone.
    import av

    whole = tmp_path / "whole.mp4"
    with (
        av.open(str(people_clip)) as src,
        av.open(str(whole), "w", options={"movflags": "+faststart"}) as dst,
    ):
        stream = dst.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for frame in src.decode(video=0):
            dst.mux(stream.encode(frame.reformat(format="yuv420p")))
        dst.mux(stream.encode())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out = tmp_path / "tracks.jsonl"
    assert main(["detect", str(cut), "--out", str(out)]) == 2
    assert "truncated" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) > 5, "frames before the damage are kept"


def test_bad_config_stops_with_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "station.yaml"
    config.write_text("model:\n  treads: 4\n")
    assert main(["config-check", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "model.treads" in err and "threads" in err


def test_missing_model_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREWATCH_MODEL_DIR", str(tmp_path / "empty-cache"))
    video = tmp_path / "x.mp4"
    video.write_bytes(b"")
    assert main(["detect", str(video)]) == 2
    assert "carewatch models install" in capsys.readouterr().err
