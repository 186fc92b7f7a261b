"""The Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL,
and running them again changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from alerts.store import make_engine
from api.db import migrate, target_metadata


def test_migrations_match_the_declared_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # idempotent
    declared = MetaData()
    for metadata in target_metadata:
        for table in metadata.tables.values():
            table.to_metadata(declared)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), declared)
    assert diff == []
    tables = set(inspect(engine).get_table_names())
    assert set(declared.tables) <= tables
    assert {"alerts", "users", "audit_log"} <= tables
    engine.dispose()
