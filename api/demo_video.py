"""The demo camera: a scripted, seeded scene built from the real people in Ultralytics' photos.

`carewatch demo-video OUT.mp4` writes `OUT.mp4` (H.264) and `OUT.json` (the `DemoScript`: which
segment happens when and where). The service plays it as its demo camera and the end-to-end tests
use it as their fixture, so everything here is deterministic for a given seed.

How a frame is made: the people found by the pose model (score > 0.5) in `bus.jpg` (full-body
pedestrians) and `zidane.jpg` (two men, upper body) are cut out with `cv2.grabCut`, seeded by their
skeletons, and feathered into premultiplied-alpha sprites. Each frame warps every sprite on stage
(position, scale by perspective, tilt about the feet, mirror) onto a procedurally drawn room.

The script (960x540, 15 fps, 51 s; times in seconds)::

    0.0-6.0    walk   fur-coat man crosses left to right (front)
    1.0-7.0    walk   dark-coat man crosses right to left (behind; they pass at about 3.5 s)
    8.0-11.0   walk   dark-coat man walks in from the left and stops
    11.8-22.0  fall   he tips over backwards (0.65 s, landing at 12.45) and lies still ~9.5 s,
                      gets up slowly (22-24.5) and walks out (25-27.5, walk)
    14.0-19.0  fight  the two men of zidane.jpg, close together in the right foreground: shoves,
                      tilts and jitter (they slide in at 12.5 and out by 20.5)
    21.0-24.0  walk   fur-coat man walks in from the right
    24.0-48.0  pace   he walks back and forth in front of the bed, turning about every 3 s
    48.0-50.5  walk   he walks out to the right
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from vision.types import SKELETON, FloatArray, Image, Poses
from vision.video_io import H264Writer

log = logging.getLogger(__name__)

DESIGN_W, DESIGN_H = 960, 540
"""The script is laid out in these pixels; other sizes scale it."""

SEGMENT_KINDS = ("walk", "fall", "fight", "pace")


class ImagePoseEstimator(Protocol):
    """What the cut-out needs of a pose model (`OnnxPoseEstimator` has it)."""

    def infer_image(self, image: Image) -> Poses: ...


# --------------------------------------------------------------------------- the script (output)


@dataclass(frozen=True)
class Segment:
    """One scripted action. `region` is the xyxy (frame pixels) the actors cover meanwhile.

    `fall`: `start_s` is the start of tipping, `landed_s` the moment of hitting the floor, and the
    person lies still until `end_s`. `pace`: `turns_s` are the direction reversals.
    """

    kind: str
    start_s: float
    end_s: float
    actors: tuple[str, ...]
    region: tuple[float, float, float, float]
    landed_s: float | None = None
    turns_s: tuple[float, ...] = ()

    def contains(self, t: float) -> bool:
        return self.start_s <= t <= self.end_s


@dataclass(frozen=True)
class DemoScript:
    """What happens in the demo video, written next to it as `OUT.json`."""

    size: tuple[int, int]
    fps: float
    frame_count: int
    seed: int
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    def of_kind(self, kind: str) -> list[Segment]:
        return [s for s in self.segments if s.kind == kind]

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "duration_s": self.duration_s}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> DemoScript:
        data = json.loads(text)
        segments = tuple(
            Segment(
                kind=s["kind"],
                start_s=s["start_s"],
                end_s=s["end_s"],
                actors=tuple(s["actors"]),
                region=(s["region"][0], s["region"][1], s["region"][2], s["region"][3]),
                landed_s=s.get("landed_s"),
                turns_s=tuple(s.get("turns_s", ())),
            )
            for s in data["segments"]
        )
        size = data["size"]
        return cls(
            (int(size[0]), int(size[1])), data["fps"], data["frame_count"], data["seed"], segments
        )


# --------------------------------------------------------------------------- sprites


@dataclass(frozen=True, eq=False)
class Sprite:
    """A person cut out of a photo: premultiplied BGR + alpha, float32 (h, w, 4) in 0..1.

    `anchor` is the point placed on the floor (between the feet, or the bottom centre of an
    upper-body cut-out), `height_px` the anchor-to-head-top height, `hull` the outline (k, 2).
    """

    name: str
    rgba: FloatArray
    anchor: tuple[float, float]
    height_px: float
    full_body: bool
    hull: FloatArray
    origin: tuple[float, float] = (0.0, 0.0)
    """Top-left of the sprite in the (resized) photo, to keep people's arrangement."""


def _draw_skeleton(mask: npt.NDArray[np.uint8], kp: FloatArray, value: int, thick: int) -> None:
    for a, b in SKELETON:
        if np.isnan(kp[a]).any() or np.isnan(kp[b]).any():
            continue
        pa = (round(float(kp[a, 0])), round(float(kp[a, 1])))
        pb = (round(float(kp[b, 0])), round(float(kp[b, 1])))
        cv2.line(mask, pa, pb, value, thick)
    for elbow, wrist in ((7, 9), (8, 10)):  # the hand reaches beyond the wrist keypoint
        if not (np.isnan(kp[elbow]).any() or np.isnan(kp[wrist]).any()):
            hand = kp[wrist] + 0.35 * (kp[wrist] - kp[elbow])
            pa = (round(float(kp[wrist, 0])), round(float(kp[wrist, 1])))
            cv2.line(mask, pa, (round(float(hand[0])), round(float(hand[1]))), value, thick)


def _between_legs(mask: npt.NDArray[np.uint8], kp: FloatArray, value: int) -> None:
    """Mark the floor seen between the legs (crotch to ankles, shrunk) as background."""
    hips, ankles = kp[[11, 12]], kp[[15, 16]]
    if np.isnan(np.vstack([hips, ankles])).any():
        return
    crotch = hips.mean(axis=0) + 0.3 * (ankles.mean(axis=0) - hips.mean(axis=0))
    tri = np.array([crotch, ankles[0], ankles[1]], np.float32)
    centre = tri.mean(axis=0)
    tri = centre + 0.7 * (tri - centre)
    cv2.fillPoly(mask, [np.round(tri).astype(np.int32)], value)


def _is_full_body(poses: Poses, i: int, shape: tuple[int, ...]) -> bool:
    kp = poses.keypoints[i]
    has = ~np.isnan(kp[:, 0])
    x0, y0, x1, y1 = poses.xyxy[i]
    inside = x0 > 2 and y0 > 2 and x1 < shape[1] - 3 and y1 < shape[0] - 3
    return bool(inside and has[15] and has[16] and (has[5] or has[6]) and (has[11] or has[12]))


def cut_people(
    image: Image, poses: Poses, *, scale: float, prefix: str, seed: int = 0
) -> list[Sprite]:
    """Cut every person of `poses` out of `image` (resized by `scale` first), left to right.

    grabCut starts from the person's box (outside = background), their skeleton drawn thick as
    foreground and the other people's skeletons as background. Where another person's cut-out
    covers this one (an arm in front of a chest), the gap is inpainted from the photo.
    """
    small = np.asarray(
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
    )
    h_img, w_img = small.shape[:2]
    boxes = poses.xyxy * scale
    kps = poses.keypoints * scale
    order = np.argsort(boxes[:, 0])
    masks: list[npt.NDArray[np.uint8]] = []
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        margin = 0.04 * (y1 - y0)
        mask = np.full((h_img, w_img), cv2.GC_BGD, np.uint8)
        rx0, ry0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
        rx1, ry1 = min(w_img, int(x1 + margin) + 1), min(h_img, int(y1 + margin) + 1)
        mask[ry0:ry1, rx0:rx1] = cv2.GC_PR_BGD
        thick = max(2, round(0.03 * (y1 - y0)))
        for j in order:
            if j != i:
                _draw_skeleton(mask, kps[j], cv2.GC_BGD, 2 * thick)
        _between_legs(mask, kps[i], cv2.GC_BGD)
        _draw_skeleton(mask, kps[i], cv2.GC_PR_FGD, 4 * thick)
        _draw_skeleton(mask, kps[i], cv2.GC_FGD, thick)
        mask[:ry0], mask[ry1:], mask[:, :rx0], mask[:, rx1:] = (cv2.GC_BGD,) * 4
        cy0, cy1 = max(0, ry0 - 10), min(h_img, ry1 + 10)
        cx0, cx1 = max(0, rx0 - 10), min(w_img, rx1 + 10)
        sub_mask = np.ascontiguousarray(mask[cy0:cy1, cx0:cx1])
        cv2.setRNGSeed(seed)  # grabCut's k-means draws from OpenCV's global RNG
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.grabCut(
            np.ascontiguousarray(small[cy0:cy1, cx0:cx1]), sub_mask, (0, 0, 0, 0), bgd, fgd, 4,
            cv2.GC_INIT_WITH_MASK,
        )  # fmt: skip
        full = np.zeros((h_img, w_img), np.uint8)
        full[cy0:cy1, cx0:cx1] = np.isin(sub_mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
        masks.append(_largest_blobs(full))
    sprites = []
    for k, i in enumerate(order):
        mask = masks[k]
        others = np.zeros_like(mask)
        for m, other in enumerate(masks):
            if m != k:
                others |= other
        height = float(boxes[i, 3] - boxes[i, 1])
        ksize = max(3, round(0.12 * height)) | 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ksize, ksize))
        closed = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel), np.uint8)
        gap = closed & others & (1 - mask)
        photo = small
        if gap.any():
            photo = np.asarray(cv2.inpaint(small, gap * 255, 5, cv2.INPAINT_TELEA), np.uint8)
            mask = mask | gap
        sprites.append(
            _make_sprite(photo, mask, kps[i], f"{prefix}{k}", _is_full_body(poses, i, image.shape))
        )
    return sprites


def _largest_blobs(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Smooth the grabCut mask and keep its largest piece (plus pieces at least a third as big)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= areas.max() / 3)
    mask = np.isin(labels, keep).astype(np.uint8)
    # Fill small enclosed holes (a white shirt taken for the bright background).
    holes = 1 - mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    small = [k for k in range(1, count) if stats[k, cv2.CC_STAT_AREA] < 0.03 * mask.sum()]
    touching = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    fill = [k for k in small if k not in touching]
    return mask | np.isin(labels, fill).astype(np.uint8)


def _make_sprite(
    photo: Image, mask: npt.NDArray[np.uint8], kp: FloatArray, name: str, full_body: bool
) -> Sprite:
    ys, xs = np.nonzero(mask)
    pad = 4
    x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
    x1, y1 = min(photo.shape[1], xs.max() + pad + 1), min(photo.shape[0], ys.max() + pad + 1)
    m = mask[y0:y1, x0:x1].astype(np.float32)
    m = np.asarray(cv2.erode(m, np.ones((3, 3), np.uint8)), np.float32)  # drop the colour halo
    alpha = np.asarray(cv2.GaussianBlur(m, (0, 0), 1.2, borderType=cv2.BORDER_REPLICATE))
    if not full_body:
        alpha[-3:] = m[-3:]  # the photo's bottom edge continues below the frame: keep it hard
    bgr = photo[y0:y1, x0:x1].astype(np.float32) / 255.0
    rgba = np.dstack([bgr * alpha[..., None], alpha]).astype(np.float32)
    bottom = float(ys.max() - y0)
    if full_body:
        ankles = kp[[15, 16], 0]
        anchor_x = float(np.nanmean(ankles) - x0)
    else:
        row = np.flatnonzero(mask[ys.max()] > 0)
        anchor_x = float(row.mean() - x0)
    contours, _ = cv2.findContours(
        (m > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    hull = cv2.convexHull(np.vstack(contours)).reshape(-1, 2).astype(np.float32)
    height = bottom - float(ys.min() - y0)
    return Sprite(name, rgba, (anchor_x, bottom), height, full_body, hull, (float(x0), float(y0)))


# --------------------------------------------------------------------------- motion


class Placement(NamedTuple):
    """Where a sprite is drawn: anchor at (x, y) design pixels, `height` of the person in design
    pixels, `tilt_deg` of the body from upright towards +x, mirrored if `flip`, and `squash` < 1
    to shorten the body (knees giving way)."""

    x: float
    y: float
    height: float
    tilt_deg: float = 0.0
    flip: bool = False
    squash: float = 1.0


def standing_height(y: float) -> float:
    """Perspective: height in design pixels of a standing person whose feet are at `y`."""
    return 0.833 * y - 70.0


def _smooth(s: float) -> float:
    s = min(1.0, max(0.0, s))
    return s * s * (3 - 2 * s)


@dataclass(frozen=True)
class Motion:
    """A piece of one actor's timeline, valid from `t0` to `t1` seconds."""

    t0: float
    t1: float

    def at(self, t: float) -> Placement | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Walk(Motion):
    """Constant speed from (x0, y0) to (x1, y1) with a step bob and a little sway."""

    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0
    phase: float = 0.0
    steps_hz: float = 1.8

    def at(self, t: float) -> Placement:
        s = (t - self.t0) / (self.t1 - self.t0)
        x = self.x0 + s * (self.x1 - self.x0)
        y = self.y0 + s * (self.y1 - self.y0)
        step = math.pi * self.steps_hz * (t - self.t0) + self.phase
        h = standing_height(y)
        going_right = self.x1 >= self.x0
        lean = 2.0 if going_right else -2.0
        return Placement(
            x,
            y - 0.012 * h * abs(math.sin(step)),
            h,
            lean + 1.5 * math.sin(step),
            flip=not going_right,  # mirrored when walking to the left
        )


@dataclass(frozen=True)
class Stand(Motion):
    x: float = 0.0
    y: float = 0.0
    phase: float = 0.0
    flip: bool = False

    def at(self, t: float) -> Placement:
        return Placement(
            self.x, self.y, standing_height(self.y), 0.8 * math.sin(1.3 * t + self.phase),
            flip=self.flip,
        )  # fmt: skip


@dataclass(frozen=True)
class Fall(Motion):
    """Tip over about the feet: 0 to 90 degrees from `t0` to `landed`, accelerating like a
    toppling rod, knees giving way; a small rebound, then lying still (breathing) until `t1`."""

    landed: float = 0.0
    x: float = 0.0
    y: float = 0.0
    direction: float = -1.0  # -1: head towards -x
    flip: bool = False

    def at(self, t: float) -> Placement:
        h = standing_height(self.y)
        if t < self.landed:
            s = (t - self.t0) / (self.landed - self.t0)
            tilt, squash, slide = 90.0 * s * s, 1.0 - 0.1 * s, 0.06 * h * s
        else:
            tau = t - self.landed
            tilt = 90.0 - 6.0 * math.exp(-tau / 0.15) * abs(math.sin(tau * 18.0))
            squash, slide = 0.9 + 0.004 * math.sin(2.0 * tau), 0.06 * h
        return Placement(
            self.x - self.direction * slide, self.y, h, self.direction * tilt, self.flip, squash
        )


@dataclass(frozen=True)
class GetUp(Motion):
    """Slowly back from lying (as `Fall` leaves it) to standing."""

    x: float = 0.0
    y: float = 0.0
    direction: float = -1.0
    flip: bool = False

    def at(self, t: float) -> Placement:
        s = _smooth((t - self.t0) / (self.t1 - self.t0))
        h = standing_height(self.y)
        slide = 0.06 * h * (1 - s)
        return Placement(
            self.x - self.direction * slide, self.y, h, self.direction * 90.0 * (1 - s), self.flip,
            0.9 + 0.1 * s,
        )  # fmt: skip


@dataclass(frozen=True)
class Keyframed(Motion):
    """Eased moves between keyframes (t, x, y, tilt_deg, flip) plus fast smooth jitter, at a
    fixed `height` (the fighters) or the standing height of `y` (height 0)."""

    keys: tuple[tuple[float, float, float, float, bool], ...] = ()
    height: float = 0.0
    jitter_px: float = 0.0
    jitter_deg: float = 0.0
    phases: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    def at(self, t: float) -> Placement:
        times = [k[0] for k in self.keys]
        j = max(0, min(len(times) - 2, int(np.searchsorted(times, t, side="right")) - 1))
        (ta, xa, ya, ra, fa), (tb, xb, yb, rb, _) = self.keys[j], self.keys[j + 1]
        s = _smooth((t - ta) / (tb - ta)) if tb > ta else 1.0
        p = self.phases
        jx = self.jitter_px * (math.sin(23.0 * t + p[0]) + 0.5 * math.sin(37.0 * t + p[1]))
        jy = 0.5 * self.jitter_px * math.sin(29.0 * t + p[2])
        jr = self.jitter_deg * (math.sin(19.0 * t + p[3]) + 0.5 * math.sin(41.0 * t + p[4]))
        y = ya + s * (yb - ya)
        h = self.height or standing_height(y)
        return Placement(xa + s * (xb - xa) + jx, y + jy, h, ra + s * (rb - ra) + jr, fa)


@dataclass(frozen=True)
class Actor:
    """A person on stage; `layer` orders drawing (higher in front), then feet further down."""

    name: str
    sprite: Sprite
    motions: tuple[Motion, ...]
    layer: int = 0

    def at(self, t: float) -> Placement | None:
        for m in self.motions:
            if m.t0 <= t < m.t1:
                return m.at(t)
        return None


# --------------------------------------------------------------------------- the room


def draw_room(rng: np.random.Generator) -> Image:
    """A plain care room in design pixels: wall, wooden floor in perspective, door, window, bed."""
    w, h, horizon = DESIGN_W, DESIGN_H, 232
    img = np.zeros((h, w, 3), np.float32)
    yy = np.arange(h, dtype=np.float32)[:, None]
    img[:horizon] = (
        np.array([196, 214, 226], np.float32) * (0.92 + 0.08 * yy[:horizon] / horizon)[..., None]
    )
    floor = np.array([78, 118, 160], np.float32)
    img[horizon:] = floor * (0.85 + 0.25 * (yy[horizon:] - horizon) / (h - horizon))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    vx, vy = w / 2, 60.0  # vanishing point of the floor boards
    for k in range(-14, 15):
        x_bottom = vx + k * 95
        x_top = vx + (x_bottom - vx) * (horizon - vy) / (h - vy)
        cv2.line(img, (round(x_top), horizon), (round(x_bottom), h), (58, 92, 128), 1, cv2.LINE_AA)
    for k in range(1, 12):
        y = round(horizon + (h - horizon) * (k / 11) ** 1.6)
        cv2.line(img, (0, y), (w, y), (66, 100, 138), 1, cv2.LINE_AA)
    cv2.rectangle(img, (0, horizon - 10), (w, horizon), (150, 165, 175), -1)  # skirting board
    # door, left wall
    cv2.rectangle(img, (112, 38), (232, horizon - 2), (120, 135, 145), -1)
    cv2.rectangle(img, (120, 46), (224, horizon - 2), (88, 120, 152), -1)
    for y0 in (60, 140):
        cv2.rectangle(img, (134, y0), (210, y0 + 62), (78, 108, 140), 2)
    cv2.circle(img, (212, 150), 5, (60, 170, 200), -1)
    # window
    cv2.rectangle(img, (520, 46), (700, 160), (235, 235, 235), -1)
    cv2.rectangle(img, (528, 54), (692, 152), (230, 200, 160), -1)
    cv2.line(img, (610, 54), (610, 152), (235, 235, 235), 4)
    cv2.rectangle(img, (512, 160), (708, 168), (205, 210, 215), -1)
    # bed against the right wall
    cv2.rectangle(img, (770, 120), (950, horizon + 4), (60, 80, 110), -1)  # headboard
    mattress = np.array([[770, 200], [950, 200], [958, 320], [742, 320]], np.int32)
    cv2.fillPoly(img, [mattress], (230, 232, 236))
    cv2.fillPoly(
        img, [np.array([[752, 250], [955, 250], [958, 320], [742, 320]], np.int32)], (160, 120, 80)
    )
    cv2.rectangle(img, (742, 320), (958, 346), (70, 95, 125), -1)  # bed frame
    cv2.ellipse(img, (860, 214), (62, 16), 0, 0, 360, (245, 245, 248), -1)
    # texture: low-frequency blotches and fine grain, seeded
    low = cv2.resize(
        rng.normal(0, 1, (9, 16)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    grain = rng.normal(0, 1, (h, w)).astype(np.float32)
    noisy = img.astype(np.float32) + (4.0 * low + 2.0 * grain)[..., None]
    return np.clip(noisy, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- the scene


class DemoScene:
    """The scripted scene; `render_frame(i)` is a pure function of `i` (and the seed)."""

    def __init__(
        self,
        full_body: Sequence[Sprite],
        upper_body: Sequence[Sprite],
        *,
        seed: int = 7,
        fps: float = 15.0,
        size: tuple[int, int] = (DESIGN_W, DESIGN_H),
    ) -> None:
        if len(full_body) < 2 or len(upper_body) < 2:
            raise ValueError(
                "the demo scene needs two full-body and two upper-body people, got "
                f"{len(full_body)} and {len(upper_body)}"
            )
        self.seed, self.fps, self.size = seed, fps, size
        rng = np.random.default_rng(seed)
        room = draw_room(rng)
        self.background: Image = (
            room if size == (DESIGN_W, DESIGN_H)
            else np.asarray(cv2.resize(room, size, interpolation=cv2.INTER_AREA), np.uint8)
        )  # fmt: skip
        self.sx, self.sy = size[0] / DESIGN_W, size[1] / DESIGN_H
        self.duration_s = 51.0
        self.frame_count = round(self.duration_s * fps)
        self.actors, segments = _script(full_body, upper_body, rng)
        self.script = DemoScript(
            size, fps, self.frame_count, seed, tuple(self._with_regions(segments))
        )

    def time_of(self, index: int) -> float:
        return index / self.fps

    def _matrix(self, sprite: Sprite, p: Placement) -> FloatArray:
        """2x3 affine from sprite pixels to frame pixels."""
        k = p.height / sprite.height_px
        ax, ay = sprite.anchor
        flip = -1.0 if p.flip else 1.0
        a = math.radians(p.tilt_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        lin = rot @ np.diag([k * flip, k * p.squash])
        lin = np.diag([self.sx, self.sy]) @ lin
        offset = np.array([p.x * self.sx, p.y * self.sy]) - lin @ np.array([ax, ay])
        return np.hstack([lin, offset[:, None]]).astype(np.float32)

    def placements(self, index: int) -> list[tuple[Actor, Placement]]:
        """The actors on stage at frame `index`, back to front."""
        t = self.time_of(index)
        on = [(a, p) for a in self.actors if (p := a.at(t)) is not None]
        return sorted(on, key=lambda ap: (ap[0].layer, ap[1].y))

    def boxes(self, index: int) -> dict[str, tuple[float, float, float, float]]:
        """Each visible actor's xyxy in frame pixels (clipped to the frame)."""
        out = {}
        w, h = self.size
        for actor, p in self.placements(index):
            m = self._matrix(actor.sprite, p)
            pts = actor.sprite.hull @ m[:, :2].T + m[:, 2]
            x0, y0 = max(0.0, float(pts[:, 0].min())), max(0.0, float(pts[:, 1].min()))
            x1, y1 = min(float(w), float(pts[:, 0].max())), min(float(h), float(pts[:, 1].max()))
            if x1 - x0 > 2 and y1 - y0 > 2:
                out[actor.name] = (x0, y0, x1, y1)
        return out

    def render_frame(self, index: int) -> Image:
        """The BGR uint8 frame `index` (0-based)."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.frame_count - 1}")
        img = self.background.astype(np.float32) / 255.0
        w, h = self.size
        placed = self.placements(index)
        for actor, p in placed:
            if actor.sprite.full_body:
                self._shadow(img, p)
        for actor, p in placed:
            m = self._matrix(actor.sprite, p)
            sh, sw = actor.sprite.rgba.shape[:2]
            corners = (
                np.array([[0, 0], [sw, 0], [0, sh], [sw, sh]], np.float32) @ m[:, :2].T + m[:, 2]
            )
            x0, y0 = max(0, int(corners[:, 0].min())), max(0, int(corners[:, 1].min()))
            x1, y1 = min(w, int(corners[:, 0].max()) + 2), min(h, int(corners[:, 1].max()) + 2)
            if x1 <= x0 or y1 <= y0:
                continue
            local = m.copy()
            local[:, 2] -= (x0, y0)
            warped = cv2.warpAffine(
                actor.sprite.rgba, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0),
            )  # fmt: skip
            roi = img[y0:y1, x0:x1]
            roi *= 1.0 - warped[..., 3:4]
            roi += warped[..., :3]
        return np.asarray(np.clip(img * 255.0 + 0.5, 0, 255), dtype=np.uint8)

    def _shadow(self, img: FloatArray, p: Placement) -> None:
        """A soft dark ellipse on the floor under the body (stretched when it tilts)."""
        lean = math.sin(math.radians(p.tilt_deg))
        cx = (p.x + 0.5 * p.height * lean) * self.sx
        rx = (0.16 + 0.42 * abs(lean)) * p.height * self.sx
        ry = (0.035 + 0.04 * abs(lean)) * p.height * self.sy
        cy = (p.y + 0.01 * p.height) * self.sy
        x0, x1 = max(0, int(cx - 2 * rx)), min(img.shape[1], int(cx + 2 * rx))
        y0, y1 = max(0, int(cy - 3 * ry)), min(img.shape[0], int(cy + 3 * ry))
        if x1 <= x0 or y1 <= y0:
            return
        xs = (np.arange(x0, x1, dtype=np.float32) - cx) / rx
        ys = (np.arange(y0, y1, dtype=np.float32) - cy) / ry
        d2 = xs[None, :] ** 2 + ys[:, None] ** 2
        img[y0:y1, x0:x1] *= (1.0 - 0.35 * np.exp(-1.5 * d2))[..., None]

    def _with_regions(self, segments: list[Segment]) -> list[Segment]:
        """Fill in each segment's region: the union of its actors' boxes over its frames."""
        out = []
        for seg in segments:
            x0, y0, x1, y1 = math.inf, math.inf, -math.inf, -math.inf
            first = math.ceil(seg.start_s * self.fps)
            last = min(self.frame_count - 1, math.floor(seg.end_s * self.fps))
            for i in range(first, last + 1):
                for name, b in self.boxes(i).items():
                    if name in seg.actors:
                        x0, y0 = min(x0, b[0]), min(y0, b[1])
                        x1, y1 = max(x1, b[2]), max(y1, b[3])
            region = (round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1))
            out.append(replace(seg, region=region))
        return out


def _script(
    full_body: Sequence[Sprite], upper_body: Sequence[Sprite], rng: np.random.Generator
) -> tuple[list[Actor], list[Segment]]:
    """The actors' timelines and the segments they act out (regions filled in later)."""
    fur, dark = full_body[0], full_body[1]
    left, right = upper_body[0], upper_body[1]
    ph = rng.uniform(0, math.pi, 8)
    none = (0.0, 0.0, 0.0, 0.0)
    segs: list[Segment] = []

    def walk(t0: float, t1: float, x0: float, x1: float, y: float, p: float, name: str) -> Walk:
        segs.append(Segment("walk", t0, t1, (name,), none))
        return Walk(t0, t1, x0, y, x1, y, phase=p)

    # Dark coat: crosses, comes back, falls, lies, gets up, leaves.
    fall_x, fall_y = 380.0, 445.0
    fall = Fall(11.8, 22.0, landed=12.45, x=fall_x, y=fall_y, direction=-1.0)
    segs.append(Segment("fall", 11.8, 22.0, ("dark",), none, landed_s=12.45))
    dark_actor = Actor(
        "dark",
        dark,
        (
            walk(1.0, 7.0, 1030, -70, 425, ph[0], "dark"),
            walk(8.0, 11.0, -70, fall_x, fall_y, ph[1], "dark"),
            Stand(11.0, 11.8, fall_x, fall_y, ph[2]),
            fall,
            GetUp(22.0, 24.5, fall_x, fall_y),
            Stand(24.5, 25.0, fall_x, fall_y, ph[3], flip=True),
            walk(25.0, 27.5, fall_x, -70, fall_y, ph[4], "dark"),
        ),
    )

    # Fur coat: crosses, later walks in and paces in front of the bed, then leaves.
    pace_y, lo, hi = 455.0, 540.0, 850.0
    motions: list[Motion] = [
        walk(0.0, 6.0, -70, 1030, 470, ph[5], "fur"),
        walk(21.0, 24.0, 1030, hi, pace_y, ph[6], "fur"),
    ]
    t, x, turns = 24.0, hi, []
    while t < 47.0:
        target = (lo if x > (lo + hi) / 2 else hi) + rng.uniform(-30, 30)
        dur = abs(target - x) / rng.uniform(85, 115)
        if t + dur > 48.0:
            dur, target = 48.0 - t, x + (target - x) * (48.0 - t) / dur
        motions.append(Walk(t, t + dur, x, pace_y, target, pace_y, phase=float(rng.uniform(0, 3))))
        walked_left = target < x
        t, x = t + dur, target
        if t < 47.6:
            turns.append(round(t, 2))
            pause = min(float(rng.uniform(0.2, 0.5)), 48.0 - t)
            motions.append(Stand(t, t + pause, x, pace_y, flip=walked_left))
            t += pause
    if t < 48.0:
        motions.append(Stand(t, 48.0, x, pace_y))
    segs.append(Segment("pace", 24.0, 48.0, ("fur",), none, turns_s=tuple(turns)))
    motions.append(walk(48.0, 50.5, x, 1030, pace_y, ph[7], "fur"))
    fur_actor = Actor("fur", fur, tuple(motions))

    # The fight: the two men of zidane.jpg in the right foreground, as arranged in the photo.
    left_actor, right_actor = _fight(left, right, rng)
    segs.append(Segment("fight", 14.0, 19.0, ("left", "right"), none))
    segs.sort(key=lambda s: s.start_s)
    return [dark_actor, fur_actor, left_actor, right_actor], segs


_Key = tuple[float, float, float, float, bool]


def _fight(left: Sprite, right: Sprite, rng: np.random.Generator) -> tuple[Actor, Actor]:
    """Slide in (12.5-14), shove back and forth (14-19), slide out (19-20.5).

    The two keep their arrangement in the photo (the left one's arm reaching the right one) as
    the rest position, scaled by `k`, with room on the right for the shoves.
    """
    k = 0.85
    base_y = DESIGN_H + 30.0  # the photos' bottom edge stays below the frame
    gap = k * ((right.origin[0] + right.anchor[0]) - (left.origin[0] + left.anchor[0]))
    right_edge = gap + k * (right.rgba.shape[1] - right.anchor[0])
    lx = max(880.0 - right_edge, 440.0 + k * left.anchor[0])
    rx = lx + gap
    lkeys: list[_Key] = [(12.5, lx + 560, base_y, 0, False), (14.0, lx, base_y, 0, False)]
    rkeys: list[_Key] = [(12.5, rx + 600, base_y, 0, False), (14.0, rx, base_y, 0, False)]
    t, attacker = 14.0, 0
    while t < 18.7:
        dur = float(rng.uniform(0.22, 0.4))
        push = float(rng.uniform(25, 55))
        lunge, lean, recoil = 0.6 * push, float(rng.uniform(6, 15)), float(rng.uniform(10, 20))
        drift = float(rng.uniform(-25, 15))
        bob = float(rng.uniform(0, 12))
        if attacker == 0:  # left shoves right
            lkeys.append((t + dur, lx + drift + lunge, base_y + bob, lean, False))
            rkeys.append((t + dur, rx + drift + push, base_y, recoil, False))
        else:
            lkeys.append((t + dur, lx + drift - push, base_y, -recoil, False))
            rkeys.append((t + dur, rx + drift - lunge, base_y + bob, -lean, False))
        t += dur
        attacker = attacker if rng.uniform() < 0.3 else 1 - attacker
    lkeys += [(19.0, lx, base_y, 0, False), (20.5, lx + 600, base_y, 0, False)]
    rkeys += [(19.0, rx, base_y, 0, False), (20.2, rx + 560, base_y, 0, False)]
    hl, hr = k * left.height_px, k * right.height_px
    fight_l = Keyframed(12.5, 20.5, tuple(lkeys), hl, 3.0, 2.0, tuple(rng.uniform(0, 6, 6)))
    fight_r = Keyframed(12.5, 20.2, tuple(rkeys), hr, 3.0, 2.0, tuple(rng.uniform(0, 6, 6)))
    return Actor("left", left, (fight_l,), layer=1), Actor("right", right, (fight_r,), layer=1)


# --------------------------------------------------------------------------- building it


def load_sprites(
    estimator: ImagePoseEstimator, assets: Path, *, seed: int = 7
) -> tuple[list[Sprite], list[Sprite]]:
    """Full-body people of bus.jpg and upper-body people of zidane.jpg, as sprites."""
    found: dict[str, list[Sprite]] = {}
    # Scales that make the cut-outs about the size they are drawn at (people ~370 px tall).
    for name, scale in (("bus", 0.72), ("zidane", 0.5)):
        path = assets / f"{name}.jpg"
        read = cv2.imread(str(path))
        if read is None:
            raise FileNotFoundError(f"cannot read the sample photo {path}")
        image = np.asarray(read, np.uint8)
        poses = estimator.infer_image(image)
        poses = poses[poses.score > 0.5]
        found[name] = cut_people(image, poses, scale=scale, prefix=name, seed=seed)
    full = [s for s in found["bus"] if s.full_body]
    upper = found["zidane"]
    return full, upper


def build_scene(
    estimator: ImagePoseEstimator,
    assets: Path,
    *,
    seed: int = 7,
    fps: float = 15.0,
    size: tuple[int, int] = (DESIGN_W, DESIGN_H),
) -> DemoScene:
    full, upper = load_sprites(estimator, assets, seed=seed)
    return DemoScene(full, upper, seed=seed, fps=fps, size=size)


def make_demo_video(
    out: Path,
    *,
    estimator: ImagePoseEstimator,
    assets: Path,
    seed: int = 7,
    fps: float = 15.0,
    size: tuple[int, int] = (DESIGN_W, DESIGN_H),
) -> DemoScript:
    """Render the demo scene to `out` (H.264 MP4) and its script to `out` with suffix .json."""
    scene = build_scene(estimator, assets, seed=seed, fps=fps, size=size)
    out.parent.mkdir(parents=True, exist_ok=True)
    with H264Writer(out, fps, size) as writer:
        for i in range(scene.frame_count):
            writer.write(scene.render_frame(i))
    out.with_suffix(".json").write_text(scene.script.to_json())
    log.info("wrote %s (%d frames) and its script", out, scene.frame_count)
    return scene.script
