"""Where training samples come from: labelled clips (cached perception) and the generator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from api.evaluation.cache import CachedClip
from api.evaluation.harness import ClipLabel, iter_clips
from api.training.dataset import Sample
from models.onnx_pose import OnnxPoseEstimator

if TYPE_CHECKING:
    from models.behaviour.generator import GeneratedClip


def from_cached(clip: ClipLabel, cached: CachedClip, behaviour: str) -> Sample:
    """A labelled clip as a sample: positive when its label is the behaviour."""
    return Sample(
        name=Path(clip.file).stem,
        positive=clip.label == behaviour,
        fps=cached.fps,
        frame_size=cached.frame_size,
        timestamps=cached.timestamps,
        poses=cached.poses,
        thumbs=cached.thumbs,
        source=f"clips:{clip.room}",
    )


def labelled_samples(
    labels: Sequence[ClipLabel],
    clips_dir: Path,
    estimator: OnnxPoseEstimator,
    behaviour: str,
    cache_dir: Path | None = None,
) -> list[Sample]:
    """The behaviour's clips and the normal ones of a labels.csv (perception from the cache)."""
    chosen = [c for c in labels if c.label in (behaviour, "normal")]
    return [
        from_cached(c, cached, behaviour)
        for c, cached in iter_clips(chosen, clips_dir, estimator, cache_dir)
    ]


def from_generated(clip: GeneratedClip, behaviour: str) -> Sample:
    """A generated clip as a sample: positive when generated as the behaviour."""
    return Sample(
        name=clip.name,
        positive=clip.label == behaviour,
        fps=clip.fps,
        frame_size=clip.frame_size,
        timestamps=clip.timestamps,
        poses=clip.poses,
        thumbs=clip.thumbs,
        source=f"generated:{clip.subtype}",
    )


OTHER_BEHAVIOURS = {"fight": ("fall",), "fall": ("fight",)}
"""Generated clips of these behaviours are negatives too: a fall is not a fight."""


def generated_samples(behaviour: str, n: int, seed: int) -> list[Sample]:
    """`n` procedurally generated clips of `behaviour` (about half with it, half its hard
    negatives) and `n // 2` of each other behaviour (all negatives), deterministic for a seed."""
    from models.behaviour.generator import generate

    clips = list(generate(behaviour, n, seed))  # type: ignore[arg-type]
    for other in OTHER_BEHAVIOURS.get(behaviour, ()):
        clips += generate(other, n // 2, seed)  # type: ignore[arg-type]
    return [from_generated(c, behaviour) for c in clips]
