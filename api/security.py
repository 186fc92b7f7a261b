"""Who is calling: passwords (Argon2 via pwdlib), tokens, sessions and role checks.

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
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import jwt
from fastapi import Depends, HTTPException, Request
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import get_db
from api.tables.auth import AuthSession, User

Role = Literal["guard", "operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
COOKIE = "carewatch_session"
ALGORITHM = "HS256"

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bool(_hasher.verify(password, hashed))
    except Exception:  # a malformed hash is a failed check, not a crash
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1  # type: ignore[arg-type]


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


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _live_session(db: Session, session: AuthSession | None, now: float) -> AuthSession:
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        raise _unauthorized("your session has ended; sign in again")
    return session


def current_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    """The caller, from a bearer token or the session cookie; 401 when neither is valid."""
    now = time.time()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        tokens: Tokens = request.app.state.tokens
        try:
            claims = tokens.decode(header[7:].strip())
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the access token has expired; refresh or sign in again") from None
        except jwt.InvalidTokenError:
            raise _unauthorized("the access token is not valid") from None
        session = _live_session(db, db.get(AuthSession, str(claims["sid"])), now)
    else:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise _unauthorized("sign in first (POST /api/auth/login)")
        found = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(cookie)))
        session = _live_session(db, found, now)
    user = db.get(User, session.user_id)
    if user is None or not user.active:
        raise _unauthorized("this account is disabled")
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
    """Add an account (the caller commits); ValueError for a bad role or a short password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise ValueError("passwords need at least 10 characters")
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
