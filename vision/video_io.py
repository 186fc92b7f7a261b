"""Writing H.264 MP4 files that browsers play (demo video, alert clips).

PyAV (FFmpeg) encodes: libx264 when the installed build has it, else another H.264 encoder.
Frames are stored as yuv420p with the `moov` index at the front (`+faststart`), the combination
every browser's <video> element plays while it is still downloading.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np

from vision.types import Image

log = logging.getLogger(__name__)

H264_ENCODERS = ("libx264", "libopenh264", "h264", "h264_nvenc", "h264_qsv", "h264_v4l2m2m")
"""Preferred first; `h264` is whatever encoder FFmpeg registered as the default for H.264."""


def h264_encoder() -> str:
    """The best H.264 encoder this PyAV build has, or a ValueError saying none is there."""
    available = av.codecs_available
    for name in H264_ENCODERS:
        if name not in available:
            continue
        try:
            av.Codec(name, "w")
        except Exception:  # a decoder-only or unusable name raises: try the next one
            continue
        return name
    raise ValueError(f"this PyAV build ({av.__version__}) has no H.264 encoder")


class H264Writer:
    """Encodes BGR uint8 images into an H.264 MP4 at a constant frame rate.

    `size` is (width, height) of the images `write` receives; an odd side loses its last pixel
    row or column, since yuv420p needs even sides::

        with H264Writer(Path("clip.mp4"), fps=15, size=(960, 540)) as out:
            for image in images:
                out.write(image)
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], *, crf: int = 23) -> None:
        width, height = size
        if width < 2 or height < 2:
            raise ValueError(f"video size must be at least 2x2 pixels, got {width}x{height}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = path
        self.size = (int(width), int(height))
        self.frames_written = 0
        self.codec = h264_encoder()
        rate = Fraction(fps).limit_denominator(1001)
        self._container: Any = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        try:
            stream: Any = self._container.add_stream(self.codec, rate=rate)
            stream.width = self.size[0] - self.size[0] % 2
            stream.height = self.size[1] - self.size[1] % 2
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = 1 / rate
            if self.codec == "libx264":
                stream.options = {"crf": str(crf), "preset": "veryfast"}
        except Exception:
            self._container.close()
            raise
        self._stream: Any = stream
        self._time_base = 1 / rate
        self._closed = False
        log.debug("writing %s with %s at %s fps, %s", path, self.codec, rate, self.size)

    def write(self, image_bgr: Image) -> None:
        """Encode one frame; it must be uint8 of shape (height, width, 3) as given to __init__."""
        if self._closed:
            raise ValueError(f"{self.path} is already closed")
        want = (self.size[1], self.size[0], 3)
        if image_bgr.shape != want or image_bgr.dtype != np.uint8:
            raise ValueError(
                f"H264Writer({self.path.name}) expects uint8 images of shape {want}, "
                f"got {image_bgr.dtype} {image_bgr.shape}"
            )
        even = image_bgr[: self._stream.height, : self._stream.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(even), format="bgr24")
        frame.pts = self.frames_written
        frame.time_base = self._time_base
        self._container.mux(self._stream.encode(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
