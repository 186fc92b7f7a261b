"""Builds a camera's detectors from its config."""

from __future__ import annotations

from collections.abc import Mapping

from vision.behaviours.base import BehaviourDetector
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.fall import FallDetector
from vision.behaviours.fight import FightDetector
from vision.behaviours.sequence import SequenceScorer
from vision.behaviours.wandering import WanderingDetector
from vision.zones import ZoneConfig


def build_detectors(
    cfg: BehavioursConfig,
    zones: tuple[ZoneConfig, ...] = (),
    scorers: Mapping[str, SequenceScorer] | None = None,
) -> list[BehaviourDetector]:
    """The enabled detectors of one camera, in a fixed order (fall, fight, wandering).

    `scorers` are the learned classifiers by behaviour (`api.behaviour_models` loads them);
    a behaviour without one is judged by its rules alone.
    """
    scorers = scorers or {}
    detectors: list[BehaviourDetector] = []
    if cfg.fall.enabled:
        detectors.append(FallDetector(cfg.fall, zones, scorers.get("fall")))
    if cfg.fight.enabled:
        detectors.append(FightDetector(cfg.fight, zones, scorers.get("fight")))
    if cfg.wandering.enabled:
        detectors.append(WanderingDetector(cfg.wandering, zones))
    return detectors
