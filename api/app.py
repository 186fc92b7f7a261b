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
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from alerts.service import AlertService
from api.config import AppConfig
from api.db import session_factory
from api.routes import audit, auth, cameras, evidence, live, metrics, profiles, records, users
from api.routes.alerts import alerts_router
from api.routes.whatif import router as whatif_router
from api.security import Tokens, load_secret
from vision.runner import Runner

WEB = Path(__file__).with_name("web")
"""The console's files: index.html, css/, js/ (plain ES modules, no build step)."""


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
        """422 with FastAPI's usual error list, without echoing the rejected input: it may be a
        password, a camera URL with credentials or an ID number, or NaN / a lone surrogate that
        JSON cannot carry."""
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(errors))})

    for module in (auth, users, records, cameras, profiles, evidence, audit, live, metrics):
        app.include_router(module.router)
    app.include_router(whatif_router)
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

    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        """The web console (a single page; its scripts are under /static)."""
        return HTMLResponse((WEB / "index.html").read_text(encoding="utf-8"))

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
