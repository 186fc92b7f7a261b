"""Event -> alert policy: enablement, severity, merge and cool-down, re-opening, quiet hours and
escalation. Pure functions over the event-time clock: no I/O, no `time.time()`, so the rules are
tested by feeding events with chosen times.

    decision = decide(event, recent_alerts_of_that_camera, cfg, now=wall)
    if decision.action == "created": store.create(decision.alert)
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from alerts.config import AlertsConfig
from alerts.model import (
    DISPOSITIONS,
    Alert,
    Severity,
    raise_severity,
    severity_rank,
)
from vision.types import BehaviourEvent

DecisionAction = Literal["created", "updated", "reopened", "ignored"]


@dataclass(frozen=True)
class Decision:
    """What to do with one event: the alert to store (None when ignored) and why."""

    action: DecisionAction
    alert: Alert | None
    reason: str = ""


def enabled(cfg: AlertsConfig, camera_id: str, kind: str) -> str | None:
    """None when `kind` may raise alerts on `camera_id`, else the reason it may not."""
    if not cfg.policy(kind).enabled:
        return f"kind {kind} is disabled"
    cam = cfg.cameras.get(camera_id)
    if cam is not None:
        if not cam.enabled:
            return f"alerts are disabled for camera {camera_id}"
        if cam.kinds is not None and kind not in cam.kinds:
            return f"kind {kind} is not enabled for camera {camera_id}"
    return None


def severity_of(cfg: AlertsConfig, kind: str, zone: str | None) -> Severity:
    policy = cfg.policy(kind)
    if zone is not None and zone in policy.zone_severity:
        return policy.zone_severity[zone]
    return policy.severity


def muted(cfg: AlertsConfig, kind: str, severity: Severity, wall_time: float) -> bool:
    """Whether a quiet-hours window holds `wall_time` and mutes this kind at this severity."""
    for window in cfg.quiet_hours:
        if window.kinds is not None and kind not in window.kinds:
            continue
        if severity_rank(severity) >= severity_rank(window.min_severity):
            continue
        if window.contains(wall_time):
            return True
    return False


def same_incident(cfg: AlertsConfig, alert: Alert, event: BehaviourEvent) -> bool:
    """Camera, kind and zone agree, and the kind's `merge_by` holds (shared track, zone, camera)."""
    if (alert.camera_id, alert.kind, alert.zone) != (event.camera_id, event.kind, event.zone):
        return False
    merge_by = cfg.policy(event.kind).merge_by
    if merge_by == "track":
        return bool(set(alert.track_ids) & set(event.track_ids)) or not (
            alert.track_ids or event.track_ids
        )
    return True


def decide(
    event: BehaviourEvent,
    recent: Sequence[Alert],
    cfg: AlertsConfig,
    *,
    now: float,
    received_at: float | None = None,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> Decision:
    """Turn one event (times already on the wall clock) into a new, updated or reopened alert.

    `recent` holds the camera's alerts that may still absorb an event: open ones and those
    resolved within `reopen_s`. An event joins the matching alert whose last occurrence is within
    the kind's `cooldown_s` (open alerts) or `reopen_s` of its resolution (resolved ones).
    """
    reason = enabled(cfg, event.camera_id, event.kind)
    if reason is not None:
        return Decision("ignored", None, reason)
    policy = cfg.policy(event.kind)
    matches = sorted(
        (a for a in recent if same_incident(cfg, a, event)),
        key=lambda a: a.last_seen_at,
        reverse=True,
    )
    for alert in matches:
        if alert.open and event.detected_at - alert.last_seen_at <= policy.cooldown_s:
            return Decision("updated", _merge(alert, event, now), "same incident, within cool-down")
        if (
            not alert.open
            and alert.resolved_at is not None
            and alert.disposition != "false_alarm"
            and event.detected_at - alert.resolved_at <= cfg.reopen_s
        ):
            reopened = dataclasses.replace(
                _merge(alert, event, now),
                state="new",
                resolved_at=None,
                resolved_by=None,
                disposition=None,
                acknowledged_at=None,
                acknowledged_by=None,
                escalated_at=None,
                escalation_level=0,
                severity=severity_of(cfg, event.kind, event.zone),
            )
            return Decision("reopened", reopened, "behaviour came back after resolution")
    severity = severity_of(cfg, event.kind, event.zone)
    alert = Alert(
        id=new_id(),
        version=1,
        kind=event.kind,
        camera_id=event.camera_id,
        zone=event.zone,
        track_ids=tuple(event.track_ids),
        severity=severity,
        state="new",
        started_at=event.started_at,
        detected_at=event.detected_at,
        last_seen_at=event.detected_at,
        updated_at=now,
        confidence=event.confidence,
        evidence=dict(event.evidence),
        muted=muted(cfg, event.kind, severity, event.detected_at),
        received_at=received_at,
    )
    return Decision("created", alert, "new incident")


def _merge(alert: Alert, event: BehaviourEvent, now: float) -> Alert:
    """`alert` after one more occurrence of its incident (version +1)."""
    tracks = tuple(sorted(set(alert.track_ids) | set(event.track_ids)))
    return alert.evolve(
        track_ids=tracks,
        last_seen_at=max(alert.last_seen_at, event.detected_at),
        updated_at=now,
        occurrences=alert.occurrences + 1,
        confidence=max(alert.confidence, event.confidence),
        evidence={**dict(event.evidence), "first": alert.evidence.get("first", alert.evidence)},
    )


def escalations(alerts: Iterable[Alert], cfg: AlertsConfig, *, now: float) -> list[Alert]:
    """The escalated versions of alerts nobody acknowledged in time.

    A new alert escalates `escalation.after_s` after detection; an escalated one escalates again
    every `repeat_s` until `max_level`. Each step raises the severity by `severity_steps`.
    Camera-health alerts escalate like any other: a dark camera is a blind spot.
    """
    esc = cfg.escalation
    out = []
    for alert in alerts:
        if alert.state not in ("new", "escalated") or alert.escalation_level >= esc.max_level:
            continue
        due = (
            alert.detected_at + esc.after_s
            if alert.escalated_at is None
            else alert.escalated_at + esc.repeat_s
        )
        if now < due:
            continue
        out.append(
            alert.evolve(
                state="escalated",
                escalation_level=alert.escalation_level + 1,
                escalated_at=now,
                updated_at=now,
                severity=raise_severity(alert.severity, esc.severity_steps),
                muted=False,
            )
        )
    return out


def acknowledge(alert: Alert, actor: str, now: float, note: str | None = None) -> Alert:
    """Acknowledged by `actor`; a ValueError if the alert is already resolved."""
    if not alert.open:
        raise ValueError(f"alert {alert.id} is resolved; it cannot be acknowledged")
    return alert.evolve(
        state="acknowledged",
        acknowledged_at=now,
        acknowledged_by=actor,
        updated_at=now,
        note=note if note is not None else alert.note,
    )


def resolve(
    alert: Alert, actor: str, now: float, disposition: str, note: str | None = None
) -> Alert:
    """Resolved with a disposition; a ValueError if it already is."""
    if not alert.open:
        raise ValueError(f"alert {alert.id} is already resolved")
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition must be one of {', '.join(DISPOSITIONS)}")
    return alert.evolve(
        state="resolved",
        resolved_at=now,
        resolved_by=actor,
        disposition=disposition,
        acknowledged_at=alert.acknowledged_at if alert.acknowledged_at is not None else now,
        acknowledged_by=alert.acknowledged_by if alert.acknowledged_by is not None else actor,
        updated_at=now,
        note=note if note is not None else alert.note,
    )
