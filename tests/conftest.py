"""Shared fixtures: the installed pose model, the real footage folder, a small generated clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from models.acquire import ModelInstallError, model_dir, resolve_onnx
from models.config import PoseModelConfig
from models.onnx_pose import OnnxPoseEstimator
from tests.databases import PostgresServer, postgres_bin

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_clip(name: str) -> Path:
    """A real clip from ../shared/data/clips, or skip: that folder is not part of a user's clone."""
    path = SHARED_DATA / "clips" / name
    if not path.exists():
        pytest.skip(f"real footage {path} is absent (../shared/data is for development only)")
    return path


@pytest.fixture(scope="session")
def model_cache() -> Path:
    directory = model_dir()
    try:
        resolve_onnx(PoseModelConfig(input_size=480), directory)
    except ModelInstallError as exc:
        pytest.skip(f"pose model not installed ({exc}); `make test` installs it")
    return directory


@pytest.fixture(scope="session")
def estimator(model_cache: Path) -> OnnxPoseEstimator:
    cfg = PoseModelConfig(input_size=480)
    return OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)


@pytest.fixture(scope="session")
def people_clip(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """A 3 s 640x360 clip of two real people (from Ultralytics' bus.jpg) sliding across a room."""
    bus = cv2.imread(str(model_cache / "assets" / "bus.jpg"))
    assert bus is not None
    # Two pedestrians of bus.jpg (boxes from Ultralytics' own prediction on the 810x1080 photo).
    left = cv2.resize(bus[396:906, 48:246], (78, 200))
    right = cv2.resize(bus[391:876, 669:810], (58, 200))
    path = tmp_path_factory.mktemp("clips") / "people.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (640, 360))
    for i in range(45):
        frame = np.full((360, 640, 3), (200, 205, 210), np.uint8)
        frame[260:] = (120, 130, 140)
        x1, x2 = 60 + i * 4, 480 - i * 3
        frame[120:320, x1 : x1 + 78] = left
        frame[120:320, x2 : x2 + 58] = right
        writer.write(frame)
    writer.release()
    return path


DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_video(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> tuple[Path, Any]:
    """The generated demo video (seed 7) and its `DemoScript`, made once per test run."""
    from api.demo_video import make_demo_video
    from models.acquire import assets_dir

    cfg = PoseModelConfig(input_size=640)
    try:
        cutter = OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
        assets = assets_dir(model_cache)
    except ModelInstallError as exc:
        pytest.skip(f"pose model at input 640 or its sample photos not installed ({exc})")
    out = tmp_path_factory.mktemp("demo") / "demo.mp4"
    return out, make_demo_video(out, estimator=cutter, assets=assets, seed=DEMO_SEED)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run (skips when not installed)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the service supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'carewatch.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()
