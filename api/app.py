"""The FastAPI application: health, camera status and live annotated views.

Built by `create_app(runner)`; importing this module loads no model, so the API can be tested and
served without one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import cv2
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from alerts.service import AlertService
from api.routes.alerts import alerts_router
from vision.annotate import draw_poses
from vision.runner import CameraWorker, Runner

_BOUNDARY = "carewatchframe"


def _jpeg(worker: CameraWorker, overlay: bool) -> bytes | None:
    result = worker.latest()
    if result is None or result.frame is None:
        return None
    image = draw_poses(result.frame.image, result.poses) if overlay else result.frame.image
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return bytes(buf) if ok else None


def create_app(
    runner: Runner,
    *,
    alerts: AlertService | None = None,
    model_version: str = "",
    manage_runner: bool = True,
) -> FastAPI:
    """The web app over a `Runner` (and the alert service); with `manage_runner` it starts and
    stops them too (alerts first, so no event of the first frames is lost)."""
    started = time.time()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runner:
            if alerts is not None:
                alerts.start()
            runner.start()
        try:
            yield
        finally:
            if manage_runner:
                await asyncio.to_thread(runner.stop)
                if alerts is not None:
                    await asyncio.to_thread(alerts.stop)

    app = FastAPI(title="CareWatch", version="0.1.0", lifespan=lifespan)

    if alerts is not None:
        app.include_router(alerts_router(alerts))

    def worker_of(camera_id: str) -> CameraWorker:
        worker = runner.workers.get(camera_id)
        if worker is None:
            raise HTTPException(404, f"no camera with id {camera_id!r}")
        return worker

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Service health: `ok` when every enabled camera delivers frames."""
        cameras = runner.health()
        online = all(c["state"] in ("online", "disabled") for c in cameras)
        data: dict[str, Any] = {
            "status": "ok" if online else "degraded",
            "uptime_s": round(time.time() - started, 1),
            "model": model_version,
            "cameras": cameras,
        }
        if alerts is not None:
            data["alerts"] = {
                "open": alerts.store.count(open_only=True),
                "last_seq": alerts.feed.last_seq,
                "deliveries": alerts.store.delivery_counts(),
            }
        return data

    @app.get("/api/cameras")
    def cameras() -> list[dict[str, Any]]:
        """Every camera's state, input and analysed fps, dropped frames, reconnects, last error."""
        return runner.health()

    @app.get("/api/cameras/{camera_id}/snapshot.jpg")
    def snapshot(camera_id: str, overlay: bool = Query(True)) -> Response:
        """The newest analysed frame as JPEG, with boxes, track ids and skeletons by default."""
        data = _jpeg(worker_of(camera_id), overlay)
        if data is None:
            raise HTTPException(503, f"camera {camera_id!r} has not delivered a frame yet")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get("/api/cameras/{camera_id}/stream.mjpg")
    async def stream(camera_id: str, overlay: bool = Query(True)) -> StreamingResponse:
        """Live MJPEG of the analysed frames (what the model saw, at the analysis rate)."""
        worker = worker_of(camera_id)
        period = 1.0 / worker.cfg.analysis_fps

        async def frames() -> AsyncIterator[bytes]:
            last = None
            while True:
                result = worker.latest()
                if result is not None and result is not last:
                    last = result
                    data = await asyncio.to_thread(_jpeg, worker, overlay)
                    if data:
                        yield (
                            (
                                f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                f"Content-Length: {len(data)}\r\n\r\n"
                            ).encode()
                            + data
                            + b"\r\n"
                        )
                await asyncio.sleep(period / 2)

        return StreamingResponse(
            frames(), media_type=f"multipart/x-mixed-replace; boundary={_BOUNDARY}"
        )

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        tiles = "".join(
            f'<figure><img src="/api/cameras/{cid}/stream.mjpg" alt="{cid}">'
            f"<figcaption>{w.cfg.name or cid}</figcaption></figure>"
            for cid, w in runner.workers.items()
        )
        return _INDEX.replace("{tiles}", tiles)

    return app


_INDEX = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>CareWatch</title>
<style>body{font-family:sans-serif;margin:1rem;background:#111;color:#eee}
figure{display:inline-block;margin:.5rem}img{max-width:100%;width:640px;background:#222}
pre{background:#222;padding:.5rem;overflow:auto}</style></head><body>
<h1>CareWatch</h1>{tiles}<h2>Cameras</h2><pre id="health">loading…</pre>
<script>async function r(){try{const h=await (await fetch('/health')).json();
document.getElementById('health').textContent=JSON.stringify(h,null,1)}catch(e){}}
r();setInterval(r,2000)</script></body></html>"""
