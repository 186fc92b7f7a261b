"""The webhook channel against a real HTTP receiver on loopback, and its signature scheme."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from alerts.config import WebhookSinkConfig
from alerts.sinks.base import DeliveryError
from alerts.sinks.registry import build_sink
from alerts.sinks.webhook import WebhookSink, payload, sign, verify_signature
from tests.brokers import HttpReceiver, Request, make_change
from tests.servers import free_port

SECRET = b"s3cret-key"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


def webhook(url: str, secret: bytes | None = SECRET, timeout_s: float = 2.0) -> WebhookSink:
    return WebhookSink(WebhookSinkConfig(name="ops", url=url, timeout_s=timeout_s), secret)


@pytest.fixture
def delivered(receiver: HttpReceiver) -> Request:
    """The one request a signed `send` made."""
    sink = webhook(f"{receiver.url}/hooks/carewatch")
    sink.send(make_change(seq=7, version=3), None)
    sink.close()
    assert len(receiver.requests) == 1
    return receiver.requests[0]


def test_send_posts_the_exact_payload_and_headers(delivered: Request) -> None:
    change = make_change(seq=7, version=3)
    assert delivered.method == "POST"
    assert delivered.path == "/hooks/carewatch"
    assert delivered.body == payload(change)
    assert json.loads(delivered.body) == json.loads(json.dumps(change.to_dict()))
    assert delivered.headers["content-type"] == "application/json"
    assert delivered.headers["x-carewatch-alert"] == change.alert.id
    assert delivered.headers["x-carewatch-version"] == "3"
    assert delivered.headers["x-carewatch-delivery"] == "7"
    assert abs(int(delivered.headers["x-carewatch-timestamp"]) - time.time()) < 60
    assert delivered.headers["x-carewatch-signature"].startswith("sha256=")


def test_payload_is_compact_sorted_json() -> None:
    body = payload(make_change())
    assert body.startswith(b'{"action":"created","actor":"system","alert":{')
    assert b" " not in body
    assert b"\n" not in body


@pytest.mark.parametrize(
    ("case", "secret", "body_suffix", "now_offset_s", "ok"),
    [
        ("as sent", SECRET, b"", 0, True),
        ("within tolerance", SECRET, b"", 299, True),
        ("wrong secret", b"another-key", b"", 0, False),
        ("body altered", SECRET, b" ", 0, False),
        ("stale timestamp", SECRET, b"", 301, False),
        ("timestamp from the future", SECRET, b"", -301, False),
    ],
)
def test_receiver_verifies_signature(
    delivered: Request, case: str, secret: bytes, body_suffix: bytes, now_offset_s: float, ok: bool
) -> None:
    timestamp = delivered.headers["x-carewatch-timestamp"]
    signature = delivered.headers["x-carewatch-signature"]
    now = int(timestamp) + now_offset_s
    body = delivered.body + body_suffix
    assert verify_signature(secret, timestamp, body, signature, now=now) is ok, case


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("1741050003", "sha256=00"),
        ("1741050003", ""),
        ("1741050003", "sha256=é"),
        ("not-a-number", sign(SECRET, "not-a-number", b"{}")),
        ("1741050004", sign(SECRET, "1741050003", b"{}")),  # signature of another time
    ],
)
def test_malformed_signatures_are_rejected(timestamp: str, signature: str) -> None:
    assert not verify_signature(SECRET, timestamp, b"{}", signature, now=1741050003)


def test_without_secret_no_signature_is_sent(receiver: HttpReceiver) -> None:
    sink = webhook(receiver.url, secret=None)
    sink.send(make_change(), None)
    sink.close()
    assert "x-carewatch-signature" not in receiver.requests[0].headers
    assert receiver.requests[0].body == payload(make_change())


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("status 500", "answered 500 Internal Server Error: receiver says no"),
        ("status 404", "answered 404 Not Found"),
        ("status 301", "answered 301"),
        ("nothing listening", "unreachable: ConnectError"),
        ("slower than the timeout", "did not answer within 0.5 s"),
    ],
)
def test_failures_raise_delivery_error(receiver: HttpReceiver, failure: str, message: str) -> None:
    url = f"{receiver.url}/hook?token=abc"
    if failure.startswith("status"):
        receiver.status = int(failure.split()[1])
    elif failure == "nothing listening":
        url = f"http://127.0.0.1:{free_port()}/hook?token=abc"
    else:
        receiver.hold.set()
    sink = webhook(url, timeout_s=0.5)
    with pytest.raises(DeliveryError, match=re.escape(message)) as failed:
        sink.send(make_change(), None)
    sink.close()
    assert url.split("?")[0] in str(failed.value)
    assert "token=abc" not in str(failed.value)


def test_registry_signs_with_the_secret_from_the_environment(receiver: HttpReceiver) -> None:
    cfg = WebhookSinkConfig(name="ops", url=receiver.url, secret_env="CW_HOOK_KEY")
    sink = build_sink(cfg, {"CW_HOOK_KEY": "from-env"})
    assert isinstance(sink, WebhookSink)
    sink.send(make_change(), None)
    sink.close()
    sent = receiver.requests[0]
    ts, signature = sent.headers["x-carewatch-timestamp"], sent.headers["x-carewatch-signature"]
    assert verify_signature(b"from-env", ts, sent.body, signature, now=time.time())


@pytest.mark.parametrize("env", [{}, {"CW_HOOK_KEY": ""}])
def test_registry_refuses_a_missing_secret(env: dict[str, str]) -> None:
    cfg = WebhookSinkConfig(name="ops", url="http://127.0.0.1:9/hook", secret_env="CW_HOOK_KEY")
    with pytest.raises(ValueError, match="sink 'ops': environment variable CW_HOOK_KEY"):
        build_sink(cfg, env)


def test_registry_builds_unsigned_without_secret_env(receiver: HttpReceiver) -> None:
    sink = build_sink(WebhookSinkConfig(name="ops", url=receiver.url), {})
    sink.send(make_change(), None)
    sink.close()
    assert "x-carewatch-signature" not in receiver.requests[0].headers
