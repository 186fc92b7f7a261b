"""Schemathesis against the OpenAPI schema: generated requests (valid and invalid) to every
operation, as an admin, must never make the service answer 500, and documented responses must
match their schema. Runs on a temporary SQLite database with an alert in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.alerts.builders import event
from tests.api.conftest import ApiEnv, build_api

SKIP = ("stream.mjpg", "/api/auth/logout")
"""Endless MJPEG streams, and logout (it would end the admin's session mid-run)."""


@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    tmp = tmp_path_factory.mktemp("fuzz")
    env = build_api(f"sqlite:///{tmp / 'carewatch.db'}", tmp / "data")
    with env.client:
        env.client.headers.update(env.headers("admin"))
        env.alerts.handle(event("fall", 0, camera="cam1"))
        yield env
    env.engine.dispose()


@pytest.mark.slow
def test_no_server_errors_and_documented_responses(env: ApiEnv) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.app)
    headers = dict(env.client.headers)
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if any(s in operation.path for s in SKIP):
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
        tested += 1
    assert tested >= 40
