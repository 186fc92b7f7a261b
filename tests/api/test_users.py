"""Staff accounts through the admin API on SQLite and PostgreSQL: create, list, change and
deactivate accounts, their sessions, the checks on input, the guard rails against locking
oneself out, who may call it, and what reaches the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.tables.audit import AuditEntry
from tests.api.conftest import PASSWORD, ApiEnv

NEW = {"username": "ana.lopez", "display_name": "Ana López", "role": "guard", "password": PASSWORD}


@pytest.fixture
def admin(api: ApiEnv) -> TestClient:
    """The API client signed in as an admin (bearer token)."""
    api.client.headers.update(api.headers("admin", "root"))
    return api.client


def login(api: ApiEnv, username: str, password: str = PASSWORD) -> TestClient:
    """A separate client signed in as `username` through the login route."""
    client = TestClient(api.app)
    r = client.post("/api/auth/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def audit_of(api: ApiEnv, action: str) -> list[AuditEntry]:
    with api.app.state.sessions() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_create_get_and_list_accounts(api: ApiEnv, admin: TestClient) -> None:
    r = admin.post("/api/users", json=NEW)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["username"] == "ana.lopez" and made["display_name"] == "Ana López"
    assert made["role"] == "guard" and made["active"] is True and made["last_login_at"] is None
    assert set(made) == {
        "id",
        "username",
        "display_name",
        "role",
        "active",
        "created_at",
        "updated_at",
        "last_login_at",
    }
    assert admin.get(f"/api/users/{made['id']}").json() == made
    login(api, "ana.lopez")  # the new account works at once

    listed = admin.get("/api/users").json()
    assert listed["total"] == 2 and [u["username"] for u in listed["users"]] == [
        "ana.lopez",
        "root",
    ]
    assert "password" not in str(listed) and "hash" not in str(listed)

    (entry,) = audit_of(api, "user.create")
    assert entry.actor == "root" and entry.role == "admin" and entry.target_id == str(made["id"])
    assert entry.details == {"username": "ana.lopez", "role": "guard", "display_name": "Ana López"}
    assert PASSWORD not in str(entry.details)


def test_list_filters_sorts_and_pages(api: ApiEnv, admin: TestClient) -> None:
    for name, role in [
        ("bea", "operator"),
        ("carl", "guard"),
        ("dora", "admin"),
        ("eddy", "guard"),
    ]:
        body = {**NEW, "username": name, "role": role, "display_name": name.title() + " Night"}
        assert admin.post("/api/users", json=body).status_code == 201
    login(api, "carl")
    login(api, "bea")
    ed = admin.get("/api/users?q=eddy").json()["users"][0]
    assert admin.patch(f"/api/users/{ed['id']}", json={"active": False}).status_code == 200

    def names(query: str) -> list[str]:
        r = admin.get(f"/api/users?{query}")
        assert r.status_code == 200, r.text
        return [u["username"] for u in r.json()["users"]]

    assert names("role=guard") == ["carl", "eddy"]
    assert names("active=false") == ["eddy"]
    assert names("role=guard&active=true") == ["carl"]
    assert names("q=NIGHT") == ["bea", "carl", "dora", "eddy"], "display names, any case"
    assert names("q=%25") == [], "% is a character, not a wildcard"
    assert names("sort=username&order=desc") == ["root", "eddy", "dora", "carl", "bea"]
    assert names("sort=created_at&order=desc")[0] == "eddy"
    # never signed in: last, whichever the order
    assert names("sort=last_login_at&order=desc")[:2] == ["bea", "carl"]
    assert names("sort=last_login_at&order=asc")[:2] == ["carl", "bea"]
    page = admin.get("/api/users?limit=2&offset=2").json()
    assert page["total"] == 5 and [u["username"] for u in page["users"]] == ["dora", "eddy"]
    assert (page["limit"], page["offset"]) == (2, 2)


@pytest.mark.parametrize(
    "query",
    [
        "sort=password_hash",
        "order=sideways",
        "role=superuser",
        "limit=0",
        "limit=1001",
        "offset=-1",
        "active=perhaps",
        "q=" + "x" * 121,
    ],
)
def test_list_rejects_bad_parameters(admin: TestClient, query: str) -> None:
    r = admin.get(f"/api/users?{query}")
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"username": "ab"},
        {"username": "x" * 65},
        {"username": "ana lopez"},
        {"username": "ana/lopez"},
        {"username": "ána"},
        {"password": "short"},
        {"password": None},
        {"role": "root"},
        {"role": None},
        {"display_name": "x" * 121},
        {"display_name": "line\nbreak"},
        {"display_name": "nul\x00"},
        {"is_admin": True},
    ],
)
def test_create_rejects_bad_input_with_422(
    api: ApiEnv, admin: TestClient, change: dict[str, Any]
) -> None:
    r = admin.post("/api/users", json={**NEW, **change})
    assert r.status_code == 422, r.text
    assert admin.get("/api/users").json()["total"] == 1, "nothing was created"
    assert audit_of(api, "user.create") == []


def test_user_names_are_unique_ignoring_case(admin: TestClient) -> None:
    assert admin.post("/api/users", json=NEW).status_code == 201
    for name in ("ana.lopez", "Ana.Lopez"):
        r = admin.post("/api/users", json={**NEW, "username": name})
        assert r.status_code == 409 and "taken" in r.json()["detail"]


def test_unknown_ids_are_404_and_bad_ids_422(admin: TestClient) -> None:
    assert admin.get("/api/users/999").status_code == 404
    assert admin.patch("/api/users/999", json={"active": False}).status_code == 404
    assert admin.get("/api/users/999/sessions").status_code == 404
    assert admin.delete("/api/users/sessions/" + "0" * 32).status_code == 404
    for path in (
        "/api/users/abc",
        "/api/users/0",
        f"/api/users/{2**31}",
        "/api/users/2" + "0" * 30,
    ):
        assert admin.get(path).status_code == 422, path
    assert admin.delete("/api/users/sessions/not-a-session").status_code == 422


def test_accounts_are_never_deleted(admin: TestClient) -> None:
    made = admin.post("/api/users", json=NEW).json()
    assert admin.delete(f"/api/users/{made['id']}").status_code == 405
    assert admin.get(f"/api/users/{made['id']}").status_code == 200


def test_update_changes_fields_and_audits_their_names(api: ApiEnv, admin: TestClient) -> None:
    made = admin.post("/api/users", json=NEW).json()
    r = admin.patch(f"/api/users/{made['id']}", json={"display_name": "Ana L.", "role": "operator"})
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Ana L." and r.json()["role"] == "operator"
    assert r.json()["updated_at"] >= made["updated_at"]
    same = admin.patch(f"/api/users/{made['id']}", json={"role": "operator", "display_name": None})
    assert same.status_code == 200
    assert admin.patch(f"/api/users/{made['id']}", json={"role": "boss"}).status_code == 422
    assert admin.patch(f"/api/users/{made['id']}", json={"password": "short"}).status_code == 422
    assert admin.patch(f"/api/users/{made['id']}", json={"username": "x"}).status_code == 422

    r = admin.patch(f"/api/users/{made['id']}", json={"password": "another passphrase"})
    assert r.status_code == 200
    login(api, "ana.lopez", "another passphrase")

    entries = audit_of(api, "user.update")
    assert [e.details["changed"] for e in entries] == [["display_name", "role"], ["password"]]
    assert entries[0].details["values"] == {"display_name": "Ana L.", "role": "operator"}
    assert "another passphrase" not in str([e.details for e in entries])


def test_deactivating_ends_the_accounts_sessions(api: ApiEnv, admin: TestClient) -> None:
    made = admin.post("/api/users", json=NEW).json()
    ana = login(api, "ana.lopez")
    ana_cookie_only = TestClient(api.app, cookies=dict(ana.cookies))
    assert ana.get("/api/auth/me").status_code == 200
    assert ana_cookie_only.get("/api/auth/me").status_code == 200
    sessions = admin.get(f"/api/users/{made['id']}/sessions?active=true").json()
    assert sessions["total"] == 1 and sessions["sessions"][0]["username"] == "ana.lopez"

    r = admin.patch(f"/api/users/{made['id']}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert ana.get("/api/auth/me").status_code == 401
    assert ana_cookie_only.get("/api/auth/me").status_code == 401
    r = ana.post("/api/auth/login", data={"username": "ana.lopez", "password": PASSWORD})
    assert r.status_code == 401
    ended = admin.get(f"/api/users/{made['id']}/sessions").json()["sessions"]
    assert [s["state"] for s in ended] == ["revoked"]
    assert admin.get(f"/api/users/{made['id']}/sessions?active=true").json()["total"] == 0
    (entry,) = audit_of(api, "user.update")
    assert entry.details["changed"] == ["active"] and entry.details["sessions_ended"] == 1

    assert admin.patch(f"/api/users/{made['id']}", json={"active": True}).status_code == 200
    login(api, "ana.lopez")


def test_a_new_role_ends_the_accounts_sessions(api: ApiEnv, admin: TestClient) -> None:
    made = admin.post("/api/users", json=NEW).json()
    ana = login(api, "ana.lopez")
    assert admin.patch(f"/api/users/{made['id']}", json={"role": "operator"}).status_code == 200
    assert ana.get("/api/auth/me").status_code == 401
    assert login(api, "ana.lopez").get("/api/auth/me").json()["role"] == "operator"


def test_an_admin_cannot_deactivate_or_demote_themself(api: ApiEnv, admin: TestClient) -> None:
    me = admin.get("/api/users?q=root").json()["users"][0]
    for change, word in [({"active": False}, "deactivate"), ({"role": "operator"}, "admin role")]:
        r = admin.patch(f"/api/users/{me['id']}", json=change)
        assert r.status_code == 409 and word in r.json()["detail"], r.text
    assert admin.get(f"/api/users/{me['id']}").json()["role"] == "admin"
    # a new password for oneself keeps this session
    r = admin.patch(f"/api/users/{me['id']}", json={"password": "a brand new one"})
    assert r.status_code == 200
    assert admin.get("/api/auth/me").status_code == 200
    # another admin can be demoted
    other = admin.post("/api/users", json={**NEW, "username": "boss", "role": "admin"}).json()
    assert admin.patch(f"/api/users/{other['id']}", json={"role": "guard"}).status_code == 200


def test_admins_list_and_revoke_anyones_sessions(api: ApiEnv, admin: TestClient) -> None:
    admin.post("/api/users", json=NEW)
    ana = login(api, "ana.lopez")
    r = admin.get("/api/users/sessions/all?active=true")
    assert r.status_code == 200
    listed = r.json()
    assert listed["total"] == 2  # root's and ana's
    ana_session = next(s for s in listed["sessions"] if s["username"] == "ana.lopez")
    assert ana_session["address"] == "testclient" and ana_session["state"] == "active"
    assert ana_session["user_agent"] and ana_session["expires_at"] > ana_session["created_at"]
    assert "token_hash" not in ana_session

    r = admin.delete(f"/api/users/sessions/{ana_session['id']}")
    assert r.status_code == 204
    assert ana.get("/api/auth/me").status_code == 401
    assert admin.delete(f"/api/users/sessions/{ana_session['id']}").status_code == 204
    (entry,) = audit_of(api, "session.revoke")
    assert entry.actor == "root" and entry.target_id == ana_session["id"]
    assert admin.get("/api/users/sessions/all?active=true").json()["total"] == 1
    ended = admin.get("/api/users/sessions/all?active=false").json()["sessions"]
    assert [s["id"] for s in ended] == [ana_session["id"]]


def users_endpoints(api: ApiEnv) -> list[tuple[str, str]]:
    """Every documented /api/users operation, with ids filled in."""
    paths = api.app.openapi()["paths"]
    found = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, ops in paths.items()
        if path.startswith("/api/users")
        for method in ops
    ]
    assert len(found) >= 7, found
    return found


@pytest.mark.parametrize("role", ["guard", "operator"])
def test_guards_and_operators_get_403_everywhere(api_sqlite: ApiEnv, role: str) -> None:
    headers = api_sqlite.headers(role)  # type: ignore[arg-type]
    for method, path in users_endpoints(api_sqlite):
        r = api_sqlite.client.request(method, path, json=NEW, headers=headers)
        assert r.status_code == 403, f"{role}: {method} {path} -> {r.status_code}"
    assert (
        api_sqlite.client.get("/api/users", headers=api_sqlite.headers("admin")).json()["total"]
        == 2
    ), "nothing was created by them"


def test_anonymous_callers_get_401_everywhere(api_sqlite: ApiEnv) -> None:
    for method, path in users_endpoints(api_sqlite):
        r = api_sqlite.client.request(method, path, json=NEW)
        assert r.status_code == 401, f"{method} {path} -> {r.status_code}"
        assert r.headers["www-authenticate"] == "Bearer"


def test_the_schema_documents_the_responses_without_password_hashes(api_sqlite: ApiEnv) -> None:
    schema = api_sqlite.app.openapi()
    components = schema["components"]["schemas"]
    assert {"UserOut", "UserList", "UserCreate", "UserUpdate", "SessionList"} <= set(components)
    assert "password_hash" not in str(schema)
    listed = schema["paths"]["/api/users"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserList"
    }
