"""Train a classifier from a window set: the torch trainer in the export environment, then the
metadata that says what the model expects and what it was trained on."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.training.dataset import SPECS, WindowSet
from models.acquire import cache_root, ensure_export_env, export_env_dir
from models.behaviour.scorer import metadata_path

log = logging.getLogger(__name__)

TRAINER = Path(__file__).resolve().parents[2] / "models" / "behaviour" / "trainer.py"


class TrainingError(RuntimeError):
    """Training could not run; the message says why."""


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    epochs: int = 200
    hidden: int = 24
    noise: float = 1.0


def fit(data: WindowSet, out: Path, settings: TrainSettings) -> dict[str, Any]:
    """Train on `data` and write the ONNX model to `out`; the trainer's figures."""
    if len(data.windows) == 0:
        raise TrainingError("no training windows: the detector judged nobody in these samples")
    if data.bag_label.min() == data.bag_label.max():
        raise TrainingError("training needs clips with and without the behaviour")
    python = export_env_dir() / "bin" / "python"
    if not python.exists():
        python = ensure_export_env(export_env_dir())
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "windows.npz"
        data.save(str(npz))
        cmd = [str(python), str(TRAINER), "--data", str(npz), "--out", str(out)]
        cmd += ["--seed", str(settings.seed), "--epochs", str(settings.epochs)]
        cmd += ["--hidden", str(settings.hidden), "--noise", str(settings.noise)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "YOLO_CONFIG_DIR": str(cache_root())}
        try:
            done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        except subprocess.CalledProcessError as exc:
            raise TrainingError(f"the trainer failed: {exc.stderr.strip()[-2000:]}") from exc
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1])) if lines else {}


def write_metadata(out: Path, behaviour: str, version: str, **extra: Any) -> Path:
    """The .json beside the model: what it expects (features, steps) and where it came from."""
    features, steps, step_s = SPECS[behaviour]
    meta = {
        "behaviour": behaviour,
        "version": version,
        "features": list(features),
        "steps": steps,
        "step_s": step_s,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    path = metadata_path(out)
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path
