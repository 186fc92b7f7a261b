"""Who is calling: passwords (Argon2 via pwdlib), tokens, sessions, login throttling and roles.

Two ways to present a sign-in, both tied to one `AuthSession` row, so logging out or an admin
revoking the session ends both at once:

- `Authorization: Bearer <access token>`: a short-lived JWT (HS256, `access_token_ttl_s`) naming
  the user, role and session id (`sid`), issued by `POST /api/auth/login` (OAuth2 password flow)
  and `POST /api/auth/refresh`;
- the HTTP-only cookie `carewatch_session` holding the session's own random token (stored only as
  its SHA-256), which the browser console sends with every request, MJPEG streams included.

Roles are ordered guard < operator < admin; `require("operator")` admits operators and admins.

    @router.get("/api/things")
    def things(who: Principal = Depends(require("guard"))) -> ...

There is no default account or password anywhere: the first admin is made on the command line
(`carewatch users create-admin`), every other account by an admin through `/api/users`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import jwt
from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.config import AuthConfig
from api.db import get_db
from api.tables.auth import AuthSession, User

Role = Literal["guard", "operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANKS: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
COOKIE = "carewatch_session"
ALGORITHM = "HS256"
MIN_PASSWORD = 10
"""Shortest password accepted anywhere (API and command line)."""
USERNAME_PATTERN = r"^[A-Za-z0-9._-]{3,64}$"
TOUCH_INTERVAL_S = 60.0
"""`AuthSession.last_seen_at` is written at most this often per session (one UPDATE a minute)."""

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bool(_hasher.verify(password, hashed))
    except Exception:  # a malformed hash or password is a failed check, not a crash
        return False


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def spend_verification(password: str) -> None:
    """Verify `password` against a throw-away hash: a login for an unknown user name takes as long
    as one with a wrong password, so timing does not tell which names exist."""
    verify_password(password, _dummy_hash())


def password_problem(password: str) -> str | None:
    """Why `password` cannot be used, or None."""
    if len(password) < MIN_PASSWORD:
        return f"passwords need at least {MIN_PASSWORD} characters"
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return "the password is not valid text"
    return None


def username_problem(username: str) -> str | None:
    """Why `username` cannot be an account name, or None."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        return "user names are 3-64 letters, digits, '.', '_' or '-'"
    return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_rank(role: str) -> int:
    return _RANKS.get(role, -1)


@dataclass(frozen=True)
class Principal:
    """The signed-in caller."""

    user_id: int
    username: str
    role: str
    session_id: str


def load_secret(env_var: str, data_dir: Path) -> bytes:
    """The signing key: from `env_var`, else `data_dir/secret.key` (created once, mode 0600)."""
    value = os.environ.get(env_var, "")
    if value:
        return value.encode()
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


class Tokens:
    """Issues and checks access tokens (JWT) with one secret."""

    def __init__(self, secret: bytes, access_ttl_s: int) -> None:
        self.secret = secret
        self.access_ttl_s = access_ttl_s

    def issue(self, user: User, session_id: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {
            "sub": user.username,
            "uid": user.id,
            "role": user.role,
            "sid": session_id,
            "iat": int(now),
            "exp": int(now + self.access_ttl_s),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any]:
        """The claims of a valid, unexpired token; raises jwt.InvalidTokenError otherwise."""
        claims: dict[str, Any] = jwt.decode(
            token, self.secret, algorithms=[ALGORITHM], options={"require": ["exp", "sid", "uid"]}
        )
        return claims


def lockout_remaining(
    failures_at: Sequence[float],
    now: float,
    cfg: AuthConfig,
    last_success_at: float | None = None,
) -> float:
    """Seconds a user name and address must still wait before the next login attempt (0: none).

    `failures_at` are the times of failed logins of one (user name, address) pair. Locked when at
    least `cfg.max_failed_logins` of them lie within `cfg.failure_window_s` before `now` (and
    after `last_success_at`: a successful login starts the count afresh) and the newest is less
    than `cfg.lockout_s` ago. Example with 5 failures allowed and a 300 s lockout: five failures
    at t=0..40 s -> at t=100 s, 240 s remain.
    """
    start = now - cfg.failure_window_s
    if last_success_at is not None:
        start = max(start, last_success_at)
    recent = [t for t in failures_at if start < t <= now]
    if len(recent) < cfg.max_failed_logins:
        return 0.0
    return max(0.0, cfg.lockout_s - (now - max(recent)))


def session_state(session: AuthSession, now: float) -> Literal["active", "revoked", "expired"]:
    if session.revoked_at is not None:
        return "revoked"
    return "expired" if session.expires_at <= now else "active"


def start_session(
    db: Session,
    user: User,
    now: float,
    ttl_s: float,
    address: str | None = None,
    user_agent: str | None = None,
) -> tuple[AuthSession, str]:
    """A new session of `user` (the caller commits) and its cookie token, which is stored only
    hashed and so can be handed out this once."""
    cookie = secrets.token_urlsafe(32)
    session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        token_hash=token_hash(cookie),
        created_at=now,
        expires_at=now + ttl_s,
        last_seen_at=now,
        address=None if address is None else address[:64],
        user_agent=user_agent[:255] if user_agent else None,
    )
    db.add(session)
    return session, cookie


def revoke_sessions(db: Session, user_id: int, now: float, keep: str | None = None) -> int:
    """End every live session of `user_id` except `keep` (the caller commits); how many ended."""
    query = update(AuthSession).where(
        AuthSession.user_id == user_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > now,
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    result = db.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(user: User, password: str, now: float) -> None:
    """Replace `user`'s password (ValueError when it breaks the rules; the caller commits)."""
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    user.password_hash = hash_password(password)
    user.updated_at = now


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _live(session: AuthSession | None, now: float) -> AuthSession:
    if session is None or session_state(session, now) != "active":
        raise _unauthorized("your session has ended; sign in again")
    return session


def _from_bearer(request: Request, db: Session, token: str, now: float) -> AuthSession:
    tokens: Tokens = request.app.state.tokens
    try:
        claims = tokens.decode(token)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the access token has expired; refresh or sign in again") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("the access token is not valid") from None
    return _live(db.get(AuthSession, str(claims["sid"])[:32]), now)


def _from_cookie(db: Session, cookie: str, now: float) -> AuthSession:
    found = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(cookie)))
    return _live(found, now)


def request_session(
    request: Request, db: Session, now: float, prefer_cookie: bool = False
) -> AuthSession:
    """The live session the request presents: its bearer token's, else its cookie's (the cookie's
    first with `prefer_cookie`, as refreshing does); 401 when none is valid."""
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
    cookie = request.cookies.get(COOKIE, "")
    if cookie and (prefer_cookie or not bearer):
        return _from_cookie(db, cookie, now)
    if bearer:
        return _from_bearer(request, db, bearer, now)
    raise _unauthorized("sign in first (POST /api/auth/login)")


def session_user(db: Session, session: AuthSession, now: float) -> User:
    """The active account of a live session (401 when disabled); notes the session was used."""
    user = db.get(User, session.user_id)
    if user is None or not user.active:
        raise _unauthorized("this account is disabled")
    if now - session.last_seen_at >= TOUCH_INTERVAL_S:
        session.last_seen_at = now
        db.commit()
    return user


_bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/auth/login", refreshUrl="/api/auth/refresh", auto_error=False
)
_cookie_scheme = APIKeyCookie(name=COOKIE, auto_error=False)


def current_principal(
    request: Request,
    db: Session = Depends(get_db),
    _bearer: str | None = Security(_bearer_scheme),
    _cookie: str | None = Security(_cookie_scheme),
) -> Principal:
    """The caller, from a bearer token or the session cookie; 401 when neither is valid.
    (`_bearer` and `_cookie` only declare both ways in the OpenAPI schema; the request is read
    directly, so calling this outside FastAPI with `request, db` works too.)"""
    now = time.time()
    session = request_session(request, db, now)
    user = session_user(db, session, now)
    return Principal(user.id, user.username, user.role, session.id)


def require(role: Role) -> Any:
    """A dependency admitting callers whose role is `role` or higher (403 otherwise)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def check(who: Principal = Depends(current_principal)) -> Principal:
        if role_rank(who.role) < role_rank(role):
            raise HTTPException(403, f"this needs the {role} role (you are {who.role})")
        return who

    return Depends(check)


def create_user(
    db: Session, username: str, password: str, role: Role, display_name: str = ""
) -> User:
    """Add an account (the caller commits); ValueError for a bad name or role or a short
    password. Whether the name is taken is the caller's check (`username_taken`)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    problem = username_problem(username) or password_problem(password)
    if problem:
        raise ValueError(problem)
    now = time.time()
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        updated_at=now,
    )
    db.add(user)
    return user


def username_taken(db: Session, username: str) -> User | None:
    """The account whose name equals `username` ignoring case ("Ana" and "ana" would confuse)."""
    return db.scalar(select(User).where(func.lower(User.username) == username.lower()).limit(1))
