"""Rules alone, classifier alone, and the two fused, on labelled clips the classifier never saw.

k-fold cross-validation over the labelled clips of one behaviour and the normal clips
(stratified: each fold holds its share of both). For each fold a classifier is trained on the
other folds (plus any extra samples: generated clips, the station's resolved alerts), then the
held-out clips run through the evaluation harness three times, exactly as a camera would run
them: rules only, classifier only, rules and classifier fused. The pooled runs of the k folds
are scored like `carewatch eval` scores all clips, so the three rows compare like for like.

With `folds=0` no labelled clip is trained on: one classifier from the extra samples alone,
scored on all labelled clips (the clean cross-dataset check of a model trained on generated
data only).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from api.config import AppConfig
from api.evaluation.cache import CachedClip
from api.evaluation.harness import ClipLabel, ClipRun, run_loaded
from api.evaluation.scoring import BehaviourScore, score
from api.training.dataset import Bag, Sample, WindowSet, bag_of, collect, variants
from api.training.sources import from_cached
from api.training.train import TrainSettings, fit, write_metadata
from vision.config import CameraConfig

log = logging.getLogger(__name__)

MODES = ("rules", "model", "fused")


@dataclass(frozen=True)
class CrossValidation:
    behaviour: str
    folds: int
    scores: dict[str, BehaviourScore]
    threshold: float
    trained_on: str


def with_mode(camera: CameraConfig, behaviour: str, mode: str, model: Path | None) -> CameraConfig:
    """`camera` judging `behaviour` by its rules, its classifier at `model`, or both."""
    section = getattr(camera.behaviours, behaviour)
    updated = section.model_copy(
        update={
            "rules": mode != "model",
            "model": section.model.model_copy(
                update={
                    "enabled": mode != "rules",
                    "path": str(model) if model else section.model.path,
                }
            ),
        }
    )
    return camera.model_copy(
        update={"behaviours": camera.behaviours.model_copy(update={behaviour: updated})}
    )


def stratified_folds(labels: Sequence[ClipLabel], k: int, behaviour: str, seed: int) -> list[int]:
    """A fold index per clip; each label's clips dealt round-robin in a seeded order."""
    rng = np.random.default_rng(seed)
    fold = [0] * len(labels)
    for positive in (True, False):
        idx = [i for i, c in enumerate(labels) if (c.label == behaviour) == positive]
        order = rng.permutation(len(idx))
        for n, j in enumerate(order):
            fold[idx[j]] = n % k
    return fold


class WindowCache:
    """Each sample's bags (the sample and its augmented copies), made once for all folds."""

    def __init__(
        self, behaviour: str, camera: CameraConfig, config: AppConfig, copies: int, seed: int
    ) -> None:
        self.behaviour, self.camera, self.config = behaviour, camera, config
        self.copies = copies
        self.rng = np.random.default_rng(seed)
        self._made: dict[str, list[Bag]] = {}

    def of(self, sample: Sample) -> list[Bag]:
        made = self._made.get(sample.name)
        if made is None:
            made = [
                bag_of(v, self.behaviour, self.camera, self.config)
                for v in variants(sample, self.rng, self.copies)
            ]
            self._made[sample.name] = made
        return made

    def window_set(self, samples: Sequence[Sample]) -> WindowSet:
        return collect((b for s in samples for b in self.of(s)), self.behaviour)


def cross_validate(
    loaded: Sequence[tuple[ClipLabel, CachedClip]],
    extra: Sequence[Sample],
    behaviour: str,
    camera: CameraConfig,
    config: AppConfig,
    *,
    folds: int = 5,
    copies: int = 3,
    settings: TrainSettings | None = None,
) -> CrossValidation:
    """See the module docstring; `loaded` are the labelled clips with their cached perception."""
    settings = settings or TrainSettings()
    if folds == 1 or folds < 0:
        raise ValueError("folds must be 0 (train on the extra samples only) or at least 2")
    if folds == 0 and not extra:
        raise ValueError("with 0 folds the classifier is trained on extra samples only: give some")
    labels = [c for c, _ in loaded]
    samples = [from_cached(c, cached, behaviour) for c, cached in loaded]
    fold_of = (
        stratified_folds(labels, folds, behaviour, settings.seed) if folds else [0] * len(labels)
    )
    cache = WindowCache(behaviour, camera, config, copies, settings.seed)
    runs: dict[str, list[ClipRun]] = {mode: [] for mode in MODES}
    threshold = getattr(camera.behaviours, behaviour).model.threshold
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(max(folds, 1)):
            train = [s for s, f in zip(samples, fold_of, strict=True) if folds and f != k]
            data = cache.window_set([*train, *extra])
            model = Path(tmp) / f"{behaviour}-fold{k}.onnx"
            figures = fit(data, model, replace(settings, seed=settings.seed + k))
            write_metadata(model, behaviour, f"cv-fold{k}", training=figures)
            held = [pair for pair, f in zip(loaded, fold_of, strict=True) if not folds or f == k]
            for mode in MODES:
                cam = with_mode(camera, behaviour, mode, model)
                runs[mode].extend(run_loaded(held, cam, config).runs)
            log.info(
                "fold %d of %d: trained on %d clips (%d windows)",
                k + 1,
                folds,
                len(data.bag_label),
                len(data.windows),
            )
    scores = {mode: score(r, (behaviour,)).behaviours[behaviour] for mode, r in runs.items()}
    trained_on = (
        f"{folds}-fold cross-validation over {len(labels)} labelled clips"
        + (f" plus {len(extra)} other samples" if extra else "")
        if folds
        else f"{len(extra)} samples that are not labelled clips; scored on all {len(labels)} clips"
    )
    return CrossValidation(behaviour, folds, scores, threshold, trained_on)


def to_markdown(cv: CrossValidation) -> str:
    """The three rows side by side."""
    lines = [
        f"{cv.behaviour}: rules alone, classifier alone and fused ({cv.trained_on}; "
        f"classifier threshold {cv.threshold}).",
        "",
        "| judged by | found | recall | false alarms on normal clips | "
        "normal clips of the fight dataset alerted | per hour (95 % upper) |",
        "|---|---|---|---|---|---|",
    ]
    for mode, s in cv.scores.items():
        recall = "–" if s.recall is None else f"{s.recall:.0%}"
        per_hour = "–" if s.fa_per_hour is None else f"{s.fa_per_hour:.1f}"
        upper = s.fa_per_hour_upper95
        per_hour += "" if upper is None else f" (≤ {upper:.1f})"
        lines.append(
            f"| {mode} | {s.detected} of {s.positives} | {recall} | {s.false_alarms_normal} "
            f"(in {s.false_alarm_clips_normal} of {s.normal_clips} clips) | "
            f"{s.no_fight_alerted} of {s.no_fight_clips} | {per_hour} |"
        )
    return "\n".join(lines) + "\n"
