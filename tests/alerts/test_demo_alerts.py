"""End to end on the demo video: the real model, tracker and detectors feed the alert service,
which stores one alert per scripted incident (fall, fight, pacing), each with a snapshot and a
browser-playable H.264 clip around it, and delivers them signed to a real webhook receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import pytest

from alerts.config import AlertsConfig
from alerts.service import AlertService
from alerts.sinks.registry import build_sink
from alerts.store import AlertStore, create_schema, make_engine
from models.onnx_pose import OnnxPoseEstimator
from tests.alerts.builders import signed_bodies
from tests.brokers import HttpReceiver
from tests.servers import wait_until
from vision.behaviours.registry import build_detectors
from vision.config import CameraConfig, TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.sources import open_source
from vision.tracking import PoseTracker
from vision.types import Frame

WALL_START = 1_790_000_000.0


@pytest.mark.slow
def test_demo_video_raises_alerts_with_snapshot_and_clip(
    demo_video: tuple[Path, Any], estimator: OnnxPoseEstimator, tmp_path: Path
) -> None:
    video, _script = demo_video
    receiver = HttpReceiver()
    receiver.start()
    config = AlertsConfig.model_validate(
        {
            "sinks": [
                {
                    "type": "webhook",
                    "name": "desk",
                    "url": receiver.url + "/hook",
                    "secret_env": "K",
                }
            ]
        }
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    create_schema(engine)
    clock = [WALL_START]
    service = AlertService(
        config,
        AlertStore(engine),
        tmp_path / "evidence",
        {"desk": build_sink(config.sinks[0], {"K": "key"})},
        clock=lambda: clock[0],
    )
    service.start()
    try:
        cam = CameraConfig(id="demo", source=str(video), realtime=False)
        analyzer = Analyzer(
            "demo",
            PoseTracker("demo", TrackerConfig()),
            build_detectors(cam.behaviours, cam.zones),
            wall_start=WALL_START,
        )
        pipeline = Pipeline("demo", estimator, analyzer)
        source = open_source(cam)
        index = 0
        while (item := source.read()) is not None:
            image, t = item
            if index % 3 == 0:  # 15 fps -> the default 5 analysed fps
                result = pipeline.step(Frame("demo", index, t, image))
                clock[0] = result.wall_time
                service.observe(
                    "demo",
                    result.wall_time,
                    image,
                    result.poses,
                    result.events,
                    clock_offset=result.clock_offset,
                    received_at=result.wall_time,
                )
            index += 1
        source.close()
        assert service.clips.wait_idle(60)
        alerts = sorted(service.store.find(), key=lambda a: a.detected_at)
        assert [a.kind for a in alerts] == ["fall", "fight", "pacing"]
        for alert in alerts:
            assert alert.snapshot and alert.clip, alert.kind
            snapshot = cv2.imread(str(tmp_path / "evidence" / alert.snapshot))
            assert snapshot is not None and snapshot.shape == (540, 960, 3)
            with av.open(str(tmp_path / "evidence" / alert.clip)) as container:
                stream = container.streams.video[0]
                assert stream.codec_context.name == "h264"
                assert stream.codec_context.pix_fmt == "yuv420p"
                duration = float(container.duration) / av.time_base
            assert 9.5 <= duration <= 10.6, (alert.kind, duration)  # 5 s before + 5 s after
        assert wait_until(lambda: len(receiver.requests) >= 6, 20)  # created + evidence each
    finally:
        service.stop()
        receiver.stop()
        engine.dispose()
    bodies = signed_bodies(receiver, b"key")
    sent = {(b["alert"]["kind"], b["action"]) for b, _ in bodies}
    assert {("fall", "created"), ("fight", "created"), ("pacing", "created")} <= sent
    assert all(valid for _, valid in bodies)
