"""The alert store on SQLite and on a real PostgreSQL: atomic record, optimistic versions,
the change cursor, delivery bookkeeping, and the Alembic migrations matching the tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from alerts import policy
from alerts.model import Alert
from alerts.store import AlertStore, ConflictError
from api.db import open_database
from tests.alerts.builders import T0, config, event


def new_alert(kind: str = "fall", t: float = 0.0, **kw: object) -> Alert:
    d = policy.decide(event(kind, t, **kw), [], config(), now=T0 + t)  # type: ignore[arg-type]
    assert d.alert is not None
    return d.alert


def test_record_round_trips_every_field(engine: Engine) -> None:
    store = AlertStore(engine)
    alert = new_alert(zone="hall", tracks=(3, 4), angle=71.5)
    change = store.record(alert, "created", actor="system", at=T0, sinks=["hook", "mqtt"])
    assert change.seq == 1
    assert store.get(alert.id) == alert
    assert store.history(alert.id)[0].alert == alert
    assert [d.sink for d in store.deliveries(alert.id)] == ["hook", "mqtt"]
    assert all(d.status == "pending" and d.attempts == 0 for d in store.deliveries(alert.id))


def test_versions_must_follow_each_other(engine: Engine) -> None:
    store = AlertStore(engine)
    alert = new_alert()
    store.record(alert, "created", actor=None, at=T0)
    acked = policy.acknowledge(alert, "guard", T0 + 1)
    store.record(acked, "acknowledged", actor="guard", at=T0 + 1)
    stale = policy.resolve(alert, "other", T0 + 2, "false_alarm")  # built on version 1
    with pytest.raises(ConflictError, match="changed meanwhile"):
        store.record(stale, "resolved", actor="other", at=T0 + 2, sinks=["hook"])
    # nothing of the failed write remains: no change, no delivery
    assert [c.action for c in store.history(alert.id)] == ["created", "acknowledged"]
    assert store.deliveries(alert.id) == []
    assert store.get(alert.id) == acked


def test_change_cursor_replays_what_a_client_missed(engine: Engine) -> None:
    store = AlertStore(engine)
    a, b = new_alert(tracks=(1,)), new_alert(tracks=(2,), t=1)
    store.record(a, "created", actor=None, at=T0)
    seen = store.last_seq()
    store.record(b, "created", actor=None, at=T0 + 1)
    store.record(policy.acknowledge(a, "g", T0 + 2), "acknowledged", actor="g", at=T0 + 2)
    missed = store.changes_since(seen)
    assert [(c.alert.id, c.alert.version, c.action) for c in missed] == [
        (b.id, 1, "created"),
        (a.id, 2, "acknowledged"),
    ]
    assert [c.seq for c in missed] == sorted(c.seq for c in missed)
    assert store.changes_since(store.last_seq()) == []


def test_find_filters_and_orders_newest_first(engine: Engine) -> None:
    store = AlertStore(engine)
    for i, (kind, cam) in enumerate([("fall", "a"), ("fight", "a"), ("fall", "b")]):
        store.record(
            new_alert(kind, t=i * 10, camera=cam, tracks=(i,)), "created", actor=None, at=T0
        )
    assert [a.kind for a in store.find()] == ["fall", "fight", "fall"][::-1]
    assert [a.camera_id for a in store.find(kind="fall")] == ["b", "a"]
    assert [a.kind for a in store.find(camera_id="a", since=T0 + 5)] == ["fight"]
    assert store.find(state="resolved") == []
    assert len(store.find(limit=2)) == 2 and len(store.find(limit=2, offset=2)) == 1


def test_delivery_attempts_and_outcomes(engine: Engine) -> None:
    store = AlertStore(engine)
    alert = new_alert()
    store.record(alert, "created", actor=None, at=T0, sinks=["hook"])
    (d,) = store.pending("hook")
    store.mark_attempt_failed(d.id, at=T0 + 1, error="ConnectError: refused", retry_at=T0 + 3)
    (d,) = store.pending("hook")
    assert (d.attempts, d.next_attempt_at, d.last_error) == (1, T0 + 3, "ConnectError: refused")
    store.mark_delivered(d.id, at=T0 + 3)
    assert store.pending("hook") == []
    (done,) = store.deliveries(alert.id)
    assert (done.status, done.attempts, done.delivered_at, done.last_error) == (
        "delivered",
        2,
        T0 + 3,
        None,
    )
    assert store.delivery_counts() == {"hook": {"delivered": 1}}


def test_pending_deliveries_to_removed_channels_fail(engine: Engine) -> None:
    store = AlertStore(engine)
    store.record(new_alert(), "created", actor=None, at=T0, sinks=["old", "hook"])
    assert store.fail_unknown_sinks({"hook"}, at=T0 + 1) == 1
    assert store.delivery_counts() == {"hook": {"pending": 1}, "old": {"failed": 1}}


def test_default_database_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    engine = open_database(None, tmp_path / "data")
    assert (tmp_path / "data" / "carewatch.db").exists()
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    engine.dispose()


def test_unreachable_database_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="cannot open or migrate the database"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:9/none", tmp_path)
