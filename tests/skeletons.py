"""Procedural skeletons that stand, walk, sit, bend, jump, lie down and fall, as `Poses` per frame.

A person is a list of `Segment`s of motion in 3D, in body heights (x to the person's left
as seen from the camera = image right, y away from the camera, z up; the origin is the floor
under them). `render` projects everyone through a simple `Camera` (orthographic, tilted down by
`tilt_deg`: 0 is a level side-on view, 30-45 a ceiling camera) and yields `(t, Poses)` at the
camera's frame rate, one row per visible person, with NaN for joints that are hidden or out of
the frame::

    cam = Camera(fps=5)
    for t, poses in render([fall("forward")], cam):
        ...

Builders return a `Person`; the scenarios used by the fall tests are at the bottom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from vision.types import NUM_KEYPOINTS, Poses

P3 = npt.NDArray[np.float64]
"""A pose: (17, 3) joint positions in body heights, origin on the floor under the person."""


def _pose(rows: Sequence[tuple[float, float, float]]) -> P3:
    arr = np.array(rows, np.float64)
    assert arr.shape == (NUM_KEYPOINTS, 3)
    return arr


# Key poses, facing the camera (COCO order: nose, eyes, ears, shoulders, elbows, wrists, hips,
# knees, ankles; left = +x).
STAND = _pose([
    (0.0, -0.03, 0.93), (0.03, -0.03, 0.95), (-0.03, -0.03, 0.95), (0.06, 0.0, 0.94),
    (-0.06, 0.0, 0.94), (0.12, 0.0, 0.82), (-0.12, 0.0, 0.82), (0.15, 0.0, 0.64),
    (-0.15, 0.0, 0.64), (0.16, -0.02, 0.48), (-0.16, -0.02, 0.48), (0.09, 0.0, 0.52),
    (-0.09, 0.0, 0.52), (0.09, -0.01, 0.28), (-0.09, -0.01, 0.28), (0.09, 0.0, 0.04),
    (-0.09, 0.0, 0.04),
])  # fmt: skip
SIT_CHAIR = _pose([
    (0.0, -0.01, 0.68), (0.03, -0.01, 0.70), (-0.03, -0.01, 0.70), (0.06, 0.02, 0.69),
    (-0.06, 0.02, 0.69), (0.12, 0.02, 0.57), (-0.12, 0.02, 0.57), (0.15, -0.04, 0.41),
    (-0.15, -0.04, 0.41), (0.13, -0.17, 0.33), (-0.13, -0.17, 0.33), (0.09, 0.0, 0.27),
    (-0.09, 0.0, 0.27), (0.09, -0.24, 0.28), (-0.09, -0.24, 0.28), (0.09, -0.25, 0.04),
    (-0.09, -0.25, 0.04),
])  # fmt: skip
STOOP = _pose([
    (0.0, -0.36, 0.38), (0.03, -0.36, 0.40), (-0.03, -0.36, 0.40), (0.06, -0.33, 0.43),
    (-0.06, -0.33, 0.43), (0.12, -0.28, 0.47), (-0.12, -0.28, 0.47), (0.14, -0.30, 0.28),
    (-0.14, -0.30, 0.28), (0.12, -0.30, 0.08), (-0.12, -0.30, 0.08), (0.09, 0.06, 0.50),
    (-0.09, 0.06, 0.50), (0.09, -0.02, 0.27), (-0.09, -0.02, 0.27), (0.09, 0.0, 0.04),
    (-0.09, 0.0, 0.04),
])  # fmt: skip
SQUAT = _pose([
    (0.0, -0.12, 0.62), (0.03, -0.12, 0.64), (-0.03, -0.12, 0.64), (0.06, -0.09, 0.63),
    (-0.06, -0.09, 0.63), (0.12, -0.06, 0.52), (-0.12, -0.06, 0.52), (0.14, -0.16, 0.36),
    (-0.14, -0.16, 0.36), (0.11, -0.18, 0.08), (-0.11, -0.18, 0.08), (0.10, 0.08, 0.22),
    (-0.10, 0.08, 0.22), (0.11, -0.14, 0.27), (-0.11, -0.14, 0.27), (0.09, 0.0, 0.04),
    (-0.09, 0.0, 0.04),
])  # fmt: skip
CROUCH = _pose([
    (0.0, -0.06, 0.80), (0.03, -0.06, 0.82), (-0.03, -0.06, 0.82), (0.06, -0.03, 0.81),
    (-0.06, -0.03, 0.81), (0.12, -0.03, 0.70), (-0.12, -0.03, 0.70), (0.15, 0.0, 0.53),
    (-0.15, 0.0, 0.53), (0.16, 0.02, 0.38), (-0.16, 0.02, 0.38), (0.09, 0.04, 0.40),
    (-0.09, 0.04, 0.40), (0.09, -0.08, 0.23), (-0.09, -0.08, 0.23), (0.09, 0.0, 0.04),
    (-0.09, 0.0, 0.04),
])  # fmt: skip
KNEEL_UPRIGHT = _pose([
    (0.0, -0.03, 0.66), (0.03, -0.03, 0.68), (-0.03, -0.03, 0.68), (0.06, 0.0, 0.67),
    (-0.06, 0.0, 0.67), (0.12, 0.0, 0.55), (-0.12, 0.0, 0.55), (0.15, 0.0, 0.38),
    (-0.15, 0.0, 0.38), (0.15, -0.04, 0.24), (-0.15, -0.04, 0.24), (0.09, 0.02, 0.26),
    (-0.09, 0.02, 0.26), (0.09, 0.0, 0.04), (-0.09, 0.0, 0.04), (0.09, 0.24, 0.04),
    (-0.09, 0.24, 0.04),
])  # fmt: skip
SIT_FLOOR = _pose([
    (0.0, 0.0, 0.47), (0.03, 0.0, 0.49), (-0.03, 0.0, 0.49), (0.06, 0.03, 0.48),
    (-0.06, 0.03, 0.48), (0.12, 0.04, 0.36), (-0.12, 0.04, 0.36), (0.15, 0.08, 0.20),
    (-0.15, 0.08, 0.20), (0.16, 0.14, 0.04), (-0.16, 0.14, 0.04), (0.09, 0.0, 0.06),
    (-0.09, 0.0, 0.06), (0.09, -0.22, 0.16), (-0.09, -0.22, 0.16), (0.09, -0.45, 0.04),
    (-0.09, -0.45, 0.04),
])  # fmt: skip
HANDS_AND_KNEES = _pose([
    (0.0, -0.42, 0.30), (0.03, -0.42, 0.32), (-0.03, -0.42, 0.32), (0.06, -0.38, 0.33),
    (-0.06, -0.38, 0.33), (0.12, -0.30, 0.27), (-0.12, -0.30, 0.27), (0.13, -0.30, 0.15),
    (-0.13, -0.30, 0.15), (0.13, -0.30, 0.03), (-0.13, -0.30, 0.03), (0.09, 0.02, 0.26),
    (-0.09, 0.02, 0.26), (0.09, 0.0, 0.04), (-0.09, 0.0, 0.04), (0.09, 0.24, 0.04),
    (-0.09, 0.24, 0.04),
])  # fmt: skip


def lying(direction_deg: float = 0.0) -> P3:
    """Lying on the floor, head towards `direction_deg` on the floor (0 = image right,
    90 = away from the camera, 270 = towards it); the feet stay at the origin."""
    return toppled(STAND, 90.0, direction_deg)


def toppled(pose: P3, angle_deg: float, direction_deg: float) -> P3:
    """`pose` rotated by `angle_deg` about the ankles, falling towards `direction_deg` on the
    floor (0 = image right, 90 = away from the camera, 270 = towards it). At 90 the body lies
    flat, a little above the floor."""
    a = math.radians(angle_deg)
    d = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    feet = np.array([0.0, 0.0, 0.04])
    rel = pose - feet
    along = rel[:, :2] @ d  # horizontal offset in the fall direction
    side = rel[:, :2] - along[:, None] * d[None]
    z = rel[:, 2]
    new_along = along * math.cos(a) + z * math.sin(a)
    new_z = -along * math.sin(a) + z * math.cos(a)
    out = np.empty_like(pose)
    out[:, :2] = side + new_along[:, None] * d[None]
    out[:, 2] = np.maximum(new_z, 0.0) + feet[2] + 0.03 * math.sin(a)
    return out


def _ease(u: float) -> float:
    """Smooth start and stop (controlled, voluntary movement)."""
    return u * u * (3 - 2 * u)


def _accelerate(u: float) -> float:
    """Starts slowly and hits the floor at full speed (a fall)."""
    return u * u


PoseAt = Callable[[float], P3]
"""A pose as a function of progress through a segment, 0 to 1."""


def hold(pose: P3) -> PoseAt:
    return lambda u: pose


def blend(a: P3, b: P3, curve: Callable[[float], float] = _ease) -> PoseAt:
    return lambda u: a + (b - a) * curve(u)


@dataclass(frozen=True)
class Segment:
    """`duration_s` of motion: the pose over progress 0-1, moving `move` (body heights on the
    floor, x and y) and `lift` (z, body heights, a jump's arc) meanwhile; `seen=False` means the
    pose model does not find the person during it (as often happens to people lying down)."""

    duration_s: float
    pose: PoseAt
    move: tuple[float, float] = (0.0, 0.0)
    lift: float = 0.0
    seen: bool = True


@dataclass(frozen=True)
class Person:
    """Segments played one after another from `start_s`, from floor position `at` (x, y in body
    heights; x 0 = image centre); hidden before `start_s` and after the last segment ends.
    `missing` joints are never found (NaN); `height` scales this person against the camera's."""

    segments: tuple[Segment, ...]
    at: tuple[float, float] = (0.0, 0.0)
    start_s: float = 0.0
    missing: tuple[int, ...] = ()
    height: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.start_s + sum(s.duration_s for s in self.segments)

    def then(self, *segments: Segment) -> Person:
        return replace(self, segments=(*self.segments, *segments))

    def state(self, t: float) -> tuple[P3, bool] | None:
        """World joints (body heights, floor origin of the scene) at `t`, and whether seen."""
        if t < self.start_s:
            return None
        x, y = self.at
        s0 = self.start_s
        for seg in self.segments:
            if t <= s0 + seg.duration_s or seg is self.segments[-1]:
                u = min(max((t - s0) / seg.duration_s, 0.0), 1.0) if seg.duration_s > 0 else 1.0
                if t > s0 + seg.duration_s + 1e-9:
                    return None
                pose = seg.pose(u).copy()
                pose[:, 0] += x + seg.move[0] * u
                pose[:, 1] += y + seg.move[1] * u
                pose[:, 2] += seg.lift * math.sin(math.pi * u)
                return pose * self.height, seg.seen
            x, y = x + seg.move[0], y + seg.move[1]
            s0 += seg.duration_s
        return None


@dataclass(frozen=True)
class Camera:
    """Where people appear: `body_height_px` tall, feet of a person at y=0 on image row
    `floor_y_px`, x=0 at the image centre; `tilt_deg` looks down on the floor (depth y then
    moves people up the image and foreshortens falls towards or away from the camera)."""

    fps: float = 10.0
    frame_size: tuple[int, int] = (640, 480)
    body_height_px: float = 220.0
    floor_y_px: float = 380.0
    tilt_deg: float = 0.0

    def project(self, joints: P3) -> npt.NDArray[np.float64]:
        """(17, 3) world joints -> (17, 2) pixels."""
        tilt = math.radians(self.tilt_deg)
        s = self.body_height_px
        u = self.frame_size[0] / 2 + joints[:, 0] * s
        up = joints[:, 2] * math.cos(tilt) + joints[:, 1] * math.sin(tilt)
        return np.stack([u, self.floor_y_px - up * s], axis=1)


@dataclass(frozen=True)
class Noise:
    """Jitter of joint positions (fraction of body height) and chance a joint is not found."""

    jitter: float = 0.0
    dropout: float = 0.0
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rng", np.random.default_rng(self.seed))


def render(
    people: Sequence[Person],
    camera: Camera,
    duration_s: float | None = None,
    noise: Noise | None = None,
) -> Iterator[tuple[float, Poses]]:
    """`(t, Poses)` every 1/fps seconds until everyone's script has ended (or `duration_s`).

    Boxes are the joints' extent grown like a detector's (head top, soles), clipped to the frame;
    joints outside the frame are NaN; a person with fewer than 5 joints in view is not found.
    """
    end = duration_s if duration_s is not None else max(p.duration_s for p in people)
    w, h = camera.frame_size
    n_frames = round(end * camera.fps) + 1
    for i in range(n_frames):
        t = i / camera.fps
        rows: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
        for person in people:
            state = person.state(t)
            if state is None or not state[1]:
                continue
            kp = camera.project(state[0])
            if noise is not None and noise.jitter:
                kp = kp + noise.rng.normal(0, noise.jitter * camera.body_height_px, kp.shape)
            inside = (kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)
            if inside.sum() < 5:
                continue
            lo, hi = kp[inside].min(axis=0), kp[inside].max(axis=0)
            pad = 0.06 * camera.body_height_px * person.height
            box = np.array([lo[0] - pad, lo[1] - 1.6 * pad, hi[0] + pad, hi[1] + pad])
            box = np.clip(box, 0, [w - 1, h - 1, w - 1, h - 1])
            kp[~inside] = np.nan
            kp[list(person.missing)] = np.nan
            if noise is not None and noise.dropout:
                kp[noise.rng.random(NUM_KEYPOINTS) < noise.dropout] = np.nan
            rows.append((box, kp))
        if not rows:
            yield t, Poses.empty()
            continue
        kps = np.stack([k for _, k in rows]).astype(np.float32)
        yield (
            t,
            Poses(
                xyxy=np.stack([b for b, _ in rows]).astype(np.float32),
                score=np.full(len(rows), 0.9, np.float32),
                keypoints=kps,
                keypoint_score=np.where(np.isnan(kps[..., 0]), 0.1, 0.9).astype(np.float32),
            ),
        )


# --- Builders ---------------------------------------------------------------------------------


def standing(duration_s: float) -> Segment:
    return Segment(duration_s, hold(STAND))


def _walk_pose(u: float, steps: float) -> P3:
    pose = STAND.copy()
    phase = math.sin(2 * math.pi * steps * u)
    pose[[15, 13], 1] += 0.12 * phase  # left foot and knee forward and back
    pose[[16, 14], 1] -= 0.12 * phase
    pose[15, 2] += 0.04 * max(phase, 0.0)
    pose[16, 2] += 0.04 * max(-phase, 0.0)
    pose[[9, 7], 1] -= 0.06 * phase
    pose[[10, 8], 1] += 0.06 * phase
    pose[:, 2] += 0.01 * abs(phase)
    return pose


def walking(duration_s: float, to: tuple[float, float], steps_per_s: float = 1.8) -> Segment:
    """Walk by `to` (x, y body heights) in `duration_s`."""
    steps = steps_per_s * duration_s
    return Segment(duration_s, lambda u: _walk_pose(u, steps), move=to)


def stand(duration_s: float = 6.0, at: tuple[float, float] = (0.0, 0.0)) -> Person:
    return Person((standing(duration_s),), at=at)


def walk(
    duration_s: float = 6.0,
    at: tuple[float, float] = (-1.2, 0.0),
    to: tuple[float, float] = (2.4, 0),
) -> Person:
    return Person((walking(duration_s, to),), at=at)


def sit_down(chair: bool = True, sit_s: float = 1.2) -> Person:
    """Stand, sit down on a chair (or on the floor when `chair` is False) and stay seated."""
    seat = SIT_CHAIR if chair else SIT_FLOOR
    return Person((standing(2.0), Segment(sit_s, blend(STAND, seat)), Segment(5.0, hold(seat))))


def bend_pickup(squat: bool = False, down_s: float = 0.7, hold_s: float = 1.0) -> Person:
    """Stand, bend to the floor (stooping, or squatting), hold, stand up again."""
    low = SQUAT if squat else STOOP
    return Person(
        (
            standing(2.0),
            Segment(down_s, blend(STAND, low)),
            Segment(hold_s, hold(low)),
            Segment(0.8, blend(low, STAND)),
            standing(3.0),
        )
    )


def jump(times: int = 2) -> Person:
    """Stand, then jump on the spot `times` times (crouch, take off, land)."""
    segs: list[Segment] = [standing(2.0)]
    for _ in range(times):
        segs += [
            Segment(0.25, blend(STAND, CROUCH)),
            Segment(0.45, blend(CROUCH, STAND), lift=0.25),
            Segment(0.25, blend(STAND, CROUCH)),
            Segment(0.35, blend(CROUCH, STAND)),
        ]
    segs.append(standing(3.0))
    return Person(tuple(segs))


def lie_down_slowly(direction_deg: float = 0.0, kneel_s: float = 1.5, lie_s: float = 2.0) -> Person:
    """Lie down on purpose: kneel, put the hands down, lower the body, then lie still."""
    flat = lying(direction_deg)
    hands = toppled(HANDS_AND_KNEES, 0.0, 0.0)
    return Person(
        (
            standing(2.0),
            Segment(kneel_s, blend(STAND, KNEEL_UPRIGHT)),
            Segment(0.8, blend(KNEEL_UPRIGHT, hands)),
            Segment(lie_s, blend(hands, flat)),
            Segment(8.0, hold(flat)),
        )
    )


FALL_DIRECTIONS = {"forward": 270.0, "backward": 90.0, "left": 180.0, "right": 0.0}
"""Fall directions on the floor: forward/backward are towards/away from the camera."""


def fall(
    direction: str = "right",
    fall_s: float = 0.8,
    lie_s: float = 6.0,
    seen_lying: bool = True,
    before_s: float = 3.0,
    at: tuple[float, float] = (0.0, 0.0),
) -> Person:
    """Stand (or walk), lose balance, topple to the floor in `fall_s` accelerating, lie still.

    `seen_lying=False` is the common real case: the pose model stops finding the person once
    they are on the floor.
    """
    d = FALL_DIRECTIONS[direction]

    def falling(u: float) -> P3:
        return toppled(STAND + (CROUCH - STAND) * min(1.0, 2 * u), 90 * u * u, d)

    # When not seen lying, lost from view for the last fifth of the fall.
    seen_part = 1.0 if seen_lying else 0.8
    return Person(
        (
            standing(before_s),
            Segment(fall_s * seen_part, lambda u: falling(u * seen_part)),
            Segment(
                fall_s * (1 - seen_part),
                lambda u: falling(seen_part + (1 - seen_part) * u),
                seen=seen_lying,
            ),
            Segment(lie_s, hold(lying(d)), seen=seen_lying),
        ),
        at=at,
    )


def get_up(person: Person, up_s: float = 2.0, after_s: float = 4.0) -> Person:
    """`person` (ending on the floor) then gets up in `up_s` and stands."""
    last = person.segments[-1].pose(1.0)
    return person.then(
        Segment(up_s / 2, blend(last, HANDS_AND_KNEES)),
        Segment(up_s / 2, blend(HANDS_AND_KNEES, STAND)),
        standing(after_s),
    )


def slow_collapse(sink_s: float = 2.5) -> Person:
    """Sink slowly to the knees, then slump forward onto the floor (a faint, a weak person)."""
    flat = lying(FALL_DIRECTIONS["right"])
    return Person(
        (
            standing(3.0),
            Segment(sink_s, blend(STAND, KNEEL_UPRIGHT)),
            Segment(0.6, blend(KNEEL_UPRIGHT, flat, _accelerate)),
            Segment(6.0, hold(flat)),
        )
    )


def leaning_back(pose: P3, angle_deg: float) -> P3:
    """`pose` with the upper body (head, shoulders, arms) tilted back about the hips."""
    a = math.radians(angle_deg)
    out = pose.copy()
    hips = pose[11:13].mean(axis=0)
    rel = pose[:11] - hips
    out[:11, 1] = hips[1] + rel[:, 1] * math.cos(a) + rel[:, 2] * math.sin(a)
    out[:11, 2] = hips[2] - rel[:, 1] * math.sin(a) + rel[:, 2] * math.cos(a)
    out[:, 2] = np.maximum(out[:, 2], 0.03)
    return out


def fall_onto_bottom(drop_s: float = 0.5, sit_s: float = 6.0, then_up: bool = False) -> Person:
    """Miss a chair and land sitting on the floor in `drop_s`, leaning back on the hands; stay
    `sit_s`, then maybe get up."""
    seat = leaning_back(SIT_FLOOR, 30.0)
    person = Person(
        (
            standing(3.0),
            Segment(drop_s, blend(STAND, seat, _accelerate)),
            Segment(sit_s, hold(seat)),
        )
    )
    if then_up:
        person = person.then(Segment(1.0, blend(seat, STAND)), standing(3.0))
    return person
