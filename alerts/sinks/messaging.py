"""Staff messaging through Apprise: email, DingTalk, WeCom, Feishu, Telegram and the rest.

A message reads like this (times in the server's local time zone)::

    [CRITICAL] Fall — camera hall-2 (exit)

    Fall on camera hall-2, zone exit.
    Detected: 2025-03-04 02:17:09 CET
    State: escalated (level 1)
    Confidence: 87%
    Occurrences: 3
    Alert: 5f0c... version 4

with the snapshot JPEG attached where the service takes attachments (`attach_snapshot`).
Changes other than `created` say so at the end of the title ("— escalated"). Apprise's own
per-service timeouts apply (4 s by default, `?cto=`/`?rto=` in a URL change them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import apprise

from alerts.config import AppriseSinkConfig
from alerts.model import Alert, Change, Severity
from alerts.sinks.base import DeliveryError

log = logging.getLogger(__name__)

NOTIFY_TYPES: dict[Severity, apprise.NotifyType] = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "critical": apprise.NotifyType.FAILURE,
}


def kind_words(kind: str) -> str:
    """`person_down` -> `Person down`."""
    return kind.replace("_", " ").capitalize()


def title(change: Change) -> str:
    """`[CRITICAL] Fall — camera hall-2 (exit)`, plus `— <action>` unless it was created."""
    alert = change.alert
    text = f"[{alert.severity.upper()}] {kind_words(alert.kind)} — camera {alert.camera_id}"
    if alert.zone:
        text += f" ({alert.zone})"
    if change.action != "created":
        text += f" — {change.action}"
    return text


def _local_time(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _state(alert: Alert) -> str:
    if alert.state == "escalated":
        return f"escalated (level {alert.escalation_level})"
    if alert.state == "acknowledged" and alert.acknowledged_by:
        return f"acknowledged by {alert.acknowledged_by}"
    if alert.state == "resolved" and alert.resolved_by:
        return f"resolved by {alert.resolved_by}"
    return alert.state


def body(change: Change) -> str:
    """The message text in plain words (see the module docstring)."""
    alert = change.alert
    where = f"camera {alert.camera_id}" + (f", zone {alert.zone}" if alert.zone else "")
    lines = [
        f"{kind_words(alert.kind)} on {where}.",
        f"Detected: {_local_time(alert.detected_at)}",
        f"State: {_state(alert)}",
        f"Confidence: {alert.confidence:.0%}",
        f"Occurrences: {alert.occurrences}",
        f"Alert: {alert.id} version {alert.version}",
    ]
    if alert.occurrences > 1:
        lines.insert(2, f"Last seen: {_local_time(alert.last_seen_at)}")
    return "\n".join(lines)


def _shown(url: str) -> str:
    """A service URL as Apprise prints it (tokens masked), without its long query."""
    return url.partition("?")[0]


class AppriseSink:
    """Sends each change as a short message to every Apprise URL of the channel."""

    def __init__(self, cfg: AppriseSinkConfig, extra_urls: list[str]) -> None:
        self.name = cfg.name
        self._attach = cfg.attach_snapshot
        asset = apprise.AppriseAsset(app_id="CareWatch", app_desc="CareWatch alerts")
        self._apprise = apprise.Apprise(asset=asset)
        for i, url in enumerate([*cfg.urls, *extra_urls], start=1):
            if not self._apprise.add(url):
                # The URL itself may hold a token: name only its scheme.
                raise ValueError(
                    f"sink {cfg.name!r}: URL #{i} ({urlsplit(url).scheme}://...) is not a "
                    "valid Apprise URL"
                )
        if len(self._apprise) == 0:
            raise ValueError(f"sink {cfg.name!r}: no Apprise URL")
        self._services = [_shown(str(service)) for service in self._apprise]

    def send(self, change: Change, snapshot: Path | None) -> None:
        """Notify every service; raises `DeliveryError` unless all of them accepted."""
        attach = None
        if self._attach and snapshot is not None and snapshot.is_file():
            attach = apprise.AppriseAttachment(str(snapshot))
        result = self._apprise.notify(
            body=body(change),
            title=title(change),
            notify_type=NOTIFY_TYPES[change.alert.severity],
            body_format=apprise.NotifyFormat.TEXT,
            attach=attach,
        )
        if not result:
            # Apprise 2 says which services failed; 1.9 only that one did.
            results = getattr(result, "results", ())
            failed = [_shown(r.url) for r in results if not r] or self._services
            raise DeliveryError(
                f"apprise {self.name!r}: not delivered by {', '.join(failed)} "
                "(the 'apprise' log says why)"
            )
        log.debug(
            "camera %s: alert %s v%d sent to %d service(s)",
            change.alert.camera_id,
            change.alert.id,
            change.alert.version,
            len(self._services),
        )

    def close(self) -> None:
        self._apprise.clear()
