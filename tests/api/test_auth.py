"""Signing in and out through the real app on SQLite and PostgreSQL: the OAuth2 password flow,
the HTTP-only session cookie, throttling of failed logins, refresh, logout, expiry, one's own
password and sessions, and what is written to the login records and the audit log.

The throttling clock is tested as a pure function with explicit times; the HTTP tests move the
recorded failures back in time in the database instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.config import AuthConfig, parse_config
from api.security import COOKIE, Tokens, lockout_remaining, session_state
from api.tables.audit import AuditEntry
from api.tables.auth import AuthSession, LoginAttempt, User
from tests.api.conftest import PASSWORD, ApiEnv, build_api

WRONG = "wrong user name or password"


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    r = client.post("/api/auth/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(api: ApiEnv) -> list[tuple[str, str]]:
    with api.app.state.sessions() as db:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.actor) for e in rows]


def attempts(api: ApiEnv) -> list[tuple[str, bool]]:
    with api.app.state.sessions() as db:
        rows = db.scalars(select(LoginAttempt).order_by(LoginAttempt.id))
        return [(a.username, a.success) for a in rows]


# -- the throttling clock, with explicit times ---------------------------------------------------

CFG = AuthConfig(max_failed_logins=3, failure_window_s=600, lockout_s=300)


@pytest.mark.parametrize(
    ("failures", "now", "last_success", "expected"),
    [
        ([], 1000.0, None, 0.0),  # nothing failed
        ([990.0, 995.0], 1000.0, None, 0.0),  # below the limit
        ([990.0, 995.0, 999.0], 1000.0, None, 299.0),  # third failure locks for 300 s from it
        ([100.0, 200.0, 300.0], 500.0, None, 100.0),  # 200 s into the lockout
        ([100.0, 200.0, 300.0], 600.0, None, 0.0),  # lockout over exactly at 300 s
        ([100.0, 200.0, 300.0], 900.0, None, 0.0),  # long over
        ([10.0, 400.0, 500.0], 650.0, None, 0.0),  # the first left the 600 s window at 50 s
        ([900.0, 950.0, 999.0], 1000.0, 960.0, 0.0),  # a success at 960 s reset the count
        ([900.0, 950.0, 999.0], 1000.0, 800.0, 299.0),  # a success before them does not
        ([1.0, 2.0, 3.0, 4.0, 5.0], 100.0, None, 205.0),  # more than the limit: newest counts
    ],
)
def test_lockout_remaining(
    failures: list[float], now: float, last_success: float | None, expected: float
) -> None:
    assert lockout_remaining(failures, now, CFG, last_success) == pytest.approx(expected)


def test_session_state_by_time() -> None:
    s = AuthSession(expires_at=100.0, revoked_at=None)
    assert session_state(s, 99.0) == "active"
    assert session_state(s, 100.0) == "expired"
    s.revoked_at = 50.0
    assert session_state(s, 60.0) == "revoked"


# -- login, cookie, bearer -----------------------------------------------------------------------


def test_login_gives_a_bearer_token_and_an_http_only_cookie(api: ApiEnv) -> None:
    api.user("operator", "olga")
    r = api.client.post("/api/auth/login", data={"username": "olga", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert (body["username"], body["role"], body["display_name"]) == ("olga", "operator", "Olga")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attrs = {a.strip().lower() for a in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/", "max-age=43200"} <= attrs
    assert "secure" not in attrs  # cookie_secure defaults off (plain HTTP on the LAN)

    # the bearer token alone works (no cookie sent)
    anonymous = TestClient(api.app)
    me = anonymous.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == "olga"
    assert anonymous.get("/api/auth/me").status_code == 401

    # the cookie alone works (no Authorization header), as in the browser console
    browser = TestClient(api.app, cookies={COOKIE: api.client.cookies[COOKIE]})
    me = browser.get("/api/auth/me").json()
    assert me["username"] == "olga" and me["role"] == "operator"
    assert me["session_expires_at"] == pytest.approx(time.time() + 43200, abs=60)

    with api.app.state.sessions() as db:
        session = db.get(AuthSession, me["session_id"])
        user = db.scalar(select(User).where(User.username == "olga"))
        assert session is not None and user is not None
        assert session.token_hash != api.client.cookies[COOKIE], "only the hash is stored"
        assert session.user_agent and session.address == "testclient"
        assert user.last_login_at == pytest.approx(time.time(), abs=60)
    assert attempts(api) == [("olga", True)]
    assert ("login.success", "olga") in audit_actions(api)


@pytest.mark.parametrize(
    ("username", "password"),
    [("olga", "not the password"), ("nobody", PASSWORD), ("x" * 200, PASSWORD), ("o\x00", "x")],
)
def test_wrong_password_and_unknown_user_get_the_same_401(
    api: ApiEnv, username: str, password: str
) -> None:
    api.user("operator", "olga")
    r = api.client.post("/api/auth/login", data={"username": username, "password": password})
    assert r.status_code == 401 and r.json() == {"detail": WRONG}
    assert COOKIE not in r.headers.get("set-cookie", "")
    stored = username.replace("\x00", "\ufffd")[:64]
    assert attempts(api) == [(stored, False)]
    assert audit_actions(api) == [("login.failure", stored)]


def test_a_deactivated_account_cannot_sign_in(api: ApiEnv) -> None:
    user = api.user("guard", "gus")
    with api.app.state.sessions() as db:
        db.execute(update(User).where(User.id == user.id).values(active=False))
        db.commit()
    r = api.client.post("/api/auth/login", data={"username": "gus", "password": PASSWORD})
    assert r.status_code == 401 and r.json() == {"detail": WRONG}


def test_login_needs_both_form_fields(api_sqlite: ApiEnv) -> None:
    for form in ({"username": "olga"}, {"username": "", "password": PASSWORD}):
        assert api_sqlite.client.post("/api/auth/login", data=form).status_code == 422
    r = api_sqlite.client.post("/api/auth/login", json={"username": "a", "password": "b"})
    assert r.status_code == 422, "the OAuth2 password flow sends a form, not JSON"


# -- throttling ----------------------------------------------------------------------------------


@pytest.fixture
def strict(db_url: str, tmp_path: Path) -> Iterator[ApiEnv]:
    """The app with 3 failed logins allowed within 10 minutes and a 60 s lockout."""
    config = parse_config(
        {"auth": {"max_failed_logins": 3, "failure_window_s": 600, "lockout_s": 60}}, "test"
    )
    env = build_api(db_url, tmp_path / "data", config)
    env.user("guard", "gus")
    with env.client:
        yield env
    env.engine.dispose()


def rewind_attempts(api: ApiEnv, seconds: float) -> None:
    """Move every recorded login attempt `seconds` into the past (instead of sleeping)."""
    with api.app.state.sessions() as db:
        db.execute(update(LoginAttempt).values(at=LoginAttempt.at - seconds))
        db.commit()


def test_failed_logins_lock_the_name_and_address_out_for_a_while(strict: ApiEnv) -> None:
    client = strict.client
    wrong = {"username": "gus", "password": "guessing..."}
    right = {"username": "gus", "password": PASSWORD}
    for _ in range(3):
        assert client.post("/api/auth/login", data=wrong).status_code == 401
    r = client.post("/api/auth/login", data=right)
    assert r.status_code == 429, "locked out even with the right password"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "try again in" in r.json()["detail"]
    # other names from the same address are not locked
    assert client.post("/api/auth/login", data={**wrong, "username": "ann"}).status_code == 401

    rewind_attempts(strict, 61)
    assert client.post("/api/auth/login", data=right).status_code == 200
    # the success starts the count afresh: two more failures do not lock
    for _ in range(2):
        assert client.post("/api/auth/login", data=wrong).status_code == 401
    assert client.post("/api/auth/login", data=right).status_code == 200

    actions = [a for a, _ in audit_actions(strict)]
    assert actions.count("login.failure") == 6 and actions.count("login.throttled") == 1
    assert actions.count("login.success") == 2
    with strict.app.state.sessions() as db:
        throttled = db.scalar(select(AuditEntry).where(AuditEntry.action == "login.throttled"))
        assert throttled is not None and throttled.actor == "gus"
        assert 1 <= throttled.details["retry_after_s"] <= 60


def test_throttled_attempts_do_not_extend_the_lockout(strict: ApiEnv) -> None:
    wrong = {"username": "gus", "password": "guessing..."}
    for _ in range(3):
        strict.client.post("/api/auth/login", data=wrong)
    for _ in range(5):
        assert strict.client.post("/api/auth/login", data=wrong).status_code == 429
    assert len(attempts(strict)) == 3
    rewind_attempts(strict, 61)
    assert strict.client.post("/api/auth/login", data=wrong).status_code == 401


# -- refresh, logout, expiry ---------------------------------------------------------------------


def test_refresh_with_the_cookie_or_the_bearer_token(api: ApiEnv) -> None:
    api.user("guard", "gus")
    first = login(api.client, "gus")
    # cookie only
    fresh = api.client.post("/api/auth/refresh")
    assert fresh.status_code == 200 and fresh.json()["username"] == "gus"
    tokens: Tokens = api.app.state.tokens
    sid = tokens.decode(str(first["access_token"]))["sid"]
    assert tokens.decode(fresh.json()["access_token"])["sid"] == sid, "same session"
    # bearer only
    anonymous = TestClient(api.app)
    again = anonymous.post("/api/auth/refresh", headers=bearer(first["access_token"]))
    assert again.status_code == 200
    assert anonymous.post("/api/auth/refresh").status_code == 401


def test_logout_ends_both_the_bearer_token_and_the_cookie(api: ApiEnv) -> None:
    api.user("guard", "gus")
    token = login(api.client, "gus")["access_token"]
    cookie = api.client.cookies[COOKIE]
    r = api.client.post("/api/auth/logout")
    assert r.status_code == 204
    assert (
        f"{COOKIE}=" in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
    )

    assert TestClient(api.app).get("/api/auth/me", headers=bearer(token)).status_code == 401
    stale_browser = TestClient(api.app, cookies={COOKIE: cookie})
    assert stale_browser.get("/api/auth/me").status_code == 401
    assert stale_browser.post("/api/auth/refresh").status_code == 401
    assert TestClient(api.app).post("/api/auth/refresh", headers=bearer(token)).status_code == 401
    assert ("logout", "gus") in audit_actions(api)


def test_an_expired_access_token_is_refused_with_a_reason(api: ApiEnv) -> None:
    user = api.user("guard", "gus")
    token = login(api.client, "gus")["access_token"]
    tokens: Tokens = api.app.state.tokens
    sid = tokens.decode(str(token))["sid"]
    old = tokens.issue(user, sid, now=time.time() - tokens.access_ttl_s - 5)
    client = TestClient(api.app)
    r = client.get("/api/auth/me", headers=bearer(old))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    short = Tokens(tokens.secret, 60)
    assert client.get("/api/auth/me", headers=bearer(short.issue(user, sid))).status_code == 200
    forged = Tokens(b"another key" * 4, 900).issue(user, sid)
    r = client.get("/api/auth/me", headers=bearer(forged))
    assert r.status_code == 401 and "not valid" in r.json()["detail"]


def test_an_expired_session_is_refused(api: ApiEnv) -> None:
    api.user("guard", "gus")
    token = login(api.client, "gus")["access_token"]
    with api.app.state.sessions() as db:
        db.execute(update(AuthSession).values(expires_at=time.time() - 1))
        db.commit()
    assert TestClient(api.app).get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert api.client.post("/api/auth/refresh").status_code == 401


def test_last_seen_is_updated_on_use_at_most_once_a_minute(api: ApiEnv) -> None:
    api.user("guard", "gus")
    token = login(api.client, "gus")["access_token"]
    tokens: Tokens = api.app.state.tokens
    sid = tokens.decode(str(token))["sid"]

    def last_seen() -> float:
        with api.app.state.sessions() as db:
            session = db.get(AuthSession, sid)
            assert session is not None
            return float(session.last_seen_at)

    seen = last_seen()
    client = TestClient(api.app, headers=bearer(token))
    client.get("/api/auth/me")
    assert last_seen() == seen, "used again within the minute: no write"
    with api.app.state.sessions() as db:
        db.execute(update(AuthSession).values(last_seen_at=seen - 120))
        db.commit()
    client.get("/api/auth/me")
    assert last_seen() == pytest.approx(time.time(), abs=30)


# -- one's own password and sessions -------------------------------------------------------------


def test_changing_ones_password_ends_the_other_sessions(api: ApiEnv) -> None:
    api.user("guard", "gus")
    other = login(TestClient(api.app), "gus")["access_token"]
    mine = login(api.client, "gus")["access_token"]
    api.client.cookies.clear()
    client = TestClient(api.app, headers=bearer(mine))
    assert len(client.get("/api/auth/sessions").json()) == 2

    wrong = {"current_password": "not it at all", "new_password": "a new passphrase"}
    assert client.put("/api/auth/password", json=wrong).status_code == 403
    short = {"current_password": PASSWORD, "new_password": "short"}
    assert client.put("/api/auth/password", json=short).status_code == 422
    good = {"current_password": PASSWORD, "new_password": "a new passphrase"}
    assert client.put("/api/auth/password", json=good).status_code == 204

    assert client.get("/api/auth/me").status_code == 200, "this session goes on"
    assert TestClient(api.app).get("/api/auth/me", headers=bearer(other)).status_code == 401
    sessions = client.get("/api/auth/sessions").json()
    assert len(sessions) == 1 and sessions[0]["current"] is True
    assert "token_hash" not in sessions[0]
    r = api.client.post("/api/auth/login", data={"username": "gus", "password": PASSWORD})
    assert r.status_code == 401
    login(api.client, "gus", "a new passphrase")
    with api.app.state.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.password"))
        assert entry is not None and entry.actor == "gus"
        assert entry.details == {"sessions_ended": 1}
        assert "passphrase" not in str(entry.details)


def test_auth_routes_need_a_session(api_sqlite: ApiEnv) -> None:
    client = api_sqlite.client
    for method, path in [
        ("GET", "/api/auth/me"),
        ("GET", "/api/auth/sessions"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/logout"),
        ("PUT", "/api/auth/password"),
    ]:
        r = client.request(method, path, json={})
        assert r.status_code == 401, f"{method} {path}"
        assert r.json()["detail"]
