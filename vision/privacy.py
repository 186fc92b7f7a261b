"""What a person may see of the residents: privacy masks, face blurring, skeleton-only views.

Pure image functions (numpy/OpenCV, no I/O), applied wherever pictures leave the analysis: the
evidence ring buffer (so snapshots and clips never hold masked pixels), the live view, exports.

- `apply_masks(image, masks)`: the masked polygons (relative 0-1 coordinates) painted black.
  With `detect: false` a mask is also blacked out *before* the pose model sees the frame.
- `blur_faces(image, poses)`: each person's face (placed from the nose, eyes and ears keypoints,
  no extra model) pixelated, nothing else changed.
- `skeleton_view(shape, poses)`: a neutral picture with only the people's boxes and skeletons,
  no pixel of the camera image.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import cv2
import numpy as np
from pydantic import Field, field_validator

from vision.annotate import draw_poses
from vision.configbase import StrictModel, unique_names
from vision.types import Image, Poses

FACE_KEYPOINTS = (0, 1, 2, 3, 4)
"""COCO-17 nose, left eye, right eye, left ear, right ear."""
ViewerRole = Literal["guard", "operator", "admin"]
"""The staff roles that look at pictures (the same as `api.security.Role`)."""
VIEWER_ROLES: tuple[ViewerRole, ...] = get_args(ViewerRole)
NEUTRAL_BGR = (48, 44, 40)
"""Background of skeleton-only pictures: a dark grey that reads well on the night theme."""


class PrivacyMask(StrictModel):
    """An area never shown (a bathroom door, a neighbour's window)."""

    name: str = Field(min_length=1, max_length=64, description="Name shown in the zone editor.")
    polygon: tuple[tuple[float, float], ...] = Field(
        description="Corners as (x, y) fractions of the image width and height, 0-1."
    )
    detect: bool = Field(
        True,
        description="Whether detection still sees the area (e.g. a fall in the bathroom "
        "doorway); false blacks it out before the pose model too.",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, value: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        if len(value) < 3:
            raise ValueError("a mask needs at least 3 corners")
        for x, y in value:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or math.isnan(x) or math.isnan(y):
                raise ValueError("corners are fractions of the image, 0 to 1")
        return value


class PrivacyConfig(StrictModel):
    """How much of the picture people get to see of this camera."""

    masks: tuple[PrivacyMask, ...] = Field(
        (),
        description="Areas blacked out everywhere. These seed the camera's profile; after that "
        "admins change them in the console's zone editor (`PUT /api/cameras/{id}/masks`).",
    )

    @field_validator("masks")
    @classmethod
    def _unique_names(cls, value: tuple[PrivacyMask, ...]) -> tuple[PrivacyMask, ...]:
        return unique_names(value, "mask names must be unique per camera")

    blur_faces: bool = Field(
        True, description="Pixelate faces in stored evidence (snapshots, clips, exports)."
    )
    skeleton_only: tuple[ViewerRole, ...] = Field(
        (),
        description="Roles who see this camera's people only as skeletons on a neutral "
        "background, in the live view and in stored evidence (`true`: every role, `false`: "
        "none). The real picture of each alert is kept beside it for the other roles; admins "
        "can always open it, giving a reason (audited).",
    )

    @field_validator("skeleton_only", mode="before")
    @classmethod
    def _all_or_none(cls, value: object) -> object:
        if value is True:
            return VIEWER_ROLES
        if value is False or value is None:
            return ()
        return value

    @field_validator("skeleton_only")
    @classmethod
    def _in_rank_order(cls, value: tuple[ViewerRole, ...]) -> tuple[ViewerRole, ...]:
        return tuple(r for r in VIEWER_ROLES if r in value)

    def shows_skeleton(self, role: str) -> bool:
        """Whether someone of `role` sees this camera's people only as skeletons."""
        return role in self.skeleton_only


def _points(polygon: tuple[tuple[float, float], ...], width: int, height: int) -> np.ndarray:
    return np.array(
        [[round(x * (width - 1)), round(y * (height - 1))] for x, y in polygon], np.int32
    )


def apply_masks(
    image: Image, masks: tuple[PrivacyMask, ...], *, detection_only: bool = False
) -> Image:
    """A copy of `image` with the masks painted black (only `detect: false` ones when
    `detection_only`); the image itself when nothing applies."""
    chosen = [m for m in masks if not detection_only or not m.detect]
    if not chosen:
        return image
    out = image.copy()
    height, width = out.shape[:2]
    cv2.fillPoly(out, [_points(m.polygon, width, height) for m in chosen], (0, 0, 0))
    return out


def face_boxes(poses: Poses, min_score: float = 0.3) -> list[tuple[int, int, int, int]]:
    """Per person with at least two visible face keypoints: a box around the head (x1, y1, x2, y2),
    sized from the spread of those keypoints and the person's box width."""
    boxes = []
    for i in range(len(poses)):
        points = poses.keypoints[i, list(FACE_KEYPOINTS)]
        scores = poses.keypoint_score[i, list(FACE_KEYPOINTS)]
        seen = points[(~np.isnan(points).any(axis=1)) & (scores >= min_score)]
        if len(seen) < 2:
            continue
        cx, cy = seen.mean(axis=0)
        spread = float(np.ptp(seen[:, 0])) if len(seen) > 1 else 0.0
        body_w = float(poses.xyxy[i, 2] - poses.xyxy[i, 0])
        half = max(spread * 1.1, body_w * 0.22, 6.0)
        boxes.append(
            (
                int(cx - half),
                int(cy - half * 1.3),
                math.ceil(cx + half),
                math.ceil(cy + half),
            )
        )
    return boxes


def blur_faces(image: Image, poses: Poses, *, min_score: float = 0.3) -> Image:
    """A copy of `image` with each face pixelated (blocks of about 1/6 of the face); only the face
    boxes change."""
    boxes = face_boxes(poses, min_score)
    if not boxes:
        return image
    out = image.copy()
    height, width = out.shape[:2]
    for x1, y1, x2, y2 in boxes:
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        face = out[y1:y2, x1:x2]
        small = cv2.resize(
            face, (max(1, (x2 - x1) // 6), max(1, (y2 - y1) // 6)), interpolation=cv2.INTER_AREA
        )
        out[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    return out


def skeleton_view(shape: tuple[int, ...], poses: Poses) -> Image:
    """A picture of `shape` (h, w[, 3]) with only the people's boxes, ids and skeletons drawn on
    a neutral background: nothing of the camera image."""
    height, width = shape[:2]
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = NEUTRAL_BGR
    return draw_poses(canvas, poses)


def for_display(image: Image, poses: Poses, cfg: PrivacyConfig, *, evidence: bool) -> Image:
    """What may be shown or stored of a frame's picture: the image with the masks painted
    black and, for stored `evidence`, faces blurred. (Whether a viewer gets the picture at all
    or only the skeletons is `cfg.shows_skeleton(role)`, decided where it is shown.)"""
    out = apply_masks(image, cfg.masks)
    if evidence and cfg.blur_faces:
        out = blur_faces(out, poses)
    return out
