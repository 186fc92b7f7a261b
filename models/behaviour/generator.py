"""Procedural skeleton motion: labelled synthetic clips of fights, falls and their look-alikes.

CareWatch's small learned behaviour classifiers (fights: a close pair of people; falls: one
person) are trained only on data the project makes itself, for licence reasons. This module makes
that data. Scripted people move an articulated body through actions (punching, shoving, clinching,
falling forward, sliding off a chair, lying down on purpose, talking, hugging, walking past ...);
a camera projects them; and out comes what a pose model and a camera would deliver, frame by
frame, which the real tracker and the real fight/fall feature code then consume:

- `Poses` with the pose model's faults: an error that wanders slowly (consecutive images give
  nearly the same guess) and grows for small, hidden, lying and fast-moving people, left/right
  flips, joints lost when hidden behind a body or outside the frame (NaN, scored below
  `KEYPOINT_MIN_SCORE` as the real estimator reports them), missed detections in runs, a person
  lying on the floor lost altogether, two people in a clinch seen as one wide box with one
  skeleton mixing both, and rarely a ghost skeleton;
- a grey motion thumbnail as `vision.motion.thumbnail` makes it (1/8 scale, 640x480 -> 80x60),
  rendered directly: a static background with furniture, people as thick limbs in greys of
  random (sometimes low) contrast, fresh sensor noise, now and then a brightness flicker. Static
  parts never change apart from noise, so a frame difference shows motion only where people move.

Realism of what the features measure (wrist and elbow speed relative to the body, pose jitter,
box shape change, pixels changing inside the boxes, torso angle, box height drop) matters more
than looks. The pose model's error, scores and sizes, and the limb speeds, motion energy and hip
drop speeds that come out, were set by comparing their distributions with the estimator's output
on the evaluation footage (CCTV fights and non-fights, lab falls and daily activities; only
summary figures, no data, went into this module)::

    clips = generate("fight", 400)
    clips[0].label, clips[0].subtype      # ("fight", "punching")
    clips[1].label, clips[1].subtype      # ("normal", "walk_past")

Even-numbered clips are positives, odd ones hard negatives of the same behaviour; the subtypes
(`SUBTYPES`) take turns (starting `seed` places on), so any 2 * len(subtypes) consecutive clips
cover all of them. Each clip draws everything from its own `numpy` generator (seed * 100003 +
index), so the same (behaviour, n, seed) gives the same arrays, and clip i does not depend on n.

World coordinates (`_Actor`, `_kinematics`) are in body heights: x to the image right, y away
from the camera, z up, the floor at z = 0. A person's own frame is x to their left, y forward,
z up (COCO's "left" joints are the person's left: on the image right when they face the camera).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from vision.motion import MOTION_SCALE
from vision.types import NUM_KEYPOINTS, Poses

F64 = npt.NDArray[np.float64]
Rng = np.random.Generator
_T = TypeVar("_T")

FPS_CHOICES = (10.0, 15.0, 25.0, 30.0)
"""Frame rates a clip is generated at (downstream subsamples to the analysed rate)."""

FRAME_SIZES = ((640, 480), (852, 640), (320, 240), (1280, 720))
"""(width, height) of the cameras a clip is seen by."""

SUBTYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "fight": {
        "fight": (
            "punching",
            "shoving",
            "grappling",
            "kicking",
            "chase_hit",
            "floor_fight",
            "brawl",
        ),
        "normal": (
            "walk_past",
            "talking",
            "hug",
            "handshake",
            "tidying",
            "walk_together",
            "crowd",
            "solo_exercise",
            "jog_past",
        ),
    },
    "fall": {
        "fall": (
            "fall_forward",
            "fall_knees",
            "fall_backward",
            "fall_sideways",
            "slip",
            "fall_from_chair",
            "collapse",
            "fall_onto_bed",
        ),
        "normal": (
            "lie_down_slowly",
            "sit_chair",
            "sit_floor",
            "pick_up",
            "squat",
            "jump",
            "crawl",
            "stumble",
            "walk",
            "jog",
            "stretch",
        ),
    },
}
"""Per behaviour: the positive subtypes (label = the behaviour) and the hard negatives
(label "normal")."""


@dataclass(frozen=True, eq=False)
class GeneratedClip:
    """One generated clip: per frame what the pose model found and the motion thumbnail.

    `timestamps` (n,) float64 seconds from 0 at `fps`; `poses` one `Poses` per frame (track_id
    None); `thumbs` uint8 (n, ceil(h/8), ceil(w/8)) grey thumbnails of a (w, h) = `frame_size`
    frame. `event_start`/`event_end` are frame indices: for falls the loss of balance and the
    body on the floor (or bed), for fights the first and last violent frame; None for "normal".
    """

    name: str
    label: str
    subtype: str
    fps: float
    frame_size: tuple[int, int]
    timestamps: F64
    poses: tuple[Poses, ...]
    thumbs: npt.NDArray[np.uint8]
    event_start: int | None
    event_end: int | None


def generate(behaviour: Literal["fight", "fall"], n: int, seed: int = 0) -> list[GeneratedClip]:
    """n clips, about half positive, half hard negatives of `behaviour`, deterministic for a seed.

    Clip i is a positive when i is even; subtypes take turns within each half. Names are
    "gen-{behaviour}-{subtype}-{i:04d}" (with "-s{seed}" before the index when seed != 0).
    """
    if behaviour not in SUBTYPES:
        raise ValueError(f"behaviour must be one of {sorted(SUBTYPES)}, got {behaviour!r}")
    if n < 0 or seed < 0:
        raise ValueError(f"n and seed must be >= 0, got n={n}, seed={seed}")
    return [_clip(behaviour, i, seed) for i in range(n)]


# ============================================================================ body parameters

_PARAMS = (
    "x", "y", "lift", "ground", "yaw", "pitch", "roll",
    "bend", "side", "twist", "neck",
    "l_flex", "l_abd", "l_elbow", "l_in", "r_flex", "r_abd", "r_elbow", "r_in",
    "l_hip", "l_hip_abd", "l_knee", "r_hip", "r_hip_abd", "r_knee",
    "gait", "stride", "cadence", "jog",
)  # fmt: skip
"""What a body's pose is made of (angles in radians, places in body heights):

x, y     where the feet are on the floor (the ankles; the supporting one when a foot is lifted)
lift     height above the support (a jump); ground: height of the support (0 floor, a bed)
yaw      the direction the person faces on the floor (0 = image right, pi/2 = away)
pitch    the whole body tilted forward (+, face down at pi/2) or back (-); roll: to their left
bend     the upper body bent forward at the hips; side: bent to the left; twist: shoulders
         turned (+ brings the right shoulder forward); neck: head bent forward
*_flex   arm raised forward (0 hanging, pi/2 forward, pi overhead); *_abd sideways;
*_elbow  elbow bent; *_in the upper arm turned inwards (forearm across the body)
*_hip    thigh raised forward; *_hip_abd sideways; *_knee knee bent
gait     walking amount (0-1) with `stride` (hip swing), `cadence` (steps/s), `jog` (0-1)
"""

_P = {name: i for i, name in enumerate(_PARAMS)}
_DEFAULT = np.zeros(len(_PARAMS))
_DEFAULT[_P["stride"]] = 0.35
_DEFAULT[_P["cadence"]] = 2.0
_TREMOR = np.array(
    [
        _P[n]
        for n in (
            "bend", "side", "twist", "neck", "l_flex", "l_abd", "l_elbow", "r_flex", "r_abd",
            "r_elbow", "l_hip", "l_knee", "r_hip", "r_knee",
        )
    ]
)  # fmt: skip

_LINEAR, _SMOOTH, _ACCEL, _DECEL, _SNAP = range(5)
"""Easing of a keyframe segment: constant speed; slow-in slow-out (voluntary movement);
accelerating (a fall: hits the floor at full speed); decelerating; a snap (a kick, a shove)."""

Posture = Mapping[str, float]


def _posture(base: Posture | None = None, /, **over: float) -> dict[str, float]:
    out = dict(_STAND if base is None else base)
    out.update(over)
    return out


def _arms(
    flex: float, abd: float, elbow: float, inward: float, sides: str = "lr"
) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in sides:
        out.update({f"{s}_flex": flex, f"{s}_abd": abd, f"{s}_elbow": elbow, f"{s}_in": inward})
    return out


def _legs(hip: float, abd: float, knee: float, sides: str = "lr") -> dict[str, float]:
    out: dict[str, float] = {}
    for s in sides:
        out.update({f"{s}_hip": hip, f"{s}_hip_abd": abd, f"{s}_knee": knee})
    return out


_STAND: dict[str, float] = {
    "pitch": 0.0, "roll": 0.0, "bend": 0.0, "side": 0.0, "twist": 0.0, "neck": 0.0,
    **_arms(0.05, 0.12, 0.2, 0.1), **_legs(0.0, 0.04, 0.03),
}  # fmt: skip
_GUARD = _posture(bend=0.15, neck=0.1, **_arms(0.55, 0.2, 2.0, 0.35), **_legs(0.1, 0.1, 0.3))
_COVER = _posture(bend=0.3, neck=0.35, **_arms(1.1, 0.25, 2.5, 0.6), **_legs(0.1, 0.1, 0.35))
_COWER = _posture(bend=0.75, neck=0.5, **_arms(2.1, 0.3, 2.3, 0.7), **_legs(0.8, 0.12, 1.3))
_CLINCH = _posture(bend=0.45, **_arms(1.25, 0.15, 1.4, 0.9), **_legs(0.2, 0.12, 0.35))
_HUG = _posture(bend=0.12, **_arms(1.35, 0.05, 1.6, 1.1))
_TALK = _posture(**_arms(0.35, 0.12, 1.2, 0.3))
_FOLDED = _posture(**_arms(0.35, -0.1, 2.0, 1.3))
_SIT_CHAIR = _posture(bend=0.05, **_arms(0.45, 0.1, 1.0, 0.3), **_legs(1.5, 0.08, 1.5))
_SIT_FLOOR = _posture(bend=0.3, **_arms(0.8, 0.1, 0.4, 0.2), **_legs(1.45, 0.1, 0.4))
_SIT_FLOOR_BACK = _posture(bend=-0.35, **_arms(-0.7, 0.2, 0.1, 0.0), **_legs(1.45, 0.1, 0.9))
_STOOP = _posture(bend=1.35, neck=-0.4, **_arms(1.35, 0.05, 0.15, 0.1), **_legs(0.15, 0.06, 0.25))
_SQUAT = _posture(bend=0.55, **_arms(1.1, 0.1, 0.6, 0.3), **_legs(2.0, 0.15, 2.3))
_CROUCH = _posture(bend=0.3, **_arms(0.4, 0.15, 0.6, 0.1), **_legs(0.6, 0.06, 1.0))
_KNEEL = _posture(bend=0.05, **_arms(0.2, 0.1, 0.3, 0.1), **_legs(0.0, 0.06, 1.65))
_HALF_KNEEL = _posture(bend=0.1, **_arms(0.5, 0.1, 0.6, 0.2), l_hip=1.5, l_knee=1.5, r_knee=1.65)
_HANDS_KNEES = _posture(
    bend=1.45, neck=-0.6, **_arms(1.45, 0.05, 0.05, 0.0), **_legs(0.05, 0.08, 1.6)
)
_LIE_BACK = _posture(pitch=-1.52, **_arms(0.1, 0.35, 0.3, 0.0), **_legs(0.05, 0.08, 0.1))
_LIE_FRONT = _posture(pitch=1.5, neck=-0.2, **_arms(0.2, 1.3, 1.4, -1.2), **_legs(0.0, 0.08, 0.15))
_LIE_SIDE = _posture(roll=1.45, bend=0.2, **_arms(1.0, 0.1, 0.8, 0.3), **_legs(0.6, 0.0, 0.9))


# ============================================================================ scripted people

_Key = tuple[float, float, int]


def _u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _pick(rng: Rng, options: Sequence[_T]) -> _T:
    return options[int(rng.integers(len(options)))]


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi


def _ease(kind: npt.NDArray[np.int64], u: F64) -> F64:
    return np.asarray(
        np.select(
            [kind == _LINEAR, kind == _SMOOTH, kind == _ACCEL, kind == _DECEL],
            [u, u * u * (3 - 2 * u), u * u, 1 - (1 - u) ** 2],
            1 - (1 - u) ** 3,
        ),
        np.float64,
    )


def _interp(keys: Sequence[_Key], t: F64) -> F64:
    """Keyframes (time, value, easing of the segment ending there) at times `t`."""
    times = np.array([k[0] for k in keys])
    values = np.array([k[1] for k in keys])
    eases = np.array([k[2] for k in keys], np.int64)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    j = np.minimum(i + 1, len(times) - 1)
    span = times[j] - times[i]
    u = np.clip((t - times[i]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    u = np.where(span > 0, u, 1.0)
    return np.asarray(values[i] + (values[j] - values[i]) * _ease(eases[j], u), np.float64)


_DIMS = np.array([0.09, 0.245, 0.245, 0.30, 0.125, 0.18, 0.16])
"""Half hip width, thigh, shank, pelvis to shoulders, half shoulder width, upper arm, forearm
(body heights; the ankle is 0.04 above the sole, the head top 0.07 above the eyes)."""


class _Actor:
    """One scripted person: keyframes per body parameter, in layers that add up.

    The "base" layer holds the pose; other layers ("hit": recoils, "step": footwork) add offsets
    on top, so a recoil and a punch of the same person can be scripted independently. `set`
    moves parameters to targets between t0 and t1; a key before the last one interrupts it (the
    movement starts from wherever the parameter is at t0)."""

    def __init__(
        self, rng: Rng, x: float, y: float, yaw: float, posture: Posture, height: float = 0.0
    ) -> None:
        self.height = height or _u(rng, 0.9, 1.1)
        self.dims = _DIMS * rng.uniform(0.95, 1.05, len(_DIMS)) * self.height
        self.layers: dict[str, dict[int, list[_Key]]] = {"base": {}}
        for name, v in {**posture, "x": x, "y": y, "yaw": yaw}.items():
            self.layers["base"][_P[name]] = [(0.0, float(v), _LINEAR)]
        self.phase0 = _u(rng, 0, 2 * math.pi)
        self.tremor_amp = rng.uniform(0.008, 0.03, (len(_TREMOR), 3)) * _u(rng, 0.6, 1.4)
        self.tremor_hz = rng.uniform(0.2, 2.2, (len(_TREMOR), 3))
        self.tremor_phase = rng.uniform(0, 2 * math.pi, (len(_TREMOR), 3))
        self.sway = rng.uniform(0.002, 0.008, 2)

    def set(
        self, t0: float, t1: float, ease: int = _SMOOTH, layer: str = "base", /, **targets: float
    ) -> None:
        keys = self.layers.setdefault(layer, {})
        t0 = max(t0, 0.0)
        for name, value in targets.items():
            i = _P[name]
            start = float(_DEFAULT[i]) if layer == "base" else 0.0
            ks = keys.setdefault(i, [(0.0, start, _LINEAR)])
            if ks[-1][0] > t0:
                now = float(_interp(ks, np.array([t0]))[0])
                while len(ks) > 1 and ks[-1][0] > t0:
                    ks.pop()
                ks.append((t0, now, _LINEAR))
            elif ks[-1][0] < t0:
                ks.append((t0, ks[-1][1], _LINEAR))
            if name == "yaw" and layer == "base":
                value = ks[-1][1] + _wrap(value - ks[-1][1])
            ks.append((max(t1, t0 + 1e-3), float(value), ease))

    def pose(
        self, t0: float, t1: float, posture: Posture, ease: int = _SMOOTH, /, **over: float
    ) -> None:
        self.set(t0, t1, ease, **{**posture, **over})

    def value(self, name: str, t: float, layer: str = "base") -> float:
        ks = self.layers.get(layer, {}).get(_P[name])
        if ks is None:
            return float(_DEFAULT[_P[name]]) if layer == "base" else 0.0
        return float(_interp(ks, np.array([t]))[0])

    def where(self, t: float) -> tuple[float, float]:
        return self.value("x", t), self.value("y", t)

    def sample(self, times: F64) -> F64:
        """(n, params) at `times`, with walking and a small tremor added."""
        p = np.tile(_DEFAULT, (len(times), 1))
        for name, layer in self.layers.items():
            for i, ks in layer.items():
                v = _interp(ks, times)
                p[:, i] = v if name == "base" else p[:, i] + v
        dt = np.diff(times, prepend=times[0])
        g, stride, jog = p[:, _P["gait"]], p[:, _P["stride"]], p[:, _P["jog"]]
        phase = self.phase0 + np.cumsum(math.pi * p[:, _P["cadence"]] * dt)
        s, c = np.sin(phase), np.cos(phase)
        amp = g * stride
        p[:, _P["l_hip"]] += amp * s
        p[:, _P["r_hip"]] -= amp * s
        knee = g * (0.06 + (1.1 + 0.9 * jog) * stride)
        p[:, _P["l_knee"]] += knee * np.maximum(c, 0) + 0.06 * g
        p[:, _P["r_knee"]] += knee * np.maximum(-c, 0) + 0.06 * g
        p[:, _P["l_flex"]] -= 0.8 * amp * s
        p[:, _P["r_flex"]] += 0.8 * amp * s
        p[:, _P["l_elbow"]] += g * jog * 1.3
        p[:, _P["r_elbow"]] += g * jog * 1.3
        p[:, _P["bend"]] += g * jog * 0.15
        p[:, _P["lift"]] += g * jog * 0.03 * np.abs(s)
        wave = np.sin(
            2 * math.pi * self.tremor_hz[None] * times[:, None, None] + self.tremor_phase[None]
        )
        p[:, _TREMOR] += (wave * self.tremor_amp[None]).sum(axis=2)
        p[:, _P["x"]] += self.sway[0] * np.sin(2 * math.pi * 0.3 * times + self.phase0)
        p[:, _P["y"]] += self.sway[1] * np.sin(2 * math.pi * 0.23 * times + 2 * self.phase0)
        return p


# ============================================================================ kinematics


def _rot(kind: str, a: F64) -> F64:
    """(n, 3, 3) rotations of a person's frame (x left, y forward, z up).

    "fwd" tilts up towards forward, "lat" tilts up towards the left, "twist" turns forward
    towards the left (the left shoulder goes back), "yaw" maps the person's frame into the world
    for facing direction `a`."""
    c, s = np.cos(a), np.sin(a)
    m = np.zeros((len(a), 3, 3))
    if kind == "fwd":
        m[:, 0, 0] = 1
        m[:, 1, 1], m[:, 1, 2], m[:, 2, 1], m[:, 2, 2] = c, s, -s, c
    elif kind == "lat":
        m[:, 1, 1] = 1
        m[:, 0, 0], m[:, 0, 2], m[:, 2, 0], m[:, 2, 2] = c, s, -s, c
    elif kind == "twist":
        m[:, 2, 2] = 1
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, s, -s, c
    else:
        m[:, 2, 2] = 1
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = -s, c, c, s
    return m


def _limb(flex: F64, abd: F64, bend: F64, turn: F64, side: float, knee: bool) -> tuple[F64, F64]:
    """Unit directions (n, 3) of the upper and lower segment of a limb in its parent's frame.

    The upper segment hangs down, raised forward by `flex` and sideways by `abd`; the lower one
    bends by `bend` towards the front (elbows) or back (knees) of the upper, the bending plane
    turned inwards by `turn`."""
    r = _rot("fwd", -flex) @ _rot("lat", -side * abd)
    upper = -r[:, :, 2]
    front = -r[:, :, 1] if knee else r[:, :, 1]
    medial = -side * r[:, :, 0]
    b = np.cos(turn)[:, None] * front + np.sin(turn)[:, None] * medial
    lower = np.cos(bend)[:, None] * upper + np.sin(bend)[:, None] * b
    return upper, lower


_HEAD = np.array(
    [
        (0.0, 0.075, 0.11), (0.03, 0.065, 0.13), (-0.03, 0.065, 0.13),
        (0.07, 0.0, 0.12), (-0.07, 0.0, 0.12), (0.0, 0.01, 0.12),
    ]
)  # fmt: skip
"""Nose, eyes, ears and head centre above the shoulders' midpoint, in the head's frame."""

_HEAD_CENTRE = NUM_KEYPOINTS
"""Index of the extra 18th point the kinematics return: the centre of the head."""


def _kinematics(p: F64, dims: F64, height: float) -> F64:
    """World joints (n, 18, 3): COCO-17 and the head centre, for parameters (n, params)."""
    n = len(p)
    col = {name: p[:, i] for name, i in _P.items()}
    hip_w, thigh, shank, trunk, sh_w, upper_arm, forearm = dims
    local = np.zeros((n, 18, 3))
    for side, s, (hip, knee, ankle) in ((1.0, "l", (11, 13, 15)), (-1.0, "r", (12, 14, 16))):
        d_thigh, d_shank = _limb(
            col[f"{s}_hip"], col[f"{s}_hip_abd"], col[f"{s}_knee"], np.zeros(n), side, knee=True
        )
        local[:, hip, 0] = side * hip_w
        local[:, knee] = local[:, hip] + thigh * d_thigh
        local[:, ankle] = local[:, knee] + shank * d_shank
    r_trunk = _rot("fwd", col["bend"]) @ _rot("lat", col["side"]) @ _rot("twist", col["twist"])
    neck = r_trunk[:, :, 2] * trunk
    for side, s, (shoulder, elbow, wrist) in ((1.0, "l", (5, 7, 9)), (-1.0, "r", (6, 8, 10))):
        d_up, d_fore = _limb(
            col[f"{s}_flex"], col[f"{s}_abd"], col[f"{s}_elbow"], col[f"{s}_in"], side, knee=False
        )
        local[:, shoulder] = neck + side * sh_w * r_trunk[:, :, 0]
        local[:, elbow] = local[:, shoulder] + upper_arm * np.einsum("nij,nj->ni", r_trunk, d_up)
        local[:, wrist] = local[:, elbow] + forearm * np.einsum("nij,nj->ni", r_trunk, d_fore)
    r_head = r_trunk @ _rot("fwd", col["neck"])
    local[:, [0, 1, 2, 3, 4, _HEAD_CENTRE]] = neck[:, None] + np.einsum(
        "nij,kj->nki", r_head, _HEAD * height
    )
    r_body = _rot("yaw", col["yaw"]) @ _rot("fwd", col["pitch"]) @ _rot("lat", col["roll"])
    world = np.einsum("nij,nkj->nki", r_body, local)
    # The feet stay where the script puts them: the lower ankle when one foot is well off the
    # floor (a kick), both otherwise; the lowest point rests on the support.
    ankles = world[:, 15:17]
    above = ankles[:, :, 2] - ankles[:, :, 2].min(axis=1, keepdims=True)
    w = np.exp(-np.maximum(above - 0.06 * height, 0.0) / (0.03 * height))
    anchor = (ankles[:, :, :2] * w[:, :, None]).sum(axis=1) / w.sum(axis=1)[:, None]
    world[:, :, 0] += (col["x"] - anchor[:, 0])[:, None]
    world[:, :, 1] += (col["y"] - anchor[:, 1])[:, None]
    lowest = world[:, :, 2].min(axis=1)
    world[:, :, 2] += (col["ground"] + col["lift"] + 0.04 * height - lowest)[:, None]
    return np.asarray(world, np.float64)


# ============================================================================ actions


def _walk(
    a: _Actor, t0: float, t1: float, x: float, y: float, jog: float = 0.0, face: bool = True
) -> None:
    """Walk (or jog) in a straight line to (x, y) between t0 and t1, facing the way."""
    x0, y0 = a.where(t0)
    dist = math.hypot(x - x0, y - y0)
    speed = dist / max(t1 - t0, 1e-3)
    if face and dist > 0.05:
        a.set(t0 - 0.1, t0 + 0.15, _SMOOTH, yaw=math.atan2(y - y0, x - x0))
    stride = 0.55 if jog > 0.5 else min(max(0.18 + 0.25 * speed, 0.2), 0.45)
    cadence = min(max(speed / (0.95 * math.sin(stride)), 1.0), 3.4)
    amount = min(max(speed / 0.4, 0.3), 1.0)
    a.set(t0, t0 + 0.2, _SMOOTH, gait=amount, stride=stride, cadence=cadence, jog=jog)
    a.set(t0, t1, _LINEAR, x=x, y=y)
    a.set(max(t0 + 0.2, t1 - 0.2), t1, _SMOOTH, gait=0.0, jog=0.0)


def _gestures(rng: Rng, a: _Actor, t0: float, t1: float, vigour: float = 1.0) -> None:
    """Talking with the hands: smooth arm movements, now and then an emphatic quick one."""
    t = t0 + _u(rng, 0, 0.3)
    while t < t1 - 0.2:
        dur = _u(rng, 0.3, 0.9) / vigour
        if rng.random() < 0.2 * vigour:
            dur = _u(rng, 0.15, 0.3)
        sides = _pick(rng, ("l", "r", "r", "lr"))
        targets: dict[str, float] = {}
        for s in sides:
            targets.update(
                {
                    f"{s}_flex": _u(rng, 0.1, 1.1),
                    f"{s}_abd": _u(rng, 0.05, 0.6),
                    f"{s}_elbow": _u(rng, 0.5, 1.9),
                    f"{s}_in": _u(rng, -0.3, 0.6),
                }
            )
        a.set(t, t + dur, _SMOOTH, **targets)
        if rng.random() < 0.3:
            a.set(t, t + dur, _SMOOTH, neck=_u(rng, -0.15, 0.3))
        t += dur + _u(rng, 0.0, 0.5)
    a.set(t1 - 0.2, t1 + 0.4, _SMOOTH, **_arms(0.3, 0.12, 1.0, 0.3))


def _idle(rng: Rng, a: _Actor, t0: float, t1: float) -> None:
    """Standing about: weight shifts, a hand to the face or pocket now and then."""
    t = t0 + _u(rng, 0.2, 1.0)
    while t < t1:
        dur = _u(rng, 0.6, 1.5)
        a.set(
            t,
            t + dur,
            _SMOOTH,
            "step",
            x=float(rng.normal(0, 0.03)),
            side=float(rng.normal(0, 0.05)),
        )
        if rng.random() < 0.3:
            s = _pick(rng, ("l", "r"))
            a.set(
                t,
                t + dur,
                _SMOOTH,
                **{f"{s}_flex": _u(rng, 0.0, 1.2), f"{s}_elbow": _u(rng, 0.3, 2.2)},
            )
        t += dur + _u(rng, 0.2, 1.2)


def _footwork(rng: Rng, a: _Actor, t0: float, t1: float, amp: float = 0.12) -> None:
    """A fighter's feet and trunk: shuffling, bobbing, leaning, turning, never still."""
    t = t0
    while t < t1:
        dur = _u(rng, 0.15, 0.35)
        knees = {"l_knee": _u(rng, 0, 0.3), "r_knee": _u(rng, 0, 0.3)}
        lean = {"bend": float(rng.normal(0, 0.12)), "side": float(rng.normal(0, 0.1))}
        dx, dy, turn = rng.normal(0, [amp, amp, 0.15])
        a.set(t, t + dur, _SMOOTH, "step", x=dx, y=dy, yaw=turn, **knees, **lean)
        t += dur + _u(rng, 0.05, 0.3)


def _recoil(rng: Rng, a: _Actor, t: float, strength: float, away: float) -> None:
    """Hit: the head snaps back, the body gives way from `away` (a yaw), then recovers."""
    snap, back = _u(rng, 0.06, 0.1), _u(rng, 0.3, 0.5)
    push = 0.1 * strength
    hit = {
        "neck": -0.4 * strength,
        "bend": -0.2 * strength,
        "twist": float(rng.normal(0, 0.3)) * strength,
        "x": math.cos(away) * push,
        "y": math.sin(away) * push,
    }
    a.set(t, t + snap, _DECEL, "hit", **hit)
    a.set(t + snap, t + snap + back, _SMOOTH, "hit", **dict.fromkeys(hit, 0.0))


def _punch(rng: Rng, a: _Actor, t: float, s: str, kind: str) -> tuple[float, float]:
    """One strike with arm `s` from t: (when it lands, when the arm is back in a guard).

    The arm is drawn back first (a brawler's wind-up, 0.05-0.15 s), then thrown in 0.08-0.15 s:
    the fist travels 0.4-0.6 body heights, 4-10 body heights a second at its fastest."""
    bend0 = a.value("bend", t)
    sign = 1.0 if s == "r" else -1.0
    wind, ext, ret = _u(rng, 0.05, 0.15), _u(rng, 0.08, 0.15), _u(rng, 0.12, 0.3)
    if kind == "overhand":
        back = _arms(_u(rng, 2.4, 3.0), _u(rng, 0.2, 0.6), _u(rng, 0.8, 1.6), 0.0, s)
        out = _arms(_u(rng, 0.7, 1.2), _u(rng, 0.0, 0.3), _u(rng, 0.1, 0.4), 0.2, s)
        lean = _u(rng, 0.3, 0.6)
    elif kind == "hook":
        back = _arms(_u(rng, -0.3, 0.3), _u(rng, 1.1, 1.5), _u(rng, 0.6, 1.4), 0.0, s)
        out = _arms(_u(rng, 1.1, 1.5), _u(rng, -0.3, 0.3), _u(rng, 1.0, 1.6), _u(rng, 0.4, 0.9), s)
        lean = _u(rng, 0.1, 0.25)
    elif kind == "uppercut":
        back = _arms(_u(rng, -0.4, 0.0), _u(rng, 0.1, 0.4), _u(rng, 1.4, 2.0), 0.2, s)
        out = _arms(_u(rng, 1.7, 2.3), 0.1, _u(rng, 1.2, 1.7), 0.3, s)
        lean = -0.05
    else:
        back = _arms(_u(rng, -0.4, 0.2), _u(rng, 0.1, 0.4), _u(rng, 1.9, 2.4), 0.1, s)
        out = _arms(_u(rng, 1.35, 1.8), _u(rng, -0.15, 0.25), _u(rng, 0.0, 0.3), 0.0, s)
        lean = _u(rng, 0.1, 0.3)
    guard = _arms(_u(rng, 0.2, 0.8), _u(rng, 0.1, 0.4), _u(rng, 1.3, 2.3), _u(rng, 0.0, 0.5), s)
    twist = sign * _u(rng, 0.3, 0.7)
    a.set(t, t + wind, _SMOOTH, twist=-0.5 * twist, bend=bend0 - 0.05, **back)
    t += wind
    a.set(t, t + ext, _SMOOTH, twist=twist, bend=bend0 + lean, **out)
    a.set(t + ext, t + ext + ret, _SMOOTH, twist=0.0, bend=bend0, **guard)
    return t + ext, t + ext + ret


def _kick(rng: Rng, a: _Actor, t: float, s: str) -> tuple[float, float]:
    """A front or round kick with leg `s` from t, arms flung out for balance: (when it lands,
    when the leg is back)."""
    o = "l" if s == "r" else "r"
    names = (f"{s}_hip", f"{s}_hip_abd", f"{s}_knee", f"{o}_knee", "bend", "twist")
    keep = {k: a.value(k, t) for k in names}
    chamber, ext, back = _u(rng, 0.1, 0.16), _u(rng, 0.07, 0.13), _u(rng, 0.2, 0.32)
    round_kick = rng.random() < 0.35
    lift = {f"{s}_hip": _u(rng, 0.9, 1.3), f"{s}_knee": _u(rng, 1.5, 2.0), f"{o}_knee": 0.25}
    flung = _arms(_u(rng, -0.4, 0.8), _u(rng, 0.6, 1.3), _u(rng, 0.3, 1.2), 0.0)
    a.set(t, t + chamber, _SMOOTH, bend=-_u(rng, 0.1, 0.3), **lift, **flung)
    snap = {f"{s}_hip": _u(rng, 1.1, 1.7), f"{s}_knee": _u(rng, 0.05, 0.3)}
    snap[f"{s}_hip_abd"] = _u(rng, 0.6, 1.1) if round_kick else 0.05
    twist = (0.5 if s == "r" else -0.5) if round_kick else 0.0
    a.set(t + chamber, t + chamber + ext, _SNAP, twist=twist, **snap)
    guard = _arms(_u(rng, 0.3, 0.7), 0.2, _u(rng, 1.5, 2.2), 0.3)
    a.set(t + chamber + ext, t + chamber + ext + back, _SMOOTH, **keep, **guard)
    return t + chamber + ext, t + chamber + ext + back


def _attack(
    rng: Rng,
    a: _Actor,
    t0: float,
    t1: float,
    kinds: Sequence[str] = ("straight", "straight", "hook", "hook", "uppercut", "overhand"),
    kick: float = 0.0,
) -> list[float]:
    """Strikes in an irregular rhythm from t0 to t1 (a kick with chance `kick`): landing times."""
    hits: list[float] = []
    t = t0
    last = _pick(rng, ("l", "r"))
    while t < t1 - 0.15:
        s = last if rng.random() < 0.3 else ("l" if last == "r" else "r")
        last = s
        if rng.random() < kick:
            hit, end = _kick(rng, a, t, s)
        else:
            hit, end = _punch(rng, a, t, s, _pick(rng, kinds))
        hits.append(hit)
        gap = float(rng.exponential(0.08))
        if rng.random() < 0.1:
            gap += _u(rng, 0.3, 0.6)
        t = end - _u(rng, 0.0, 0.1) + gap
    return hits


def _window(rng: Rng, duration: float) -> tuple[float, float]:
    """When the violence of a fight clip starts and ends (mostly the whole clip)."""
    start = _u(rng, 0.0, 0.4) if rng.random() < 0.75 else _u(rng, 0.5, min(1.2, duration / 2))
    end = duration - _u(rng, 0.0, 0.3)
    if rng.random() < 0.2:
        end = _u(rng, min(start + 1.0, end), end)
    return start, end


def _axis(rng: Rng) -> float:
    """Direction on the floor from one of a pair to the other: mostly across the image."""
    a = _u(rng, -0.6, 0.6) if rng.random() < 0.7 else _u(rng, -1.2, 1.2)
    return a + (math.pi if rng.random() < 0.5 else 0.0)


def _pair(
    rng: Rng, d: float, centre: tuple[float, float] | None = None, axis: float | None = None
) -> tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float], float]:
    """Two people `d` apart facing each other: (x, y, yaw) of each, the centre and the axis."""
    axis = _axis(rng) if axis is None else axis
    cx, cy = centre if centre is not None else (_u(rng, -0.3, 0.3), _u(rng, -0.3, 1.0))
    ex, ey = math.cos(axis), math.sin(axis)
    a = (cx - d / 2 * ex, cy - d / 2 * ey, axis)
    b = (cx + d / 2 * ex, cy + d / 2 * ey, axis + math.pi)
    return a, b, (cx, cy), axis


# ============================================================================ scripts


@dataclass
class _Script:
    """What happens in one clip: the people, how long, when the event is, where to look.

    `merge` is how readily the pose model sees two overlapping people as one; `lying_miss` the
    share of frames it misses a person lying on the floor (1: lost altogether), `lying_penalty`
    how much less sure it is of their joints. `props` are furniture drawn under a person:
    (actor, time s, half width, height) in body heights at that person's feet."""

    actors: list[_Actor]
    duration: float
    event: tuple[float, float] | None
    focus: tuple[float, float]
    merge: float = 0.2
    lying_miss: float = 0.0
    lying_penalty: float = 0.0
    props: list[tuple[int, float, float, float]] = field(default_factory=list)


def _fight_duration(rng: Rng) -> float:
    return _u(rng, 2.0, 4.0)


def _punching(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.45, 0.85)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(rng, d)
    start, end = _window(rng, dur)
    a = _Actor(rng, xa, ya, yaw_a, _GUARD if rng.random() < 0.7 else _STAND)
    b = _Actor(rng, xb, yb, yaw_b, _pick(rng, (_GUARD, _STAND, _TALK)))
    if start > 0.5:
        back = _u(rng, 0.3, 0.7)
        a.set(0, 0, x=xa - back * math.cos(axis), y=ya - back * math.sin(axis))
        _walk(a, _u(rng, 0.0, 0.2), start - 0.05, xa, ya)
        a.pose(start - 0.25, start, _GUARD)
    for hit in _attack(rng, a, start, end):
        if rng.random() < 0.7:
            _recoil(rng, b, hit, _u(rng, 0.4, 1.0), axis)
    if rng.random() < 0.45:
        b.pose(start, start + 0.2, _GUARD)
        for hit in _attack(rng, b, start + _u(rng, 0.2, 0.6), end):
            if rng.random() < 0.6:
                _recoil(rng, a, hit, _u(rng, 0.3, 0.9), axis + math.pi)
    else:
        b.pose(start + 0.05, start + _u(rng, 0.15, 0.35), _COVER)
    _footwork(rng, a, 0, dur)
    _footwork(rng, b, 0, dur)
    if end < dur - 0.4:
        a.pose(end + 0.1, end + 0.6, _STAND)
        b.pose(end + 0.1, end + 0.7, _STAND)
    return _Script([a, b], dur, (start, end), centre, merge=_u(rng, 0.1, 0.5))


def _shoving(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.45, 0.75)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(rng, d)
    start, end = _window(rng, dur)
    a = _Actor(rng, xa, ya, yaw_a, _TALK)
    b = _Actor(rng, xb, yb, yaw_b, _TALK)
    _gestures(rng, a, 0, start, vigour=1.3)
    ex, ey = math.cos(axis), math.sin(axis)
    along = {a: -d / 2, b: d / 2}
    shover, target = (a, b) if rng.random() < 0.5 else (b, a)
    t = start
    while t < end - 0.15:
        sign = 1.0 if shover is a else -1.0
        gap = along[b] - along[a]
        if gap > 0.8:  # close in first
            step_in = gap - _u(rng, 0.45, 0.6)
            along[shover] += sign * step_in
            x, y = centre[0] + along[shover] * ex, centre[1] + along[shover] * ey
            _walk(shover, t, t + 0.35, x, y, face=False)
            t += 0.35
        push = _u(rng, 0.12, 0.25)
        shover.set(t - 0.1, t, _SMOOTH, **_arms(0.7, 0.1, 1.6, 0.2))
        shover.set(
            t,
            t + push,
            _SNAP,
            bend=_u(rng, 0.25, 0.45),
            **_arms(_u(rng, 1.3, 1.55), _u(rng, 0.0, 0.2), _u(rng, 0.05, 0.3), 0.0),
        )
        step = _u(rng, 0.1, 0.25)
        along[shover] += sign * step
        shover.set(
            t,
            t + push,
            _DECEL,
            x=centre[0] + along[shover] * ex,
            y=centre[1] + along[shover] * ey,
        )
        shover.set(t + push, t + push + 0.3, _SMOOTH, bend=0.1, **_arms(0.4, 0.15, 1.0, 0.2))
        hit = t + 0.6 * push
        lurch, ldur = _u(rng, 0.25, 0.6), _u(rng, 0.25, 0.45)
        along[target] += sign * lurch
        target.set(
            hit,
            hit + ldur,
            _DECEL,
            x=centre[0] + along[target] * ex,
            y=centre[1] + along[target] * ey,
        )
        target.set(hit, hit + 0.12, _DECEL, "hit", pitch=-_u(rng, 0.15, 0.35), neck=-0.3)
        target.set(hit + 0.12, hit + ldur + 0.2, _SMOOTH, "hit", pitch=0.0, neck=0.0)
        target.set(
            hit,
            hit + 0.12,
            _SNAP,
            **_arms(_u(rng, 0.3, 1.0), _u(rng, 0.6, 1.4), _u(rng, 0.2, 0.8), 0.0),
        )
        target.set(hit + 0.12, hit + 0.5, _SMOOTH, **_arms(0.4, 0.15, 1.0, 0.2))
        target.set(hit, hit + 0.1, _SMOOTH, gait=0.7, cadence=3.0)
        target.set(hit + ldur - 0.1, hit + ldur, _SMOOTH, gait=0.0)
        t = hit + ldur + _u(rng, 0.1, 0.5)
        if rng.random() < 0.5:
            shover, target = target, shover
    _footwork(rng, a, 0, dur, 0.05)
    _footwork(rng, b, 0, dur, 0.05)
    return _Script([a, b], dur, (start, end), centre, merge=_u(rng, 0.15, 0.5))


def _grappling(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.22, 0.4)
    axis = _axis(rng)
    cx, cy = _u(rng, -0.3, 0.3), _u(rng, -0.3, 1.0)
    start, end = _window(rng, dur)
    apart = _u(rng, 0.7, 1.0) if start > 0.5 else d
    (xa, ya, yaw_a), (xb, yb, yaw_b), _, _ = _pair(rng, apart, (cx, cy), axis)
    a = _Actor(rng, xa, ya, yaw_a, _TALK if start > 0.5 else _CLINCH)
    b = _Actor(rng, xb, yb, yaw_b, _TALK if start > 0.5 else _CLINCH)
    t = start
    while t < end:
        step = _u(rng, 0.15, 0.45)
        if t > start:
            cx += float(rng.normal(0, 0.12))
            cy += float(rng.normal(0, 0.08))
            axis += float(rng.normal(0, 0.35))
        ex, ey = math.cos(axis), math.sin(axis)
        ease = _SNAP if rng.random() < 0.5 else _SMOOTH
        for actor, sign in ((a, -1.0), (b, 1.0)):
            targets: dict[str, float] = {
                "x": cx + sign * d / 2 * ex,
                "y": cy + sign * d / 2 * ey,
                "yaw": axis if sign < 0 else axis + math.pi,
                "twist": _u(rng, -0.5, 0.5),
                "bend": _u(rng, 0.2, 0.7),
                "side": _u(rng, -0.25, 0.25),
            }
            for s in "lr":
                targets.update(
                    {
                        f"{s}_flex": _u(rng, 0.8, 1.8),
                        f"{s}_abd": _u(rng, -0.1, 0.5),
                        f"{s}_elbow": _u(rng, 0.6, 1.8),
                        f"{s}_in": _u(rng, 0.4, 1.2),
                        f"{s}_hip": _u(rng, -0.2, 0.5),
                        f"{s}_knee": _u(rng, 0.1, 0.8),
                    }
                )
            if rng.random() < 0.12:
                s = _pick(rng, ("l", "r"))
                targets.update({f"{s}_hip": _u(rng, 1.1, 1.4), f"{s}_knee": _u(rng, 1.4, 1.8)})
            actor.set(t, t + step, ease, **targets)
        t += step
    if end < dur - 0.4:
        ex, ey = math.cos(axis), math.sin(axis)
        for actor, sign in ((a, -1.0), (b, 1.0)):
            actor.pose(end, end + 0.4, _STAND, x=cx + sign * 0.4 * ex, y=cy + sign * 0.4 * ey)
    _footwork(rng, a, 0, dur, 0.04)
    _footwork(rng, b, 0, dur, 0.04)
    return _Script([a, b], dur, (start, end), (cx, cy), merge=_u(rng, 0.45, 0.95))


def _kicking(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.6, 1.0)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(rng, d)
    start, end = _window(rng, dur)
    a = _Actor(rng, xa, ya, yaw_a, _GUARD)
    b = _Actor(rng, xb, yb, yaw_b, _pick(rng, (_GUARD, _STAND)))
    for hit in _attack(rng, a, start, end, kick=0.6):
        if rng.random() < 0.7:
            _recoil(rng, b, hit, _u(rng, 0.5, 1.0), axis)
            if rng.random() < 0.3:
                b.set(hit, hit + 0.15, _SNAP, "hit", bend=0.6)
                b.set(hit + 0.15, hit + 0.6, _SMOOTH, "hit", bend=0.0)
    if rng.random() < 0.4:
        for hit in _attack(rng, b, start + _u(rng, 0.2, 0.6), end, kick=0.3):
            if rng.random() < 0.5:
                _recoil(rng, a, hit, _u(rng, 0.3, 0.8), axis + math.pi)
    else:
        b.pose(start + 0.1, start + 0.4, _COVER)
    _footwork(rng, a, 0, dur)
    _footwork(rng, b, 0, dur)
    return _Script([a, b], dur, (start, end), centre, merge=_u(rng, 0.05, 0.3))


def _chase_hit(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    axis = _axis(rng)
    ex, ey = math.cos(axis), math.sin(axis)
    caught = _u(rng, 0.4, 1.0)
    head_start = _u(rng, 0.9, 1.6)
    vb = _u(rng, 1.0, 1.6)
    gap = _u(rng, 0.45, 0.65)
    ox, oy = _u(rng, -0.3, 0.3) - ex * vb * caught, _u(rng, -0.2, 0.8) - ey * vb * caught
    b = _Actor(rng, ox + head_start * ex, oy + head_start * ey, axis, _STAND)
    a = _Actor(rng, ox, oy, axis, _STAND)
    bx, by = ox + (head_start + vb * caught) * ex, oy + (head_start + vb * caught) * ey
    _walk(b, 0, caught, bx, by, jog=0.8)
    _walk(a, 0, caught, bx - gap * ex, by - gap * ey, jog=1.0)
    b.set(caught, caught + 0.3, _SMOOTH, yaw=axis + math.pi + _u(rng, -0.6, 0.6))
    b.pose(caught, caught + _u(rng, 0.2, 0.3), _COWER)
    if rng.random() < 0.4:
        b.pose(caught + _u(rng, 0.4, 1.0), caught + 1.3, _COWER, **_legs(0.3, 0.1, 1.65))
    start = caught + _u(rng, 0.05, 0.25)
    end = dur - _u(rng, 0.0, 0.3)
    a.pose(caught, start, _GUARD)
    kinds = ("overhand", "overhand", "straight", "hook")
    for hit in _attack(rng, a, start, end, kinds=kinds, kick=0.25):
        if rng.random() < 0.75:
            _recoil(rng, b, hit, _u(rng, 0.4, 1.0), axis)
    _footwork(rng, a, caught, dur, 0.05)
    return _Script([a, b], dur, (start, end), (bx, by), merge=_u(rng, 0.1, 0.5))


def _floor_fight(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    yaw = _u(rng, 0, 2 * math.pi)
    fx, fy = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    lying = _posture(_LIE_BACK, **_arms(_u(rng, 1.2, 1.8), 0.3, 1.8, 0.6), **_legs(0.8, 0.1, 1.4))
    b = _Actor(rng, fx, fy, yaw, lying)
    tx, ty = fx - 0.55 * math.cos(yaw), fy - 0.55 * math.sin(yaw)  # the lying person's chest
    side = 1.0 if rng.random() < 0.5 else -1.0
    perp = yaw + side * math.pi / 2
    mounted = rng.random() < 0.35
    standing = not mounted and rng.random() < 0.4
    if mounted:
        a = _Actor(rng, tx, ty, yaw + math.pi, _posture(_KNEEL, bend=0.5, **_legs(0.0, 0.5, 1.65)))
    else:
        off = 0.45 if standing else 0.3
        ax, ay = tx + off * math.cos(perp), ty + off * math.sin(perp)
        a = _Actor(
            rng,
            ax,
            ay,
            perp + math.pi,
            _posture(_GUARD if standing else _KNEEL, bend=_u(rng, 0.4, 0.8)),
        )
    start, end = _window(rng, dur)
    kinds = ("overhand", "straight", "straight") if not standing else ("overhand",)
    for hit in _attack(rng, a, start, end, kinds=kinds, kick=0.5 if standing else 0.0):
        if rng.random() < 0.6:
            b.set(hit, hit + 0.08, _DECEL, "hit", roll=float(rng.normal(0, 0.2)), neck=-0.3)
            b.set(hit + 0.08, hit + 0.4, _SMOOTH, "hit", roll=0.0, neck=0.0)
    t = start
    while t < end:
        step = _u(rng, 0.15, 0.4)
        s = _pick(rng, ("l", "r"))
        b.set(
            t,
            t + step,
            _SNAP,
            **{
                f"{s}_flex": _u(rng, 0.8, 2.4),
                f"{s}_elbow": _u(rng, 0.5, 2.2),
                f"{s}_abd": _u(rng, 0.0, 0.8),
            },
        )
        if rng.random() < 0.4:
            leg = _pick(rng, ("l", "r"))
            b.set(
                t,
                t + step,
                _SNAP,
                **{f"{leg}_hip": _u(rng, 0.2, 1.3), f"{leg}_knee": _u(rng, 0.2, 1.6)},
            )
        t += step
    return _Script([a, b], dur, (start, end), (tx, ty), merge=_u(rng, 0.3, 0.8))


def _brawl(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.5, 0.8)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(rng, d)
    start, end = _window(rng, dur)
    a = _Actor(rng, xa, ya, yaw_a, _GUARD)
    b = _Actor(rng, xb, yb, yaw_b, _GUARD)
    for hit in _attack(rng, a, start, end):
        if rng.random() < 0.6:
            _recoil(rng, b, hit, _u(rng, 0.4, 1.0), axis)
    for hit in _attack(rng, b, start + _u(rng, 0.1, 0.5), end):
        if rng.random() < 0.6:
            _recoil(rng, a, hit, _u(rng, 0.4, 1.0), axis + math.pi)
    # The third one comes in from the side and goes for one of them.
    victim, victim_xy = (a, (xa, ya)) if rng.random() < 0.5 else (b, (xb, yb))
    ang = axis + _pick(rng, (1.0, -1.0)) * _u(rng, 0.9, 2.2)
    far = _u(rng, 1.0, 1.6)
    c = _Actor(
        rng,
        victim_xy[0] + far * math.cos(ang),
        victim_xy[1] + far * math.sin(ang),
        ang + math.pi,
        _STAND,
    )
    join = min(start + _u(rng, 0.2, 0.8), dur - 1.0)
    near = _u(rng, 0.45, 0.6)
    _walk(
        c,
        0.0 if join < 0.6 else join - 0.6,
        join,
        victim_xy[0] + near * math.cos(ang),
        victim_xy[1] + near * math.sin(ang),
        jog=0.6,
    )
    c.pose(join, join + 0.15, _GUARD, yaw=ang + math.pi)
    for hit in _attack(rng, c, join + 0.1, end, kinds=("straight", "overhand", "hook"), kick=0.2):
        if rng.random() < 0.5:
            _recoil(rng, victim, hit, _u(rng, 0.3, 0.8), ang + math.pi)
    for actor in (a, b, c):
        _footwork(rng, actor, 0, dur)
    return _Script([a, b, c], dur, (start, end), centre, merge=_u(rng, 0.15, 0.5))


def _walk_past(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    cross = _u(rng, 0.35, 0.65) * dur
    axis = _u(rng, -0.4, 0.4)
    ex, ey = math.cos(axis), math.sin(axis)
    cx, cy = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    people = []
    for sign in (1.0, -1.0):
        v = _u(rng, 0.5, 1.1)
        off = _u(rng, -0.35, 0.35)
        px, py = cx - off * ey * sign, cy + off * ex * sign
        x0, y0 = px - sign * v * cross * ex, py - sign * v * cross * ey
        x1, y1 = px + sign * v * (dur - cross) * ex, py + sign * v * (dur - cross) * ey
        a = _Actor(rng, x0, y0, math.atan2(y1 - y0, x1 - x0), _STAND)
        _walk(a, 0, dur + 0.3, x1, y1)
        if rng.random() < 0.3:  # carrying something
            s = _pick(rng, ("l", "r"))
            a.set(0, 0.2, _SMOOTH, **{f"{s}_flex": 0.3, f"{s}_elbow": 1.5, f"{s}_in": 0.5})
        people.append(a)
    return _Script(people, dur, None, (cx, cy), merge=_u(rng, 0.1, 0.4))


def _talking(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    d = _u(rng, 0.55, 1.2)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, _ = _pair(rng, d)
    a = _Actor(rng, xa, ya, yaw_a + _u(rng, -0.5, 0.5), _pick(rng, (_TALK, _STAND, _FOLDED)))
    b = _Actor(rng, xb, yb, yaw_b + _u(rng, -0.5, 0.5), _pick(rng, (_TALK, _STAND, _FOLDED)))
    t = 0.0
    speaker, listener = (a, b) if rng.random() < 0.5 else (b, a)
    while t < dur:
        turn = _u(rng, 0.8, 2.0)
        _gestures(rng, speaker, t, min(t + turn, dur), vigour=_u(rng, 0.6, 1.4))
        if rng.random() < 0.5:
            _gestures(rng, listener, t, min(t + turn, dur), vigour=0.4)
        t += turn
        speaker, listener = listener, speaker
    _idle(rng, a, 0, dur)
    _idle(rng, b, 0, dur)
    return _Script([a, b], dur, None, centre, merge=_u(rng, 0.05, 0.3))


def _hug(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    close = _u(rng, 0.25, 0.35)
    already = rng.random() < 0.3
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(
        rng, close if already else _u(rng, 0.9, 1.4)
    )
    a = _Actor(rng, xa, ya, yaw_a, _HUG if already else _STAND)
    b = _Actor(rng, xb, yb, yaw_b, _HUG if already else _STAND)
    meet = 0.0 if already else _u(rng, 0.5, 1.1)
    ex, ey = math.cos(axis), math.sin(axis)
    if not already:
        for actor, sign in ((a, -1.0), (b, 1.0)):
            _walk(
                actor,
                0.0,
                meet,
                centre[0] + sign * close / 2 * ex,
                centre[1] + sign * close / 2 * ey,
            )
            actor.pose(meet - 0.35, meet - 0.05, _STAND, **_arms(1.2, 0.6, 0.5, 0.0))
            actor.pose(meet - 0.05, meet + 0.4, _HUG, bend=_u(rng, 0.05, 0.2))
    release = min(meet + _u(rng, 1.0, 2.0), dur)
    patter = _pick(rng, (a, b))
    t = meet + _u(rng, 0.3, 0.6)
    pat_end = min(t + _u(rng, 0.4, 0.9), release - 0.1)
    while t < pat_end:
        half = _u(rng, 0.12, 0.2)
        patter.set(t, t + half, _SMOOTH, r_elbow=1.3)
        patter.set(t + half, t + 2 * half, _SMOOTH, r_elbow=1.7)
        t += 2 * half
    for actor in (a, b):
        actor.set(
            meet,
            release,
            _SMOOTH,
            "step",
            yaw=float(rng.normal(0, 0.15)),
            side=float(rng.normal(0, 0.08)),
        )
    if release < dur - 0.3:
        for actor, sign in ((a, -1.0), (b, 1.0)):
            actor.pose(
                release,
                release + 0.5,
                _STAND,
                x=centre[0] + sign * 0.35 * ex,
                y=centre[1] + sign * 0.35 * ey,
            )
    return _Script([a, b], dur, None, centre, merge=_u(rng, 0.3, 0.8))


def _handshake(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    close = _u(rng, 0.6, 0.75)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, axis = _pair(rng, _u(rng, 1.0, 1.5))
    a = _Actor(rng, xa, ya, yaw_a, _STAND)
    b = _Actor(rng, xb, yb, yaw_b, _STAND)
    meet = _u(rng, 0.5, 1.0)
    ex, ey = math.cos(axis), math.sin(axis)
    shake = _u(rng, 2.0, 3.0)
    cycles = int(rng.integers(3, 6))
    for actor, sign in ((a, -1.0), (b, 1.0)):
        _walk(
            actor, 0.0, meet, centre[0] + sign * close / 2 * ex, centre[1] + sign * close / 2 * ey
        )
        actor.set(
            meet - 0.3, meet + 0.1, _SMOOTH, r_flex=0.85, r_abd=-0.05, r_elbow=0.55, r_in=0.25
        )
        t = meet + 0.1
        for _ in range(cycles):
            actor.set(t, t + 0.5 / shake, _SMOOTH, r_flex=0.97)
            actor.set(t + 0.5 / shake, t + 1.0 / shake, _SMOOTH, r_flex=0.8)
            t += 1.0 / shake
        actor.set(t, t + 0.4, _SMOOTH, **_arms(0.3, 0.12, 1.0, 0.3, "r"))
        _gestures(rng, actor, t + 0.4, dur, vigour=0.5)
    return _Script([a, b], dur, None, centre, merge=_u(rng, 0.05, 0.3))


def _tidying(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    (xa, ya, yaw_a), (xb, yb, yaw_b), centre, _ = _pair(rng, _u(rng, 0.6, 1.2))
    a = _Actor(rng, xa, ya, yaw_a + _u(rng, -1.5, 1.5), _STAND)
    b = _Actor(rng, xb, yb, yaw_b + _u(rng, -0.6, 0.6), _pick(rng, (_TALK, _FOLDED, _STAND)))
    t = _u(rng, 0.0, 0.4)
    low = _pick(rng, (_STOOP, _SQUAT))
    while t < dur:
        down = _u(rng, 0.5, 0.8)
        a.pose(t, t + down, low)
        t += down + _u(rng, 0.2, 0.4)
        up = _u(rng, 0.5, 0.7)
        a.pose(t, t + up, _STAND, **_arms(0.9, 0.1, 1.3, 0.6))
        t += up
        x, y = a.where(t)
        ang = _u(rng, 0, 2 * math.pi)
        walk = _u(rng, 0.4, 0.8)
        _walk(a, t, t + walk, x + 0.35 * math.cos(ang), y + 0.35 * math.sin(ang))
        t += walk
    if rng.random() < 0.5:
        _gestures(rng, b, 0, dur, vigour=0.6)
    else:
        _idle(rng, b, 0, dur)
    return _Script([a, b], dur, None, centre, merge=_u(rng, 0.05, 0.3))


def _walk_together(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    heading = _pick(rng, (0.0, math.pi)) + _u(rng, -0.5, 0.5)
    ex, ey = math.cos(heading), math.sin(heading)
    v = _u(rng, 0.4, 1.0)
    lateral = _u(rng, 0.35, 0.6)
    cx, cy = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    people = []
    for sign in (-0.5, 0.5):
        px, py = cx - sign * lateral * ey, cy + sign * lateral * ex
        a = _Actor(rng, px - v * dur / 2 * ex, py - v * dur / 2 * ey, heading, _STAND)
        _walk(a, 0, dur + 0.3, px + v * (dur / 2 + 0.3) * ex, py + v * (dur / 2 + 0.3) * ey)
        if rng.random() < 0.4:
            _gestures(rng, a, 0, dur, vigour=0.5)
        people.append(a)
    return _Script(people, dur, None, (cx, cy), merge=_u(rng, 0.05, 0.3))


def _crowd(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    people = []
    for _ in range(int(rng.integers(3, 7))):
        x, y = _u(rng, -1.3, 1.3), _u(rng, -0.5, 2.0)
        if rng.random() < 0.7:
            heading = _u(rng, 0, 2 * math.pi)
            v = _u(rng, 0.4, 1.1)
            a = _Actor(rng, x, y, heading, _STAND)
            _walk(
                a,
                0,
                dur + 0.3,
                x + v * (dur + 0.3) * math.cos(heading),
                y + v * (dur + 0.3) * math.sin(heading),
            )
        else:
            a = _Actor(rng, x, y, _u(rng, 0, 2 * math.pi), _TALK)
            _gestures(rng, a, 0, dur, vigour=0.7)
        people.append(a)
    return _Script(people, dur, None, (0.0, 0.6), merge=_u(rng, 0.1, 0.4))


def _solo_exercise(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    x, y = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    a = _Actor(rng, x, y, _u(rng, 0, 2 * math.pi), _STAND)
    kind = _pick(rng, ("wave", "jacks", "circles", "shadow_boxing", "stretch"))
    t = _u(rng, 0.0, 0.4)
    if kind == "wave":
        s = _pick(rng, ("l", "r"))
        hz = _u(rng, 1.5, 3.0)
        a.set(t, t + 0.3, _SMOOTH, **{f"{s}_abd": 2.4, f"{s}_flex": 0.3, f"{s}_elbow": 0.4})
        t += 0.3
        while t < dur:
            a.set(t, t + 0.5 / hz, _SMOOTH, **{f"{s}_abd": 2.0, f"{s}_elbow": 0.9})
            a.set(t + 0.5 / hz, t + 1 / hz, _SMOOTH, **{f"{s}_abd": 2.7, f"{s}_elbow": 0.2})
            t += 1 / hz
    elif kind == "jacks":
        hz = _u(rng, 0.8, 1.3)
        while t < dur:
            half = 0.5 / hz
            a.set(t, t + half, _SMOOTH, **_arms(0.1, 2.7, 0.2, 0.0), **_legs(0.0, 0.35, 0.1))
            a.set(t, t + half / 2, _DECEL, lift=0.06)
            a.set(t + half / 2, t + half, _ACCEL, lift=0.0)
            a.set(
                t + half,
                t + 2 * half,
                _SMOOTH,
                **_arms(0.05, 0.15, 0.2, 0.0),
                **_legs(0.0, 0.04, 0.1),
            )
            a.set(t + half, t + 1.5 * half, _DECEL, lift=0.06)
            a.set(t + 1.5 * half, t + 2 * half, _ACCEL, lift=0.0)
            t += 2 * half
    elif kind == "circles":
        hz = _u(rng, 0.6, 1.2)
        while t < dur:
            q = 0.25 / hz
            for flex, abd in ((1.6, 0.3), (2.9, 0.3), (1.6, 1.3), (0.2, 0.3)):
                a.set(t, t + q, _SMOOTH, **_arms(flex, abd, 0.15, 0.0))
                t += q
    elif kind == "shadow_boxing":
        a.pose(0, t, _GUARD)
        _attack(rng, a, t, dur)
        _footwork(rng, a, 0, dur)
    else:
        while t < dur:
            a.pose(
                t,
                t + _u(rng, 0.6, 1.0),
                _STAND,
                side=_pick(rng, (-0.4, 0.4)),
                **_arms(2.9, 0.2, 0.3, 0.0),
            )
            t += _u(rng, 0.8, 1.2)
    people = [a]
    if rng.random() < 0.4:
        far = _u(rng, 1.8, 3.0)
        ang = _u(rng, -0.5, 0.5) + _pick(rng, (0.0, math.pi))
        b = _Actor(
            rng, x + far * math.cos(ang), y + far * math.sin(ang) * 0.5, _u(rng, 0, 6.28), _STAND
        )
        _idle(rng, b, 0, dur)
        people.append(b)
    return _Script(people, dur, None, (x, y), merge=0.1)


def _jog_past(rng: Rng) -> _Script:
    dur = _fight_duration(rng)
    bx, by = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    b = _Actor(rng, bx, by, _u(rng, 0, 2 * math.pi), _pick(rng, (_STAND, _TALK, _FOLDED)))
    _idle(rng, b, 0, dur)
    people = [b]
    if rng.random() < 0.3:
        c = _Actor(rng, bx + _u(rng, 0.6, 0.9), by + _u(rng, -0.1, 0.1), math.pi, _TALK)
        _gestures(rng, c, 0, dur, vigour=0.8)
        people.append(c)
    heading = _pick(rng, (0.0, math.pi)) + _u(rng, -0.4, 0.4)
    v = _u(rng, 1.4, 2.4)
    off = _u(rng, -0.7, 0.7)
    cross = _u(rng, 0.35, 0.65) * dur
    ex, ey = math.cos(heading), math.sin(heading)
    px, py = bx - off * ey, by + off * ex
    a = _Actor(rng, px - v * cross * ex, py - v * cross * ey, heading, _STAND)
    _walk(
        a,
        0,
        dur + 0.3,
        px + v * (dur - cross + 0.3) * ex,
        py + v * (dur - cross + 0.3) * ey,
        jog=1.0,
    )
    people.append(a)
    return _Script(people, dur, None, (bx, by), merge=_u(rng, 0.1, 0.4))


# ----------------------------------------------------------------------------- falls


def _fall_duration(rng: Rng) -> tuple[float, float]:
    """(clip length, when balance is lost): 5-8 s, 1-2 s upright first."""
    return _u(rng, 5.0, 8.0), _u(rng, 1.0, 2.0)


def _subject(rng: Rng, until: float, walking: float = 0.5) -> tuple[_Actor, bool]:
    """The person who falls (or not), standing about or walking until `until`."""
    yaw = _u(rng, 0, 2 * math.pi)
    x, y = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
    if rng.random() < walking:
        v = _u(rng, 0.4, 0.9)
        a = _Actor(rng, x - v * until * math.cos(yaw), y - v * until * math.sin(yaw), yaw, _STAND)
        _walk(a, 0, until + 0.15, x + 0.1 * v * math.cos(yaw), y + 0.1 * v * math.sin(yaw))
        return a, True
    a = _Actor(rng, x, y, yaw, _pick(rng, (_STAND, _TALK, _FOLDED)))
    _idle(rng, a, 0, until)
    return a, False


def _bystander(rng: Rng, subject: _Actor, dur: float) -> list[_Actor]:
    """Sometimes someone else walks past, in front or behind."""
    if rng.random() >= 0.35:
        return []
    sx, sy = subject.where(0)
    depth = _pick(rng, (-1.0, 1.0)) * _u(rng, 0.8, 2.0)
    v = _u(rng, 0.4, 1.0)
    heading = _pick(rng, (0.0, math.pi))
    x0 = sx - math.cos(heading) * v * dur / 2
    a = _Actor(rng, x0, sy + depth, heading, _STAND)
    _walk(a, _u(rng, 0, 1.0), dur + 0.3, x0 + math.cos(heading) * v * (dur + 0.3), sy + depth)
    return [a]


def _after_fall(rng: Rng, a: _Actor, floor: float, dur: float, lying: Posture) -> None:
    """Lying on the floor: still, moving a little, or trying to get up."""
    r = rng.random()
    if r < 0.3:
        t = floor + _u(rng, 1.0, 2.0)
        if t < dur - 1.0:
            up = _pick(rng, (_HANDS_KNEES, _SIT_FLOOR, _SIT_FLOOR_BACK))
            rise = _u(rng, 0.8, 1.5)
            a.pose(t, t + rise, up, yaw=a.value("yaw", t))
            t += rise + _u(rng, 0.4, 1.2)
            if rng.random() < 0.5:
                a.pose(t, t + _u(rng, 0.6, 1.0), lying)
    elif r < 0.7:
        t = floor + _u(rng, 0.5, 1.5)
        while t < dur:
            s = _pick(rng, ("l", "r"))
            dt = _u(rng, 0.5, 1.2)
            a.set(
                t,
                t + dt,
                _SMOOTH,
                **{
                    f"{s}_flex": a.value(f"{s}_flex", t) + _u(rng, -0.5, 0.5),
                    f"{s}_elbow": _u(rng, 0.3, 1.8),
                },
                neck=_u(rng, -0.4, 0.2),
            )
            t += dt + _u(rng, 0.3, 1.5)


def _lying_model(rng: Rng) -> tuple[float, float]:
    """(lying_miss, lying_penalty): how badly the pose model copes with a person on the floor."""
    r = rng.random()
    miss = 0.0 if r < 0.6 else (_u(rng, 0.1, 0.5) if r < 0.85 else 1.0)
    return miss, _u(rng, 0.05, 0.3)


def _fall_script(rng: Rng, kind: str) -> _Script:
    dur, t0 = _fall_duration(rng)
    if kind == "fall_from_chair":
        a = _Actor(rng, _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8), _u(rng, 0, 6.28), _SIT_CHAIR)
        _idle(rng, a, 0, t0)
        walking = False
    else:
        a, walking = _subject(rng, t0, walking=0.6 if kind in ("slip", "fall_forward") else 0.4)
    left = _pick(rng, (1.0, -1.0))
    props: list[tuple[int, float, float, float]] = []
    if kind == "fall_forward":
        trip, fall, flat = _u(rng, 0.15, 0.3), _u(rng, 0.28, 0.5), _u(rng, 0.2, 0.5)
        a.set(
            t0,
            t0 + trip,
            _ACCEL,
            pitch=_u(rng, 0.25, 0.45),
            l_hip=_u(rng, 0.3, 0.6),
            **_arms(_u(rng, 1.2, 1.7), 0.2, 0.4, 0.2),
        )
        a.set(
            t0 + trip,
            t0 + trip + fall,
            _ACCEL,
            pitch=_u(rng, 1.15, 1.35),
            **_arms(_u(rng, 1.3, 1.6), 0.25, 0.2, 0.0),
            **_legs(0.0, 0.06, 0.3),
        )
        floor = t0 + trip + fall + flat
        lying = _posture(
            _LIE_FRONT, **_arms(_u(rng, 0.0, 0.6), _u(rng, 1.0, 1.5), _u(rng, 1.0, 1.6), -1.2)
        )
        a.pose(t0 + trip + fall, floor, lying)
    elif kind == "fall_knees":
        k, h, f = _u(rng, 0.22, 0.38), _u(rng, 0.15, 0.28), _u(rng, 0.22, 0.45)
        a.pose(t0, t0 + k, _KNEEL, _ACCEL, bend=0.35, **_arms(1.2, 0.2, 0.4, 0.1))
        a.pose(t0 + k, t0 + k + h, _HANDS_KNEES, _ACCEL)
        floor = t0 + k + h + f
        lying = _LIE_FRONT
        a.pose(t0 + k + h, floor, lying)
    elif kind in ("fall_backward", "slip"):
        trip = _u(rng, 0.1, 0.18) if kind == "slip" else _u(rng, 0.15, 0.25)
        fall = _u(rng, 0.25, 0.4) if kind == "slip" else _u(rng, 0.35, 0.6)
        yaw = a.value("yaw", t0)
        if kind == "slip":
            x, y = a.where(t0)
            a.set(
                t0, t0 + trip + fall, _DECEL, x=x + 0.3 * math.cos(yaw), y=y + 0.3 * math.sin(yaw)
            )
            a.set(
                t0,
                t0 + trip,
                _ACCEL,
                pitch=-0.35,
                **_legs(0.7, 0.06, 0.2),
                **_arms(1.6, 0.7, 0.4, 0.0),
            )
        else:
            a.set(t0, t0 + trip, _ACCEL, pitch=-_u(rng, 0.2, 0.35), **_arms(0.9, 0.9, 0.4, 0.0))
            a.set(t0 + trip, t0 + trip + 0.6 * fall, _ACCEL, **_legs(0.6, 0.08, 0.6))
        floor = t0 + trip + fall
        on_side = kind == "slip" and rng.random() < 0.3
        a.set(
            t0 + trip,
            floor,
            _ACCEL,
            pitch=-1.2 if on_side else -1.48,
            roll=0.5 * left if on_side else 0.0,
        )
        lying = _posture(
            _LIE_BACK, **_legs(0.25, 0.1, 0.4), **_arms(0.3, _u(rng, 0.3, 0.9), 0.4, 0.0)
        )
        a.pose(
            floor,
            floor + 0.3,
            lying,
            _DECEL,
            pitch=-1.2 if on_side else -1.52,
            roll=0.5 * left if on_side else 0.0,
        )
        floor += 0.1
    elif kind == "fall_sideways":
        trip, fall = _u(rng, 0.1, 0.2), _u(rng, 0.32, 0.6)
        reach = "l" if left > 0 else "r"
        a.set(t0, t0 + trip, _ACCEL, roll=0.2 * left, **{f"{reach}_abd": 1.0, f"{reach}_flex": 0.4})
        floor = t0 + trip + fall
        a.set(t0 + trip, floor, _ACCEL, roll=1.42 * left, **_legs(0.3, 0.06, 0.35))
        lying = _posture(_LIE_SIDE, roll=1.45 * left)
        a.pose(floor, floor + 0.3, lying)
    elif kind == "fall_from_chair":
        slide, tip = _u(rng, 0.22, 0.45), _u(rng, 0.25, 0.45)
        props.append((0, 0.0, 0.16, 0.27))
        a.pose(t0, t0 + slide, _SIT_FLOOR, _ACCEL, pitch=-0.15, **_legs(1.45, 0.1, 0.2))
        floor = t0 + slide + tip
        if rng.random() < 0.5:
            lying = _posture(_LIE_SIDE, roll=1.4 * left, **_legs(1.0, 0.06, 0.6))
        else:
            lying = _posture(_LIE_BACK, **_legs(0.75, 0.06, 1.4))
        a.pose(t0 + slide, floor, lying, _ACCEL)
    elif kind == "collapse":
        sink = _u(rng, 0.5, 1.5)
        limp = _posture(
            _KNEEL, bend=0.35, neck=0.5, **_arms(0.1, 0.05, 0.2, 0.0), **_legs(0.4, 0.06, 1.5)
        )
        a.pose(t0, t0 + 0.55 * sink, limp, _SMOOTH)
        floor = t0 + sink
        if rng.random() < 0.5:
            lying = _posture(_LIE_SIDE, roll=1.42 * left, neck=0.3)
        else:
            lying = _posture(_LIE_FRONT, **_legs(0.2, 0.06, 0.6))
        a.pose(t0 + 0.55 * sink, floor, lying, _ACCEL)
    else:  # fall_onto_bed
        trip, fall = _u(rng, 0.15, 0.25), _u(rng, 0.3, 0.55)
        bed = _u(rng, 0.12, 0.35)
        floor = t0 + trip + fall
        if rng.random() < 0.5:
            a.set(t0, t0 + trip, _ACCEL, pitch=0.3, **_arms(1.4, 0.2, 0.4, 0.2))
            a.set(t0 + trip, floor, _ACCEL, pitch=1.45, **_arms(2.2, 0.5, 0.8, 0.0))
            lying = _posture(_LIE_FRONT)
        else:
            a.set(t0, t0 + trip, _ACCEL, roll=0.2 * left)
            a.set(t0 + trip, floor, _ACCEL, roll=1.42 * left)
            lying = _posture(_LIE_SIDE, roll=1.45 * left)
        a.set(t0 + trip + 0.4 * fall, floor, _DECEL, ground=bed)
        a.pose(floor, floor + 0.3, lying)
        props.append((0, dur, 0.55, bed))
    if walking:
        a.set(t0, t0 + 0.15, _SMOOTH, gait=0.0)
    _after_fall(rng, a, floor + 0.3, dur, lying)
    miss, penalty = _lying_model(rng)
    people = [a, *_bystander(rng, a, dur)]
    return _Script(people, dur, (t0, min(floor, dur)), a.where(t0), 0.2, miss, penalty, props)


def _not_fall_script(rng: Rng, kind: str) -> _Script:
    dur, t0 = _fall_duration(rng)
    props: list[tuple[int, float, float, float]] = []
    miss, penalty = 0.0, 0.0
    if kind in ("walk", "jog", "stumble"):
        yaw = _u(rng, 0, 2 * math.pi)
        v = _u(rng, 1.3, 2.2) if kind == "jog" else _u(rng, 0.3, 0.9)
        x, y = _u(rng, -0.3, 0.3), _u(rng, -0.2, 0.8)
        a = _Actor(
            rng, x - v * dur / 2 * math.cos(yaw), y - v * dur / 2 * math.sin(yaw), yaw, _STAND
        )
        if kind == "walk" and rng.random() < 0.4:  # walks, turns, walks back
            turn = _u(rng, 0.35, 0.65) * dur
            mx, my = a.where(0)
            mx, my = mx + v * turn * math.cos(yaw), my + v * turn * math.sin(yaw)
            _walk(a, 0, turn, mx, my)
            _walk(
                a,
                turn + 0.4,
                dur + 0.3,
                mx - v * (dur - turn) * math.cos(yaw),
                my - v * (dur - turn) * math.sin(yaw),
            )
        else:
            end = (
                a.where(0)[0] + v * (dur + 0.3) * math.cos(yaw),
                a.where(0)[1] + v * (dur + 0.3) * math.sin(yaw),
            )
            _walk(a, 0, dur + 0.3, *end, jog=1.0 if kind == "jog" else 0.0)
        if kind == "stumble":
            trip, rec = _u(rng, 0.15, 0.25), _u(rng, 0.4, 0.7)
            a.set(
                t0,
                t0 + trip,
                _ACCEL,
                pitch=_u(rng, 0.25, 0.45),
                l_hip=0.8,
                l_knee=0.3,
                **_arms(_u(rng, 0.8, 1.4), _u(rng, 0.4, 1.0), 0.5, 0.0, "r"),
            )
            a.set(
                t0 + trip,
                t0 + trip + rec,
                _SMOOTH,
                pitch=0.0,
                l_hip=0.0,
                l_knee=0.03,
                **_arms(0.05, 0.12, 0.2, 0.1, "r"),
            )
    else:
        a, _walking = _subject(rng, t0, walking=0.3)
        if kind == "lie_down_slowly":
            k1, k2, h, lie = (
                _u(rng, 0.9, 1.6),
                _u(rng, 0.6, 1.0),
                _u(rng, 0.7, 1.2),
                _u(rng, 1.2, 2.2),
            )
            a.pose(t0, t0 + k1, _HALF_KNEEL)
            a.pose(t0 + k1, t0 + k1 + k2, _KNEEL)
            t = t0 + k1 + k2
            final = _pick(rng, ("side", "front", "back"))
            if final == "back":
                a.pose(t, t + h, _SIT_FLOOR_BACK)
                lying = _LIE_BACK
            else:
                a.pose(t, t + h, _HANDS_KNEES)
                left = _pick(rng, (1.0, -1.0))
                lying = _posture(_LIE_SIDE, roll=1.45 * left) if final == "side" else _LIE_FRONT
            a.pose(t + h, t + h + lie, lying)
            _after_fall(rng, a, t + h + lie + 0.3, dur, lying)
            miss, penalty = _lying_model(rng)
        elif kind == "sit_chair":
            sit = _u(rng, 0.8, 2.0)
            a.pose(t0, t0 + sit, _SIT_CHAIR)
            props.append((0, dur, 0.16, 0.27))
            _gestures(rng, a, t0 + sit + 0.3, dur, vigour=0.4)
            if rng.random() < 0.4:
                a.set(t0 + sit + 1.0, t0 + sit + 2.0, _SMOOTH, bend=-0.15)
        elif kind == "sit_floor":
            via = _pick(rng, (_SQUAT, _KNEEL))
            d1, d2 = _u(rng, 0.8, 1.5), _u(rng, 0.8, 1.5)
            a.pose(t0, t0 + d1, via)
            a.pose(t0 + d1, t0 + d1 + d2, _pick(rng, (_SIT_FLOOR, _SIT_FLOOR_BACK)))
        elif kind in ("pick_up", "squat"):
            t = t0
            low = _SQUAT if kind == "squat" else _pick(rng, (_STOOP, _SQUAT, _STOOP))
            for _ in range(int(rng.integers(1, 3))):
                down, hold, up = _u(rng, 0.6, 1.2), _u(rng, 0.4, 2.0), _u(rng, 0.6, 1.0)
                a.pose(t, t + down, low)
                a.pose(t + down + hold, t + down + hold + up, _STAND)
                t += down + hold + up + _u(rng, 0.5, 1.5)
                if t > dur - 2.0:
                    break
        elif kind == "jump":
            t = t0
            for _ in range(int(rng.integers(1, 4))):
                prep, air = _u(rng, 0.2, 0.3), _u(rng, 0.2, 0.3)
                arms_up = rng.random() < 0.5
                a.pose(t, t + prep, _CROUCH)
                a.pose(
                    t + prep,
                    t + prep + air,
                    _STAND,
                    **(_arms(2.5, 0.3, 0.3, 0.0) if arms_up else {}),
                )
                a.set(t + prep, t + prep + air, _DECEL, lift=_u(rng, 0.1, 0.3))
                a.set(t + prep + air, t + prep + 2 * air, _ACCEL, lift=0.0)
                a.pose(t + prep + 2 * air, t + prep + 2 * air + 0.15, _CROUCH)
                a.pose(t + prep + 2 * air + 0.15, t + prep + 2 * air + 0.5, _STAND)
                t += prep + 2 * air + 0.5 + _u(rng, 0.2, 1.0)
        elif kind == "crawl":
            down = _u(rng, 1.0, 1.5)
            a.pose(t0, t0 + down * 0.5, _KNEEL)
            a.pose(t0 + down * 0.5, t0 + down, _HANDS_KNEES)
            x, y = a.where(t0 + down)
            yaw = a.value("yaw", t0 + down)
            v = _u(rng, 0.15, 0.35)
            a.set(
                t0 + down, t0 + down + 0.3, _SMOOTH, gait=0.6, stride=0.3, cadence=_u(rng, 1.2, 2.0)
            )
            a.set(
                t0 + down,
                dur,
                _LINEAR,
                x=x + v * (dur - t0 - down) * math.cos(yaw),
                y=y + v * (dur - t0 - down) * math.sin(yaw),
            )
        else:  # stretch
            t = t0
            while t < dur - 1.0:
                what = _pick(rng, ("up", "side", "down"))
                d = _u(rng, 0.8, 1.5)
                if what == "up":
                    a.pose(t, t + d, _STAND, **_arms(2.9, 0.2, 0.3, 0.0))
                elif what == "side":
                    a.pose(
                        t, t + d, _STAND, side=_pick(rng, (-0.4, 0.4)), **_arms(2.7, 0.3, 0.4, 0.0)
                    )
                else:
                    a.pose(t, t + d, _STOOP, bend=1.3)
                t += d + _u(rng, 0.3, 0.8)
                a.pose(t, t + 0.8, _STAND)
                t += 0.8
    people = [a, *_bystander(rng, a, dur)]
    return _Script(people, dur, None, a.where(t0), 0.2, miss, penalty, props)


def _onlookers(rng: Rng, script: _Script, chance: float) -> list[_Actor]:
    """Others in the scene, 1.3-3 body heights from the action: watching (a fight draws a
    crowd), standing about, or walking by."""
    out: list[_Actor] = []
    if rng.random() >= chance:
        return out
    fx, fy = script.focus
    for _ in range(int(rng.integers(1, 4))):
        ang, far = _u(rng, 0, 2 * math.pi), _u(rng, 1.3, 3.0)
        x, y = fx + far * math.cos(ang), fy + 0.6 * far * math.sin(ang)
        if rng.random() < 0.35:
            heading = _pick(rng, (0.0, math.pi)) + _u(rng, -0.4, 0.4)
            a = _Actor(rng, x, y, heading, _STAND)
            v = _u(rng, 0.4, 1.0) * (script.duration + 0.3)
            _walk(a, 0, script.duration + 0.3, x + v * math.cos(heading), y + v * math.sin(heading))
        else:
            a = _Actor(rng, x, y, math.atan2(fy - y, fx - x), _pick(rng, (_STAND, _FOLDED, _TALK)))
            _idle(rng, a, 0, script.duration)
        out.append(a)
    return out


_FIGHT_SCRIPTS: dict[str, Callable[[Rng], _Script]] = {
    "punching": _punching,
    "shoving": _shoving,
    "grappling": _grappling,
    "kicking": _kicking,
    "chase_hit": _chase_hit,
    "floor_fight": _floor_fight,
    "brawl": _brawl,
    "walk_past": _walk_past,
    "talking": _talking,
    "hug": _hug,
    "handshake": _handshake,
    "tidying": _tidying,
    "walk_together": _walk_together,
    "crowd": _crowd,
    "solo_exercise": _solo_exercise,
    "jog_past": _jog_past,
}


def _script(subtype: str, rng: Rng) -> _Script:
    if subtype in _FIGHT_SCRIPTS:
        return _FIGHT_SCRIPTS[subtype](rng)
    if subtype in SUBTYPES["fall"]["fall"]:
        return _fall_script(rng, subtype)
    return _not_fall_script(rng, subtype)


# ============================================================================ camera


@dataclass(frozen=True)
class _Camera:
    """A simple camera: `px` pixels per body height at depth 0, tilted down by `tilt` (vertical
    sizes shrink by cos(tilt), depth moves people up), mild perspective over `d0` body heights
    of depth, maybe mirrored. The floor point (0, 0) is at pixel (u0, v0)."""

    size: tuple[int, int]
    px: float
    u0: float
    v0: float
    tilt: float
    d0: float
    mirror: bool

    def project(self, world: F64) -> tuple[F64, F64, F64]:
        """World (..., 3) -> pixels (..., 2), depth (...) in body heights, pixels per body
        height (...) at each point."""
        x, y, z = world[..., 0], world[..., 1], world[..., 2]
        scale = self.px / np.maximum(1.0 + y / self.d0, 0.35)
        ct, st = math.cos(self.tilt), math.sin(self.tilt)
        u = self.u0 + x * scale
        if self.mirror:
            u = self.size[0] - u
        v = self.v0 - (z * ct + y * st) * scale
        return np.stack([u, v], axis=-1), y * ct - z * st, scale


def _camera(rng: Rng, focus: tuple[float, float]) -> _Camera:
    w, h = FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
    tilt = math.acos(_u(rng, 0.6, 1.0))
    # 50-400 px tall, but mostly 45-300 px as the pose model sees them (like real CCTV)
    seen = min(1.0, _MODEL_INPUT / max(w, h))
    lo, hi = max(50.0, 45.0 / seen), min(400.0, 0.85 * h)
    px = math.exp(_u(rng, math.log(lo), math.log(hi)))
    d0 = _u(rng, 4.0, 12.0)
    upright = px * math.cos(tilt)
    col = w * _u(rng, 0.3, 0.7)
    top, bottom = upright + 0.04 * h, 0.97 * h
    row = _u(rng, top, bottom) if top < bottom else _u(rng, 0.9 * h, 1.02 * h)
    if rng.random() < 0.12:  # partly out of the frame
        if rng.random() < 0.6:
            col = w * _pick(rng, (_u(rng, 0.03, 0.12), _u(rng, 0.88, 0.97)))
        else:
            row = h + _u(rng, 0.1, 0.35) * upright
    scale = px / max(1.0 + focus[1] / d0, 0.35)
    u0 = col - focus[0] * scale
    v0 = row + focus[1] * math.sin(tilt) * scale
    return _Camera((w, h), px, u0, v0, tilt, d0, bool(rng.random() < 0.5))


# ============================================================================ thumbnails

_SS = 2
"""People are drawn at this many times the thumbnail size, then area-averaged down."""

_SEGMENTS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))
_RADII = np.array([0.04, 0.035, 0.04, 0.035, 0.055, 0.045, 0.055, 0.045, 0.11, 0.075])
"""Capsules a person is made of (body heights): upper arms, forearms, thighs, shanks, then the
torso (shoulders' to hips' midpoints) and the head (a ball)."""


def _background(rng: Rng, w: int, h: int) -> tuple[npt.NDArray[np.uint8], float]:
    base = _u(rng, 50, 200)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = base + _u(rng, -30, 30) * gy / h + _u(rng, -20, 20) * gx / w
    coarse = rng.normal(0, 1, (int(rng.integers(3, 7)), int(rng.integers(4, 9)))).astype(np.float32)
    img += _u(rng, 5, 25) * np.asarray(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC))
    horizon = int(h * _u(rng, 0.15, 0.6))
    img[horizon:] += _u(rng, -25, 25)
    for _ in range(int(rng.integers(2, 7))):
        x1, y1 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x2, y2 = (
            x1 + int(rng.integers(w // 12 + 1, w // 3 + 2)),
            y1 + int(rng.integers(h // 12 + 1, h // 3 + 2)),
        )
        cv2.rectangle(img, (x1, y1), (x2, y2), float(np.clip(base + rng.normal(0, 40), 0, 255)), -1)
    fine = cv2.GaussianBlur(rng.normal(0, _u(rng, 1, 5), (h, w)).astype(np.float32), (0, 0), 0.8)
    img += np.asarray(fine, np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), base


class _Renderer:
    """Grey thumbnails of the scene at 1/MOTION_SCALE: static background, people, noise."""

    def __init__(self, rng: Rng, size: tuple[int, int]) -> None:
        w, h = size
        self.tw, self.th = -(-w // MOTION_SCALE), -(-h // MOTION_SCALE)
        self.cw, self.ch = self.tw * _SS, self.th * _SS
        self.k = np.array([self.cw / w, self.ch / h])
        self.bg, self.base = _background(rng, self.cw, self.ch)
        low = rng.random() < 0.15
        self.contrast = _u(rng, 12, 25) if low else _u(rng, 30, 100)
        self.sigma = _u(rng, 1.0, 4.0)
        self.pool = (
            rng.standard_normal((self.th + 16, self.tw + 16)).astype(np.float32) * self.sigma
        )
        self.blur = _u(rng, 0.4, 0.9) if rng.random() < 0.25 else 0.0
        self.flicker = (
            (_u(rng, 0.03, 0.2), _u(rng, 0.02, 0.08)) if rng.random() < 0.3 else (0.0, 0.0)
        )
        self.occluder: tuple[float, float, float, float] | None = None

    def look(self, rng: Rng) -> tuple[float, float, float]:
        """Greys of a person's shirt, trousers and head, apart from the background's."""
        sign = _pick(rng, (-1.0, 1.0))
        legs = sign if rng.random() < 0.7 else -sign
        c = self.contrast
        shirt = self.base + sign * c * _u(rng, 0.8, 1.2)
        trousers = self.base + legs * c * _u(rng, 0.7, 1.3)
        head = self.base + _pick(rng, (-1.0, 1.0)) * c * _u(rng, 0.5, 1.0)
        return (
            min(max(shirt, 3.0), 252.0),
            min(max(trousers, 3.0), 252.0),
            min(max(head, 3.0), 252.0),
        )

    def add_prop(self, rng: Rng, corners: F64) -> None:
        """Furniture (a chair, a bed) drawn into the static background: image corners (4, 2)."""
        pts = np.round(corners * self.k * 8).astype(np.int32)
        grey = float(np.clip(self.base + _pick(rng, (-1.0, 1.0)) * _u(rng, 15, 50), 0, 255))
        cv2.fillConvexPoly(self.bg, cv2.convexHull(pts), grey, cv2.LINE_AA, 3)

    def set_occluder(self, rng: Rng, box: tuple[float, float, float, float]) -> None:
        """A table or counter in front of people (frame pixels), drawn over them."""
        self.occluder = box
        x1, y1, x2, y2 = (np.array(box) * np.tile(self.k, 2)).round().astype(int)
        self.fg_grey = float(np.clip(self.base + _pick(rng, (-1.0, 1.0)) * _u(rng, 20, 60), 0, 255))
        self.fg_box = (max(x1, 0), max(y1, 0), max(x2, 0), max(y2, 0))

    def render(
        self, rng: Rng, people: Sequence[tuple[F64, F64, F64, tuple[float, float, float]]], n: int
    ) -> npt.NDArray[np.uint8]:
        """Thumbnails (n, th, tw) of `people`: (pixels (n, 18, 2), depth (n, 18), pixels per
        body height (n,), greys) each."""
        out = np.empty((n, self.th, self.tw), np.uint8)
        offsets = rng.integers(0, 16, (n, 2))
        signs = rng.choice(np.array([-1.0, 1.0], np.float32), n)
        rate, amp = self.flicker
        gain = 1.0 + (rng.random(n) < rate) * rng.normal(0, amp, n) if rate else np.ones(n)
        canvas_pts = [np.round(p[0] * self.k * 8).astype(np.int32) for p in people]
        order = np.argsort(-np.stack([p[1].mean(axis=1) for p in people]), axis=0)
        for i in range(n):
            canvas = self.bg.copy()
            for a in order[:, i]:
                _, depth, scale, look = people[a]
                _draw(canvas, canvas_pts[a][i], depth[i], float(scale[i]) * float(self.k[1]), look)
            if self.occluder is not None:
                x1, y1, x2, y2 = self.fg_box
                canvas[y1:y2, x1:x2] = int(self.fg_grey)
            small = np.asarray(
                cv2.resize(canvas, (self.tw, self.th), interpolation=cv2.INTER_AREA), np.float32
            )
            if self.blur:
                small = np.asarray(cv2.GaussianBlur(small, (0, 0), self.blur), np.float32)
            oy, ox = offsets[i]
            noise = self.pool[oy : oy + self.th, ox : ox + self.tw]
            frame = small * np.float32(gain[i]) + signs[i] * noise
            out[i] = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
        return out


def _draw(
    canvas: npt.NDArray[np.uint8],
    q: npt.NDArray[np.int32],
    depth: F64,
    size: float,
    look: tuple[float, float, float],
) -> None:
    """One person on the canvas: joints `q` (18, 2) in 1/8 canvas pixels, far limbs first."""
    shirt, trousers, skin = look
    pts = q.tolist()
    leg_t = max(1, round(0.1 * size))
    arm_t = max(1, round(0.075 * size))
    aa = cv2.LINE_AA
    neck = ((q[5] + q[6]) // 2).tolist()
    pelvis = ((q[11] + q[12]) // 2).tolist()
    left_far = depth[5] > depth[6]

    def leg(s: int) -> None:
        hip, knee, ankle = (11, 13, 15) if s == 0 else (12, 14, 16)
        cv2.line(canvas, pts[hip], pts[knee], trousers, leg_t, aa, 3)
        cv2.line(canvas, pts[knee], pts[ankle], trousers, leg_t, aa, 3)

    def arm(s: int) -> None:
        sh, el, wr = (5, 7, 9) if s == 0 else (6, 8, 10)
        cv2.line(canvas, pts[sh], pts[el], shirt, arm_t, aa, 3)
        cv2.line(canvas, pts[el], pts[wr], skin, arm_t, aa, 3)

    far, near = (0, 1) if left_far else (1, 0)
    leg(far)
    arm(far)
    cv2.fillPoly(canvas, [np.array([q[5], q[6], q[12], q[11]])], shirt, aa, 3)
    cv2.line(canvas, neck, pelvis, shirt, max(1, round(0.2 * size)), aa, 3)
    cv2.line(canvas, neck, pts[_HEAD_CENTRE], skin, arm_t, aa, 3)
    cv2.circle(canvas, pts[_HEAD_CENTRE], max(8, round(0.075 * size * 8)), skin, -1, aa, 3)
    leg(near)
    arm(near)


# ============================================================================ the pose model

KEYPOINT_MIN_SCORE = 0.5
"""Joints scored below this are NaN, as the real estimator reports them (`keypoint_min_score`,
models/config.py)."""

DETECTION_MIN_SCORE = 0.25
"""The lowest person score the real estimator keeps (`conf_threshold`, models/config.py)."""

_MODEL_INPUT = 480
"""The pose model's default input side: larger frames are scaled down to it, so people lose
detail (a 1280x720 frame's people are seen at 3/8 of their height in pixels)."""
_LEFT = np.array([1, 3, 5, 7, 9, 11, 13, 15])
_RIGHT = _LEFT + 1
_FLIP = np.arange(NUM_KEYPOINTS)
_FLIP[_LEFT], _FLIP[_RIGHT] = _RIGHT, _LEFT
_JOINT_NOISE = np.array([0.7] * 5 + [1.0, 1.0, 1.2, 1.2, 1.4, 1.4, 1.1, 1.1, 1.1, 1.1, 1.25, 1.25])
_JOINT_LOGIT = np.array([-1.0] * 5 + [1.8, 1.8, 0.5, 0.5, 0.0, 0.0, 1.2, 1.2, 0.4, 0.4, -0.1, -0.1])
"""How sure the pose model is of each joint (logit offsets): shoulders and hips most, faces,
wrists and ankles least (like YOLO-pose on CCTV footage)."""
_GHOST = np.array(
    [
        (0.0, 0.07), (0.03, 0.05), (-0.03, 0.05), (0.06, 0.06), (-0.06, 0.06), (0.12, 0.18),
        (-0.12, 0.18), (0.15, 0.36), (-0.15, 0.36), (0.16, 0.52), (-0.16, 0.52), (0.09, 0.48),
        (-0.09, 0.48), (0.09, 0.72), (-0.09, 0.72), (0.09, 0.96), (-0.09, 0.96),
    ]
)  # fmt: skip
"""A standing person seen from the front, (x, y) in body heights, y down from the head top."""


@dataclass(frozen=True)
class _Sensor:
    """How good the pose model is in this clip."""

    noise_frac: float
    noise_s: float
    jitter_frac: float
    exposure_s: float
    miss: float
    miss_run_s: float
    flip: float
    flip_part: float
    score_offset: float
    det_offset: float

    @classmethod
    def random(cls, rng: Rng) -> _Sensor:
        return cls(
            noise_frac=_u(rng, 0.008, 0.02),
            noise_s=_u(rng, 0.15, 0.4),
            jitter_frac=_u(rng, 0.001, 0.003),
            exposure_s=_u(rng, 0.004, 0.02),
            miss=_u(rng, 0.02, 0.15),
            miss_run_s=_u(rng, 0.05, 0.3),
            flip=_u(rng, 0.0, 0.025),
            flip_part=_u(rng, 0.0, 0.04),
            score_offset=float(rng.normal(1.2, 0.8)),
            det_offset=float(rng.normal(0, 0.5)),
        )


@dataclass
class _Seen:
    """One person as the pose model reports them, over all frames (`found` says when)."""

    keypoints: F64  # (n, 17, 2), NaN where lost
    scores: F64  # (n, 17)
    xyxy: F64  # (n, 4)
    score: F64  # (n,)
    found: npt.NDArray[np.bool_]  # (n,)


def _wander(rng: Rng, shape: tuple[int, ...], fps: float, tau_s: float) -> F64:
    """Smooth unit-variance noise along the first axis (frames): white noise through two
    first-order low-passes of time constant `tau_s` (so it changes little from one frame to the
    next and forgets in a few tau), after a burn-in."""
    rho = math.exp(-1.0 / (fps * tau_s))
    burn = int(3 * fps * tau_s) + 1
    steps = rng.standard_normal((shape[0] + burn, *shape[1:])) * math.sqrt(1 - rho * rho)
    once = np.zeros(shape[1:])
    twice = np.zeros(shape[1:])
    out = np.empty(shape)
    for i in range(len(steps)):
        once = rho * once + steps[i]
        twice = rho * twice + math.sqrt(1 - rho * rho) * once
        if i >= burn:
            out[i - burn] = twice
    return out / math.sqrt((1 + rho * rho) / (1 - rho * rho))


def _runs(rng: Rng, n: int, rate: float, run: float) -> npt.NDArray[np.bool_]:
    """n booleans, True a share `rate` of the time in runs of about `run` frames (Markov)."""
    out = np.zeros(n, np.bool_)
    if rate <= 0:
        return out
    stay = 1.0 - 1.0 / max(run, 1.0)
    enter = min(rate * (1 - stay) / max(1 - rate, 1e-6), 1.0)
    draws = rng.random(n)
    on = draws[0] < rate
    for i in range(n):
        on = bool(draws[i] < (stay if on else enter))
        out[i] = on
    return out


def _capsule_ends(values: F64, joints: npt.NDArray[np.int64], mid: tuple[int, int]) -> F64:
    """One end of every body capsule, (people, n, capsules[, 2]): the limb segments' joints,
    then the trunk's end (the midpoint of shoulders or of hips), then the head centre."""
    middle = ((values[:, :, mid[0]] + values[:, :, mid[1]]) / 2)[:, :, None]
    return np.concatenate([values[:, :, joints], middle, values[:, :, [_HEAD_CENTRE]]], axis=2)


def _occlusion(
    pix: F64, depth: F64, scale: F64, occluder: tuple[float, float, float, float] | None
) -> F64:
    """How hidden each joint is (0-1), (people, n, 17): behind a body part of anyone nearer
    the camera (its own torso, a limb, another person) or behind the furniture in front."""
    people, n = pix.shape[:2]
    a_idx = np.array([s[0] for s in _SEGMENTS])
    b_idx = np.array([s[1] for s in _SEGMENTS])
    ends_a, dep_a = _capsule_ends(pix, a_idx, (5, 6)), _capsule_ends(depth, a_idx, (5, 6))
    ends_b, dep_b = _capsule_ends(pix, b_idx, (11, 12)), _capsule_ends(depth, b_idx, (11, 12))
    radius = _RADII[None, None, :] * scale[:, :, None]  # (people, n, 10)
    # capsules of everyone: (n, C, ...)
    c_a = ends_a.transpose(1, 0, 2, 3).reshape(n, -1, 2)
    c_b = ends_b.transpose(1, 0, 2, 3).reshape(n, -1, 2)
    c_da = dep_a.transpose(1, 0, 2).reshape(n, -1)
    c_db = dep_b.transpose(1, 0, 2).reshape(n, -1)
    c_r = radius.transpose(1, 0, 2).reshape(n, -1)
    joints = pix[:, :, :NUM_KEYPOINTS].transpose(1, 0, 2, 3).reshape(n, -1, 2)  # (n, J, 2)
    j_depth = depth[:, :, :NUM_KEYPOINTS].transpose(1, 0, 2).reshape(n, -1)
    ab = c_b - c_a  # (n, C, 2)
    length2 = np.maximum((ab**2).sum(-1), 1e-6)
    rel = joints[:, :, None, :] - c_a[:, None, :, :]  # (n, J, C, 2)
    t = np.clip((rel * ab[:, None]).sum(-1) / length2[:, None], 0.0, 1.0)
    dist = np.hypot(*(rel - t[..., None] * ab[:, None]).transpose(3, 0, 1, 2))
    cap_depth = c_da[:, None] + t * (c_db - c_da)[:, None]
    inside = np.clip((c_r[:, None] - dist) / (0.5 * c_r[:, None] + 1e-6), 0.0, 1.0)
    behind = np.clip((j_depth[:, :, None] - cap_depth - 0.03) / 0.05, 0.0, 1.0)
    # A joint is not hidden by the capsules it ends.
    own = np.zeros((NUM_KEYPOINTS, len(_RADII)), np.bool_)
    for c, (ja, jb) in enumerate(_SEGMENTS):
        own[ja, c] = own[jb, c] = True
    own[[5, 6, 11, 12], len(_SEGMENTS)] = True
    mask = np.ones((people * NUM_KEYPOINTS, people * len(_RADII)))
    for p in range(people):
        rows = slice(p * NUM_KEYPOINTS, (p + 1) * NUM_KEYPOINTS)
        cols = slice(p * len(_RADII), (p + 1) * len(_RADII))
        mask[rows, cols] = ~own
    hidden = (inside * behind * mask[None]).max(axis=2)  # (n, J)
    hidden = hidden.reshape(n, people, NUM_KEYPOINTS).transpose(1, 0, 2)
    if occluder is not None:
        x1, y1, x2, y2 = occluder
        kp = pix[:, :, :NUM_KEYPOINTS]
        under = (kp[..., 0] > x1) & (kp[..., 0] < x2) & (kp[..., 1] > y1) & (kp[..., 1] < y2)
        hidden = np.where(under, 1.0, hidden)
    return np.asarray(hidden, np.float64)


def _observe(
    rng: Rng,
    sensor: _Sensor,
    world: F64,
    pix: F64,
    scale: F64,
    hidden: F64,
    size: tuple[int, int],
    fps: float,
    lying_miss: float,
    lying_penalty: float,
    height: float,
) -> _Seen:
    """What the pose model reports for one person: noisy, flipped, partly lost, sometimes missed."""
    n = len(pix)
    w, h = size
    kp_true = pix[:, :NUM_KEYPOINTS]
    s = scale[:, None] * height  # (n, 1) pixels per body height of this person
    eff = s * min(1.0, _MODEL_INPUT / max(w, h))  # as tall as the pose model sees them
    inframe = (
        (kp_true[..., 0] >= 0)
        & (kp_true[..., 0] < w)
        & (kp_true[..., 1] >= 0)
        & (kp_true[..., 1] < h)
    )
    speed = (
        np.hypot(*np.gradient(kp_true, axis=0).transpose(2, 0, 1)) * fps
        if n > 1
        else np.zeros((n, NUM_KEYPOINTS))
    )
    torso = world[:, [5, 6]].mean(axis=1) - world[:, [11, 12]].mean(axis=1)
    lean = np.degrees(np.arctan2(np.hypot(torso[:, 0], torso[:, 1]), torso[:, 2]))
    lying = (lean > 55) & (
        world[:, [11, 12], 2].mean(axis=1) < world[:, :, 2].min(axis=1) + 0.3 * height
    )
    lying_f = lying[:, None].astype(np.float64)
    # The pose model's error is mostly slow (consecutive images are nearly the same, so are its
    # guesses): a wandering offset of 1-2.5 % of body height, a little fresh jitter each frame,
    # blur along fast motion, more for small, hidden and lying people.
    small = (
        (1 + 30 / np.maximum(eff, 1.0)) * _JOINT_NOISE[None] * (1 + 1.5 * lying_penalty * lying_f)
    )
    slow = s * small * (sensor.noise_frac + 0.04 * hidden)
    fast = s * small * sensor.jitter_frac + 0.5 * speed * sensor.exposure_s
    drift = _wander(rng, (n, NUM_KEYPOINTS, 2), fps, sensor.noise_s)
    kp = kp_true + drift * slow[..., None] + rng.standard_normal(kp_true.shape) * fast[..., None]
    kp[..., 0] = np.clip(kp[..., 0], 0, w - 1)
    kp[..., 1] = np.clip(kp[..., 1], 0, h - 1)
    # Scores: a logistic of the scene's quality (CCTV grime or a clean lab), size as the model
    # sees it, joint, this person, hiding, motion blur and lying; out of the frame next to nothing.
    logit = (
        1.0 * np.log(np.maximum(eff, 5.0) / 60.0)
        + _JOINT_LOGIT[None]
        + sensor.score_offset
        + rng.normal(0, 0.5, (1, NUM_KEYPOINTS))
        + 0.8 * _wander(rng, (n, NUM_KEYPOINTS), fps, 0.3)
        + rng.normal(0, 0.4, (n, NUM_KEYPOINTS))
        - 3.0 * hidden
        - np.minimum(0.08 * speed / s, 1.5)
        - 6.0 * lying_penalty * lying_f
    )
    scores = 1.0 / (1.0 + np.exp(-logit))
    scores = np.where(inframe, scores, rng.uniform(0.0, 0.2, (n, NUM_KEYPOINTS)))
    scores = np.clip(scores, 0.01, 0.99)
    # left/right confusion: the whole skeleton, or one pair of joints
    flip = rng.random(n) < sensor.flip
    kp[flip] = kp[flip][:, _FLIP]
    scores[flip] = scores[flip][:, _FLIP]
    part = np.flatnonzero(rng.random(n) < sensor.flip_part)
    pairs = rng.choice(np.array([7, 9, 13, 15]), len(part))
    kp[part, pairs], kp[part, pairs + 1] = kp[part, pairs + 1].copy(), kp[part, pairs].copy()
    kp[scores < KEYPOINT_MIN_SCORE] = np.nan
    # the box: the extent of what is in the frame, padded like a detector's, head side more
    any_in: npt.NDArray[np.bool_] = np.asarray(inframe.any(axis=1), np.bool_)
    use = np.concatenate([inframe, any_in[:, None]], axis=1)[..., None]  # and the head centre
    pts = pix[:, : NUM_KEYPOINTS + 1]
    lo = np.where(any_in[:, None], np.where(use, pts, np.inf).min(axis=1), 0.0)
    hi = np.where(any_in[:, None], np.where(use, pts, -np.inf).max(axis=1), 0.0)
    # a few per cent of the extent, the limbs' thickness across, the head top and the soles
    # beyond the eyes and ankles: a standing person's box is about 1.05 body heights tall
    pad = rng.uniform(0.01, 0.05, (n, 1)) * (hi - lo) + np.array([0.045, 0.0]) * s
    head = pix[:, _HEAD_CENTRE] - pix[:, [15, 16]].mean(axis=1)
    head /= np.maximum(np.hypot(head[:, 0], head[:, 1]), 1e-6)[:, None]
    ahead, behind = 0.075 * s * head, -0.035 * s * head
    lo = lo - pad + np.minimum(ahead, 0) + np.minimum(behind, 0)
    hi = hi + pad + np.maximum(ahead, 0) + np.maximum(behind, 0)
    xyxy = np.concatenate([lo, hi], axis=1)
    xyxy += (0.015 * _wander(rng, (n, 4), fps, 0.4) + rng.normal(0, 0.004, (n, 4))) * s
    xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w - 1)
    xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h - 1)
    det_logit = (
        0.6
        + 1.2 * np.log(np.maximum(eff[:, 0], 5.0) / 100.0)
        + sensor.det_offset
        - 1.5 * hidden.mean(axis=1)
        - 1.5 * (1 - inframe.mean(axis=1))
        + rng.normal(0, 0.4, n)
    )
    det_score = np.clip(1 / (1 + np.exp(-det_logit)), DETECTION_MIN_SCORE, 0.95)
    found = (
        (inframe.sum(axis=1) >= 5)
        & ((~np.isnan(kp[..., 0])).sum(axis=1) >= 3)
        & (xyxy[:, 2] - xyxy[:, 0] >= 4)
        & (xyxy[:, 3] - xyxy[:, 1] >= 4)
        & ~_runs(rng, n, sensor.miss, sensor.miss_run_s * fps)
    )
    if lying_miss > 0:
        block = (np.arange(n) / fps / 0.5).astype(int)
        lost = rng.random(block.max() + 1) < lying_miss
        found &= ~(lying & lost[block])
    return _Seen(kp, scores, xyxy, det_score, found)


def _iou(a: F64, b: F64) -> F64:
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2, y2 = np.minimum(a[:, 2], b[:, 2]), np.minimum(a[:, 3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / np.maximum(area_a + area_b - inter, 1e-6), np.float64)


def _merge(rng: Rng, seen: list[_Seen], propensity: float, fps: float) -> None:
    """Overlapping people sometimes come out as one wide box with one skeleton: mostly one
    person's joints with some of the other's mixed in, the same mix for a quarter second or so."""
    n = len(seen[0].found) if seen else 0
    used = np.zeros((len(seen), n), np.bool_)
    block = (np.arange(n) / fps / 0.25).astype(int)
    blocks = int(block.max()) + 1 if n else 0
    for p in range(len(seen)):
        for q in range(p + 1, len(seen)):
            a, b = seen[p], seen[q]
            overlap = _iou(a.xyxy, b.xyxy)
            chance = propensity * np.clip((overlap - 0.12) / 0.3, 0, 1)
            draws = rng.random(blocks)[block]
            merged = (draws < chance) & a.found & b.found & ~used[p] & ~used[q]
            # per block: whose skeleton it mostly is, and which joints come from the other
            keep_a = (rng.random(blocks) < 0.5)[block][:, None]
            mixed = (rng.random((blocks, NUM_KEYPOINTS)) < _u(rng, 0.1, 0.35))[block]
            from_b = np.where(keep_a, mixed, ~mixed)
            if not merged.any():
                continue
            idx = np.flatnonzero(merged)
            take = from_b[idx]
            a.keypoints[idx] = np.where(take[..., None], b.keypoints[idx], a.keypoints[idx])
            scores = np.where(take, b.scores[idx], a.scores[idx])
            a.scores[idx] = scores * rng.uniform(0.8, 0.97, (len(idx), 1))
            lost = a.scores[idx] < KEYPOINT_MIN_SCORE
            a.keypoints[idx] = np.where(lost[..., None], np.nan, a.keypoints[idx])
            a.xyxy[idx, :2] = np.minimum(a.xyxy[idx, :2], b.xyxy[idx, :2])
            a.xyxy[idx, 2:] = np.maximum(a.xyxy[idx, 2:], b.xyxy[idx, 2:])
            a.score[idx] = np.clip(
                0.9 * np.maximum(a.score[idx], b.score[idx]), DETECTION_MIN_SCORE, 0.95
            )
            b.found[idx] = False
            used[p, idx] = used[q, idx] = True


def _ghosts(rng: Rng, n: int, fps: float, size: tuple[int, int], px: float) -> list[_Seen]:
    """Rarely, a skeleton where there is nobody (a coat, a reflection), for a few frames."""
    out: list[_Seen] = []
    if rng.random() >= 0.15:
        return out
    w, h = size
    for _ in range(int(rng.integers(1, 3))):
        length = max(1, round(fps * _u(rng, 0.1, 0.6)))
        start = int(rng.integers(0, max(1, n - length)))
        tall = px * _u(rng, 0.3, 0.9)
        x, y = _u(rng, 0, w - 0.3 * tall), _u(rng, 0, max(1.0, h - tall))
        kp = np.full((n, NUM_KEYPOINTS, 2), np.nan)
        scores = rng.uniform(0.05, KEYPOINT_MIN_SCORE, (n, NUM_KEYPOINTS))
        frames = slice(start, start + length)
        k = length if start + length <= n else n - start
        kp[frames] = (
            np.array([x, y])
            + _GHOST[None] * tall
            + rng.normal(0, 0.06 * tall, (k, NUM_KEYPOINTS, 2))
        )
        scores[frames] = rng.uniform(0.2, 0.75, (k, NUM_KEYPOINTS))
        kp[..., 0] = np.clip(kp[..., 0], 0, w - 1)
        kp[..., 1] = np.clip(kp[..., 1], 0, h - 1)
        kp[scores < KEYPOINT_MIN_SCORE] = np.nan
        xyxy = np.zeros((n, 4))
        xyxy[frames] = [x - 0.1 * tall, y - 0.05 * tall, x + 0.3 * tall, y + tall]
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w - 1)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h - 1)
        found = np.zeros(n, np.bool_)
        found[frames] = True
        found &= (~np.isnan(kp[..., 0])).sum(axis=1) >= 3
        out.append(_Seen(kp, scores, xyxy, rng.uniform(DETECTION_MIN_SCORE, 0.45, n), found))
    return out


def _frames(seen: Sequence[_Seen], n: int) -> tuple[Poses, ...]:
    out: list[Poses] = []
    if not seen:
        return tuple(Poses.empty() for _ in range(n))
    found = np.stack([s.found for s in seen])  # (people, n)
    kp = np.stack([s.keypoints for s in seen]).astype(np.float32)
    scores = np.stack([s.scores for s in seen]).astype(np.float32)
    xyxy = np.stack([s.xyxy for s in seen]).astype(np.float32)
    det = np.stack([s.score for s in seen]).astype(np.float32)
    for i in range(n):
        rows = np.flatnonzero(found[:, i])
        if not len(rows):
            out.append(Poses.empty())
            continue
        rows = rows[np.argsort(-det[rows, i], kind="stable")]
        out.append(
            Poses(
                xyxy=xyxy[rows, i],
                score=det[rows, i],
                keypoints=kp[rows, i],
                keypoint_score=scores[rows, i],
            )
        )
    return tuple(out)


# ============================================================================ one clip


def _clip(behaviour: str, index: int, seed: int) -> GeneratedClip:
    rng = np.random.default_rng(seed * 100003 + index)
    positive = index % 2 == 0
    label = behaviour if positive else "normal"
    table = SUBTYPES[behaviour][label]
    subtype = table[(index // 2 + seed) % len(table)]
    script = _script(subtype, rng)
    if behaviour == "fight":
        script.actors += _onlookers(rng, script, 0.55 if positive else 0.25)
    fps = float(FPS_CHOICES[int(rng.integers(len(FPS_CHOICES)))])
    n = max(2, round(script.duration * fps))
    times = np.arange(n, dtype=np.float64) / fps
    worlds = [_kinematics(actor.sample(times), actor.dims, actor.height) for actor in script.actors]
    camera = _camera(rng, script.focus)
    renderer = _Renderer(rng, camera.size)
    projected = [camera.project(world) for world in worlds]
    pix = np.stack([p[0] for p in projected])  # (people, n, 18, 2)
    depth = np.stack([p[1] for p in projected])
    scale = np.stack([p[2][:, _HEAD_CENTRE] for p in projected])  # (people, n)
    for actor_i, t_prop, half, tall in script.props:
        frame = min(n - 1, round(t_prop * fps))
        seat = worlds[actor_i][frame, [11, 12]].mean(axis=0)
        x, y = seat[0], seat[1]
        box = np.array(
            [[x - half, y, 0.0], [x + half, y, 0.0], [x + half, y, tall], [x - half, y, tall]]
        )
        renderer.add_prop(rng, camera.project(box)[0])
    if rng.random() < 0.12:  # a table in front of the focus, hiding legs
        h = camera.size[1]
        fpix = camera.project(np.array([[script.focus[0], script.focus[1] - 0.3, 0.0]]))[0][0]
        tall = camera.px * _u(rng, 0.2, 0.45)
        half = camera.px * _u(rng, 0.3, 0.8)
        cx = fpix[0] + _u(rng, -0.5, 0.5) * half
        renderer.set_occluder(rng, (cx - half, fpix[1] - tall, cx + half, float(h)))
    people = []
    for a, actor in enumerate(script.actors):
        people.append((pix[a], depth[a], scale[a] * actor.height, renderer.look(rng)))
    thumbs = renderer.render(rng, people, n)
    sensor = _Sensor.random(rng)
    hidden = _occlusion(
        pix, depth, scale * np.array([a.height for a in script.actors])[:, None], renderer.occluder
    )
    seen = [
        _observe(
            rng, sensor, worlds[a], pix[a], scale[a], hidden[a], camera.size, fps,
            script.lying_miss, script.lying_penalty, actor.height,
        )
        for a, actor in enumerate(script.actors)
    ]  # fmt: skip
    _merge(rng, seen, script.merge, fps)
    seen += _ghosts(rng, n, fps, camera.size, camera.px)
    if script.event is None:
        start = end = None
    else:
        start = min(n - 1, max(0, math.ceil(script.event[0] * fps - 1e-9)))
        end = min(n - 1, max(start, math.floor(script.event[1] * fps + 1e-9)))
    name = f"gen-{behaviour}-{subtype}-" + (f"s{seed}-" if seed else "") + f"{index:04d}"
    return GeneratedClip(
        name=name,
        label=label,
        subtype=subtype,
        fps=fps,
        frame_size=camera.size,
        timestamps=times,
        poses=_frames(seen, n),
        thumbs=thumbs,
        event_start=start,
        event_end=end,
    )
