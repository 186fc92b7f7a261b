"""The learned fall classifier beside the fall rules: who decides a descent to the floor, what
the evidence says, and where it never decides (bed zones). A stand-in scorer takes the ONNX
model's place; tests/models/test_behaviour_scorer.py checks the shipped model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from pydantic import ValidationError

from tests import skeletons as sk
from vision.behaviours.fall import (
    FALL_FEATURES,
    FALL_STEP_S,
    FALL_STEPS,
    FallConfig,
    FallDetector,
)
from vision.behaviours.sequence import BehaviourModelConfig
from vision.config import TrackerConfig
from vision.pipeline import Analyzer, Perception
from vision.tracking import PoseTracker
from vision.types import BehaviourEvent, FloatArray
from vision.zones import ZoneConfig

CAMERA = sk.Camera(fps=5)


class FakeScorer:
    behaviour = "fall"
    version = "fake-fall"
    features = FALL_FEATURES
    steps = FALL_STEPS
    step_s = FALL_STEP_S

    def __init__(self, value: float) -> None:
        self.value = value
        self.windows: list[FloatArray] = []

    def score(self, windows: FloatArray) -> FloatArray:
        self.windows.extend(windows)
        return np.full(len(windows), self.value, np.float32)


def config(*, rules: bool = True, model: bool = True, threshold: float = 0.5) -> FallConfig:
    return FallConfig(rules=rules, model=BehaviourModelConfig(enabled=model, threshold=threshold))


def run(
    people: Sequence[sk.Person],
    cfg: FallConfig,
    scorer: FakeScorer | None,
    zones: tuple[ZoneConfig, ...] = (),
) -> list[BehaviourEvent]:
    detector = FallDetector(cfg, zones, scorer)
    analyzer = Analyzer("cam", PoseTracker("cam", TrackerConfig()), [detector], wall_start=0.0)
    w, h = CAMERA.frame_size
    thumb = np.zeros((h // 8, w // 8), np.uint8)
    events: list[BehaviourEvent] = []
    for i, (t, poses) in enumerate(sk.render(people, CAMERA)):
        events += analyzer.step(Perception("cam", i, t, CAMERA.frame_size, poses, thumb)).events
    return [e for e in events if e.kind == "fall"]


def test_the_window_is_the_persons_last_three_seconds() -> None:
    scorer = FakeScorer(0.0)
    (event,) = run([sk.fall("right")], config(), scorer)
    assert scorer.windows, "the classifier judges the descent"
    window = scorer.windows[-1]
    assert window.shape == (FALL_STEPS, len(FALL_FEATURES) + 1)
    assert window[-1, -1] == 1.0 and np.isfinite(window).all()
    hip_low = FALL_FEATURES.index("hip_low")
    assert window[-1, hip_low] > 0.2, "at the end the hips are well below their upright level"
    assert event.evidence["decided_by"] == ["rules"]
    assert event.evidence["model"]["score"] == 0.0


@pytest.mark.parametrize(
    ("rules", "score", "decided_by"),
    [
        (True, 0.0, []),  # the rules call lying down slowly controlled; the model agrees
        (True, 0.9, ["model"]),  # the model overrules "controlled"
        (False, 0.9, ["model"]),  # the model alone
        (False, 0.1, []),
    ],
)
def test_who_decides_a_slow_descent(rules: bool, score: float, decided_by: list[str]) -> None:
    events = run([sk.lie_down_slowly()], config(rules=rules), FakeScorer(score))
    assert [e.evidence["decided_by"] for e in events] == ([decided_by] if decided_by else [])


def test_a_fall_the_model_doubts_is_still_the_rules_fall() -> None:
    (event,) = run([sk.fall("left")], config(), FakeScorer(0.05))
    assert event.evidence["decided_by"] == ["rules"]
    assert event.evidence["model"]["threshold"] == 0.5


def test_never_a_fall_in_a_bed_zone_whatever_the_model_says() -> None:
    bed = ZoneConfig(
        name="bed", type="bed", polygon=((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    )
    assert run([sk.fall("right")], config(), FakeScorer(0.99), (bed,)) == []


def test_a_model_trained_on_other_features_is_refused() -> None:
    scorer = FakeScorer(0.5)
    scorer.features = ("x",)
    with pytest.raises(ValueError, match="carewatch train fall"):
        FallDetector(config(), scorer=scorer)


def test_rules_and_model_both_off_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="both off"):
        config(rules=False, model=False)
