"""The alert service: events in, stored alerts out, delivered to every channel.

    service = AlertService(cfg, store, evidence_root, sinks)
    service.start()
    # per analysed frame, from the camera's thread:
    service.observe(camera_id, wall_time, image, poses, events, clock_offset=..., received_at=...)
    # from the API:
    service.acknowledge(alert_id, actor="guard1")
    service.resolve(alert_id, actor="guard1", disposition="real_incident", note="helped up")

For each event the policy (`alerts.policy`) decides new / update / re-open / ignore; the
snapshot is written, then the alert, its change and its pending deliveries are committed in one
transaction, and only then the channels and the console feed are woken. The clip follows when
the frames after detection have arrived (a change `evidence`). A ticking thread escalates
unacknowledged alerts and raises and clears camera-health alerts.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

from alerts import policy
from alerts.camera_health import CameraHealthMonitor, HealthSignal
from alerts.config import AlertsConfig, SinkConfig
from alerts.dispatcher import Dispatcher
from alerts.evidence import ClipRecorder, FrameRing, real_path, skeleton_frame, write_snapshot
from alerts.feed import ChangeFeed
from alerts.model import SYSTEM_ACTOR, Action, Alert, Change, severity_rank
from alerts.sinks.base import Sink
from alerts.store import AlertStore, ConflictError
from vision.privacy import PrivacyConfig, for_display
from vision.types import BehaviourEvent, Image, Poses

log = logging.getLogger(__name__)

HealthSource = Callable[[], Sequence[Mapping[str, Any]]]
"""Returns each camera's health (`camera_id`, `state`, `last_error`, ...), e.g. `Runner.health`."""


class StatusPublisher(Protocol):
    """A channel that also carries camera status (MQTT's retained status topic)."""

    def publish_status(self, camera_id: str, status: dict[str, Any]) -> None: ...


class UnknownAlertError(KeyError):
    """No alert with that id."""


class AlertService:
    """Owns the alert policy, store, evidence and delivery for all cameras; thread-safe."""

    def __init__(
        self,
        cfg: AlertsConfig,
        store: AlertStore,
        evidence_root: Path,
        sinks: Mapping[str, Sink] | None = None,
        *,
        sink_configs: Sequence[SinkConfig] | None = None,
        health_source: HealthSource | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = 1.0,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.evidence_root = evidence_root
        self.sinks = dict(sinks or {})
        configs = {c.name: c for c in (sink_configs if sink_configs is not None else cfg.sinks)}
        missing = sorted(set(self.sinks) - set(configs))
        if missing:
            raise ValueError(f"channels without a configuration: {', '.join(missing)}")
        self.sink_configs = {name: configs[name] for name in self.sinks}
        self.health_source = health_source
        self.clock = clock
        self.tick_s = tick_s
        self.feed = ChangeFeed(store.last_seq())
        self.dispatcher = Dispatcher(store, self.sinks, cfg.delivery, evidence_root, clock)
        self.clips = ClipRecorder(cfg.evidence, evidence_root, self._clip_done, self._clip_failed)
        self.health = CameraHealthMonitor(cfg.camera_health, clock())
        self._rings: dict[str, FrameRing] = {}
        self._privacy: dict[str, PrivacyConfig] = {}
        self._lock = threading.RLock()
        self._status_sent: dict[str, tuple[Any, ...]] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        ev = cfg.evidence
        self._ring_s = ev.clip_before_s + ev.clip_after_s + 2.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.clips.start()
        self.dispatcher.start()
        self._ticker = threading.Thread(target=self._tick_loop, name="alerts-tick", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5.0)
        self.clips.stop(10.0)
        self.dispatcher.stop()

    # ------------------------------------------------------------------ input

    def set_privacy(self, camera_id: str, cfg: PrivacyConfig) -> None:
        """Masks and face blurring are applied before frames are buffered, so no stored
        snapshot or clip ever holds what they hide. A skeleton-only camera's buffer keeps the
        (masked, blurred) real picture: its snapshots and clips are written as skeletons, with
        the real ones beside them for admins (`evidence.real_path`)."""
        with self._lock:
            self._privacy[camera_id] = cfg
            if cfg.skeleton_only:
                self.clips.skeleton_cameras.add(camera_id)
            else:
                self.clips.skeleton_cameras.discard(camera_id)

    def shows_skeleton(self, camera_id: str, role: str) -> bool:
        """Whether someone of `role` gets the skeleton pictures of this camera's alerts rather
        than the real ones kept beside them. A camera this service does not know (no longer
        configured) shows skeletons to everyone: its real pictures stay for admins with a
        reason."""
        with self._lock:
            privacy = self._privacy.get(camera_id)
        return True if privacy is None else privacy.shows_skeleton(role)

    def ring(self, camera_id: str) -> FrameRing:
        with self._lock:
            ring = self._rings.get(camera_id)
            if ring is None:
                ring = FrameRing(self._ring_s, self.cfg.evidence.max_width_px)
                self._rings[camera_id] = ring
            return ring

    def observe(
        self,
        camera_id: str,
        wall_time: float,
        image: Image | None,
        poses: Poses,
        events: Sequence[BehaviourEvent] = (),
        *,
        clock_offset: float = 0.0,
        received_at: float | None = None,
    ) -> list[Change]:
        """One analysed frame of a camera: buffer it, check its health, turn its events into
        alerts. `clock_offset` converts the camera's clock to the wall clock (0 for live
        cameras, whose timestamps are epoch seconds)."""
        changes: list[Change] = []
        ring = self.ring(camera_id)
        if image is not None:
            privacy = self._privacy.get(camera_id)
            shown = image if privacy is None else for_display(image, poses, privacy, evidence=True)
            ring.push(wall_time, shown, poses)
            for signal in self.health.observe_frame(camera_id, wall_time, image):
                changes.extend(self._health_signal(signal))
        for event in events:
            change = self.handle(_on_wall_clock(event, clock_offset), received_at=received_at)
            if change is not None:
                changes.append(change)
        self.clips.observe(camera_id, wall_time, ring)
        return changes

    def handle(self, event: BehaviourEvent, *, received_at: float | None = None) -> Change | None:
        """One event (times on the wall clock) -> the stored change, or None when ignored."""
        with self._lock:
            now = self.clock()
            horizon = max([self.cfg.reopen_s, *(k.cooldown_s for k in self.cfg.kinds.values())])
            recent = [
                a for a in self.store.recent(since=now - horizon) if a.camera_id == event.camera_id
            ]
            decision = policy.decide(event, recent, self.cfg, now=now, received_at=received_at)
            if decision.alert is None:
                log.info(
                    "camera %s: %s not alerted: %s", event.camera_id, event.kind, decision.reason
                )
                return None
            alert = decision.alert
            action = cast(Action, decision.action)
            if decision.action in ("created", "reopened"):
                alert = self._with_snapshot(alert)
            change = self._commit(alert, action, SYSTEM_ACTOR, now)
            if decision.action in ("created", "reopened"):
                self.clips.request(
                    alert.id, alert.camera_id, alert.detected_at, self._evidence_path(alert, "mp4")
                )
            log.info(
                "camera %s: alert %s %s (%s, %s)",
                alert.camera_id,
                alert.id,
                decision.action,
                alert.kind,
                alert.severity,
            )
            return change

    # ------------------------------------------------------------------ staff actions

    def get(self, alert_id: str) -> Alert:
        alert = self.store.get(alert_id)
        if alert is None:
            raise UnknownAlertError(alert_id)
        return alert

    def acknowledge(self, alert_id: str, *, actor: str, note: str | None = None) -> Change:
        with self._lock:
            now = self.clock()
            alert = policy.acknowledge(self.get(alert_id), actor, now, note)
            return self._commit(alert, "acknowledged", actor, now)

    def resolve(
        self, alert_id: str, *, actor: str, disposition: str, note: str | None = None
    ) -> Change:
        with self._lock:
            now = self.clock()
            alert = policy.resolve(self.get(alert_id), actor, now, disposition, note)
            return self._commit(alert, "resolved", actor, now)

    # ------------------------------------------------------------------ periodic work

    def tick(self, now: float | None = None) -> list[Change]:
        """Escalate overdue alerts, check cameras for being offline, finish stale clips."""
        now = self.clock() if now is None else now
        changes: list[Change] = []
        with self._lock:
            due = self.store.find(state="new", limit=1000) + self.store.find(
                state="escalated", limit=1000
            )
            for alert in policy.escalations(due, self.cfg, now=now):
                changes.append(self._commit(alert, "escalated", SYSTEM_ACTOR, now))
                log.warning(
                    "camera %s: alert %s escalated to level %d (%s)",
                    alert.camera_id,
                    alert.id,
                    alert.escalation_level,
                    alert.severity,
                )
            cameras = list(self.health_source()) if self.health_source else []
            for cam in cameras:
                if cam.get("state") in ("disabled", "ended"):  # not a failure: off, or a file done
                    continue
                for signal in self.health.check(
                    str(cam["camera_id"]), now, str(cam.get("state")), cam.get("last_error")
                ):
                    changes.extend(self._health_signal(signal))
        self.clips.tick(now, dict(self._rings))
        self._publish_status(cameras)
        return changes

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:
                log.exception("alert service tick failed")

    # ------------------------------------------------------------------ internals

    def _targets(self, alert: Alert, action: Action) -> list[str]:
        out = []
        for name, sc in self.sink_configs.items():
            if action not in sc.actions:
                continue
            if severity_rank(alert.severity) < severity_rank(sc.min_severity):
                continue
            if sc.escalated_only and alert.escalation_level == 0:
                continue
            if alert.muted and sc.respect_quiet_hours:
                continue
            out.append(name)
        return out

    def _commit(self, alert: Alert, action: Action, actor: str | None, now: float) -> Change:
        change = self.store.record(
            alert, action, actor=actor, at=now, sinks=self._targets(alert, action)
        )
        self.feed.publish(change.seq)
        self.dispatcher.wake()
        return change

    def _evidence_path(self, alert: Alert, suffix: str) -> str:
        day = datetime.fromtimestamp(alert.detected_at).strftime("%Y-%m-%d")
        return f"{alert.camera_id}/{day}/{alert.id}-v{alert.version}.{suffix}"

    def _with_snapshot(self, alert: Alert) -> Alert:
        frame = self.ring(alert.camera_id).latest()
        if frame is None:
            return alert
        relpath = self._evidence_path(alert, "jpg")
        quality = self.cfg.evidence.snapshot_quality
        try:
            if alert.camera_id in self.clips.skeleton_cameras:
                real = real_path(self.evidence_root / relpath)
                write_snapshot(real, frame, quality=quality, highlight=alert.track_ids)
                frame = skeleton_frame(frame)
            write_snapshot(
                self.evidence_root / relpath, frame, quality=quality, highlight=alert.track_ids
            )
        except Exception:  # the alert matters more than its picture
            log.exception("camera %s: snapshot for alert %s failed", alert.camera_id, alert.id)
            return alert
        return dataclasses.replace(alert, snapshot=relpath)

    def _clip_done(self, alert_id: str, relpath: str) -> None:
        self._attach(alert_id, clip=relpath)

    def _clip_failed(self, alert_id: str, message: str) -> None:
        log.warning("alert %s: no clip: %s", alert_id, message)

    def _attach(self, alert_id: str, **evidence: str) -> None:
        for _ in range(3):
            with self._lock:
                current = self.store.get(alert_id)
                if current is None:
                    return
                now = self.clock()
                try:
                    self._commit(current.evolve(updated_at=now, **evidence), "evidence", None, now)
                    return
                except ConflictError:
                    continue

    def _health_signal(self, signal: HealthSignal) -> list[Change]:
        """A camera-health condition raised (-> alert) or cleared (-> resolve its open alert)."""
        if signal.active:
            event = BehaviourEvent(
                kind=signal.kind,
                camera_id=signal.camera_id,
                track_ids=(),
                started_at=signal.since,
                detected_at=signal.at,
                confidence=1.0,
                evidence=dict(signal.evidence),
            )
            change = self.handle(event)
            return [] if change is None else [change]
        out = []
        with self._lock:
            for alert in self.store.find(camera_id=signal.camera_id, kind=signal.kind, limit=20):
                if alert.open:
                    resolved = policy.resolve(
                        alert, SYSTEM_ACTOR, signal.at, "cleared", "camera recovered"
                    )
                    out.append(self._commit(resolved, "resolved", SYSTEM_ACTOR, signal.at))
        return out

    def _publish_status(self, cameras: Sequence[Mapping[str, Any]]) -> None:
        publishers = [s for s in self.sinks.values() if hasattr(s, "publish_status")]
        if not publishers:
            return
        for cam in cameras:
            cid = str(cam["camera_id"])
            problems = sorted(self.health.active(cid))
            status = {
                "camera_id": cid,
                "state": cam.get("state"),
                "online": cam.get("state") == "online",
                "problems": problems,
                "last_error": cam.get("last_error"),
            }
            key = (status["state"], tuple(problems), status["last_error"])
            if self._status_sent.get(cid) == key:
                continue
            self._status_sent[cid] = key
            for sink in publishers:
                publisher: StatusPublisher = sink  # type: ignore[assignment]
                publisher.publish_status(cid, {**status, "at": self.clock()})


def _on_wall_clock(event: BehaviourEvent, offset: float) -> BehaviourEvent:
    if offset == 0.0:
        return event
    return dataclasses.replace(
        event, started_at=event.started_at + offset, detected_at=event.detected_at + offset
    )
