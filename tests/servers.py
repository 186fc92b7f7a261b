"""Real video servers and clips on loopback for the camera-input tests.

- `make_clip`: a small H.264 MP4 made by the `ffmpeg` command (test pattern, 320x240).
- `RtspServer`: GStreamer's rtsp-server in a subprocess run by Debian's `/usr/bin/python3`
  (`scripts/rtsp_server.py`), stoppable and restartable on the same port.
- `MjpegServer`: a `ThreadingHTTPServer` in a thread serving `multipart/x-mixed-replace` JPEG
  frames made with `cv2.imencode`, plus optional static files; stoppable and restartable.

Every server here is meant to be used from a fixture that stops it in its finaliser.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import cv2
import numpy as np

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "rtsp_server.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `predicate()` until it is true (True) or `timeout_s` passed (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)


def make_clip(
    path: Path,
    *,
    seconds: float = 3.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    faststart: bool = False,
) -> Path:
    """Write an H.264 MP4 of ffmpeg's `testsrc` pattern; `faststart` puts the index first."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("the ffmpeg command is needed to make test clips (apt install ffmpeg)")
    w, h = size
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    cmd += ["-i", f"testsrc=size={w}x{h}:rate={fps}:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", str(fps)]
    cmd += ["-movflags", "+faststart"] if faststart else []
    subprocess.run([*cmd, str(path)], check=True, timeout=60)
    return path


@functools.cache
def gst_rtsp_unavailable() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "assert Gst.ElementFactory.find('x264enc'), 'x264enc missing'"
    )
    try:
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{SYSTEM_PYTHON} failed: {e}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return (
            f"{SYSTEM_PYTHON} cannot import gi/GstRtspServer with x264enc ({last}); install "
            "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly"
        )
    return None


class RtspServer:
    """`scripts/rtsp_server.py` on 127.0.0.1:`port`, serving a live H.264 test pattern."""

    def __init__(self, port: int | None = None, *, fps: int = 25) -> None:
        self.port = port or free_port()
        self.fps = fps
        self.url = f"rtsp://127.0.0.1:{self.port}/test"
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the server and wait for its READY line (retrying while the port is still busy)."""
        deadline = time.monotonic() + timeout_s
        while True:
            proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(RTSP_SCRIPT), "--port", str(self.port), "--fps", str(self.fps)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stdout is not None
            line = _readline(proc.stdout, max(0.1, deadline - time.monotonic()))
            if line.startswith("READY"):
                self._proc = proc
                return
            proc.kill()
            proc.wait()
            if time.monotonic() > deadline:
                raise RuntimeError(f"RTSP server on port {self.port} did not start: {line!r}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Kill the server at once, as a camera that loses power would vanish."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None


def _readline(stream: IO[str], timeout_s: float) -> str:
    """One line of a subprocess's text stdout, or '' after `timeout_s` or at its end."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0].strip() if lines else ""


def mjpeg_image(index: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A grey level that changes with `index`, and a bar that moves, as BGR uint8."""
    w, h = size
    image = np.full((h, w, 3), (index * 8) % 256, np.uint8)
    x = (index * 5) % (w - 10)
    image[: h // 3, x : x + 10] = (0, 0, 255)
    return image


class MjpegServer:
    """HTTP on 127.0.0.1:`port`: `/stream.mjpg` (or any other path not in `files`) answers with
    an endless `multipart/x-mixed-replace` stream of JPEG frames at `fps`; paths in `files`
    answer with those bytes and their content type."""

    boundary = "carewatchframe"

    def __init__(
        self,
        port: int | None = None,
        *,
        fps: float = 25.0,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.fps = fps
        self.files = files or {}
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.frames_sent = 0
        self.stalled = threading.Event()
        """Set it to keep connections open but send nothing, like a camera that hangs."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and end every open stream (clients see the connection close)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path in owner.files:
                    kind, body = owner.files[self.path]
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path.startswith("/missing"):
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header(
                    "Content-Type", f"multipart/x-mixed-replace; boundary={owner.boundary}"
                )
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                index = 0
                period = 1.0 / owner.fps
                try:
                    while not owner._stopping.is_set():
                        if owner.stalled.is_set():
                            owner._stopping.wait(period)
                            continue
                        ok, jpeg = cv2.imencode(".jpg", mjpeg_image(index))
                        assert ok
                        data = jpeg.tobytes()
                        self.wfile.write(
                            f"--{owner.boundary}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        self.wfile.flush()
                        owner.frames_sent += 1
                        index += 1
                        owner._stopping.wait(period)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
