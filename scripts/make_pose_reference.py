"""Writes tests/fixtures/ultralytics_pose_reference.json: Ultralytics' predictions on its photos.

The reference the ONNX estimator is tested against. Run it with the export environment's python
(it needs torch and ultralytics), after `carewatch models install`::

    ~/.cache/carewatch/export-env/bin/python scripts/make_pose_reference.py

It predicts with `YOLO(yolo11n-pose.pt)` at each input size with Ultralytics' default thresholds,
twice: `rect=False`, the square letterbox (`model.fit_frame: false`, or a fixed-size export), and
`rect=True`, Ultralytics' own default for .pt models, padding only to a multiple of 32 (what
CareWatch feeds its dynamic-axes exports with `model.fit_frame: true`). The network sees other
pixels in the two, and boxes move by 4-6 px between them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ultralytics import YOLO

SIZES = (640, 480, 320)
PHOTOS = ("bus.jpg", "zidane.jpg")


def main() -> int:
    cache = Path(os.environ.get("CAREWATCH_CACHE", Path.home() / ".cache" / "carewatch"))
    models = Path(os.environ.get("CAREWATCH_MODEL_DIR", cache / "models"))
    model = YOLO(str(models / "yolo11n-pose.pt"))
    out: dict[str, object] = {"model": "yolo11n-pose.pt", "results": []}
    results = []
    for size in SIZES:
        for photo, rect in ((p, r) for p in PHOTOS for r in (False, True)):
            (r,) = model.predict(
                str(models / "assets" / photo), imgsz=size, rect=rect, verbose=False
            )
            results.append(
                {
                    "photo": photo,
                    "input_size": size,
                    "fit_frame": rect,
                    "xyxy": r.boxes.xyxy.numpy().round(2).tolist(),
                    "score": r.boxes.conf.numpy().round(4).tolist(),
                    "keypoints": r.keypoints.xy.numpy().round(2).tolist(),
                    "keypoint_score": r.keypoints.conf.numpy().round(4).tolist(),
                }
            )
    out["results"] = results
    target = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
    (target / "ultralytics_pose_reference.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
