"""How cameras get their learned classifiers: the shipped one by default, a trained one by path,
none when switched off, and a clear error for a path that cannot be used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api.behaviour_models import BehaviourModelError, detectors_for, scorers_for
from models.behaviour.scorer import default_model_path, metadata_path
from vision.behaviours.config import BehavioursConfig
from vision.behaviours.fight import FightDetector


def behaviours(**model: object) -> BehavioursConfig:
    return BehavioursConfig.model_validate({"fight": {"model": model}})


def fight_of(cfg: BehavioursConfig) -> FightDetector:
    (detector,) = [d for d in detectors_for(cfg) if isinstance(d, FightDetector)]
    return detector


def test_the_shipped_classifier_runs_by_default_and_is_shared() -> None:
    a, b = fight_of(BehavioursConfig()), fight_of(BehavioursConfig())
    assert a.scorer is not None and a.scorer is b.scorer, "one session for every camera"


def test_switched_off_means_rules_only() -> None:
    assert "fight" not in scorers_for(behaviours(enabled=False))
    assert fight_of(behaviours(enabled=False)).scorer is None
    off = BehavioursConfig.model_validate({"fight": {"enabled": False}, "fall": {"enabled": False}})
    assert scorers_for(off) == {}
    assert set(scorers_for(BehavioursConfig())) == {"fall", "fight"}


def test_a_trained_classifier_by_path(tmp_path: Path) -> None:
    model = tmp_path / "station-fight.onnx"
    shutil.copy(default_model_path("fight"), model)
    shutil.copy(metadata_path(default_model_path("fight")), metadata_path(model))
    assert fight_of(behaviours(path=str(model))).scorer is not None


def test_unusable_paths_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BehaviourModelError, match=r"fight\.model\.path: .* does not exist"):
        scorers_for(behaviours(path=str(tmp_path / "nope.onnx")))
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"x")
    with pytest.raises(BehaviourModelError, match=r"metadata .* is missing"):
        scorers_for(behaviours(path=str(model)))
