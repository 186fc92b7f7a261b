"""The service end to end: real model, real cameras (files, an unreachable RTSP URL), real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.config import parse_config
from api.service import build_alerts, build_runner
from tests.api.conftest import PASSWORD
from tests.servers import free_port
from vision.config import CameraConfig


def _wait_for(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _config(people_clip: Path) -> Any:
    return parse_config(
        {
            "model": {"input_size": 320},
            "cameras": [
                {"id": "hall", "source": str(people_clip), "loop": True, "analysis_fps": 5},
                {
                    "id": "gate",
                    "source": "rtsp://viewer:secret@127.0.0.1:9/none",
                    "open_timeout_s": 1,
                    "reconnect": {"initial_s": 0.2, "max_s": 1},
                },
            ],
        },
        "test",
    )


def test_health_snapshots_and_an_unreachable_camera(people_clip: Path, tmp_path: Path) -> None:
    config = _config(people_clip)
    alerts = build_alerts(config, tmp_path)
    runner, version = build_runner(config, tmp_path, alerts=alerts)
    app = create_app(
        runner,
        engine=alerts.store.engine,
        alerts=alerts,
        config=config,
        data_dir=tmp_path,
        model_version=version,
    )
    with app.state.sessions() as db:
        from api.security import create_user

        create_user(db, "guard1", PASSWORD, "guard")
        db.commit()
    with TestClient(app) as client:
        login = client.post("/api/auth/login", data={"username": "guard1", "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

        def hall_analysed() -> dict[str, Any] | None:
            cams = {c["camera_id"]: c for c in client.get("/health").json()["cameras"]}
            return cams if cams["hall"]["frames_analysed"] >= 3 else None

        cams = _wait_for(hall_analysed, 30, "the hall camera to be analysed")
        assert cams["hall"]["state"] == "online" and cams["hall"]["people"] == 2
        assert 0 < cams["hall"]["people_height"] < 1  # a share of the picture's height
        assert 0 < cams["hall"]["model_pixels_share"] <= 1  # regions are on by default
        assert cams["hall"]["decode_ms"] is not None and "inference_wait_ms" in cams["hall"]
        gate = _wait_for(
            lambda: (g := client.get("/health").json()["cameras"][1])["reconnects"] >= 1 and g,
            30,
            "the gate camera to retry",
        )
        assert gate["state"] == "reconnecting" and gate["last_error"]
        assert "secret" not in str(gate), "credentials must never be shown"

        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["model"] == "yolo11n-pose-320@320"

        plain = client.get("/api/cameras/hall/snapshot.jpg?overlay=false")
        drawn = client.get("/api/cameras/hall/snapshot.jpg")
        assert plain.headers["content-type"] == "image/jpeg"
        a = cv2.imdecode(np.frombuffer(plain.content, np.uint8), cv2.IMREAD_COLOR)
        b = cv2.imdecode(np.frombuffer(drawn.content, np.uint8), cv2.IMREAD_COLOR)
        assert a.shape == b.shape == (360, 640, 3)
        assert client.get("/api/cameras/gate/snapshot.jpg").status_code == 503
        assert client.get("/api/cameras/nope/snapshot.jpg").status_code == 404
        console = client.get("/")
        assert console.status_code == 200 and "/static/js/main.js" in console.text
    for worker in runner.workers.values():
        assert worker.reader.health().state == "ended", "cameras stop with the app"


@pytest.mark.slow
def test_run_on_embedded_defaults_serves_the_demo_and_stops_on_sigterm(
    tmp_path: Path, model_cache: Path
) -> None:
    """What `make run` does: no config, the demo camera, then a clean stop; the first admin is
    made with `carewatch users create-admin`, as a station would."""
    port = free_port()
    carewatch = Path(sys.executable).with_name("carewatch")
    data = str(tmp_path / "data")
    made = subprocess.run(
        [str(carewatch), "users", "create-admin", "--username", "admin", "--data-dir", data],
        env={**os.environ, "CAREWATCH_ADMIN_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    proc = subprocess.Popen(
        [str(carewatch), "run", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def demo_online() -> dict[str, Any] | None:
            if proc.poll() is not None:
                raise AssertionError(f"carewatch run exited early:\n{proc.stdout.read()}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    health: dict[str, Any] = json.load(r)
            except OSError:
                return None
            cam = health["cameras"][0]
            return health if cam["frames_analysed"] >= 2 else None

        health = _wait_for(demo_online, 120, "the demo camera to be analysed")
        assert health["status"] == "ok" and health["cameras"][0]["camera_id"] == "demo"
        assert (tmp_path / "data" / "demo.mp4").exists()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/alerts", timeout=5)
        assert refused.value.code == 401  # nothing without signing in
        form = urllib.parse.urlencode({"username": "admin", "password": PASSWORD}).encode()
        with urllib.request.urlopen(f"{base}/api/auth/login", data=form, timeout=10) as r:
            token = json.load(r)["access_token"]
        opener = urllib.request.build_opener()
        opener.addheaders = [("Authorization", f"Bearer {token}")]
        with opener.open(f"{base}/api/cameras/demo/stream.mjpg", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("multipart/x-mixed-replace")
            head = r.read(4096)
        assert b"Content-Type: image/jpeg" in head and b"\xff\xd8" in head

        def first_alert() -> dict[str, Any] | None:  # the demo's scripted fall, at 12.45 s
            with opener.open(f"{base}/api/alerts", timeout=5) as r:
                listed = json.load(r)["alerts"]
            return next((a for a in listed if a["kind"] == "fall" and a["snapshot"]), None)

        fall = _wait_for(first_alert, 90, "the demo's fall to raise an alert")
        assert fall["severity"] == "critical" and fall["camera_id"] == "demo"
        with opener.open(f"{base}/api/alerts/{fall['id']}/snapshot.jpg") as r:
            assert r.headers["Content-Type"] == "image/jpeg"
        assert (tmp_path / "data" / "carewatch.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    # uvicorn finishes its graceful shutdown, then re-raises the signal so the exit status says
    # "terminated by SIGTERM" (what systemd and shells expect of a service).
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output
    assert "all cameras stopped" in output


def test_cameras_can_run_the_model_at_their_own_input_size(
    people_clip: Path, tmp_path: Path
) -> None:
    """One session per input size, all taking turns in one queue; a size that is not installed
    is a clear error naming the camera."""
    from api.service import WorkerFactory, _estimator

    config = parse_config(
        {
            "model": {"input_size": 480},
            "cameras": [
                {"id": "near", "source": str(people_clip), "model_input_size": 320},
                {"id": "far", "source": str(people_clip)},
                {"id": "other", "source": str(people_clip), "model_input_size": 480},
            ],
        },
        "test",
    )
    factory = WorkerFactory(config, tmp_path, _estimator(config))
    near, far, other = (factory.make(c) for c in config.cameras)
    assert near.pipeline.estimator.model_version == "yolo11n-pose-320@320"
    assert far.pipeline.estimator.model_version == "yolo11n-pose-480@480"
    assert other.pipeline.estimator is far.pipeline.estimator
    assert near.pipeline.estimator.turns is far.pipeline.estimator.turns  # type: ignore[attr-defined]
    odd = config.cameras[0].model_copy(update={"id": "odd", "model_input_size": 416})
    with pytest.raises(ValueError, match=r"camera odd: model_input_size 416.*models install"):
        factory.make(odd)
    with pytest.raises(ValidationError, match="multiple of 32"):
        CameraConfig(id="x", source="x.mp4", model_input_size=300)
