"""The shared pose model: one inference at a time, cameras served in the order they asked, so a
busy camera cannot starve the others; each camera's wait is kept for its health data."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from vision.shared_model import SharedEstimator
from vision.types import Frame, Poses


class Gated:
    """A fake model that records who it served and blocks until released."""

    model_version = "gated"

    def __init__(self) -> None:
        self.served: list[str] = []
        self.release = threading.Semaphore(0)
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def infer(self, frame: Frame) -> Poses:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.served.append(frame.camera_id)
        self.release.acquire()
        with self._lock:
            self.running -= 1
        return Poses.empty()


def frame(camera_id: str) -> Frame:
    return Frame(camera_id, 0, 0.0, np.zeros((8, 8, 3), np.uint8))


def wait_until(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_cameras_are_served_one_at_a_time_in_the_order_they_asked() -> None:
    model = Gated()
    shared = SharedEstimator(model)
    threads: list[threading.Thread] = []

    def ask(camera_id: str) -> None:
        thread = threading.Thread(target=shared.infer, args=(frame(camera_id),))
        threads.append(thread)
        waiting = shared.turns.waiting()
        thread.start()
        wait_until(lambda: shared.turns.waiting() == waiting + 1)

    ask("busy")  # being served
    wait_until(lambda: model.served == ["busy"])
    ask("quiet-1")
    ask("quiet-2")
    ask("busy")  # the busy camera's next frame queues behind the others
    for _ in range(4):
        model.release.release()
    for thread in threads:
        thread.join(10)
    assert model.served == ["busy", "quiet-1", "quiet-2", "busy"]
    assert model.most_at_once == 1
    assert shared.turns.waiting() == 0
    assert shared.turns.wait_ms("quiet-2") is not None and shared.turns.wait_ms("nobody") is None
    assert shared.model_version == "gated"


def test_with_two_slots_two_run_at_once_and_the_third_waits_its_turn() -> None:
    model = Gated()
    shared = SharedEstimator(model, slots=2)
    threads = [threading.Thread(target=shared.infer, args=(frame(c),)) for c in ("a", "b", "c")]
    for thread in threads:
        waiting = shared.turns.waiting()
        thread.start()
        wait_until(lambda: shared.turns.waiting() == waiting + 1)  # noqa: B023
    wait_until(lambda: len(model.served) == 2)
    assert model.served == ["a", "b"] and model.running == 2
    model.release.release()  # one finishes: the next in line starts
    wait_until(lambda: model.served == ["a", "b", "c"])
    model.release.release()
    model.release.release()
    for thread in threads:
        thread.join(10)
    assert model.most_at_once == 2 and shared.turns.waiting() == 0


def test_slots_must_be_positive() -> None:
    with pytest.raises(ValueError, match="slots"):
        SharedEstimator(Gated(), slots=0)


def test_a_failing_inference_passes_the_turn_on() -> None:
    class Broken:
        model_version = "broken"

        def infer(self, frame: Frame) -> Poses:
            raise RuntimeError("model crashed")

    shared = SharedEstimator(Broken())
    for _ in range(2):
        with pytest.raises(RuntimeError, match="crashed"):
            shared.infer(frame("cam"))
    assert shared.turns.waiting() == 0
