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
from collections.abc import Iterator
from contextlib import contextmanager

from vision.pipeline import Estimator, RegionEstimator
from vision.regions import Region
from vision.types import Frame, Poses

WAITS_KEPT = 50
"""Recent waits kept per camera (for the median in the health data)."""


class Turns:
    """The queue every camera's inference waits in: `slots` run at once, the rest in order.
    Several models (say, one per input size) share one `Turns`, so together they never run more
    inferences at once than there are slots."""

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()
        self._waits: dict[str, deque[float]] = {}

    @contextmanager
    def turn(self, camera_id: str) -> Iterator[None]:
        """Wait for a slot (in arrival order), hold it for the `with` block."""
        ticket = object()
        start = time.perf_counter()
        with self._changed:
            self._queue.append(ticket)
            while ticket not in itertools.islice(self._queue, self.slots):
                self._changed.wait()
            waited = time.perf_counter() - start
            self._waits.setdefault(camera_id, deque(maxlen=WAITS_KEPT)).append(waited)
        try:
            yield
        finally:
            with self._changed:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def wait_ms(self, camera_id: str) -> float | None:
        """The camera's median wait for its turn over its recent frames, in ms."""
        with self._changed:
            waits = sorted(self._waits.get(camera_id, ()))
        return round(waits[len(waits) // 2] * 1000, 1) if waits else None

    def waiting(self) -> int:
        """Frames waiting for or in inference now."""
        with self._changed:
            return len(self._queue)


class SharedEstimator:
    """Wraps an `Estimator`; `infer` waits for a turn in `turns` (a new `Turns(slots)` when not
    given), so the cameras sharing it take turns."""

    def __init__(self, estimator: Estimator, slots: int = 1, turns: Turns | None = None) -> None:
        self.estimator = estimator
        self.turns = turns if turns is not None else Turns(slots)
        self.model_version = estimator.model_version

    def infer(self, frame: Frame) -> Poses:
        with self.turns.turn(frame.camera_id):
            return self.estimator.infer(frame)

    def infer_region(self, frame: Frame, region: Region) -> Poses:
        """`infer` on part of the frame (the whole frame when the model cannot)."""
        if not isinstance(self.estimator, RegionEstimator):
            return self.infer(frame)
        with self.turns.turn(frame.camera_id):
            return self.estimator.infer_region(frame, region)
