"""The alert database: alerts, their change log and per-channel deliveries (SQLAlchemy Core).

Store first, then deliver: `record()` writes the alert's new version, its change (with `seq`,
the service-wide cursor) and one pending delivery per channel that should get it, in one
transaction. Only after that commit does anything leave the service, so a crash or restart
loses nothing: pending deliveries are simply sent again (at-least-once; consumers de-duplicate
by alert id and version).

SQLite by default (WAL, synchronous=FULL, a busy timeout so threads wait instead of failing);
the same code runs on PostgreSQL (`postgresql+psycopg://...`). The schema is created by the
Alembic migrations in `api/migrations` (`create_schema` is the same schema for tests).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, RowMapping

from alerts.model import Action, Alert, Change

log = logging.getLogger(__name__)

metadata = MetaData()

alerts_table = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("camera_id", String(64), nullable=False),
    Column("zone", String(64)),
    Column("track_ids", JSON, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("muted", Boolean, nullable=False),
    Column("received_at", Float),
    Column("acknowledged_at", Float),
    Column("acknowledged_by", String(120)),
    Column("resolved_at", Float),
    Column("resolved_by", String(120)),
    Column("disposition", String(20)),
    Column("note", Text),
    Column("escalated_at", Float),
    Column("escalation_level", Integer, nullable=False),
    Column("snapshot", String(255)),
    Column("clip", String(255)),
    Index("ix_alerts_camera_kind_state", "camera_id", "kind", "state"),
    Index("ix_alerts_detected_at", "detected_at"),
    Index("ix_alerts_state", "state"),
)

changes_table = Table(
    "alert_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(32), ForeignKey("alerts.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(120)),
    Column("at", Float, nullable=False),
    Column("alert", JSON, nullable=False),
    UniqueConstraint("alert_id", "version", name="uq_alert_changes_alert_version"),
    sqlite_autoincrement=True,
)

deliveries_table = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_seq", Integer, ForeignKey("alert_changes.seq"), nullable=False),
    Column("alert_id", String(32), nullable=False),
    Column("sink", String(64), nullable=False),
    Column("status", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_attempt_at", Float),
    Column("delivered_at", Float),
    Column("last_error", Text),
    UniqueConstraint("change_seq", "sink", name="uq_alert_deliveries_change_sink"),
    Index("ix_alert_deliveries_due", "sink", "status", "next_attempt_at"),
    Index("ix_alert_deliveries_alert", "alert_id"),
    sqlite_autoincrement=True,
)


class ConflictError(RuntimeError):
    """Someone else changed the alert first (its stored version is not the one we started from)."""


@dataclass(frozen=True)
class Delivery:
    """One channel's copy of one change, with its attempts so far."""

    id: int
    sink: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    last_attempt_at: float | None
    delivered_at: float | None
    last_error: str | None
    change: Change

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sink": self.sink,
            "status": self.status,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "last_attempt_at": self.last_attempt_at,
            "delivered_at": self.delivered_at,
            "last_error": self.last_error,
            "seq": self.change.seq,
            "action": self.change.action,
            "version": self.change.alert.version,
        }


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, full sync and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Create the tables directly (tests); the service runs the Alembic migrations instead."""
    metadata.create_all(engine)


def _row_alert(row: RowMapping) -> Alert:
    data = dict(row)
    data["track_ids"] = tuple(data["track_ids"] or ())
    data["evidence"] = dict(data["evidence"] or {})
    return Alert(**data)


def _alert_values(alert: Alert) -> dict[str, Any]:
    values = alert.to_dict()
    values["track_ids"] = list(alert.track_ids)
    return values


def _change(row: RowMapping) -> Change:
    return Change(
        seq=int(row["seq"]),
        action=row["action"],
        actor=row["actor"],
        at=float(row["at"]),
        alert=Alert.from_dict(row["alert"]),
    )


class AlertStore:
    """All reads and writes of alerts, changes and deliveries; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ writes

    def record(
        self,
        alert: Alert,
        action: Action,
        *,
        actor: str | None,
        at: float,
        sinks: Sequence[str] = (),
    ) -> Change:
        """Store `alert` (a new one at version 1, else exactly one version after the stored one),
        its change, and a pending delivery per sink, atomically. Raises ConflictError when the
        stored version is not `alert.version - 1`."""
        values = _alert_values(alert)
        with self.engine.begin() as conn:
            if alert.version == 1:
                conn.execute(alerts_table.insert().values(**values))
            else:
                done = conn.execute(
                    update(alerts_table)
                    .where(alerts_table.c.id == alert.id)
                    .where(alerts_table.c.version == alert.version - 1)
                    .values(**values)
                )
                if done.rowcount != 1:
                    raise ConflictError(
                        f"alert {alert.id} changed meanwhile (expected version "
                        f"{alert.version - 1}); reload it and try again"
                    )
            key = conn.execute(
                changes_table.insert().values(
                    alert_id=alert.id,
                    version=alert.version,
                    action=action,
                    actor=actor,
                    at=at,
                    alert=values,
                )
            ).inserted_primary_key
            if key is None:
                raise RuntimeError("the database returned no change sequence number")
            seq = int(key[0])
            for sink in sinks:
                conn.execute(
                    deliveries_table.insert().values(
                        change_seq=seq,
                        alert_id=alert.id,
                        sink=sink,
                        status="pending",
                        attempts=0,
                        created_at=at,
                        next_attempt_at=at,
                    )
                )
        return Change(seq=int(seq), action=action, actor=actor, at=at, alert=alert)

    def mark_delivered(self, delivery_id: int, *, at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries_table)
                .where(deliveries_table.c.id == delivery_id)
                .values(
                    status="delivered",
                    attempts=deliveries_table.c.attempts + 1,
                    last_attempt_at=at,
                    delivered_at=at,
                    last_error=None,
                )
            )

    def mark_attempt_failed(
        self, delivery_id: int, *, at: float, error: str, retry_at: float | None
    ) -> None:
        """Record a failed attempt; `retry_at` None gives up (status `failed`)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries_table)
                .where(deliveries_table.c.id == delivery_id)
                .values(
                    status="pending" if retry_at is not None else "failed",
                    attempts=deliveries_table.c.attempts + 1,
                    last_attempt_at=at,
                    next_attempt_at=retry_at if retry_at is not None else at,
                    last_error=error[:2000],
                )
            )

    def fail_unknown_sinks(self, known: set[str], *, at: float) -> int:
        """Pending deliveries to channels no longer configured fail (reported, not retried)."""
        query = update(deliveries_table).where(deliveries_table.c.status == "pending")
        if known:
            query = query.where(deliveries_table.c.sink.not_in(sorted(known)))
        with self.engine.begin() as conn:
            result = conn.execute(
                query.values(
                    status="failed", last_error="channel no longer configured", last_attempt_at=at
                )
            )
            return int(result.rowcount or 0)

    # ------------------------------------------------------------------ reads

    def get(self, alert_id: str) -> Alert | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id))
                .mappings()
                .first()
            )
        return None if row is None else _row_alert(row)

    def find(
        self,
        *,
        camera_id: str | None = None,
        kind: str | None = None,
        state: str | None = None,
        disposition: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Alert]:
        """Alerts newest first, filtered by camera, kind, state, disposition and detection time."""
        query = select(alerts_table)
        t = alerts_table.c
        for column, value in (
            (t.camera_id, camera_id),
            (t.kind, kind),
            (t.state, state),
            (t.disposition, disposition),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(t.detected_at >= since)
        if until is not None:
            query = query.where(t.detected_at < until)
        query = query.order_by(t.detected_at.desc(), t.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [_row_alert(r) for r in conn.execute(query).mappings()]

    def count(self, *, open_only: bool = False) -> int:
        query = select(func.count()).select_from(alerts_table)
        if open_only:
            query = query.where(alerts_table.c.state != "resolved")
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def recent(self, *, since: float) -> list[Alert]:
        """Alerts that may still absorb an event: open ones, and those seen or resolved since."""
        t = alerts_table.c
        query = select(alerts_table).where(
            (t.state != "resolved") | (t.last_seen_at >= since) | (t.resolved_at >= since)
        )
        with self.engine.connect() as conn:
            return [_row_alert(r) for r in conn.execute(query).mappings()]

    def changes_since(self, seq: int, *, limit: int = 500) -> list[Change]:
        """Changes after cursor `seq`, oldest first (what a reconnecting console missed)."""
        query = (
            select(changes_table)
            .where(changes_table.c.seq > seq)
            .order_by(changes_table.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def history(self, alert_id: str) -> list[Change]:
        query = (
            select(changes_table)
            .where(changes_table.c.alert_id == alert_id)
            .order_by(changes_table.c.seq)
        )
        with self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(changes_table.c.seq))).scalar()
        return int(value or 0)

    def _deliveries(self, conn: Connection, query: Any) -> list[Delivery]:
        d = deliveries_table.c
        rows = conn.execute(
            query.add_columns(
                changes_table.c.seq,
                changes_table.c.action,
                changes_table.c.actor,
                changes_table.c.at,
                changes_table.c.alert,
            ).join(changes_table, changes_table.c.seq == d.change_seq)
        ).mappings()
        return [
            Delivery(
                id=int(r["id"]),
                sink=r["sink"],
                status=r["status"],
                attempts=int(r["attempts"]),
                created_at=float(r["created_at"]),
                next_attempt_at=float(r["next_attempt_at"]),
                last_attempt_at=r["last_attempt_at"],
                delivered_at=r["delivered_at"],
                last_error=r["last_error"],
                change=_change(r),
            )
            for r in rows
        ]

    def pending(self, sink: str, *, limit: int = 50) -> list[Delivery]:
        """The channel's pending deliveries in change order (due or not)."""
        d = deliveries_table.c
        query = (
            select(deliveries_table)
            .where(d.sink == sink)
            .where(d.status == "pending")
            .order_by(d.change_seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return self._deliveries(conn, query)

    def deliveries(self, alert_id: str) -> list[Delivery]:
        d = deliveries_table.c
        query = select(deliveries_table).where(d.alert_id == alert_id).order_by(d.id)
        with self.engine.connect() as conn:
            return self._deliveries(conn, query)

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """Per channel, how many deliveries are pending, delivered and failed."""
        d = deliveries_table.c
        query = select(d.sink, d.status, func.count()).group_by(d.sink, d.status)
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for sink, status, n in conn.execute(query):
                out.setdefault(sink, {})[status] = int(n)
        return out
