"""The procedural clip generator: what it promises downstream code (shapes, labels, determinism)
and the realism the learned classifiers depend on (fast limbs in fights, motion where people
are, falls that end low)."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest

from models.behaviour.generator import (
    DETECTION_MIN_SCORE,
    FPS_CHOICES,
    FRAME_SIZES,
    KEYPOINT_MIN_SCORE,
    SUBTYPES,
    GeneratedClip,
    generate,
)
from vision.behaviours.posefeatures import torso_angle_deg
from vision.motion import thumbnail
from vision.types import NUM_KEYPOINTS, Poses

Behaviour = Literal["fight", "fall"]
BEHAVIOURS: tuple[Behaviour, ...] = ("fight", "fall")
ANALYSED_FPS = 5.0
"""Downstream analyses this many frames a second; speeds are measured at that spacing."""


@cache
def clips(behaviour: Behaviour) -> tuple[GeneratedClip, ...]:
    """Two rounds of every subtype (fights: 36 clips of 2-4 s, falls: 44 of 5-8 s)."""
    rounds = 2 * max(len(v) for v in SUBTYPES[behaviour].values())
    return tuple(generate(behaviour, 2 * rounds, seed=0))


def analysed(clip: GeneratedClip) -> range:
    return range(0, len(clip.poses), max(1, round(clip.fps / ANALYSED_FPS)))


def assert_same(a: GeneratedClip, b: GeneratedClip) -> None:
    assert (a.name, a.label, a.subtype, a.fps, a.frame_size) == (
        b.name,
        b.label,
        b.subtype,
        b.fps,
        b.frame_size,
    )
    assert (a.event_start, a.event_end) == (b.event_start, b.event_end)
    np.testing.assert_array_equal(a.timestamps, b.timestamps)
    np.testing.assert_array_equal(a.thumbs, b.thumbs)
    assert len(a.poses) == len(b.poses)
    for p, q in zip(a.poses, b.poses, strict=True):
        for name in ("xyxy", "score", "keypoints", "keypoint_score"):
            np.testing.assert_array_equal(getattr(p, name), getattr(q, name))


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_same_seed_same_clips_and_clip_i_does_not_depend_on_n(behaviour: Behaviour) -> None:
    first = generate(behaviour, 4, seed=3)
    again = generate(behaviour, 4, seed=3)
    for a, b in zip(first, again, strict=True):
        assert_same(a, b)
    assert_same(generate(behaviour, 2, seed=3)[1], first[1])
    other = generate(behaviour, 4, seed=4)
    assert any(a.frame_size != b.frame_size for a, b in zip(first, other, strict=True))
    assert {c.name for c in first}.isdisjoint(c.name for c in other)


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_shapes_and_dtypes_are_what_a_camera_and_pose_model_deliver(behaviour: Behaviour) -> None:
    for clip in clips(behaviour):
        n = len(clip.poses)
        w, h = clip.frame_size
        assert clip.fps in FPS_CHOICES and clip.frame_size in FRAME_SIZES
        assert clip.timestamps.dtype == np.float64 and clip.timestamps.shape == (n,)
        np.testing.assert_allclose(clip.timestamps, np.arange(n) / clip.fps)
        assert clip.thumbs.dtype == np.uint8
        assert clip.thumbs.shape == (n, *thumbnail(np.zeros((h, w, 3), np.uint8)).shape)
        for poses in clip.poses:
            assert isinstance(poses, Poses) and poses.track_id is None
            k = len(poses)
            assert poses.keypoints.shape == (k, NUM_KEYPOINTS, 2)
            for name in ("xyxy", "score", "keypoints", "keypoint_score"):
                assert getattr(poses, name).dtype == np.float32, name


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_half_positive_and_every_subtype_present(behaviour: Behaviour) -> None:
    got = clips(behaviour)
    positives = [c for c in got if c.label == behaviour]
    negatives = [c for c in got if c.label == "normal"]
    assert len(positives) == len(negatives) == len(got) // 2
    assert {c.subtype for c in positives} == set(SUBTYPES[behaviour][behaviour])
    assert {c.subtype for c in negatives} == set(SUBTYPES[behaviour]["normal"])
    assert len({c.name for c in got}) == len(got)
    assert got[7].name == f"gen-{behaviour}-{got[7].subtype}-0007"


@pytest.mark.parametrize(
    ("behaviour", "low_s", "high_s"),
    [("fight", 2.0, 4.0), ("fall", 5.0, 8.0)],
)
def test_clip_lengths_and_events(behaviour: Behaviour, low_s: float, high_s: float) -> None:
    for clip in clips(behaviour):
        n = len(clip.poses)
        assert low_s - 0.1 <= n / clip.fps <= high_s + 0.1
        if clip.label == "normal":
            assert clip.event_start is None and clip.event_end is None
            continue
        assert clip.event_start is not None and clip.event_end is not None
        assert 0 <= clip.event_start <= clip.event_end < n
        if behaviour == "fall":  # about 1-2 s upright first, on the floor within 2 s
            assert 0.9 <= clip.event_start / clip.fps <= 2.1
            assert (clip.event_end - clip.event_start) / clip.fps <= 2.0


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_keypoints_boxes_and_scores_are_plausible(behaviour: Behaviour) -> None:
    inside_box = total = 0
    for clip in clips(behaviour):
        w, h = clip.frame_size
        for poses in clip.poses:
            kp, ks, box = poses.keypoints, poses.keypoint_score, poses.xyxy
            missing = np.isnan(kp).any(axis=-1)
            assert (np.isnan(kp[..., 0]) == np.isnan(kp[..., 1])).all()
            np.testing.assert_array_equal(missing, ks < KEYPOINT_MIN_SCORE)
            assert ((ks >= 0) & (ks <= 1)).all()
            assert ((poses.score >= DETECTION_MIN_SCORE) & (poses.score <= 0.95)).all()
            seen = kp[~missing]
            assert ((seen >= 0) & (seen < [w, h])).all()
            assert ((box >= 0) & (box <= [w, h, w, h])).all()
            assert (box[:, 2] > box[:, 0]).all() and (box[:, 3] > box[:, 1]).all()
            size = (box[:, 2:] - box[:, :2])[:, None]
            lo, hi = box[:, None, :2] - 0.15 * size, box[:, None, 2:] + 0.15 * size
            within = ((kp >= lo) & (kp <= hi)).all(axis=-1) & ~missing
            inside_box += int(within.sum())
            total += int((~missing).sum())
    assert inside_box >= 0.97 * total  # merged detections and ghosts stray a little


def test_unknown_behaviour_is_refused() -> None:
    with pytest.raises(ValueError, match="fight"):
        generate("wandering", 2)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- realism


def _body(kp: npt.NDArray[np.float32]) -> npt.NDArray[np.float64] | None:
    torso = kp[[5, 6, 11, 12]]
    seen = ~np.isnan(torso[:, 0])
    return torso[seen].mean(axis=0).astype(np.float64) if seen.any() else None


def limb_speed(clip: GeneratedClip) -> float:
    """Median over analysed frames of the fastest wrist or elbow relative to its body, body
    heights a second (people matched to the nearest box of the previous analysed frame)."""
    frames = list(analysed(clip))
    dt = (frames[1] - frames[0]) / clip.fps
    fastest: list[float] = []
    for i, j in itertools.pairwise(frames):
        a, b = clip.poses[i], clip.poses[j]
        if not len(a) or not len(b):
            continue
        best = 0.0
        centres_a = (a.xyxy[:, :2] + a.xyxy[:, 2:]) / 2
        for k in range(len(b)):
            centre = (b.xyxy[k, :2] + b.xyxy[k, 2:]) / 2
            m = int(np.argmin(np.hypot(*(centres_a - centre).T)))
            ref = float(b.xyxy[k, 3] - b.xyxy[k, 1])
            body_a, body_b = _body(a.keypoints[m]), _body(b.keypoints[k])
            if body_a is None or body_b is None or ref <= 0:
                continue
            moved = (b.keypoints[k, 7:11] - body_b) - (a.keypoints[m, 7:11] - body_a)
            speeds = np.hypot(moved[:, 0], moved[:, 1]) / dt / ref
            if np.isfinite(speeds).any():
                best = max(best, float(np.nanmax(speeds)))
        fastest.append(best)
    return float(np.median(fastest)) if fastest else float("nan")


def test_fights_have_faster_limbs_than_talking_or_walking() -> None:
    got = clips("fight")
    fights = [limb_speed(c) for c in got if c.label == "fight"]
    calm = [limb_speed(c) for c in got if c.subtype in ("talking", "walk_past", "walk_together")]
    assert len(calm) >= 6
    assert np.nanmedian(fights) > 1.5 * np.nanmedian(calm)
    assert np.nanmedian(fights) > 0.8  # body heights a second, at 5 analysed frames a second


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_thumbnails_change_where_the_people_are(behaviour: Behaviour) -> None:
    ratios = []
    for clip in clips(behaviour):
        inside, outside = [], []
        for i in range(1, len(clip.poses)):
            change = np.abs(clip.thumbs[i].astype(np.int16) - clip.thumbs[i - 1])
            mask = np.zeros(change.shape, np.bool_)
            for x1, y1, x2, y2 in (clip.poses[i].xyxy / 8).astype(int):
                mask[y1 : y2 + 1, x1 : x2 + 1] = True
            if mask.any() and (~mask).any():
                inside.append(change[mask].mean())
                outside.append(change[~mask].mean())
        ratios.append(np.mean(inside) / np.mean(outside))
    assert min(ratios) > 1.0
    assert np.median(ratios) > 1.5


def _ends_down(clip: GeneratedClip) -> bool | None:
    """Whether the most confident person's box is under 3/4 of its first second's height, or
    their torso leans over 50 degrees, in the last second; None when nobody is seen then."""

    def look(frames: range) -> tuple[float, float] | None:
        heights, angles = [], []
        for i in frames:
            p = clip.poses[i]
            if len(p):
                j = int(np.argmax(p.score))
                heights.append(float(p.xyxy[j, 3] - p.xyxy[j, 1]))
                angles.append(float(torso_angle_deg(p.keypoints[j])))
        if not heights:
            return None
        leaning = [a for a in angles if np.isfinite(a)]
        return float(np.median(heights)), float(np.median(leaning)) if leaning else 0.0

    second = round(clip.fps)
    start, end = look(range(second)), look(range(len(clip.poses) - second, len(clip.poses)))
    if start is None or end is None:
        return None
    return end[0] < 0.75 * start[0] or end[1] > 50


def test_falls_end_low_and_upright_negatives_do_not() -> None:
    got = clips("fall")
    falls = [_ends_down(c) for c in got if c.label == "fall"]
    upright = ("pick_up", "jump", "walk", "jog", "stretch", "squat", "sit_chair", "stumble")
    others = [_ends_down(c) for c in got if c.subtype in upright]
    falls_down = [d for d in falls if d is not None]
    others_down = [d for d in others if d is not None]
    assert len(falls_down) >= 12 and len(others_down) >= 12
    assert np.mean(falls_down) >= 0.6
    assert np.mean(others_down) <= 0.3
