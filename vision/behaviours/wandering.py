"""Wandering: loitering, pacing, restricted zones, movement at night and heading for the exit.

`WanderingDetector(cfg, zones).update(scene)` follows every tracked person's *ground point* (the
middle of the bottom edge of their box, where the feet are) through the camera's zones. Distances
are measured in *body heights*, the median over the last few seconds of the larger side of the
person's box (a standing person's height, a lying person's length), so a rule behaves the same
for someone near the camera and someone far away.

Events (`BehaviourEvent.kind`), each raised once per episode and person; an episode ends, and the
rule re-arms, when its condition has been false for `rearm_s` (for zone stays: when the person
has been out of the zone, or unseen, for longer than `zone_grace_s`):

`loitering`
    The person's ground point has stayed in a zone for longer than its dwell limit: the zone's own
    `dwell_limit_s`, else `default_dwell_limit_s` for zones of `default_dwell_zone_types`. Zones
    without a limit never raise it (standing in a room is living there). `started_at` = entering.
    Evidence: `dwell_s`, `dwell_limit_s`, `limit_from` ("zone" or "default"), `inside_fraction`.
`pacing`
    Repeated back-and-forth or looping movement: on the smoothed ground-point track, a *reversal*
    is the person getting at least `pacing_min_leg_heights` away from where the current leg
    began and then coming back toward that point by as much again (direction-free, so a loop
    round a room counts two reversals a lap, like a corridor there-and-back). Raised when the
    latest chain of legs, none longer than `pacing_max_leg_s`, has at least
    `pacing_min_reversals` reversals, lasts `pacing_min_duration_s` (from its first leg to the
    last progress made, so a rest afterwards does not count) and its path is at least
    `pacing_min_path_ratio` times longer than its net displacement (floored at one body
    height). `zone` is the active zone holding most of the chain, else None. `started_at` = the
    chain's first leg. Evidence: `reversals`, `path_ratio`, `path_length_heights`,
    `net_displacement_heights`, `duration_s`, `loops` (net laps round the path's centre),
    `mean_speed_heights_s`, `longest_leg_s`.
`restricted_entry`
    The ground point is inside a zone of type `restricted` for `restricted_confirm_s`.
    Evidence: `inside_s`, `inside_fraction`.
`night_movement`
    During one of a zone's `night` windows (local time of `Scene.wall_time`), a person in the zone
    moved at least `night_min_displacement_heights` within `night_window_s` (starting or ending
    in the zone, so getting out of bed and walking away counts). Lying or standing still, turning
    over in bed, does not. Evidence: `displacement_heights`, `night_window`, `local_time`.
`exit_approach`
    A person walks into a zone of type `exit` (having been seen outside it first, so someone coming
    in through the door does not count) and stays `exit_confirm_s`, or comes within
    `exit_approach_distance_heights` of it having got `exit_min_approach_heights` closer over the
    last `exit_approach_s`. Evidence: `entered`, `distance_heights`, `approached_heights`.

Every event's evidence also holds `zone_type` (zone events), `body_height_px`, the thresholds in
force, and `continued_from` (earlier track ids of the same person, see below) when not empty.

Confidence (0-1): loitering and restricted entry, the fraction of the stay's sightings that were
inside the zone; pacing, 0.5 at the thresholds rising to 1 at twice the reversals and path ratio
needed; night movement, the displacement over twice its threshold; exit approach, 1 for walking
in, 0.5-1 for an approach (nearer = higher).

Bed zones: no rule treats lying or standing in a bed as wandering. A bed zone never loiters
unless it sets its own `dwell_limit_s`; pacing is never attributed to a bed zone; a bed zone with
a night window reports someone getting up and walking off at night (`night_movement`), not
someone lying or standing still in it.

Zones outside their `active` windows are ignored, and a stay in them starts afresh when they open.
Occlusion: a person unseen for up to `zone_grace_s` keeps their dwell. When the tracker gives
the same person a new id (a new track starting within `handover_max_gap_s` of a track that is no
longer seen, and within `handover_max_distance_heights` plus `handover_max_speed_heights_s` per
second of that gap from where it was last), the new id inherits the old one's history, dwell and
episodes, so dwell and pacing survive the switch and an episode is not raised twice. OC-SORT at
5 fps loses a pacing person now and then at a turn, when a missed detection meets a reversal.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from vision.configbase import StrictModel
from vision.types import BehaviourEvent, Scene, Track
from vision.zones import ZoneConfig, ZoneMap, ZoneType, ground_point

WanderingKind = Literal[
    "loitering", "pacing", "restricted_entry", "night_movement", "exit_approach"
]
WANDERING_KINDS: tuple[WanderingKind, ...] = get_args(WanderingKind)

Array = npt.NDArray[np.float64]

MIN_INSIDE_FRACTION = 0.5
"""A stay raises loitering or restricted entry only if most of its sightings were inside (a person
walking along a zone's edge, in and out of it, is not in it)."""

_SAMPLE_S = 0.1
"""Trajectory points are kept at most this often (analysis above 10 fps adds nothing)."""

_SIZE_POINTS = 25
"""Body height = median box size over this many recent points."""


class WanderingConfig(StrictModel):
    """Wandering detection settings: loitering, pacing, restricted and exit zones, night movement.

    Distances are in body heights (the larger side of the person's box), times in seconds.
    """

    enabled: bool = Field(True, description="Whether wandering is detected on this camera.")
    events: tuple[WanderingKind, ...] = Field(
        WANDERING_KINDS,
        max_length=len(WANDERING_KINDS),
        description=(
            "Which wandering events are raised: loitering, pacing, restricted_entry, "
            "night_movement, exit_approach."
        ),
    )
    zone_grace_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description=(
            "A person unseen (occluded) or outside a zone for up to this long still counts as "
            "staying in it; longer ends the stay and resets its dwell."
        ),
    )
    default_dwell_limit_s: float | None = Field(
        None,
        gt=0,
        le=86_400,
        description=(
            "Dwell limit for zones of default_dwell_zone_types that set no dwell_limit_s of their "
            "own; None: only zones with their own dwell_limit_s raise loitering."
        ),
    )
    default_dwell_zone_types: tuple[ZoneType, ...] = Field(
        ("corridor",),
        max_length=7,
        description="Zone types that default_dwell_limit_s applies to.",
    )
    restricted_confirm_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How long a person must be inside a restricted zone before it is reported.",
    )
    pacing_window_s: float = Field(
        60.0,
        ge=5,
        le=600,
        description="How much of each person's recent path pacing is looked for in.",
    )
    pacing_min_reversals: int = Field(
        4,
        ge=1,
        le=100,
        description="Turns back (there-and-back, or half a loop) needed to call it pacing.",
    )
    pacing_min_leg_heights: float = Field(
        0.5,
        gt=0,
        le=20,
        description=(
            "A turn counts only after the person got this far from where the leg began and came "
            "back as much (body heights); smaller sways are not pacing."
        ),
    )
    pacing_max_leg_s: float = Field(
        15.0,
        gt=0,
        le=600,
        description="A leg longer than this (a long walk or a rest) breaks a pacing chain.",
    )
    pacing_min_path_ratio: float = Field(
        2.0,
        ge=1,
        le=100,
        description=(
            "Path length over net displacement (floored at one body height) the chain needs: "
            "walking somewhere is about 1."
        ),
    )
    pacing_min_duration_s: float = Field(
        15.0, gt=0, le=3600, description="How long the pacing must have lasted to be reported."
    )
    smoothing_s: float = Field(
        0.5,
        ge=0,
        le=5,
        description="Time constant of the smoothing of the ground point before pacing (0 = none).",
    )
    night_window_s: float = Field(
        3.0, gt=0, le=60, description="Night movement is measured over this many seconds."
    )
    night_min_displacement_heights: float = Field(
        0.5,
        gt=0,
        le=20,
        description="How far (body heights) someone must move within night_window_s at night.",
    )
    exit_confirm_s: float = Field(
        0.4,
        ge=0,
        le=60,
        description="How long someone must be inside an exit zone, after walking in, to count.",
    )
    exit_approach_distance_heights: float = Field(
        1.5,
        ge=0,
        le=20,
        description="Approaching an exit counts within this distance of it (body heights).",
    )
    exit_approach_s: float = Field(
        2.0, gt=0, le=30, description="The approach to an exit is measured over this many seconds."
    )
    exit_min_approach_heights: float = Field(
        0.5,
        gt=0,
        le=20,
        description="How much closer to the exit (body heights) within exit_approach_s counts.",
    )
    rearm_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description=(
            "A behaviour must have stopped this long before the same person can raise it again "
            "(one pacing, night movement or exit episode = one event)."
        ),
    )
    handover_max_gap_s: float = Field(
        2.0,
        ge=0,
        le=30,
        description=(
            "A new track starting within this time of another track's last sighting (and near "
            "it) continues that person's dwell and pacing; 0 = never."
        ),
    )
    handover_max_distance_heights: float = Field(
        1.0,
        ge=0,
        le=10,
        description=(
            "How near (body heights) a new track must start to continue a lost one, plus "
            "handover_max_speed_heights_s for every second between the two sightings."
        ),
    )
    handover_max_speed_heights_s: float = Field(
        1.5,
        ge=0,
        le=10,
        description="Walking speed (body heights/s) allowed for while nobody was seen.",
    )

    @model_validator(mode="after")
    def _windows_hold_rules(self) -> WanderingConfig:
        for name in ("pacing_min_duration_s", "pacing_max_leg_s"):
            if getattr(self, name) > self.pacing_window_s:
                raise ValueError(f"{name} must not exceed pacing_window_s ({self.pacing_window_s})")
        return self


# --------------------------------------------------------------------------- per-track state


@dataclass
class _Point:
    t: float
    raw: tuple[float, float]
    smooth: tuple[float, float]
    size: float


@dataclass
class _Stay:
    """One person's presence in one zone: from `since` to `last_inside`, gaps up to the grace."""

    since: float
    last_inside: float
    from_outside: bool
    inside_n: int = 0
    seen_n: int = 0
    fired: set[str] = field(default_factory=set)

    @property
    def inside_fraction(self) -> float:
        return self.inside_n / max(1, self.seen_n)


@dataclass
class _Episode:
    """A behaviour that fires once: held since `started_at`, last true at `last_true`."""

    started_at: float
    last_true: float
    fired: bool = False


@dataclass
class _TrackState:
    last_t: float
    raw: tuple[float, float]
    smooth: tuple[float, float]
    points: deque[_Point] = field(default_factory=deque)
    stays: dict[str, _Stay] = field(default_factory=dict)
    episodes: dict[tuple[str, str | None], _Episode] = field(default_factory=dict)
    outside_of: set[str] = field(default_factory=set)
    continued_from: list[int] = field(default_factory=list)
    handed_over: bool = False

    def body_px(self) -> float:
        sizes = [p.size for p in itertools.islice(reversed(self.points), _SIZE_POINTS)]
        return float(np.median(sizes)) if sizes else 1.0


@dataclass(frozen=True)
class _Chain:
    """The latest run of pacing legs on a trajectory.

    `duration_s` runs from the first leg's start to the last progress made (the farthest point
    of the current leg), so standing still after pacing does not make the pacing longer.
    """

    start_t: float
    duration_s: float
    reversals: int
    path_heights: float
    net_heights: float
    loops: float
    longest_leg_s: float
    start_index: int

    @property
    def path_ratio(self) -> float:
        return self.path_heights / max(self.net_heights, 1.0)


def _legs(xy: Array, min_leg: float) -> tuple[list[int], int]:
    """The turns of a path and the farthest point so far of its current leg (see below)."""
    turns: list[int] = []
    anchor = 0
    far_i, far_d = 0, 0.0
    for i in range(1, len(xy)):
        d = math.hypot(xy[i, 0] - xy[anchor, 0], xy[i, 1] - xy[anchor, 1])
        if d >= far_d:
            far_i, far_d = i, d
        elif far_d >= min_leg and far_d - d >= min_leg:
            turns.append(far_i)
            anchor = far_i
            far_i = i
            far_d = math.hypot(xy[i, 0] - xy[anchor, 0], xy[i, 1] - xy[anchor, 1])
    return turns, far_i


def turning_points(xy: Array, min_leg: float) -> list[int]:
    """Where a path turns back: indices into `xy` (n, 2), oldest first.

    A leg begins at an anchor (the first point, then each turn). It ends at its farthest point
    from the anchor once the path has come back toward the anchor by `min_leg` (the units of
    `xy`), and that farthest point is the next turn. So jitter smaller than `min_leg` never turns,
    a straight or L-shaped walk never turns, a there-and-back turns once and a loop turns at its
    far side and again back at its start (two turns a lap).
    """
    return _legs(xy, min_leg)[0]


def winding(xy: Array) -> float:
    """Net turns of a path around its centroid (1.0 = one loop either way); back-and-forth ~0.

    Steps that swing more than 120 degrees (passing close to the centroid) are left out, so a
    line walked to and fro does not add up to loops.
    """
    rel = xy - xy.mean(axis=0)
    far = np.hypot(rel[:, 0], rel[:, 1]) > 0.25
    angles = np.arctan2(rel[:, 1], rel[:, 0])
    step = np.angle(np.exp(1j * np.diff(angles)))
    keep = far[1:] & far[:-1] & (np.abs(step) < 2 * math.pi / 3)
    return float(abs(step[keep].sum()) / (2 * math.pi))


def pacing_chain(t: Array, xy: Array, min_leg: float, max_leg_s: float) -> _Chain | None:
    """The latest chain of legs, none longer than `max_leg_s`, that ends now; None when the
    current leg is already longer (a long walk or a rest). `xy` (n, 2) in body heights, `t` (n,)
    in seconds, oldest first.
    """
    n = len(t)
    if n < 2:
        return None
    turns, far = _legs(xy, min_leg)
    marks = [0, *turns]
    if t[-1] - t[marks[-1]] > max_leg_s:
        return None
    first = len(marks) - 1
    while first > 0 and t[marks[first]] - t[marks[first - 1]] <= max_leg_s:
        first -= 1
    a = marks[first]
    steps = np.diff(xy[a:], axis=0)
    legs = np.diff(t[[*marks[first:], n - 1]])
    return _Chain(
        start_t=float(t[a]),
        duration_s=float(t[max(far, marks[-1])] - t[a]),
        reversals=len(marks) - 1 - first,
        path_heights=float(np.hypot(steps[:, 0], steps[:, 1]).sum()),
        net_heights=float(np.hypot(*(xy[-1] - xy[a]))),
        loops=winding(xy[a:]),
        longest_leg_s=float(legs.max()) if len(legs) else 0.0,
        start_index=a,
    )


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


class WanderingDetector:
    """Loitering, pacing, restricted entry, night movement and exit approach on one camera.

    `update(scene)` once per analysed frame; state per track id, dropped when the track ends.
    """

    kind = "wandering"

    def __init__(self, cfg: WanderingConfig, zones: tuple[ZoneConfig, ...] = ()) -> None:
        self.cfg = cfg
        self.zones = zones
        self._tracks: dict[int, _TrackState] = {}
        self._maps: dict[tuple[int, int], ZoneMap] = {}
        self._keep_s = max(cfg.pacing_window_s, cfg.night_window_s, cfg.exit_approach_s) + 1.0

    # ------------------------------------------------------------------ the verb

    def update(self, scene: Scene) -> list[BehaviourEvent]:
        for tid in scene.ended_track_ids:
            self._tracks.pop(tid, None)
        zmap = self._maps.get(scene.frame_size)
        if zmap is None:
            zmap = self._maps[scene.frame_size] = ZoneMap(self.zones, scene.frame_size)
        active = tuple(z for z in self.zones if z.is_active(scene.wall_time))
        inactive = {z.name for z in self.zones} - {z.name for z in active}
        events: list[BehaviourEvent] = []
        for track in scene.seen_now():
            state = self._observe(track, scene.timestamp)
            for name in inactive:
                state.stays.pop(name, None)
            events += self._zone_rules(track.track_id, state, scene, zmap, active)
            if "pacing" in self.cfg.events:
                events += self._pacing(track.track_id, state, scene, zmap, active)
        return events

    # ------------------------------------------------------------------ state

    def _observe(self, track: Track, t: float) -> _TrackState:
        point = ground_point(track.last.xyxy)
        x1, y1, x2, y2 = (float(v) for v in track.last.xyxy)
        size = max(x2 - x1, y2 - y1, 1.0)
        state = self._tracks.get(track.track_id)
        if state is None:
            state = self._tracks[track.track_id] = self._start(point, t)
        dt = t - state.last_t
        tau = self.cfg.smoothing_s
        a = 1.0 if tau <= 0 or dt <= 0 or not state.points else 1.0 - math.exp(-dt / tau)
        sx, sy = state.smooth
        state.smooth = (sx + a * (point[0] - sx), sy + a * (point[1] - sy))
        state.raw = point
        state.last_t = t
        if not state.points or t - state.points[-1].t >= _SAMPLE_S - 1e-6:
            state.points.append(_Point(t, point, state.smooth, size))
        while state.points and t - state.points[0].t > self._keep_s:
            state.points.popleft()
        return state

    def _start(self, point: tuple[float, float], t: float) -> _TrackState:
        """A fresh state, or a copy of a lost track's that this new track continues."""
        cfg = self.cfg
        best: tuple[float, int, _TrackState] | None = None
        for tid, old in self._tracks.items():
            gap = t - old.last_t
            if old.handed_over or not old.points or not (0 < gap <= cfg.handover_max_gap_s):
                continue
            reach = cfg.handover_max_distance_heights + cfg.handover_max_speed_heights_s * gap
            d = math.hypot(point[0] - old.raw[0], point[1] - old.raw[1]) / old.body_px()
            if d <= reach and (best is None or d < best[0]):
                best = (d, tid, old)
        if best is None:
            return _TrackState(last_t=t, raw=point, smooth=point)
        _, tid, old = best
        old.handed_over = True
        state = copy.deepcopy(old)
        state.handed_over = False
        state.continued_from = [*old.continued_from, tid]
        return state

    def _episode(
        self, state: _TrackState, key: tuple[str, str | None], held: bool, t: float, since: float
    ) -> _Episode | None:
        """Update the episode `key`; returns it when it holds now and has not fired yet."""
        episode = state.episodes.get(key)
        if episode is not None and t - episode.last_true > self.cfg.rearm_s:
            del state.episodes[key]
            episode = None
        if not held:
            return None
        if episode is None:
            episode = state.episodes[key] = _Episode(started_at=since, last_true=t)
        episode.last_true = t
        return None if episode.fired else episode

    def _point_since(self, state: _TrackState, t: float) -> _Point:
        """The oldest kept point no older than `t` (the newest if none)."""
        return next((p for p in state.points if p.t >= t), state.points[-1])

    # ------------------------------------------------------------------ zone rules

    def _zone_rules(
        self,
        tid: int,
        state: _TrackState,
        scene: Scene,
        zmap: ZoneMap,
        active: tuple[ZoneConfig, ...],
    ) -> list[BehaviourEvent]:
        t = scene.timestamp
        point = state.raw
        body = state.body_px()
        inside_of = {z.name for z in zmap.containing(point)}
        events: list[BehaviourEvent] = []
        wanted = self.cfg.events
        for zone in active:
            inside = zone.name in inside_of
            stay = state.stays.get(zone.name)
            if stay is not None and t - stay.last_inside > self.cfg.zone_grace_s:
                del state.stays[zone.name]
                stay = None
            if inside:
                if stay is None:
                    stay = state.stays[zone.name] = _Stay(
                        since=t, last_inside=t, from_outside=zone.name in state.outside_of
                    )
                stay.last_inside = t
                stay.inside_n += 1
            else:
                state.outside_of.add(zone.name)
            if stay is not None:
                stay.seen_n += 1
            common = {"zone_type": zone.type, "body_height_px": _r(body, 1), **self._lineage(state)}

            limit, limit_from = self._dwell_limit(zone)
            if (
                "loitering" in wanted
                and inside
                and stay is not None
                and limit is not None
                and "loitering" not in stay.fired
                and t - stay.since >= limit
                and stay.inside_fraction >= MIN_INSIDE_FRACTION
            ):
                stay.fired.add("loitering")
                events.append(
                    self._event(
                        "loitering",
                        scene,
                        tid,
                        stay.since,
                        stay.inside_fraction,
                        zone,
                        {
                            **common,
                            "dwell_s": _r(t - stay.since, 1),
                            "dwell_limit_s": limit,
                            "limit_from": limit_from,
                            "inside_fraction": _r(stay.inside_fraction, 2),
                            "zone_grace_s": self.cfg.zone_grace_s,
                        },
                    )
                )

            if (
                zone.type == "restricted"
                and "restricted_entry" in wanted
                and inside
                and stay is not None
                and "restricted_entry" not in stay.fired
                and t - stay.since >= self.cfg.restricted_confirm_s
                and stay.inside_fraction >= MIN_INSIDE_FRACTION
            ):
                stay.fired.add("restricted_entry")
                events.append(
                    self._event(
                        "restricted_entry",
                        scene,
                        tid,
                        stay.since,
                        stay.inside_fraction,
                        zone,
                        {
                            **common,
                            "inside_s": _r(t - stay.since, 1),
                            "inside_fraction": _r(stay.inside_fraction, 2),
                            "restricted_confirm_s": self.cfg.restricted_confirm_s,
                        },
                    )
                )

            if zone.type == "exit" and "exit_approach" in wanted:
                event = self._exit(tid, state, scene, zmap, zone, stay, inside, body, common)
                if event is not None:
                    events.append(event)

            window = zone.night_window(scene.wall_time)
            if "night_movement" in wanted and window is not None:
                event = self._night(
                    tid, state, scene, zmap, zone, inside, body, common, str(window)
                )
                if event is not None:
                    events.append(event)
        return events

    def _dwell_limit(self, zone: ZoneConfig) -> tuple[float | None, str]:
        if zone.dwell_limit_s is not None:
            return zone.dwell_limit_s, "zone"
        if self.cfg.default_dwell_limit_s is not None and (
            zone.type in self.cfg.default_dwell_zone_types
        ):
            return self.cfg.default_dwell_limit_s, "default"
        return None, ""

    def _exit(
        self,
        tid: int,
        state: _TrackState,
        scene: Scene,
        zmap: ZoneMap,
        zone: ZoneConfig,
        stay: _Stay | None,
        inside: bool,
        body: float,
        common: dict[str, Any],
    ) -> BehaviourEvent | None:
        cfg = self.cfg
        t = scene.timestamp
        then = self._point_since(state, t - cfg.exit_approach_s)
        d_now = zmap.distance_px(state.smooth, zone) / body
        d_then = zmap.distance_px(then.smooth, zone) / body
        approached = d_then - d_now
        entered = (
            inside
            and stay is not None
            and stay.from_outside
            and t - stay.since >= cfg.exit_confirm_s
            and stay.inside_fraction >= MIN_INSIDE_FRACTION
        )
        approaching = (
            not inside
            and then.t <= t - cfg.exit_approach_s / 2
            and 0 < d_now <= cfg.exit_approach_distance_heights
            and approached >= cfg.exit_min_approach_heights
        )
        since = stay.since if entered and stay is not None else then.t
        episode = self._episode(
            state, ("exit_approach", zone.name), entered or approaching, t, since
        )
        if episode is None:
            return None
        episode.fired = True
        confidence = (
            1.0
            if entered
            else 0.5 + 0.5 * (1.0 - d_now / max(cfg.exit_approach_distance_heights, 1e-6))
        )
        return self._event(
            "exit_approach",
            scene,
            tid,
            episode.started_at,
            confidence,
            zone,
            {
                **common,
                "entered": entered,
                "distance_heights": _r(max(d_now, 0.0), 2),
                "approached_heights": _r(approached, 2),
                "exit_approach_s": cfg.exit_approach_s,
                "exit_approach_distance_heights": cfg.exit_approach_distance_heights,
                "exit_min_approach_heights": cfg.exit_min_approach_heights,
                "exit_confirm_s": cfg.exit_confirm_s,
            },
        )

    def _night(
        self,
        tid: int,
        state: _TrackState,
        scene: Scene,
        zmap: ZoneMap,
        zone: ZoneConfig,
        inside: bool,
        body: float,
        common: dict[str, Any],
        window: str,
    ) -> BehaviourEvent | None:
        cfg = self.cfg
        t = scene.timestamp
        then = self._point_since(state, t - cfg.night_window_s)
        moved = math.hypot(state.smooth[0] - then.smooth[0], state.smooth[1] - then.smooth[1])
        moved /= body
        started_inside = zmap.distance_px(then.raw, zone) <= 0
        held = (inside or started_inside) and moved >= cfg.night_min_displacement_heights
        episode = self._episode(state, ("night_movement", zone.name), held, t, then.t)
        if episode is None:
            return None
        episode.fired = True
        return self._event(
            "night_movement",
            scene,
            tid,
            episode.started_at,
            min(1.0, moved / (2 * cfg.night_min_displacement_heights)),
            zone,
            {
                **common,
                "displacement_heights": _r(moved, 2),
                "night_min_displacement_heights": cfg.night_min_displacement_heights,
                "night_window_s": cfg.night_window_s,
                "night_window": window,
                "local_time": datetime.fromtimestamp(scene.wall_time).strftime("%H:%M:%S"),
            },
        )

    # ------------------------------------------------------------------ pacing

    def _pacing(
        self,
        tid: int,
        state: _TrackState,
        scene: Scene,
        zmap: ZoneMap,
        active: tuple[ZoneConfig, ...],
    ) -> list[BehaviourEvent]:
        cfg = self.cfg
        t = scene.timestamp
        points = [p for p in state.points if t - p.t <= cfg.pacing_window_s]
        body = state.body_px()
        chain = None
        if len(points) >= 3 and points[-1].t - points[0].t >= cfg.pacing_min_duration_s:
            times = np.array([p.t for p in points], np.float64)
            xy = np.array([p.smooth for p in points], np.float64) / body
            chain = pacing_chain(times, xy, cfg.pacing_min_leg_heights, cfg.pacing_max_leg_s)
        held = (
            chain is not None
            and chain.reversals >= cfg.pacing_min_reversals
            and chain.duration_s >= cfg.pacing_min_duration_s
            and chain.path_ratio >= cfg.pacing_min_path_ratio
        )
        since = chain.start_t if chain is not None else t
        episode = self._episode(state, ("pacing", None), held, t, since)
        if episode is None or chain is None:
            return []
        episode.fired = True
        zone = self._zone_of(points[chain.start_index :], zmap, active)
        duration = chain.duration_s
        over = min(
            chain.reversals / cfg.pacing_min_reversals, chain.path_ratio / cfg.pacing_min_path_ratio
        )
        evidence: dict[str, Any] = {
            "reversals": chain.reversals,
            "path_ratio": _r(chain.path_ratio, 2),
            "path_length_heights": _r(chain.path_heights, 2),
            "net_displacement_heights": _r(chain.net_heights, 2),
            "duration_s": _r(duration, 1),
            "loops": _r(chain.loops, 2),
            "mean_speed_heights_s": _r(chain.path_heights / max(duration, 1e-6), 2),
            "longest_leg_s": _r(chain.longest_leg_s, 1),
            "body_height_px": _r(body, 1),
            "pacing_min_reversals": cfg.pacing_min_reversals,
            "pacing_min_path_ratio": cfg.pacing_min_path_ratio,
            "pacing_min_duration_s": cfg.pacing_min_duration_s,
            "pacing_min_leg_heights": cfg.pacing_min_leg_heights,
            "pacing_max_leg_s": cfg.pacing_max_leg_s,
            **self._lineage(state),
        }
        if zone is not None:
            evidence["zone_type"] = zone.type
        return [
            self._event(
                "pacing",
                scene,
                tid,
                episode.started_at,
                min(1.0, 0.5 * over),
                zone,
                evidence,
            )
        ]

    @staticmethod
    def _zone_of(
        points: list[_Point], zmap: ZoneMap, active: tuple[ZoneConfig, ...]
    ) -> ZoneConfig | None:
        """The active, non-bed zone holding most of `points` (at least half), if any."""
        candidates = [z for z in active if z.type != "bed"]
        if not candidates or not points:
            return None
        counts = dict.fromkeys((z.name for z in candidates), 0)
        for p in points:
            for z in zmap.containing(p.raw):
                if z.name in counts:
                    counts[z.name] += 1
        best = max(candidates, key=lambda z: counts[z.name])
        return best if counts[best.name] * 2 >= len(points) else None

    # ------------------------------------------------------------------ events

    @staticmethod
    def _lineage(state: _TrackState) -> dict[str, Any]:
        return {"continued_from": list(state.continued_from)} if state.continued_from else {}

    @staticmethod
    def _event(
        kind: str,
        scene: Scene,
        tid: int,
        started_at: float,
        confidence: float,
        zone: ZoneConfig | None,
        evidence: dict[str, Any],
    ) -> BehaviourEvent:
        return BehaviourEvent(
            kind=kind,
            camera_id=scene.camera_id,
            track_ids=(tid,),
            started_at=float(started_at),
            detected_at=scene.timestamp,
            confidence=_r(min(1.0, max(0.0, confidence)), 3),
            zone=None if zone is None else zone.name,
            evidence=evidence,
        )
