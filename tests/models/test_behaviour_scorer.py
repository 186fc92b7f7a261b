"""The shipped classifiers (fall, fight) and the ONNX scorer that runs any trained one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.behaviour.scorer import (
    ModelMetadata,
    OnnxSequenceScorer,
    default_model_path,
    metadata_path,
)
from tests import pairs
from vision.behaviours.fall import FALL_FEATURES, FALL_STEP_S, FALL_STEPS
from vision.behaviours.fight import (
    FIGHT_FEATURES,
    FIGHT_STEP_S,
    FIGHT_STEPS,
    FightConfig,
    FightDetector,
)
from vision.behaviours.sequence import RecordingScorer

SHIPPED = default_model_path("fight")


SPECS = {
    "fall": (FALL_FEATURES, FALL_STEPS, FALL_STEP_S),
    "fight": (FIGHT_FEATURES, FIGHT_STEPS, FIGHT_STEP_S),
}


@pytest.mark.parametrize("behaviour", sorted(SPECS))
def test_the_shipped_classifiers_match_their_detectors(behaviour: str) -> None:
    path = default_model_path(behaviour)
    scorer = OnnxSequenceScorer(path)
    assert scorer.behaviour == behaviour
    assert (scorer.features, scorer.steps, scorer.step_s) == SPECS[behaviour]
    assert path.stat().st_size < 200_000, "shipped models stay small"


@pytest.mark.parametrize("behaviour", sorted(SPECS))
def test_the_shipped_classifiers_were_trained_on_generated_data_only(behaviour: str) -> None:
    path = default_model_path(behaviour)
    meta = ModelMetadata.read(metadata_path(path))
    assert set(meta.extra["data"]["sources"]) == {"generated"}
    assert "no footage of real people" in meta.extra["terms"]
    card = path.with_suffix(".md").read_text()
    assert "generated" in card and meta.version in card


def _windows(clip: pairs.Clip) -> np.ndarray:
    recorder = RecordingScorer("fight", FIGHT_FEATURES, FIGHT_STEPS, FIGHT_STEP_S)
    detector = FightDetector(FightConfig(), scorer=recorder)
    for scene in pairs.scenes(clip):
        detector.update(scene)
    return recorder.take()


def test_shipped_classifier_scores_a_fight_above_a_conversation() -> None:
    scorer = OnnxSequenceScorer(SHIPPED)
    fight = scorer.score(_windows(pairs.fighting()))
    talk = scorer.score(_windows(pairs.talking()))
    assert fight.shape == (len(_windows(pairs.fighting())),)
    assert ((fight >= 0) & (fight <= 1)).all() and ((talk >= 0) & (talk <= 1)).all()
    assert fight.max() > talk.max()


def test_scores_empty_batches_and_refuses_wrong_shapes() -> None:
    scorer = OnnxSequenceScorer(SHIPPED)
    assert scorer.score(np.zeros((0, FIGHT_STEPS, len(FIGHT_FEATURES) + 1), np.float32)).shape == (
        0,
    )
    with pytest.raises(ValueError, match="expects windows of shape"):
        scorer.score(np.zeros((2, FIGHT_STEPS, 3), np.float32))


def test_missing_or_broken_files_say_what_is_wrong(tmp_path: Path) -> None:
    model = tmp_path / "fight.onnx"
    shutil.copy(SHIPPED, model)
    with pytest.raises(ValueError, match=r"metadata .* is missing"):
        OnnxSequenceScorer(model)
    metadata_path(model).write_text("{not json")
    with pytest.raises(ValueError, match="is not valid"):
        OnnxSequenceScorer(model)
    meta = json.loads(metadata_path(SHIPPED).read_text())
    metadata_path(model).write_text(json.dumps({**meta, "features": ["a", "b"]}))
    with pytest.raises(ValueError, match="takes 17 channels"):
        OnnxSequenceScorer(model)
    metadata_path(model).write_text(json.dumps(meta))
    model.write_bytes(b"not an onnx model")
    with pytest.raises(ValueError, match="cannot load the classifier"):
        OnnxSequenceScorer(model)
