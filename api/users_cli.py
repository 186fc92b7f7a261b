"""`carewatch users ...`: staff accounts from the command line, on the service's own database.

    carewatch users create-admin --username NAME [--display-name X] [--config FILE] [--data-dir DIR]
    carewatch users list [--config FILE] [--data-dir DIR]
    carewatch users set-password --username NAME [--config FILE] [--data-dir DIR]

There is no default account: the first admin is made here, with a password from the environment
(`CAREWATCH_ADMIN_PASSWORD`, `CAREWATCH_NEW_PASSWORD` for set-password) or typed twice at a
prompt. The database is opened (and migrated) exactly as `carewatch run` does; changes are
audited with the actor `cli`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import audit
from api.cli import UserError
from api.config import AppConfig
from api.db import open_database, session_factory
from api.security import (
    create_user,
    password_problem,
    revoke_sessions,
    set_password,
    username_problem,
    username_taken,
)
from api.tables.auth import User

ADMIN_PASSWORD_ENV = "CAREWATCH_ADMIN_PASSWORD"
NEW_PASSWORD_ENV = "CAREWATCH_NEW_PASSWORD"
ACTOR = "cli"


def read_password(env_var: str, who: str, ask: Callable[[str], str] | None = None) -> str:
    """The password from `env_var`, else typed twice at a prompt (not echoed); UserError when the
    two differ, no terminal is there to ask, or the password breaks the rules."""
    password = os.environ.get(env_var, "")
    if not password:
        ask = ask or getpass.getpass
        try:
            password = ask(f"Password for {who}: ")
            again = ask("Repeat the password: ")
        except EOFError:
            raise UserError(f"no password given: set {env_var} or run in a terminal") from None
        if password != again:
            raise UserError("the two passwords differ; nothing was changed")
    problem = password_problem(password)
    if problem:
        raise UserError(f"{problem}; nothing was changed")
    return password


def check_new_name(db: Session, username: str) -> None:
    """UserError when `username` is not a valid account name or is taken (ignoring case)."""
    problem = username_problem(username)
    if problem:
        raise UserError(f"{username!r}: {problem}")
    taken = username_taken(db, username)
    if taken is not None:
        raise UserError(
            f"a user named {taken.username!r} already exists; "
            f"to set a new password: carewatch users set-password --username {taken.username}"
        )


def existing_user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user named {username!r} (see: carewatch users list)")
    return user


def create_admin(db: Session, username: str, password: str, display_name: str = "") -> User:
    """A new active admin, audited (the caller commits); UserError for a bad or taken name."""
    check_new_name(db, username)
    if len(display_name) > 120 or not display_name.isprintable():
        raise UserError("the display name must be printable and at most 120 characters")
    try:
        user = create_user(db, username, password, "admin", display_name)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    db.flush()
    audit(db, ACTOR, "user.create", "user", user.id, {"username": username, "role": "admin"})
    return user


def change_password(db: Session, username: str, password: str) -> int:
    """Set `username`'s password and end their sessions (the caller commits); how many ended."""
    user = existing_user(db, username)
    now = time.time()
    try:
        set_password(user, password, now)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    ended = revoke_sessions(db, user.id, now)
    audit(db, ACTOR, "user.password", "user", user.id, {"sessions_ended": ended})
    return ended


def _when(at: float | None) -> str:
    if at is None:
        return "never"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def users_table(users: list[User]) -> str:
    """Accounts as an aligned text table: id, username, role, active, last login."""
    rows = [("id", "username", "role", "active", "last login")]
    rows += [
        (str(u.id), u.username, u.role, "yes" if u.active else "no", _when(u.last_login_at))
        for u in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def run(args: argparse.Namespace, config: AppConfig) -> int:
    """Run one `carewatch users` subcommand on the configured database."""
    data_dir = Path(args.data_dir or config.server.data_dir)
    try:
        engine = open_database(config.alerts.database_url, data_dir)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    try:
        with session_factory(engine)() as db:
            if args.users_command == "list":
                users = list(db.scalars(select(User).order_by(User.username)))
                sys.stdout.write(users_table(users))
                return 0
            if args.users_command == "create-admin":
                check_new_name(db, args.username)  # before asking for a password
                password = read_password(ADMIN_PASSWORD_ENV, args.username)
                user = create_admin(db, args.username, password, args.display_name)
                db.commit()
                sys.stdout.write(f"admin {user.username!r} created (id {user.id})\n")
                return 0
            existing_user(db, args.username)
            password = read_password(NEW_PASSWORD_ENV, args.username)
            ended = change_password(db, args.username, password)
            db.commit()
            sys.stdout.write(f"password of {args.username!r} changed; {ended} session(s) ended\n")
            return 0
    finally:
        engine.dispose()
