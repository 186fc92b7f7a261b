"""A camera's own health: offline, frozen image, covered or black lens.

Each condition raises a `HealthSignal` of its own kind once it has lasted its configured time and
clears it (a second signal, `active=False`) when the camera recovers; nothing repeats while a
condition holds. Pure logic: times come from the arguments and nothing is read or written.

The image checks run on a cheap grey subsample (every 4th pixel of every 4th row, exact values,
no averaging), so a small change such as an on-screen clock ticking still counts as change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from alerts.config import CameraHealthConfig
from vision.types import Image

OFFLINE = "camera_offline"
FROZEN = "camera_frozen"
COVERED = "camera_covered"
SUBSAMPLE = 4
"""Every SUBSAMPLE-th pixel in both directions is checked."""


@dataclass(frozen=True)
class HealthSignal:
    """A camera condition raised (`active=True`) or cleared (`active=False`) at `at`.

    `since` is when the condition began (the same value on the raise and its clear, so
    `at - since` of a clear is how long it lasted). `evidence` explains the decision: seconds,
    image statistics and the thresholds in force.
    """

    kind: str  # "camera_offline" | "camera_frozen" | "camera_covered"
    camera_id: str
    active: bool
    since: float
    at: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Camera:
    last_frame_at: float | None = None
    anchor: Image | None = None  # first grey subsample of the current still run
    still_since: float | None = None
    covered_since: float | None = None
    active: dict[str, float] = field(default_factory=dict)  # kind -> since


def grey_subsample(image: Image) -> Image:
    """Every SUBSAMPLE-th pixel of `image` (BGR or grey) as grey uint8, exact values."""
    small = np.ascontiguousarray(image[::SUBSAMPLE, ::SUBSAMPLE])
    if small.ndim == 3:
        return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return small


class CameraHealthMonitor:
    """Watches every camera's frames (and their absence) for the three health conditions.

    - **frozen**: frames arrive, but no checked pixel differs by more than `frozen_pixel_delta`
      grey levels from the first frame of the run for `frozen_s`. Comparing with the run's first
      frame rather than the previous one also counts slow drift as change. A dark or uniform image
      cannot show whether the feed is live, so it is judged as covered, never as frozen.
    - **covered**: mean grey below `dark_level` or spread (std) below `uniform_std` for
      `covered_s` (a hand, tape, a black or blank picture).
    - **offline**: no frame for `offline_s` (counted from `started_at` for a camera never seen),
      raised by `check` and cleared by the next frame.
    """

    def __init__(self, cfg: CameraHealthConfig, started_at: float) -> None:
        self.cfg = cfg
        self.started_at = started_at
        self._cameras: dict[str, _Camera] = {}

    def _camera(self, camera_id: str) -> _Camera:
        return self._cameras.setdefault(camera_id, _Camera())

    def active(self, camera_id: str) -> set[str]:
        """The kinds currently raised for `camera_id`."""
        cam = self._cameras.get(camera_id)
        return set(cam.active) if cam else set()

    def observe_frame(self, camera_id: str, wall_time: float, image: Image) -> list[HealthSignal]:
        """Account for one frame of `camera_id`; return the signals it raises or clears."""
        cfg = self.cfg
        cam = self._camera(camera_id)
        signals: list[HealthSignal] = []
        gap = None if cam.last_frame_at is None else wall_time - cam.last_frame_at
        was_offline = OFFLINE in cam.active
        if was_offline:
            since = cam.active.pop(OFFLINE)
            evidence: dict[str, Any] = {
                "seconds": round(wall_time - since, 3),
                "offline_s": cfg.offline_s,
            }
            signals.append(HealthSignal(OFFLINE, camera_id, False, since, wall_time, evidence))
        if was_offline or (gap is not None and gap >= cfg.offline_s):
            # After an outage the runs start afresh: the image before it says nothing about now.
            cam.anchor, cam.still_since, cam.covered_since = None, None, None
        cam.last_frame_at = wall_time

        grey = grey_subsample(image)
        mean, std = (float(v) for v in (grey.mean(), grey.std()))
        dark, uniform = mean < cfg.dark_level, std < cfg.uniform_std
        covered = dark or uniform
        changed: float | None = None
        if cam.anchor is not None and cam.anchor.shape == grey.shape:
            diff = cv2.absdiff(grey, cam.anchor)
            changed = float(np.count_nonzero(diff > cfg.frozen_pixel_delta)) / diff.size
        stats: dict[str, Any] = {
            "mean": round(mean, 2),
            "std": round(std, 2),
            "changed_fraction": None if changed is None else round(changed, 5),
        }

        # Covered: dark or uniform for covered_s.
        if covered:
            if cam.covered_since is None:
                cam.covered_since = wall_time
            seconds = wall_time - cam.covered_since
            if COVERED not in cam.active and seconds >= cfg.covered_s:
                cam.active[COVERED] = cam.covered_since
                evidence = {
                    "seconds": round(seconds, 3),
                    "reason": "dark" if dark else "uniform",
                    **stats,
                    **self._covered_thresholds(),
                }
                signals.append(
                    HealthSignal(COVERED, camera_id, True, cam.covered_since, wall_time, evidence)
                )
        else:
            cam.covered_since = None
            if COVERED in cam.active:
                since = cam.active.pop(COVERED)
                evidence = {
                    "seconds": round(wall_time - since, 3),
                    **stats,
                    **self._covered_thresholds(),
                }
                signals.append(HealthSignal(COVERED, camera_id, False, since, wall_time, evidence))

        # Frozen: a textured image that does not change for frozen_s.
        if not covered and changed == 0.0 and cam.still_since is not None:
            seconds = wall_time - cam.still_since
            if FROZEN not in cam.active and seconds >= cfg.frozen_s:
                cam.active[FROZEN] = cam.still_since
                evidence = {"seconds": round(seconds, 3), **stats, **self._frozen_thresholds()}
                signals.append(
                    HealthSignal(FROZEN, camera_id, True, cam.still_since, wall_time, evidence)
                )
        else:
            cam.anchor, cam.still_since = grey, wall_time
            if FROZEN in cam.active:
                since = cam.active.pop(FROZEN)
                evidence = {
                    "seconds": round(wall_time - since, 3),
                    **stats,
                    **self._frozen_thresholds(),
                }
                signals.append(HealthSignal(FROZEN, camera_id, False, since, wall_time, evidence))
        return signals

    def check(
        self, camera_id: str, wall_now: float, state: str, last_error: str | None
    ) -> list[HealthSignal]:
        """Raise `camera_offline` when `camera_id` has sent no frame for `offline_s`.

        `state` and `last_error` are the reader's (e.g. "reconnecting", "connection refused"),
        kept as evidence.
        """
        cam = self._camera(camera_id)
        if OFFLINE in cam.active:
            return []
        since = self.started_at if cam.last_frame_at is None else cam.last_frame_at
        seconds = wall_now - since
        if seconds < self.cfg.offline_s:
            return []
        cam.active[OFFLINE] = since
        evidence = {
            "seconds": round(seconds, 3),
            "last_frame_at": cam.last_frame_at,
            "state": state,
            "last_error": last_error,
            "offline_s": self.cfg.offline_s,
        }
        return [HealthSignal(OFFLINE, camera_id, True, since, wall_now, evidence)]

    def _covered_thresholds(self) -> dict[str, float]:
        cfg = self.cfg
        return {
            "covered_s": cfg.covered_s,
            "dark_level": cfg.dark_level,
            "uniform_std": cfg.uniform_std,
        }

    def _frozen_thresholds(self) -> dict[str, float]:
        cfg = self.cfg
        return {"frozen_s": cfg.frozen_s, "frozen_pixel_delta": cfg.frozen_pixel_delta}
