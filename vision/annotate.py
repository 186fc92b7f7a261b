"""Drawing people on frames (boxes, track ids, skeletons). Drawing only: no logic, no I/O."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vision.types import SKELETON, Image, Poses


def color_for(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per track id, consecutive ids far apart in hue (grey if untracked)."""
    if track_id < 0:
        return (160, 160, 160)
    hsv = np.array([[[(track_id * 67) % 180, 220, 255]]], np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_poses(image: Image, poses: Poses, *, label: bool = True) -> Image:
    """Return a copy of `image` with each person's box, id and skeleton drawn."""
    out = image.copy()
    scale = max(1, round(max(out.shape[:2]) / 640))
    ids = poses.track_id if poses.track_id is not None else np.full(len(poses), -1)
    for i in range(len(poses)):
        color = color_for(int(ids[i]))
        x1, y1, x2, y2 = (round(float(v)) for v in poses.xyxy[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2 * scale)
        points = poses.keypoints[i]
        for a, b in SKELETON:
            pa, pb = points[a], points[b]
            if not (np.isnan(pa).any() or np.isnan(pb).any()):
                pa_i = (round(float(pa[0])), round(float(pa[1])))
                pb_i = (round(float(pb[0])), round(float(pb[1])))
                cv2.line(out, pa_i, pb_i, color, 2 * scale, cv2.LINE_AA)
        for x, y in points:
            if not (math.isnan(x) or math.isnan(y)):
                cv2.circle(out, (round(float(x)), round(float(y))), 3 * scale, (255, 255, 255), -1)
        if label:
            text = f"#{ids[i]} {poses.score[i]:.2f}" if ids[i] >= 0 else f"{poses.score[i]:.2f}"
            cv2.putText(
                out,
                text,
                (x1, max(12 * scale, y1 - 4 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * scale,
                color,
                scale,
                cv2.LINE_AA,
            )
    return out
