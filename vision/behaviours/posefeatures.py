"""Features of a person's pose from COCO-17 keypoints, shared by the behaviour detectors.

Pure numpy and NaN-robust: a missing joint is NaN (never (0, 0)) and every feature that cannot be
computed from what is visible is NaN too, so callers test `np.isnan` instead of guessing. Functions
take one person's keypoints `(17, 2)` or many `(..., 17, 2)` and return arrays over the leading
axes. Image coordinates: x to the right, y down, pixels.

Distances and speeds are made camera-relative by dividing by a *body height reference*: the
person's own size in the image while upright (see `body_height_reference`), so "dropped 0.5 body
heights in 0.4 s" means the same near and far from the camera::

    ref = body_height_reference(boxes_of_last_3_s)
    v = vertical_speed(times, hip_ys, ref)  # body heights per second, positive = downwards
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vision.types import FloatArray

NOSE = 0
EYES = (1, 2)
EARS = (3, 4)
HEAD = (0, 1, 2, 3, 4)
SHOULDERS = (5, 6)
ELBOWS = (7, 8)
WRISTS = (9, 10)
HIPS = (11, 12)
KNEES = (13, 14)
ANKLES = (15, 16)

F64 = npt.NDArray[np.float64]


def _nanmean(values: npt.ArrayLike, axis: int) -> F64:
    """`np.nanmean` without the 'mean of empty slice' warning: all-NaN gives NaN quietly."""
    arr = np.asarray(values, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmean(arr, axis=axis), np.float64)


def group_point(keypoints: FloatArray | F64, joints: Sequence[int]) -> F64:
    """Mean position `(..., 2)` of the visible joints among `joints`; NaN when none is visible."""
    kp = np.asarray(keypoints, np.float64)[..., list(joints), :]
    # A joint counts only when both coordinates are present.
    kp = np.where(np.isnan(kp).any(axis=-1, keepdims=True), np.nan, kp)
    return _nanmean(kp, axis=-2)


def head_point(keypoints: FloatArray | F64) -> F64:
    """The head `(..., 2)`: mean of visible nose, eyes and ears."""
    return group_point(keypoints, HEAD)


def shoulder_point(keypoints: FloatArray | F64) -> F64:
    return group_point(keypoints, SHOULDERS)


def hip_point(keypoints: FloatArray | F64) -> F64:
    return group_point(keypoints, HIPS)


def knee_point(keypoints: FloatArray | F64) -> F64:
    return group_point(keypoints, KNEES)


def ankle_point(keypoints: FloatArray | F64) -> F64:
    return group_point(keypoints, ANKLES)


def wrist_point(keypoints: FloatArray | F64) -> F64:
    return group_point(keypoints, WRISTS)


def angle_from_vertical_deg(lower: F64, upper: F64) -> F64:
    """Angle `(...)` of the segment lower -> upper from straight up, degrees.

    0 = `upper` exactly above `lower` (upright), 90 = level (lying), 180 = upside down. NaN when
    either end is missing or both coincide.
    """
    d = np.asarray(upper, np.float64) - np.asarray(lower, np.float64)
    length = np.hypot(d[..., 0], d[..., 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(-d[..., 1] / length, -1.0, 1.0)
        angle = np.degrees(np.arccos(cos))
    return np.where(length > 1e-6, angle, np.nan)


def torso_angle_deg(keypoints: FloatArray | F64) -> F64:
    """How far the torso leans from vertical `(...)`, degrees (0 upright, 90 lying).

    Hips -> shoulders; where hips or shoulders are missing, hips -> head, then knees -> shoulders
    (steeper than the true torso when the person sits, so it errs towards "upright").
    """
    kp = np.asarray(keypoints, np.float64)
    hips, shoulders = hip_point(kp), shoulder_point(kp)
    angle = angle_from_vertical_deg(hips, shoulders)
    for lower, upper in ((hips, head_point(kp)), (knee_point(kp), shoulders)):
        angle = np.where(np.isnan(angle), angle_from_vertical_deg(lower, upper), angle)
    return angle


def body_angle_deg(keypoints: FloatArray | F64) -> F64:
    """Angle of the whole body `(...)` from vertical, degrees: ankles (else knees) to head (else
    shoulders)."""
    kp = np.asarray(keypoints, np.float64)
    feet = ankle_point(kp)
    feet = np.where(np.isnan(feet), knee_point(kp), feet)
    top = head_point(kp)
    top = np.where(np.isnan(top), shoulder_point(kp), top)
    return angle_from_vertical_deg(feet, top)


def visible(keypoints: FloatArray | F64) -> npt.NDArray[np.bool_]:
    """Which joints `(..., 17)` are present."""
    return np.asarray(~np.isnan(np.asarray(keypoints, np.float64)).any(axis=-1), np.bool_)


def whole_body_visible(keypoints: FloatArray | F64) -> npt.NDArray[np.bool_]:
    """Whether head or shoulders, hips and knees or ankles are all present `(...)`.

    A person cut off by the image edge, a desk or a close-up lacks one of these and cannot be
    judged as standing or lying.
    """
    vis = visible(keypoints)
    top = vis[..., list(HEAD + SHOULDERS)].any(axis=-1)
    middle = vis[..., list(HIPS)].any(axis=-1)
    bottom = vis[..., list(KNEES + ANKLES)].any(axis=-1)
    return np.asarray(top & middle & bottom, np.bool_)


def keypoint_extent(keypoints: FloatArray | F64) -> F64:
    """(width, height) `(..., 2)` of the visible joints' bounding box; NaN when none visible."""
    kp = np.asarray(keypoints, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmax(kp, axis=-2) - np.nanmin(kp, axis=-2), np.float64)


def box_size(xyxy: FloatArray | F64) -> F64:
    """(width, height) `(..., 2)` of boxes `(..., 4)`."""
    b = np.asarray(xyxy, np.float64)
    return np.stack([b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], axis=-1)


def box_aspect(xyxy: FloatArray | F64) -> F64:
    """Width over height `(...)` of boxes `(..., 4)`: < 1 standing, > 1 lying across the view."""
    wh = box_size(xyxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wh[..., 1] > 0, wh[..., 0] / wh[..., 1], np.nan)


def body_height_reference(xyxy: FloatArray | F64, percentile: float = 90.0) -> float:
    """A person's size in pixels from their recent boxes `(n, 4)`: a high percentile of max(w, h).

    Taken over the seconds *before* an event (e.g. the last 3 s while upright), so a fall, which
    shrinks the box height, does not shrink the reference. The larger side counts, so a person
    lying across the view keeps their length. A high percentile rather than the maximum ignores
    a single oversized box. NaN when no box is given.
    """
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    if not len(b):
        return float("nan")
    return float(np.percentile(box_size(b).max(axis=-1), percentile))


def touches_border(
    xyxy: FloatArray | F64, frame_size: tuple[int, int], margin_px: float
) -> npt.NDArray[np.bool_]:
    """Whether boxes `(..., 4)` come within `margin_px` of an edge of a (width, height) frame."""
    b = np.asarray(xyxy, np.float64)
    w, h = frame_size
    return np.asarray(
        (b[..., 0] <= margin_px)
        | (b[..., 1] <= margin_px)
        | (b[..., 2] >= w - margin_px)
        | (b[..., 3] >= h - margin_px),
        np.bool_,
    )


def vertical_speed(times_s: F64 | Sequence[float], ys: F64 | Sequence[float], ref: float) -> F64:
    """Speed `(n - 1,)` between consecutive samples in body heights per second, + = downwards.

    NaN where a sample is missing or two share a timestamp.
    """
    t = np.asarray(times_s, np.float64)
    y = np.asarray(ys, np.float64)
    dt = np.diff(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.diff(y) / dt / ref
    return np.where(dt > 0, v, np.nan)


def joint_speeds(
    previous: FloatArray | F64, current: FloatArray | F64, dt_s: float, ref: float
) -> F64:
    """Speed of every joint `(..., 17)` between two poses, body heights per second; NaN where a
    joint is unseen in either."""
    if dt_s <= 0 or not ref > 0:
        return np.full(np.asarray(current).shape[:-1], np.nan)
    d = np.asarray(current, np.float64) - np.asarray(previous, np.float64)
    return np.asarray(np.hypot(d[..., 0], d[..., 1]) / dt_s / ref, np.float64)


def max_drop(times_s: F64, ys: F64, window_s: float) -> tuple[float, float, float]:
    """The largest downward move of `ys` within any `window_s` span, ignoring NaN samples.

    Returns (drop in the units of ys, time it started, time it ended); (0, nan, nan) when there is
    no downward move. O(n^2) on the short histories the detectors keep.
    """
    t = np.asarray(times_s, np.float64)
    y = np.asarray(ys, np.float64)
    ok = ~np.isnan(y)
    t, y = t[ok], y[ok]
    best = (0.0, float("nan"), float("nan"))
    for j in range(1, len(y)):
        earlier = (t >= t[j] - window_s) & (np.arange(len(t)) < j)
        if not earlier.any():
            continue
        idx = np.flatnonzero(earlier)
        i = idx[np.argmin(y[idx])]
        drop = float(y[j] - y[i])
        if drop > best[0]:
            best = (drop, float(t[i]), float(t[j]))
    return best
