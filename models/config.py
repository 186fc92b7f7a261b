"""Configuration of the pose model."""

from __future__ import annotations

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
            "Square model input in pixels (multiple of 32). The bundled model is installed at "
            "640, 480 and 320; larger finds smaller people, smaller runs faster."
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
        2, ge=0, le=256, description="ONNX Runtime intra-op threads (0 = ONNX Runtime decides)."
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
