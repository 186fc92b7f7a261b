"""One pose model shared by every camera, `slots` inferences at a time, in arrival order.

Each camera's analysis thread calls `infer` and waits its turn: turns are handed out first come,
first served, and a camera has at most one frame waiting (its thread is blocked until served), so
every waiting camera is served before any camera's next frame. A busy camera cannot starve a
quiet one, and no more inferences run than there are slots (`model.parallel`, one per core by
default, each on `model.threads` threads), so they do not fight over the cores. How long each
camera waited is kept for its health figures.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque

from vision.pipeline import Estimator
from vision.types import Frame, Poses

WAITS_KEPT = 50
"""Recent waits kept per camera (for the median in the health data)."""


class SharedEstimator:
    """Wraps an `Estimator`; `infer` lets `slots` calls run at once, the rest wait in turn."""

    def __init__(self, estimator: Estimator, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.estimator = estimator
        self.slots = slots
        self.model_version = estimator.model_version
        self._turns: deque[object] = deque()
        self._changed = threading.Condition()
        self._waits: dict[str, deque[float]] = {}

    def infer(self, frame: Frame) -> Poses:
        ticket = object()
        start = time.perf_counter()
        with self._changed:
            self._turns.append(ticket)
            while ticket not in itertools.islice(self._turns, self.slots):
                self._changed.wait()
            waited = time.perf_counter() - start
            self._waits.setdefault(frame.camera_id, deque(maxlen=WAITS_KEPT)).append(waited)
        try:
            return self.estimator.infer(frame)
        finally:
            with self._changed:
                self._turns.remove(ticket)
                self._changed.notify_all()

    def wait_ms(self, camera_id: str) -> float | None:
        """The camera's median wait for its turn over its recent frames, in ms."""
        with self._changed:
            waits = sorted(self._waits.get(camera_id, ()))
        return round(waits[len(waits) // 2] * 1000, 1) if waits else None

    def waiting(self) -> int:
        """Frames waiting for or in inference now."""
        with self._changed:
            return len(self._turns)
