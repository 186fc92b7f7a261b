"""The FastAPI application: every route of the service over one runner, alert service and
database.

Built by `create_app(runner, engine=...)`; importing this module loads no model, so the API can be
tested and served without one. Shared objects live on `app.state` (`runner`, `alerts`, `engine`,
`sessions`, `tokens`, `config`, `data_dir`) where the routers find them.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.engine import Engine

from alerts.service import AlertService
from api.config import AppConfig
from api.db import session_factory
from api.routes import audit, auth, cameras, evidence, live, metrics, profiles, records, users
from api.routes.alerts import alerts_router
from api.security import Tokens, load_secret
from vision.runner import Runner


def create_app(
    runner: Runner,
    *,
    engine: Engine,
    alerts: AlertService | None = None,
    config: AppConfig | None = None,
    data_dir: Path | None = None,
    model_version: str = "",
    manage_runner: bool = True,
) -> FastAPI:
    """The web app over a `Runner`, the alert service and the database behind `engine` (already
    migrated). With `manage_runner` it starts and stops the cameras and the alert service too
    (alerts first, so no event of the first frames is lost)."""
    started = time.time()
    config = config or AppConfig()
    data_dir = data_dir or Path(config.server.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = list(getattr(app.state, "jobs", []))  # background jobs, e.g. retention
        if manage_runner:
            if alerts is not None:
                alerts.start()
            runner.start()
            for job in jobs:
                job.start()
        try:
            yield
        finally:
            if manage_runner:
                for job in jobs:
                    await asyncio.to_thread(job.stop)
                await asyncio.to_thread(runner.stop)
                if alerts is not None:
                    await asyncio.to_thread(alerts.stop)

    app = FastAPI(
        title="CareWatch",
        version="0.1.0",
        lifespan=lifespan,
        description="Falls, fights and wandering in a rescue management station: alerts, "
        "records, accounts. Sign in with `POST /api/auth/login`.",
    )
    app.state.runner = runner
    app.state.alerts = alerts
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.config = config
    app.state.data_dir = data_dir
    app.state.tokens = Tokens(
        load_secret(config.auth.secret_key_env, data_dir), config.auth.access_token_ttl_s
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with FastAPI's usual error list, also when the bad input was NaN or Infinity
        (which JSON cannot carry, so it is echoed as text)."""
        return JSONResponse(
            status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))}
        )

    for module in (auth, users, records, cameras, profiles, evidence, audit, live, metrics):
        app.include_router(module.router)
    if alerts is not None:
        app.include_router(alerts_router(alerts))

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Service health (no sign-in, for monitoring): `ok` when every enabled camera delivers
        frames, `degraded` otherwise."""
        cams = runner.health()
        online = all(c["state"] in ("online", "disabled") for c in cams)
        data: dict[str, Any] = {
            "status": "ok" if online else "degraded",
            "uptime_s": round(time.time() - started, 1),
            "model": model_version,
            "cameras": cams,
        }
        if alerts is not None:
            data["alerts"] = {
                "open": alerts.store.count(open_only=True),
                "last_seq": alerts.feed.last_seq,
                "deliveries": alerts.store.delivery_counts(),
            }
        return data

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        tiles = "".join(
            f'<figure><img src="/api/cameras/{cid}/stream.mjpg" alt="{cid}">'
            f"<figcaption>{w.cfg.name or cid}</figcaption></figure>"
            for cid, w in runner.workers.items()
        )
        return _INDEX.replace("{tiles}", tiles)

    return app


def _finite(value: Any) -> Any:
    """`value` made JSON-safe: non-finite floats as text ("nan", "inf"), lone surrogates in
    strings replaced (they cannot be encoded as UTF-8)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_INDEX = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>CareWatch</title>
<style>body{font-family:sans-serif;margin:1rem;background:#111;color:#eee}
figure{display:inline-block;margin:.5rem}img{max-width:100%;width:640px;background:#222}
pre{background:#222;padding:.5rem;overflow:auto}input,button{font-size:1rem;margin:.2rem}</style>
</head><body><h1>CareWatch</h1>
<form id="login" hidden><input name="username" placeholder="user" autocomplete="username">
<input name="password" type="password" placeholder="password" autocomplete="current-password">
<button>Sign in</button> <span id="msg"></span></form>
<div id="live" hidden>{tiles}</div><h2>Cameras</h2><pre id="health">loading…</pre>
<script>
const f=document.getElementById('login');
f.onsubmit=async e=>{e.preventDefault();const r=await fetch('/api/auth/login',{method:'POST',
body:new URLSearchParams(new FormData(f))});if(r.ok)location.reload();else
document.getElementById('msg').textContent=(await r.json()).detail||r.status};
fetch('/api/auth/me').then(r=>{document.getElementById(r.ok?'live':'login').hidden=false});
async function h(){try{const x=await (await fetch('/health')).json();
document.getElementById('health').textContent=JSON.stringify(x,null,1)}catch(e){}}
h();setInterval(h,2000)</script></body></html>"""
