"""Cheap image motion: small grey thumbnails, their differences, and the activity gate that
decides whether a frame is worth the pose model (no model, ~0.3 ms a frame).

Behaviour rules may use how much the pixels inside people's boxes changed between two analysed
frames. Thumbnails are what the evaluation cache stores next to the poses, so a cached replay
sees exactly the motion a live camera would, and `carewatch eval` gates frames exactly as a live
camera does.

`ActivityGate` runs on every frame a camera would analyse: while something moves (and for
`hold_s` after) every frame goes to the model; while nothing does, one every `1 / idle_fps`
seconds when people were in the last analysed frame, one every `1 / empty_fps` seconds when
nobody was. A fall that starts from stillness moves pixels, so the very next frame is analysed at
the full rate again, with the still person's recent upright poses already tracked.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from vision.configbase import StrictModel
from vision.types import Image

MOTION_SCALE = 8
"""Frame pixels per thumbnail pixel (640x480 -> 80x60)."""


def thumbnail(image: Image, scale: int = MOTION_SCALE) -> Image:
    """BGR (h, w, 3) -> grey (ceil(h/scale), ceil(w/scale)) uint8, area-averaged."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    size = (max(1, -(-w // scale)), max(1, -(-h // scale)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def difference(previous: Image | None, current: Image) -> Image | None:
    """|current - previous| per thumbnail pixel, or None without a previous thumbnail."""
    if previous is None or previous.shape != current.shape:
        return None
    return np.asarray(cv2.absdiff(previous, current), dtype=np.uint8)


class GatingConfig(StrictModel):
    """When a camera's frames go to the pose model: all of them while something moves, a few
    while nothing does."""

    enabled: bool = Field(
        True,
        description="Analyse at the full `analysis_fps` only while the picture moves; off "
        "analyses every frame at the full rate.",
    )
    idle_fps: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Analysis rate while nothing moves and people were seen in the last "
        "analysed frame (they keep being tracked: someone asleep or standing still).",
    )
    empty_fps: float = Field(
        0.2,
        gt=0,
        le=60,
        description="Analysis rate while nothing moves and nobody was seen in the last analysed "
        "frame (an empty room: anyone coming in moves pixels first).",
    )
    pixel_delta: int = Field(
        14,
        ge=1,
        le=255,
        description="How many grey levels a pixel of the 1/8-scale picture must change by to "
        "count as moving (above sensor noise and compression).",
    )
    motion_share: float = Field(
        0.002,
        gt=0,
        le=1,
        description="Share of the 1/8-scale picture that must move for the camera to be active "
        "(0.002 of 80x60 = 10 pixels, a hand waving at 5 m).",
    )
    hold_s: float = Field(
        3.0,
        ge=0,
        le=600,
        description="Stay at the full rate this long after the last motion.",
    )


class ActivityGate:
    """Per camera: `admit(thumb, t)` says whether the frame at time `t` (seconds, the camera's
    clock) with motion thumbnail `thumb` goes to the model; `saw(people)` tells it how many
    people the model found in the last admitted frame. Motion is measured against the last
    admitted frame, so slow movement adds up until it counts."""

    def __init__(self, cfg: GatingConfig) -> None:
        self.cfg = cfg
        self.active = True
        self.admitted = 0
        self.skipped = 0
        self._reference: Image | None = None
        self._last_admitted: float | None = None
        self._last_motion: float | None = None
        self._people = True  # until the model has looked, assume someone is there

    def saw(self, people: int) -> None:
        """How many people the model found in the frame just admitted."""
        self._people = people > 0

    def moving_share(self, thumb: Image) -> float:
        """Share of thumbnail pixels that changed by more than `pixel_delta` since the last
        admitted frame (1.0 without one)."""
        diff = difference(self._reference, thumb)
        if diff is None:
            return 1.0
        return float(np.count_nonzero(diff > self.cfg.pixel_delta)) / diff.size

    def admit(self, thumb: Image, t: float) -> bool:
        if not self.cfg.enabled:
            self.admitted += 1
            return True
        if self.moving_share(thumb) >= self.cfg.motion_share:
            self._last_motion = t
        self.active = self._last_motion is not None and t - self._last_motion <= self.cfg.hold_s
        idle_fps = self.cfg.idle_fps if self._people else self.cfg.empty_fps
        due = (
            self._last_admitted is None
            or t - self._last_admitted >= 1.0 / idle_fps - 1e-6
            or t < self._last_admitted  # a file camera that started again
        )
        if not (self.active or due):
            self.skipped += 1
            return False
        self._reference = thumb
        self._last_admitted = t
        self.admitted += 1
        return True
