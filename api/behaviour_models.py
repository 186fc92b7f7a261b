"""The learned behaviour classifiers a camera runs with, loaded once per file and shared.

`detectors_for(behaviours, zones)` is how the service, the profiles API and the what-if replay
build a camera's detectors: the rules from `vision.behaviours` plus, for each behaviour whose
`model` is enabled, its ONNX classifier (`models.behaviour.scorer`). A classifier file is loaded
once per process and shared by every camera (ONNX Runtime sessions are thread-safe).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from models.behaviour.scorer import OnnxSequenceScorer, default_model_path
from vision.behaviours.base import BehaviourDetector
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.registry import build_detectors
from vision.behaviours.sequence import BehaviourModelConfig, SequenceScorer
from vision.zones import ZoneConfig

LEARNED = ("fall", "fight")
"""Behaviours with a learned classifier."""


class BehaviourModelError(ValueError):
    """A configured classifier cannot be used; the message says which and why."""

    def __init__(self, behaviour: str, message: str) -> None:
        self.behaviour = behaviour
        super().__init__(message)


@cache
def load_scorer(path: Path) -> OnnxSequenceScorer:
    """The classifier at `path`, loaded once per process."""
    return OnnxSequenceScorer(path)


def model_path(behaviour: str, cfg: BehaviourModelConfig) -> Path:
    return Path(cfg.path).expanduser() if cfg.path else default_model_path(behaviour)


def scorer_for(behaviour: str, cfg: BehaviourModelConfig) -> SequenceScorer | None:
    """The classifier `cfg` names for `behaviour`, None when switched off."""
    if not cfg.enabled:
        return None
    path = model_path(behaviour, cfg)
    if not path.is_file():
        raise BehaviourModelError(
            behaviour,
            f"behaviours.{behaviour}.model.path: {path} does not exist (train one with "
            f"`carewatch train {behaviour}`, or leave path empty for the shipped classifier)",
        )
    try:
        scorer = load_scorer(path.resolve())
    except ValueError as exc:
        raise BehaviourModelError(behaviour, f"behaviours.{behaviour}.model: {exc}") from exc
    if scorer.behaviour != behaviour:
        raise BehaviourModelError(
            behaviour,
            f"behaviours.{behaviour}.model.path: {path} is a {scorer.behaviour} classifier",
        )
    return scorer


def scorers_for(behaviours: BehavioursConfig) -> dict[str, SequenceScorer]:
    """Every enabled classifier of one camera's behaviours, by behaviour."""
    scorers = {}
    for behaviour in LEARNED:
        section = getattr(behaviours, behaviour)
        if section.enabled:
            scorer = scorer_for(behaviour, section.model)
            if scorer is not None:
                scorers[behaviour] = scorer
    return scorers


def detectors_for(
    behaviours: BehavioursConfig, zones: tuple[ZoneConfig, ...] = ()
) -> list[BehaviourDetector]:
    """One camera's detectors, rules and classifiers (see the module docstring)."""
    return build_detectors(behaviours, zones, scorers_for(behaviours))
