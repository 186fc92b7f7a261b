"""Webhook channel: each change POSTed as JSON, signed with HMAC-SHA256.

The request (the scheme of Stripe's and GitHub's webhooks)::

    POST <url>
    Content-Type: application/json
    X-CareWatch-Alert: <alert id>
    X-CareWatch-Version: <alert version>
    X-CareWatch-Delivery: <change seq>
    X-CareWatch-Timestamp: <unix seconds, integer>
    X-CareWatch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

    {"action":"created","actor":null,"alert":{...},"at":...,"seq":42}

The body is `payload(change)`: compact JSON with sorted keys, UTF-8. The signature header is
only sent when a secret is configured. A receiver recomputes the HMAC over the timestamp, a dot
and the raw body bytes exactly as received, compares in constant time, and rejects timestamps
older (or newer) than a few minutes, so a captured request cannot be replayed later;
`verify_signature` does all of that. Deliveries are at least once: a receiver de-duplicates by
`(alert id, version)` or by the delivery `seq`.

Any 2xx answer counts as accepted; any other status, a timeout or a connection error raises
`DeliveryError` (the dispatcher retries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from alerts.config import WebhookSinkConfig
from alerts.model import Change
from alerts.sinks.base import DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="


def payload(change: Change) -> bytes:
    """The JSON every channel sends for `change`: compact, sorted keys, UTF-8."""
    text = json.dumps(change.to_dict(), separators=(",", ":"), sort_keys=True, default=str)
    return text.encode()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-CareWatch-Signature` value: `sha256=` and the hex HMAC of `timestamp.body`."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    tolerance_s: float = 300,
) -> bool:
    """Whether `signature` (the header value) signs `body` at `timestamp` with `secret`, and
    `timestamp` (unix seconds, the header value) is within `tolerance_s` of `now`.

    >>> ts = "1700000000"
    >>> verify_signature(b"k", ts, b"{}", sign(b"k", ts, b"{}"), now=1700000010)
    True
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))


def _display_url(url: str) -> str:
    """`url` without user info and query, which may hold tokens."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class WebhookSink:
    """POSTs each change to `cfg.url` (see the module docstring for the request)."""

    def __init__(self, cfg: WebhookSinkConfig, secret: bytes | None) -> None:
        self.name = cfg.name
        self._url = cfg.url
        self._shown_url = _display_url(cfg.url)
        self._timeout_s = cfg.timeout_s
        self._secret = secret
        self._client = httpx.Client(
            timeout=cfg.timeout_s, follow_redirects=False, headers={"User-Agent": "CareWatch"}
        )

    def send(self, change: Change, snapshot: Path | None) -> None:
        """POST `change`; returns on a 2xx answer, raises `DeliveryError` otherwise."""
        body = payload(change)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-CareWatch-Alert": change.alert.id,
            "X-CareWatch-Version": str(change.alert.version),
            "X-CareWatch-Delivery": str(change.seq),
            "X-CareWatch-Timestamp": timestamp,
        }
        if self._secret is not None:
            headers["X-CareWatch-Signature"] = sign(self._secret, timestamp, body)
        where = f"webhook {self.name!r}: {self._shown_url}"
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as e:
            raise DeliveryError(
                f"{where} did not answer within {self._timeout_s:g} s ({type(e).__name__})"
            ) from e
        except httpx.HTTPError as e:
            raise DeliveryError(f"{where} unreachable: {type(e).__name__}: {e}") from e
        if not response.is_success:
            detail = response.text[:200].strip()
            raise DeliveryError(
                f"{where} answered {response.status_code} {response.reason_phrase}"
                + (f": {detail}" if detail else "")
            )
        log.debug(
            "camera %s: %s accepted alert %s v%d",
            change.alert.camera_id,
            where,
            change.alert.id,
            change.alert.version,
        )

    def close(self) -> None:
        self._client.close()
