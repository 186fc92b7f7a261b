"""Zones: which zones hold a point, time windows (also across midnight) and validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from vision.zones import TimeWindow, ZoneConfig, ZoneMap, ground_point

SQUARE = ((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75))
# An L: the square's top-right quarter cut away.
ELL = ((0.25, 0.25), (0.5, 0.25), (0.5, 0.5), (0.75, 0.5), (0.75, 0.75), (0.25, 0.75))


def local(hour: int, minute: int = 0) -> float:
    """Epoch seconds of a fixed day's local time (windows read local time)."""
    return datetime(2024, 3, 12, hour, minute).timestamp()


def zone(**kw: Any) -> ZoneConfig:
    return ZoneConfig.model_validate({"name": "z", "type": "room", "polygon": SQUARE, **kw})


@pytest.mark.parametrize(
    ("polygon", "frame_size", "point", "inside"),
    [
        (SQUARE, (640, 480), (320, 240), True),  # centre
        (SQUARE, (640, 480), (100, 240), False),  # left of it
        (SQUARE, (640, 480), (160, 240), True),  # on the left edge: counts as in
        (SQUARE, (640, 480), (320, 400), False),  # below it
        (SQUARE, (1280, 720), (640, 360), True),  # relative: the same zone at another size
        (SQUARE, (1280, 720), (300, 170), False),  # inside at 640x480, outside at 1280x720
        (ELL, (640, 480), (400, 150), False),  # in the L's cut-away notch
        (ELL, (640, 480), (400, 300), True),  # in its foot
        (ELL, (640, 480), (200, 200), True),  # in its stem
    ],
)
def test_which_zones_hold_a_point(
    polygon: tuple[tuple[float, float], ...],
    frame_size: tuple[int, int],
    point: tuple[float, float],
    inside: bool,
) -> None:
    z = zone(polygon=polygon)
    zmap = ZoneMap((z,), frame_size)
    assert (zmap.containing(point) == [z]) is inside
    assert (zmap.in_type(point, "room") is z) is inside
    assert zmap.in_type(point, "bed") is None


def test_overlapping_zones_all_hold_the_point() -> None:
    room = zone(name="room", polygon=((0, 0), (1, 0), (1, 1), (0, 1)))
    bed = zone(name="bed", type="bed", polygon=SQUARE)
    zmap = ZoneMap((room, bed), (640, 480))
    assert [z.name for z in zmap.containing((320, 240))] == ["room", "bed"]
    assert [z.name for z in zmap.containing((10, 10))] == ["room"]
    assert zmap.in_type((320, 240), "bed") is bed


@pytest.mark.parametrize(
    ("point", "distance"),
    [
        ((320, 240), -120.0),
        ((320, 150), -30.0),
        ((160, 240), 0.0),
        ((100, 240), 60.0),
        ((100, 60), 60 * 2**0.5),
    ],
)
def test_distance_to_a_zone_is_signed(point: tuple[float, float], distance: float) -> None:
    z = zone()
    zmap = ZoneMap((z,), (640, 480))  # the square is x 160-480, y 120-360
    assert zmap.distance_px(point, z) == pytest.approx(distance, abs=0.5)


def test_ground_point_is_the_middle_of_the_box_bottom() -> None:
    assert ground_point(np.array([100, 50, 140, 250], np.float32)) == (120.0, 250.0)


@pytest.mark.parametrize(
    ("start", "end", "at", "inside"),
    [
        ("08:00", "20:00", (12, 0), True),
        ("08:00", "20:00", (8, 0), True),  # start is in
        ("08:00", "20:00", (20, 0), False),  # end is out
        ("08:00", "20:00", (7, 59), False),
        ("08:00", "20:00", (23, 0), False),
        ("22:00", "06:00", (23, 30), True),  # wraps midnight
        ("22:00", "06:00", (0, 0), True),
        ("22:00", "06:00", (5, 59), True),
        ("22:00", "06:00", (6, 0), False),
        ("22:00", "06:00", (21, 59), False),
        ("22:00", "06:00", (22, 0), True),
        ("22:00", "06:00", (14, 0), False),
        ("23:59", "00:01", (0, 0), True),
        ("23:59", "00:01", (0, 1), False),
    ],
)
def test_time_windows(start: str, end: str, at: tuple[int, int], inside: bool) -> None:
    assert TimeWindow(start=start, end=end).contains(local(*at)) is inside


@pytest.mark.parametrize(
    ("active", "at", "is_active"),
    [
        ((), (3, 0), True),  # no windows: always
        ((("08:00", "20:00"),), (10, 0), True),
        ((("08:00", "20:00"),), (23, 0), False),
        ((("08:00", "12:00"), ("14:00", "18:00")), (13, 0), False),
        ((("08:00", "12:00"), ("14:00", "18:00")), (15, 0), True),
    ],
)
def test_a_zone_is_active_in_any_of_its_windows(
    active: tuple[tuple[str, str], ...], at: tuple[int, int], is_active: bool
) -> None:
    z = zone(active=[{"start": s, "end": e} for s, e in active])
    assert z.is_active(local(*at)) is is_active


def test_night_window_names_the_window_in_force() -> None:
    z = zone(night=[{"start": "22:00", "end": "06:00"}])
    window = z.night_window(local(2, 0))
    assert window is not None and str(window) == "22:00-06:00"
    assert z.night_window(local(14, 0)) is None
    assert zone().night_window(local(2, 0)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"active": [{"start": "24:00", "end": "06:00"}]}, "HH:MM"),
        ({"active": [{"start": "7:00", "end": "09:00"}]}, "HH:MM"),
        ({"night": [{"start": "22:00", "end": "06:60"}]}, "HH:MM"),
        ({"night": [{"start": "22:00", "end": "22:00"}]}, "must have a length"),
        ({"night": [{"start": "22:00"}]}, "Field required"),
        ({"polygon": ((0, 0), (1.2, 0), (1, 1))}, "fractions of the frame"),
        ({"polygon": ((0, 0), (0.5, 0.5), (1, 1))}, "no area"),
        ({"polygon": ((0, 0), (1, 0))}, "at least 3"),
        ({"dwell_limit_s": 0}, "greater than 0"),
        ({"dwell_limit_s": -5}, "greater than 0"),
        ({"type": "kitchen"}, "'bed'"),
        ({"name": ""}, "at least 1"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_zones_are_refused_with_a_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        zone(**changes)


def test_a_valid_zone_keeps_its_settings() -> None:
    z = zone(
        type="corridor",
        dwell_limit_s=120,
        active=[{"start": "20:00", "end": "08:00"}],
        night=[{"start": "22:00", "end": "06:00"}],
    )
    assert z.dwell_limit_s == 120
    assert str(z.active[0]) == "20:00-08:00"
    assert z.polygon == SQUARE
