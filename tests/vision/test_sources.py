"""Opening and reading video sources for real: files made by ffmpeg, MJPEG and files over HTTP,
RTSP from GStreamer's rtsp-server, and the errors a user sees when a source is wrong."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.servers import MjpegServer, RtspServer, free_port, gst_rtsp_unavailable, make_clip
from vision.config import CameraConfig
from vision.sources import SourceError, VideoSource, mask_url, open_source

CLIP_FRAMES = 75  # 3 s at 25 fps


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good clip, its first half (index at the end, so nothing opens), the first half of a
    faststart clip (opens, stops decoding early), and a text file named .mp4."""
    root = tmp_path_factory.mktemp("clips")
    good = make_clip(root / "clip.mp4")
    faststart = make_clip(root / "faststart.mp4", faststart=True)
    half = root / "half.mp4"
    half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    half_faststart = root / "half_faststart.mp4"
    half_faststart.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    text = root / "notes.mp4"
    text.write_text("this is not a video\n")
    return {
        "good": good,
        "faststart": faststart,
        "half": half,
        "half_faststart": half_faststart,
        "text": text,
    }


def cam(source: str | Path, **kw: object) -> CameraConfig:
    return CameraConfig.model_validate({"id": "cam1", "source": str(source), **kw})


def read_n(source: VideoSource, n: int) -> list[tuple[np.ndarray, float]]:
    items = []
    for _ in range(n):
        item = source.read()
        if item is None:
            break
        items.append(item)
    return items


def test_file_reads_every_frame_with_stream_timestamps(clips: dict[str, Path]) -> None:
    source = open_source(cam(clips["good"], realtime=False))
    try:
        assert not source.is_live
        assert source.fps == pytest.approx(25.0)
        items = read_n(source, 1000)
        assert source.read() is None  # stays at the end
    finally:
        source.close()
    assert len(items) == CLIP_FRAMES
    image, _ = items[0]
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    stamps = np.array([t for _, t in items])
    assert stamps[0] == pytest.approx(0.0)
    assert np.all(np.diff(stamps) > 0)
    assert stamps[-1] == pytest.approx((CLIP_FRAMES - 1) / 25.0, abs=1e-3)


def test_file_loop_keeps_timestamps_growing(clips: dict[str, Path]) -> None:
    source = open_source(cam(clips["good"], loop=True, realtime=False))
    try:
        items = read_n(source, 2 * CLIP_FRAMES + 10)
    finally:
        source.close()
    assert len(items) == 2 * CLIP_FRAMES + 10  # never ends
    stamps = np.array([t for _, t in items])
    assert np.all(np.diff(stamps) > 0)
    # The second pass continues one frame interval after the first.
    assert stamps[CLIP_FRAMES] == pytest.approx(CLIP_FRAMES / 25.0, abs=1e-3)
    assert stamps[2 * CLIP_FRAMES] == pytest.approx(2 * CLIP_FRAMES / 25.0, abs=1e-3)
    # And the picture starts again: frame 0 of both passes is the same image.
    assert np.array_equal(items[0][0], items[CLIP_FRAMES][0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing", "video file not found"),
        ("text", "not a video file"),
        ("half", "corrupt or truncated MP4/MOV file"),
        ("dir", "not a regular file"),
        ("empty", "the file is empty"),
    ],
)
def test_file_that_cannot_open_says_why(
    clips: dict[str, Path], tmp_path: Path, name: str, expected: str
) -> None:
    paths = {
        "missing": tmp_path / "nowhere.mp4",
        "dir": tmp_path,
        "empty": tmp_path / "empty.mp4",
        **clips,
    }
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SourceError) as info:
        open_source(cam(paths[name]))
    message = str(info.value)
    assert expected in message
    assert str(paths[name]) in message  # names the source


def test_truncated_file_is_reported_when_decoding_stops_early(clips: dict[str, Path]) -> None:
    # The first half of a faststart MP4 opens (its index is complete) and decodes about a third
    # of the frames before the data runs out; OpenCV just reports the end of the stream.
    source = open_source(cam(clips["half_faststart"], realtime=False))
    decoded = 0
    try:
        with pytest.raises(SourceError, match=r"truncated or corrupt: decoded (\d+) of 75 frames"):
            while source.read() is not None:
                decoded += 1
    finally:
        source.close()
    assert 0 < decoded < CLIP_FRAMES


def test_complete_faststart_file_is_not_flagged(clips: dict[str, Path]) -> None:
    source = open_source(cam(clips["faststart"], realtime=False))
    try:
        assert len(read_n(source, 1000)) == CLIP_FRAMES
    finally:
        source.close()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("device:9", "video device /dev/video9 not found"),
        ("/dev/video9", "video device /dev/video9 not found"),
        ("device:front", "device:N"),
        ("ftp://example.org/x.mp4", "unsupported URL scheme 'ftp'"),
    ],
)
def test_bad_device_or_scheme_says_why(source: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected):
        open_source(cam(source))


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://admin:***@10.0.0.5:554/stream1"),
        ("http://u:p@cam.local/video.mjpg?x=1", "http://u:***@cam.local/video.mjpg?x=1"),
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        ("rtsp://viewer@10.0.0.5/s", "rtsp://viewer@10.0.0.5/s"),
        ("/videos/hall.mp4", "/videos/hall.mp4"),
    ],
)
def test_mask_url_hides_passwords(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_rtsp_closed_port_is_refused_with_masked_password() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        open_source(cam(f"rtsp://admin:s3cret@127.0.0.1:{port}/live", open_timeout_s=3))
    message = str(info.value)
    assert "connection refused" in message
    assert f"rtsp://admin:***@127.0.0.1:{port}/live" in message
    assert "s3cret" not in message
    assert time.monotonic() - started < 3  # refused at once, not after the open timeout


# --- HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def mjpeg(clips: dict[str, Path]) -> Iterator[MjpegServer]:
    files = {
        "/clip.mp4": ("video/mp4", clips["faststart"].read_bytes()),
        "/page.html": ("text/html", b"<html><body>login</body></html>"),
    }
    server = MjpegServer(fps=30, files=files)
    server.start()
    yield server
    server.stop()


def test_mjpeg_over_http_is_live_with_wall_clock_timestamps(mjpeg: MjpegServer) -> None:
    before = time.time()
    source = open_source(cam(mjpeg.url, open_timeout_s=5, read_timeout_s=5))
    try:
        assert source.is_live
        items = read_n(source, 10)
    finally:
        source.close()
    after = time.time()
    assert len(items) == 10
    image, _ = items[0]
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    stamps = np.array([t for _, t in items])
    assert np.all(np.diff(stamps) > 0)
    assert before <= stamps[0] and stamps[-1] <= after


def test_mjpeg_server_gone_is_a_lost_stream(mjpeg: MjpegServer) -> None:
    source = open_source(cam(mjpeg.url, open_timeout_s=5, read_timeout_s=2))
    try:
        assert len(read_n(source, 3)) == 3
        mjpeg.stop()
        with pytest.raises(SourceError, match="stream lost"):
            read_n(source, 1000)
    finally:
        source.close()


def test_mjpeg_server_that_hangs_is_lost_after_the_read_timeout(mjpeg: MjpegServer) -> None:
    source = open_source(cam(mjpeg.url, open_timeout_s=5, read_timeout_s=1))
    try:
        assert len(read_n(source, 3)) == 3
        mjpeg.stalled.set()
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"stream lost: .* within 1 s"):
            read_n(source, 1000)
        assert time.monotonic() - started < 8  # bounded by the read timeout, not hung
    finally:
        source.close()


def test_video_file_over_http_reads_like_a_file(mjpeg: MjpegServer) -> None:
    url = f"http://127.0.0.1:{mjpeg.port}/clip.mp4"
    source = open_source(cam(url, realtime=False))
    try:
        assert not source.is_live
        items = read_n(source, 1000)
    finally:
        source.close()
    assert len(items) == CLIP_FRAMES
    assert items[-1][1] == pytest.approx((CLIP_FRAMES - 1) / 25.0, abs=1e-3)


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/missing.mjpg", "HTTP 404"), ("/page.html", "text/html, not a video stream")],
)
def test_http_error_says_why(mjpeg: MjpegServer, path: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected):
        open_source(cam(f"http://127.0.0.1:{mjpeg.port}{path}", open_timeout_s=3))


# --- RTSP -------------------------------------------------------------------------------------

needs_rtsp = pytest.mark.skipif(
    gst_rtsp_unavailable() is not None, reason=f"no RTSP test server: {gst_rtsp_unavailable()}"
)


@pytest.fixture
def rtsp() -> Iterator[RtspServer]:
    server = RtspServer()
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
@needs_rtsp
def test_rtsp_stream_gives_frames_paced_by_the_stream(rtsp: RtspServer) -> None:
    source = open_source(cam(rtsp.url, open_timeout_s=5, read_timeout_s=3))
    try:
        assert source.is_live
        items = read_n(source, 30)
        now = time.time()
    finally:
        source.close()
    assert len(items) == 30
    assert items[0][0].shape == (240, 320, 3)
    stamps = np.array([t for _, t in items])
    assert np.all(np.diff(stamps) > 0)
    assert stamps[-1] <= now  # never in the future
    assert now - stamps[-1] < 5  # and wall clock, not seconds since the stream began


@pytest.mark.slow
@needs_rtsp
def test_rtsp_wrong_path_is_named(rtsp: RtspServer) -> None:
    with pytest.raises(SourceError, match="404"):
        open_source(cam(rtsp.url.replace("/test", "/nothing"), open_timeout_s=5))
