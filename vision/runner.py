"""Threads around the pure pipeline: one reader and one analysis loop per camera, and health.

The reader thread (see `vision.reader`) decodes continuously and keeps only the newest frame; the
analysis thread here takes the newest frame at most `analysis_fps` times a second, asks the
camera's `ActivityGate` whether it is worth the model (every frame while the picture moves, one
every `1 / gating.idle_fps` s while it does not) and runs the camera's `Pipeline.step`. A slow
model therefore drops frames (counted) instead of building a backlog, and one camera's trouble
never blocks another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from vision.config import CameraConfig
from vision.motion import ActivityGate, thumbnail
from vision.pipeline import Pipeline, StepResult
from vision.reader import CameraReader
from vision.types import Frame, Image

log = logging.getLogger(__name__)

ResultCallback = Callable[[StepResult, float], None]
"""Called with each analysed frame's result and the wall time the frame was taken for analysis."""


class CameraWorker:
    """Reads one camera and analyses its newest frame at the configured rate."""

    def __init__(
        self,
        cfg: CameraConfig,
        pipeline: Pipeline,
        on_result: ResultCallback | None = None,
        reader: CameraReader | None = None,
        inference_wait: Callable[[str], float | None] | None = None,
    ) -> None:
        """`inference_wait(camera_id)`: how long the camera waits for the shared model (ms;
        `Turns.wait_ms`), for the health data."""
        self.cfg = cfg
        self.pipeline = pipeline
        self.on_result = on_result
        self.inference_wait = inference_wait
        self.reader = reader or CameraReader(cfg)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._latest: StepResult | None = None
        self._analysed: deque[float] = deque(maxlen=50)
        self._frames_analysed = 0
        self._errors = 0
        self._last_error: str | None = None
        self._lag: deque[float] = deque(maxlen=50)
        self._heights: deque[float] = deque(maxlen=200)  # people's box height / frame height
        self.gate = ActivityGate(cfg.gating)

    def start(self) -> None:
        self.reader.start()
        self._thread = threading.Thread(
            target=self._loop, name=f"analyse-{self.cfg.id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.reader.stop(timeout_s)

    def latest(self) -> StepResult | None:
        with self._lock:
            return self._latest

    def _loop(self) -> None:
        period = 1.0 / self.cfg.analysis_fps
        next_due = time.monotonic()
        last_index = -1
        while not self._stop.is_set():
            frame = self.reader.get(last_index, timeout_s=0.5)
            if frame is None:
                continue
            last_index = frame.index
            received_at = time.time()
            thumb = thumbnail(frame.image)
            with self._lock:
                admitted = self.gate.admit(thumb, frame.timestamp)
            if admitted:
                self._analyse(frame, thumb, received_at)
            next_due += period
            now = time.monotonic()
            if next_due < now:  # behind: start the schedule again from now instead of bursting
                next_due = now
            self._stop.wait(next_due - now)

    def _analyse(self, frame: Frame, thumb: Image, received_at: float) -> None:
        try:
            result = self.pipeline.step(frame, thumb)
        except Exception as exc:  # keep analysing the next frames; record what went wrong
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
            log.exception("camera %s: analysis of frame %d failed", self.cfg.id, frame.index)
            return
        height = frame.image.shape[0]
        with self._lock:
            self.gate.saw(len(result.poses))
            for y1, y2 in result.poses.xyxy[:, [1, 3]]:
                self._heights.append(float(y2 - y1) / height)
            self._latest = result
            self._analysed.append(time.monotonic())
            self._frames_analysed += 1
            self._lag.append(time.time() - received_at)
        if self.on_result is not None:
            try:
                self.on_result(result, received_at)
            except Exception as exc:  # alerts failing must not stop the analysis
                self._errors += 1
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.exception(
                    "camera %s: handling the result of frame %d failed", self.cfg.id, frame.index
                )

    def _pixels_share(self) -> float | None:
        """Mean share of the frame's pixels the model was given (1.0: whole frames)."""
        regions = self.pipeline.regions
        share = regions.pixels_share() if regions is not None else None
        return None if share is None else round(share, 3)

    def health(self) -> dict[str, Any]:
        """Reader health plus analysis figures, ready for JSON."""
        data = self.reader.health().to_dict()
        with self._lock:
            stamps = list(self._analysed)
            latest = self._latest
            analysed = self._frames_analysed
            lags = sorted(self._lag)
            heights = sorted(self._heights)
            active, skipped = self.gate.active, self.gate.skipped
        now = time.monotonic()
        recent = [t for t in stamps if now - t <= 5.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
        data.update(
            name=self.cfg.name,
            analysis_fps_target=self.cfg.analysis_fps,
            analysed_fps=round(fps, 2),
            frames_analysed=analysed,
            active=active,
            frames_skipped_idle=skipped,
            lag_ms=round(lags[len(lags) // 2] * 1000, 1) if lags else None,
            inference_wait_ms=self.inference_wait(self.cfg.id) if self.inference_wait else None,
            people_height=round(heights[len(heights) // 2], 3) if heights else None,
            model_pixels_share=self._pixels_share(),
            analysis_errors=self._errors,
            last_analysis_error=self._last_error,
            people=0 if latest is None else len(latest.poses),
            step_ms={
                k: round(v * 1000, 1) for k, v in (latest.timings_s if latest else {}).items()
            },
        )
        return data


class Runner:
    """All cameras of a configuration: starts and stops their workers, gathers health.

    Cameras can be added, replaced and removed while running (`add`, `remove`), from any thread.
    `workers` is replaced, never changed in place, so code iterating it (or `health()`) sees a
    consistent snapshot while another thread adds or removes a camera.
    """

    def __init__(self, workers: Iterable[CameraWorker]) -> None:
        self.workers: dict[str, CameraWorker] = {w.cfg.id: w for w in workers}
        self._lock = threading.Lock()
        self._started: set[CameraWorker] = set()

    def start(self) -> None:
        """Start every worker not started yet (those `add` started keep running)."""
        with self._lock:
            pending = [w for w in self.workers.values() if w not in self._started]
            self._started.update(pending)
        for worker in pending:
            log.info("camera %s: starting", worker.cfg.id)
            worker.start()

    def stop(self) -> None:
        with self._lock:
            workers = list(self.workers.values())
            self._started.clear()
        for worker in workers:
            worker.stop()
        log.info("all cameras stopped")

    def add(self, worker: CameraWorker, start: bool = True) -> None:
        """Add `worker` (and start it unless `start` is False), first stopping and replacing a
        worker of the same camera id, so one camera never has two readers."""
        camera_id = worker.cfg.id
        with self._lock:
            old = self.workers.get(camera_id)
            if old is worker:
                old = None
            elif old is not None:
                self._started.discard(old)
            self.workers = {**self.workers, camera_id: worker}
            launch = start and worker not in self._started
            if launch:
                self._started.add(worker)
        if old is not None:
            log.info("camera %s: stopping the worker being replaced", camera_id)
            old.stop()
        if launch:
            log.info("camera %s: starting", camera_id)
            worker.start()

    def remove(self, camera_id: str) -> bool:
        """Stop and remove the camera's worker; False when there was none."""
        with self._lock:
            worker = self.workers.get(camera_id)
            if worker is None:
                return False
            self.workers = {k: w for k, w in self.workers.items() if k != camera_id}
            self._started.discard(worker)
        log.info("camera %s: stopping and removing", camera_id)
        worker.stop()
        return True

    def health(self) -> list[dict[str, Any]]:
        with self._lock:
            workers = list(self.workers.values())
        return [w.health() for w in workers]
