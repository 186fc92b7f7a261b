"""The live view follows each camera's privacy settings per viewer: masks black for everyone,
skeletons on a neutral background for the roles the camera limits to skeletons."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from tests.api.conftest import ApiEnv
from tests.api.test_profiles import camera, running_camera
from tests.builders import standing_poses
from vision.privacy import NEUTRAL_BGR
from vision.types import Frame


def test_skeleton_only_roles_get_no_camera_pixels_in_the_live_view(api: ApiEnv) -> None:
    worker = running_camera(api, camera("hall", privacy={"skeleton_only": ["guard"]}))
    ramp = np.linspace(90, 230, 160, dtype=np.uint8)  # smooth, so JPEG keeps it close
    image = np.stack([np.tile(ramp, (120, 1))] * 3, axis=2)
    result = worker.pipeline.step(Frame("hall", 0, 0.0, image))
    worker._latest = dataclasses.replace(result, poses=standing_poses([(40, 10, 80, 110)]))

    def picture(role: str) -> np.ndarray:
        r = api.client.get("/api/cameras/hall/snapshot.jpg", headers=api.headers(role))
        assert r.status_code == 200, r.text
        return cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR).astype(int)

    guard = picture("guard")
    neutral = np.abs(guard - np.array(NEUTRAL_BGR)).max(axis=2) <= 12
    assert neutral.mean() > 0.6 and not neutral.all(), "neutral background with the skeleton"
    for role in ("operator", "admin"):
        seen = picture(role)
        outside = (slice(0, 120), slice(100, 160))  # away from the person and the overlay
        assert np.abs(seen[outside] - image[outside]).mean() < 8, role
    assert api.client.get("/api/cameras/hall/snapshot.jpg").status_code == 401
