"""Fixtures of the alert tests: the alert tables on SQLite and on a real PostgreSQL
(`db_url` comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from alerts.store import create_schema, make_engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()
