"""Configuration of the pose model."""

from __future__ import annotations

import os

from pydantic import Field, field_validator

from vision.config import StrictModel

DEFAULT_INPUT_SIZES = (640, 480, 320)
"""Input sizes `carewatch models install` exports the bundled model at."""


class PoseModelConfig(StrictModel):
    """Which pose model runs, at what input size, and how its output is filtered."""

    path: str | None = Field(
        None,
        description=(
            "Your own YOLO-pose model, a .onnx or a .pt file (a .pt is exported to ONNX once, "
            "by `carewatch models install --pt FILE`). Empty: the installed yolo11n-pose."
        ),
    )
    input_size: int = Field(
        480,
        ge=160,
        le=1280,
        description=(
            "Model input in pixels (multiple of 32): the long side of the frame is scaled to it "
            "(see `fit_frame`). The bundled model is installed at "
            "640, 480 and 320; larger finds smaller people, smaller runs faster."
        ),
    )
    fit_frame: bool = Field(
        False,
        description=(
            "Feed each frame at the smallest input that holds it (long side `input_size`, the "
            "other rounded up to a multiple of 32: 384x480 for a 4:3 camera, 288x480 for 16:9, "
            "as Ultralytics does) instead of padding it to a square: 20-40 % less work, but the "
            "model finds slightly different people and joints, and the behaviour thresholds "
            "were chosen on square inputs (docs/PERFORMANCE.md has what it changes). Needs a "
            "model exported with dynamic axes (what `carewatch models install` writes)."
        ),
    )
    conf_threshold: float = Field(
        0.25, gt=0, lt=1, description="Lowest person score kept (Ultralytics' default is 0.25)."
    )
    iou_threshold: float = Field(
        0.7, gt=0, le=1, description="Box IoU above which NMS drops the lower-scored person."
    )
    keypoint_min_score: float = Field(
        0.5, ge=0, le=1, description="Keypoints scored below this are treated as missing (NaN)."
    )
    max_people: int = Field(100, ge=1, le=1000, description="Most people kept per frame.")
    threads: int = Field(
        1,
        ge=0,
        le=256,
        description="ONNX Runtime intra-op threads of one inference (0 = ONNX Runtime decides). "
        "With several cameras, one thread per inference and `parallel` inferences at once use "
        "the cores better than one inference on every core.",
    )
    parallel: int = Field(
        0,
        ge=0,
        le=64,
        description="Frames the model analyses at the same time across cameras (turns in the "
        "order cameras asked). 0: one per CPU core this process may use.",
    )
    spin_wait: bool = Field(
        False,
        description="Let ONNX Runtime's threads spin between operators (a little faster for "
        "one camera on an idle machine; with several cameras the spinning takes the cores that "
        "decoding and the other inferences need).",
    )
    providers: tuple[str, ...] = Field(
        ("CPUExecutionProvider",),
        min_length=1,
        description=(
            "ONNX Runtime execution providers in order of preference, e.g. "
            "[CUDAExecutionProvider, CPUExecutionProvider]; ones not installed are skipped."
        ),
    )

    @field_validator("input_size")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        if value % 32:
            raise ValueError("must be a multiple of 32 (e.g. 320, 480, 640)")
        return value

    @field_validator("path")
    @classmethod
    def _model_suffix(cls, value: str | None) -> str | None:
        if value and not value.lower().endswith((".onnx", ".pt")):
            raise ValueError("must be a .onnx or .pt file")
        return value or None


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def parallel_inferences(cfg: PoseModelConfig) -> int:
    """How many inferences run at once: `cfg.parallel`, or one per usable core when 0."""
    return cfg.parallel or usable_cores()
