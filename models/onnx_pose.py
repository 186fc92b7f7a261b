"""YOLO-pose on ONNX Runtime: the estimator the service runs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from models.config import PoseModelConfig
from models.processing import Letterbox, decode, letterbox, to_input_tensor
from vision.types import FloatArray, Frame, Image, Poses

log = logging.getLogger(__name__)


class OnnxPoseEstimator:
    """Runs a YOLO-pose ONNX model; `infer(frame)` returns `Poses` in frame pixels.

    The three stages are also callable one by one (`preprocess`, `run`, `postprocess`) so the
    benchmark can time each.
    """

    def __init__(self, path: Path, cfg: PoseModelConfig) -> None:
        self.path = path
        self.cfg = cfg
        options = ort.SessionOptions()
        options.intra_op_num_threads = cfg.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not cfg.spin_wait:  # idle model threads sleep, leaving the cores to decoding
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        available = set(ort.get_available_providers())
        providers = [p for p in cfg.providers if p in available]
        skipped = [p for p in cfg.providers if p not in available]
        if skipped:
            log.warning("execution providers %s are not installed; using %s", skipped, providers)
        if not providers:
            providers = ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ValueError(f"cannot load ONNX model {path}: {exc}") from exc
        inp = self.session.get_inputs()[0]
        self.input_name: str = inp.name
        h, w = inp.shape[2], inp.shape[3]
        # A model exported with dynamic axes has symbolic dims: use the configured size then.
        self.input_hw = (
            (int(h), int(w))
            if isinstance(h, int) and isinstance(w, int)
            else (cfg.input_size, cfg.input_size)
        )
        self.model_version = f"{path.stem}@{self.input_hw[0]}"

    def preprocess(self, image: Image) -> tuple[FloatArray, Letterbox]:
        padded, lb = letterbox(image, self.input_hw)
        return to_input_tensor(padded), lb

    def run(self, tensor: FloatArray) -> FloatArray:
        (output,) = self.session.run(None, {self.input_name: tensor})[:1]
        return np.asarray(output[0], dtype=np.float32)

    def postprocess(self, output: FloatArray, lb: Letterbox) -> Poses:
        return decode(
            output,
            lb,
            conf_threshold=self.cfg.conf_threshold,
            iou_threshold=self.cfg.iou_threshold,
            keypoint_min_score=self.cfg.keypoint_min_score,
            max_people=self.cfg.max_people,
        )

    def infer_image(self, image: Image) -> Poses:
        tensor, lb = self.preprocess(image)
        return self.postprocess(self.run(tensor), lb)

    def infer(self, frame: Frame) -> Poses:
        return self.infer_image(frame.image)
