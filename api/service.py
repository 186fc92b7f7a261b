"""`carewatch run`: the long-running service; composes config, model, cameras and the web API."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from api.app import create_app
from api.config import DEMO_SOURCE, AppConfig
from models.acquire import model_dir, resolve_onnx
from models.onnx_pose import OnnxPoseEstimator
from vision.behaviours.registry import build_detectors
from vision.config import CameraConfig
from vision.pipeline import Analyzer, Pipeline
from vision.runner import CameraWorker, Runner
from vision.tracking import PoseTracker

log = logging.getLogger(__name__)


def ensure_demo_video(data_dir: Path, estimator: OnnxPoseEstimator) -> Path:
    """The demo camera's video, generated once into the data folder (deterministic)."""
    from api.demo_video import make_demo_video
    from models.acquire import assets_dir

    path = data_dir / "demo.mp4"
    if not path.exists():
        log.info("generating the demo video %s (once)", path)
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("demo.part.mp4")
        make_demo_video(tmp, estimator=estimator, assets=assets_dir(model_dir()))
        tmp.replace(path)
        tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    return path


def analyzer_for(camera: CameraConfig, config: AppConfig) -> Analyzer:
    """Tracking and the camera's behaviour detectors (with its zones)."""
    return Analyzer(
        camera.id,
        PoseTracker(camera.id, config.tracker),
        build_detectors(camera.behaviours, camera.zones),
    )


def build_runner(
    config: AppConfig, data_dir: Path, model: Path | None = None
) -> tuple[Runner, str]:
    """One worker per enabled camera, all sharing one ONNX Runtime session."""
    estimator = OnnxPoseEstimator(model or resolve_onnx(config.model, model_dir()), config.model)
    workers = []
    for cam in config.cameras:
        if not cam.enabled:
            continue
        if cam.source == DEMO_SOURCE:
            cam = CameraConfig.model_validate(
                {**cam.model_dump(), "source": str(ensure_demo_video(data_dir, estimator))}
            )
        pipeline = Pipeline(cam.id, estimator, analyzer_for(cam, config))
        workers.append(CameraWorker(cam, pipeline))
    return Runner(workers), estimator.model_version


def serve(config: AppConfig, *, host: str, port: int, data_dir: Path) -> None:
    """Start every camera and the web API; returns after SIGINT/SIGTERM once all is stopped."""
    runner, version = build_runner(config, data_dir)
    app = create_app(runner, model_version=version)
    log.info("CareWatch on http://%s:%d (%d cameras)", host, port, len(runner.workers))
    # uvicorn installs SIGINT/SIGTERM handlers and then runs the app's lifespan shutdown, which
    # stops the camera threads.
    uvicorn.run(app, host=host, port=port, log_level="info")
