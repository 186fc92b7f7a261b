"""Builders of synthetic data for tests: poses of standing people at chosen places."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vision.types import NUM_KEYPOINTS, Poses

# A standing person's keypoints relative to the box, (x, y) in 0-1 (COCO-17 order).
_STANDING = np.array(
    [
        (0.50, 0.08), (0.46, 0.06), (0.54, 0.06), (0.42, 0.08), (0.58, 0.08),
        (0.35, 0.22), (0.65, 0.22), (0.30, 0.38), (0.70, 0.38), (0.28, 0.52), (0.72, 0.52),
        (0.40, 0.52), (0.60, 0.52), (0.40, 0.75), (0.60, 0.75), (0.40, 0.97), (0.60, 0.97),
    ],
    np.float32,
)  # fmt: skip


def standing_poses(boxes: list[tuple[float, float, float, float]], score: float = 0.9) -> Poses:
    """People standing in the given xyxy boxes, every keypoint visible."""
    xyxy = np.array(boxes, np.float32).reshape(-1, 4)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    keypoints = xyxy[:, None, :2] + _STANDING[None] * wh[:, None, :]
    n = len(xyxy)
    return Poses(
        xyxy=xyxy,
        score=np.full(n, score, np.float32),
        keypoints=keypoints.astype(np.float32),
        keypoint_score=np.full((n, NUM_KEYPOINTS), 0.9, np.float32),
    )


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video as decoded by OpenCV (BGR uint8)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames
