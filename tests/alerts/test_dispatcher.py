"""Delivery rounds: order per channel, backoff after failures, giving up, resuming after a
restart. The channel here is a recording double (the real channels have their own tests);
the clock is a variable, so nothing sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from alerts import policy
from alerts.config import DeliveryConfig
from alerts.dispatcher import Dispatcher, retry_delay
from alerts.model import Change
from alerts.sinks.base import DeliveryError
from alerts.store import AlertStore
from tests.alerts.builders import T0, config, event


class Recorder:
    """A channel that records what it was sent, or fails while `down`."""

    def __init__(self, name: str = "hook") -> None:
        self.name = name
        self.down = False
        self.sent: list[tuple[str, int, str]] = []
        self.tries = 0

    def send(self, change: Change, snapshot: Path | None) -> None:
        self.tries += 1
        if self.down:
            raise DeliveryError("receiver is down")
        self.sent.append((change.alert.id, change.alert.version, change.action))

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def setup(engine: Engine, **delivery: float) -> tuple[AlertStore, Recorder, Clock, Dispatcher]:
    store = AlertStore(engine)
    sink, clock = Recorder(), Clock()
    cfg = DeliveryConfig(**delivery)  # type: ignore[arg-type]
    return store, sink, clock, Dispatcher(store, {"hook": sink}, cfg, Path("/nonexistent"), clock)


def create_and_ack(store: AlertStore, tracks: tuple[int, ...] = (1,)) -> None:
    alert = policy.decide(event("fall", 0, tracks=tracks), [], config(), now=T0).alert
    assert alert is not None
    store.record(alert, "created", actor=None, at=T0, sinks=["hook"])
    store.record(
        policy.acknowledge(alert, "g", T0), "acknowledged", actor="g", at=T0, sinks=["hook"]
    )


def test_delivers_in_change_order(engine: Engine) -> None:
    store, sink, _, dispatcher = setup(engine)
    create_and_ack(store, (1,))
    create_and_ack(store, (2,))
    assert dispatcher.run_once("hook") is None
    assert [(v, a) for _, v, a in sink.sent] == [
        (1, "created"),
        (2, "acknowledged"),
        (1, "created"),
        (2, "acknowledged"),
    ]
    assert store.delivery_counts() == {"hook": {"delivered": 4}}


def test_failure_holds_later_changes_back_and_retries_with_backoff(engine: Engine) -> None:
    store, sink, clock, dispatcher = setup(engine, retry_initial_s=2, retry_max_s=10)
    create_and_ack(store)
    sink.down = True
    assert dispatcher.run_once("hook") == T0 + 2
    assert sink.tries == 1  # the acknowledgement waits behind the creation
    clock.now = T0 + 1
    assert dispatcher.run_once("hook") == T0 + 2  # not due yet: no attempt
    assert sink.tries == 1
    clock.now = T0 + 2
    assert dispatcher.run_once("hook") == T0 + 2 + 4  # second failure: twice the wait
    (first, _) = store.pending("hook")
    assert first.attempts == 2 and "receiver is down" in (first.last_error or "")
    sink.down = False
    clock.now = T0 + 6
    assert dispatcher.run_once("hook") is None
    assert [a for _, _, a in sink.sent] == ["created", "acknowledged"]


def test_gives_up_after_the_configured_time(engine: Engine) -> None:
    store, sink, clock, dispatcher = setup(engine, retry_initial_s=1, give_up_after_s=60)
    create_and_ack(store)
    sink.down = True
    clock.now = T0 + 61
    dispatcher.run_once("hook")
    counts = store.delivery_counts()["hook"]
    assert counts == {"failed": 2}
    assert sink.sent == []


def test_a_new_dispatcher_resumes_pending_deliveries(engine: Engine) -> None:
    """What a restart does: the deliveries live in the database, not in the process."""
    store, sink, _, dispatcher = setup(engine)
    create_and_ack(store)
    sink.down = True
    dispatcher.run_once("hook")
    assert sink.sent == []
    _, sink2, clock2, restarted = setup(engine)
    clock2.now = T0 + 10
    restarted.run_once("hook")
    assert [(v, a) for _, v, a in sink2.sent] == [(1, "created"), (2, "acknowledged")]


@pytest.mark.parametrize(("attempts", "expected"), [(1, 2.0), (2, 4.0), (3, 8.0), (10, 300.0)])
def test_retry_delay_grows_and_is_capped(attempts: int, expected: float) -> None:
    assert retry_delay(attempts, DeliveryConfig()) == expected
