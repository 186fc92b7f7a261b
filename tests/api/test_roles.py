"""Every endpoint checks who is calling: anonymous callers get 401 everywhere but the few public
routes, and each role reaches exactly its endpoint groups (guard < operator < admin)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import ApiEnv

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("POST", "/api/auth/login"),
}
"""Monitoring and signing in; everything else needs an account."""

MIN_ROLE = [
    # (method or *, path regex, lowest role admitted)
    ("*", r"^/api/users", "admin"),
    ("*", r"^/api/audit", "admin"),
    ("*", r"^/api/retention", "admin"),
    ("*", r"^/api/alerts/[^/]+/(keep|export\.zip|real/.*)$", "admin"),
    ("GET", r"^/api/(rooms|beds|residents|cameras)", "guard"),
    ("*", r"^/api/cameras/[^/]+/(profiles?|zones|whatif)", "operator"),
    ("GET", r"^/api/behaviours/", "guard"),
    ("*", r"^/api/(rooms|beds|residents|cameras)", "admin"),
    ("*", r"^/api/alerts", "guard"),
    ("*", r"^/api/auth", "guard"),
]
"""First match wins. Reading profiles and zones is open to guards (handled below)."""

RANK = {"guard": 0, "operator": 1, "admin": 2}


def min_role(method: str, path: str) -> str:
    if method == "GET" and re.match(r"^/api/cameras/[^/]+/(profiles?|zones)$", path):
        return "guard"
    for m, pattern, role in MIN_ROLE:
        if m in ("*", method) and re.match(pattern, path):
            return role
    raise AssertionError(f"no expected role for {method} {path}: add it to MIN_ROLE")


def endpoints(api: ApiEnv) -> list[tuple[str, str]]:
    """Every documented operation (method, path template)."""
    paths = api.app.openapi()["paths"]
    return [(m.upper(), path) for path, ops in paths.items() for m in ops]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_anonymous_callers_get_401_except_on_public_routes(api_sqlite: ApiEnv) -> None:
    client = api_sqlite.client
    checked = 0
    for method, path in endpoints(api_sqlite):
        if (method, path) in PUBLIC or path.startswith("/api/cameras/{camera_id}/stream"):
            continue
        r = client.request(method, concrete(path), json={})
        assert r.status_code == 401, f"{method} {path}: {r.status_code} {r.text[:200]}"
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", ["guard", "operator", "admin"])
def test_each_role_reaches_exactly_its_endpoint_groups(api_sqlite: ApiEnv, role: str) -> None:
    client = api_sqlite.client
    headers = api_sqlite.headers(role)  # type: ignore[arg-type]
    for method, path in endpoints(api_sqlite):
        if (method, path) in PUBLIC or path.startswith("/api/cameras/{camera_id}/stream"):
            continue
        if path == "/api/auth/logout":
            continue  # would end this test's session
        needed = min_role(method, path)
        r = client.request(method, concrete(path), json={}, headers=headers)
        allowed = RANK[role] >= RANK[needed]
        if allowed:
            assert r.status_code not in (401, 403), f"{role}: {method} {path} -> {r.status_code}"
        else:
            assert r.status_code == 403, f"{role}: {method} {path} -> {r.status_code} {r.text}"
