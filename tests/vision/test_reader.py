"""CameraReader against real sources: newest-frame buffer, health, reconnects with backoff."""

from __future__ import annotations

import itertools
import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import (
    MjpegServer,
    RtspServer,
    free_port,
    gst_rtsp_unavailable,
    make_clip,
    wait_until,
)
from vision.config import CameraConfig, ReconnectConfig
from vision.reader import CameraHealth, CameraReader, next_delay
from vision.types import Frame

FAST_RECONNECT = {"initial_s": 0.05, "max_s": 0.3, "multiplier": 2.0, "jitter": 0.2}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")  # 3 s, 25 fps, 75 frames


def cam(source: str | Path, **kw: object) -> CameraConfig:
    data: dict[str, object] = {"id": "cam1", "source": str(source), "reconnect": FAST_RECONNECT}
    return CameraConfig.model_validate({**data, **kw})


@pytest.fixture
def reader() -> Iterator[Callable[[CameraConfig], CameraReader]]:
    """Builds started readers and stops every one of them after the test."""
    readers: list[CameraReader] = []

    def make(cfg: CameraConfig) -> CameraReader:
        r = CameraReader(cfg, rng=random.Random(7))
        readers.append(r)
        r.start()
        return r

    yield make
    for r in readers:
        assert r.stop(timeout_s=10), f"reader {r.camera_id} did not stop"


def frames(r: CameraReader, n: int, *, after: int = -1, timeout_s: float = 10.0) -> list[Frame]:
    """Take `n` successive newest frames from `r`, the first with an index above `after`."""
    taken: list[Frame] = []
    last = after
    deadline = time.monotonic() + timeout_s
    while len(taken) < n and time.monotonic() < deadline:
        frame = r.get(last, timeout_s=0.5)
        if frame is not None:
            taken.append(frame)
            last = frame.index
    return taken


# --- backoff ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial_s", "max_s", "multiplier", "expected"),
    [
        (1.0, 30.0, 2.0, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),
        (0.5, 3.0, 3.0, [0.5, 1.5, 3.0, 3.0, 3.0, 3.0, 3.0]),
        (2.0, 2.0, 2.0, [2.0] * 7),
        (1.0, 10.0, 1.0, [1.0] * 7),  # multiplier 1: a constant wait
        (5.0, 1.0, 2.0, [1.0] * 7),  # initial above max: max wins
    ],
)
def test_next_delay_grows_to_max_without_jitter(
    initial_s: float, max_s: float, multiplier: float, expected: list[float]
) -> None:
    cfg = ReconnectConfig(initial_s=initial_s, max_s=max_s, multiplier=multiplier, jitter=0)
    rng = random.Random(0)
    assert [next_delay(n, cfg, rng) for n in range(7)] == pytest.approx(expected)


@pytest.mark.parametrize("jitter", [0.2, 0.5, 1.0])
def test_next_delay_jitter_stays_in_band_and_varies(jitter: float) -> None:
    cfg = ReconnectConfig(initial_s=1.0, max_s=100.0, multiplier=2.0, jitter=jitter)
    rng = random.Random(1)
    for attempt, base in [(0, 1.0), (3, 8.0)]:
        delays = [next_delay(attempt, cfg, rng) for _ in range(500)]
        assert min(delays) >= base * (1 - jitter) - 1e-9
        assert max(delays) <= base * (1 + jitter) + 1e-9
        assert max(delays) - min(delays) > base * jitter  # really random, both ways


def test_next_delay_never_exceeds_max_and_survives_endless_failures() -> None:
    cfg = ReconnectConfig(initial_s=1.0, max_s=30.0, multiplier=10.0, jitter=1.0)
    rng = random.Random(2)
    delays = [next_delay(attempt, cfg, rng) for attempt in (10, 1000, 10**6) for _ in range(100)]
    assert all(0.0 <= d <= 30.0 for d in delays)


def test_next_delay_is_reproducible_with_a_seeded_rng() -> None:
    cfg = ReconnectConfig.model_validate({})
    first = [next_delay(n, cfg, random.Random(42)) for n in range(5)]
    assert first == [next_delay(n, cfg, random.Random(42)) for n in range(5)]
    with pytest.raises(ValueError, match="attempt"):
        next_delay(-1, cfg, random.Random(0))


# --- files ------------------------------------------------------------------------------------


def test_file_reader_builds_frames_and_ends(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, realtime=False))
    taken = frames(r, 3)
    assert [f.camera_id for f in taken] == ["cam1"] * 3
    assert taken[0].image.shape == (240, 320, 3)
    assert all(
        b.index > a.index and b.timestamp > a.timestamp for a, b in itertools.pairwise(taken)
    )
    assert wait_until(lambda: r.health().state == "ended", 10)
    health = r.health()
    assert health.frames_read == 75
    assert health.reconnects == 0 and health.last_error is None
    assert health.last_frame_age_s is not None and health.last_frame_age_s >= 0


def test_newest_frame_slot_drops_frames_nobody_took(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, realtime=False, analysis_fps=60))  # every frame of 25 fps is wanted
    assert wait_until(lambda: r.health().state == "ended", 10)
    health = r.health()
    # Nobody read: every frame but the last was replaced before it was taken.
    assert health.frames_read == 75
    assert health.dropped_frames == 74
    last = r.get(-1, timeout_s=1)
    assert last is not None and last.index == 74
    assert r.get(last.index, timeout_s=0.1) is None  # nothing newer will come


def test_only_frames_the_analysis_can_use_become_pictures(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    """At 5 analysed fps from 25 fps, about one frame in four is converted (one period less one
    source frame apart); the rest are decoded and counted, never offered."""
    r = reader(cam(clip, realtime=True, analysis_fps=5))  # paced, so nothing offered is missed
    offered: list[Frame] = []
    while (frame := r.get(offered[-1].index if offered else -1, timeout_s=2)) is not None:
        offered.append(frame)
    assert wait_until(lambda: r.health().state == "ended", 10)
    health = r.health()
    assert health.frames_read == 75  # every frame decoded and counted as input
    assert 15 <= len(offered) + health.dropped_frames <= 19  # one in four converted
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(offered)]
    assert all(g >= 0.2 - 0.04 - 1e-6 for g in gaps), gaps
    assert offered[0].index == 0 and all(f.image.shape == (240, 320, 3) for f in offered)


def test_realtime_file_is_paced_near_its_frame_rate(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, realtime=True, loop=True))
    assert len(frames(r, 10)) == 10
    time.sleep(0.5)
    health = r.health()
    assert health.state == "online"
    assert 0 < health.input_fps < 100  # 25 fps clip; loose on purpose
    # Without pacing the whole clip decodes in a few ms; paced, 10+ frames took 0.4 s or more.
    assert health.frames_read < 75


def test_looping_file_keeps_going_with_growing_timestamps(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, realtime=False, loop=True))
    assert wait_until(lambda: r.health().frames_read > 200, 10)
    taken = frames(r, 5)
    assert r.health().state == "online"
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(taken))
    assert taken[-1].timestamp > 200 / 25.0 - 1


def test_corrupt_file_backs_off_and_is_picked_up_once_fixed(
    clip: Path, tmp_path: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    path = tmp_path / "camera.mp4"
    path.write_text("not a video yet")
    r = reader(cam(path, realtime=False))
    assert wait_until(lambda: r.health().reconnects >= 2, 10)
    health = r.health()
    assert health.state == "reconnecting"
    assert health.last_error is not None and "not a video file" in health.last_error
    assert health.frames_read == 0 and health.last_frame_age_s is None
    shutil.copyfile(clip, path)
    assert len(frames(r, 1)) == 1
    assert wait_until(lambda: r.health().state == "ended", 10)
    assert r.health().last_error is None


def test_truncated_file_reports_its_frames_then_the_error(
    tmp_path: Path, clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    whole = make_clip(tmp_path / "whole.mp4", faststart=True)
    half = tmp_path / "half.mp4"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    r = reader(cam(half, realtime=False))

    def failed() -> bool:
        h = r.health()
        return h.state == "reconnecting" and h.last_error is not None

    assert wait_until(failed, 10)
    health = r.health()
    assert "truncated" in str(health.last_error)
    assert 0 < health.frames_read < 75


def test_stop_interrupts_a_long_backoff_promptly(
    tmp_path: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    slow = {"initial_s": 60.0, "max_s": 60.0, "multiplier": 1.0, "jitter": 0.0}
    r = reader(cam(tmp_path / "absent.mp4", reconnect=slow))
    assert wait_until(lambda: r.health().state == "reconnecting", 5)
    started = time.monotonic()
    assert r.stop(timeout_s=5)
    assert time.monotonic() - started < 5  # far less than the 60 s wait
    assert r.health().state == "ended"


def test_disabled_camera_never_reads(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, enabled=False))
    assert r.get(-1, timeout_s=0.2) is None
    health = r.health()
    assert health.state == "disabled" and health.frames_read == 0


def test_health_to_dict_is_plain_json_data(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    r = reader(cam(clip, realtime=False))
    assert wait_until(lambda: r.health().state == "ended", 10)
    data = r.health().to_dict()
    assert set(data) == {
        "camera_id",
        "state",
        "input_fps",
        "frames_read",
        "dropped_frames",
        "last_frame_age_s",
        "reconnects",
        "last_error",
        "decode_ms",
        "decode_load",
    }
    assert data["camera_id"] == "cam1" and data["state"] == "ended"
    assert data["decode_ms"] is not None and data["decode_ms"] > 0  # the frames just decoded
    assert data["decode_load"] > 0
    assert isinstance(CameraHealth(**data), CameraHealth)


# --- live sources -----------------------------------------------------------------------------


def test_closed_rtsp_port_reconnects_without_blocking_other_cameras(
    clip: Path, reader: Callable[[CameraConfig], CameraReader]
) -> None:
    dead = reader(cam(f"rtsp://user:pw@127.0.0.1:{free_port()}/live", id="dead"))
    alive = reader(cam(clip, id="alive", realtime=False, loop=True))
    assert len(frames(alive, 5)) == 5
    assert wait_until(lambda: dead.health().reconnects >= 2, 10)
    health = dead.health()
    assert health.state == "reconnecting"
    assert health.last_error is not None
    assert "connection refused" in health.last_error and "user:***@" in health.last_error
    assert alive.health().state == "online"


def test_mjpeg_camera_reconnects_after_the_server_restarts(
    reader: Callable[[CameraConfig], CameraReader],
) -> None:
    server = MjpegServer(fps=30)
    server.start()
    try:
        r = reader(cam(server.url, open_timeout_s=3, read_timeout_s=2))
        first = frames(r, 3)
        assert len(first) == 3
        server.stop()
        assert wait_until(lambda: r.health().state == "reconnecting", 10)
        assert r.health().last_error is not None
        assert wait_until(lambda: r.health().reconnects >= 1, 5)
        server.start()
        again = frames(r, 3, after=first[-1].index)
        assert len(again) == 3
        assert again[0].index > first[-1].index
        assert again[0].timestamp > first[-1].timestamp
        assert r.health().state == "online" and r.health().last_error is None
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.skipif(
    gst_rtsp_unavailable() is not None, reason=f"no RTSP test server: {gst_rtsp_unavailable()}"
)
def test_rtsp_camera_reconnects_after_the_server_comes_back(
    reader: Callable[[CameraConfig], CameraReader],
) -> None:
    server = RtspServer()
    server.start()
    try:
        r = reader(cam(server.url, open_timeout_s=5, read_timeout_s=3))
        first = frames(r, 5)
        assert len(first) == 5
        assert r.health().state == "online"

        server.stop()  # killed: the camera is gone
        assert wait_until(lambda: r.health().state == "reconnecting", 10)
        assert wait_until(lambda: r.health().reconnects >= 2, 10)
        lost = r.health()
        assert lost.last_error is not None and server.url in lost.last_error

        server.start()  # same port: the reader finds it again by itself
        again = frames(r, 5, after=first[-1].index, timeout_s=15)
        assert len(again) == 5
        assert again[0].index > first[-1].index
        assert again[0].timestamp > first[-1].timestamp
        assert r.health().state == "online"
        assert r.health().input_fps > 0
    finally:
        server.stop()
