"""YOLO-pose on ONNX Runtime: the estimator the service runs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from models.config import PoseModelConfig
from models.processing import (
    Letterbox,
    crop_letterbox,
    decode,
    fitted_shape,
    letterbox,
    to_input_tensor,
)
from vision.regions import Region
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
        fixed = isinstance(h, int) and isinstance(w, int)
        # A model exported with dynamic axes has symbolic dims: use the configured size then.
        self.input_hw = (int(h), int(w)) if fixed else (cfg.input_size, cfg.input_size)
        self.takes_any_shape = not fixed
        """Dynamic axes: the model takes crops (`infer_region`) and fitted frames."""
        self.fits_frame = cfg.fit_frame and not fixed
        """Each frame gets the smallest input that holds it (`fitted_shape`) instead of the
        square: only a model exported with dynamic axes accepts that."""
        self.model_version = f"{path.stem}@{self.input_hw[0]}"

    def input_shape(self, frame_hw: tuple[int, int]) -> tuple[int, int]:
        """The (height, width) the network sees for a frame of this size."""
        return fitted_shape(frame_hw, self.input_hw[0]) if self.fits_frame else self.input_hw

    def preprocess(self, image: Image) -> tuple[FloatArray, Letterbox]:
        padded, lb = letterbox(image, self.input_shape(image.shape[:2]))
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

    def infer_region(self, frame: Frame, region: Region) -> Poses:
        """Poses (in frame pixels) of the people inside `region`, the crop seen at the scale the
        whole frame would get. When someone reaches the crop's edge (inside the frame), they
        may be cut by it, so the whole frame is analysed instead; a fixed-size export cannot
        take a crop's shape and always gets the whole frame."""
        if not self.takes_any_shape:
            return self.infer(frame)
        box = (region.x0, region.y0, region.x1, region.y1)
        padded, lb = crop_letterbox(frame.image, box, self.input_hw[0])
        poses = self.postprocess(self.run(to_input_tensor(padded)), lb)
        h, w = frame.image.shape[:2]
        if len(poses) and region.cuts(poses.xyxy, (h, w)):
            return self.infer(frame)
        return poses
