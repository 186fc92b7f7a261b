"""The learned fight classifier beside the rules: step windows, fusion, evidence, config.

A stand-in scorer (a function of the windows) takes the ONNX model's place, so these tests pin
down how the detector uses any classifier; tests/models/test_behaviour_scorer.py checks the
shipped model itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pytest
from pydantic import ValidationError

from tests import pairs
from vision.behaviours.fight import (
    FIGHT_FEATURES,
    FIGHT_STEP_S,
    FIGHT_STEPS,
    FightConfig,
    FightDetector,
)
from vision.behaviours.sequence import BehaviourModelConfig, StepBuffer
from vision.types import BehaviourEvent, FloatArray, Scene

CHANNELS = len(FIGHT_FEATURES) + 1


class FakeScorer:
    """Scores each window with `fn`; records every batch it was given."""

    behaviour = "fight"
    version = "fake-1"
    features = FIGHT_FEATURES
    steps = FIGHT_STEPS
    step_s = FIGHT_STEP_S

    def __init__(self, fn: Callable[[FloatArray], float]) -> None:
        self.fn = fn
        self.batches: list[FloatArray] = []

    def score(self, windows: FloatArray) -> FloatArray:
        self.batches.append(windows)
        return np.array([self.fn(w) for w in windows], np.float32)


def constant(value: float) -> FakeScorer:
    return FakeScorer(lambda _w: value)


def run(scenes: Iterable[Scene], detector: FightDetector) -> list[BehaviourEvent]:
    return [e for scene in scenes for e in detector.update(scene)]


def config(*, rules: bool = True, model: bool = True, threshold: float = 0.9) -> FightConfig:
    return FightConfig(rules=rules, model=BehaviourModelConfig(enabled=model, threshold=threshold))


# --------------------------------------------------------------------------- step buffer


def test_step_buffer_keeps_a_time_grid_newest_last() -> None:
    buf = StepBuffer(n_features=2, steps=4, step_s=0.2)
    for i, t in enumerate((0.0, 0.2, 0.4)):
        buf.push("a", t, np.array([i, i], np.float32))
    w = buf.window("a")
    assert w.shape == (4, 3)
    assert w[:, -1].tolist() == [0, 1, 1, 1]
    assert w[1:, 0].tolist() == [0, 1, 2]
    buf.push("a", 0.5, np.array([9, 9], np.float32))  # 0.1 s later: replaces the newest step
    assert buf.window("a")[-1, 0] == 9
    assert buf.present_steps("a") == 3
    buf.push("a", 1.1, np.array([7, 7], np.float32))  # 0.6 s gap: two absent steps between
    w = buf.window("a")
    assert w[:, -1].tolist() == [1, 0, 0, 1]
    assert w[-1, 0] == 7


@pytest.mark.parametrize(
    ("pushes", "present"),
    [
        ([(0.0, None)], 0),  # an absent first step creates nothing
        ([(0.0, 1.0), (0.2, None), (0.4, None), (0.6, None), (0.8, None)], 0),  # aged out
        ([(0.0, 1.0), (0.2, None)], 1),
    ],
)
def test_step_buffer_forgets_subjects_no_longer_seen(
    pushes: list[tuple[float, float | None]], present: int
) -> None:
    buf = StepBuffer(n_features=1, steps=4, step_s=0.2)
    for t, v in pushes:
        buf.push("a", t, None if v is None else np.array([v], np.float32))
    assert buf.present_steps("a") == present
    assert ("a" in buf) is (present > 0)


def test_step_buffer_rejects_wrong_vectors() -> None:
    buf = StepBuffer(n_features=3, steps=4, step_s=0.2)
    with pytest.raises(ValueError, match="3 features"):
        buf.push("a", 0.0, np.zeros(2, np.float32))


# --------------------------------------------------------------------------- fusion


def test_windows_the_model_sees() -> None:
    scorer = constant(0.0)
    run(pairs.scenes(pairs.fighting()), FightDetector(config(), scorer=scorer))
    assert scorer.batches, "a close pair must be scored"
    for batch in scorer.batches:
        assert batch.shape[1:] == (FIGHT_STEPS, CHANNELS)
        assert np.isfinite(batch).all()
        assert (batch[:, :, -1].sum(axis=1) >= 2).all(), "scored only with two present steps"
    last = scorer.batches[-1][0]
    limb_max = FIGHT_FEATURES.index("limb_speed_max")
    assert last[-1, limb_max] > np.log1p(1.0), "a fight's limbs move over a body height a second"


def test_model_alone_decides_when_the_rules_are_off() -> None:
    events = run(
        pairs.scenes(pairs.fighting()), FightDetector(config(rules=False), scorer=constant(0.95))
    )
    (event,) = events
    ev = event.evidence
    assert ev["decided_by"] == ["model"]
    assert ev["model"]["on"] is True and ev["model"]["version"] == "fake-1"
    assert ev["model"]["score"] == pytest.approx(0.95) and ev["model"]["threshold"] == 0.9
    assert ev["rules"]["on"] is False
    assert event.confidence == pytest.approx(0.95)


def test_model_below_its_threshold_raises_nothing_alone() -> None:
    detector = FightDetector(config(rules=False), scorer=constant(0.5))
    assert run(pairs.scenes(pairs.fighting()), detector) == []


@pytest.mark.parametrize(
    ("model_score", "decided_by"),
    [(0.1, ["rules"]), (0.99, ["rules", "model"])],
)
def test_fused_evidence_says_what_each_part_contributed(
    model_score: float, decided_by: list[str]
) -> None:
    cfg = config().model_copy(update={"confirm_s": 0.6})  # several frames before deciding
    detector = FightDetector(cfg, scorer=constant(model_score))
    (event,) = run(pairs.scenes(pairs.fighting()), detector)
    assert event.evidence["decided_by"] == decided_by
    assert event.evidence["model"]["peak_score"] == pytest.approx(model_score)
    assert event.evidence["rules"]["violent_frames"] >= 1


def test_model_adds_a_fight_the_rules_miss() -> None:
    """Talking is calm for the rules; a classifier sure of a fight still raises one event."""
    calm = pairs.scenes(pairs.talking())
    assert run(calm, FightDetector(config(model=False))) == []
    (event,) = run(pairs.scenes(pairs.talking()), FightDetector(config(), scorer=constant(0.97)))
    assert event.evidence["decided_by"] == ["model"]


def test_no_scorer_means_rules_only() -> None:
    (event,) = run(pairs.scenes(pairs.fighting()), FightDetector(config()))
    assert event.evidence["model"] == {"on": False}


def test_one_model_call_per_frame() -> None:
    scorer = constant(0.0)
    scenes = list(pairs.scenes(pairs.crowd_walking()))
    run(scenes, FightDetector(config(), scorer=scorer))
    assert len(scorer.batches) <= len(scenes)


def test_a_model_trained_on_other_features_is_refused() -> None:
    scorer = constant(0.5)
    scorer.features = ("something", "else")
    with pytest.raises(ValueError, match="carewatch train fight"):
        FightDetector(config(), scorer=scorer)


def test_rules_and_model_both_off_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="both off"):
        config(rules=False, model=False)
    FightConfig(enabled=False, rules=False, model=BehaviourModelConfig(enabled=False))


@pytest.mark.parametrize(
    ("clip", "still"),
    [
        (pairs.fighting, True),  # keypoints move, pixels do not: a pose model's guesses
        (pairs.fighting_on_floor, False),  # someone on the floor: the fall detector's to judge
    ],
)
def test_the_model_alone_needs_moving_pixels_and_people_on_their_feet(
    clip: Callable[[], pairs.Clip], still: bool
) -> None:
    detector = FightDetector(config(rules=False), scorer=constant(0.99))
    assert run(pairs.scenes(clip(), still=still), detector) == []
