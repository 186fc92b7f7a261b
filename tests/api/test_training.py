"""`carewatch train`: a station's resolved alerts as training data, cross-validation of rules /
classifier / fused, reproducible shipped weights, and clear errors.

Training runs the torch trainer in the export environment that `carewatch models install` made
(models/acquire.py); those tests skip, saying so, where it is absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alerts.evidence import RingFrame, write_clip
from alerts.model import Alert
from alerts.store import AlertStore
from api.cli import main
from api.config import load_config
from api.db import open_database
from api.detect import camera_for_file
from api.evaluation.cache import CachedClip
from api.evaluation.harness import ClipLabel
from api.training.crossval import MODES, cross_validate, to_markdown
from api.training.dataset import Sample, window_set, windows_of
from api.training.sources import generated_samples
from api.training.station import STATION_WEIGHT, station_samples
from api.training.train import TrainingError, TrainSettings, fit
from models.acquire import export_env_dir
from models.behaviour.generator import generate
from models.behaviour.scorer import OnnxSequenceScorer, default_model_path, metadata_path
from tests import pairs

T0 = 1_790_000_000.0
needs_torch = pytest.mark.skipif(
    not (export_env_dir() / "bin" / "python").exists(),
    reason="the export environment (torch) is absent: `carewatch models install` makes it",
)


def _alert(alert_id: str, clip: str | None, disposition: str) -> Alert:
    return Alert(
        id=alert_id,
        version=1,
        kind="fight",
        camera_id="hall",
        zone=None,
        track_ids=(1, 2),
        severity="critical",
        state="resolved",
        started_at=T0,
        detected_at=T0 + 1,
        last_seen_at=T0 + 1,
        updated_at=T0 + 2,
        confidence=0.7,
        disposition=disposition,  # type: ignore[arg-type]
        clip=clip,
    )


def _write(root: Path, relpath: str, clip: pairs.Clip) -> None:
    frames = [
        RingFrame(T0 + i / clip.fps, pairs.render(people), pairs.poses_of(people))
        for i, people in enumerate(clip.frames)
    ]
    (root / relpath).parent.mkdir(parents=True, exist_ok=True)
    write_clip(root / relpath, frames, detected_at=T0 + 1, crf=35)


def test_resolved_alerts_with_clips_become_weighted_samples(tmp_path: Path) -> None:
    engine = open_database(None, tmp_path)
    store, root = AlertStore(engine), tmp_path / "evidence"
    _write(root, "hall/a1.mp4", pairs.fighting())
    _write(root, "hall/a2.mp4", pairs.talking())
    _write(root, "hall/gone.mp4", pairs.talking())
    (root / "hall/gone.mp4").unlink()  # removed by retention
    for alert in (
        _alert("a1", "hall/a1.mp4", "real_incident"),
        _alert("a2", "hall/a2.mp4", "false_alarm"),
        _alert("a3", None, "false_alarm"),  # no clip kept
        _alert("a4", "hall/gone.mp4", "real_incident"),
        _alert("a5", "hall/a1.mp4", "duplicate"),  # not a label
    ):
        store.record(alert, "created", actor="guard", at=T0 + 2)
    found = station_samples(engine, root, "fight")
    engine.dispose()
    assert {s.name: s.positive for s in found.samples} == {"alert-a1": True, "alert-a2": False}
    assert found.skipped == 2
    assert all(s.weight == STATION_WEIGHT and s.source == "station" for s in found.samples)
    fight = next(s for s in found.samples if s.positive)
    assert len(fight.poses) == len(pairs.fighting().frames) == len(fight.thumbs)
    config = load_config(None)
    windows = windows_of(fight, "fight", camera_for_file(config, None), config)
    assert len(windows) > 0, "the detector judges the pair in the stored clip"


def _loaded(n: int, seed: int) -> list[tuple[ClipLabel, CachedClip]]:
    out = []
    for c in generate("fight", n, seed):
        label = ClipLabel(c.name, c.label, c.subtype, None, None, c.fps, len(c.poses), "gen")
        cached = CachedClip(c.name, c.fps, c.frame_size, c.timestamps, c.poses, c.thumbs, "gen")
        out.append((label, cached))
    return out


@needs_torch
@pytest.mark.slow
def test_cross_validation_compares_rules_model_and_fused() -> None:
    config = load_config(None)
    camera = camera_for_file(config, None)
    loaded = _loaded(16, seed=5)
    cv = cross_validate(
        loaded, [], "fight", camera, config, folds=2, copies=1, settings=TrainSettings(epochs=30)
    )
    assert set(cv.scores) == set(MODES)
    for s in cv.scores.values():
        assert s.positives == sum(c.label == "fight" for c, _ in loaded)
        assert s.normal_clips == sum(c.label == "normal" for c, _ in loaded)
    assert "| fused |" in to_markdown(cv)


@needs_torch
def test_training_needs_both_kinds_of_clip(tmp_path: Path) -> None:
    config = load_config(None)
    camera = camera_for_file(config, None)
    clip = pairs.fighting()
    sample = Sample(
        "f",
        True,
        clip.fps,
        clip.frame_size,
        np.arange(len(clip.frames)) / clip.fps,
        tuple(pairs.poses_of(p) for p in clip.frames),
        np.stack([p.thumb for p in pairs.perceptions(clip)]),
        "test",
    )
    with pytest.raises(TrainingError, match="with and without"):
        fit(window_set([sample], "fight", camera, config), tmp_path / "m.onnx", TrainSettings())


def test_cli_errors_say_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "fight", "--generated", "0", "--cross-validate", "5"]) == 2
    assert "--cross-validate needs --labels" in capsys.readouterr().err
    assert main(["train", "fight", "--generated", "0"]) == 2
    assert "nothing to train on" in capsys.readouterr().err


@needs_torch
@pytest.mark.slow
@pytest.mark.parametrize("behaviour", ["fall", "fight"])
def test_the_shipped_classifier_is_reproduced_by_its_recipe(tmp_path: Path, behaviour: str) -> None:
    """The recipe in the shipped model's metadata trains the same classifier (fixed seeds). On
    the machine that made it the bytes are the same; another CPU may round differently, so
    the test compares what the two models say about the same windows."""
    shipped = default_model_path(behaviour)
    recipe = json.loads(metadata_path(shipped).read_text())["command"].split()[1:]
    out = tmp_path / f"{behaviour}.onnx"
    assert main([*recipe[: recipe.index("--out")], "--out", str(out)]) == 0
    assert out.with_suffix(".json").exists() and out.with_suffix(".md").exists()
    config = load_config(None)
    camera = camera_for_file(config, None)
    windows = np.concatenate(
        [windows_of(s, behaviour, camera, config) for s in generated_samples(behaviour, 40, seed=9)]
    )
    new, old = OnnxSequenceScorer(out), OnnxSequenceScorer(shipped)
    assert np.abs(new.score(windows) - old.score(windows)).max() < 0.02
