"""Fixtures of the API tests: the real app factory over a temporary database (SQLite and a real
PostgreSQL), a real alert service, and signed-in clients of each role.

    def test_something(api: ApiEnv) -> None:
        r = api.client.get("/api/residents", headers=api.headers("admin"))

`api.headers(role)` signs in a user of that role directly (a session row and an access token),
so tests of other areas do not depend on the login route; the login flow has its own tests.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from alerts.config import AlertsConfig
from alerts.service import AlertService
from alerts.store import AlertStore, make_engine
from api.app import create_app
from api.config import AppConfig, parse_config
from api.db import create_tables
from api.security import ROLES, Role, Tokens, create_user, token_hash
from api.tables.auth import AuthSession, User
from vision.runner import Runner

PASSWORD = "correct horse battery"


@dataclass
class ApiEnv:
    app: FastAPI
    client: TestClient
    engine: Engine
    alerts: AlertService
    data_dir: Path
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: Role, username: str | None = None) -> User:
        """A user of `role` (created once per name, password `PASSWORD`)."""
        name = username or role
        if name not in self.users:
            with self.app.state.sessions() as db:
                user = create_user(db, name, PASSWORD, role, display_name=name.title())
                db.commit()
                db.refresh(user)
            self.users[name] = user
        return self.users[name]

    def headers(self, role: Role, username: str | None = None) -> dict[str, str]:
        """Authorization headers of a fresh session of a user of `role`."""
        user = self.user(role, username)
        now = time.time()
        sid = secrets.token_hex(16)
        with self.app.state.sessions() as db:
            db.add(
                AuthSession(
                    id=sid,
                    user_id=user.id,
                    token_hash=token_hash(secrets.token_urlsafe(32)),
                    created_at=now,
                    expires_at=now + 3600,
                    last_seen_at=now,
                )
            )
            db.commit()
        tokens: Tokens = self.app.state.tokens
        return {"Authorization": f"Bearer {tokens.issue(user, sid)}"}


def build_api(db_url: str, data_dir: Path, config: AppConfig | None = None) -> ApiEnv:
    """The app over an empty database at `db_url` (tables created), no cameras."""
    config = config or parse_config({}, "test")
    engine = make_engine(db_url)
    create_tables(engine)
    alerts = AlertService(
        config.alerts or AlertsConfig(), AlertStore(engine), data_dir / "evidence"
    )
    app = create_app(Runner([]), engine=engine, alerts=alerts, config=config, data_dir=data_dir)
    return ApiEnv(app, TestClient(app), engine, alerts, data_dir)


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[ApiEnv]:
    """The API on SQLite and on PostgreSQL (each test runs on both)."""
    env = build_api(db_url, tmp_path / "data")
    with env.client:
        yield env
    env.engine.dispose()


@pytest.fixture
def api_sqlite(tmp_path: Path) -> Iterator[ApiEnv]:
    """The API on SQLite only (for tests whose database does not matter)."""
    env = build_api(f"sqlite:///{tmp_path / 'carewatch.db'}", tmp_path / "data")
    with env.client:
        yield env
    env.engine.dispose()


__all__ = ["PASSWORD", "ROLES", "ApiEnv", "build_api"]
