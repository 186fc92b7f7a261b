"""Exports a YOLO-pose checkpoint to ONNX; runs inside the export-only environment.

Not imported by CareWatch: `models.acquire.install` runs it with the export environment's python,
which has torch and ultralytics. Usage::

    python export_worker.py --pt yolo11n-pose.pt --out DIR --assets DIR --sizes 640 480 320

writes `DIR/model-<size>.onnx` per size and copies Ultralytics' sample photos into `--assets`.
The exports have dynamic axes: they take any input shape, so each frame can be fed at the shape
that fits it (`model.fit_frame`); `<size>` is the size they were traced at and the default.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pt", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--assets", required=True, type=Path)
    parser.add_argument("--sizes", nargs="*", type=int, default=[])
    args = parser.parse_args(argv)

    import ultralytics
    from ultralytics import YOLO

    args.assets.mkdir(parents=True, exist_ok=True)
    for photo in ("bus.jpg", "zidane.jpg"):
        shutil.copyfile(Path(ultralytics.__file__).parent / "assets" / photo, args.assets / photo)

    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            pt = Path(tmp) / "model.pt"
            shutil.copyfile(args.pt, pt)
            exported = YOLO(str(pt)).export(
                format="onnx", imgsz=size, dynamic=True, simplify=True, device="cpu"
            )
            shutil.move(exported, args.out / f"model-{size}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
