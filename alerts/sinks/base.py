"""The protocol every delivery channel implements."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from alerts.model import Change


class DeliveryError(RuntimeError):
    """A delivery that did not succeed this time; the dispatcher retries it with backoff."""


class Sink(Protocol):
    """Sends one stored change of an alert to one channel.

    `send` returns once the channel has accepted the message (HTTP 2xx, MQTT PUBACK, ...) and
    raises `DeliveryError` (or any exception) otherwise; it must not retry by itself, the
    dispatcher does. `snapshot` is the alert's snapshot JPEG on disk, when there is one.
    """

    name: str

    def send(self, change: Change, snapshot: Path | None) -> None: ...

    def close(self) -> None: ...
