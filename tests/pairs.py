"""Synthetic scenes of people together, for the fight detector and its hard negatives.

Procedural 2-D skeletons (COCO-17) driven by joint angles over time: two people fighting (fast
punches and shoves close together), walking past each other, standing and talking, hugging, one
person tidying chairs (fast arms, nobody near), a crowd walking with blurry, low-score joints, a
clinch the pose model sees as one wide box, and a fight on the floor. Each person is also drawn
as a stick figure, so the motion thumbnails the detectors read are real frame differences.

    clip = fighting()
    for scene in scenes(clip):
        events += detector.update(scene)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.motion import MOTION_SCALE, difference, thumbnail
from vision.pipeline import Perception
from vision.types import (
    NUM_KEYPOINTS,
    SKELETON,
    FloatArray,
    Image,
    Poses,
    Scene,
    Track,
    TrackPoint,
)

FRAME_SIZE = (640, 480)
"""(width, height) of every synthetic frame."""

HEIGHT_PX = 240.0
"""Body height of a standing person in the synthetic frames."""

Point = tuple[float, float]


@dataclass(frozen=True)
class Pose:
    """Joint angles of one person at one instant (radians; 0 = limb hanging straight down).

    `facing` is +1 when the person faces right in the image, -1 left; arm and leg angles are
    positive toward the facing side. `body_angle` turns the whole skeleton about the hips
    (pi/2: lying on the floor); `lean` turns the upper body only.
    """

    x: float
    ground_y: float
    height: float = HEIGHT_PX
    facing: float = 1.0
    arms: tuple[float, float] = (0.05, -0.05)
    elbows: tuple[float, float] = (0.1, 0.1)
    legs: tuple[float, float] = (0.0, 0.0)
    knees: tuple[float, float] = (0.0, 0.0)
    lean: float = 0.0
    body_angle: float = 0.0


def _rot(v: Point, angle: float) -> Point:
    c, s = math.cos(angle), math.sin(angle)
    return v[0] * c - v[1] * s, v[0] * s + v[1] * c


def skeleton(p: Pose) -> FloatArray:
    """The (17, 2) keypoints of pose `p`, frame pixels, every joint present."""
    h, f = p.height, p.facing
    pts: dict[int, Point] = {}

    def limb(start: Point, angle: float, bend: float, a: float, b: float) -> tuple[Point, Point]:
        # Down is +y; a positive angle swings the limb toward the facing side.
        d1 = _rot((0.0, a * h), -f * angle)
        mid = (start[0] + d1[0], start[1] + d1[1])
        d2 = _rot((0.0, b * h), -f * (angle + bend))
        return mid, (mid[0] + d2[0], mid[1] + d2[1])

    hip = (0.0, -0.5 * h)
    up = _rot((0.0, -0.3 * h), f * p.lean)
    neck = (hip[0] + up[0], hip[1] + up[1])
    side = _rot((0.09 * h, 0.0), f * p.lean)
    pts[5], pts[6] = (neck[0] + side[0], neck[1] + side[1]), (neck[0] - side[0], neck[1] - side[1])
    head = _rot((0.0, -0.12 * h), f * p.lean)
    nose = (neck[0] + head[0] + f * 0.02 * h, neck[1] + head[1])
    pts[0] = nose
    pts[1], pts[2] = (
        (nose[0] + 0.015 * h, nose[1] - 0.015 * h),
        (nose[0] - 0.015 * h, nose[1] - 0.015 * h),
    )
    pts[3], pts[4] = (nose[0] + 0.035 * h, nose[1]), (nose[0] - 0.035 * h, nose[1])
    for k, shoulder in enumerate((5, 6)):
        elbow, wrist = limb(pts[shoulder], p.arms[k] + p.lean, p.elbows[k], 0.17, 0.15)
        pts[7 + k], pts[9 + k] = elbow, wrist
    for k, hip_index in enumerate((11, 12)):
        pts[hip_index] = (hip[0] + (0.06 if k == 0 else -0.06) * h, hip[1])
        knee, ankle = limb(pts[hip_index], p.legs[k], -p.knees[k], 0.25, 0.25)
        pts[13 + k], pts[15 + k] = knee, ankle
    out = np.array([pts[i] for i in range(NUM_KEYPOINTS)], np.float32)
    if p.body_angle:
        c, s = math.cos(p.body_angle), math.sin(p.body_angle)
        out = out - np.array(hip, np.float32)
        out = out @ np.array([[c, s], [-s, c]], np.float32)
        out = out + np.array(hip, np.float32)
    return out + np.array([p.x, p.ground_y], np.float32)


def box_of(keypoints: FloatArray, height: float) -> FloatArray:
    """The detector-style box around `keypoints`: joints plus a margin, head room on top."""
    ok = ~np.isnan(keypoints).any(axis=1)
    lo = np.nanmin(keypoints[ok], axis=0)
    hi = np.nanmax(keypoints[ok], axis=0)
    m = 0.05 * height
    return np.array([lo[0] - m, lo[1] - 0.08 * height, hi[0] + m, hi[1] + m], np.float32)


@dataclass(frozen=True)
class Person:
    """One tracked person in one frame: keypoints (17, 2) with NaN for missing, scores (17,)."""

    track_id: int
    keypoints: FloatArray
    keypoint_score: FloatArray
    xyxy: FloatArray
    score: float = 0.9


@dataclass(frozen=True)
class Clip:
    """A synthetic clip: per frame, everyone in it. `fights` says what a detector should say."""

    name: str
    fps: float
    frames: tuple[tuple[Person, ...], ...]
    fights: bool
    frame_size: tuple[int, int] = FRAME_SIZE

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


@dataclass
class _Noise:
    """Per-clip randomness: jitter of low-score joints and which joints are missing."""

    rng: np.random.Generator
    blur_px: float = 0.0
    blurred_joints: tuple[int, ...] = ()
    missing_joints: tuple[int, ...] = ()
    scores: dict[int, float] = field(default_factory=dict)


def person(track_id: int, pose: Pose, noise: _Noise | None = None) -> Person:
    """A tracked person in `pose`; `noise` blurs or hides some joints as a pose model would."""
    kp = skeleton(pose)
    score = np.full(NUM_KEYPOINTS, 0.9, np.float32)
    if noise is not None:
        for j in noise.blurred_joints:
            kp[j] += noise.rng.normal(0.0, noise.blur_px, 2).astype(np.float32)
            score[j] = noise.scores.get(j, 0.3)
        for j in noise.missing_joints:
            kp[j] = np.nan
            score[j] = 0.05
    box = box_of(skeleton(pose), pose.height)
    return Person(track_id, kp, score, box)


def merged(track_id: int, a: Person, b: Person) -> Person:
    """Two people the pose model saw as one: one wide box, the keypoints of one of them."""
    box = np.concatenate([np.minimum(a.xyxy[:2], b.xyxy[:2]), np.maximum(a.xyxy[2:], b.xyxy[2:])])
    return Person(track_id, a.keypoints, a.keypoint_score, box.astype(np.float32))


def _wave(t: float, hz: float, phase: float = 0.0) -> float:
    return math.sin(2 * math.pi * hz * t + phase)


def _punch(t: float, hz: float, phase: float) -> tuple[float, float]:
    """Upper arm and elbow angles of a swinging blow: from behind the hip, round and over to the
    front at head height, and back (the wrist travels about 0.6 body heights each way)."""
    s = 0.5 + 0.5 * _wave(t, hz, phase)
    return -0.5 + 2.7 * s, 0.6 * (1 - s)


def _build(
    name: str, fps: float, duration_s: float, fights: bool, frame: Callable[[float], list[Person]]
) -> Clip:
    n = round(duration_s * fps)
    return Clip(name, fps, tuple(tuple(frame(i / fps)) for i in range(n)), fights)


def fighting(
    fps: float = 5.0, duration_s: float = 2.0, seed: int = 0, gap_px: float = 140.0
) -> Clip:
    """Two people `gap_px` apart (0.6 body heights), swinging blows and shoving each other."""
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * math.pi, 6)

    def frame(t: float) -> list[Person]:
        shove = 0.15 * HEIGHT_PX * _wave(t, 1.4, ph[0])
        people = []
        for k, (x, facing) in enumerate(((340.0 - gap_px / 2, 1.0), (340.0 + gap_px / 2, -1.0))):
            a0, e0 = _punch(t, 2.5, ph[1 + k])
            a1, e1 = _punch(t, 2.5, ph[1 + k] + math.pi)
            pose = Pose(
                x=x + shove * (1 if k == 0 else 0.7) + 10 * _wave(t, 3.1, ph[5]),
                ground_y=400.0,
                facing=facing,
                arms=(a0, a1),
                elbows=(e0, e1),
                legs=(0.4 * _wave(t, 1.7, ph[k]), -0.3 * _wave(t, 1.7, ph[k])),
                knees=(0.4, 0.3),
                lean=0.3 + 0.35 * _wave(t, 1.9, ph[2 + k]),
            )
            people.append(person(k + 1, pose))
        return people

    return _build("fighting", fps, duration_s, True, frame)


def fighting_missing_joints(fps: float = 5.0, duration_s: float = 2.0) -> Clip:
    """The fight with legs and one person's left arm not found (cut off, occluded)."""
    base = fighting(fps, duration_s, seed=3)
    gone = (13, 14, 15, 16)
    frames = []
    for people in base.frames:
        out = []
        for p in people:
            missing = gone + ((7, 9) if p.track_id == 1 else ())
            kp, sc = p.keypoints.copy(), p.keypoint_score.copy()
            kp[list(missing)] = np.nan
            sc[list(missing)] = 0.05
            out.append(Person(p.track_id, kp, sc, p.xyxy))
        frames.append(tuple(out))
    return Clip("fighting_missing_joints", fps, tuple(frames), True)


def clinch(fps: float = 5.0, duration_s: float = 2.0) -> Clip:
    """Two people locked together whom the pose model sees as one: one wide box, and a skeleton
    that lands on one body in one frame and on the other in the next, as it does on a tangle."""
    base = fighting(fps, duration_s, seed=1)
    frames = tuple(
        (merged(1, *((a, b) if i % 2 else (b, a))),) for i, (a, b) in enumerate(base.frames)
    )
    return Clip("clinch", fps, frames, True)


def fighting_on_floor(fps: float = 5.0, duration_s: float = 2.0) -> Clip:
    """One person down on the floor, the other kneeling over them, both flailing."""
    rng = np.random.default_rng(7)
    ph = rng.uniform(0, 2 * math.pi, 4)

    def frame(t: float) -> list[Person]:
        a0, e0 = _punch(t, 2.0, ph[0])
        a1, e1 = _punch(t, 2.0, ph[1] + math.pi)
        top = Pose(
            x=330 + 10 * _wave(t, 1.5, ph[2]),
            ground_y=420,
            facing=1.0,
            arms=(a0 + 0.6, a1 + 0.6),
            elbows=(e0, e1),
            legs=(1.6, 1.5),
            knees=(1.6, 1.6),
            lean=0.5 + 0.2 * _wave(t, 1.8, ph[3]),
        )
        b0, f0 = _punch(t, 2.4, ph[1])
        b1, f1 = _punch(t, 2.4, ph[0] + math.pi)
        bottom = Pose(
            x=420,
            ground_y=540,
            facing=-1.0,
            arms=(b0, b1),
            elbows=(f0, f1),
            legs=(0.3 * _wave(t, 1.9, ph[2]), 0.2),
            body_angle=-math.pi / 2,
        )
        return [person(1, top), person(2, bottom)]

    return _build("fighting_on_floor", fps, duration_s, True, frame)


def _walker(
    track_id: int, t: float, x0: float, speed_px_s: float, ground_y: float, height: float, ph: float
) -> Person:
    facing = 1.0 if speed_px_s >= 0 else -1.0
    swing = 0.4 * _wave(t, 0.9, ph)
    pose = Pose(
        x=x0 + speed_px_s * t,
        ground_y=ground_y,
        height=height,
        facing=facing,
        arms=(-0.35 * swing, 0.35 * swing),
        elbows=(0.2, 0.2),
        legs=(swing, -swing),
        knees=(0.15 + 0.15 * max(0.0, swing), 0.15 + 0.15 * max(0.0, -swing)),
        lean=0.05,
    )
    return person(track_id, pose)


def walking_past(fps: float = 5.0, duration_s: float = 3.0) -> Clip:
    """Two people walking toward each other and passing close (about 1.2 m/s each)."""

    def frame(t: float) -> list[Person]:
        return [
            _walker(1, t, 150, 150, 400, HEIGHT_PX, 0.0),
            _walker(2, t, 560, -150, 410, HEIGHT_PX * 1.04, 1.0),
        ]

    return _build("walking_past", fps, duration_s, False, frame)


def talking(fps: float = 5.0, duration_s: float = 4.0) -> Clip:
    """Two people standing 0.6 body heights apart, one gesturing, the other nodding."""

    def frame(t: float) -> list[Person]:
        speaker = Pose(
            x=280,
            ground_y=400,
            facing=1.0,
            arms=(0.5 + 0.4 * _wave(t, 0.6), 0.05),
            elbows=(1.2 + 0.3 * _wave(t, 0.9), 0.1),
            lean=0.03 * _wave(t, 0.5),
        )
        listener = Pose(
            x=425, ground_y=400, facing=-1.0, arms=(0.1, 0.1), lean=0.05 * _wave(t, 0.8)
        )
        return [person(1, speaker), person(2, listener)]

    return _build("talking", fps, duration_s, False, frame)


def hugging(fps: float = 5.0, duration_s: float = 4.0) -> Clip:
    """Two people step together, wrap their arms around each other, sway and let go."""

    def frame(t: float) -> list[Person]:
        close = min(1.0, t / 1.0) if t < 3.0 else max(0.0, 1.0 - (t - 3.0))
        sway = 0.06 * _wave(t, 0.5)
        people = []
        for k, (x, facing) in enumerate(((260.0, 1.0), (420.0, -1.0))):
            shift = (60.0 if k == 0 else -60.0) * close
            arm = 0.1 + 1.0 * close
            pose = Pose(
                x=x + shift,
                ground_y=400,
                facing=facing,
                arms=(arm, arm + 0.15),
                elbows=(0.5 * close, 0.6 * close),
                lean=0.1 * close + sway,
            )
            people.append(person(k + 1, pose))
        return people

    return _build("hugging", fps, duration_s, False, frame)


def tidying_chairs(fps: float = 5.0, duration_s: float = 4.0) -> Clip:
    """One person swinging chairs up onto a stack fast (limbs as fast as a fight's), a second
    standing three body heights away."""

    def frame(t: float) -> list[Person]:
        lift = 0.5 + 0.5 * _wave(t, 2.0)
        worker = Pose(
            x=150 + 40 * _wave(t, 0.4),
            ground_y=400,
            facing=1.0,
            arms=(-0.4 + 2.6 * lift, -0.3 + 2.4 * lift),
            elbows=(0.8 * (1 - lift), 0.6 * (1 - lift)),
            legs=(0.3 * (1 - lift), 0.2 * (1 - lift)),
            knees=(0.5 * (1 - lift), 0.5 * (1 - lift)),
            lean=0.9 * (1 - lift),
        )
        bystander = Pose(x=150 + 3.2 * HEIGHT_PX, ground_y=420, facing=-1.0)
        return [person(1, worker), person(2, bystander)]

    return Clip(
        "tidying_chairs",
        fps,
        tuple(
            tuple(p for p in frame(i / fps) if p.xyxy[0] < FRAME_SIZE[0])
            for i in range(round(duration_s * fps))
        ),
        False,
    )


def crowd_walking(fps: float = 5.0, duration_s: float = 4.0, seed: int = 0) -> Clip:
    """Eight small people walking in both directions in a blurry view; distal joints jitter.

    Wrists, elbows and ankles carry low scores and jump by a fifth of a body height from frame
    to frame, as a pose model's guesses do on blurry, crowded footage.
    """
    rng = np.random.default_rng(seed)
    height = 110.0
    walkers = [
        (
            float(rng.uniform(40, 600)),
            float(rng.choice([-1, 1]) * rng.uniform(50, 90)),
            float(rng.uniform(220, 460)),
            float(rng.uniform(0, 2 * math.pi)),
        )
        for _ in range(8)
    ]
    noise = _Noise(rng, blur_px=0.2 * height, blurred_joints=(7, 8, 9, 10, 15, 16))

    def frame(t: float) -> list[Person]:
        out = []
        for k, (x0, v, y, ph) in enumerate(walkers):
            swing = 0.45 * _wave(t, 0.9, ph)
            pose = Pose(
                x=x0 + v * t,
                ground_y=y,
                height=height * y / 400,
                facing=1.0 if v > 0 else -1.0,
                arms=(-0.35 * swing, 0.35 * swing),
                legs=(swing, -swing),
            )
            out.append(person(k + 1, pose, noise))
        return out

    return _build("crowd_walking", fps, duration_s, False, frame)


ALL_SCENARIOS: dict[str, Callable[..., Clip]] = {
    "fighting": fighting,
    "fighting_missing_joints": fighting_missing_joints,
    "clinch": clinch,
    "fighting_on_floor": fighting_on_floor,
    "walking_past": walking_past,
    "talking": talking,
    "hugging": hugging,
    "tidying_chairs": tidying_chairs,
    "crowd_walking": crowd_walking,
}
"""Every scenario by name; each builder takes `fps` first."""


def render(people: tuple[Person, ...], frame_size: tuple[int, int] = FRAME_SIZE) -> Image:
    """A BGR frame with each person drawn as a thick stick figure on a plain floor and wall."""
    w, h = frame_size
    image = np.full((h, w, 3), (170, 175, 180), np.uint8)
    image[int(h * 0.6) :] = (120, 125, 130)
    for p in people:
        kp = p.keypoints
        thick = max(2, round(float(p.xyxy[3] - p.xyxy[1]) / 14))
        for a, b in SKELETON:
            if np.isnan(kp[a]).any() or np.isnan(kp[b]).any():
                continue
            pa = (round(float(kp[a, 0])), round(float(kp[a, 1])))
            pb = (round(float(kp[b, 0])), round(float(kp[b, 1])))
            cv2.line(image, pa, pb, (40, 50, 70), thick)
        if not np.isnan(kp[0]).any():
            centre = (round(float(kp[0, 0])), round(float(kp[0, 1])))
            cv2.circle(image, centre, thick * 2, (60, 80, 110), -1)
    return image


def poses_of(people: tuple[Person, ...]) -> Poses:
    """The people of one frame as the pose model's `Poses` (no track ids)."""
    if not people:
        return Poses.empty()
    return Poses(
        xyxy=np.stack([p.xyxy for p in people]).astype(np.float32),
        score=np.array([p.score for p in people], np.float32),
        keypoints=np.stack([p.keypoints for p in people]).astype(np.float32),
        keypoint_score=np.stack([p.keypoint_score for p in people]).astype(np.float32),
    )


def perceptions(clip: Clip, camera_id: str = "cam") -> Iterator[Perception]:
    """The clip as cached perception, for feeding a real tracker and `Analyzer`."""
    for i, people in enumerate(clip.frames):
        yield Perception(
            camera_id, i, i / clip.fps, clip.frame_size, poses_of(people), thumbnail(render(people))
        )


def scenes(
    clip: Clip,
    camera_id: str = "cam",
    lost_s: float = 1.0,
    start_s: float = 0.0,
    still: bool = False,
) -> Iterator[Scene]:
    """The clip as detectors see it, with the builder's track ids (no tracker in between).

    Tracks not seen for more than `lost_s` are ended (listed once in `ended_track_ids`).
    `still=True` gives motion thumbnails in which no pixel changed, as when a pose model's
    keypoints jump about on a picture that does not move. Like a tracker's, the tracks grow as
    the clip goes on: use each scene before taking the next (don't `list()` them).
    """
    tracks: dict[int, Track] = {}
    previous: Image | None = None
    for i, people in enumerate(clip.frames):
        t = start_s + i / clip.fps
        for p in people:
            track = tracks.setdefault(p.track_id, Track(p.track_id, camera_id))
            track.history.append(
                TrackPoint(t, i, p.xyxy.copy(), p.score, p.keypoints.copy(), p.keypoint_score)
            )
        ended = tuple(tid for tid, tr in tracks.items() if t - tr.last_seen > lost_s)
        for tid in ended:
            del tracks[tid]
        thumb = thumbnail(render(() if still else people, clip.frame_size))
        yield Scene(
            camera_id=camera_id,
            frame_index=i,
            timestamp=t,
            wall_time=1.7e9 + t,
            frame_size=clip.frame_size,
            tracks=tuple(tracks.values()),
            ended_track_ids=ended,
            motion=difference(previous, thumb),
            motion_scale=float(MOTION_SCALE),
        )
        previous = thumb


def renumber(clip: Clip, from_s: float, old: int, new: int) -> Clip:
    """The clip with track `old` called `new` from `from_s` on, as when a tracker loses someone
    and starts a new id on them."""
    frames = tuple(
        tuple(
            Person(new, p.keypoints, p.keypoint_score, p.xyxy, p.score)
            if p.track_id == old and i / clip.fps >= from_s
            else p
            for p in people
        )
        for i, people in enumerate(clip.frames)
    )
    return Clip(f"{clip.name}-renumbered", clip.fps, frames, clip.fights, clip.frame_size)


def concat(*clips: Clip, gap_s: float = 0.0) -> Clip:
    """Clips one after another (same fps), with `gap_s` of empty frames between them."""
    fps = clips[0].fps
    gap: tuple[tuple[Person, ...], ...] = ((),) * round(gap_s * fps)
    frames: tuple[tuple[Person, ...], ...] = ()
    for k, c in enumerate(clips):
        frames += (gap if k else ()) + c.frames
    return Clip("+".join(c.name for c in clips), fps, frames, any(c.fights for c in clips))
