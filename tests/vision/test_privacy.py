"""Privacy filters: masks are black, faces are pixelated and nothing else changes, skeleton-only
pictures hold no pixel of the camera image, hidden masks never reach the pose model."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tests.builders import standing_poses
from vision.config import TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.privacy import (
    NEUTRAL_BGR,
    PrivacyConfig,
    PrivacyMask,
    apply_masks,
    blur_faces,
    face_boxes,
    for_display,
    skeleton_view,
)
from vision.tracking import PoseTracker
from vision.types import Frame, Poses

H, W = 240, 320


def scene(seed: int = 0) -> np.ndarray:
    """A textured picture, no pixel of which is black or the neutral grey."""
    return np.random.default_rng(seed).integers(60, 250, (H, W, 3), dtype=np.uint8)


DOOR = PrivacyMask(name="bathroom", polygon=((0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (0.5, 0.5)))


def test_masked_pixels_are_black_and_the_rest_untouched() -> None:
    image = scene()
    out = apply_masks(image, (DOOR,))
    assert (out[:119, 161:] == 0).all()  # inside the polygon (edges aside)
    assert (out[125:, :] == image[125:, :]).all() and (out[:, :155] == image[:, :155]).all()
    assert (image[:119, 161:] != 0).any(), "the original is not changed in place"


def test_detection_only_applies_just_hidden_masks() -> None:
    image = scene()
    assert apply_masks(image, (DOOR,), detection_only=True) is image
    hidden = DOOR.model_copy(update={"detect": False})
    assert (apply_masks(image, (hidden,), detection_only=True)[:119, 161:] == 0).all()


@pytest.mark.parametrize(
    "polygon", [((0, 0), (1, 0)), ((0, 0), (1, 0), (1.2, 1)), ((0, 0), (1, 0), (float("nan"), 1))]
)
def test_bad_masks_are_refused(polygon: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValidationError):
        PrivacyMask(name="m", polygon=polygon)


def test_faces_are_pixelated_and_nothing_else_changes() -> None:
    image = scene()
    poses = standing_poses([(100, 40, 160, 220)])
    (box,) = face_boxes(poses)
    out = blur_faces(image, poses)
    x1, y1, x2, y2 = box
    changed = np.argwhere((out != image).any(axis=2))
    assert len(changed) > 0.5 * (x2 - x1) * (y2 - y1)  # the face region really changed
    ys, xs = changed[:, 0], changed[:, 1]
    assert xs.min() >= x1 and xs.max() < x2 and ys.min() >= max(0, y1) and ys.max() < y2
    head = poses.keypoints[0, 0]
    assert x1 <= head[0] <= x2 and y1 <= head[1] <= y2, "the box is around the nose"


def test_people_without_visible_face_keypoints_are_left_alone() -> None:
    poses = standing_poses([(100, 40, 160, 220)])
    hidden = poses.keypoints.copy()
    hidden[0, :5] = np.nan  # seen from behind
    back = Poses(poses.xyxy, poses.score, hidden, poses.keypoint_score)
    image = scene()
    assert blur_faces(image, back) is image


def test_skeleton_view_has_no_camera_pixels() -> None:
    image = scene()
    poses = standing_poses([(100, 40, 160, 220)])
    out = skeleton_view(image.shape, poses)
    assert out.shape == image.shape
    background = (out == np.array(NEUTRAL_BGR, np.uint8)).all(axis=2)
    assert background.mean() > 0.8
    assert not (out == image).all(axis=2).any(), "no pixel equals the camera image"
    assert not background.all(), "the skeleton is drawn"


def test_for_display_combines_them() -> None:
    image = scene()
    poses = standing_poses([(10, 10, 70, 200)])
    cfg = PrivacyConfig(masks=(DOOR,))
    live = for_display(image, poses, cfg, evidence=False)
    stored = for_display(image, poses, cfg, evidence=True)
    assert (live[:119, 161:] == 0).all() and (stored[:119, 161:] == 0).all()
    (x1, y1, x2, y2) = face_boxes(poses)[0]
    assert (live[max(0, y1) : y2, x1:x2] == image[max(0, y1) : y2, x1:x2]).all()  # live: faces seen
    assert (
        stored[max(0, y1) : y2, x1:x2] != image[max(0, y1) : y2, x1:x2]
    ).any()  # stored: blurred


@pytest.mark.parametrize(
    ("given", "roles"),
    [
        (True, ("guard", "operator", "admin")),
        (False, ()),
        (["admin", "guard"], ("guard", "admin")),
        ([], ()),
    ],
)
def test_skeleton_only_names_the_roles_true_meaning_everyone(
    given: object, roles: tuple[str, ...]
) -> None:
    cfg = PrivacyConfig.model_validate({"skeleton_only": given})
    assert cfg.skeleton_only == roles
    for role in ("guard", "operator", "admin"):
        assert cfg.shows_skeleton(role) == (role in roles)


def test_skeleton_only_refuses_unknown_roles() -> None:
    with pytest.raises(ValidationError, match="skeleton_only"):
        PrivacyConfig.model_validate({"skeleton_only": ["janitor"]})


def test_viewer_roles_are_the_staff_roles() -> None:
    from api.security import ROLES
    from vision.privacy import VIEWER_ROLES

    assert VIEWER_ROLES == ROLES


def test_mask_names_are_unique() -> None:
    with pytest.raises(ValidationError, match=r"mask names must be unique.*bathroom"):
        PrivacyConfig(masks=(DOOR, DOOR))


class Spy:
    """An estimator that remembers what it was shown."""

    model_version = "spy"

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def infer(self, frame: Frame) -> Poses:
        self.seen.append(frame.image)
        return Poses.empty()


def test_hidden_masks_never_reach_the_model() -> None:
    spy = Spy()
    hidden = DOOR.model_copy(update={"detect": False})
    pipeline = Pipeline(
        "cam", spy, Analyzer("cam", PoseTracker("cam", TrackerConfig())), hidden=(DOOR, hidden)
    )
    result = pipeline.step(Frame("cam", 0, 0.0, scene()))
    assert (spy.seen[0][:119, 161:] == 0).all()
    assert result.frame is not None and (result.frame.image[:119, 161:] == 0).all()


def test_masks_hidden_later_apply_from_the_next_frame() -> None:
    spy = Spy()
    pipeline = Pipeline("cam", spy, Analyzer("cam", PoseTracker("cam", TrackerConfig())))
    pipeline.step(Frame("cam", 0, 0.0, scene()))
    pipeline.hide((DOOR.model_copy(update={"detect": False}),))
    pipeline.step(Frame("cam", 1, 0.2, scene()))
    pipeline.hide((DOOR,))  # seen by detection again (still black in what is shown or stored)
    pipeline.step(Frame("cam", 2, 0.4, scene()))
    assert not (spy.seen[0][:119, 161:] == 0).all()
    assert (spy.seen[1][:119, 161:] == 0).all()
    assert not (spy.seen[2][:119, 161:] == 0).all()
