"""Live views of the cameras (guards and up): the newest analysed frame and an MJPEG stream.

What a viewer gets follows the camera's privacy settings: masks always black; the people as
skeletons on a neutral background, no camera pixels, when the viewer's role is one of the
camera's `privacy.skeleton_only` roles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import cv2
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.security import Principal, require
from vision.annotate import draw_poses
from vision.privacy import for_display, skeleton_view
from vision.runner import CameraWorker, Runner

router = APIRouter(prefix="/api/cameras", tags=["live"])
guard = require("guard")

_BOUNDARY = "carewatchframe"


def _jpeg(worker: CameraWorker, overlay: bool, role: str) -> bytes | None:
    result = worker.latest()
    if result is None or result.frame is None:
        return None
    privacy = worker.cfg.privacy
    image = result.frame.image
    if privacy.shows_skeleton(role):  # a skeleton-only view is its own overlay
        image = skeleton_view(image.shape, result.poses)
    else:
        image = for_display(image, result.poses, privacy, evidence=False)
        if overlay:
            image = draw_poses(image, result.poses)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return bytes(buf) if ok else None


def worker_of(request: Request, camera_id: str) -> CameraWorker:
    runner: Runner = request.app.state.runner
    worker = runner.workers.get(camera_id)
    if worker is None:
        raise HTTPException(404, f"no running camera with id {camera_id!r}")
    return worker


@router.get("/{camera_id}/snapshot.jpg", response_class=Response)
def snapshot(
    request: Request, camera_id: str, overlay: bool = Query(True), who: Principal = guard
) -> Response:
    """The newest analysed frame as JPEG, with boxes, track ids and skeletons by default."""
    data = _jpeg(worker_of(request, camera_id), overlay, who.role)
    if data is None:
        raise HTTPException(503, f"camera {camera_id!r} has not delivered a frame yet")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/{camera_id}/stream.mjpg", response_class=StreamingResponse)
async def stream(
    request: Request, camera_id: str, overlay: bool = Query(True), who: Principal = guard
) -> StreamingResponse:
    """Live MJPEG of the analysed frames (what the model saw, at the analysis rate)."""
    worker = worker_of(request, camera_id)
    period = 1.0 / worker.cfg.analysis_fps

    async def frames() -> AsyncIterator[bytes]:
        last = None
        while True:
            result = worker.latest()
            if result is not None and result is not last:
                last = result
                data = await asyncio.to_thread(_jpeg, worker, overlay, who.role)
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
