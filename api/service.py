"""`carewatch run`: the long-running service; composes config, database, model, cameras, alerts
and the web API.

Start-up order: open and migrate the database; import the config's cameras that have no record
yet (from then on the admin API manages cameras); give every camera without a stored profile its
version 1 from the config and apply the stored ones (the database wins); build one worker per
enabled camera, all sharing one ONNX Runtime session; serve. Changing a camera record through the
API restarts just that camera (`CameraControl`); applying a profile swaps its detectors.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.service import AlertService
from alerts.sinks.registry import build_sink
from alerts.store import AlertStore
from api.app import create_app
from api.behaviour_models import detectors_for
from api.camera_records import camera_configs, import_config_cameras
from api.config import DEMO_SOURCE, AppConfig, ConfigError
from api.db import open_database, session_factory
from api.profiles import seed_profiles, with_profile
from api.retention import RetentionJob
from api.tables.auth import User
from models.acquire import ModelInstallError, model_dir, resolve_onnx
from models.config import parallel_inferences
from models.onnx_pose import OnnxPoseEstimator
from vision.config import CameraConfig
from vision.pipeline import Analyzer, Pipeline, StepResult
from vision.runner import CameraWorker, ResultCallback, Runner
from vision.shared_model import SharedEstimator, Turns
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
        detectors_for(camera.behaviours, camera.zones),
    )


def build_alerts(config: AppConfig, data_dir: Path, engine: Engine | None = None) -> AlertService:
    """The alert service on the configured database (migrated) with its channels."""
    store = AlertStore(engine or open_database(config.alerts.database_url, data_dir))
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


class WorkerFactory:
    """Builds a camera's worker: its pipeline on the pose model all cameras share (in turn,
    `SharedEstimator`; one session per input size, all taking the same turns), wired to the
    alerts."""

    def __init__(
        self,
        config: AppConfig,
        data_dir: Path,
        estimator: OnnxPoseEstimator,
        alerts: AlertService | None = None,
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.estimator = estimator
        self.turns = Turns(parallel_inferences(config.model))
        self._shared = {estimator.input_hw[0]: SharedEstimator(estimator, turns=self.turns)}
        self._lock = threading.Lock()
        self.alerts = alerts

    def shared(self, cam: CameraConfig) -> SharedEstimator:
        """The shared model at the camera's input size (loaded on first use). ValueError when
        that size cannot be had: the installed model lacks it, or `model.path` is a fixed
        export of another size."""
        size = cam.model_input_size or self.estimator.input_hw[0]
        with self._lock:
            if size not in self._shared:
                cfg = self.config.model.model_copy(update={"input_size": size})
                try:
                    estimator = OnnxPoseEstimator(resolve_onnx(cfg, model_dir()), cfg)
                except ModelInstallError as exc:
                    raise ValueError(f"camera {cam.id}: model_input_size {size}: {exc}") from None
                if estimator.input_hw[0] != size:
                    raise ValueError(
                        f"camera {cam.id}: model_input_size {size}, but {estimator.path} is a "
                        f"fixed {estimator.input_hw[0]} export (model.path)"
                    )
                self._shared[size] = SharedEstimator(estimator, turns=self.turns)
            return self._shared[size]

    def make(self, cam: CameraConfig) -> CameraWorker:
        if cam.source == DEMO_SOURCE:
            cam = CameraConfig.model_validate(
                {
                    **cam.model_dump(),
                    "source": str(ensure_demo_video(self.data_dir, self.estimator)),
                }
            )
        pipeline = Pipeline(
            cam.id,
            self.shared(cam),
            analyzer_for(cam, self.config),
            hidden=cam.privacy.masks,
            regions=cam.regions,
        )
        on_result = None
        if self.alerts is not None:
            self.alerts.set_privacy(cam.id, cam.privacy)
            on_result = feed_alerts(self.alerts, cam.id)
        return CameraWorker(cam, pipeline, on_result, inference_wait=self.turns.wait_ms)


def build_runner(
    config: AppConfig,
    data_dir: Path,
    model: Path | None = None,
    alerts: AlertService | None = None,
    cameras: list[CameraConfig] | None = None,
) -> tuple[Runner, str]:
    """One worker per enabled camera (`cameras`, default the config's), all sharing one ONNX
    Runtime session; with `alerts`, every analysed frame goes to the alert service (and it
    learns the cameras' health)."""
    factory = WorkerFactory(config, data_dir, _estimator(config, model), alerts)
    runner = Runner(
        [factory.make(c) for c in (config.cameras if cameras is None else cameras) if c.enabled]
    )
    if alerts is not None:
        alerts.health_source = runner.health
    return runner, factory.estimator.model_version


def _estimator(config: AppConfig, model: Path | None = None) -> OnnxPoseEstimator:
    return OnnxPoseEstimator(model or resolve_onnx(config.model, model_dir()), config.model)


class CameraControl:
    """Applies a changed camera record to the running service: (re)starts or stops that camera
    only, with its stored profile (thresholds and zones)."""

    def __init__(
        self, runner: Runner, factory: WorkerFactory, sessions: sessionmaker[Session]
    ) -> None:
        self.runner = runner
        self.factory = factory
        self.sessions = sessions
        self._lock = threading.Lock()

    def apply(self, cfg: CameraConfig | None, camera_id: str) -> None:
        with self._lock:
            if cfg is None or not cfg.enabled:
                if self.runner.remove(camera_id):
                    log.info("camera %s: stopped (record disabled or deleted)", camera_id)
                return
            with self.sessions() as db:
                document = seed_profiles(db, [cfg], actor="camera").get(camera_id)
            if document is not None:
                cfg = with_profile(cfg, document)
            self.runner.add(self.factory.make(cfg))
            log.info("camera %s: (re)started from its record", camera_id)


def build_app(config: AppConfig, data_dir: Path) -> FastAPI:
    """The whole service: database, records, profiles, cameras, alerts, API, retention."""
    engine = open_database(config.alerts.database_url, data_dir)
    sessions = session_factory(engine)
    alerts = build_alerts(config, data_dir, engine)
    with sessions() as db:
        import_config_cameras(db, config.cameras)
        cameras = camera_configs(db, config.cameras)
        documents = seed_profiles(db, cameras)
        accounts = db.scalar(select(func.count()).select_from(User)) or 0
    cameras = [with_profile(c, documents[c.id]) if c.id in documents else c for c in cameras]
    factory = WorkerFactory(config, data_dir, _estimator(config), alerts)
    runner = Runner([factory.make(c) for c in cameras])
    alerts.health_source = runner.health
    app = create_app(
        runner,
        engine=engine,
        alerts=alerts,
        config=config,
        data_dir=data_dir,
        model_version=factory.estimator.model_version,
    )
    app.state.camera_control = CameraControl(runner, factory, sessions)
    app.state.jobs = [RetentionJob(app.state, config.retention)]
    if not accounts:
        log.warning(
            "no staff accounts yet: create the first admin with "
            "`.venv/bin/carewatch users create-admin --username NAME` (then sign in at /)"
        )
    return app


def serve(config: AppConfig, *, host: str, port: int, data_dir: Path) -> None:
    """Start every camera and the web API; returns after SIGINT/SIGTERM once all is stopped."""
    app = build_app(config, data_dir)
    log.info("CareWatch on http://%s:%d (%d cameras)", host, port, len(app.state.runner.workers))
    # uvicorn installs SIGINT/SIGTERM handlers and then runs the app's lifespan shutdown, which
    # stops the camera threads.
    uvicorn.run(app, host=host, port=port, log_level="info")
