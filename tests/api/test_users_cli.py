"""`carewatch users ...` as a person runs it: the first admin made on the command line signs in
through the app built on the same database (SQLite and PostgreSQL); bad input exits with status 2
and one clear message; nothing is half-done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.cli import main
from api.tables.audit import AuditEntry
from tests.api.conftest import ApiEnv, build_api

GOOD = "a long passphrase"


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Path:
    """A config file naming the test database (SQLite file or a PostgreSQL database)."""
    path = tmp_path / "carewatch.yaml"
    path.write_text(yaml.safe_dump({"alerts": {"database_url": db_url}}))
    return path


@pytest.fixture
def no_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREWATCH_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("CAREWATCH_NEW_PASSWORD", raising=False)


def users(*args: str) -> int:
    return main(["users", *args])


@contextmanager
def open_app(db_url: str, data_dir: Path) -> Iterator[ApiEnv]:
    """The app on the database the command line wrote."""
    env = build_api(db_url, data_dir)
    with env.client:
        yield env
    env.engine.dispose()


def sign_in(client: TestClient, username: str, password: str) -> int:
    r = client.post("/api/auth/login", data={"username": username, "password": password})
    return int(r.status_code)


def test_create_admin_signs_in_through_the_app(
    config: Path,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAREWATCH_ADMIN_PASSWORD", GOOD)
    code = users(
        "create-admin",
        "--username",
        "chief",
        "--display-name",
        "Night Chief",
        "--config",
        str(config),
    )
    assert code == 0, capsys.readouterr().err
    assert "admin 'chief' created" in capsys.readouterr().out

    with open_app(db_url, tmp_path / "data") as api:
        r = api.client.post("/api/auth/login", data={"username": "chief", "password": GOOD})
        assert r.status_code == 200, r.text
        assert (r.json()["role"], r.json()["display_name"]) == ("admin", "Night Chief")
        token = r.json()["access_token"]
        assert api.client.get("/api/users").status_code == 200, "cookie session of an admin"
        with api.app.state.sessions() as db:
            entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
            assert entry is not None and entry.actor == "cli"
            assert entry.details == {"username": "chief", "role": "admin"}

        assert users("list", "--config", str(config)) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["id", "username", "role", "active", "last", "login"]
        row = lines[1].split()
        assert row[1:4] == ["chief", "admin", "yes"] and row[-1] == "UTC", lines

        # a new password from the command line ends the sessions; the new one works
        monkeypatch.setenv("CAREWATCH_NEW_PASSWORD", "another passphrase")
        assert users("set-password", "--username", "chief", "--config", str(config)) == 0
        assert "1 session(s) ended" in capsys.readouterr().out
        me = TestClient(api.app).get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
        assert sign_in(TestClient(api.app), "chief", GOOD) == 401
        assert sign_in(TestClient(api.app), "chief", "another passphrase") == 200


def test_create_admin_uses_the_data_dir_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No config: the embedded one, with the database in --data-dir (as `carewatch run`)."""
    monkeypatch.setenv("CAREWATCH_ADMIN_PASSWORD", GOOD)
    data = tmp_path / "data"
    assert users("create-admin", "--username", "chief", "--data-dir", str(data)) == 0
    assert (data / "carewatch.db").is_file()
    with open_app(f"sqlite:///{data / 'carewatch.db'}", data) as api:
        assert sign_in(api.client, "chief", GOOD) == 200


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--username", "chief"], "too short", "at least 10 characters"),
        (["--username", "x"], GOOD, "user names are 3-64"),
        (["--username", "chief", "--display-name", "a\nb"], GOOD, "display name"),
    ],
)
def test_create_admin_refuses_bad_input(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    password: str,
    message: str,
) -> None:
    monkeypatch.setenv("CAREWATCH_ADMIN_PASSWORD", password)
    assert users("create-admin", *args, "--config", str(config)) == 2
    err = capsys.readouterr().err
    assert err.startswith("carewatch: ") and message in err and "Traceback" not in err
    assert users("list", "--config", str(config)) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1, "no account was made"


def test_create_admin_refuses_a_taken_name(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREWATCH_ADMIN_PASSWORD", GOOD)
    assert users("create-admin", "--username", "chief", "--config", str(config)) == 0
    for name in ("chief", "CHIEF"):
        assert users("create-admin", "--username", name, "--config", str(config)) == 2
        err = capsys.readouterr().err
        assert "'chief' already exists" in err and "set-password" in err


def test_passwords_are_typed_twice_without_the_environment(
    config: Path,
    no_passwords: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    typed: list[str] = []

    def fake_getpass(prompt: str) -> str:  # stands in for a terminal
        typed.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    answers = [GOOD, GOOD + "!"]
    assert users("create-admin", "--username", "chief", "--config", str(config)) == 2
    assert "differ" in capsys.readouterr().err
    answers = [GOOD, GOOD]
    assert users("create-admin", "--username", "chief", "--config", str(config)) == 0
    assert typed == ["Password for chief: ", "Repeat the password: "] * 2

    def no_terminal(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_terminal)
    assert users("set-password", "--username", "chief", "--config", str(config)) == 2
    assert "CAREWATCH_NEW_PASSWORD" in capsys.readouterr().err


def test_set_password_of_an_unknown_user(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREWATCH_NEW_PASSWORD", GOOD)
    assert users("set-password", "--username", "nobody", "--config", str(config)) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err


def test_a_broken_config_is_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("auth: {lockout_s: -1}\n")
    assert users("list", "--config", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "lockout_s" in err
