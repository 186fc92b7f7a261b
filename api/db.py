"""The service's database: where it is, and bringing its schema up to date (Alembic).

SQLite in the data folder by default; any SQLAlchemy URL (PostgreSQL via psycopg) by config.
`migrate()` runs at start-up, so upgrading CareWatch upgrades the schema and keeps the data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.store import make_engine
from alerts.store import metadata as alerts_metadata
from api.tables import Base

log = logging.getLogger(__name__)

target_metadata: list[MetaData] = [alerts_metadata, Base.metadata]
"""Every table the migrations manage: the alert service's and the admin API's."""


def create_tables(engine: Engine) -> None:
    """Create every table directly (tests of one area); the service runs `migrate` instead."""
    for metadata in target_metadata:
        metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def get_db(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one ORM session per request (`app.state.sessions`), closed after."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(configured: str | None, data_dir: Path) -> str:
    """The configured URL, or SQLite `carewatch.db` in the data folder."""
    if configured:
        return configured
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'carewatch.db').resolve()}"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision` (idempotent)."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def open_database(configured: str | None, data_dir: Path) -> Engine:
    """An engine on the service's database with its schema migrated to the newest version."""
    url = database_url(configured, data_dir)
    engine = make_engine(url)
    try:
        migrate(engine)
    except Exception as exc:
        shown = engine.url.render_as_string(hide_password=True)
        raise RuntimeError(f"cannot open or migrate the database {shown}: {exc}") from exc
    log.info("database %s ready", engine.url.render_as_string(hide_password=True))
    return engine


DB = Annotated[Session, Depends(get_db)]
"""Route parameter type for the request's ORM session: `def route(db: DB) -> ...`."""
