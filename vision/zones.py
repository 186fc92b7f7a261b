"""Zones: named areas of a camera's image, with a type and optional time windows.

Polygons are relative (0-1 of the frame's width and height, like Frigate's zones), so a zone
survives a change of stream resolution. A person is "in" a zone when their ground point (the
middle of the box's bottom edge, where the feet are) lies inside the polygon.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

import cv2
import numpy as np
from pydantic import Field, field_validator

from vision.configbase import StrictModel
from vision.types import FloatArray

ZoneType = Literal["bed", "corridor", "room", "restricted", "exit", "bathroom", "other"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


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

    def contains(self, wall_time: float) -> bool:
        """Whether local time at epoch `wall_time` falls in the window."""
        now = datetime.fromtimestamp(wall_time).strftime("%H:%M")
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


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
        return value

    def is_active(self, wall_time: float) -> bool:
        return not self.active or any(w.contains(wall_time) for w in self.active)


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

    def containing(self, point: tuple[float, float]) -> list[ZoneConfig]:
        return [
            z
            for z, poly in zip(self.zones, self._polygons, strict=True)
            if cv2.pointPolygonTest(poly, point, False) >= 0
        ]

    def in_type(self, point: tuple[float, float], zone_type: ZoneType) -> ZoneConfig | None:
        """The first zone of `zone_type` holding `point`, if any."""
        return next((z for z in self.containing(point) if z.type == zone_type), None)
