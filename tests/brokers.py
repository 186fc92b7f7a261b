"""Real message brokers and receivers on loopback for the delivery-channel tests.

- `MosquittoBroker`: Debian's `/usr/sbin/mosquitto` in a subprocess with a temporary config,
  stoppable (killed, like a crashed broker), pausable (SIGSTOP: a hung broker that keeps its
  connections open) and restartable on the same port.
- `running_mosquitto`: a context manager for a fixture; it skips the test with a reason when the
  binary is missing (`scripts/install-system-deps.sh` installs it).
- `HttpReceiver`: a `ThreadingHTTPServer` in a thread that records every request and answers
  with a chosen status, or holds the answer back (a receiver slower than any timeout).
- `make_change`: a `Change` of an `Alert`, built directly, for the channels to deliver.

Use them from a fixture in the test module, e.g.::

    @pytest.fixture
    def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
        with running_mosquitto(tmp_path) as broker:
            yield broker
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

from alerts.model import Action, Alert, Change
from tests.servers import free_port, wait_until

MOSQUITTO = Path("/usr/sbin/mosquitto")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class MosquittoBroker:
    """Mosquitto on `host`:`port` (loopback), anonymous, without persistence; its log goes to
    `<directory>/mosquitto.log`."""

    host = "127.0.0.1"

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and wait until its port accepts connections (retrying while the
        port is still held by the previous run); does nothing while it runs."""
        if self.running:
            return
        self.config.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        deadline = time.monotonic() + timeout_s
        while not self._launch(max(0.1, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"mosquitto on port {self.port} did not start: {self.log.read_text()[-500:]}"
                )
            time.sleep(0.2)

    def _launch(self, timeout_s: float) -> bool:
        """Run the broker once; True when its port accepts, else it is stopped again."""
        self._log = self.log.open("ab")
        proc = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=self._log
        )
        self._proc = proc
        wait_until(lambda: proc.poll() is not None or _accepts(self.host, self.port), timeout_s)
        if proc.poll() is None and _accepts(self.host, self.port):
            return True
        self.stop()
        return False

    def stop(self) -> None:
        """Kill the broker at once, as a crash or a power cut would (no clean goodbye)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open but nothing is answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def running_mosquitto(directory: Path) -> Iterator[MosquittoBroker]:
    """A started `MosquittoBroker` (files in `directory`), stopped on exit; skips the test when
    Mosquitto is not installed."""
    if not MOSQUITTO.exists():
        pytest.skip(
            f"{MOSQUITTO} not found: install Debian's mosquitto (scripts/install-system-deps.sh)"
        )
    broker = MosquittoBroker(directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass(frozen=True)
class Request:
    """One request as `HttpReceiver` saw it (header names lower-case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    """HTTP on 127.0.0.1:`port` that records every POST in `requests` and answers with
    `status`. While `hold` is set, answers wait until it is
    cleared or the receiver stops, like a receiver that hangs."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.status = 200
        self.requests: list[Request] = []
        self.hold = threading.Event()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._released.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
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

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.requests.append(Request("POST", self.path, headers, body))
                while owner.hold.is_set() and not owner._released.wait(0.05):
                    pass
                text = b"ok" if 200 <= owner.status < 300 else b"receiver says no"
                try:
                    self.send_response(owner.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def make_change(
    *,
    seq: int = 42,
    action: Action = "created",
    camera_id: str = "hall-2",
    zone: str | None = "exit",
    **alert: Any,
) -> Change:
    """A change of a critical fall alert on `camera_id`; `alert` overrides `Alert` fields."""
    fields: dict[str, Any] = {
        "id": "5f0c2a9e-alert",
        "version": 1,
        "kind": "fall",
        "camera_id": camera_id,
        "zone": zone,
        "track_ids": (3,),
        "severity": "critical",
        "state": "new",
        "started_at": 1_741_050_000.0,
        "detected_at": 1_741_050_002.5,
        "last_seen_at": 1_741_050_002.5,
        "updated_at": 1_741_050_003.0,
        "confidence": 0.87,
        "evidence": {"torso_angle_deg": 78.0, "model": "yolo11n-pose"},
        **alert,
    }
    return Change(
        seq=seq,
        action=action,
        actor="system",
        at=1_741_050_003.0,
        alert=Alert(**fields),
    )
