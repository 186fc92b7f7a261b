"""Static INT8 quantization of a YOLO-pose ONNX export, to measure what it gains and loses.

Runs in the export environment (it has `onnx`; ONNX Runtime's quantization tools need it)::

    ENV=$(.venv/bin/python -c "from models.acquire import export_env_dir; print(export_env_dir())")
    CLIPS=$(LC_ALL=C ls ../shared/data/clips/*.mp4 | awk 'NR % 6 == 1')  # every 6th clip
    $ENV/bin/python scripts/quantize_int8.py --model MODEL-480.onnx --out int8-480.onnx \\
        --size 480 --videos data/demo.mp4 $CLIPS

Calibration: `--frames` frames spread over each video, in the order given, letterboxed exactly as
the service does (`models.processing`), MinMax ranges. Weights per channel INT8, activations UINT8,
QDQ format. The YOLO head's decoding (everything of the last module after its convolutions, and
those final convolutions) stays in float: quantizing it with one scale for boxes in pixels and
scores in 0-1 loses every detection. Results and the decision are in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.processing import letterbox, to_input_tensor


def calibration(videos: list[Path], size: int, frames: int) -> np.ndarray:
    tensors = []
    for video in videos:
        cap = cv2.VideoCapture(str(video))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or frames
        for index in np.linspace(0, count - 1, frames).astype(int):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, image = cap.read()
            if ok:
                padded, _ = letterbox(image, (size, size))
                tensors.append(to_input_tensor(padded))
        cap.release()
    if not tensors:
        raise SystemExit("no calibration frame could be read")
    return np.concatenate(tensors)


def head_nodes(model_path: Path) -> list[str]:
    """The nodes of the last module kept in float: its decoding and its final convolutions."""
    import onnx

    names = [n.name for n in onnx.load(str(model_path)).graph.node]
    last = max(int(m.group(1)) for n in names if (m := re.match(r"/model\.(\d+)/", n)))
    head = [n for n in names if n.startswith(f"/model.{last}/")]
    branch = re.compile(r"/cv[234]\.\d+/")
    final_conv = re.compile(r"/cv[24]\.\d+\.2/Conv$|/cv3\.\d+\.2/Conv$")
    return [n for n in head if not branch.search(n) or final_conv.search(n)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--videos", required=True, nargs="+", type=Path)
    parser.add_argument("--frames", type=int, default=3, help="frames per video")
    args = parser.parse_args(argv)

    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    data = calibration(args.videos, args.size, args.frames)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.i = 0

        def get_next(self) -> dict[str, np.ndarray] | None:
            if self.i >= len(data):
                return None
            self.i += 1
            return {"images": data[self.i - 1 : self.i]}

    prepared = args.out.with_suffix(".prepared.onnx")
    quant_pre_process(str(args.model), str(prepared))
    try:
        quantize_static(
            str(prepared),
            str(args.out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=head_nodes(prepared),
        )
    finally:
        prepared.unlink(missing_ok=True)
    print(f"{args.out}: {len(data)} calibration frames")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
