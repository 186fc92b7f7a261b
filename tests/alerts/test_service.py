"""The alert service as a whole: events from frames become stored alerts with a snapshot and a
clip, staff act on them, unacknowledged ones escalate, camera trouble raises and clears its own
alert, and a webhook receiver that was down gets everything after it comes back and after a
service restart. Times come from the frames and an explicit clock; nothing sleeps for time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine

from alerts.config import AlertsConfig
from alerts.model import Change
from alerts.service import AlertService, UnknownAlertError
from alerts.sinks.registry import build_sink
from alerts.store import AlertStore, create_schema, make_engine
from tests.alerts.builders import T0, event, signed_bodies
from tests.brokers import HttpReceiver
from tests.builders import standing_poses
from tests.servers import wait_until
from vision.types import BehaviourEvent, Poses

FPS = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def frame_image(i: int, rng: np.random.Generator) -> np.ndarray:
    """A textured 320x240 frame whose content changes every frame (a live scene)."""
    image = rng.integers(40, 200, (240, 320, 3), dtype=np.uint8)
    cv2.putText(image, f"{i:05d}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return image


def make_service(
    engine: Engine, tmp_path: Path, clock: Clock, cfg: dict[str, Any] | None = None, **kw: Any
) -> AlertService:
    config = AlertsConfig.model_validate(cfg or {})
    return AlertService(config, AlertStore(engine), tmp_path / "evidence", clock=clock, **kw)


def feed(
    service: AlertService,
    clock: Clock,
    start: int,
    count: int,
    events_at: dict[int, list[BehaviourEvent]] | None = None,
    *,
    camera: str = "cam1",
    poses: Poses | None = None,
) -> list[Change]:
    """Frames `start..start+count-1` at 5 fps from T0, with events at chosen frames."""
    rng = np.random.default_rng(start)
    people = poses if poses is not None else standing_poses([(100, 60, 160, 220)])
    changes = []
    for i in range(start, start + count):
        clock.now = T0 + i / FPS
        events = (events_at or {}).get(i, [])
        changes += service.observe(camera, clock.now, frame_image(i, rng), people, events)
    return changes


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def test_event_becomes_an_alert_with_snapshot_and_playable_clip(
    engine: Engine, tmp_path: Path
) -> None:
    clock = Clock()
    service = make_service(
        engine, tmp_path, clock, {"evidence": {"clip_before_s": 2, "clip_after_s": 2}}
    )
    service.clips.start()
    try:
        fall = event("fall", 20 / FPS)  # detected at frame 20 (T0 + 4 s)
        (created,) = feed(service, clock, 0, 21, {20: [fall]})
        assert created.action == "created" and created.seq == 1
        alert = created.alert
        assert (alert.kind, alert.severity, alert.state, alert.version) == (
            "fall",
            "critical",
            "new",
            1,
        )
        assert alert.snapshot is not None and alert.clip is None
        snapshot = cv2.imread(str(tmp_path / "evidence" / alert.snapshot))
        assert snapshot is not None and snapshot.shape == (240, 320, 3)
        assert service.feed.last_seq == 1

        feed(service, clock, 21, 12)  # the 2 s after detection arrive
        assert service.clips.wait_idle(30)
        stored = service.get(alert.id)
        assert stored.clip is not None and stored.version == 2
        assert [c.action for c in service.store.history(alert.id)] == ["created", "evidence"]
        with av.open(str(tmp_path / "evidence" / stored.clip)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            frames = sum(1 for _ in container.decode(stream))
        assert frames == 21  # 2 s before + the detection frame + 2 s after, at 5 fps
    finally:
        service.clips.stop()


def test_footage_without_an_alert_is_never_written(sqlite: Engine, tmp_path: Path) -> None:
    """Minimisation: a minute of analysed frames with people but no event leaves nothing on
    disk (the ring buffer is memory only); the first alert writes its own files only."""
    clock = Clock()
    service = make_service(sqlite, tmp_path, clock, {"evidence": {"clip_after_s": 1}})
    service.clips.start()
    try:
        assert feed(service, clock, 0, 300) == []
        assert service.clips.wait_idle(30)
        root = tmp_path / "evidence"
        assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
        (created,) = feed(service, clock, 300, 1, {0: []} | {300: [event("fall", 60.0)]})
        feed(service, clock, 301, 10)
        assert service.clips.wait_idle(30)
        alert = service.get(created.alert.id)
        written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        stem = str(alert.snapshot).removesuffix(".jpg")
        assert written == sorted([f"{stem}.jpg", f"{stem}.jpg.json", f"{stem}.mp4", f"{stem}.json"])
    finally:
        service.clips.stop()


def test_repeated_events_update_one_alert_and_staff_close_it(
    sqlite: Engine, tmp_path: Path
) -> None:
    clock = Clock()
    service = make_service(sqlite, tmp_path, clock)
    changes = feed(service, clock, 0, 30, {5: [event("fall", 1.0)], 25: [event("fall", 5.0)]})
    assert [c.action for c in changes] == ["created", "updated"]
    alert_id = changes[0].alert.id
    assert service.get(alert_id).occurrences == 2
    service.acknowledge(alert_id, actor="guard.li", note="going")
    done = service.resolve(
        alert_id, actor="guard.li", disposition="real_incident", note="helped up"
    )
    assert (done.alert.state, done.alert.disposition, done.alert.resolved_by) == (
        "resolved",
        "real_incident",
        "guard.li",
    )
    with pytest.raises(ValueError, match="already resolved"):
        service.resolve(alert_id, actor="x", disposition="false_alarm")
    with pytest.raises(UnknownAlertError):
        service.acknowledge("nope", actor="x")


def test_unacknowledged_alert_escalates_to_the_escalation_channel(
    sqlite: Engine, tmp_path: Path
) -> None:
    clock = Clock()
    cfg = {
        "escalation": {"after_s": 60, "repeat_s": 60, "max_level": 1},
        "sinks": [
            {"type": "webhook", "name": "desk", "url": "http://127.0.0.1:9/desk"},
            {
                "type": "webhook",
                "name": "manager",
                "url": "http://127.0.0.1:9/m",
                "escalated_only": True,
            },
        ],
    }
    config = AlertsConfig.model_validate(cfg)
    sinks = {s.name: build_sink(s) for s in config.sinks}
    service = make_service(sqlite, tmp_path, clock, cfg, sinks=sinks)
    (created,) = feed(service, clock, 0, 3, {2: [event("pacing", 0.4)]})
    assert service.tick(T0 + 59) == []
    (escalated,) = service.tick(T0 + 61)
    assert escalated.action == "escalated"
    assert (escalated.alert.state, escalated.alert.severity) == ("escalated", "critical")
    assert service.tick(T0 + 1000) == []  # max level reached
    by_sink = {(d.sink, d.change.action) for d in service.store.deliveries(created.alert.id)}
    assert by_sink == {("desk", "created"), ("desk", "escalated"), ("manager", "escalated")}


def test_quiet_hours_store_but_do_not_push(sqlite: Engine, tmp_path: Path) -> None:
    clock = Clock()
    cfg = {
        "quiet_hours": [{"start": "00:00", "end": "23:59", "min_severity": "critical"}],
        "sinks": [{"type": "webhook", "name": "desk", "url": "http://127.0.0.1:9/desk"}],
    }
    config = AlertsConfig.model_validate(cfg)
    service = make_service(
        sqlite, tmp_path, clock, cfg, sinks={"desk": build_sink(config.sinks[0])}
    )
    changes = feed(
        service, clock, 0, 3, {1: [event("pacing", 0.2)], 2: [event("fall", 0.4, tracks=(9,))]}
    )
    muted, loud = (c.alert for c in changes)
    assert muted.muted and not loud.muted
    assert service.store.deliveries(muted.id) == []
    assert [d.sink for d in service.store.deliveries(loud.id)] == ["desk"]


def test_camera_covered_raises_and_clears_its_own_alert(sqlite: Engine, tmp_path: Path) -> None:
    clock = Clock()
    service = make_service(sqlite, tmp_path, clock, {"camera_health": {"covered_s": 3}})
    feed(service, clock, 0, 5)
    black = np.zeros((240, 320, 3), np.uint8)
    raised = []
    for i in range(5, 30):
        clock.now = T0 + i / FPS
        raised += service.observe("cam1", clock.now, black, Poses.empty())
    assert [(c.action, c.alert.kind) for c in raised] == [("created", "camera_covered")]
    cleared = feed(service, clock, 30, 2)
    assert [(c.action, c.alert.disposition, c.actor) for c in cleared] == [
        ("resolved", "cleared", "system")
    ]


def test_camera_offline_from_the_readers_health(sqlite: Engine, tmp_path: Path) -> None:
    clock = Clock()
    health = [{"camera_id": "cam1", "state": "reconnecting", "last_error": "connection refused"}]
    service = make_service(
        sqlite, tmp_path, clock, {"camera_health": {"offline_s": 10}}, health_source=lambda: health
    )
    feed(service, clock, 0, 2)
    assert service.tick(T0 + 5) == []
    (offline,) = service.tick(T0 + 12)
    assert offline.alert.kind == "camera_offline"
    assert offline.alert.evidence["last_error"] == "connection refused"
    clock.now = T0 + 20
    back = service.observe("cam1", T0 + 20, frame_image(1, np.random.default_rng(1)), Poses.empty())
    assert [(c.action, c.alert.kind) for c in back] == [("resolved", "camera_offline")]


@pytest.mark.slow
def test_webhook_down_then_restart_loses_nothing(tmp_path: Path) -> None:
    """Alerts made while the receiver is down reach it after it is back, across a service
    restart; every change arrives signed, each incident under one id."""
    secret = b"s3cret"
    receiver = HttpReceiver()  # not started: the receiver is down
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    create_schema(engine)
    cfg = {
        "delivery": {"retry_initial_s": 0.2, "retry_max_s": 0.5},
        "sinks": [
            {
                "type": "webhook",
                "name": "hook",
                "url": receiver.url + "/hook",
                "secret_env": "HOOK_KEY",
                "timeout_s": 1,
            }
        ],
    }
    config = AlertsConfig.model_validate(cfg)
    env = {"HOOK_KEY": secret.decode()}

    def start() -> AlertService:
        service = AlertService(
            config, AlertStore(engine), tmp_path / "ev", {"hook": build_sink(config.sinks[0], env)}
        )
        service.dispatcher.start()
        return service

    first = start()
    ids = []
    for n in range(3):
        change = first.handle(event("fall", n * 300.0, tracks=(n,)))
        assert change is not None
        ids.append(change.alert.id)
    first.acknowledge(ids[0], actor="guard")
    # it tries (the oldest first; later changes wait behind it, in order)
    assert wait_until(lambda: first.store.pending("hook")[0].attempts >= 2, 10)
    assert first.store.delivery_counts() == {"hook": {"pending": 4}}
    first.dispatcher.stop()  # the service stops while the receiver is still down
    engine.dispose()

    receiver.start()
    try:
        second = start()  # a restart on the same database
        assert wait_until(lambda: len(receiver.requests) >= 4, 20)
        second.dispatcher.stop()
    finally:
        receiver.stop()
    bodies = signed_bodies(receiver, secret)
    got = [(b["alert"]["id"], b["alert"]["version"], b["action"]) for b, _ in bodies]
    assert sorted(got) == sorted(
        [
            (ids[0], 1, "created"),
            (ids[1], 1, "created"),
            (ids[2], 1, "created"),
            (ids[0], 2, "acknowledged"),
        ]
    )
    assert all(valid for _, valid in bodies)
    assert second.store.delivery_counts() == {"hook": {"delivered": 4}}
    assert second.store.count() == 3


def test_stored_evidence_is_masked_and_faces_blurred(sqlite: Engine, tmp_path: Path) -> None:
    """A mask over the right half: black in the snapshot and in every clip frame; the person's
    face in the snapshot differs from the camera image."""
    from vision.privacy import PrivacyConfig, PrivacyMask, face_boxes

    clock = Clock()
    service = make_service(
        sqlite, tmp_path, clock, {"evidence": {"clip_before_s": 1, "clip_after_s": 1}}
    )
    mask = PrivacyMask(name="door", polygon=((0.5, 0), (1, 0), (1, 1), (0.5, 1)))
    service.set_privacy("cam1", PrivacyConfig(masks=(mask,)))
    person = standing_poses([(40, 30, 110, 230)])
    service.clips.start()
    try:
        (created,) = feed(service, clock, 0, 11, {10: [event("fall", 2.0)]}, poses=person)
        feed(service, clock, 11, 8, poses=person)
        assert service.clips.wait_idle(30)
        alert = service.get(created.alert.id)
        snapshot = cv2.imread(str(tmp_path / "evidence" / str(alert.snapshot)))
        assert snapshot is not None
        assert snapshot[:, 165:].max() <= 12  # black (JPEG leaves a few grey levels at most)
        # What snapshots and clips are made from (the ring buffer) against the camera's frame:
        # the face differs, the mask is black, everything else is the camera's own pixels.
        rng = np.random.default_rng(11)  # `feed` made frames 11.. with this seed
        original = frame_image(11, rng)
        buffered = service.ring("cam1").window(T0 + 11 / FPS, T0 + 11 / FPS)[0].image
        changed = (buffered != original).any(axis=2)
        (x1, y1, x2, y2) = face_boxes(person)[0]
        face = np.zeros_like(changed)
        face[max(0, y1) : y2, x1:x2] = True
        masked = np.zeros_like(changed)
        masked[:, 159:] = True
        assert changed[face].mean() > 0.5
        assert not changed[~face & ~masked].any()
        with av.open(str(tmp_path / "evidence" / str(alert.clip))) as container:
            for frame in container.decode(video=0):
                assert frame.to_ndarray(format="bgr24")[:, 165:].max() <= 12
    finally:
        service.clips.stop()


def test_skeleton_only_evidence_has_no_camera_pixels_and_keeps_the_real_one_aside(
    sqlite: Engine, tmp_path: Path
) -> None:
    from alerts.evidence import real_path
    from vision.privacy import NEUTRAL_BGR, PrivacyConfig

    clock = Clock()
    service = make_service(
        sqlite, tmp_path, clock, {"evidence": {"clip_before_s": 1, "clip_after_s": 1}}
    )
    service.set_privacy("cam1", PrivacyConfig(skeleton_only=True))
    service.clips.start()
    try:
        (created,) = feed(service, clock, 0, 11, {10: [event("fall", 2.0)]})
        feed(service, clock, 11, 8)
        assert service.clips.wait_idle(30)
    finally:
        service.clips.stop()
    alert = service.get(created.alert.id)
    root = tmp_path / "evidence"
    neutral = np.array(NEUTRAL_BGR)

    def mostly_neutral(image: np.ndarray) -> bool:
        return bool((np.abs(image.astype(int) - neutral).max(axis=2) <= 12).mean() > 0.7)

    snapshot = cv2.imread(str(root / str(alert.snapshot)))
    assert snapshot is not None and mostly_neutral(snapshot)
    with av.open(str(root / str(alert.clip))) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert frames and all(mostly_neutral(f) for f in frames)
    real_snapshot = cv2.imread(str(real_path(root / str(alert.snapshot))))
    assert real_snapshot is not None and not mostly_neutral(real_snapshot)
    assert real_path(root / str(alert.clip)).is_file()
