"""`carewatch bench-alerts`: how fast an alert reaches a guard's screen and the MQTT broker.

Plays the demo video on N cameras at its own speed (like live cameras), runs the real service
(model, tracking, behaviours, alert store, uvicorn on loopback) with an MQTT channel to a real
Mosquitto broker (started here when `mosquitto` is installed, or `--mqtt HOST:PORT`), and
listens like a console on the WebSocket and like a subscriber on the broker. For every new alert:

    latency = arrival at the client - the moment the frame that completed the event was taken
              for analysis (`alert.received_at`)

so it includes pose inference, tracking, the detectors, the snapshot, the database commit and
the delivery. Cool-downs are set to 0 here so each scripted event makes its own alert.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from alerts.model import Alert
from alerts.service import AlertService
from api.app import create_app
from api.config import AppConfig, parse_config
from api.security import create_user
from api.service import build_alerts, build_runner, ensure_demo_video
from vision.runner import Runner

log = logging.getLogger(__name__)

SETTLE_S = 2.0
"""Seconds waited after a run for the last deliveries to land."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


class Mosquitto:
    """A throw-away local Mosquitto broker (Debian's `mosquitto` binary) on a free port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise FileNotFoundError("mosquitto is not installed (Debian package mosquitto)")
        self.port = _free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not _wait_port(self.port, 10):
            self.stop()
            raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Arrivals:
    """Arrival times (epoch seconds) of each new alert, by alert id."""

    ws: dict[str, float] = field(default_factory=dict)
    mqtt: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _login(port: int, username: str, password: str) -> str:
    import httpx

    r = httpx.post(
        f"http://127.0.0.1:{port}/api/auth/login",
        data={"username": username, "password": password},
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def _listen_ws(url: str, arrivals: Arrivals, stop: threading.Event) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(url, open_timeout=10) as ws:
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:  # the service is shutting down
                return
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "change" and message["action"] == "created":
                with arrivals.lock:
                    arrivals.ws.setdefault(message["alert"]["id"], now)


def _listen_mqtt(host: str, port: int, arrivals: Arrivals) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-sub")

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        now = time.time()
        body = json.loads(msg.payload)
        if body.get("action") == "created":
            with arrivals.lock:
                arrivals.mqtt.setdefault(body["alert"]["id"], now)

    client.on_message = on_message
    client.connect(host, port)
    client.subscribe("carewatch/+/alerts", qos=1)
    client.loop_start()
    return client


def latency_stats(values: list[float]) -> dict[str, float | int | None]:
    """Count, median, 95th percentile and maximum of latencies in seconds (None when empty)."""
    if not values:
        return {"n": 0, "median_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


def demo_video(data_dir: Path) -> Path:
    """The demo video, generated once into `data_dir` (with the 640 model, as the service does)."""
    from models.acquire import model_dir, resolve_onnx
    from models.config import PoseModelConfig
    from models.onnx_pose import OnnxPoseEstimator

    cfg640 = PoseModelConfig(input_size=640)
    return ensure_demo_video(data_dir, OnnxPoseEstimator(resolve_onnx(cfg640, model_dir()), cfg640))


def service_config(
    sources: Sequence[Path],
    *,
    mqtt: tuple[str, int] | None,
    size: int,
    camera: Mapping[str, Any] | None = None,
    model: Mapping[str, Any] | None = None,
    origin: str = "bench-alerts",
) -> AppConfig:
    """Camera `cam{i+1}` plays `sources[i]` looping at its own speed (5 analysed fps), with
    `camera` laid over every camera's section and `model` over the model's; cool-downs 0, an
    MQTT channel when `mqtt`."""
    return parse_config(
        {
            "model": {"input_size": size, **(model or {})},
            "cameras": [
                {
                    "id": f"cam{i + 1}",
                    "source": str(source),
                    "loop": True,
                    "analysis_fps": 5,
                    **(camera or {}),
                }
                for i, source in enumerate(sources)
            ],
            "alerts": {
                "kinds": {k: {"cooldown_s": 0} for k in ("fall", "fight", "pacing")},
                "sinks": []
                if mqtt is None
                else [{"type": "mqtt", "name": "broker", "host": mqtt[0], "port": mqtt[1]}],
            },
        },
        origin,
    )


def bench_config(video: Path, cameras: int, mqtt: tuple[str, int] | None, size: int) -> AppConfig:
    return service_config([video] * cameras, mqtt=mqtt, size=size)


@dataclass
class Service:
    """The running service of `running_service`: what a measurement reads while it runs."""

    alerts: AlertService
    runner: Runner
    arrivals: Arrivals


@contextmanager
def running_service(
    config: AppConfig, work: Path, mqtt: tuple[str, int] | None = None
) -> Iterator[Service]:
    """The real service on `config` (data in `work`): runner, alert service, uvicorn on a free
    loopback port, a guard signed in on the WebSocket and, with `mqtt`, a subscriber on the
    broker, all recording arrivals. Cameras start with the server; everything stops on exit."""
    alerts = build_alerts(config, work)
    runner, _ = build_runner(config, work, alerts=alerts)
    port = _free_port()
    app = create_app(
        runner, engine=alerts.store.engine, alerts=alerts, config=config, data_dir=work
    )
    password = secrets.token_urlsafe(16)
    with app.state.sessions() as db:  # the console's user, signed in like a guard would
        create_user(db, "bench", password, "guard")
        db.commit()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    arrivals, stop = Arrivals(), threading.Event()
    subscriber = None
    try:
        if mqtt is not None:
            subscriber = _listen_mqtt(mqtt[0], mqtt[1], arrivals)
        thread.start()
        if not _wait_port(port, 60):
            raise RuntimeError("the service did not start")
        token = _login(port, "bench", password)
        listener = threading.Thread(
            target=_listen_ws,
            args=(f"ws://127.0.0.1:{port}/api/alerts/ws?token={token}", arrivals, stop),
            daemon=True,
        )
        listener.start()
        yield Service(alerts, runner, arrivals)
    finally:
        stop.set()
        server.should_exit = True
        thread.join(30)
        if subscriber is not None:
            subscriber.loop_stop()
            subscriber.disconnect()


def behaviour_alerts(
    alerts: AlertService, since: float = 0.0, until: float = math.inf
) -> list[Alert]:
    """New behaviour alerts (not camera_* health ones) whose frame was taken from `since` to
    `until` (epoch seconds)."""
    return [
        c.alert
        for c in alerts.store.changes_since(0, limit=100_000)
        if c.action == "created"
        and c.alert.received_at is not None
        and since <= c.alert.received_at <= until
        and not c.alert.kind.startswith("camera_")
    ]


def delays(alerts: list[Alert], arrivals: Mapping[str, float]) -> list[float]:
    """Arrival minus `received_at` of each alert that arrived (seconds)."""
    return [arrivals[a.id] - a.received_at for a in alerts if a.id in arrivals and a.received_at]


def measure(
    *,
    cameras: int,
    seconds: float,
    data_dir: Path,
    mqtt: tuple[str, int] | None = None,
    size: int = 480,
) -> dict[str, Any]:
    """Run the service for `seconds` on `cameras` demo cameras; latencies of each new alert."""
    video = demo_video(data_dir)
    with tempfile.TemporaryDirectory(prefix="carewatch-bench-") as tmp:
        work = Path(tmp)
        broker = None
        if mqtt is None:
            try:
                broker = Mosquitto(work)
                mqtt = ("127.0.0.1", broker.port)
            except (FileNotFoundError, RuntimeError) as exc:
                log.warning("no MQTT measurement: %s", exc)
        try:
            config = bench_config(video, cameras, mqtt, size)
            with running_service(config, work, mqtt) as service:
                log.info("running %d demo cameras for %.0f s", cameras, seconds)
                time.sleep(seconds)
                time.sleep(SETTLE_S)
                behaviour = behaviour_alerts(service.alerts)
                arrivals = service.arrivals
        finally:
            if broker is not None:
                broker.stop()
    commit = [a.updated_at - a.received_at for a in behaviour if a.received_at]
    ws = delays(behaviour, arrivals.ws)
    mq = delays(behaviour, arrivals.mqtt)
    kinds: dict[str, int] = {}
    for a in behaviour:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    return {
        "cameras": cameras,
        "seconds": seconds,
        "input_size": size,
        "alerts": len(behaviour),
        "kinds": kinds,
        "frame_to_commit": latency_stats(commit),
        "frame_to_websocket": latency_stats(ws),
        "frame_to_mqtt": latency_stats(mq) if mqtt is not None else None,
        "missing_on_websocket": len(behaviour) - len(ws),
        "missing_on_mqtt": None if mqtt is None else len(behaviour) - len(mq),
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['cameras']} demo cameras, {result['seconds']:.0f} s, "
        f"input {result['input_size']}: {result['alerts']} alerts {result['kinds']}",
        "",
        "| path | n | median s | p95 s | max s |",
        "|---|---|---|---|---|",
    ]
    for name, key in (
        ("frame -> stored alert", "frame_to_commit"),
        ("frame -> WebSocket client", "frame_to_websocket"),
        ("frame -> MQTT subscriber", "frame_to_mqtt"),
    ):
        s = result.get(key)
        if s:
            lines.append(f"| {name} | {s['n']} | {s['median_s']} | {s['p95_s']} | {s['max_s']} |")
    lines.append("")
    lines.append(
        f"missing: {result['missing_on_websocket']} on the WebSocket, "
        f"{result['missing_on_mqtt']} on MQTT"
    )
    return "\n".join(lines)
