"""H264Writer writes MP4 files that OpenCV and browsers read back."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.builders import read_frames
from vision.video_io import H264Writer, h264_encoder

COLOURS = ((0, 0, 255), (0, 255, 0), (255, 0, 0), (40, 200, 220))  # BGR


def _frame(i: int, size: tuple[int, int]) -> np.ndarray:
    """A solid colour changing every 5 frames, with a white bar moving across."""
    w, h = size
    image = np.empty((h, w, 3), np.uint8)
    image[:] = COLOURS[(i // 5) % len(COLOURS)]
    x = (i * 7) % (w - 10)
    image[: h // 4, x : x + 10] = 255
    return image


def test_h264_encoder_prefers_libx264_when_present() -> None:
    name = h264_encoder()
    assert name in av.codecs_available
    if "libx264" in av.codecs_available:
        assert name == "libx264"


@pytest.mark.parametrize("size", [(160, 120), (161, 121)])
def test_writes_h264_that_opencv_reads_back(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "clip.mp4"
    with H264Writer(path, fps=15.0, size=size) as writer:
        for i in range(20):
            writer.write(_frame(i, size))
    assert writer.frames_written == 20

    frames = read_frames(path)
    even = (size[0] - size[0] % 2, size[1] - size[1] % 2)
    assert len(frames) == 20
    assert all(f.shape == (even[1], even[0], 3) for f in frames)
    for i, got in enumerate(frames):
        # Compare the lower half (no moving bar): solid colours survive yuv420p within a few levels.
        want = np.array(COLOURS[(i // 5) % len(COLOURS)], np.float32)
        mean = got[even[1] // 2 :].reshape(-1, 3).astype(np.float32).mean(axis=0)
        assert np.abs(mean - want).max() < 12, (i, mean, want)

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == even
        assert stream.average_rate == 15
    data = path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "faststart: the index precedes the data"


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((120, 160), np.uint8),  # grey
        np.zeros((120, 160, 4), np.uint8),  # BGRA
        np.zeros((160, 120, 3), np.uint8),  # transposed
        np.zeros((120, 160, 3), np.float32),  # wrong dtype
    ],
)
def test_rejects_images_of_the_wrong_shape(tmp_path: Path, image: np.ndarray) -> None:
    writer = H264Writer(tmp_path / "x.mp4", fps=10, size=(160, 120))
    with pytest.raises(ValueError, match=r"expects uint8 images of shape \(120, 160, 3\)"):
        writer.write(image)
    writer.write(np.zeros((120, 160, 3), np.uint8))  # still usable after a rejected image
    writer.close()
    assert writer.frames_written == 1


@pytest.mark.parametrize(("fps", "size"), [(0.0, (160, 120)), (15.0, (1, 120))])
def test_rejects_bad_settings(tmp_path: Path, fps: float, size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        H264Writer(tmp_path / "x.mp4", fps=fps, size=size)


def test_close_twice_and_write_after_close(tmp_path: Path) -> None:
    writer = H264Writer(tmp_path / "x.mp4", fps=10, size=(64, 48))
    writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="already closed"):
        writer.write(np.zeros((48, 64, 3), np.uint8))
