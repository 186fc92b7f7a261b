"""Where in a frame the pose model runs: only around motion and the people already tracked.

A camera that shows a few people in a large room does not need the model on the whole picture
every time. `RegionPlanner.plan` picks one rectangle per analysed frame: the boxes of the people
the model found in the camera's last analysed frame, each widened by `margin` of its size (how
far someone can move between two analysed frames), joined with what moved since then in the
motion thumbnails. The model sees that crop at the same scale as the whole frame (so people are
as many pixels tall as always), and costs what its pixels cost. The whole frame is analysed
instead when the crop would be most of it anyway, at least every `full_frame_s` seconds (someone
who came in without moving much), and whenever nothing moved and nobody was seen.

A fall that starts from stillness happens to someone already tracked, so inside their widened
box; a person walking in moves pixels, so inside the motion's box. Someone the model finds
touching the crop's edge (moving faster than the margin allows, or larger than it was) may be
cut by it: the estimator then analyses the whole frame (`Region.cuts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from pydantic import Field

from vision.configbase import StrictModel
from vision.motion import MOTION_SCALE, difference
from vision.types import FloatArray, Image


class RegionConfig(StrictModel):
    """Whether the pose model may look at part of a frame only, and how much of it."""

    enabled: bool = Field(
        True,
        description="Run the pose model only on the part of the frame with motion or people "
        "(widened by `margin`), at the whole frame's scale; off: always the whole frame.",
    )
    margin: float = Field(
        1.0,
        ge=0,
        le=5,
        description="How far each person's box is widened on every side, as a share of its "
        "larger side: room to move between two analysed frames, and the surroundings the "
        "model needs to see someone as well as in the whole frame (0.5 lost people lying down "
        "on the evaluation clips; 1.0 lost none).",
    )
    full_frame_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Analyse the whole frame at least this often (finds people who appeared "
        "without moving).",
    )
    max_share: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Analyse the whole frame when the region would cover more than this share "
        "of it (a crop saves little then, and 0.85 lost two falls and two fights on the "
        "evaluation clips).",
    )
    pixel_delta: int = Field(
        14,
        ge=1,
        le=255,
        description="Grey levels a pixel of the 1/8-scale picture must change by to count as "
        "motion for the region.",
    )


@dataclass(frozen=True)
class Region:
    """A rectangle of the frame in pixels, `x1`/`y1` exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def share_of(self, frame_hw: tuple[int, int]) -> float:
        return self.width * self.height / float(frame_hw[0] * frame_hw[1])

    def cuts(self, boxes: FloatArray, frame_hw: tuple[int, int], tolerance: float = 4.0) -> bool:
        """Whether any box (n, 4) reaches one of the region's edges that lies inside the frame
        (within `tolerance` px): that person may go on beyond the crop."""
        h, w = frame_hw
        x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
        return bool(
            (self.x0 > 0 and (x0 <= self.x0 + tolerance).any())
            or (self.y0 > 0 and (y0 <= self.y0 + tolerance).any())
            or (self.x1 < w and (x1 >= self.x1 - tolerance).any())
            or (self.y1 < h and (y1 >= self.y1 - tolerance).any())
        )


def motion_box(previous: Image | None, thumb: Image, pixel_delta: int) -> Region | None:
    """The box, in frame pixels, around the thumbnail pixels that changed by more than
    `pixel_delta` (lone pixels, compression noise, ignored); None when nothing moved or there is
    no previous thumbnail to compare with."""
    diff = difference(previous, thumb)
    if diff is None:
        return None
    moving = (diff > pixel_delta).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
    kept = [s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= 2]
    if not kept:
        return None
    x0 = min(int(s[cv2.CC_STAT_LEFT]) for s in kept)
    y0 = min(int(s[cv2.CC_STAT_TOP]) for s in kept)
    x1 = max(int(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH]) for s in kept)
    y1 = max(int(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT]) for s in kept)
    return Region(x0 * MOTION_SCALE, y0 * MOTION_SCALE, x1 * MOTION_SCALE, y1 * MOTION_SCALE)


class RegionPlanner:
    """Per camera: `plan(frame_hw, thumb, t)` gives the region of the next analysed frame (None:
    the whole frame); `saw(boxes)` tells it where the model found people in that frame."""

    def __init__(self, cfg: RegionConfig) -> None:
        self.cfg = cfg
        self.cropped = 0
        self.full = 0
        self.pixels_share_sum = 0.0
        self._previous: Image | None = None
        self._boxes: FloatArray = np.zeros((0, 4), np.float32)
        self._last_full: float | None = None

    def saw(self, boxes: FloatArray) -> None:
        """People's boxes (n, 4) x0 y0 x1 y1 in frame pixels, in the frame just planned."""
        self._boxes = np.asarray(boxes, np.float32).reshape(-1, 4)

    def plan(self, frame_hw: tuple[int, int], thumb: Image, t: float) -> Region | None:
        region = self._region(frame_hw, thumb, t)
        self._previous = thumb
        if region is None:
            self.full += 1
            self.pixels_share_sum += 1.0
            self._last_full = t
        else:
            self.cropped += 1
            self.pixels_share_sum += region.share_of(frame_hw)
        return region

    def _region(self, frame_hw: tuple[int, int], thumb: Image, t: float) -> Region | None:
        if not self.cfg.enabled:
            return None
        if (
            self._last_full is None
            or t - self._last_full >= self.cfg.full_frame_s - 1e-6
            or t < self._last_full  # a file camera that started again
        ):
            return None
        parts = []
        for x0, y0, x1, y1 in self._boxes:
            pad = self.cfg.margin * max(x1 - x0, y1 - y0)
            parts.append((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
        moved = motion_box(self._previous, thumb, self.cfg.pixel_delta)
        if moved is not None:
            pad = MOTION_SCALE * 2
            parts.append((moved.x0 - pad, moved.y0 - pad, moved.x1 + pad, moved.y1 + pad))
        if not parts:
            return None
        h, w = frame_hw
        box = np.array(parts, np.float32)
        region = Region(
            max(0, int(np.floor(box[:, 0].min()))),
            max(0, int(np.floor(box[:, 1].min()))),
            min(w, int(np.ceil(box[:, 2].max()))),
            min(h, int(np.ceil(box[:, 3].max()))),
        )
        if region.width < 2 or region.height < 2 or region.share_of(frame_hw) > self.cfg.max_share:
            return None
        return region

    def pixels_share(self) -> float | None:
        """Mean share of the frame's pixels the model was given per planned frame."""
        planned = self.cropped + self.full
        return self.pixels_share_sum / planned if planned else None
