"""Zones: named areas of a camera's image, with a type and optional time windows.

Polygons are relative (0-1 of the frame's width and height, like Frigate's zones), so a zone
survives a change of stream resolution. A person is "in" a zone when their ground point (the
middle of the box's bottom edge, where the feet are) lies inside the polygon or on its edge.

Time windows are local time of day ("HH:MM"), read from `Scene.wall_time` (epoch seconds); a
window whose end is before its start wraps midnight (22:00-06:00 holds 23:30 and 05:59, not
06:00). A zone's `active` windows switch all its rules on and off; its `night` windows are when
movement in it is reported::

    ZoneConfig(name="door", type="exit", polygon=((0.9, 0.2), (1, 0.2), (1, 0.9), (0.9, 0.9)),
               active=(TimeWindow(start="20:00", end="08:00"),))
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

import cv2
import numpy as np
from pydantic import Field, field_validator, model_validator

from vision.configbase import StrictModel
from vision.types import FloatArray

ZoneType = Literal["bed", "corridor", "room", "restricted", "exit", "bathroom", "other"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

MIN_POLYGON_AREA = 1e-4
"""Smallest zone area as a fraction of the frame (0.01 % ~ 30 pixels of 640x480)."""


class TimeWindow(StrictModel):
    """A daily window of local time, `start` to `end` ("HH:MM"); it may wrap midnight."""

    start: str = Field(description="Local time the window opens, HH:MM (24 h).")
    end: str = Field(description="Local time the window closes, HH:MM; before start = next day.")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be a time of day as HH:MM, 00:00 to 23:59")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start}: a window must have a length "
                "(leave the list empty for 'always')"
            )
        return self

    def contains(self, wall_time: float) -> bool:
        """Whether local time at epoch `wall_time` falls in the window (start in, end out)."""
        now = datetime.fromtimestamp(wall_time).strftime("%H:%M")
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def _polygon_area(polygon: tuple[tuple[float, float], ...]) -> float:
    """Shoelace area of a polygon (absolute, in the polygon's units squared)."""
    xs = np.array([p[0] for p in polygon], np.float64)
    ys = np.array([p[1] for p in polygon], np.float64)
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


class ZoneConfig(StrictModel):
    """One zone of one camera."""

    name: str = Field(min_length=1, max_length=64, description="Name shown in events and alerts.")
    type: ZoneType = Field(
        description=(
            "What the area is: bed (lying there is normal), corridor, room, restricted (nobody "
            "should enter), exit (leaving the station), bathroom, other."
        )
    )
    polygon: tuple[tuple[float, float], ...] = Field(
        min_length=3,
        description="Corners as [x, y] fractions of the frame width and height (0-1), in order.",
    )
    active: tuple[TimeWindow, ...] = Field(
        (), description="When the zone's rules apply (local time); empty = always."
    )
    night: tuple[TimeWindow, ...] = Field(
        (), description="Windows in which any movement in this zone is reported (e.g. 22:00-06:00)."
    )
    dwell_limit_s: float | None = Field(
        None, gt=0, le=86_400, description="Report someone staying longer than this (loitering)."
    )

    @field_validator("polygon")
    @classmethod
    def _relative(cls, value: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        for x, y in value:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError("polygon corners must be fractions of the frame, 0 to 1")
        if _polygon_area(value) < MIN_POLYGON_AREA:
            raise ValueError(
                "polygon encloses (almost) no area: give at least 3 corners that are not in a line"
            )
        return value

    def is_active(self, wall_time: float) -> bool:
        return not self.active or any(w.contains(wall_time) for w in self.active)

    def night_window(self, wall_time: float) -> TimeWindow | None:
        """The night window holding `wall_time`, if any."""
        return next((w for w in self.night if w.contains(wall_time)), None)


def ground_point(xyxy: FloatArray) -> tuple[float, float]:
    """Where a person stands: the middle of the bottom edge of their box."""
    return float((xyxy[0] + xyxy[2]) / 2), float(xyxy[3])


class ZoneMap:
    """A camera's zones in pixels for one frame size; answers "which zones hold this point"."""

    def __init__(self, zones: tuple[ZoneConfig, ...], frame_size: tuple[int, int]) -> None:
        w, h = frame_size
        self.zones = zones
        self.frame_size = frame_size
        self._polygons = [
            (np.array(z.polygon, np.float32) * np.array([w, h], np.float32)).reshape(-1, 1, 2)
            for z in zones
        ]
        self._by_name = dict(zip((z.name for z in zones), self._polygons, strict=True))

    def containing(self, point: tuple[float, float]) -> list[ZoneConfig]:
        return [
            z
            for z, poly in zip(self.zones, self._polygons, strict=True)
            if cv2.pointPolygonTest(poly, point, False) >= 0
        ]

    def in_type(self, point: tuple[float, float], zone_type: ZoneType) -> ZoneConfig | None:
        """The first zone of `zone_type` holding `point`, if any."""
        return next((z for z in self.containing(point) if z.type == zone_type), None)

    def distance_px(self, point: tuple[float, float], zone: ZoneConfig) -> float:
        """Pixels from `point` to the edge of `zone`: positive outside, negative inside, 0 on it."""
        return -float(cv2.pointPolygonTest(self._by_name[zone.name], point, True))
