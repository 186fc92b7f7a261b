"""Opening and reading one video source: a file, an RTSP stream, HTTP (MJPEG or a video file), or a
local device. No threads here; `vision.reader.CameraReader` runs one of these per camera.

    source = open_source(CameraConfig(id="hall", source="rtsp://user:pw@10.0.0.5/stream1"))
    while (item := source.read()) is not None:
        image, timestamp = item  # BGR uint8 (h, w, 3), seconds
    source.close()

`read(wanted)` decodes every frame (a video decoder needs them all) but converts to BGR only the
frames whose timestamp `wanted` accepts; the others come with an empty image (`SKIPPED`, size 0).
The camera reader uses
it to skip the conversion of frames that will never be analysed (a third to a half of the
decoding cost).

Everything is read through OpenCV: FFmpeg (`cv2.CAP_FFMPEG`) for files and URLs, with the
`CAP_PROP_OPEN_TIMEOUT_MSEC` / `CAP_PROP_READ_TIMEOUT_MSEC` open parameters taken from
`open_timeout_s` / `read_timeout_s`, and V4L2 for local devices (FFmpeg cannot open a device through
OpenCV). FFmpeg reads MJPEG over HTTP (`multipart/x-mixed-replace`) by itself, whatever the URL's
ending. OpenCV does not say why an open failed, so the error message for a URL comes from a short
probe of our own (a TCP connect, then an RTSP DESCRIBE or an HTTP GET). RTSP uses FFmpeg's default
transport (UDP, falling back to TCP); set
`OPENCV_FFMPEG_CAPTURE_OPTIONS="rtsp_transport;tcp"` in the environment to force TCP.

Timestamps, in seconds:

- Files (and video files over HTTP): the stream position of the frame (`CAP_PROP_POS_MSEC`), or the
  previous timestamp plus one frame interval where the position is missing or does not increase.
  Starts near 0. When looping, each pass is offset to continue after the last, so timestamps only
  grow.
- RTSP and other live streams: wall clock (`time.time()`) spaced by the stream's own presentation
  times (`CAP_PROP_POS_MSEC`), so network jitter does not show in the spacing of frames. A
  timestamp is never later than the wall clock when the frame is read and never more than
  `_MAX_LAG_S` behind it; the clock re-anchors to the wall clock when the stream's time falls
  behind, jumps or stops increasing (frames buffered while the stream was opened come out with
  nearly the same timestamp).
- MJPEG over HTTP and local devices: plain wall clock when the frame is read (FFmpeg invents the
  MJPEG positions at an assumed 25 fps).

Pacing a file at its own frame rate (`CameraConfig.realtime`) is the reader's job; a source returns
frames as fast as they decode.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import math
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import cv2
import numpy as np

from vision.config import CameraConfig
from vision.types import Image

logger = logging.getLogger(__name__)

_STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps"})
_HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "rtmps": 443, "http": 80, "https": 443}
_NOMINAL_FPS = 25.0
"""Frame interval assumed for timestamps when a file declares no usable frame rate."""
_MAX_LAG_S = 2.0
"""Furthest a live stream's timestamps may fall behind the wall clock before re-anchoring."""
_TRUNCATED_FRACTION = 0.9
"""A file is reported truncated when both its decoded frames and its last position fall below this
fraction of what its header declares (`CAP_PROP_FRAME_COUNT` is an estimate for some containers)."""
_MJPG = int.from_bytes(b"MJPG", "little")


class SourceError(Exception):
    """A video source cannot be opened or read. The message names the source (password masked)
    and says what was wrong."""


Wanted = Callable[[float], bool]
"""Whether the frame at this timestamp (seconds) is wanted as a picture (`VideoSource.read`)."""
SKIPPED: Image = np.zeros((0, 0, 3), np.uint8)
"""The image of a frame decoded but not wanted (`read(wanted)`)."""


class VideoSource(Protocol):
    """One opened video source. `read()` returns a BGR uint8 (h, w, 3) image and its timestamp in
    seconds, None at the end of a file (never for a live source), and raises `SourceError` when the
    source fails (a live stream lost, a file found truncated). `read(wanted)` returns an empty
    image (size 0) for a frame whose timestamp `wanted` refuses: decoded, not converted."""

    name: str
    """The source as given in the config, with any password in a URL masked."""
    fps: float | None
    """Frame rate the source declares, None when unknown (MJPEG, many devices)."""
    is_live: bool
    """True for RTSP, MJPEG/live HTTP and devices: they never end, and a failed read is a loss."""

    def read(self, wanted: Wanted | None = None) -> tuple[Image, float] | None: ...

    def close(self) -> None: ...


def mask_url(source: str) -> str:
    """`source` with the password of a URL replaced by `***`; anything else unchanged.

    >>> mask_url("rtsp://admin:secret@10.0.0.5:554/stream1")
    'rtsp://admin:***@10.0.0.5:554/stream1'
    """
    try:
        parts = urlsplit(source)
    except ValueError:
        return source
    if not parts.netloc or parts.password is None:
        return source
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def open_source(cfg: CameraConfig) -> VideoSource:
    """Open the camera's source and decode its first frame, or raise `SourceError`.

    Kinds, by the shape of `cfg.source`: `device:N` or `/dev/videoN` (local device), `rtsp://`,
    `rtsps://`, `rtmp://` (live stream), `http(s)://` (MJPEG or other live stream, or a video file
    when the server declares a frame count), anything else a video file path.
    """
    source = cfg.source.strip()
    name = mask_url(source)
    if source.startswith("device:") or source.startswith("/dev/video"):
        return _open_device(source, name, cfg.read_timeout_s)
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if scheme in _STREAM_SCHEMES or scheme in _HTTP_SCHEMES:
        return _open_url(cfg, source, name, scheme)
    if scheme:
        raise SourceError(
            f"{name}: unsupported URL scheme {scheme!r} (use a file path, rtsp://, http(s):// or "
            "device:N)"
        )
    return _open_file(cfg, source, name)


# --- files ------------------------------------------------------------------------------------


def _open_file(cfg: CameraConfig, source: str, name: str) -> VideoSource:
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"{name}: video file not found")
    if not path.is_file():
        raise SourceError(f"{name}: not a regular file")
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as e:
        raise SourceError(f"{name}: cannot read the file: {e.strerror or e}") from e
    if not head:
        raise SourceError(f"{name}: the file is empty")

    def reopen() -> cv2.VideoCapture:
        cap = _capture(str(path), cfg)
        if cap is None:
            raise SourceError(f"{name}: {_describe_unopenable(head)}")
        return cap

    return _FileSource(name, reopen(), reopen, loop=cfg.loop)


def _describe_unopenable(head: bytes) -> str:
    """Why FFmpeg could not open a file, guessed from its first bytes."""
    container = _sniff_container(head)
    if container is None:
        return "not a video file (FFmpeg recognises no video format in it)"
    return (
        f"corrupt or truncated {container} file (FFmpeg cannot open it; e.g. an interrupted "
        "download or copy, or a recording that was never finalised)"
    )


def _sniff_container(head: bytes) -> str | None:
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    if head[:3] == b"FLV":
        return "FLV"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:  # 188-byte packets
        return "MPEG-TS"
    return None


class _FileSource:
    """A finite source read from its start; loops by reopening when asked to."""

    is_live = False

    def __init__(
        self,
        name: str,
        cap: cv2.VideoCapture,
        reopen: Callable[[], cv2.VideoCapture],
        *,
        loop: bool,
    ) -> None:
        self.name = name
        self._reopen = reopen
        self._loop = loop
        self._cap: cv2.VideoCapture | None = cap
        self.fps = _sane_fps(self._cap.get(cv2.CAP_PROP_FPS))
        count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self._declared = int(count) if 0 < count < 1e9 else 0
        self._dt = 1.0 / (self.fps or _NOMINAL_FPS)
        self._offset = 0.0  # added to this pass's positions, so loops continue the clock
        self._last: float | None = None  # last position in this pass
        self._last_ts = -math.inf
        self._decoded = 0  # frames decoded in this pass
        first = self._read_pass()
        if first is None:
            self.close()
            raise SourceError(
                f"{name}: no frame could be decoded (corrupt or truncated file, or no video track)"
            )
        self._pending: tuple[Image, float] | None = first

    def read(self, wanted: Wanted | None = None) -> tuple[Image, float] | None:
        pending, self._pending = self._pending, None
        if pending is not None:
            return pending
        if self._cap is None:
            return None
        item = self._read_pass(wanted)
        if item is not None:
            return item
        self.close()
        self._check_complete()
        if not self._loop:
            return None
        self._cap = self._reopen()
        self._offset = self._last_ts + self._dt
        self._last, self._decoded = None, 0
        item = self._read_pass(wanted)
        if item is None:
            self.close()
            raise SourceError(f"{self.name}: no frame could be decoded after rewinding")
        return item

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read_pass(self, wanted: Wanted | None = None) -> tuple[Image, float] | None:
        assert self._cap is not None
        if not _decode(self._cap):
            return None
        pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if (
            math.isfinite(pos_ms)
            and pos_ms >= 0
            and (self._last is None or pos_ms / 1000 > self._last)
        ):
            t = pos_ms / 1000
        else:
            t = 0.0 if self._last is None else self._last + self._dt
        self._last = t
        self._decoded += 1
        self._last_ts = max(self._offset + t, self._last_ts + 1e-6)
        if wanted is not None and not wanted(self._last_ts):
            return SKIPPED, self._last_ts
        image = _convert(self._cap)
        return None if image is None else (image, self._last_ts)

    def _check_complete(self) -> None:
        """Raise when the pass stopped clearly short of the frames the header declares."""
        if self._declared <= 0 or self._decoded >= self._declared * _TRUNCATED_FRACTION:
            return
        if self._declared - self._decoded < 2:
            return
        duration = self._declared * self._dt
        reached = (self._last or 0.0) + self._dt
        if reached >= duration * _TRUNCATED_FRACTION:
            return  # variable frame rate or an estimated count: the time says it is complete
        raise SourceError(
            f"{self.name}: file is truncated or corrupt: decoded {self._decoded} of "
            f"{self._declared} frames (stopped at {reached:.2f} s of {duration:.2f} s)"
        )


# --- URLs -------------------------------------------------------------------------------------


def _open_url(cfg: CameraConfig, url: str, name: str, scheme: str) -> VideoSource:
    cap = _capture(url, cfg)
    if cap is None:
        reason = _diagnose_url(url, scheme, min(cfg.open_timeout_s, 5.0))
        raise SourceError(f"{name}: cannot open the stream: {reason}")
    if scheme in _HTTP_SCHEMES:
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        is_mjpeg = int(cap.get(cv2.CAP_PROP_FOURCC)) == _MJPG
        if not is_mjpeg and 0 < count < 1e9:

            def reopen() -> cv2.VideoCapture:
                again = _capture(url, cfg)
                if again is None:
                    raise SourceError(f"{name}: cannot open the video file again to loop")
                return again

            return _FileSource(name, cap, reopen, loop=cfg.loop)
        return _LiveSource(name, cap, cfg.read_timeout_s, stream_clock=not is_mjpeg)
    return _LiveSource(name, cap, cfg.read_timeout_s, stream_clock=True)


def _diagnose_url(url: str, scheme: str, timeout_s: float) -> str:
    """A short reason why FFmpeg could not open `url` (OpenCV itself says nothing)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme, 80)
    except ValueError as e:
        return f"malformed URL ({e})"
    if not host:
        return "the URL names no host"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            if scheme == "rtsp":
                return _diagnose_rtsp(sock, parts, timeout_s)
    except socket.gaierror:
        return f"unknown host {host!r}"
    except ConnectionRefusedError:
        return f"connection refused by {host}:{port} (nothing listening there)"
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout_s:g} s (unreachable host)"
    except OSError as e:
        return f"cannot reach {host}:{port}: {e.strerror or e}"
    if scheme in _HTTP_SCHEMES:
        return _diagnose_http(url, timeout_s)
    return "the server answers but the stream could not be opened (wrong path or codec?)"


def _diagnose_rtsp(sock: socket.socket, parts: SplitResult, timeout_s: float) -> str:
    """Ask the server to DESCRIBE the stream and report its status line."""
    netloc = parts.netloc.rpartition("@")[2]
    plain = urlunsplit(parts._replace(netloc=netloc))
    try:
        sock.settimeout(timeout_s)
        sock.sendall(
            f"DESCRIBE {plain} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode()
        )
        status = sock.recv(4096).split(b"\r\n", 1)[0].decode("latin-1").strip()
    except OSError:
        status = ""
    code = status.split(" ", 2)[1] if status.count(" ") >= 1 else ""
    if code == "401" and parts.password is not None:
        return "the server answers but the stream could not be opened (wrong credentials?)"
    if code == "401":
        return "the server requires a user name and password (RTSP 401 Unauthorized)"
    if code and code != "200":
        return f"the server answered {status!r} (wrong path?)"
    return "the server answers but the stream could not be opened (no decodable video track?)"


def _diagnose_http(url: str, timeout_s: float) -> str:
    """GET the URL (with the URL's user and password as basic auth) and report what came back."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    request = urllib.request.Request(urlunsplit(parts._replace(netloc=netloc)))
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            kind = response.headers.get_content_type()
    except urllib.error.HTTPError as e:
        hint = " (check the user name and password)" if e.code in (401, 403) else ""
        return f"HTTP {e.code} {e.reason}{hint}"
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        return f"HTTP request failed: {getattr(e, 'reason', e)}"
    if kind.startswith(("text/", "application/json")):
        return f"the server sent {kind}, not a video stream"
    return f"the server sent {kind} that FFmpeg cannot decode"


class _LiveSource:
    """A stream that never ends: a failed read means the stream is lost."""

    is_live = True

    def __init__(
        self, name: str, cap: cv2.VideoCapture, read_timeout_s: float, *, stream_clock: bool
    ) -> None:
        self.name = name
        self._cap: cv2.VideoCapture | None = cap
        self._read_timeout_s = read_timeout_s
        self._stream_clock = stream_clock
        self.fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS)) if stream_clock else None
        self._anchor: float | None = None  # wall clock minus stream position
        self._last_pos = -math.inf
        self._last_ts = -math.inf
        self._pending: tuple[Image, float] | None = self._read_live(first=True)

    def read(self, wanted: Wanted | None = None) -> tuple[Image, float] | None:
        pending, self._pending = self._pending, None
        return pending if pending is not None else self._read_live(first=False, wanted=wanted)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read_live(self, *, first: bool, wanted: Wanted | None = None) -> tuple[Image, float]:
        if self._cap is None:
            raise SourceError(f"{self.name}: the source is closed")
        decoded = _decode(self._cap)
        wall = time.time()
        if not decoded:
            raise self._lost(first)
        pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC) if self._stream_clock else math.nan
        ts = self._stamp(pos_ms / 1000, wall)
        self._last_ts = max(ts, self._last_ts + 1e-6)
        if not first and wanted is not None and not wanted(self._last_ts):
            return SKIPPED, self._last_ts
        image = _convert(self._cap)
        if image is None:
            raise self._lost(first)
        return image, self._last_ts

    def _lost(self, first: bool) -> SourceError:
        self.close()
        what = "opened but sent no frame" if first else "stream lost: connection closed or no frame"
        return SourceError(f"{self.name}: {what} within {self._read_timeout_s:g} s")

    def _stamp(self, pos: float, wall: float) -> float:
        """Wall clock paced by the stream's position; see the module docstring."""
        if not math.isfinite(pos) or pos < 0 or pos <= self._last_pos:
            self._anchor, self._last_pos = None, -math.inf
            return wall
        self._last_pos = pos
        offset = wall - pos
        if self._anchor is None or offset < self._anchor or offset - self._anchor > _MAX_LAG_S:
            self._anchor = offset
        return pos + self._anchor


# --- devices ----------------------------------------------------------------------------------


def _open_device(source: str, name: str, read_timeout_s: float) -> VideoSource:
    target: int | str
    if source.startswith("device:"):
        index = source.removeprefix("device:").strip()
        if not index.isdigit():
            raise SourceError(f"{name}: a device is 'device:N' with N a number, e.g. device:0")
        target = int(index)
        path = f"/dev/video{target}"
    else:
        target = path = source
    if sys.platform.startswith("linux") and not Path(path).exists():
        raise SourceError(f"{name}: video device {path} not found (is the camera plugged in?)")
    api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    cap = cv2.VideoCapture(target, api)
    if not cap.isOpened():
        cap.release()
        raise SourceError(
            f"{name}: cannot open video device {path} (busy, or not a capture device?)"
        )
    return _LiveSource(name, cap, read_timeout_s, stream_clock=False)


# --- shared -----------------------------------------------------------------------------------


def _capture(target: str, cfg: CameraConfig) -> cv2.VideoCapture | None:
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        round(cfg.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        round(cfg.read_timeout_s * 1000),
    ]
    cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    if cap.isOpened():
        return cap
    cap.release()
    return None


def _decode(cap: cv2.VideoCapture) -> bool:
    """Decode the next frame (no conversion yet); False when the capture gives none."""
    with contextlib.suppress(cv2.error):
        return bool(cap.grab())
    return False


def _convert(cap: cv2.VideoCapture) -> Image | None:
    """The frame just decoded as BGR uint8 (h, w, 3), or None when it cannot be had."""
    with contextlib.suppress(cv2.error):
        ok, frame = cap.retrieve()
        if ok and frame is not None:
            image = np.asarray(frame)
            if image.ndim == 2:
                image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
            elif image.shape[2] == 4:
                image = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR))
            if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
                return image.astype(np.uint8, copy=False)
    return None


def _sane_fps(value: float) -> float | None:
    return value if math.isfinite(value) and 0 < value <= 1000 else None
