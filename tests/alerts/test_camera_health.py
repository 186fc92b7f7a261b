"""Camera health: offline, frozen and covered cameras raise one signal each and clear it again."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from alerts.camera_health import COVERED, FROZEN, OFFLINE, CameraHealthMonitor, HealthSignal
from alerts.config import CameraHealthConfig
from vision.types import Image

CFG = CameraHealthConfig(
    offline_s=5.0,
    frozen_s=3.0,
    frozen_pixel_delta=2,
    covered_s=2.0,
    dark_level=12.0,
    uniform_std=4.0,
)
W, H = 160, 120
STEP = 0.5  # seconds between frames


def _texture(seed: int = 0, low: int = 40, high: int = 200) -> Image:
    """A static scene: smooth blobs of grey levels between `low` and `high`, in colour."""
    rng = np.random.default_rng(seed)
    small = rng.integers(low, high, (12, 16, 3), dtype=np.uint8)
    return np.asarray(cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC), np.uint8)


SCENE = _texture()
OTHER_SCENE = _texture(seed=1)


def _noisy(image: Image, t: float, sigma: float = 3.0) -> Image:
    """`image` with fresh sensor noise for time `t`."""
    rng = np.random.default_rng(int(t * 1000))
    noise = rng.normal(0.0, sigma, image.shape)
    return np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def _with_clock(t: float) -> Image:
    """The static scene, bit for bit, with an on-screen clock showing whole seconds."""
    image = SCENE.copy()
    text = f"12:00:{int(t) % 60:02d}"
    cv2.putText(image, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return image


def _black(t: float) -> Image:
    return np.zeros((H, W, 3), np.uint8)


def _hand(t: float) -> Image:
    """A hand over the lens: an even, mid-grey picture with a little noise."""
    return _noisy(np.full((H, W, 3), 128, np.uint8), t, sigma=1.0)


def _night(t: float) -> Image:
    """A dark room on a camera without IR: mean about 25 but still textured, and noisy."""
    return _noisy(_texture(low=5, high=45), t, sigma=2.0)


def _live(t: float) -> Image:
    return _noisy(SCENE, t)


def _frozen(t: float) -> Image:
    return SCENE


def _drift(t: float) -> Image:
    """Light fading slowly: one grey level per frame (below frozen_pixel_delta frame to frame)."""
    return np.clip(SCENE.astype(np.int16) + round(t / STEP), 0, 255).astype(np.uint8)


Event = tuple[str, float, Image | None]


def frames(fn: Callable[[float], Image], start: float, end: float) -> list[Event]:
    """A frame every STEP seconds from `start` to `end` inclusive."""
    count = round((end - start) / STEP) + 1
    return [("frame", start + i * STEP, fn(start + i * STEP)) for i in range(count)]


def checks(*times: float) -> list[Event]:
    return [("check", t, None) for t in times]


def run(
    events: list[Event], started_at: float = 0.0
) -> tuple[CameraHealthMonitor, list[HealthSignal]]:
    monitor = CameraHealthMonitor(CFG, started_at)
    out: list[HealthSignal] = []
    for what, t, image in events:
        if what == "frame":
            assert image is not None
            out += monitor.observe_frame("cam", t, image)
        else:
            out += monitor.check("cam", t, "reconnecting", "connection refused")
    return monitor, out


# (kind, active, at, since) of every signal, in order.
SCENARIOS: dict[str, tuple[float, list[Event], list[tuple[str, bool, float, float]]]] = {
    "live noisy scene": (0.0, frames(_live, 0, 30), []),
    "static scene with a ticking clock": (0.0, frames(_with_clock, 0, 30), []),
    "light fading slowly": (0.0, frames(_drift, 0, 20), []),
    "dark but textured night scene": (0.0, frames(_night, 0, 30), []),
    "frozen image, then live again": (
        0.0,
        frames(_frozen, 0, 10) + frames(lambda t: OTHER_SCENE, 10.5, 13),
        [(FROZEN, True, 3.0, 0.0), (FROZEN, False, 10.5, 0.0)],
    ),
    "frozen image that unfreezes just in time": (
        0.0,
        frames(_frozen, 0, 2.5) + frames(lambda t: OTHER_SCENE, 3.0, 5.5),
        [],
    ),
    "black lens": (
        0.0,
        frames(_live, 0, 2) + frames(_black, 2.5, 8) + frames(_live, 8.5, 12),
        [(COVERED, True, 4.5, 2.5), (COVERED, False, 8.5, 2.5)],
    ),
    "hand over the lens": (
        0.0,
        frames(_live, 0, 1) + frames(_hand, 1.5, 6) + frames(_live, 6.5, 8),
        [(COVERED, True, 3.5, 1.5), (COVERED, False, 6.5, 1.5)],
    ),
    "hand taken away before covered_s": (
        0.0,
        frames(_live, 0, 1) + frames(_hand, 1.5, 3) + frames(_live, 3.5, 8),
        [],
    ),
    "frozen image then black: judged covered": (
        0.0,
        frames(_frozen, 0, 5) + frames(_black, 5.5, 9),
        [(FROZEN, True, 3.0, 0.0), (FROZEN, False, 5.5, 0.0), (COVERED, True, 7.5, 5.5)],
    ),
    "camera stops, then comes back": (
        0.0,
        frames(_live, 0, 10) + checks(12.0, 14.5, 15.0, 16.0, 30.0) + frames(_live, 31, 32),
        [(OFFLINE, True, 15.0, 10.0), (OFFLINE, False, 31.0, 10.0)],
    ),
    "camera never delivered a frame": (
        1000.0,
        checks(1001.0, 1004.5, 1005.0, 1010.0) + frames(_live, 1012, 1013),
        [(OFFLINE, True, 1005.0, 1000.0), (OFFLINE, False, 1012.0, 1000.0)],
    ),
    "the same image after an outage is not frozen at once": (
        0.0,
        frames(_frozen, 0, 2) + checks(7.0) + frames(_frozen, 9, 12),
        [(OFFLINE, True, 7.0, 2.0), (OFFLINE, False, 9.0, 2.0), (FROZEN, True, 12.0, 9.0)],
    ),
    "a long gap without check restarts the frozen run": (
        0.0,
        frames(_frozen, 0, 2) + frames(_frozen, 20, 22.5),
        [],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios(name: str) -> None:
    started_at, events, want = SCENARIOS[name]
    monitor, signals = run(events, started_at)
    got = [(s.kind, s.active, s.at, s.since) for s in signals]
    assert got == want
    assert all(s.camera_id == "cam" for s in signals)
    raised = {k for k, active, _, _ in want if active} - {
        k for k, active, _, _ in want if not active
    }
    assert monitor.active("cam") == raised


def test_evidence_explains_each_signal() -> None:
    _, signals = run(frames(_frozen, 0, 3) + frames(_black, 3.5, 6) + checks(11.0))
    frozen, frozen_clear, covered, offline = signals
    assert (frozen.kind, frozen.active) == (FROZEN, True)
    assert frozen.evidence["seconds"] == 3.0
    assert frozen.evidence["changed_fraction"] == 0.0
    assert frozen.evidence["frozen_s"] == 3.0 and frozen.evidence["frozen_pixel_delta"] == 2
    assert frozen.evidence["std"] > 10
    assert (frozen_clear.kind, frozen_clear.active) == (FROZEN, False)

    assert (covered.kind, covered.active) == (COVERED, True)
    assert covered.evidence["reason"] == "dark"
    assert covered.evidence["mean"] == 0.0 and covered.evidence["std"] == 0.0
    assert covered.evidence["seconds"] == 2.0
    assert covered.evidence["dark_level"] == 12.0 and covered.evidence["uniform_std"] == 4.0

    assert (offline.kind, offline.active) == (OFFLINE, True)
    assert offline.evidence["seconds"] == 5.0 and offline.evidence["offline_s"] == 5.0
    assert offline.evidence["state"] == "reconnecting"
    assert offline.evidence["last_error"] == "connection refused"
    assert offline.evidence["last_frame_at"] == 6.0


def test_uniform_bright_picture_is_covered_as_uniform() -> None:
    _, signals = run(frames(_hand, 0, 2))
    assert [(s.kind, s.evidence["reason"]) for s in signals] == [(COVERED, "uniform")]
    assert signals[0].evidence["mean"] > 100


def test_cameras_are_watched_separately() -> None:
    monitor = CameraHealthMonitor(CFG, 0.0)
    out: list[HealthSignal] = []
    for _, t, image in frames(_live, 0, 6):
        assert image is not None
        out += monitor.observe_frame("door", t, image)
        out += monitor.observe_frame("hall", t, SCENE)
        out += monitor.observe_frame("yard", t, _black(t))
    out += monitor.check("gate", 6.0, "connecting", None)
    assert sorted((s.camera_id, s.kind) for s in out) == [
        ("gate", OFFLINE),
        ("hall", FROZEN),
        ("yard", COVERED),
    ]
    assert monitor.active("door") == set()
    assert monitor.active("hall") == {FROZEN}
    assert monitor.active("unknown") == set()


def test_a_change_in_image_size_is_not_taken_for_a_frozen_image() -> None:
    monitor = CameraHealthMonitor(CFG, 0.0)
    small = np.asarray(cv2.resize(SCENE, (80, 60)), np.uint8)
    out: list[HealthSignal] = []
    for i, t in enumerate(np.arange(0, 6, STEP)):
        out += monitor.observe_frame("cam", float(t), SCENE if i % 2 else small)
    assert out == []
