"""`carewatch run`: the long-running service; composes config, model, cameras and the web API."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from alerts.service import AlertService
from alerts.sinks.registry import build_sink
from alerts.store import AlertStore
from api.app import create_app
from api.config import DEMO_SOURCE, AppConfig, ConfigError
from api.db import open_database
from models.acquire import model_dir, resolve_onnx
from models.onnx_pose import OnnxPoseEstimator
from vision.behaviours.registry import build_detectors
from vision.config import CameraConfig
from vision.pipeline import Analyzer, Pipeline, StepResult
from vision.runner import CameraWorker, ResultCallback, Runner
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


def build_alerts(config: AppConfig, data_dir: Path) -> AlertService:
    """The alert service on the configured database (migrated) with its channels."""
    store = AlertStore(open_database(config.alerts.database_url, data_dir))
    sinks = {}
    for sink_cfg in config.alerts.sinks:
        try:
            sinks[sink_cfg.name] = build_sink(sink_cfg)
        except ValueError as exc:
            raise ConfigError(f"alerts.sinks: {exc}") from None
    return AlertService(config.alerts, store, data_dir / "evidence", sinks)


def feed_alerts(alerts: AlertService, camera_id: str) -> ResultCallback:
    """The camera worker's callback handing each analysed frame to the alert service."""

    def on_result(result: StepResult, received_at: float) -> None:
        alerts.observe(
            camera_id,
            result.wall_time,
            None if result.frame is None else result.frame.image,
            result.poses,
            result.events,
            clock_offset=result.clock_offset,
            received_at=received_at,
        )

    return on_result


def build_runner(
    config: AppConfig,
    data_dir: Path,
    model: Path | None = None,
    alerts: AlertService | None = None,
) -> tuple[Runner, str]:
    """One worker per enabled camera, all sharing one ONNX Runtime session; with `alerts`,
    every analysed frame goes to the alert service (and it learns the cameras' health)."""
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
        on_result = None if alerts is None else feed_alerts(alerts, cam.id)
        workers.append(CameraWorker(cam, pipeline, on_result))
    runner = Runner(workers)
    if alerts is not None:
        alerts.health_source = runner.health
    return runner, estimator.model_version


def serve(config: AppConfig, *, host: str, port: int, data_dir: Path) -> None:
    """Start every camera and the web API; returns after SIGINT/SIGTERM once all is stopped."""
    alerts = build_alerts(config, data_dir)
    runner, version = build_runner(config, data_dir, alerts=alerts)
    app = create_app(
        runner,
        engine=alerts.store.engine,
        alerts=alerts,
        config=config,
        data_dir=data_dir,
        model_version=version,
    )
    log.info("CareWatch on http://%s:%d (%d cameras)", host, port, len(runner.workers))
    # uvicorn installs SIGINT/SIGTERM handlers and then runs the app's lifespan shutdown, which
    # stops the camera threads.
    uvicorn.run(app, host=host, port=port, log_level="info")
