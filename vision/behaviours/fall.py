"""Fall detection: a per-person state machine over keypoints, boxes and disappearance.

    upright --(fast drop of head/hips, body-height normalised)--> falling
    falling --(end state on the floor: torso level, box wide, head low; hips down; or
              vanished)--> down
    falling --(back at standing height, or no floor within `max_descent_s`)--> upright
    down --(stays down `confirm_down_s`; descent not controlled; not in bed)--> fallen: `fall`
    down --(controlled descent, or in a bed zone)--> lying (no event)
    fallen/lying --(upright again for `recover_s`)--> upright   (re-armed: one event per fall)

Everything is normalised by the person's own body height from before the fall (largest side of
their box while upright over the last seconds), so the same thresholds hold near and far from
the camera, in side and elevated views.

Why not "see them lying, then wait": the pose model often does not detect a person on the floor
(foreshortened, half out of the view, or simply missed). After a fast drop, a person who is no
longer detected, with nobody upright where they were, counts as down. A person whose id changes
at the moment of the fall (the tracker starts a new track on the lying body) is re-associated by
position, so the drop seen on the old id and the floor seen on the new one make one fall.

Hard negatives and what keeps them quiet:
- sitting on a chair, bending to pick something up, jumping: no end state on the floor (every
  floor cue needs the hips down as well), or back at standing height within a second or two;
- squatting, kneeling, sitting on the floor: an upright torso on the floor must stay there
  `confirm_seated_s` (a fall onto the bottom does; a squat does not);
- lying down on purpose: the descent passes through a still, supported posture (kneeling,
  sitting) for `controlled_pause_s`, or takes longer than `max_descent_s`; lying down on a bed or
  platform keeps the hips up;
- lying in a bed zone: neither `fall` nor `person_down` is raised there;
- a person leaving through the image edge: a body cut by the edge is not judged for a drop, and
  one last seen cut there has left the view rather than vanished;
- walking towards a high camera (the head sinks in the image): the box grows instead of
  shrinking and the trunk stays vertical at full length;
- a second person walking past: re-association needs someone lost moments ago, of no larger
  size, near where the new track appears;
- crowded CCTV: only people seen whole (head or shoulders, hips, knees or ankles), of a sensible
  size and upright for `min_upright_s` are judged.

A separate, lower-severity `person_down` event reports someone seen lying still outside bed zones
for `person_down_after_s` without a fall having been seen (someone found on the floor).

A learned classifier (`model`, docs/BEHAVIOUR_MODELS.md) gives a second opinion on each descent
the rules found: over the person's last 3 s (`person_vector` per analysed frame) it may call a
fall what the rules called too slow or controlled. A fall when the rules or the classifier say so,
never in a bed zone; the evidence says which.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from vision.behaviours import posefeatures as pf
from vision.behaviours.sequence import (
    BehaviourModelConfig,
    SequenceScorer,
    require_a_decider,
    steps_for,
)
from vision.configbase import StrictModel
from vision.types import BehaviourEvent, Scene, Track, TrackPoint
from vision.zones import ZoneConfig, ZoneMap

log = logging.getLogger(__name__)


class FallConfig(StrictModel):
    """Fall and person-down detection settings.

    Lengths are in *body heights*: the person's own size in the image while upright (largest
    side of their box over `reference_window_s`), so they mean the same near and far from the
    camera. Speeds are body heights per second.
    """

    enabled: bool = Field(True, description="Whether fall is detected on this camera.")

    # -- who is judged --
    min_body_height_frac: float = Field(
        0.12,
        gt=0,
        le=1,
        description=(
            "Smallest person judged, as a fraction of the frame height (box height while upright)."
            " Smaller, far-away people give keypoints too noisy to judge."
        ),
    )
    min_upright_s: float = Field(
        0.4,
        ge=0,
        le=10,
        description=(
            "A person must have been seen whole and upright this long before a drop counts (no "
            "reference, no judgement: people walking in cut off, sitting, close-ups)."
        ),
    )
    border_margin_frac: float = Field(
        0.01,
        ge=0,
        le=0.2,
        description=(
            "A box within this fraction of the frame size of an edge touches the border. A body "
            "cut by it (not seen whole) is not judged for a drop, and one last seen so has left "
            "the view rather than vanished on the floor."
        ),
    )
    reference_window_s: float = Field(
        3.0,
        gt=0,
        le=30,
        description="Seconds of upright observations the body-height reference is taken over.",
    )

    # -- falling: the drop --
    drop_window_s: float = Field(
        1.5,
        gt=0,
        le=5,
        description="Span in which a drop of head or hips is measured, seconds.",
    )
    drop_min_body_heights: float = Field(
        0.3,
        gt=0,
        le=2,
        description="Fall onset: head or hips lower by at least this within `drop_window_s`.",
    )
    drop_speed_min_body_heights_s: float = Field(
        0.6,
        gt=0,
        le=10,
        description=(
            "Fall onset: peak downward speed of head or hips between two analysed frames, body "
            "heights per second (falls found on the real clips: 0.6-2.9; sitting and squatting "
            "mostly below, bending to the floor above: the end state decides those)."
        ),
    )

    # -- down: the end state --
    torso_down_deg: float = Field(
        55.0,
        ge=20,
        le=90,
        description="Torso (hips to shoulders) at least this far from vertical counts as lying.",
    )
    aspect_down: float = Field(
        1.0,
        gt=0,
        le=5,
        description="Box width over height at least this counts as lying across the view.",
    )
    hip_down_body_heights: float = Field(
        0.3,
        gt=0,
        le=2,
        description=(
            "Hips at least this much lower than while standing: with a level torso or wide box, "
            "on the floor rather than bending over."
        ),
    )
    hip_floor_body_heights: float = Field(
        0.15,
        ge=0,
        le=1,
        description=(
            "Hips at most this high above where the feet stood also count as down (on the floor "
            "after sinking to the knees first)."
        ),
    )
    low_down_body_heights: float = Field(
        0.45,
        gt=0,
        le=2,
        description=(
            "Head lower than while standing by at least this, in a shorter box, counts as on the "
            "floor even with the torso unseen or foreshortened (with the hips down too)."
        ),
    )
    low_max_height_ratio: float = Field(
        0.75,
        gt=0,
        le=2,
        description=(
            "For the head-low cue, the box must also be at most this tall relative to the body "
            "height reference (on the floor the body is shorter in the image)."
        ),
    )
    cut_max_height_ratio: float = Field(
        0.67,
        gt=0,
        le=1,
        description=(
            "For a body cut by the image edge, the head-low cue needs the box this much shorter "
            "again (x `low_max_height_ratio`): fallen out of the bottom of the view, not just "
            "stepping close to a high camera."
        ),
    )
    vanish_counts_as_down: bool = Field(
        True,
        description=(
            "After a drop, a person no longer detected (not at the border, nobody upright near "
            "their last position) counts as down: the pose model often misses people on the floor."
        ),
    )
    near_body_heights: float = Field(
        1.0,
        gt=0,
        le=5,
        description=(
            "How close (box centres) another upright person must be to a vanished person's last "
            "position to mean they got up, and a new track to be re-associated with them."
        ),
    )
    reassociate_s: float = Field(
        2.0,
        ge=0,
        le=10,
        description="A new track this soon after a person was lost near it can continue them.",
    )
    max_vanished_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="How long a vanished fallen person is kept waiting for their alert, seconds.",
    )

    # -- the alert --
    confirm_down_s: float = Field(
        0.6,
        ge=0,
        le=30,
        description=(
            "The person must stay down this long (seen lying or vanished) before the fall alert: "
            "the alert comes 0.6-0.8 s after the first frame on the floor at 5 analysed fps."
        ),
    )
    confirm_seated_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description=(
            "Instead of `confirm_down_s` when the person is down with the torso upright "
            "(sitting, kneeling or squatting on the floor): a squat to pick something up ends "
            "within a few seconds, a fall onto the bottom does not."
        ),
    )
    max_descent_s: float = Field(
        2.5,
        gt=0,
        le=20,
        description=(
            "From the last upright frame to the first frame on the floor at most this long: "
            "longer is lying down on purpose, not a fall."
        ),
    )
    controlled_pause_s: float = Field(
        0.8,
        ge=0,
        le=10,
        description=(
            "A pause this long in a supported posture (hips low, torso upright, still) on the way "
            "down marks a controlled lying down (kneel or sit, then lie), not a fall. 0 = off."
        ),
    )
    recover_s: float = Field(
        1.0,
        gt=0,
        le=30,
        description="Upright again this long after a fall means they got up; re-arms the alert.",
    )

    # -- person down --
    person_down: bool = Field(
        True,
        description=(
            "Report someone lying still outside bed zones with no fall seen (lower severity)."
        ),
    )
    person_down_after_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Seconds someone must be seen lying outside bed zones before `person_down`.",
    )
    still_max_body_heights_s: float = Field(
        0.3,
        gt=0,
        le=5,
        description="Hips moving slower than this (median) counts as lying still, for person_down.",
    )

    # -- rules and the learned classifier --
    rules: bool = Field(
        True,
        description=(
            "Whether the rules decide a descent to the floor was a fall (not too slow, not "
            "controlled); off: the learned classifier alone decides (the rules still find who "
            "went down)."
        ),
    )
    model: BehaviourModelConfig = Field(
        default=BehaviourModelConfig(),
        description=(
            "The learned fall classifier over the last 3 s of the person: a descent to the "
            "floor is a fall when the rules or the classifier say so (never in a bed zone)."
        ),
    )

    @model_validator(mode="after")
    def _something_decides(self) -> FallConfig:
        require_a_decider("fall", self.enabled, self.rules, self.model)
        return self


State = Literal["upright", "falling", "down", "fallen", "lying"]
"""upright: judged for drops; falling: dropped, not yet on the floor; down: on the floor (seen
or vanished), waiting `confirm_down_s`; fallen: fall raised; lying: on the floor without a fall
(lay down on purpose, or in a bed zone). fallen and lying wait for the person to get up."""

UPRIGHT_TORSO_DEG = 35.0
"""A torso closer to vertical than this, in a box narrower than `UPRIGHT_ASPECT`, is upright."""
UPRIGHT_ASPECT = 0.8
FULL_TRUNK = 0.7
"""A trunk at least this fraction of its standing length (shoulders to hips) is not
foreshortened: not lying towards or away from the camera."""
FALL_FEATURES = (
    "head_low",
    "hip_low",
    "top_low",
    "torso_lean",
    "torso_seen",
    "aspect_log",
    "height_ratio",
    "whole",
    "border",
    "levels_known",
)
"""What the learned fall classifier sees of a person at each step (`person_vector`): head, hips
and box top below their upright levels of the last 3 s (body heights), torso lean, box shape and
height against the person's size, whether the whole body is seen or cut by the frame."""

FALL_STEPS = 15
FALL_STEP_S = 0.2
"""The fall classifier's window: 15 steps 0.2 s apart (3 s, newest last)."""

LEVELS_WINDOW_S = 3.0

REPORTED_MEMORY_S = 3600.0
"""How long a reported person's last spot is remembered (unless someone stands up there)."""
SEATED_HEAD_DROP = 0.65
"""A head lower than standing by more than this many body heights is below a seated head."""


@dataclass
class _Obs:
    """One observation of a person, in pixels and degrees (NaN where the joints are unseen)."""

    t: float
    xyxy: npt.NDArray[np.float32]
    head_y: float
    hip_y: float
    foot_y: float
    top_y: float
    torso_deg: float
    torso_len: float
    aspect: float
    height: float
    size: float
    whole: bool
    border: bool

    @property
    def centre(self) -> tuple[float, float]:
        b = self.xyxy
        return float((b[0] + b[2]) / 2), float((b[1] + b[3]) / 2)

    @property
    def upright(self) -> bool:
        torso_ok = math.isnan(self.torso_deg) or self.torso_deg < UPRIGHT_TORSO_DEG
        return torso_ok and self.aspect < UPRIGHT_ASPECT


def _observe(p: TrackPoint, frame_size: tuple[int, int], margin_frac: float) -> _Obs:
    kp = p.keypoints
    w, h = frame_size
    b = p.xyxy
    head = pf.head_point(kp)
    if np.isnan(head[1]):
        head = pf.shoulder_point(kp)
    bw, bh = float(b[2] - b[0]), float(b[3] - b[1])
    return _Obs(
        t=p.timestamp,
        xyxy=b,
        head_y=float(head[1]),
        hip_y=float(pf.hip_point(kp)[1]),
        foot_y=float(pf.ankle_point(kp)[1]),
        top_y=float(b[1]),
        torso_deg=float(pf.torso_angle_deg(kp)),
        torso_len=float(np.hypot(*(pf.shoulder_point(kp) - pf.hip_point(kp)))),
        aspect=bw / bh if bh > 0 else math.nan,
        height=bh,
        size=max(bw, bh),
        whole=bool(pf.whole_body_visible(kp)),
        border=bool(pf.touches_border(b, frame_size, margin_frac * min(w, h))),
    )


def _first(*values: float) -> float:
    """The first value that is not NaN (NaN if none)."""
    return next((v for v in values if not math.isnan(v)), math.nan)


def _median(values: list[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.median(vals)) if vals else math.nan


@dataclass
class _Person:
    """Fall state of one person: usually one track, but an id change can hand it on."""

    track_id: int
    serial: int = 0
    obs: deque[_Obs] = field(default_factory=lambda: deque(maxlen=300))
    upright: deque[_Obs] = field(default_factory=lambda: deque(maxlen=300))
    state: State = "upright"
    ref: float = math.nan
    stand_head_y: float = math.nan
    stand_hip_y: float = math.nan
    stand_top_y: float = math.nan
    stand_torso_len: float = math.nan
    floor_y: float = math.nan
    fall_start: float = math.nan
    peak_speed: float = 0.0
    peak_torso: float = math.nan
    landed: float = math.nan
    vanished: bool = False
    seen_lying: bool = False
    cues: set[str] = field(default_factory=set)
    up_since: float = math.nan
    lying_since: float = math.nan
    person_down_sent: bool = False
    lost: bool = False
    switched_at: float = -math.inf

    @property
    def last(self) -> _Obs:
        return self.obs[-1]

    def set_standing_levels(self, until: float) -> None:
        """Head, hip and box-top heights while standing: upright observations of the second
        up to `until`."""
        recent = [u for u in self.upright if until - 1.0 <= u.t <= until]
        if recent:
            self.stand_head_y = _median([u.head_y for u in recent])
            self.stand_hip_y = _median([u.hip_y for u in recent])
            self.stand_top_y = _median([u.top_y for u in recent])
            self.floor_y = _median([u.foot_y for u in recent])
            self.stand_torso_len = _median([u.torso_len for u in recent])


def person_vector(p: _Person, o: _Obs) -> npt.NDArray[np.float32]:
    """The classifier's step vector (`FALL_FEATURES`) of person `p` observed as `o`."""
    ref = p.ref if p.ref > 0 else o.size
    recent = list(
        itertools.takewhile(lambda u: u.t >= o.t - LEVELS_WINDOW_S, reversed(p.upright))
    )  # per frame and person: walk back from the newest only as far as the window
    levels = [_median([getattr(u, k) for u in recent]) for k in ("head_y", "hip_y", "top_y")]

    def low(value: float, level: float) -> float:
        return 0.0 if math.isnan(value) or math.isnan(level) or ref <= 0 else (value - level) / ref

    torso_seen = not math.isnan(o.torso_deg)
    return np.array(
        [
            low(o.head_y, levels[0]),
            low(o.hip_y, levels[1]),
            low(o.top_y, levels[2]),
            o.torso_deg / 90.0 if torso_seen else 0.0,
            1.0 if torso_seen else 0.0,
            math.log(o.aspect) if o.aspect > 0 else 0.0,
            o.height / ref if ref > 0 else 0.0,
            1.0 if o.whole else 0.0,
            1.0 if o.border else 0.0,
            0.0 if math.isnan(levels[2]) else 1.0,
        ],
        np.float32,
    )


class FallDetector:
    """Falls (`fall`) and people found lying on the floor (`person_down`) on one camera.

    `update(scene)` once per analysed frame. State is kept per person and forgotten when their
    track ends, except for a person who fell and vanished (kept up to `max_vanished_s`, so a new
    track on the lying body can continue them).
    """

    kind = "fall"

    def __init__(
        self,
        cfg: FallConfig,
        zones: tuple[ZoneConfig, ...] = (),
        scorer: SequenceScorer | None = None,
    ) -> None:
        self.cfg = cfg
        self.zones = zones
        self.scorer = scorer if cfg.model.enabled else None
        self._steps = steps_for("fall", self.scorer, FALL_FEATURES, FALL_STEPS, FALL_STEP_S)
        self._serial = 0
        self._zone_map: ZoneMap | None = None
        self._people: dict[int, _Person] = {}
        self._orphans: list[_Person] = []
        self._reported: list[_Obs] = []
        """Last sightings of people reported down (fall or person_down) whose track ended: a new
        track lying there is the same person, not news, until someone stands up there."""

    def update(self, scene: Scene) -> list[BehaviourEvent]:
        if not self.cfg.enabled:
            return []
        c = self.cfg
        events: list[BehaviourEvent] = []
        for tid in scene.ended_track_ids:
            p = self._people.pop(tid, None)
            if p is not None and p.state in ("falling", "down"):
                p.lost = True
                self._orphans.append(p)
            elif p is not None:
                self._steps.forget(p.serial)
                if p.person_down_sent and p.obs:
                    self._reported.append(p.last)

        tracks = scene.seen_now()
        seen = {
            t.track_id: _observe(t.last, scene.frame_size, c.border_margin_frac) for t in tracks
        }
        self._reported = [
            r
            for r in self._reported
            if scene.timestamp - r.t <= REPORTED_MEMORY_S
            and not any(
                o.upright and math.dist(o.centre, r.centre) <= c.near_body_heights * r.size
                for o in seen.values()
            )
        ]
        for track in tracks:
            if track.track_id not in self._people:
                self._people[track.track_id] = self._adopt(track, seen[track.track_id], scene, seen)

        for tid, p in list(self._people.items()):
            o = seen.get(tid)
            if o is not None:
                p.obs.append(o)
            if self.scorer is not None:
                vector = None if o is None else person_vector(p, o)
                self._steps.push(p.serial, scene.timestamp, vector)
            events.extend(self._step(p, o, scene, seen))
        for p in list(self._orphans):
            events.extend(self._step(p, None, scene, seen))
            if p.state not in ("falling", "down") or scene.timestamp - p.last.t > c.max_vanished_s:
                self._orphans.remove(p)
                self._steps.forget(p.serial)
                if p.person_down_sent:
                    self._reported.append(p.last)
        return events

    # -- who is who ---------------------------------------------------------------------------

    def _adopt(self, track: Track, o: _Obs, scene: Scene, seen: dict[int, _Obs]) -> _Person:
        """The state for a new track: it continues the person lost nearest to it within
        `reassociate_s` (the tracker often starts a new track on a falling or lying body, whose
        box changes shape at once), preferring one who was falling or down; otherwise a new
        person."""
        c = self.cfg
        now = scene.timestamp
        candidates = [
            p
            for p in [*self._orphans, *self._people.values()]
            if p.obs
            and p.ref > 0
            and p.track_id not in seen
            and now - p.last.t <= c.reassociate_s
            and math.dist(o.centre, p.last.centre) <= c.near_body_heights * p.ref
            # Not someone clearly bigger (nearer the camera): a body is never larger than its
            # own height.
            and o.size <= 1.25 * p.ref
        ]
        if not candidates:
            self._serial += 1
            return _Person(track.track_id, serial=self._serial)
        p = min(
            candidates,
            key=lambda q: (
                q.state not in ("falling", "down"),
                now - q.last.t,
                math.dist(o.centre, q.last.centre),
            ),
        )
        if p in self._orphans:
            self._orphans.remove(p)
        else:
            del self._people[p.track_id]
        log.debug(
            "camera %s: track %d continues track %d (%s)",
            scene.camera_id,
            track.track_id,
            p.track_id,
            p.state,
        )
        p.track_id = track.track_id
        p.switched_at = now
        p.lost = False
        return p

    # -- features -----------------------------------------------------------------------------

    def _in_bed(self, o: _Obs, frame_size: tuple[int, int]) -> ZoneConfig | None:
        """The bed zone holding the person, if any: most of their box inside it.

        A lying person's box bottom is not where their feet are, so the whole box counts; and
        "most of it", not "touching", so a fall onto the floor beside a bed, partly across its
        edge, is still a fall.
        """
        if not self.zones:
            return None
        if self._zone_map is None or self._zone_map.frame_size != frame_size:
            self._zone_map = ZoneMap(self.zones, frame_size)
        x1, y1, x2, y2 = (float(v) for v in o.xyxy)
        grid = [
            (x1 + (x2 - x1) * i / 4, y1 + (y2 - y1) * j / 4) for i in range(5) for j in range(5)
        ]
        counts: dict[str, int] = {}
        for point in grid:
            for zone in self._zone_map.containing(point):
                if zone.type == "bed":
                    counts[zone.name] = counts.get(zone.name, 0) + 1
        for zone in self.zones:
            if counts.get(zone.name, 0) > len(grid) // 2:
                return zone
        return None

    def _update_reference(self, p: _Person, o: _Obs, frame_h: int) -> None:
        """Add an upright, whole, large enough observation to the body-height reference."""
        c = self.cfg
        if not (o.whole and o.upright and o.height >= c.min_body_height_frac * frame_h):
            return
        p.upright.append(o)
        while p.upright[0].t < o.t - c.reference_window_s:
            p.upright.popleft()
        p.ref = pf.body_height_reference(np.array([u.xyxy for u in p.upright]))
        p.set_standing_levels(o.t)

    def _drop(self, p: _Person, now: float) -> tuple[float, float, float]:
        """The largest fall of head or hips (box top where the head is unseen) within
        `drop_window_s` up to now: (body heights, when it started, peak speed in body heights/s
        between two observations since)."""
        window = [o for o in p.obs if o.t >= now - self.cfg.drop_window_s]
        best = (0.0, math.nan, 0.0)
        if len(window) < 2:
            return best
        times = np.array([o.t for o in window])
        attrs = ["head_y", "hip_y"] if not math.isnan(window[-1].head_y) else ["top_y", "hip_y"]
        for attr in attrs:
            ys = np.array([getattr(o, attr) for o in window], np.float64)
            if np.isnan(ys[-1]) or np.isnan(ys[:-1]).all():
                continue
            # The drop starts at the last moment the point was (about) at its highest.
            top = np.nanmin(ys[:-1])
            i = int(np.flatnonzero(ys[:-1] <= top + 0.05 * p.ref)[-1])
            drop = float((ys[-1] - top) / p.ref)
            speeds = pf.vertical_speed(times[i:], ys[i:], p.ref)
            peak = float(np.nanmax(speeds)) if np.isfinite(speeds).any() else 0.0
            if drop > best[0]:
                best = (drop, float(times[i]), peak)
        return best

    def _down_cues(self, p: _Person, o: _Obs) -> set[str]:
        """Which end-state cues `o` shows against the person's standing levels (empty: not on
        the floor).

        Shape cues: torso level (`torso_level`), box wider than tall (`box_wide`), head low in
        a shorter box (`low`). They count only with the hips down too, so bending over with a
        level torso is not lying: hips `hip_down_body_heights` lower than standing or within
        `hip_floor_body_heights` of the floor where the feet stood (one shape cue suffices), or
        half of `hip_down_body_heights` lower (two shape cues needed: a frontal view
        foreshortens the drop of the hips). With the hips unseen, the box top counts instead.
        A body cut by the image edge has no meaningful box shape, and is low only when most of
        it has gone below the edge.
        """
        c = self.cfg
        cut = o.border and not o.whole
        top_low = (o.top_y - p.stand_top_y) / p.ref
        if not math.isnan(o.head_y) and not math.isnan(p.stand_head_y):
            head_low = (o.head_y - p.stand_head_y) / p.ref
        else:
            head_low = top_low
        cues: set[str] = set()
        if o.torso_deg >= c.torso_down_deg:
            cues.add("torso_level")
        if not cut and o.aspect >= c.aspect_down:
            cues.add("box_wide")
        # Head low *and* the box shorter: someone walking up to a high camera also sinks in the
        # image, but grows rather than shrinks. A body cut by the edge must have mostly gone
        # below it (fallen towards the camera out of the bottom of the view).
        shorter = c.low_max_height_ratio * (c.cut_max_height_ratio if cut else 1.0)
        # A body not seen whole (legs hidden or cut by the edge) whose trunk stays vertical at
        # full length while it sinks below where the feet stood is someone walking towards a
        # high camera, not lying: lying, the trunk is level or foreshortened. A cut body shows
        # no trunk, so the last trunk seen counts. A whole body that shrank is really lower.
        trunk = o
        if cut and math.isnan(o.torso_deg):
            trunk = next((q for q in reversed(p.obs) if not math.isnan(q.torso_deg)), o)
        below_feet = (p.floor_y - o.hip_y) / p.ref < -0.05
        trunk_up = (
            not o.whole
            and (cut or below_feet)
            and trunk.torso_deg < UPRIGHT_TORSO_DEG
            and trunk.torso_len >= FULL_TRUNK * _first(p.stand_torso_len, 0.3 * p.ref)
        )
        if head_low >= c.low_down_body_heights and o.height <= shorter * p.ref and not trunk_up:
            cues.add("low")
        if not cues:
            return cues
        if not math.isnan(o.hip_y) and not math.isnan(p.stand_hip_y):
            hip_drop = (o.hip_y - p.stand_hip_y) / p.ref
            on_floor = (p.floor_y - o.hip_y) / p.ref <= c.hip_floor_body_heights
            if hip_drop >= c.hip_down_body_heights or on_floor:
                return cues
            if hip_drop >= c.hip_down_body_heights / 2 and len(cues) >= 2:
                return cues
            return set()
        if top_low >= c.low_down_body_heights and (not cut or "low" in cues):
            return cues
        return set()

    def _seated(self, p: _Person, o: _Obs) -> bool:
        """Sitting, kneeling or squatting on the floor rather than lying: torso upright, head
        no lower than a seated head (`SEATED_HEAD_DROP` body heights below standing) and hips
        not below where the feet stood (a body lying towards the camera reaches below it and
        its foreshortened torso looks upright too). A squat to pick something up is brief;
        someone who fell onto their bottom stays there."""
        if not o.torso_deg < UPRIGHT_TORSO_DEG:
            return False
        level = o.head_y if not math.isnan(o.head_y) else o.top_y
        stand = p.stand_head_y if not math.isnan(o.head_y) else p.stand_top_y
        if (level - stand) / p.ref >= SEATED_HEAD_DROP:
            return False
        return not (p.floor_y - o.hip_y) / p.ref < -0.05

    def _back_up(self, p: _Person, o: _Obs) -> bool:
        """Standing again: an upright shape with the head near standing height."""
        if not o.upright:
            return False
        if not math.isnan(o.head_y) and not math.isnan(p.stand_head_y):
            rise = (o.head_y - p.stand_head_y) / p.ref
        else:
            rise = (o.top_y - p.stand_top_y) / p.ref
        return bool(rise < 0.5 * self.cfg.drop_min_body_heights)

    def _upright_near(self, p: _Person, seen: dict[int, _Obs]) -> bool:
        """Someone else upright, of about the person's size, where the person was last seen:
        most likely the person themself, up again under another id."""
        for tid, o in seen.items():
            if tid == p.track_id:
                continue
            close = math.dist(o.centre, p.last.centre) <= self.cfg.near_body_heights * p.ref
            if close and o.upright and o.size >= 0.6 * p.ref:
                return True
        return False

    def _vanished_down(self, p: _Person, seen: dict[int, _Obs]) -> bool:
        """Whether a person not seen now counts as on the floor: after a drop, seen lying since
        or last seen whole (a body cut by the image edge was leaving the view), neither resting
        with the hips up nor standing tall, and nobody upright in their place."""
        c = self.cfg
        last = p.last
        leaving = last.border and not last.whole and not p.seen_lying
        # Come to rest with the hips still at standing (or sitting) height: lying down on a bed
        # or platform, or bending over, rather than on the floor. Someone lost while still
        # dropping fast counts as falling.
        hips_up = False
        if not p.seen_lying and not math.isnan(last.hip_y) and not math.isnan(p.stand_hip_y):
            hip_drop = (last.hip_y - p.stand_hip_y) / p.ref
            near_floor = (p.floor_y - last.hip_y) / p.ref <= c.hip_floor_body_heights
            hips_up = hip_drop < c.hip_down_body_heights / 2 and not near_floor
            if hips_up and len(p.obs) >= 2:
                before = p.obs[-2]
                level = [
                    (q.head_y if not math.isnan(q.head_y) else q.top_y) for q in (before, last)
                ]
                dt = last.t - before.t
                speed = (level[1] - level[0]) / p.ref / dt if dt > 0 else 0.0
                hips_up = not speed >= c.drop_speed_min_body_heights_s
        # Last seen standing at full height, hips up: no visible fall to go on.
        standing = last.upright and last.height >= c.low_max_height_ratio * p.ref
        if standing and not math.isnan(last.hip_y) and not math.isnan(p.stand_hip_y):
            standing = (last.hip_y - p.stand_hip_y) / p.ref < c.hip_down_body_heights / 2
        return (
            c.vanish_counts_as_down
            and not leaving
            and not hips_up
            and not standing
            and not self._upright_near(p, seen)
        )

    def _controlled(self, p: _Person) -> bool:
        """Whether the descent paused in a supported, still posture (kneeling or sitting: hips
        low, torso upright, head still) for `controlled_pause_s`: lying down on purpose."""
        c = self.cfg
        if c.controlled_pause_s <= 0:
            return False
        path = [o for o in p.obs if p.fall_start <= o.t <= p.landed]
        run_start = math.nan
        for a, b in itertools.pairwise(path):
            low = not math.isnan(b.hip_y) and (b.hip_y - p.stand_hip_y) / p.ref >= 0.15
            torso_up = not math.isnan(b.torso_deg) and b.torso_deg < c.torso_down_deg
            dt = b.t - a.t
            still = (
                dt > 0
                and not math.isnan(a.head_y)
                and not math.isnan(b.head_y)
                and abs(b.head_y - a.head_y) / p.ref / dt < c.drop_speed_min_body_heights_s / 2
            )
            if low and torso_up and still:
                run_start = a.t if math.isnan(run_start) else run_start
                if b.t - run_start >= c.controlled_pause_s - 1e-6:
                    return True
            else:
                run_start = math.nan
        return False

    # -- the state machine --------------------------------------------------------------------

    def _step(
        self, p: _Person, o: _Obs | None, scene: Scene, seen: dict[int, _Obs]
    ) -> list[BehaviourEvent]:
        if not p.obs:
            return []
        if p.state == "upright":
            if o is not None:
                self._judge_upright(p, o, scene)
        elif p.state == "falling":
            self._judge_falling(p, o, scene, seen)
        if p.state == "down":
            return self._judge_down(p, o, scene, seen)
        if p.state in ("fallen", "lying") and o is not None:
            self._judge_recovery(p, o, scene.timestamp)
        if o is not None and p.state in ("upright", "lying"):
            return self._person_down(p, o, scene)
        return []

    def _judge_upright(self, p: _Person, o: _Obs, scene: Scene) -> None:
        c = self.cfg
        span = p.upright[-1].t - p.upright[0].t if p.upright else -1.0
        # Judge only someone seen whole and upright for a while (a reference from before), and
        # not a body cut by the image edge (leaving the view, or walking up to a high camera).
        # A whole body whose box touches the edge (feet on the bottom row) is judged.
        ready = p.ref > 0 and span >= c.min_upright_s - 1e-6 and (o.whole or not o.border)
        drop, start, peak = self._drop(p, o.t) if ready else (0.0, math.nan, 0.0)
        if drop < c.drop_min_body_heights or peak < c.drop_speed_min_body_heights_s:
            self._update_reference(p, o, scene.frame_size[1])
            return
        p.state = "falling"
        p.set_standing_levels(start)
        p.fall_start = start
        p.peak_speed = peak
        p.peak_torso = o.torso_deg
        p.cues = {"drop"}
        p.vanished = p.seen_lying = False
        p.landed = math.nan
        self._judge_falling(p, o, scene, {})

    def _judge_falling(
        self, p: _Person, o: _Obs | None, scene: Scene, seen: dict[int, _Obs]
    ) -> None:
        c = self.cfg
        now = scene.timestamp
        if o is None:
            if self._vanished_down(p, seen):
                p.state = "down"
                p.landed = (p.last.t + now) / 2
                p.vanished = True
                p.cues.add("vanished")
            elif p.lost or now - p.last.t > c.max_vanished_s:
                p.state = "upright"
            return
        _, _, peak = self._drop(p, now)
        p.peak_speed = max(p.peak_speed, peak)
        p.peak_torso = float(np.nanmax([p.peak_torso, o.torso_deg, -1.0]))
        cues = self._down_cues(p, o)
        if cues:
            p.state = "down"
            p.landed = now
            p.seen_lying = True
            p.cues |= cues
        elif self._back_up(p, o) or now - p.fall_start > c.max_descent_s:
            p.state = "upright"

    def _judge_down(
        self, p: _Person, o: _Obs | None, scene: Scene, seen: dict[int, _Obs]
    ) -> list[BehaviourEvent]:
        c = self.cfg
        now = scene.timestamp
        if o is not None:
            cues = self._down_cues(p, o)
            if cues:
                p.cues |= cues
                p.seen_lying = True
                p.peak_torso = float(np.nanmax([p.peak_torso, o.torso_deg, -1.0]))
            elif self._back_up(p, o):
                p.state = "upright"
                return []
            # Neither lying nor standing (sitting up, kneeling): still down.
        elif not self._vanished_down(p, seen):
            if p.lost or now - p.last.t > c.max_vanished_s:
                p.state = "upright"
            return []
        seated = p.last.t >= p.landed and self._seated(p, p.last)
        hold = c.confirm_seated_s if seated else c.confirm_down_s
        if now - p.landed < hold - 1e-6:
            return []
        if seated:
            p.cues.add("seated")
        return self._conclude(p, scene)

    def _model_score(self, p: _Person) -> float | None:
        """The classifier's score of the person's last window (None without a classifier)."""
        if self.scorer is None or self._steps.present_steps(p.serial) < 2:
            return None
        return float(self.scorer.score(self._steps.window(p.serial)[None])[0])

    def _conclude(self, p: _Person, scene: Scene) -> list[BehaviourEvent]:
        """Down long enough: a fall, unless the descent was controlled or they are in bed (the
        rules' verdict), or the classifier says so; never in bed."""
        c = self.cfg
        descent_s = p.landed - p.fall_start
        bed = self._in_bed(p.last, scene.frame_size)
        score = self._model_score(p)
        by_rules = c.rules and descent_s <= c.max_descent_s and not self._controlled(p)
        by_model = score is not None and score >= c.model.threshold
        if bed is not None or not (by_rules or by_model):
            log.debug(
                "camera %s: track %d is lying, not fallen (descent %.1f s, bed %s, model %s)",
                scene.camera_id,
                p.track_id,
                descent_s,
                bed.name if bed else None,
                score,
            )
            p.state = "lying"
            p.up_since = math.nan
            return []
        p.state = "fallen"
        if p.switched_at >= p.fall_start - c.reassociate_s:
            p.cues.add("reassociated")
        p.up_since = math.nan
        p.person_down_sent = True
        down_s = scene.timestamp - p.landed
        shape_cues = p.cues & {"torso_level", "box_wide", "low"}
        confidence = (
            0.5
            + 0.15 * min(1.0, p.peak_speed / 1.5)
            + (0.15 if p.seen_lying else 0.0)
            + 0.1 * min(1.0, len(shape_cues) / 2)
            + 0.1 * min(1.0, down_s / 2.0)
        )
        return [
            BehaviourEvent(
                kind="fall",
                camera_id=scene.camera_id,
                track_ids=(p.track_id,),
                started_at=p.fall_start,
                detected_at=scene.timestamp,
                confidence=round(min(1.0, confidence), 3),
                evidence={
                    "decided_by": [k for k, v in (("rules", by_rules), ("model", by_model)) if v],
                    "rules": {"on": c.rules, "fall": by_rules},
                    "model": self._model_evidence(score),
                    "peak_drop_speed_body_heights_s": round(p.peak_speed, 3),
                    "torso_angle_deg": None if p.peak_torso < 0 else round(p.peak_torso, 1),
                    "time_to_ground_s": round(descent_s, 3),
                    "down_s": round(down_s, 3),
                    "seen_lying": p.seen_lying,
                    "vanished": p.vanished,
                    "body_height_px": round(p.ref, 1),
                    "cues": sorted(p.cues),
                    "thresholds": self._thresholds(),
                },
            )
        ]

    def _model_evidence(self, score: float | None) -> dict[str, object]:
        if self.scorer is None:
            return {"on": False}
        return {
            "on": True,
            "version": self.scorer.version,
            "score": None if score is None else round(score, 3),
            "threshold": self.cfg.model.threshold,
        }

    def _thresholds(self) -> dict[str, float]:
        c = self.cfg
        return {
            "drop_min_body_heights": c.drop_min_body_heights,
            "drop_speed_min_body_heights_s": c.drop_speed_min_body_heights_s,
            "torso_down_deg": c.torso_down_deg,
            "aspect_down": c.aspect_down,
            "hip_down_body_heights": c.hip_down_body_heights,
            "confirm_down_s": c.confirm_down_s,
            "max_descent_s": c.max_descent_s,
        }

    def _judge_recovery(self, p: _Person, o: _Obs, now: float) -> None:
        """After a fall or lying down: upright for `recover_s` re-arms the person."""
        if not self._back_up(p, o):
            p.up_since = math.nan
            return
        p.up_since = now if math.isnan(p.up_since) else p.up_since
        if now - p.up_since >= self.cfg.recover_s - 1e-6:
            p.state = "upright"
            p.upright.clear()
            p.cues = set()
            p.person_down_sent = False
            p.lying_since = math.nan

    def _lying_shape(self, p: _Person, o: _Obs) -> bool:
        """Lying, judged from the shape alone (a person found on the floor may never have been
        seen standing), or against their standing levels where known."""
        c = self.cfg
        if o.torso_deg >= c.torso_down_deg and o.aspect >= c.aspect_down:
            return True
        return p.ref > 0 and not math.isnan(p.stand_hip_y) and bool(self._down_cues(p, o))

    def _person_down(self, p: _Person, o: _Obs, scene: Scene) -> list[BehaviourEvent]:
        """Someone seen lying still outside bed zones for `person_down_after_s`, no fall seen."""
        c = self.cfg
        if not c.person_down or p.person_down_sent:
            return []
        if o.upright or not self._lying_shape(p, o):
            if o.upright:
                p.lying_since = math.nan
            return []
        now = scene.timestamp
        p.lying_since = now if math.isnan(p.lying_since) else p.lying_since
        lying_s = now - p.lying_since
        if lying_s < c.person_down_after_s - 1e-6:
            return []
        if self._in_bed(o, scene.frame_size) is not None:
            return []
        if any(
            math.dist(o.centre, r.centre) <= self.cfg.near_body_heights * max(o.size, r.size)
            for r in self._reported
        ):
            p.person_down_sent = True  # already reported under an earlier track
            return []
        recent = [q for q in p.obs if q.t >= now - 3.0]
        size = max(o.size, 1.0)
        speeds = [
            math.dist(a.centre, b.centre) / size / (b.t - a.t)
            for a, b in itertools.pairwise(recent)
            if b.t > a.t
        ]
        moving = float(np.median(speeds)) if speeds else 0.0
        if moving > c.still_max_body_heights_s:
            return []
        p.person_down_sent = True
        return [
            BehaviourEvent(
                kind="person_down",
                camera_id=scene.camera_id,
                track_ids=(p.track_id,),
                started_at=p.lying_since,
                detected_at=now,
                confidence=round(min(0.9, 0.5 + 0.4 * min(1.0, lying_s / 300.0)), 3),
                evidence={
                    "lying_s": round(lying_s, 1),
                    "torso_angle_deg": None if math.isnan(o.torso_deg) else round(o.torso_deg, 1),
                    "box_aspect": round(o.aspect, 2),
                    "movement_body_heights_s": round(moving, 3),
                    "fall_seen": False,
                    "body_height_px": None if math.isnan(p.ref) else round(p.ref, 1),
                    "thresholds": {
                        "person_down_after_s": c.person_down_after_s,
                        "still_max_body_heights_s": c.still_max_body_heights_s,
                        "torso_down_deg": c.torso_down_deg,
                        "aspect_down": c.aspect_down,
                    },
                },
            )
        ]
