"""Builds a camera's detectors from its config."""

from __future__ import annotations

from vision.behaviours.base import BehaviourDetector
from vision.behaviours.config import BehavioursConfig
from vision.zones import ZoneConfig


def build_detectors(
    cfg: BehavioursConfig, zones: tuple[ZoneConfig, ...] = ()
) -> list[BehaviourDetector]:
    """The enabled detectors of one camera, in a fixed order (fall, fight, wandering)."""
    detectors: list[BehaviourDetector] = []
    return detectors
