"""Cheap image motion: small grey thumbnails and their differences (no model, ~0.3 ms a frame).

Behaviour rules may use how much the pixels inside people's boxes changed between two analysed
frames. Thumbnails are what the evaluation cache stores next to the poses, so a cached replay
sees exactly the motion a live camera would.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.types import Image

MOTION_SCALE = 8
"""Frame pixels per thumbnail pixel (640x480 -> 80x60)."""


def thumbnail(image: Image, scale: int = MOTION_SCALE) -> Image:
    """BGR (h, w, 3) -> grey (ceil(h/scale), ceil(w/scale)) uint8, area-averaged."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    size = (max(1, -(-w // scale)), max(1, -(-h // scale)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def difference(previous: Image | None, current: Image) -> Image | None:
    """|current - previous| per thumbnail pixel, or None without a previous thumbnail."""
    if previous is None or previous.shape != current.shape:
        return None
    return np.asarray(cv2.absdiff(previous, current), dtype=np.uint8)
