"""Staff accounts and their sessions (admins only).

Accounts are created, changed and deactivated here, never deleted: the audit log names them.
Deactivating an account, changing its role or setting its password ends its sessions at once.
An admin cannot deactivate or demote themself, so there is always an admin left to undo mistakes.
Every change is audited (`user.create`, `user.update` with the changed fields, `session.revoke`);
password hashes are never shown, and passwords never reach the audit log.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit import audit
from api.db import DB
from api.routes.auth import ErrorOut, NewPassword, SessionOut, session_out
from api.security import (
    USERNAME_PATTERN,
    Principal,
    Role,
    create_user,
    require,
    revoke_sessions,
    set_password,
    username_taken,
)
from api.tables.auth import AuthSession, User

admin = require("admin")
router = APIRouter(
    prefix="/api/users",
    tags=["users"],
    dependencies=[admin],
    responses={
        401: {"model": ErrorOut, "description": "Not signed in."},
        403: {"model": ErrorOut, "description": "Not an admin."},
    },
)

MAX_ID = 2**31 - 1
"""Largest id a database integer holds; larger ids in a path are a 422, not a database error."""
UserId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
SessionId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="32 hex digits.")]


def _plain_text(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid text") from None
    return value


DisplayName = Annotated[
    str,
    Field(max_length=120, description="Name shown in the console."),
    AfterValidator(_plain_text),
]


class UserOut(BaseModel):
    """A staff account as admins see it (never its password hash). Times in epoch seconds."""

    id: int
    username: str
    display_name: str
    role: str = Field(description="guard, operator or admin")
    active: bool
    created_at: float
    updated_at: float
    last_login_at: float | None


class UserList(BaseModel):
    total: int = Field(description="Accounts matching the filter, all pages.")
    limit: int
    offset: int
    users: list[UserOut]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        pattern=USERNAME_PATTERN,
        min_length=3,
        max_length=64,
        description="3-64 letters, digits, '.', '_' or '-'; unique ignoring case.",
    )
    display_name: DisplayName = ""
    role: Role
    password: NewPassword


class UserUpdate(BaseModel):
    """Only the fields given change; a missing or null field is left as it is."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    role: Role | None = None
    active: bool | None = None
    password: NewPassword | None = None


class SessionList(BaseModel):
    total: int
    sessions: list[SessionOut]


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
    )


def _user_or_404(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"no user with id {user_id}")
    return user


def _sessions(
    db: Session,
    now: float,
    active: bool | None,
    limit: int,
    offset: int,
    user_id: int | None = None,
) -> SessionList:
    query = select(AuthSession, User.username).join(User, User.id == AuthSession.user_id)
    if user_id is not None:
        query = query.where(AuthSession.user_id == user_id)
    live = AuthSession.revoked_at.is_(None) & (AuthSession.expires_at > now)
    if active is True:
        query = query.where(live)
    elif active is False:
        query = query.where(~live)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(
        query.order_by(AuthSession.created_at.desc(), AuthSession.id).limit(limit).offset(offset)
    ).all()
    return SessionList(total=total, sessions=[session_out(s, name, now) for s, name in rows])


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorOut}}
ActiveFilter = Annotated[
    bool | None, Query(description="true: live sessions only; false: ended ones only.")
]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


@router.get("")
def list_users(
    db: DB,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[
        str | None,
        Query(max_length=120, description="Part of the user name or display name (any case)."),
    ] = None,
    sort: Literal["username", "created_at", "last_login_at"] = "username",
    order: Literal["asc", "desc"] = "asc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> UserList:
    """Accounts, filtered, sorted and one page at a time; `total` counts every match.
    Never-signed-in accounts sort last by `last_login_at` in either order."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if q:
        text = q.replace("\x00", "")
        query = query.where(
            User.username.icontains(text, autoescape=True)
            | User.display_name.icontains(text, autoescape=True)
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = {
        "username": User.username,
        "created_at": User.created_at,
        "last_login_at": User.last_login_at,
    }[sort]
    ordered = (column.asc() if order == "asc" else column.desc()).nulls_last()
    rows = db.scalars(query.order_by(ordered, User.id).limit(limit).offset(offset))
    return UserList(total=total, limit=limit, offset=offset, users=[user_out(u) for u in rows])


@router.post("", status_code=201, responses=_CONFLICT)
def create(body: UserCreate, request: Request, db: DB, who: Principal = admin) -> UserOut:
    """A new account, active at once (409 when the user name is taken, ignoring case)."""
    taken = username_taken(db, body.username)
    if taken is not None:
        raise HTTPException(409, f"the user name {taken.username!r} is taken")
    user = create_user(db, body.username, body.password, body.role, body.display_name)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise HTTPException(409, f"the user name {body.username!r} is taken") from None
    details = {"username": user.username, "role": user.role, "display_name": user.display_name}
    audit(db, who, "user.create", "user", user.id, details, request)
    db.commit()
    return user_out(user)


@router.get("/sessions/all")
def all_sessions(
    db: DB, active: ActiveFilter = None, limit: Limit = 100, offset: Offset = 0
) -> SessionList:
    """Everyone's sessions, newest first, with user, address, browser and times."""
    return _sessions(db, time.time(), active, limit, offset)


@router.delete("/sessions/{session_id}", status_code=204, responses=_NOT_FOUND)
def revoke_session(
    session_id: SessionId, request: Request, db: DB, who: Principal = admin
) -> Response:
    """End any session at once (its tokens and cookie stop working); idempotent."""
    session = db.get(AuthSession, session_id)
    if session is None:
        raise HTTPException(404, f"no session with id {session_id!r}")
    if session.revoked_at is None:
        session.revoked_at = time.time()
        details = {"user_id": session.user_id}
        audit(db, who, "session.revoke", "session", session.id, details, request)
        db.commit()
    return Response(status_code=204)


@router.get("/{user_id}", responses=_NOT_FOUND)
def get_user(user_id: UserId, db: DB) -> UserOut:
    return user_out(_user_or_404(db, user_id))


@router.patch("/{user_id}", responses=_NOT_FOUND | _CONFLICT)
def update_user(
    user_id: UserId, body: UserUpdate, request: Request, db: DB, who: Principal = admin
) -> UserOut:
    """Change the display name, role, active flag or password. Deactivating, a new role or a new
    password ends the account's sessions (but not the caller's own). 409 when an admin would
    deactivate or demote themself."""
    user = _user_or_404(db, user_id)
    if user.id == who.user_id:
        if body.active is False:
            raise HTTPException(409, "you cannot deactivate your own account; ask another admin")
        if body.role is not None and body.role != "admin":
            raise HTTPException(409, "you cannot take away your own admin role; ask another admin")
    now = time.time()
    values: dict[str, Any] = {}
    for field in ("display_name", "role", "active"):
        new = getattr(body, field)
        if new is not None and new != getattr(user, field):
            setattr(user, field, new)
            values[field] = new
    changed = list(values)
    if body.password is not None:
        set_password(user, body.password, now)
        changed.append("password")
    if not changed:
        return user_out(user)
    user.updated_at = now
    details: dict[str, Any] = {"changed": changed, "values": values}
    if {"role", "active", "password"} & set(changed):
        keep = who.session_id if user.id == who.user_id else None
        details["sessions_ended"] = revoke_sessions(db, user.id, now, keep=keep)
    audit(db, who, "user.update", "user", user.id, details, request)
    db.commit()
    return user_out(user)


@router.get("/{user_id}/sessions", responses=_NOT_FOUND)
def user_sessions(
    user_id: UserId, db: DB, active: ActiveFilter = None, limit: Limit = 100, offset: Offset = 0
) -> SessionList:
    """One account's sessions, newest first."""
    _user_or_404(db, user_id)
    return _sessions(db, time.time(), active, limit, offset, user_id=user_id)
