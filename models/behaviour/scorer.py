"""A learned behaviour classifier on ONNX Runtime: windows of step features in, scores out.

`carewatch train` writes two files side by side: `NAME.onnx` (input `windows` of shape
`(n, steps, features + 1)`, output `score` of shape `(n,)`, 0-1) and `NAME.json`, the metadata
that says what the model expects (behaviour, feature names, steps, step length) and what it was
trained on. The scorer checks both before a camera uses it, so a model trained on other
features fails at start-up with a message rather than scoring nonsense.

One session serves every camera (ONNX Runtime's `run` is thread-safe); one intra-op thread,
because each call is a handful of small windows (tens of microseconds) and the pose model needs
the cores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from vision.types import FloatArray

WEIGHTS_DIR = Path(__file__).with_name("weights")
"""The classifiers that ship with CareWatch (trained on generated data only: MODEL_CARD.md)."""


def default_model_path(behaviour: str) -> Path:
    """The shipped classifier of `behaviour`."""
    return WEIGHTS_DIR / f"{behaviour}.onnx"


def metadata_path(model: Path) -> Path:
    return model.with_suffix(".json")


@dataclass(frozen=True)
class ModelMetadata:
    """What a classifier expects and where it came from (the .json beside the .onnx)."""

    behaviour: str
    version: str
    features: tuple[str, ...]
    steps: int
    step_s: float
    extra: dict[str, Any]

    @classmethod
    def read(cls, path: Path) -> ModelMetadata:
        try:
            data = json.loads(path.read_text())
            return cls(
                behaviour=str(data["behaviour"]),
                version=str(data["version"]),
                features=tuple(str(f) for f in data["features"]),
                steps=int(data["steps"]),
                step_s=float(data["step_s"]),
                extra={
                    k: v
                    for k, v in data.items()
                    if k not in {"behaviour", "version", "features", "steps", "step_s"}
                },
            )
        except FileNotFoundError as exc:
            raise ValueError(
                f"the classifier's metadata {path} is missing (`carewatch train` writes it "
                "beside the .onnx)"
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the classifier's metadata {path} is not valid: {exc}") from exc


class OnnxSequenceScorer:
    """Scores windows with an ONNX classifier (a `vision.behaviours.sequence.SequenceScorer`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        meta = ModelMetadata.read(metadata_path(path))
        self.metadata = meta
        self.behaviour = meta.behaviour
        self.version = meta.version
        self.features = meta.features
        self.steps = meta.steps
        self.step_s = meta.step_s
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ValueError(f"cannot load the classifier {path}: {exc}") from exc
        inp = self.session.get_inputs()[0]
        self.input_name: str = inp.name
        width = inp.shape[-1]
        if isinstance(width, int) and width != len(self.features) + 1:
            raise ValueError(
                f"classifier {path} takes {width} channels a step, its metadata names "
                f"{len(self.features)} features (+1 present)"
            )

    def score(self, windows: FloatArray) -> FloatArray:
        batch = np.ascontiguousarray(windows, dtype=np.float32)
        if batch.ndim != 3 or batch.shape[1:] != (self.steps, len(self.features) + 1):
            raise ValueError(
                f"{self.behaviour} classifier expects windows of shape "
                f"(n, {self.steps}, {len(self.features) + 1}), got {batch.shape}"
            )
        if len(batch) == 0:
            return np.zeros(0, np.float32)
        (out,) = self.session.run(None, {self.input_name: batch})[:1]
        return np.asarray(out, np.float32).reshape(-1)
