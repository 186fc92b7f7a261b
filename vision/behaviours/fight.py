"""Fight detection: two people close together, moving arms and bodies fast.

Per analysed frame, each person seen now gets three motion cues over the last `speed_span_s`
(between two of their observations), normalised by their body height so near and far people
compare:

- *fast limbs*: the fastest wrist or elbow relative to the body's common motion, only joints the
  pose model is sure of (so walking, which carries the whole skeleton along, scores low);
- *pose jitter*: how fast the joints move apart from each other (RMS about the common motion);
- *box change*: how fast the box changes shape (|d ln w| + |d ln h| a second): arms thrown out,
  bodies bent and pulled. A box also jumps when its person is hidden behind someone walking past,
  so it counts only for a person whose joints move too (`box_change_support`).

Two people whose box centres are within `pair_max_distance_body_heights` form a pair. The pair's
frame is *violent* when one of them shows at least `min_cues` cues **and** enough pixels inside the
pair's boxes changed (`scene.motion`, the frame-difference thumbnail): a pose model's jittery
guesses on blurry, crowded footage move keypoints without moving pixels. Violent frames are
added up per pair as the time since the previous analysed frame; `confirm_s` of them within
`window_s` raise one `fight` event. A pair that shares a person or most of its place with a fight
still going on is that fight (the tracker gave someone a new id) and raises nothing new; a pair
re-arms after `rearm_s` without violence. Where the tracker swapped the two people's ids between
observations, each is measured from the other track's earlier skeleton (see `unswapped`).

A *clinch* the pose model sees as one box (one track at least `clinch_min_aspect` wide for its
height, nobody near) is judged alone: `clinch_min_cues` cues, more image motion, an upright
torso, a box that has not dropped (a fall also makes one wide, fast box) and `clinch_confirm_s`
of it. People on the floor are measured against the longer side of their box, so lying does not
inflate their speeds.

A learned classifier (`model`, docs/BEHAVIOUR_MODELS.md) scores the last 1.6 s of every pair
(`pair_vector` per analysed frame, one batched call): a frame is also violent when its score
reaches `model.threshold` while pixels move and both people are on their feet. The evidence says
whether the rules, the classifier or both decided.

Everything is in seconds of `Scene.timestamp`, so 5 and 10 analysed frames a second see the same
motion. docs/EVALUATION.md has what this reaches on real footage and why the defaults are these.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from vision.behaviours.posefeatures import torso_angle_deg
from vision.behaviours.sequence import (
    MIN_PRESENT_STEPS,
    BehaviourModelConfig,
    SequenceScorer,
    log_speed,
    require_a_decider,
    steps_for,
)
from vision.configbase import StrictModel
from vision.types import BehaviourEvent, FloatArray, Image, Scene, Track, TrackPoint
from vision.zones import ZoneConfig, ZoneMap, ground_point

log = logging.getLogger(__name__)

LIMB_JOINTS = (7, 8, 9, 10)
"""Elbows and wrists (COCO-17): the joints that move fast in punches and shoves."""

SIZE_POINTS = 10
"""Recent observations whose boxes set a person's body height."""

HEIGHT_MEMORY_S = 1.0
"""How far back a clinch's box height is compared with (a fall drops it)."""

CLINCH_MAX_TORSO_DEG = 45.0
"""A clinch is two people on their feet: the seen torso leans less than this from vertical."""

SWAP_MARGIN = 0.5
"""Two tracks count as swapped when crossing them explains the new skeletons at least twice as
well (summed joint distance at most half) as keeping them."""

SAME_PLACE_OVERLAP = 0.5
"""A violent pair whose box covers at least this share of an ongoing fight's box (or of its own)
is that fight, under a new track id, and raises no second event."""

CLINCH_MIN_HEIGHT_KEPT = 0.8
"""A clinch box keeps at least this share of its tallest height over the last HEIGHT_MEMORY_S."""

MODEL_MAX_TORSO_DEG = 60.0
"""The classifier alone calls a frame violent only while both people's torsos lean less than this
and neither box dropped (`on_their_feet`); the rules judge people on the floor."""

FIGHT_FEATURES = (
    "limb_speed_max",
    "limb_speed_min",
    "jitter_max",
    "jitter_min",
    "box_change_max",
    "box_change_min",
    "relative_speed",
    "distance",
    "motion_energy",
    "body_speed_max",
    "torso_lean_max",
    "keypoint_score_min",
    "joints_seen_min",
    "box_overlap",
    "clinch",
    "height_kept_min",
)
"""What the learned fight classifier sees of a pair (or clinch) at each step (`pair_vector`):
speeds as log(1 + body heights a second), maxima and minima over the two people so the order of
the pair does not matter."""

FIGHT_STEPS = 8
FIGHT_STEP_S = 0.2
"""The fight classifier's window: 8 steps 0.2 s apart (1.6 s, newest last)."""


class FightConfig(StrictModel):
    """Fight detection settings (per camera)."""

    enabled: bool = Field(True, description="Whether fight is detected on this camera.")
    pair_max_distance_body_heights: float = Field(
        1.25,
        gt=0,
        le=5,
        description=(
            "Two people form a pair when their box centres are at most this many body heights "
            "apart (the mean of their two heights)."
        ),
    )
    min_keypoint_score: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Joints scored below this (at either end of a speed) are not judged.",
    )
    limb_speed_body_heights_s: float = Field(
        2.0,
        gt=0,
        le=50,
        description=(
            "Wrist or elbow speed relative to the body's common motion, body heights a second, "
            "that counts as fast limbs."
        ),
    )
    jitter_body_heights_s: float = Field(
        1.0,
        gt=0,
        le=50,
        description=(
            "Pose jitter (RMS speed of the joints about the body's common motion, body heights "
            "a second) that counts as a fast-changing pose."
        ),
    )
    box_change_per_s: float = Field(
        3.0,
        gt=0,
        le=100,
        description=(
            "Box shape change, |d ln width| + |d ln height| a second, that counts as a body "
            "thrown about (3.0: width or height doubling in about 0.23 s)."
        ),
    )
    box_change_support: float = Field(
        0.3,
        ge=0,
        le=1,
        description=(
            "Box change counts only for a person whose limb speed or jitter reach this share of "
            "their thresholds (a box also jumps when its person is hidden behind a passer-by); "
            "0 lets box change count alone."
        ),
    )
    min_cues: int = Field(
        1,
        ge=1,
        le=3,
        description="How many of fast limbs, pose jitter and box change one person must show.",
    )
    min_motion_energy: float = Field(
        0.1,
        ge=0,
        le=1,
        description=(
            "Share of the pair's box area whose pixels changed since the last analysed frame, "
            "needed to confirm fast keypoints; 0 disables the image-motion cue."
        ),
    )
    motion_pixel_grey: int = Field(
        20,
        ge=1,
        le=255,
        description="Grey-level change (0-255) above which a motion-thumbnail pixel is moving.",
    )
    speed_span_s: float = Field(
        0.2,
        ge=0,
        le=2,
        description=(
            "Speeds are measured over at least this many seconds (back to the newest observation "
            "that old), so 5 and 10 analysed fps see the same motion; 0 = previous observation."
        ),
    )
    max_step_s: float = Field(
        0.6,
        gt=0,
        le=5,
        description=(
            "Speeds come only from observations at most this many seconds apart; a violent frame "
            "counts at most this many seconds."
        ),
    )
    confirm_s: float = Field(
        0.2,
        gt=0,
        le=30,
        description=(
            "Seconds of violent frames (each counts the time since the previous analysed frame) "
            "that raise an event; 0.2 = one frame at 5 fps, two at 10 fps."
        ),
    )
    window_s: float = Field(
        1.6,
        gt=0,
        le=60,
        description="The violent seconds must add up to confirm_s within this many seconds.",
    )
    rearm_s: float = Field(
        3.0,
        ge=0,
        le=600,
        description="Seconds a pair must stay calm after an event before it can raise another.",
    )
    min_body_height_frame: float = Field(
        0.08,
        ge=0,
        le=1,
        description="People smaller than this share of the frame height are too small to judge.",
    )
    clinch_min_aspect: float = Field(
        0.9,
        gt=0,
        le=10,
        description=(
            "One track whose box is at least this wide for its height, with nobody near, may be "
            "two people in a clinch (10 ignores clinches)."
        ),
    )
    clinch_motion_energy: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Motion energy a clinch box needs (stricter than a pair's: no partner seen).",
    )
    clinch_min_cues: int = Field(
        2,
        ge=1,
        le=3,
        description="How many of the three body cues a clinch box must show (a pair: min_cues).",
    )
    clinch_confirm_s: float = Field(
        0.6,
        gt=0,
        le=30,
        description="Seconds of violent frames a clinch needs (a fall is violent only briefly).",
    )
    rules: bool = Field(
        True,
        description=(
            "Whether the hand rules above judge violent frames (off: the learned classifier "
            "alone decides)."
        ),
    )
    model: BehaviourModelConfig = Field(
        default=BehaviourModelConfig(threshold=0.3),
        description=(
            "The learned fight classifier over 1.6 s of a pair's motion: a frame is violent when "
            "the rules or the classifier say so (threshold 0.3 for the shipped classifier: "
            "docs/EVALUATION.md)."
        ),
    )

    @model_validator(mode="after")
    def _something_decides(self) -> FightConfig:
        require_a_decider("fight", self.enabled, self.rules, self.model)
        return self


@dataclass(frozen=True)
class PersonMotion:
    """One person's motion over the last speed span; speeds in body heights a second.

    `limb_speed` and `jitter` are None where too few good joints were seen at both ends;
    `torso_deg` is None without shoulders or hips; `height_kept` is the box height over the
    tallest box of the last second.
    """

    track_id: int
    xyxy: FloatArray
    body_height_px: float
    limb_speed: float | None
    jitter: float | None
    box_change: float
    velocity: tuple[float, float]
    dt: float
    torso_deg: float | None = None
    height_kept: float = 1.0
    current: TrackPoint | None = None
    reference: TrackPoint | None = None
    swapped: bool = False

    @property
    def centre(self) -> tuple[float, float]:
        return float(self.xyxy[0] + self.xyxy[2]) / 2, float(self.xyxy[1] + self.xyxy[3]) / 2


def body_height_px(points: list[TrackPoint]) -> float:
    """A person's size in pixels: the median over `points` of the larger of box height and 0.6 x
    box width, so someone lying on the floor is not taken for a tiny person (and two people in one
    wide box not for a giant)."""
    sizes = [max(float(p.xyxy[3] - p.xyxy[1]), 0.6 * float(p.xyxy[2] - p.xyxy[0])) for p in points]
    return float(np.median(sizes)) if sizes else 0.0


def _reference(track: Track, span_s: float, max_step_s: float) -> TrackPoint | None:
    """The newest earlier observation at least `span_s` before the last (else the oldest within
    reach), if one is at most `max_step_s` old."""
    now = track.last.timestamp
    chosen: TrackPoint | None = None
    for point in itertools.islice(reversed(track.history), 1, None):
        if now - point.timestamp > max_step_s + 1e-9:
            break
        chosen = point
        if now - point.timestamp >= span_s - 1e-6:
            break
    return chosen


def person_motion(
    track: Track, min_score: float, span_s: float = 0.0, max_step_s: float = 0.6
) -> PersonMotion | None:
    """`track`'s motion from an observation `span_s` back to its last; None without one."""
    if len(track.history) < 2:
        return None
    ref = _reference(track, span_s, max_step_s)
    if ref is None:
        return None
    recent = list(itertools.islice(reversed(track.history), SIZE_POINTS))
    cur = track.last
    tallest = max(
        float(p.xyxy[3] - p.xyxy[1])
        for p in recent
        if cur.timestamp - p.timestamp <= HEIGHT_MEMORY_S + 1e-9
    )
    return motion_between(track.track_id, cur, ref, body_height_px(recent), min_score, tallest)


def _good(cur: TrackPoint, ref: TrackPoint, min_score: float) -> npt.NDArray[np.bool_]:
    """Joints `(17,)` seen with at least `min_score` in both observations."""
    return np.asarray(
        (cur.keypoint_score >= min_score)
        & (ref.keypoint_score >= min_score)
        & ~np.isnan(cur.keypoints).any(axis=1)
        & ~np.isnan(ref.keypoints).any(axis=1)
    )


def motion_between(
    track_id: int,
    cur: TrackPoint,
    ref: TrackPoint,
    height: float,
    min_score: float,
    tallest_px: float | None = None,
) -> PersonMotion | None:
    """The motion features from observation `ref` to `cur` of a person `height` pixels tall."""
    dt = cur.timestamp - ref.timestamp
    if dt <= 0 or height <= 0:
        return None
    good = _good(cur, ref, min_score)
    step = (cur.keypoints.astype(np.float64) - ref.keypoints) / (dt * height)
    common = np.median(step[good], axis=0) if good.any() else np.zeros(2)
    limbs = [j for j in LIMB_JOINTS if good[j]]
    limb_speed = float(np.linalg.norm(step[limbs] - common, axis=1).max()) if limbs else None
    jitter = None
    if int(good.sum()) >= 4:
        jitter = float(np.sqrt(np.mean(np.sum((step[good] - common) ** 2, axis=1))))
    w0, h0 = (max(float(v), 1.0) for v in ref.xyxy[2:] - ref.xyxy[:2])
    w1, h1 = (max(float(v), 1.0) for v in cur.xyxy[2:] - cur.xyxy[:2])
    box_change = (abs(math.log(w1 / w0)) + abs(math.log(h1 / h0))) / dt
    v = ((cur.xyxy[:2] + cur.xyxy[2:]) - (ref.xyxy[:2] + ref.xyxy[2:])) / (2 * dt * height)
    scored = np.where(cur.keypoint_score[:, None] >= min_score, cur.keypoints, np.nan)
    torso = float(torso_angle_deg(scored))
    return PersonMotion(
        track_id=track_id,
        xyxy=cur.xyxy,
        body_height_px=height,
        limb_speed=limb_speed,
        jitter=jitter,
        box_change=box_change,
        velocity=(float(v[0]), float(v[1])),
        dt=dt,
        torso_deg=None if math.isnan(torso) else torso,
        height_kept=h1 / max(tallest_px if tallest_px is not None else h1, 1.0),
        current=cur,
        reference=ref,
    )


def mismatch(cur: TrackPoint, ref: TrackPoint, height: float, min_score: float) -> float:
    """How far apart two observations are, body heights: the median distance of the joints seen in
    both (the box centres where fewer than three are)."""
    good = _good(cur, ref, min_score)
    if int(good.sum()) >= 3:
        d = np.linalg.norm(cur.keypoints[good].astype(np.float64) - ref.keypoints[good], axis=1)
        return float(np.median(d)) / height
    centre = (cur.xyxy[:2] + cur.xyxy[2:] - ref.xyxy[:2] - ref.xyxy[2:]) / 2
    return float(np.hypot(*centre)) / height


def motion_energy(
    motion: Image | None, scale: float, xyxy: FloatArray, pixel_grey: int
) -> float | None:
    """Share of thumbnail pixels inside box `xyxy` (frame pixels) that changed by > pixel_grey;
    None without a motion thumbnail."""
    if motion is None:
        return None
    h, w = motion.shape[:2]
    x1 = min(max(math.floor(float(xyxy[0]) / scale), 0), w - 1)
    y1 = min(max(math.floor(float(xyxy[1]) / scale), 0), h - 1)
    x2 = min(max(math.ceil(float(xyxy[2]) / scale), x1 + 1), w)
    y2 = min(max(math.ceil(float(xyxy[3]) / scale), y1 + 1), h)
    return float(np.mean(motion[y1:y2, x1:x2] > pixel_grey))


def union_box(boxes: list[FloatArray]) -> FloatArray:
    """The smallest xyxy box holding every box of `boxes`."""
    stacked = np.stack(boxes)
    return np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)])


def pair_vector(
    members: tuple[PersonMotion, ...], features: dict[str, float | None], min_score: float
) -> FloatArray:
    """The classifier's step vector (`FIGHT_FEATURES`) for a pair, or a clinch of one."""

    def spread(values: list[float | None]) -> tuple[float, float]:
        logged = [log_speed(v) for v in values]
        return max(logged), min(logged)

    limb = spread([m.limb_speed for m in members])
    jitter = spread([m.jitter for m in members])
    box = spread([m.box_change for m in members])
    scores = [
        float(np.mean(m.current.keypoint_score)) if m.current is not None else 0.0 for m in members
    ]
    seen = [
        float(np.mean(m.current.keypoint_score >= min_score)) if m.current is not None else 0.0
        for m in members
    ]
    clinch = len(members) == 1
    energy = features["motion_energy"]
    return np.array(
        [
            *limb,
            *jitter,
            *box,
            log_speed(features["relative_speed_body_heights_s"]),
            float(features["distance_body_heights"] or 0.0),
            0.0 if energy is None else energy,
            max(log_speed(math.hypot(*m.velocity)) for m in members),
            max((m.torso_deg or 0.0) for m in members) / 90.0,
            min(scores),
            min(seen),
            1.0 if clinch else overlap(members[0].xyxy, members[1].xyxy),
            1.0 if clinch else 0.0,
            min(m.height_kept for m in members),
        ],
        np.float32,
    )


def on_their_feet(m: PersonMotion) -> bool:
    """Upright and not dropping: someone going down is the fall detector's to judge, so the
    classifier (which has seen falls beside other people only as generated data) does not call
    it a fight on its own."""
    if m.torso_deg is not None:
        upright = m.torso_deg <= MODEL_MAX_TORSO_DEG
    else:  # no torso seen: a box wider than tall may be someone lying
        upright = float(m.xyxy[3] - m.xyxy[1]) >= float(m.xyxy[2] - m.xyxy[0])
    return upright and m.height_kept >= CLINCH_MIN_HEIGHT_KEPT


@dataclass(frozen=True)
class _Candidate:
    """A pair (or clinch) judged in this frame: who, how close, what they show, what the rules
    say, and the classifier's score (None without one)."""

    key: tuple[int, ...]
    members: tuple[PersonMotion, ...]
    features: dict[str, float | None]
    rule_violent: bool
    cues: list[str]
    score: float | None = None


@dataclass
class _Fight:
    """A fight that raised its event: who, where (union box) and when it was last violent."""

    track_ids: set[int]
    xyxy: FloatArray
    last_violent: float


@dataclass
class _Episode:
    """One pair's (or clinch's) recent frames as (timestamp, seconds since the previous analysed
    frame, violent), and the fight it raised or joined."""

    frames: deque[tuple[float, float, bool]] = field(default_factory=deque)
    started_at: float | None = None
    fight: _Fight | None = None
    last_violent: float = -math.inf
    peak: dict[str, float] = field(default_factory=dict)
    by_rules: int = 0
    by_model: int = 0


def overlap(a: FloatArray, b: FloatArray) -> float:
    """Intersection of two xyxy boxes over the smaller one's area (0-1)."""
    w = min(float(a[2]), float(b[2])) - max(float(a[0]), float(b[0]))
    h = min(float(a[3]), float(b[3])) - max(float(a[1]), float(b[1]))
    if w <= 0 or h <= 0:
        return 0.0
    area = min(float((a[2] - a[0]) * (a[3] - a[1])), float((b[2] - b[0]) * (b[3] - b[1])))
    return w * h / area if area > 0 else 0.0


class FightDetector:
    """Raises `fight` events for pairs (or one merged box) moving violently close together.

    `scorer` is the learned fight classifier (`cfg.model`); without one, or with the model
    switched off, the rules decide alone.
    """

    kind = "fight"

    def __init__(
        self,
        cfg: FightConfig,
        zones: tuple[ZoneConfig, ...] = (),
        scorer: SequenceScorer | None = None,
    ) -> None:
        self.cfg = cfg
        self.zones = zones
        self.scorer = scorer if cfg.model.enabled else None
        self._steps = steps_for("fight", self.scorer, FIGHT_FEATURES, FIGHT_STEPS, FIGHT_STEP_S)
        self._zone_map: ZoneMap | None = None
        self._episodes: dict[tuple[int, ...], _Episode] = {}
        self._fights: list[_Fight] = []
        self._last_t: float | None = None

    def update(self, scene: Scene) -> list[BehaviourEvent]:
        self._forget(scene.ended_track_ids)
        if not self.cfg.enabled:
            return []
        since = 0.0 if self._last_t is None else scene.timestamp - self._last_t
        frame_s = min(max(since, 0.0), self.cfg.max_step_s)
        self._last_t = scene.timestamp
        calm_s = max(self.cfg.rearm_s, self.cfg.window_s)
        self._fights = [f for f in self._fights if scene.timestamp - f.last_violent < calm_s]
        people = self.people(scene)
        candidates: list[_Candidate] = []
        for a, b in itertools.combinations(people, 2):
            distance = self.distance(a, b)
            if distance > self.cfg.pair_max_distance_body_heights:
                continue
            pair = (min(a.track_id, b.track_id), max(a.track_id, b.track_id))
            candidates.append(self._assess(pair, self.unswapped(a, b), distance, scene))
        paired = {tid for c in candidates for tid in c.key}
        for p in people:
            if p.track_id not in paired and self._clinch_shape(p):
                candidates.append(self._assess((p.track_id,), (p,), 0.0, scene))
        candidates = self._scored(candidates, scene.timestamp)
        events: list[BehaviourEvent] = []
        for c in candidates:
            events.extend(self._judge(c, scene, frame_s))
        judged = {c.key for c in candidates}
        for key, episode in self._episodes.items():
            if key not in judged:
                self._step(episode, scene.timestamp, frame_s, violent=False)
        return events

    def _assess(
        self,
        key: tuple[int, ...],
        members: tuple[PersonMotion, ...],
        distance: float,
        scene: Scene,
    ) -> _Candidate:
        features = self.features(members, distance, scene)
        violent, cues = self.violent(members, features)
        return _Candidate(key, members, features, violent, cues)

    def _scored(self, candidates: list[_Candidate], now: float) -> list[_Candidate]:
        """The candidates with the classifier's scores (one batched call per frame); every
        subject with recent steps gets this frame's step, absent where not judged now."""
        if self.scorer is None:
            return candidates
        min_score = self.cfg.min_keypoint_score
        judged = {c.key for c in candidates}
        for c in candidates:
            self._steps.push(c.key, now, pair_vector(c.members, c.features, min_score))
        for key in self._steps.subjects():
            if key not in judged:
                self._steps.push(key, now, None)
        ready = [c for c in candidates if self._steps.present_steps(c.key) >= MIN_PRESENT_STEPS]
        if not ready:
            return candidates
        windows = np.stack([self._steps.window(c.key) for c in ready])
        scores = dict(zip([c.key for c in ready], self.scorer.score(windows), strict=True))
        return [
            c if c.key not in scores else replace(c, score=float(scores[c.key])) for c in candidates
        ]

    def people(self, scene: Scene) -> list[PersonMotion]:
        """Everyone seen in this frame whose motion can be measured and who is big enough."""
        cfg = self.cfg
        min_height = cfg.min_body_height_frame * scene.frame_size[1]
        people = []
        for track in scene.seen_now():
            m = person_motion(track, cfg.min_keypoint_score, cfg.speed_span_s, cfg.max_step_s)
            if m is not None and m.body_height_px >= min_height:
                people.append(m)
        return people

    def unswapped(self, a: PersonMotion, b: PersonMotion) -> tuple[PersonMotion, PersonMotion]:
        """The pair's motion, measured across their two tracks where the tracker swapped them.

        When two people overlap, the tracker may hand each one's id to the other; each track's
        keypoints then jump to the other body, which looks like flailing limbs. If each person's
        skeleton now sits clearly closer to the *other* track's earlier one, measure it from that.
        """
        ra, rb = a.reference, b.reference
        if a.current is None or b.current is None or ra is None or rb is None:
            return a, b
        score = self.cfg.min_keypoint_score
        own = mismatch(a.current, ra, a.body_height_px, score) + mismatch(
            b.current, rb, b.body_height_px, score
        )
        crossed = mismatch(a.current, rb, a.body_height_px, score) + mismatch(
            b.current, ra, b.body_height_px, score
        )
        if crossed >= SWAP_MARGIN * own:
            return a, b
        sa = motion_between(a.track_id, a.current, rb, a.body_height_px, score)
        sb = motion_between(b.track_id, b.current, ra, b.body_height_px, score)
        if sa is None or sb is None:
            return a, b
        log.debug("tracks %d and %d swapped; measuring across them", a.track_id, b.track_id)
        return (
            replace(sa, torso_deg=a.torso_deg, height_kept=a.height_kept, swapped=True),
            replace(sb, torso_deg=b.torso_deg, height_kept=b.height_kept, swapped=True),
        )

    @staticmethod
    def distance(a: PersonMotion, b: PersonMotion) -> float:
        """Distance of two people's box centres in body heights (the mean of theirs)."""
        (ax, ay), (bx, by) = a.centre, b.centre
        return math.hypot(ax - bx, ay - by) / ((a.body_height_px + b.body_height_px) / 2)

    def _clinch_shape(self, p: PersonMotion) -> bool:
        w, h = float(p.xyxy[2] - p.xyxy[0]), float(p.xyxy[3] - p.xyxy[1])
        return (
            h > 0
            and w / h >= self.cfg.clinch_min_aspect
            and p.torso_deg is not None
            and p.torso_deg <= CLINCH_MAX_TORSO_DEG
            and p.height_kept >= CLINCH_MIN_HEIGHT_KEPT
        )

    def person_cues(self, p: PersonMotion) -> list[str]:
        """The body cues one person shows in this frame."""
        cfg = self.cfg
        limb = p.limb_speed if p.limb_speed is not None else 0.0
        jitter = p.jitter if p.jitter is not None else 0.0
        cues = []
        if limb >= cfg.limb_speed_body_heights_s:
            cues.append("fast_limbs")
        if jitter >= cfg.jitter_body_heights_s:
            cues.append("pose_jitter")
        supported = (
            limb >= cfg.box_change_support * cfg.limb_speed_body_heights_s
            or jitter >= cfg.box_change_support * cfg.jitter_body_heights_s
        )
        if p.box_change >= cfg.box_change_per_s and supported:
            cues.append("box_change")
        return cues

    def features(
        self, members: tuple[PersonMotion, ...], distance: float, scene: Scene
    ) -> dict[str, float | None]:
        """What a pair (two members) or a clinch (one) shows in this frame (maxima over members)."""

        def top(values: list[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return max(present) if present else None

        relative = None
        if len(members) == 2:
            (ax, ay), (bx, by) = members[0].velocity, members[1].velocity
            relative = math.hypot(ax - bx, ay - by)
        return {
            "distance_body_heights": distance,
            "limb_speed_body_heights_s": top([m.limb_speed for m in members]),
            "jitter_body_heights_s": top([m.jitter for m in members]),
            "box_change_per_s": max(m.box_change for m in members),
            "relative_speed_body_heights_s": relative,
            "motion_energy": motion_energy(
                scene.motion,
                scene.motion_scale,
                union_box([m.xyxy for m in members]),
                self.cfg.motion_pixel_grey,
            ),
        }

    def violent(
        self, members: tuple[PersonMotion, ...], features: dict[str, float | None]
    ) -> tuple[bool, list[str]]:
        """Whether this frame of a pair (or clinch) is violent, and the cues that fired."""
        cfg = self.cfg
        clinch = len(members) == 1
        per_person = [self.person_cues(m) for m in members]
        fired = sorted({c for cues in per_person for c in cues})
        need_cues = cfg.clinch_min_cues if clinch else cfg.min_cues
        body = any(len(cues) >= need_cues for cues in per_person)
        need = cfg.clinch_motion_energy if clinch else cfg.min_motion_energy
        energy = features["motion_energy"]
        moving = need == 0 or (energy is not None and energy >= need)
        if moving:
            fired.append("image_motion")
        return body and moving, fired

    def _judge(self, c: _Candidate, scene: Scene, frame_s: float) -> list[BehaviourEvent]:
        key, members, features, fired = c.key, c.members, c.features, c.cues
        clinch = len(key) == 1
        by_rules = self.cfg.rules and c.rule_violent
        energy = features["motion_energy"]
        by_model = (
            c.score is not None
            and c.score >= self.cfg.model.threshold
            and all(on_their_feet(m) for m in members)
            and (energy is None or energy >= self.cfg.min_motion_energy)
        )
        violent = by_rules or by_model
        episode = self._episodes.setdefault(key, _Episode())
        self._step(episode, scene.timestamp, frame_s, violent)
        if c.score is not None:
            episode.peak["model_score"] = max(episode.peak.get("model_score", 0.0), c.score)
        if violent:
            episode.by_rules += by_rules
            episode.by_model += by_model
            for name, value in features.items():
                if value is not None and name != "distance_body_heights":
                    episode.peak[name] = max(episode.peak.get(name, -math.inf), value)
        box = union_box([m.xyxy for m in members])
        if violent and episode.fight is not None:
            episode.fight.xyxy, episode.fight.last_violent = box, scene.timestamp
        violent_s = sum(step for _, step, v in episode.frames if v)
        confirm = self.cfg.clinch_confirm_s if clinch else self.cfg.confirm_s
        if episode.fight is not None or not violent or violent_s < confirm - 1e-6:
            return []
        ongoing = self._ongoing(key, box)
        if ongoing is not None:
            # The same fight under a new track id (the tracker lost someone): no second event.
            ongoing.track_ids.update(key)
            ongoing.xyxy, ongoing.last_violent = box, scene.timestamp
            episode.fight = ongoing
            return []
        episode.fight = _Fight(set(key), box, scene.timestamp)
        self._fights.append(episode.fight)
        started = episode.started_at if episode.started_at is not None else scene.timestamp
        evidence: dict[str, Any] = {
            "decided_by": [
                part
                for part, frames in (("rules", episode.by_rules), ("model", episode.by_model))
                if frames
            ],
            "rules": {
                "on": self.cfg.rules,
                "violent_now": c.rule_violent,
                "violent_frames": episode.by_rules,
            },
            "model": self._model_evidence(c.score, episode),
            "cues": fired,
            "clinch": clinch,
            "tracks_swapped": any(m.swapped for m in members),
            "violent_s": round(violent_s, 3),
            "duration_s": round(scene.timestamp - started, 3),
            **{k: None if v is None else round(v, 3) for k, v in features.items()},
            "speed_span_s": round(max(m.dt for m in members), 3),
            "peak": {k: round(v, 3) for k, v in episode.peak.items()},
            "thresholds": self._thresholds(clinch),
        }
        log.info("camera %s: fight, tracks %s (%.1f s violent)", scene.camera_id, key, violent_s)
        return [
            BehaviourEvent(
                kind=self.kind,
                camera_id=scene.camera_id,
                track_ids=key,
                started_at=started,
                detected_at=scene.timestamp,
                confidence=self._fused_confidence(episode, violent_s, clinch),
                zone=self._zone(scene, members),
                evidence=evidence,
            )
        ]

    def _model_evidence(self, score: float | None, episode: _Episode) -> dict[str, Any]:
        if self.scorer is None:
            return {"on": False}
        return {
            "on": True,
            "version": self.scorer.version,
            "score": None if score is None else round(score, 3),
            "peak_score": round(episode.peak.get("model_score", 0.0), 3),
            "threshold": self.cfg.model.threshold,
            "violent_frames": episode.by_model,
        }

    def _fused_confidence(self, episode: _Episode, violent_s: float, clinch: bool) -> float:
        """The rules' confidence when they fired, the classifier's peak score when it did; the
        mean of the two when both did."""
        parts = []
        if episode.by_rules:
            parts.append(self._confidence(episode.peak, violent_s, clinch))
        if episode.by_model:
            parts.append(episode.peak.get("model_score", 0.0))
        return round(sum(parts) / len(parts), 3) if parts else 0.0

    def _ongoing(self, key: tuple[int, ...], xyxy: FloatArray) -> _Fight | None:
        """A fight still going on that shares a person or most of its place with `key`."""
        for f in self._fights:
            if f.track_ids.intersection(key) or overlap(f.xyxy, xyxy) >= SAME_PLACE_OVERLAP:
                return f
        return None

    def _thresholds(self, clinch: bool) -> dict[str, float | int]:
        cfg = self.cfg
        return {
            "pair_max_distance_body_heights": cfg.pair_max_distance_body_heights,
            "limb_speed_body_heights_s": cfg.limb_speed_body_heights_s,
            "jitter_body_heights_s": cfg.jitter_body_heights_s,
            "box_change_per_s": cfg.box_change_per_s,
            "box_change_support": cfg.box_change_support,
            "min_cues": cfg.clinch_min_cues if clinch else cfg.min_cues,
            "min_motion_energy": cfg.clinch_motion_energy if clinch else cfg.min_motion_energy,
            "min_keypoint_score": cfg.min_keypoint_score,
            "confirm_s": cfg.clinch_confirm_s if clinch else cfg.confirm_s,
            "window_s": cfg.window_s,
        }

    def _step(self, episode: _Episode, now: float, frame_s: float, violent: bool) -> None:
        cfg = self.cfg
        if episode.frames and episode.frames[-1][0] >= now:
            return
        episode.frames.append((now, frame_s, violent))
        while episode.frames and episode.frames[0][0] <= now - cfg.window_s:
            episode.frames.popleft()
        if violent:
            if episode.started_at is None:
                episode.started_at = now - frame_s
            episode.last_violent = now
        elif now - episode.last_violent >= max(cfg.rearm_s, cfg.window_s):
            episode.started_at = None
            episode.fight = None
            episode.peak.clear()
            episode.by_rules = episode.by_model = 0

    def _confidence(self, peak: dict[str, float], violent_s: float, clinch: bool) -> float:
        """0-1: how far the two strongest cues went past their thresholds, how much the pixels
        moved, and for how long (a clinch, with no partner seen, is trusted a little less)."""
        cfg = self.cfg
        ratios = sorted(
            (
                peak.get("limb_speed_body_heights_s", 0.0) / cfg.limb_speed_body_heights_s,
                peak.get("jitter_body_heights_s", 0.0) / cfg.jitter_body_heights_s,
                peak.get("box_change_per_s", 0.0) / cfg.box_change_per_s,
            )
        )
        strength = sum(min(r, 2.0) for r in ratios[-2:]) / 4
        need = cfg.clinch_motion_energy if clinch else cfg.min_motion_energy
        energy = min(peak.get("motion_energy", 0.0) / need, 2.0) / 2 if need else 0.5
        confirm = cfg.clinch_confirm_s if clinch else cfg.confirm_s
        sustained = min(violent_s / (2 * confirm), 1.0)
        value = (0.5 * strength + 0.25 * energy + 0.25 * sustained) * (0.8 if clinch else 1.0)
        return round(min(max(value, 0.0), 1.0), 3)

    def _zone(self, scene: Scene, members: tuple[PersonMotion, ...]) -> str | None:
        if not self.zones:
            return None
        if self._zone_map is None or self._zone_map.frame_size != scene.frame_size:
            self._zone_map = ZoneMap(self.zones, scene.frame_size)
        for m in members:
            inside = self._zone_map.containing(ground_point(m.xyxy))
            if inside:
                return inside[0].name
        return None

    def _forget(self, ended: tuple[int, ...]) -> None:
        gone = set(ended)
        if gone:
            for key in [k for k in self._episodes if gone.intersection(k)]:
                del self._episodes[key]
            for subject in self._steps.subjects():
                if isinstance(subject, tuple) and gone.intersection(subject):
                    self._steps.forget(subject)
