"""Event -> alert policy on the event-time clock: merge, cool-down, re-open, severity, quiet
hours, enablement and escalation. No sleeping: every time is chosen by the test."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from alerts import policy
from alerts.config import AlertsConfig
from alerts.model import Alert
from tests.alerts.builders import T0, config, event
from vision.types import BehaviourEvent


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"a{next(counter)}"


def run(events: list[BehaviourEvent], cfg: AlertsConfig) -> tuple[list[str], dict[str, Alert]]:
    """Feed events in order, keeping every alert; returns the decisions and the final alerts."""
    alerts: dict[str, Alert] = {}
    actions = []
    new_id = ids()
    for e in events:
        d = policy.decide(e, list(alerts.values()), cfg, now=e.detected_at, new_id=new_id)
        actions.append(d.action)
        if d.alert is not None:
            alerts[d.alert.id] = d.alert
    return actions, alerts


@pytest.mark.parametrize(
    ("name", "events", "expected"),
    [
        ("one fall", [event("fall", 0)], ["created"]),
        (
            "same person falls again within cool-down: one alert",
            [event("fall", 0), event("fall", 30)],
            ["created", "updated"],
        ),
        (
            "same person after the cool-down: a new alert",
            [event("fall", 0), event("fall", 121)],
            ["created", "created"],
        ),
        (
            "two people fall at once: two alerts",
            [event("fall", 0, tracks=(1,)), event("fall", 1, tracks=(2,))],
            ["created", "created"],
        ),
        (
            "a fight is one incident per camera even when the tracks change",
            [event("fight", 0, tracks=(1, 2)), event("fight", 20, tracks=(3, 4))],
            ["created", "updated"],
        ),
        (
            "fights on two cameras are two incidents",
            [event("fight", 0, camera="a"), event("fight", 1, camera="b")],
            ["created", "created"],
        ),
        (
            "loitering merges by zone across tracks",
            [
                event("loitering", 0, zone="exit", tracks=(1,)),
                event("loitering", 5, zone="exit", tracks=(7,)),
            ],
            ["created", "updated"],
        ),
        (
            "loitering in another zone is another alert",
            [event("loitering", 0, zone="exit"), event("loitering", 5, zone="hall")],
            ["created", "created"],
        ),
        (
            "different kinds never merge",
            [event("fall", 0), event("person_down", 1)],
            ["created", "created"],
        ),
    ],
)
def test_merge_and_cooldown(name: str, events: list[BehaviourEvent], expected: list[str]) -> None:
    actions, _ = run(events, config())
    assert actions == expected, name


def test_update_counts_occurrences_and_keeps_first_evidence() -> None:
    _, alerts = run(
        [event("fall", 0, speed=1.0), event("fall", 10, tracks=(1, 5), speed=2.0)], config()
    )
    (alert,) = alerts.values()
    assert alert.version == 2
    assert alert.occurrences == 2
    assert alert.track_ids == (1, 5)
    assert alert.last_seen_at == T0 + 10
    assert alert.detected_at == T0  # when the incident was first detected
    assert alert.evidence["speed"] == 2.0
    assert alert.evidence["first"] == {"speed": 1.0}


def test_cooldown_per_kind_is_configurable() -> None:
    cfg = config(kinds={"fall": {"cooldown_s": 5}})
    actions, _ = run([event("fall", 0), event("fall", 6)], cfg)
    assert actions == ["created", "created"]


def resolved(alert: Alert, t: float, disposition: str = "real_incident") -> Alert:
    return policy.resolve(alert, "guard", T0 + t, disposition)


@pytest.mark.parametrize(
    ("disposition", "gap_s", "expected"),
    [
        ("real_incident", 60, "reopened"),
        ("real_incident", 601, "created"),  # beyond reopen_s: a new incident
        ("false_alarm", 60, "created"),  # a false alarm is not brought back
        ("duplicate", 60, "reopened"),
    ],
)
def test_resolved_alert_reopens_when_behaviour_returns(
    disposition: str, gap_s: float, expected: str
) -> None:
    cfg = config()
    first = policy.decide(event("fall", 0), [], cfg, now=T0, new_id=ids()).alert
    assert first is not None
    closed = resolved(first, 10, disposition)
    again = event("fall", 10 + gap_s)
    d = policy.decide(again, [closed], cfg, now=again.detected_at, new_id=lambda: "b")
    assert d.action == expected
    assert d.alert is not None
    if expected == "reopened":
        assert d.alert.id == first.id
        assert d.alert.state == "new"
        assert d.alert.resolved_at is None and d.alert.disposition is None
        assert d.alert.version == closed.version + 1
    else:
        assert d.alert.id == "b"


@pytest.mark.parametrize(
    ("kinds", "cameras", "camera", "kind", "alerted"),
    [
        ({}, {}, "cam1", "fall", True),
        ({"pacing": {"enabled": False}}, {}, "cam1", "pacing", False),
        ({}, {"cam1": {"enabled": False}}, "cam1", "fall", False),
        ({}, {"cam1": {"enabled": False}}, "cam2", "fall", True),
        ({}, {"cam1": {"kinds": ["fall"]}}, "cam1", "fight", False),
        ({}, {"cam1": {"kinds": ["fall"]}}, "cam1", "fall", True),
    ],
)
def test_enablement_per_kind_and_camera(
    kinds: dict[str, object], cameras: dict[str, object], camera: str, kind: str, alerted: bool
) -> None:
    d = policy.decide(
        event(kind, 0, camera=camera), [], config(kinds=kinds, cameras=cameras), now=T0
    )
    assert (d.action == "created") is alerted
    if not alerted:
        assert d.reason


@pytest.mark.parametrize(
    ("kind", "zone", "expected"),
    [
        ("fall", None, "critical"),
        ("loitering", None, "info"),
        ("loitering", "exit", "critical"),
        ("loitering", "hall", "info"),
        ("camera_offline", None, "warning"),
    ],
)
def test_severity_per_kind_and_zone(kind: str, zone: str | None, expected: str) -> None:
    cfg = config(kinds={"loitering": {"zone_severity": {"exit": "critical"}}})
    d = policy.decide(event(kind, 0, zone=zone), [], cfg, now=T0)
    assert d.alert is not None and d.alert.severity == expected


def _at(hhmm: str) -> float:
    """Epoch seconds of today's local HH:MM (quiet hours are local time)."""
    from datetime import datetime

    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, 29, h, m).timestamp()


@pytest.mark.parametrize(
    ("time", "kind", "muted"),
    [
        ("23:30", "pacing", True),  # warning < critical, inside the window
        ("03:00", "pacing", True),  # the window wraps midnight
        ("12:00", "pacing", False),  # outside
        ("23:30", "fall", False),  # critical always goes out
    ],
)
def test_quiet_hours_mute_lower_severities(time: str, kind: str, muted: bool) -> None:
    cfg = config(quiet_hours=[{"start": "22:00", "end": "06:00", "min_severity": "critical"}])
    e = event(kind, 0)
    e = BehaviourEvent(**{**e.__dict__, "detected_at": _at(time), "started_at": _at(time) - 1})
    d = policy.decide(e, [], cfg, now=e.detected_at)
    assert d.alert is not None and d.alert.muted is muted


def test_escalation_steps_until_max_level() -> None:
    cfg = config(escalation={"after_s": 60, "repeat_s": 120, "max_level": 2})
    alert = policy.decide(event("pacing", 0), [], cfg, now=T0).alert
    assert alert is not None and alert.severity == "warning"
    assert policy.escalations([alert], cfg, now=T0 + 59) == []
    (first,) = policy.escalations([alert], cfg, now=T0 + 60)
    assert (first.state, first.escalation_level, first.severity) == ("escalated", 1, "critical")
    assert policy.escalations([first], cfg, now=T0 + 179) == []
    (second,) = policy.escalations([first], cfg, now=T0 + 180)
    assert second.escalation_level == 2 and second.severity == "critical"
    assert policy.escalations([second], cfg, now=T0 + 10_000) == []  # max level reached


@pytest.mark.parametrize("state", ["acknowledged", "resolved"])
def test_acknowledged_or_resolved_alerts_do_not_escalate(state: str) -> None:
    cfg = config()
    alert = policy.decide(event("fall", 0), [], cfg, now=T0).alert
    assert alert is not None
    done = (
        policy.acknowledge(alert, "guard", T0 + 5)
        if state == "acknowledged"
        else policy.resolve(alert, "guard", T0 + 5, "real_incident")
    )
    assert policy.escalations([done], cfg, now=T0 + 100_000) == []


def test_staff_actions_record_who_and_when() -> None:
    alert = policy.decide(event("fall", 0), [], config(), now=T0).alert
    assert alert is not None
    acked = policy.acknowledge(alert, "li.wei", T0 + 3, "on my way")
    assert (acked.state, acked.acknowledged_by, acked.acknowledged_at) == (
        "acknowledged",
        "li.wei",
        T0 + 3,
    )
    done = policy.resolve(acked, "zhang", T0 + 60, "false_alarm", "was doing yoga")
    assert (done.state, done.disposition, done.resolved_by, done.note) == (
        "resolved",
        "false_alarm",
        "zhang",
        "was doing yoga",
    )
    assert done.acknowledged_by == "li.wei"  # the first responder stays on record
    with pytest.raises(ValueError, match="already resolved"):
        policy.resolve(done, "zhang", T0 + 61, "real_incident")
    with pytest.raises(ValueError, match="resolved"):
        policy.acknowledge(done, "zhang", T0 + 61)
    with pytest.raises(ValueError, match="disposition must be one of"):
        policy.resolve(acked, "zhang", T0 + 61, "whatever")
