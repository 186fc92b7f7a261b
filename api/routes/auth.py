"""Signing in and out: the OAuth2 password flow, the browser's session cookie, one's own password
and sessions.

`POST /api/auth/login` (form fields `username`, `password`) answers a short-lived bearer token and
sets the HTTP-only, SameSite=Strict cookie `carewatch_session`; either authenticates later
requests. Failed logins are recorded per user name and address; after `auth.max_failed_logins`
of them within `auth.failure_window_s` that pair waits `auth.lockout_s` (429 with Retry-After).
Every login, failed login, lockout, logout and password change is audited.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit import audit, client_address
from api.config import AuthConfig
from api.db import DB
from api.security import (
    COOKIE,
    Principal,
    Tokens,
    current_principal,
    lockout_remaining,
    password_problem,
    request_session,
    revoke_sessions,
    session_state,
    session_user,
    set_password,
    spend_verification,
    start_session,
    verify_password,
)
from api.tables.auth import AuthSession, LoginAttempt, User

router = APIRouter(prefix="/api/auth", tags=["auth"])

WRONG_LOGIN = "wrong user name or password"


class ErrorOut(BaseModel):
    """Every error answer: one sentence for a person."""

    detail: str


def _usable_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


NewPassword = Annotated[
    str,
    Field(min_length=10, max_length=1024, description="At least 10 characters."),
    AfterValidator(_usable_password),
]


class TokenOut(BaseModel):
    """A signed-in session: the bearer token and who it belongs to."""

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    username: str
    role: str = Field(description="guard, operator or admin")
    display_name: str


class MeOut(BaseModel):
    username: str
    display_name: str
    role: str
    session_id: str
    session_expires_at: float = Field(description="Epoch seconds.")


class SessionOut(BaseModel):
    """One sign-in session (times in epoch seconds)."""

    id: str
    user_id: int
    username: str
    created_at: float
    expires_at: float
    last_seen_at: float
    revoked_at: float | None
    address: str | None
    user_agent: str | None
    state: Literal["active", "revoked", "expired"]
    current: bool = Field(False, description="The session making this request.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: NewPassword


def session_out(
    session: AuthSession, username: str, now: float, current: str | None = None
) -> SessionOut:
    return SessionOut(
        id=session.id,
        user_id=session.user_id,
        username=username,
        created_at=session.created_at,
        expires_at=session.expires_at,
        last_seen_at=session.last_seen_at,
        revoked_at=session.revoked_at,
        address=session.address,
        user_agent=session.user_agent,
        state=session_state(session, now),
        current=session.id == current,
    )


def _auth_config(request: Request) -> AuthConfig:
    cfg: AuthConfig = request.app.state.config.auth
    return cfg


def _token_out(request: Request, user: User, session_id: str, now: float) -> TokenOut:
    tokens: Tokens = request.app.state.tokens
    return TokenOut(
        access_token=tokens.issue(user, session_id, now),
        expires_in=tokens.access_ttl_s,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
    )


def _attempt_name(username: str) -> str:
    """The submitted user name as stored with attempts and audit entries (64 characters, no NUL,
    which PostgreSQL refuses in text)."""
    return username.replace("\x00", "\ufffd")[:64]


def _throttle_wait(
    db: Session, name: str, address: str | None, now: float, cfg: AuthConfig
) -> float:
    """Seconds this user name and address must wait (0: none); the newest failures within the
    window are enough, `lockout_remaining` drops those before the last success."""
    pair = (LoginAttempt.username == name, LoginAttempt.address.is_not_distinct_from(address))
    last_ok = db.scalar(select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.success))
    failures = db.scalars(
        select(LoginAttempt.at)
        .where(*pair, ~LoginAttempt.success, LoginAttempt.at > now - cfg.failure_window_s)
        .order_by(LoginAttempt.at.desc())
        .limit(cfg.max_failed_logins)
    ).all()
    return lockout_remaining(list(failures), now, cfg, last_ok)


def _find_login_user(db: Session, username: str) -> User | None:
    if not username or len(username) > 64 or "\x00" in username:
        return None
    return db.scalar(select(User).where(User.username == username))


_LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Wrong user name or password (or a disabled account)."},
    429: {
        "model": ErrorOut,
        "description": "Too many failed logins for this user name and address; see Retry-After.",
    },
}


@router.post("/login", responses=_LOGIN_ERRORS)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    db: DB,
) -> TokenOut:
    """Sign in with a user name and password (form fields, OAuth2 password flow): a bearer
    token and the session cookie. Unknown names, wrong passwords and disabled accounts all get
    the same 401."""
    cfg = _auth_config(request)
    now = time.time()
    name = _attempt_name(form.username)
    address = client_address(request)
    wait = _throttle_wait(db, name, address, now, cfg)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        audit(db, name, "login.throttled", "user", None, {"retry_after_s": retry_after}, request)
        db.commit()
        raise HTTPException(
            429,
            f"too many failed sign-ins for this user name from this address; "
            f"try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )

    user = _find_login_user(db, form.username)
    if user is None:
        spend_verification(form.password)
        reason = "unknown user"
    elif not verify_password(form.password, user.password_hash):
        reason = "wrong password"
    elif not user.active:
        reason = "account disabled"
    else:
        reason = ""
    if user is None or reason:
        db.add(LoginAttempt(username=name, address=address, at=now, success=False))
        target = None if user is None else user.id
        audit(db, name, "login.failure", "user", target, {"reason": reason}, request)
        db.commit()
        raise HTTPException(401, WRONG_LOGIN, headers={"WWW-Authenticate": "Bearer"})

    session, cookie = start_session(
        db, user, now, cfg.session_ttl_s, address, request.headers.get("user-agent")
    )
    user.last_login_at = now
    db.add(LoginAttempt(username=name, address=address, at=now, success=True))
    audit(db, user, "login.success", "user", user.id, {"session_id": session.id}, request)
    db.commit()
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=cfg.session_ttl_s,
        path="/",
        secure=cfg.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return _token_out(request, user, session.id, now)


@router.post("/refresh", responses={401: {"model": ErrorOut}})
def refresh(request: Request, db: DB) -> TokenOut:
    """A new access token for the session of the cookie (or of a still valid bearer token)."""
    now = time.time()
    session = request_session(request, db, now, prefer_cookie=True)
    user = session_user(db, session, now)
    session.last_seen_at = now
    db.commit()
    return _token_out(request, user, session.id, now)


@router.post("/logout", status_code=204, responses={401: {"model": ErrorOut}})
def logout(request: Request, db: DB, who: Principal = Depends(current_principal)) -> Response:
    """End this session: its access tokens and its cookie stop working."""
    now = time.time()
    session = db.get(AuthSession, who.session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = now
    audit(db, who, "logout", "session", who.session_id, None, request)
    db.commit()
    answer = Response(status_code=204)
    cfg = _auth_config(request)
    answer.delete_cookie(
        COOKIE, path="/", secure=cfg.cookie_secure, httponly=True, samesite="strict"
    )
    return answer


@router.get("/me", responses={401: {"model": ErrorOut}})
def me(db: DB, who: Principal = Depends(current_principal)) -> MeOut:
    """Who is signed in, and until when the session lasts."""
    user = db.get(User, who.user_id)
    session = db.get(AuthSession, who.session_id)
    assert user is not None and session is not None  # current_principal found both
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        session_id=session.id,
        session_expires_at=session.expires_at,
    )


@router.put(
    "/password",
    status_code=204,
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
def change_password(
    body: PasswordChange,
    request: Request,
    db: DB,
    who: Principal = Depends(current_principal),
) -> Response:
    """Change one's own password (the current one is asked again); ends one's other sessions."""
    now = time.time()
    user = db.get(User, who.user_id)
    assert user is not None
    if not verify_password(body.current_password, user.password_hash):
        raise HTTPException(403, "the current password is not right")
    set_password(user, body.new_password, now)
    ended = revoke_sessions(db, user.id, now, keep=who.session_id)
    audit(db, who, "user.password", "user", user.id, {"sessions_ended": ended}, request)
    db.commit()
    return Response(status_code=204)


@router.get("/sessions", responses={401: {"model": ErrorOut}})
def my_sessions(db: DB, who: Principal = Depends(current_principal)) -> list[SessionOut]:
    """One's own live sessions, newest first (`current` marks this one)."""
    now = time.time()
    rows = db.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == who.user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.created_at.desc(), AuthSession.id)
    )
    return [session_out(s, who.username, now, who.session_id) for s in rows]
