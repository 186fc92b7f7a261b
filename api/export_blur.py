"""Faces pixelated in an alert's snapshot and clip when they are exported, whatever the camera's
`privacy.blur_faces` was when they were stored.

Faces are placed as they are live (`vision.privacy.blur_faces`, same keypoint score threshold)
from the people recorded beside each file: the snapshot's sidecar (`x.jpg.json`, see
`alerts.evidence.snapshot_sidecar`) and the clip's (`x.json`, one record per video frame). Without
those poses nothing can be blurred, so `BlurError` says why and the caller leaves the file out:
an export never shows a face that was asked to be blurred. As live, a face whose keypoints the
pose model did not see is not found, so not blurred.

    jpeg = blurred_snapshot(root / alert.snapshot)
    with blurred_clip(root / alert.clip, directory=None) as mp4:
        archive.write(mp4, "clip.mp4")
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from alerts.evidence import snapshot_sidecar
from vision.privacy import blur_faces
from vision.types import NUM_KEYPOINTS, Poses
from vision.video_io import H264Writer

EXPORT_CRF = 18
"""H.264 quality of re-encoded clips: near-lossless, since the export is a second generation of
the stored clip (26 by default); about a third larger than it on a busy test scene."""
JPEG_PARAMS = [
    cv2.IMWRITE_JPEG_QUALITY,
    95,
    cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
    cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
]
"""How re-encoded snapshots are written: a second JPEG generation, so high quality and no chroma
subsampling (which roughly halves the change outside the faces)."""


class BlurError(Exception):
    """The poses needed to blur a file are missing or do not fit it (the message says which)."""


def _number(value: Any, what: str) -> float:
    """A number of a sidecar record (null -> NaN); BlurError for anything else."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BlurError(f"{what}: expected a number, got {value!r}")
    return float(value)


def poses_from_record(record: Mapping[str, Any]) -> Poses:
    """The people of one sidecar record (a clip frame or a snapshot sidecar) as `Poses`.

    A record without `keypoint_score` (written before it was recorded) counts every present
    joint as seen (score 1.0), so its face is blurred whenever two face joints are there. A box
    with a missing corner is replaced by the extent of the person's joints (face boxes are sized
    from the box width). BlurError when the record is malformed.
    """
    boxes, points = record.get("xyxy"), record.get("keypoints")
    scores = record.get("keypoint_score")
    if not isinstance(boxes, list) or not isinstance(points, list) or len(boxes) != len(points):
        raise BlurError("xyxy and keypoints must be lists of the same length")
    if scores is not None and (not isinstance(scores, list) or len(scores) != len(points)):
        raise BlurError("keypoint_score must be a list with one entry per person")
    n = len(points)
    keypoints = np.full((n, NUM_KEYPOINTS, 2), np.nan, np.float32)
    keypoint_score = np.zeros((n, NUM_KEYPOINTS), np.float32)
    xyxy = np.zeros((n, 4), np.float32)
    for i, person in enumerate(points):
        if not isinstance(person, list) or len(person) != NUM_KEYPOINTS:
            raise BlurError(f"a person needs {NUM_KEYPOINTS} keypoints")
        for j, point in enumerate(person):
            if point is None:
                continue
            if not isinstance(point, list) or len(point) != 2:
                raise BlurError(f"a keypoint is [x, y] or null, got {point!r}")
            keypoints[i, j] = (_number(point[0], "x"), _number(point[1], "y"))
        present = ~np.isnan(keypoints[i]).any(axis=1)
        if scores is None:
            keypoint_score[i] = present
        else:
            row = scores[i]
            if not isinstance(row, list) or len(row) != NUM_KEYPOINTS:
                raise BlurError(f"a person needs {NUM_KEYPOINTS} keypoint scores")
            keypoint_score[i] = np.nan_to_num([_number(s, "keypoint_score") for s in row], nan=0.0)
        box = boxes[i]
        if not isinstance(box, list) or len(box) != 4:
            raise BlurError(f"a box is [x1, y1, x2, y2], got {box!r}")
        xyxy[i] = [_number(v, "xyxy") for v in box]
        if np.isnan(xyxy[i]).any():
            seen = keypoints[i][present]
            xyxy[i] = (*seen.min(axis=0), *seen.max(axis=0)) if len(seen) else 0.0
    return Poses(
        xyxy=xyxy,
        score=np.ones(n, np.float32),
        keypoints=keypoints,
        keypoint_score=keypoint_score,
    )


def _poses(record: Mapping[str, Any]) -> Poses:
    try:
        return poses_from_record(record)
    except BlurError as exc:
        raise BlurError(f"its pose sidecar is malformed ({exc})") from None


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise BlurError("no recorded poses: its pose sidecar is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BlurError(f"its pose sidecar is unreadable ({exc})") from None


def _check_size(sidecar: Mapping[str, Any], image: np.ndarray, what: str) -> None:
    """BlurError when the sidecar names a frame size other than `image`'s (its poses would be
    in other pixels)."""
    want = (sidecar.get("width"), sidecar.get("height"))
    got = (int(image.shape[1]), int(image.shape[0]))
    if want != (None, None) and want != got:
        raise BlurError(
            f"the {what} is {got[0]}x{got[1]} but its poses are for {want[0]}x{want[1]}"
        )


def blurred_snapshot(path: Path) -> bytes:
    """The JPEG at `path` with faces pixelated, from its sidecar's poses; BlurError when the
    sidecar is missing or malformed, or the JPEG unreadable."""
    record = _read_json(snapshot_sidecar(path))
    if not isinstance(record, dict):
        raise BlurError("its pose sidecar is not a snapshot sidecar")
    poses = _poses(record)
    decoded = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if decoded is None:
        raise BlurError("the picture could not be decoded")
    image = np.asarray(decoded, dtype=np.uint8)
    _check_size(record, image, "picture")
    blurred = blur_faces(image, poses)
    if blurred is image:  # no face seen: the stored bytes, without a second JPEG generation
        return path.read_bytes()
    ok, encoded = cv2.imencode(".jpg", blurred, JPEG_PARAMS)
    if not ok or encoded is None:
        raise BlurError("the picture could not be encoded again")
    return np.asarray(encoded).tobytes()


@contextmanager
def blurred_clip(path: Path, directory: Path | None = None) -> Iterator[Path]:
    """A temporary MP4 (in `directory`) of the clip at `path` with faces pixelated in every frame
    from its sidecar (`path.with_suffix(".json")`), at the sidecar's fps; removed on exit.

    BlurError (nothing left behind) when the sidecar is missing or malformed, the video cannot
    be decoded, or it has another number of frames than the sidecar has records.
    """
    sidecar = _read_json(path.with_suffix(".json"))
    try:
        fps = float(sidecar["fps"])
        records = sidecar["frames"]
    except (KeyError, TypeError, ValueError):
        raise BlurError("its pose sidecar is not a clip sidecar") from None
    if not isinstance(records, list) or not records or not math.isfinite(fps) or fps <= 0:
        raise BlurError("its pose sidecar has no frames or no frame rate")
    if not all(isinstance(r, dict) for r in records):
        raise BlurError("its pose sidecar has a frame record that is not an object")
    poses = [_poses(r) for r in records]
    fd, name = tempfile.mkstemp(prefix=".carewatch-blur-", suffix=".mp4", dir=directory)
    os.close(fd)
    out = Path(name)
    try:
        _reencode(path, out, fps, poses, sidecar)
        yield out
    finally:
        out.unlink(missing_ok=True)


def _reencode(
    path: Path, out: Path, fps: float, poses: list[Poses], sidecar: Mapping[str, Any]
) -> None:
    """Decode `path`, pixelate frame i's faces from `poses[i]`, encode to `out` at `fps`."""
    capture = cv2.VideoCapture(str(path))
    writer: H264Writer | None = None
    count = 0
    try:
        if not capture.isOpened():
            raise BlurError("the video could not be decoded")
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                break
            if count >= len(poses):
                raise BlurError(f"the video has more frames than its {len(poses)} pose records")
            if writer is None:
                _check_size(sidecar, image, "video")
                size = (int(image.shape[1]), int(image.shape[0]))
                writer = H264Writer(out, fps=fps, size=size, crf=EXPORT_CRF)
            writer.write(blur_faces(np.asarray(image, dtype=np.uint8), poses[count]))
            count += 1
    finally:
        capture.release()
        if writer is not None:
            writer.close()
    if count != len(poses):
        raise BlurError(f"the video has {count} frames but {len(poses)} pose records")
