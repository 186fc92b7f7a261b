"""Pre- and post-processing for YOLO-pose models, in plain numpy (plus cv2.resize).

The arithmetic follows Ultralytics' own predictor so the ONNX path gives the same boxes and
keypoints as `YOLO(pt).predict`: centred letterbox padded with grey 114, confidence filter,
class-agnostic NMS at IoU 0.7, then boxes and keypoints mapped back to frame pixels.

Raw model output for one image: `(56, N)` rows `cx, cy, w, h, score, then 17 x (x, y, visibility)`
in letterboxed input pixels (visibility already passed through a sigmoid by the export).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from vision.types import NUM_KEYPOINTS, FloatArray, Image, Poses

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model input: `input_x = frame_x * gain_x + pad_x`.

    `gain_x` and `gain_y` differ slightly because each resized side is rounded to whole pixels.
    """

    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int
    frame_w: int
    frame_h: int
    offset_x: int = 0
    offset_y: int = 0
    """Where the letterboxed picture starts in the frame (a crop of it, see `crop_letterbox`)."""


def letterbox(image: Image, size: tuple[int, int]) -> tuple[Image, Letterbox]:
    """Resize `image` (h, w, 3) keeping its aspect ratio and pad it to `size` = (height, width).

    >>> img, lb = letterbox(np.zeros((480, 640, 3), np.uint8), (640, 640))
    >>> img.shape, lb.gain_x, lb.pad_y
    ((640, 640, 3), 1.0, 80)
    """
    h, w = image.shape[:2]
    out_h, out_w = size
    gain = min(out_h / h, out_w / w)
    new_w, new_h = max(round(w * gain), 1), max(round(h * gain), 1)
    dw, dh = (out_w - new_w) / 2, (out_h - new_h) / 2
    if (new_w, new_h) != (w, h):
        image = np.asarray(
            cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8
        )
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return np.asarray(padded, dtype=np.uint8), Letterbox(new_w / w, new_h / h, left, top, w, h)


def fitted_shape(frame_hw: tuple[int, int], size: int, stride: int = 32) -> tuple[int, int]:
    """The smallest model input (height, width) that holds the frame scaled to `size` on its long
    side: each side rounded up to a multiple of `stride`, as Ultralytics pads its own inputs. A
    4:3 camera at 480 gives 384x480 (a fifth fewer pixels than 480x480), 16:9 gives 288x480.

    >>> fitted_shape((480, 640), 480), fitted_shape((720, 1280), 480), fitted_shape((720, 406), 480)
    ((384, 480), (288, 480), (480, 288))
    """
    h, w = frame_hw
    gain = size / max(h, w)
    return _padded(h, gain, stride), _padded(w, gain, stride)


def _padded(side: int, gain: float, stride: int) -> int:
    """`side` scaled by `gain`, rounded up to a multiple of `stride`."""
    return -(-max(round(side * gain), 1) // stride) * stride


def crop_letterbox(
    image: Image, box: tuple[int, int, int, int], size: int, stride: int = 32
) -> tuple[Image, Letterbox]:
    """Letterbox the crop `box` = (x0, y0, x1, y1) of `image` at the scale the whole image gets
    at input `size` (`fitted_shape`): a crop of a quarter of the frame costs about a quarter of
    the pixels, and people in it are as large as in the whole frame. Poses decoded with the
    returned `Letterbox` are in the whole image's pixels."""
    x0, y0, x1, y1 = box
    h, w = image.shape[:2]
    gain = size / max(h, w)
    shape = (_padded(y1 - y0, gain, stride), _padded(x1 - x0, gain, stride))
    padded, lb = letterbox(image[y0:y1, x0:x1], shape)
    return padded, replace(lb, offset_x=x0, offset_y=y0)


def to_input_tensor(image: Image) -> FloatArray:
    """BGR uint8 (h, w, 3) -> RGB float32 (1, 3, h, w) scaled to 0-1."""
    rgb = image[:, :, ::-1].transpose(2, 0, 1)
    return np.ascontiguousarray(rgb[None], dtype=np.float32) / np.float32(255.0)


def nms(xyxy: FloatArray, score: FloatArray, iou_threshold: float) -> npt.NDArray[np.int64]:
    """Greedy non-maximum suppression; returns kept indices, highest score first."""
    order = np.argsort(-score, kind="stable")
    x1, y1, x2, y2 = xyxy.T
    area = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        iou = inter / (area[i] + area[rest] - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def decode(
    output: FloatArray,
    lb: Letterbox,
    *,
    conf_threshold: float,
    iou_threshold: float,
    keypoint_min_score: float,
    max_people: int,
) -> Poses:
    """Turn one image's raw output `(56, N)` into `Poses` in frame pixels.

    Keypoints whose score is below `keypoint_min_score` become NaN (missing), their score is kept.
    """
    expected_rows = 5 + NUM_KEYPOINTS * 3
    if output.ndim != 2 or output.shape[0] != expected_rows:
        raise ValueError(
            f"expected YOLO-pose output of shape ({expected_rows}, N), got {output.shape}: "
            "is this a pose model?"
        )
    pred = output.T
    pred = pred[pred[:, 4] > conf_threshold]
    if not len(pred):
        return Poses.empty()
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
    keep = nms(xyxy, pred[:, 4], iou_threshold)[:max_people]
    xyxy, pred = xyxy[keep], pred[keep]
    kpts = pred[:, 5:].reshape(-1, NUM_KEYPOINTS, 3)

    pad = np.array([lb.pad_x, lb.pad_y], np.float32)
    gain = np.array([lb.gain_x, lb.gain_y], np.float32)
    limit = np.array([lb.frame_w, lb.frame_h], np.float32)
    offset = np.array([lb.offset_x, lb.offset_y], np.float32)
    xyxy = (((xyxy.reshape(-1, 2, 2) - pad) / gain).clip(0, limit) + offset).reshape(-1, 4)
    points = ((kpts[:, :, :2] - pad) / gain).clip(0, limit) + offset
    kscore = kpts[:, :, 2]
    points[kscore < keypoint_min_score] = np.nan
    return Poses(
        xyxy=xyxy.astype(np.float32),
        score=pred[:, 4].astype(np.float32),
        keypoints=points.astype(np.float32),
        keypoint_score=kscore.astype(np.float32),
    )
