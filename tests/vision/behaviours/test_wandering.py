"""Wandering: every rule on scripted ground-point paths, the synthetic scenarios, real footage.

Unit tests feed `Scene`s straight into `WanderingDetector` (a person is a function from time to
ground point, None when unseen), so each rule is exercised exactly; the scenarios go through the
real tracker; the real-footage tests run the real pose model on UP-Fall clips (skipped without
../shared/data).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from api.evaluation.cache import analysed_indices, cache_path, eval_cache_dir, load_or_compute
from models.onnx_pose import OnnxPoseEstimator
from tests.conftest import shared_clip
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.registry import build_detectors
from vision.behaviours.scenarios import (
    ExpectedEvent,
    build_scenarios,
    format_markdown,
    score,
    score_scenarios,
)
from vision.behaviours.wandering import (
    WanderingConfig,
    WanderingDetector,
    pacing_chain,
    turning_points,
)
from vision.config import CameraConfig, TrackerConfig
from vision.motion import thumbnail
from vision.pipeline import Analyzer, Perception
from vision.sources import open_source
from vision.tracking import PoseTracker
from vision.types import NUM_KEYPOINTS, BehaviourEvent, Scene, Track, TrackPoint
from vision.zones import ZoneConfig

FRAME = (640, 480)
FPS = 5.0
H = 170.0  # body height in pixels of every scripted person
LOST_S = 3.0  # like the tracker: a track unseen this long ends

Path2 = Callable[[float], tuple[float, float] | None]


def local(hour: int, minute: int = 0) -> float:
    return datetime(2024, 3, 12, hour, minute).timestamp()


def rect(x1: float, y1: float, x2: float, y2: float) -> tuple[tuple[float, float], ...]:
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))


def zone(name: str, type_: str, polygon: tuple[tuple[float, float], ...], **kw: Any) -> ZoneConfig:
    return ZoneConfig.model_validate({"name": name, "type": type_, "polygon": polygon, **kw})


# Zones in a 640x480 frame.
HALL = rect(0.3, 0.6, 0.7, 0.95)  # x 192-448, y 288-456
WHOLE = rect(0.0, 0.0, 1.0, 1.0)
NIGHT = [{"start": "22:00", "end": "06:00"}]


# --------------------------------------------------------------------------- scripted paths


def keyframes(*points: tuple[float, float, float]) -> Path2:
    """A path through (t, x, y) keyframes, straight lines between; absent outside them."""
    ts, xs, ys = (np.array(v, np.float64) for v in zip(*points, strict=True))

    def at(t: float) -> tuple[float, float] | None:
        if t < ts[0] - 1e-9 or t > ts[-1] + 1e-9:
            return None
        return float(np.interp(t, ts, xs)), float(np.interp(t, ts, ys))

    return at


def there_and_back(
    a: tuple[float, float], b: tuple[float, float], leg_s: float, until_s: float, t0: float = 0
) -> Path2:
    """Walk a -> b -> a ... taking `leg_s` a leg, from `t0` to `until_s`."""
    points = []
    t, ends = t0, (a, b)
    i = 0
    while t <= until_s + leg_s:
        points.append((t, *ends[i % 2]))
        t += leg_s
        i += 1
    path = keyframes(*points)
    return lambda t: path(t) if t <= until_s else None


def circle(centre: tuple[float, float], radius: float, period_s: float, until_s: float) -> Path2:
    def at(t: float) -> tuple[float, float] | None:
        if t > until_s:
            return None
        phase = 2 * np.pi * t / period_s
        return centre[0] + radius * np.cos(phase), centre[1] + 0.5 * radius * np.sin(phase)

    return at


def still(x: float, y: float, until_s: float = 1e9, since_s: float = 0.0) -> Path2:
    return lambda t: (x, y) if since_s <= t <= until_s else None


def jitter(path: Path2, sigma_px: float, seed: int = 0) -> Path2:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, sigma_px, (10_000, 2))

    def at(t: float) -> tuple[float, float] | None:
        p = path(t)
        if p is None:
            return None
        dx, dy = noise[round(t * FPS) % len(noise)]
        return p[0] + dx, p[1] + dy

    return at


def unseen(path: Path2, start_s: float, end_s: float) -> Path2:
    return lambda t: None if start_s <= t < end_s else path(t)


def then(first: Path2, switch_s: float, second: Path2) -> Path2:
    return lambda t: first(t) if t < switch_s else second(t)


def run(
    people: dict[int, Path2],
    duration_s: float,
    zones: tuple[ZoneConfig, ...] = (),
    cfg: WanderingConfig | None = None,
    hour: int = 14,
    height: float = H,
    lying: bool = False,
) -> list[BehaviourEvent]:
    """Feed the people's paths as scenes at `FPS` to a detector; its events, in order."""
    detector = WanderingDetector(cfg or WanderingConfig(), zones)
    tracks: dict[int, Track] = {}
    events: list[BehaviourEvent] = []
    kp = np.zeros((NUM_KEYPOINTS, 2), np.float32)
    ks = np.full(NUM_KEYPOINTS, 0.9, np.float32)
    for i in range(round(duration_s * FPS) + 1):
        t = i / FPS
        for tid, path in people.items():
            p = path(t)
            if p is None:
                continue
            x, y = p
            w, h = (height, 0.3 * height) if lying else (0.38 * height, height)
            box = np.array([x - w / 2, y - h, x + w / 2, y], np.float32)
            track = tracks.setdefault(tid, Track(tid, "cam"))
            track.history.append(TrackPoint(t, i, box, 0.9, kp, ks))
        ended = tuple(tid for tid, tr in tracks.items() if t - tr.last_seen > LOST_S)
        for tid in ended:
            del tracks[tid]
        scene = Scene("cam", i, t, local(hour) + t, FRAME, tuple(tracks.values()), ended)
        events += detector.update(scene)
    return events


def cases(rows: list[tuple[Any, ...]]) -> list[Any]:
    """Table rows as pytest params named by their first column (the case's description)."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


def kinds(events: list[BehaviourEvent]) -> list[tuple[str, str | None]]:
    return [(e.kind, e.zone) for e in events]


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pacing_min_reversals": 0}, "greater than or equal to 1"),
        ({"pacing_min_leg_heights": 0}, "greater than 0"),
        ({"pacing_min_path_ratio": 0.5}, "greater than or equal to 1"),
        ({"smoothing_s": -1}, "greater than or equal to 0"),
        ({"restricted_confirm_s": 61}, "less than or equal to 60"),
        ({"default_dwell_limit_s": 0}, "greater than 0"),
        ({"pacing_min_duration_s": 90, "pacing_window_s": 60}, "must not exceed pacing_window_s"),
        ({"pacing_max_leg_s": 61}, "must not exceed pacing_window_s"),
        ({"events": ["loitering", "sleepwalking"]}, "'pacing'"),
        ({"default_dwell_zone_types": ["hall"]}, "'corridor'"),
        ({"dwell_s": 30}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WanderingConfig.model_validate(changes)


def test_every_setting_has_a_description() -> None:
    for name, info in WanderingConfig.model_fields.items():
        assert info.description, name


@pytest.mark.parametrize(("enabled", "count"), [(True, 1), (False, 0)])
def test_the_registry_builds_the_detector_when_enabled(enabled: bool, count: int) -> None:
    cfg = BehavioursConfig.model_validate({"wandering": {"enabled": enabled}})
    hall = zone("hall", "corridor", HALL)
    found = [d for d in build_detectors(cfg, (hall,)) if isinstance(d, WanderingDetector)]
    assert len(found) == count
    if found:
        assert found[0].kind == "wandering" and found[0].zones == (hall,)


# --------------------------------------------------------------------------- loitering

HALL_10 = zone("hall", "corridor", HALL, dwell_limit_s=10)


@pytest.mark.parametrize(
    ("case", "zones", "path", "cfg", "hour", "entries"),
    cases(
        [
            ("stands in a zone over its limit", (HALL_10,), still(320, 400), {}, 14, [0]),
            ("stands just under the limit", (HALL_10,), still(320, 400, until_s=9.6), {}, 14, []),
            ("stands outside the zone", (HALL_10,), still(100, 400), {}, 14, []),
            (
                "walks through in 3 s",
                (HALL_10,),
                keyframes((0, 100, 400), (3, 600, 400)),
                {},
                14,
                [],
            ),
            (
                "zone without a limit",
                (zone("hall", "corridor", HALL),),
                still(320, 400),
                {},
                14,
                [],
            ),
            (
                "corridor gets the default limit",
                (zone("hall", "corridor", HALL),),
                still(320, 400),
                {"default_dwell_limit_s": 10},
                14,
                [0],
            ),
            (
                "a room does not get the corridor default",
                (zone("hall", "room", HALL),),
                still(320, 400),
                {"default_dwell_limit_s": 10},
                14,
                [],
            ),
            (
                "a bed never gets the default",
                (zone("hall", "bed", HALL),),
                still(320, 400),
                {"default_dwell_limit_s": 10, "default_dwell_zone_types": ["corridor", "room"]},
                14,
                [],
            ),
            (
                "zone inactive by time window",
                (
                    zone(
                        "hall",
                        "corridor",
                        HALL,
                        dwell_limit_s=10,
                        active=[{"start": "08:00", "end": "20:00"}],
                    ),
                ),
                still(320, 400),
                {},
                23,
                [],
            ),
            (
                "zone active by time window",
                (
                    zone(
                        "hall",
                        "corridor",
                        HALL,
                        dwell_limit_s=10,
                        active=[{"start": "08:00", "end": "20:00"}],
                    ),
                ),
                still(320, 400),
                {},
                10,
                [0],
            ),
            ("unseen 2 s: dwell kept", (HALL_10,), unseen(still(320, 400), 4, 6), {}, 14, [0]),
            (
                "unseen 2.8 s then out: dwell reset",
                (HALL_10,),
                then(still(320, 400), 6, still(100, 400, since_s=8.8)),
                {},
                14,
                [],
            ),
            (
                "leaves for 5 s and comes back: a second stay",
                (HALL_10,),
                then(still(320, 400), 12, then(still(100, 400), 17, still(320, 400))),
                {},
                14,
                [0, 17],
            ),
            (
                "disabled by events",
                (HALL_10,),
                still(320, 400),
                {"events": ["pacing"]},
                14,
                [],
            ),
        ]
    ),
)
def test_loitering(
    case: str,
    zones: tuple[ZoneConfig, ...],
    path: Path2,
    cfg: dict[str, Any],
    hour: int,
    entries: list[float],
) -> None:
    """`entries`: when each stay that must raise loitering began (the limit is 10 s)."""
    events = run({1: jitter(path, 2.0)}, 32, zones, WanderingConfig(**cfg), hour=hour)
    assert kinds(events) == [("loitering", "hall")] * len(entries), case
    for event, entered in zip(events, entries, strict=True):
        assert event.started_at == pytest.approx(entered, abs=0.3)
        assert event.detected_at == pytest.approx(entered + 10, abs=0.3)  # the zone's limit
        assert event.evidence["dwell_s"] >= 10
        assert event.evidence["dwell_limit_s"] == 10
        assert event.evidence["zone_type"] in ("corridor", "room")
        assert event.track_ids == (1,)
        assert 0.5 <= event.confidence <= 1


def test_loitering_names_where_the_limit_came_from() -> None:
    [own] = run({1: still(320, 400)}, 12, (HALL_10,))
    [default] = run(
        {1: still(320, 400)},
        12,
        (zone("hall", "corridor", HALL),),
        WanderingConfig(default_dwell_limit_s=10),
    )
    assert own.evidence["limit_from"] == "zone"
    assert default.evidence["limit_from"] == "default"


def test_one_stay_raises_loitering_once() -> None:
    events = run({1: jitter(still(320, 400), 3.0)}, 120, (HALL_10,))
    assert kinds(events) == [("loitering", "hall")]


def test_a_person_walking_along_the_zone_edge_is_not_in_it() -> None:
    # The ground point is inside in one sighting out of three (box jitter across the edge).
    def edge(t: float) -> tuple[float, float]:
        return 320, 286.0 + (6 if round(t * FPS) % 3 == 0 else -6)

    assert run({1: edge}, 30, (HALL_10,)) == []


def test_an_ended_track_is_forgotten() -> None:
    # Track 1 stands 8 s, is lost for 4 s (the track ends after 3 s), then the same id stands
    # 8 s more. The 10 s grace would bridge the gap, so only forgetting the ended track keeps
    # the two stays of 8 s apart (never 10 s).
    path = then(still(320, 400, until_s=8), 12, still(320, 400))
    cfg = WanderingConfig(handover_max_gap_s=0, zone_grace_s=10)
    assert run({1: path}, 20, (HALL_10,), cfg) == []


def test_a_new_id_for_the_same_person_continues_the_stay() -> None:
    first = still(320, 400, until_s=6)
    second = still(330, 402, since_s=7)
    events = run({1: first, 2: second}, 12, (HALL_10,))
    assert kinds(events) == [("loitering", "hall")]
    assert events[0].track_ids == (2,)
    assert events[0].evidence["continued_from"] == [1]
    assert events[0].started_at == 0


@pytest.mark.parametrize(
    ("case", "second", "cfg"),
    cases(
        [
            ("starts far away", still(600, 440, since_s=7), {}),
            ("starts 3 s later", still(330, 402, since_s=9.2), {}),
            ("handover off", still(330, 402, since_s=7), {"handover_max_gap_s": 0}),
        ]
    ),
)
def test_a_new_id_elsewhere_or_later_starts_afresh(
    case: str, second: Path2, cfg: dict[str, Any]
) -> None:
    events = run({1: still(320, 400, until_s=6), 2: second}, 14, (HALL_10,), WanderingConfig(**cfg))
    assert events == [], case


# --------------------------------------------------------------------------- pacing


@pytest.mark.parametrize(
    ("case", "path", "height", "expected"),
    cases(
        [
            ("corridor there and back", there_and_back((150, 400), (490, 400), 2.5, 40), H, True),
            ("far and small", there_and_back((250, 200), (350, 200), 3.0, 40), 50.0, True),
            ("toward and away", there_and_back((320, 250), (320, 470), 2.0, 40), H, True),
            ("round and round", circle((320, 350), 200, 10.0, 40), H, True),
            (
                "noisy there and back",
                jitter(there_and_back((150, 400), (490, 400), 2.5, 40), 6),
                H,
                True,
            ),
            ("walks the corridor once, slowly", keyframes((0, 10, 400), (40, 630, 400)), H, False),
            ("stands swaying", jitter(still(320, 400), 8), H, False),
            ("paces only 10 s", there_and_back((150, 400), (490, 400), 2.5, 10), H, False),
            (
                "stands, paces 10 s, stands",
                then(
                    still(150, 400),
                    20,
                    then(
                        there_and_back((150, 400), (490, 400), 2.5, 30, t0=20), 30, still(150, 400)
                    ),
                ),
                H,
                False,
            ),
            (
                "sways in place, legs of 0.3 heights",
                there_and_back((300, 400), (351, 400), 1.0, 40),
                H,
                False,
            ),
            ("there and back once", there_and_back((50, 400), (600, 400), 12.0, 24), H, False),
            ("long corridor, 20 s legs", there_and_back((20, 400), (620, 400), 20.0, 60), H, False),
            (
                "L-shaped walk",
                keyframes((0, 20, 450), (15, 600, 450), (30, 600, 250)),
                H,
                False,
            ),
        ]
    ),
)
def test_pacing(case: str, path: Path2, height: float, expected: bool) -> None:
    events = run({1: path}, 60, height=height)
    assert kinds(events) == ([("pacing", None)] if expected else []), case
    if expected:
        event = events[0]
        cfg = WanderingConfig()
        assert event.evidence["reversals"] >= cfg.pacing_min_reversals
        assert event.evidence["path_ratio"] >= cfg.pacing_min_path_ratio
        assert event.evidence["duration_s"] >= cfg.pacing_min_duration_s
        assert event.detected_at - event.started_at >= event.evidence["duration_s"]
        assert event.evidence["body_height_px"] == pytest.approx(height, rel=0.05)
        assert 0.5 <= event.confidence <= 1


def test_loops_are_counted_as_loops() -> None:
    [event] = run({1: circle((320, 350), 200, 10.0, 40)}, 41)
    assert event.evidence["loops"] >= 1.5
    [event] = run({1: there_and_back((150, 400), (490, 400), 2.5, 40)}, 41)
    assert event.evidence["loops"] < 0.5


def test_pacing_names_the_zone_it_happens_in() -> None:
    hall = zone("corridor", "corridor", rect(0.0, 0.6, 1.0, 1.0))
    bed = zone("bed", "bed", rect(0.0, 0.6, 1.0, 1.0))
    path = there_and_back((150, 400), (490, 400), 2.5, 40)
    assert kinds(run({1: path}, 40, (hall,))) == [("pacing", "corridor")]
    assert kinds(run({1: path}, 40, (bed,))) == [("pacing", None)]  # never attributed to a bed
    elsewhere = zone("office", "room", rect(0.0, 0.0, 1.0, 0.3))
    assert kinds(run({1: path}, 40, (elsewhere,))) == [("pacing", None)]


def test_one_pacing_episode_is_one_event_and_a_new_one_rearms() -> None:
    long = there_and_back((150, 400), (490, 400), 2.5, 90)
    assert kinds(run({1: long}, 90)) == [("pacing", None)]
    # 25 s of pacing, a 30 s rest, 25 s of pacing again: two episodes.
    first = there_and_back((150, 400), (490, 400), 2.5, 25)
    second = there_and_back((150, 400), (490, 400), 2.5, 85, t0=60)
    both = then(first, 25, then(still(150, 400), 60, second))
    events = run({1: both}, 85)
    assert kinds(events) == [("pacing", None)] * 2
    assert events[1].started_at >= 50


def test_pacing_continues_through_a_new_track_id() -> None:
    path = there_and_back((150, 400), (490, 400), 2.5, 40)
    events = run(
        {1: lambda t: path(t) if t < 12 else None, 2: lambda t: path(t) if t >= 13 else None}, 40
    )
    assert kinds(events) == [("pacing", None)]
    assert events[0].track_ids == (2,) and events[0].evidence["continued_from"] == [1]
    assert events[0].started_at < 12


@pytest.mark.parametrize(
    ("xs", "min_leg", "turns"),
    [
        ([0, 1, 2, 3, 4, 5], 0.5, []),  # straight
        ([0, 1, 2, 1, 0], 0.5, [2]),  # there and back
        ([0, 2, 0, 2, 0, 2], 0.5, [1, 2, 3, 4]),
        ([0, 0.2, 0, 0.2, 0, 0.2], 0.5, []),  # jitter under min_leg
        ([0, 1, 0.8, 1.6, 1.4, 2.2], 0.5, []),  # two steps on, one back: still going on
        ([0, 2, 1.6, 2.4], 0.5, []),
    ],
)
def test_turning_points(xs: list[float], min_leg: float, turns: list[int]) -> None:
    xy = np.array([[x, 0.0] for x in xs])
    assert turning_points(xy, min_leg) == turns


def test_the_chain_is_cut_by_a_long_leg() -> None:
    # 30 s walking on, then three 2 s legs: only the short legs chain up.
    t = np.array([0.0, 30.0, 32.0, 34.0, 36.0])
    xy = np.array([[0.0, 0], [10, 0], [8, 0], [10, 0], [8, 0]])
    chain = pacing_chain(t, xy, min_leg=0.5, max_leg_s=15)
    assert chain is not None
    assert chain.start_t == 30.0 and chain.reversals == 2
    assert pacing_chain(t[:2], xy[:2], min_leg=0.5, max_leg_s=15) is None  # one 30 s leg


# --------------------------------------------------------------------------- restricted entry

OFFICE = zone("office", "restricted", rect(0.7, 0.6, 0.97, 0.95))  # x 448-621, y 288-456


@pytest.mark.parametrize(
    ("case", "office", "path", "hour", "cfg", "count"),
    cases(
        [
            (
                "walks in and stays 4 s",
                OFFICE,
                keyframes((0, 300, 400), (1, 520, 400), (5, 520, 400)),
                14,
                {},
                1,
            ),
            (
                "stays 60 s: once",
                OFFICE,
                keyframes((0, 300, 400), (1, 520, 400), (60, 520, 400)),
                14,
                {},
                1,
            ),
            (
                "in for 0.6 s",
                OFFICE,
                keyframes((0, 300, 400), (1, 470, 400), (1.6, 470, 400), (2.6, 300, 400)),
                14,
                {},
                0,
            ),
            ("walks past", OFFICE, keyframes((0, 300, 250), (5, 620, 250)), 14, {}, 0),
            (
                "zone off by time window",
                zone(
                    "office",
                    "restricted",
                    OFFICE.polygon,
                    active=[{"start": "08:00", "end": "20:00"}],
                ),
                keyframes((0, 300, 400), (1, 520, 400), (5, 520, 400)),
                23,
                {},
                0,
            ),
            (
                "not wanted",
                OFFICE,
                keyframes((0, 300, 400), (1, 520, 400), (5, 520, 400)),
                14,
                {"events": ["pacing"]},
                0,
            ),
            (
                "confirm 0",
                OFFICE,
                keyframes((0, 300, 400), (1, 470, 400), (1.2, 470, 400), (2.2, 300, 400)),
                14,
                {"restricted_confirm_s": 0},
                1,
            ),
        ]
    ),
)
def test_restricted_entry(
    case: str, office: ZoneConfig, path: Path2, hour: int, cfg: dict[str, Any], count: int
) -> None:
    events = run({1: path}, 60, (office,), WanderingConfig(**cfg), hour=hour)
    assert kinds(events) == [("restricted_entry", "office")] * count, case
    for event in events:
        assert event.evidence["inside_s"] >= event.evidence["restricted_confirm_s"]
        assert event.detected_at - event.started_at >= event.evidence["restricted_confirm_s"]


# --------------------------------------------------------------------------- night movement


@pytest.mark.parametrize(
    ("case", "zone_", "path", "hour", "lying", "count"),
    cases(
        [
            (
                "walks a corridor at night",
                zone("hall", "corridor", HALL, night=NIGHT),
                keyframes((0, 150, 400), (6, 500, 400)),
                23,
                False,
                1,
            ),
            (
                "after midnight",
                zone("hall", "corridor", HALL, night=NIGHT),
                keyframes((0, 150, 400), (6, 500, 400)),
                3,
                False,
                1,
            ),
            (
                "walks it by day",
                zone("hall", "corridor", HALL, night=NIGHT),
                keyframes((0, 150, 400), (6, 500, 400)),
                14,
                False,
                0,
            ),
            (
                "no night window",
                zone("hall", "corridor", HALL),
                keyframes((0, 150, 400), (6, 500, 400)),
                23,
                False,
                0,
            ),
            (
                "lies in bed at night, turning",
                zone("bed", "bed", HALL, night=NIGHT),
                jitter(still(320, 380), 8),
                23,
                True,
                0,
            ),
            (
                "stands in the bed zone at night",
                zone("bed", "bed", HALL, night=NIGHT),
                jitter(still(320, 380), 6),
                23,
                False,
                0,
            ),
            (
                "gets out of bed and walks off",
                zone("bed", "bed", HALL, night=NIGHT),
                keyframes((0, 320, 380), (10, 320, 380), (14, 630, 470)),
                1,
                False,
                1,
            ),
            (
                "walks at night outside the zone",
                zone("hall", "corridor", HALL, night=NIGHT),
                keyframes((0, 150, 150), (6, 500, 150)),
                23,
                False,
                0,
            ),
        ]
    ),
)
def test_night_movement(
    case: str, zone_: ZoneConfig, path: Path2, hour: int, lying: bool, count: int
) -> None:
    events = run({1: path}, 30, (zone_,), hour=hour, lying=lying)
    assert kinds(events) == [("night_movement", zone_.name)] * count, case
    for event in events:
        assert event.evidence["night_window"] == "22:00-06:00"
        assert event.evidence["displacement_heights"] >= 0.5


# --------------------------------------------------------------------------- exit approach

DOOR = zone("door", "exit", rect(0.0, 0.3, 0.1, 1.0))  # x 0-64


@pytest.mark.parametrize(
    ("case", "path", "count", "entered"),
    cases(
        [
            (
                "walks to the door and out",
                keyframes((0, 450, 400), (4, 450, 400), (8, -10, 400)),
                1,
                False,
            ),
            (
                "runs in from the side",
                keyframes((0, 120, 400), (0.6, 20, 400), (3, 20, 400)),
                1,
                True,
            ),
            ("walks past the door", keyframes((0, 300, 160), (8, 300, 470)), 0, False),
            ("comes in through the door", keyframes((0, 20, 400), (6, 500, 400)), 0, False),
            ("stands near the door", jitter(still(200, 400), 4), 0, False),
        ]
    ),
)
def test_exit_approach(case: str, path: Path2, count: int, entered: bool) -> None:
    events = run({1: path}, 12, (DOOR,))
    assert kinds(events) == [("exit_approach", "door")] * count, case
    for event in events:
        assert event.evidence["entered"] is entered
        assert event.evidence["distance_heights"] <= 1.5


# --------------------------------------------------------------------------- the evidence


def test_every_event_carries_readable_evidence() -> None:
    zones = (
        HALL_10,
        OFFICE,
        DOOR,
        zone("night", "corridor", rect(0.0, 0.0, 1.0, 0.5), night=NIGHT),
    )
    people = {
        1: still(320, 400),  # loiters in the hall
        2: keyframes((0, 400, 300), (2, 540, 300), (20, 540, 300)),  # into the office
        3: keyframes((0, 300, 200), (8, 300, 200), (12, 200, 400), (16, 10, 400)),  # night, exit
        4: there_and_back((100, 150), (400, 150), 2.5, 40),  # paces in the night zone
    }
    events = run(people, 40, zones, hour=23)
    assert {e.kind for e in events} == {
        "loitering",
        "restricted_entry",
        "night_movement",
        "exit_approach",
        "pacing",
    }
    for event in events:
        json.dumps(event.evidence)  # a guard's screen and the events file can show it
        assert event.camera_id == "cam"
        assert 0 <= event.confidence <= 1
        assert event.started_at <= event.detected_at
        assert event.evidence["body_height_px"] > 0


# --------------------------------------------------------------------------- scenarios


def test_every_synthetic_scenario_scores_right() -> None:
    results = score_scenarios()
    wrong = [r.scenario for r in results if not r.right]
    assert wrong == []
    assert {e.kind for r in results for e in r.expected} == {
        "loitering",
        "pacing",
        "restricted_entry",
        "night_movement",
        "exit_approach",
    }
    assert sum(not r.expected for r in results) >= 8  # negatives
    text = format_markdown(results)
    assert text.startswith("Wandering: every synthetic scenario scored right")
    assert text.count("| right |") == len(results)
    data = json.loads(json.dumps([dataclasses.asdict(r) for r in results]))  # the eval's JSON
    assert data[0]["right"] is True and data[0]["raised"][0]["kind"] == "pacing"


def test_scoring_catches_misses_and_extra_events() -> None:
    scenario = next(s for s in build_scenarios() if s.name == "pacing_corridor_near")
    missed = score(scenario, [])
    assert not missed.right and len(missed.missed) == 1
    stray = BehaviourEvent("loitering", "synthetic", (1,), 1.0, 5.0, 1.0, "corridor")
    late = BehaviourEvent("pacing", "synthetic", (1,), 1.0, 99.0, 1.0, "corridor")
    extra = score(scenario, [stray, late])
    assert not extra.right and extra.unexpected == (stray, late)
    assert "**wrong**" in format_markdown([extra])
    assert format_markdown([extra]).startswith("Wandering: 0 of 1 synthetic scenarios")


def test_scenarios_score_a_camera_config_and_notice_a_disabled_rule() -> None:
    cfg = BehavioursConfig.model_validate({"wandering": {"events": ["loitering"]}})
    results = {r.scenario: r for r in score_scenarios(cfg)}
    assert not results["pacing_corridor_near"].right
    assert results["loitering_with_limit"].right
    assert results["passing_through"].right


def test_expected_events_match_kind_zone_and_time() -> None:
    want = ExpectedEvent("pacing", "corridor", 10, 20)
    event = BehaviourEvent("pacing", "c", (1,), 0.0, 15.0, 1.0, "corridor")
    assert want.matches(event)
    assert not want.matches(BehaviourEvent("pacing", "c", (1,), 0.0, 25.0, 1.0, "corridor"))
    assert not want.matches(BehaviourEvent("pacing", "c", (1,), 0.0, 15.0, 1.0, None))
    assert not want.matches(BehaviourEvent("loitering", "c", (1,), 0.0, 15.0, 1.0, "corridor"))


# --------------------------------------------------------------------------- real footage

ANALYSIS_FPS = 5.0


def _perceptions(name: str, estimator: OnnxPoseEstimator) -> list[Perception]:
    """The clip's poses at 5 analysed frames a second: from the evaluation cache when it holds
    the clip (seconds), else by running the real pose model on those frames only (~15 s)."""
    path = shared_clip(name)
    if cache_path(path, estimator, eval_cache_dir()).exists():
        clip = load_or_compute(path, estimator)
        return [clip.perception("real", i) for i in analysed_indices(clip, ANALYSIS_FPS)]
    return list(_run_model(path, estimator))


def _run_model(path: Path, estimator: OnnxPoseEstimator) -> Iterator[Perception]:
    source = open_source(CameraConfig(id="real", source=str(path), realtime=False))
    next_t, index = -np.inf, 0
    try:
        while (item := source.read()) is not None:
            image, t = item
            if t >= next_t - 1e-3:
                next_t = t + 1 / ANALYSIS_FPS
                size = (int(image.shape[1]), int(image.shape[0]))
                yield Perception(
                    "real", index, t, size, estimator.infer_image(image), thumbnail(image)
                )
            index += 1
    finally:
        source.close()


@pytest.fixture(scope="module")
def real(estimator: OnnxPoseEstimator) -> Callable[[str], list[Perception]]:
    seen: dict[str, list[Perception]] = {}

    def get(name: str) -> list[Perception]:
        if name not in seen:
            seen[name] = _perceptions(name, estimator)
        return seen[name]

    return get


def analyse(frames: list[Perception], zones: tuple[ZoneConfig, ...] = ()) -> list[BehaviourEvent]:
    analyzer = Analyzer(
        "real",
        PoseTracker("real", TrackerConfig()),
        [WanderingDetector(WanderingConfig(), zones)],
        wall_start=local(14),
    )
    return [e for f in frames for e in analyzer.step(f).events]


WALKS = [f"upfall_A06_S1_T{t}_C{c}.mp4" for t in (1, 2) for c in (1, 2)]
STANDS = [f"upfall_A07_S1_T{t}_C{c}.mp4" for t in (1, 2) for c in (1, 2)]
LIES = "upfall_A11_S1_T1_C2.mp4"  # walks to the mattress, lies down on purpose for ~40 s


@pytest.mark.slow
@pytest.mark.parametrize("clip", WALKS)
def test_real_walking_loops_count_as_pacing(
    real: Callable[[str], list[Perception]], clip: str
) -> None:
    events = analyse(real(clip))
    assert {e.kind for e in events} == {"pacing"}, [(e.kind, e.evidence) for e in events]
    pacing = [e for e in events if e.kind == "pacing"]
    assert len(pacing) == 1  # one person, one episode
    assert pacing[0].detected_at < 40  # the clip is 45 s of loops
    assert pacing[0].evidence["reversals"] >= WanderingConfig().pacing_min_reversals


@pytest.mark.slow
@pytest.mark.parametrize("clip", STANDS)
@pytest.mark.parametrize(
    ("case", "zones", "loiters"),
    cases(
        [
            ("no zones", (), False),
            ("a room without a dwell limit", (zone("room", "room", WHOLE),), False),
            ("a dwell limit of 20 s", (zone("room", "room", WHOLE, dwell_limit_s=20),), True),
            (
                "a dwell limit where nobody stands",
                (zone("room", "room", rect(0.0, 0.0, 0.15, 0.15), dwell_limit_s=20),),
                False,
            ),
        ]
    ),
)
def test_real_standing_loiters_only_where_a_dwell_limit_is_set(
    real: Callable[[str], list[Perception]],
    clip: str,
    case: str,
    zones: tuple[ZoneConfig, ...],
    loiters: bool,
) -> None:
    events = analyse(real(clip), zones)
    assert {e.kind for e in events} == ({"loitering"} if loiters else set()), case
    for event in events:
        assert event.zone == "room"
        assert 20 <= event.evidence["dwell_s"] < 25


@pytest.mark.slow
def test_real_lying_down_for_40_s_is_no_wandering(
    real: Callable[[str], list[Perception]],
) -> None:
    assert analyse(real(LIES)) == []
