"""The alert: one incident as guards see it, and the change records that carry it to channels.

An `Alert` is immutable; every change (created, updated by a further occurrence, escalated,
acknowledged, resolved, reopened, evidence attached) is a new `Alert` with `version` one higher,
stored with a `Change` whose `seq` orders all changes of the service. Consumers de-duplicate by
`(alert.id, alert.version)`; a reconnecting console resumes from the last `seq` it saw.

All times are epoch seconds (wall clock), converted from the camera clock by the service.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Ordered from least to most severe."""

State = Literal["new", "escalated", "acknowledged", "resolved"]
STATES: tuple[State, ...] = get_args(State)

Disposition = Literal["real_incident", "false_alarm", "duplicate", "cleared"]
"""How an alert ended: set by staff when resolving (`cleared`: resolved by the system itself,
e.g. a camera that came back online). Kept as labels for evaluation and training."""
DISPOSITIONS: tuple[Disposition, ...] = get_args(Disposition)

Action = Literal[
    "created", "updated", "reopened", "escalated", "acknowledged", "resolved", "evidence"
]
ACTIONS: tuple[Action, ...] = get_args(Action)

CAMERA_KINDS = ("camera_offline", "camera_frozen", "camera_covered")
"""Alerts raised by a camera's own health rather than by a behaviour detector."""

SYSTEM_ACTOR = "system"


def severity_rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


def raise_severity(severity: Severity, steps: int = 1) -> Severity:
    """`severity` moved up by `steps` levels, capped at the most severe."""
    return SEVERITIES[min(len(SEVERITIES) - 1, severity_rank(severity) + steps)]


@dataclass(frozen=True)
class Alert:
    """One incident. `started_at`/`detected_at`/`last_seen_at` come from the detector's events;
    `received_at` is when the frame that completed the event reached the service (latency)."""

    id: str
    version: int
    kind: str
    camera_id: str
    zone: str | None
    track_ids: tuple[int, ...]
    severity: Severity
    state: State
    started_at: float
    detected_at: float
    last_seen_at: float
    updated_at: float
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)
    occurrences: int = 1
    muted: bool = False
    received_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    resolved_at: float | None = None
    resolved_by: str | None = None
    disposition: Disposition | None = None
    note: str | None = None
    escalated_at: float | None = None
    escalation_level: int = 0
    snapshot: str | None = None
    clip: str | None = None

    @property
    def open(self) -> bool:
        return self.state != "resolved"

    def evolve(self, **changes: Any) -> Alert:
        """A copy with `changes` applied and the version bumped."""
        return dataclasses.replace(self, version=self.version + 1, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (track ids as a list)."""
        data = dataclasses.asdict(self)
        data["track_ids"] = list(self.track_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["track_ids"] = tuple(int(t) for t in values.get("track_ids", ()))
        return cls(**values)


@dataclass(frozen=True)
class Change:
    """One stored change of one alert: what a channel delivers and a console replays.

    `seq` increases over the whole service (the resume cursor); `alert` is the alert as it was
    right after this change.
    """

    seq: int
    action: Action
    actor: str | None
    at: float
    alert: Alert

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "actor": self.actor,
            "at": self.at,
            "alert": self.alert.to_dict(),
        }
