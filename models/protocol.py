"""The one small protocol every pose model implements."""

from __future__ import annotations

from typing import Protocol

from vision.types import Frame, Poses


class PoseEstimator(Protocol):
    """Finds people and their 17 COCO keypoints in a frame.

    `model_version` names the weights (file name and short hash) so events can say which model
    judged them.
    """

    model_version: str

    def infer(self, frame: Frame) -> Poses: ...
