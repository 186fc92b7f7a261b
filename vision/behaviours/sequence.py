"""Windows of per-step features for the learned behaviour classifiers that back up the rules.

A learned classifier (models/behaviour, ONNX) judges a few seconds of one *subject*, a close pair
of people for fights, as a window of `steps` feature vectors `step_s` apart, newest last, each
followed by a `present` channel: 1 where the subject was judged at that step, 0 where it was not
(out of sight, too far apart) or before its history began. The detector fills the vectors from
the same quantities its rules measure, so a model sees only what the rules could see; and the
same code makes the windows for training (`RecordingScorer`) and at run time, so the two cannot
drift apart.

Steps are on the camera's clock: at 5 analysed frames a second every frame is one step; at 10,
the newer frame of two replaces the step it falls into, so a model trained at one rate reads the
same motion at another.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from pydantic import Field

from vision.configbase import StrictModel
from vision.types import FloatArray

MIN_PRESENT_STEPS = 2
"""A window is scored only once its subject was judged at this many steps."""


class SequenceScorer(Protocol):
    """A learned classifier over windows of per-step features (see the module docstring)."""

    behaviour: str
    version: str
    features: tuple[str, ...]
    steps: int
    step_s: float

    def score(self, windows: FloatArray) -> FloatArray:
        """`(n, steps, len(features) + 1)` windows -> `(n,)` probabilities (0-1)."""
        ...


class BehaviourModelConfig(StrictModel):
    """The learned classifier of one behaviour, next to its rules (per camera)."""

    enabled: bool = Field(
        True,
        description=(
            "Whether the learned classifier judges this camera too (its score is one more "
            "piece of evidence, with its own threshold)."
        ),
    )
    path: str | None = Field(
        None,
        description=(
            "An .onnx classifier written by `carewatch train` (its .json metadata beside it). "
            "Empty: the one that ships with CareWatch (models/behaviour/weights)."
        ),
    )
    threshold: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Classifier score (0-1) at or above which a frame counts as the behaviour.",
    )


def require_a_decider(
    behaviour: str, enabled: bool, rules: bool, model: BehaviourModelConfig
) -> None:
    """A config check shared by the behaviours with a classifier: something must decide."""
    if enabled and not rules and not model.enabled:
        raise ValueError(
            f"rules and model are both off, so no {behaviour} would ever be raised; "
            f"set enabled: false to switch {behaviour} detection off"
        )


def steps_for(
    behaviour: str,
    scorer: SequenceScorer | None,
    features: tuple[str, ...],
    steps: int,
    step_s: float,
) -> StepBuffer:
    """The step buffer a detector fills for `scorer` (its window; the default one without a
    scorer); ValueError for a classifier trained on other features than the detector makes."""
    if scorer is None:
        return StepBuffer(len(features), steps, step_s)
    if tuple(scorer.features) != features:
        raise ValueError(
            f"{behaviour} model {scorer.version} was trained on other features "
            f"({', '.join(scorer.features)}); retrain it with `carewatch train {behaviour}`"
        )
    return StepBuffer(len(features), scorer.steps, scorer.step_s)


@dataclass
class _Steps:
    """One subject's recent steps: (step time, vector or None when absent)."""

    items: deque[tuple[float, FloatArray | None]] = field(default_factory=deque)
    present: int = 0


class StepBuffer:
    """Per subject (any hashable key), the last `steps` feature vectors on a `step_s` grid."""

    def __init__(self, n_features: int, steps: int, step_s: float) -> None:
        if steps < 1 or step_s <= 0 or n_features < 1:
            raise ValueError("a step buffer needs steps >= 1, step_s > 0 and features")
        self.n_features = n_features
        self.steps = steps
        self.step_s = step_s
        self._subjects: dict[Hashable, _Steps] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self._subjects

    def subjects(self) -> list[Hashable]:
        return list(self._subjects)

    def push(self, key: Hashable, t: float, vector: FloatArray | None) -> None:
        """Record `key` at time `t` (`vector` None: not judged then). A push less than 3/4 of a
        step after the previous one replaces it; a longer gap is filled with absent steps."""
        if vector is not None and vector.shape != (self.n_features,):
            raise ValueError(f"a step has {self.n_features} features, got shape {vector.shape}")
        s = self._subjects.get(key)
        if s is None:
            if vector is None:
                return
            s = self._subjects[key] = _Steps()
        if s.items and t - s.items[-1][0] < 0.75 * self.step_s:
            _, old = s.items.pop()
            s.present -= old is not None
        elif s.items:
            gap = min(round((t - s.items[-1][0]) / self.step_s) - 1, self.steps)
            for _ in range(gap):
                self._append(s, s.items[-1][0] + self.step_s, None)
        self._append(s, t, vector)
        if s.present == 0:
            del self._subjects[key]

    def _append(self, s: _Steps, t: float, vector: FloatArray | None) -> None:
        s.items.append((t, vector))
        s.present += vector is not None
        while len(s.items) > self.steps:
            _, dropped = s.items.popleft()
            s.present -= dropped is not None

    def present_steps(self, key: Hashable) -> int:
        s = self._subjects.get(key)
        return 0 if s is None else s.present

    def window(self, key: Hashable) -> FloatArray:
        """`(steps, n_features + 1)`: the subject's steps, newest last, zero-padded in front."""
        out = np.zeros((self.steps, self.n_features + 1), np.float32)
        s = self._subjects.get(key)
        if s is None:
            return out
        offset = self.steps - len(s.items)
        for i, (_, vector) in enumerate(s.items):
            if vector is not None:
                out[offset + i, :-1] = vector
                out[offset + i, -1] = 1.0
        return out

    def forget(self, key: Hashable) -> None:
        self._subjects.pop(key, None)


def log_speed(value: float | None) -> float:
    """A speed-like feature for a model: log(1 + v), 0 where unmeasured (never NaN)."""
    if value is None or not math.isfinite(value):
        return 0.0
    return math.log1p(max(value, 0.0))


class RecordingScorer:
    """A scorer that keeps every window it is asked to judge and says 0: run a detector with it
    over a clip (the same code as at run time) to collect training windows."""

    def __init__(
        self, behaviour: str, features: tuple[str, ...], steps: int, step_s: float
    ) -> None:
        self.behaviour = behaviour
        self.version = "recording"
        self.features = features
        self.steps = steps
        self.step_s = step_s
        self.windows: list[FloatArray] = []

    def score(self, windows: FloatArray) -> FloatArray:
        self.windows.extend(np.asarray(windows, np.float32))
        return np.zeros(len(windows), np.float32)

    def take(self) -> FloatArray:
        """The windows recorded since the last take, `(n, steps, features + 1)`."""
        shape = (0, self.steps, len(self.features) + 1)
        out = np.stack(self.windows) if self.windows else np.zeros(shape, np.float32)
        self.windows = []
        return out
