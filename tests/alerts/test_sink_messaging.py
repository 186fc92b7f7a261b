"""The Apprise channel delivering to a real HTTP receiver on loopback (form:// and json://)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from alerts.config import AppriseSinkConfig
from alerts.sinks.base import DeliveryError
from alerts.sinks.messaging import AppriseSink, body, title
from alerts.sinks.registry import build_sink
from tests.brokers import HttpReceiver, Request, make_change
from tests.servers import free_port


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    image = np.zeros((120, 160, 3), np.uint8)
    image[40:80, 60:100] = (0, 0, 255)
    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    path = tmp_path / "snapshot.jpg"
    path.write_bytes(jpeg.tobytes())
    return path


def apprise_sink(*urls: str, attach_snapshot: bool = True) -> AppriseSink:
    cfg = AppriseSinkConfig(name="staff", urls=urls, attach_snapshot=attach_snapshot)
    return AppriseSink(cfg, [])


def form_parts(request: Request) -> dict[str, EmailMessage]:
    """The parts of a multipart/form-data body by field name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + request.body)
    assert isinstance(message, EmailMessage) and message.is_multipart()
    parts: dict[str, EmailMessage] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        parts[name] = part
    return parts


def text(part: EmailMessage) -> str:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data.decode()


@pytest.mark.parametrize(
    ("change_args", "expected"),
    [
        ({}, "[CRITICAL] Fall — camera hall-2 (exit)"),
        ({"zone": None}, "[CRITICAL] Fall — camera hall-2"),
        (
            {"action": "escalated", "kind": "person_down", "severity": "warning"},
            "[WARNING] Person down — camera hall-2 (exit) — escalated",
        ),
        (
            {"kind": "camera_offline", "severity": "info", "zone": None},
            "[INFO] Camera offline — camera hall-2",
        ),
    ],
)
def test_title(change_args: dict[str, Any], expected: str) -> None:
    assert title(make_change(**change_args)) == expected


def test_body_says_it_in_plain_words() -> None:
    change = make_change(state="escalated", escalation_level=1, occurrences=3, version=4)
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(change.alert.detected_at))
    lines = body(change).splitlines()
    assert lines[0] == "Fall on camera hall-2, zone exit."
    assert lines[1].startswith(f"Detected: {local}")
    assert lines[2].startswith("Last seen: ")
    assert lines[3:] == [
        "State: escalated (level 1)",
        "Confidence: 87%",
        "Occurrences: 3",
        "Alert: 5f0c2a9e-alert version 4",
    ]


def test_form_delivers_title_body_and_snapshot(receiver: HttpReceiver, snapshot: Path) -> None:
    sink = apprise_sink(f"form://127.0.0.1:{receiver.port}/notify")
    change = make_change()
    sink.send(change, snapshot)
    sink.close()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/notify"
    assert request.headers["content-type"].startswith("multipart/form-data")
    parts = form_parts(request)
    assert text(parts["title"]) == title(change)
    assert text(parts["message"]) == body(change)
    assert text(parts["type"]) == "failure"  # critical
    attachment = parts["file01"]
    assert attachment.get_filename() == "snapshot.jpg"
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_payload(decode=True) == snapshot.read_bytes()


@pytest.mark.parametrize(
    ("attach_snapshot", "snapshot_name"),
    [(False, "snapshot.jpg"), (True, "missing.jpg"), (True, None)],
)
def test_form_without_attachment(
    receiver: HttpReceiver,
    snapshot: Path,
    attach_snapshot: bool,
    snapshot_name: str | None,
) -> None:
    sink = apprise_sink(f"form://127.0.0.1:{receiver.port}/", attach_snapshot=attach_snapshot)
    sink.send(make_change(), None if snapshot_name is None else snapshot.parent / snapshot_name)
    sink.close()
    request = receiver.requests[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"title=" in request.body
    assert b"\xff\xd8" not in request.body  # no JPEG


def test_json_delivers_title_and_body(receiver: HttpReceiver) -> None:
    sink = apprise_sink(f"json://127.0.0.1:{receiver.port}/notify")
    change = make_change(severity="warning")
    sink.send(change, None)
    sink.close()
    sent = json.loads(receiver.requests[0].body)
    assert sent["title"] == title(change)
    assert sent["message"] == body(change)
    assert sent["type"] == "warning"


@pytest.mark.parametrize("failure", ["status 500", "nothing listening"])
def test_failures_raise_delivery_error(receiver: HttpReceiver, failure: str) -> None:
    port = receiver.port
    if failure == "status 500":
        receiver.status = 500
    else:
        port = free_port()
    sink = apprise_sink(f"form://127.0.0.1:{port}/notify")
    with pytest.raises(
        DeliveryError, match=f"apprise 'staff': not delivered by form://127.0.0.1:{port}"
    ):
        sink.send(make_change(), None)
    sink.close()


def test_one_failing_service_fails_the_delivery(receiver: HttpReceiver) -> None:
    good = f"json://127.0.0.1:{receiver.port}/ok"
    bad = f"json://127.0.0.1:{free_port()}/down"
    sink = apprise_sink(good, bad)
    with pytest.raises(DeliveryError, match="/down"):
        sink.send(make_change(), None)
    sink.close()
    assert [r.path for r in receiver.requests] == ["/ok"]


def test_invalid_url_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"sink 'staff': URL #1 \(nosuchservice://...\)"):
        apprise_sink("nosuchservice://token@host")


def test_registry_adds_urls_from_the_environment(receiver: HttpReceiver) -> None:
    cfg = AppriseSinkConfig(name="staff", urls_env="CW_APPRISE_URLS")
    urls = f"json://127.0.0.1:{receiver.port}/a  json://127.0.0.1:{receiver.port}/b"
    sink = build_sink(cfg, {"CW_APPRISE_URLS": urls})
    assert isinstance(sink, AppriseSink)
    sink.send(make_change(), None)
    sink.close()
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b"]


@pytest.mark.parametrize("env", [{}, {"CW_APPRISE_URLS": ""}])
def test_registry_refuses_missing_urls(env: dict[str, str]) -> None:
    cfg = AppriseSinkConfig(name="staff", urls=("json://127.0.0.1/",), urls_env="CW_APPRISE_URLS")
    with pytest.raises(ValueError, match="sink 'staff': environment variable CW_APPRISE_URLS"):
        build_sink(cfg, env)
