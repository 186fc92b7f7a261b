"""`GET /metrics`: the service's figures in Prometheus' text format, for a scraper on the
station's LAN (like `/health`, it needs no sign-in and shows no people, only counts).

Per camera (label `camera`): `carewatch_camera_up` (1 while frames arrive), input and analysed
frames per second, frames dropped, reconnect attempts, frames analysed and analysis errors;
`carewatch_alerts_open`; `carewatch_alert_deliveries{channel,status}` (pending, delivered,
failed); `carewatch_uptime_seconds`.

The figures are read when scraped (a custom collector over `runner.health()` and the alert
store), on a registry of this app's own, never the process-wide default one: several apps in
one process (tests) must not see each other's cameras.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psutil
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

router = APIRouter(tags=["health"])

_PROCESS_START = psutil.Process().create_time()
_lock = threading.Lock()


class ServiceCollector(Collector):
    """Reads an app's runner and alert service (`app.state`) at each scrape."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        yield from self._cameras()
        yield from self._alerts()
        uptime = GaugeMetricFamily(
            "carewatch_uptime_seconds", "Seconds since the service process started."
        )
        started = getattr(self.state, "started", None) or _PROCESS_START
        uptime.add_metric([], max(0.0, time.time() - float(started)))
        yield uptime

    def _cameras(self) -> Iterator[Metric]:
        runner = getattr(self.state, "runner", None)
        cameras: list[dict[str, Any]] = [] if runner is None else list(runner.health())
        label = ["camera"]
        up = GaugeMetricFamily(
            "carewatch_camera_up",
            "1 while the camera delivers frames (state online).",
            labels=label,
        )
        input_fps = GaugeMetricFamily(
            "carewatch_camera_input_fps", "Frames per second read from the camera.", labels=label
        )
        analysed_fps = GaugeMetricFamily(
            "carewatch_camera_analysed_fps", "Frames per second analysed.", labels=label
        )
        dropped = CounterMetricFamily(
            "carewatch_camera_frames_dropped",
            "Frames replaced by a newer one before analysis took them.",
            labels=label,
        )
        reconnects = CounterMetricFamily(
            "carewatch_camera_reconnects",
            "Attempts to reopen the camera after a failure.",
            labels=label,
        )
        analysed = CounterMetricFamily(
            "carewatch_camera_frames_analysed", "Frames analysed.", labels=label
        )
        errors = CounterMetricFamily(
            "carewatch_camera_analysis_errors", "Frames whose analysis failed.", labels=label
        )
        for cam in cameras:
            cid = [str(cam.get("camera_id"))]
            up.add_metric(cid, 1.0 if cam.get("state") == "online" else 0.0)
            input_fps.add_metric(cid, float(cam.get("input_fps") or 0.0))
            analysed_fps.add_metric(cid, float(cam.get("analysed_fps") or 0.0))
            dropped.add_metric(cid, float(cam.get("dropped_frames") or 0))
            reconnects.add_metric(cid, float(cam.get("reconnects") or 0))
            analysed.add_metric(cid, float(cam.get("frames_analysed") or 0))
            errors.add_metric(cid, float(cam.get("analysis_errors") or 0))
        yield from (up, input_fps, analysed_fps, dropped, reconnects, analysed, errors)

    def _alerts(self) -> Iterator[Metric]:
        service = getattr(self.state, "alerts", None)
        if service is None:
            return
        open_alerts = GaugeMetricFamily(
            "carewatch_alerts_open", "Alerts not yet resolved (new, escalated, acknowledged)."
        )
        open_alerts.add_metric([], float(service.store.count(open_only=True)))
        yield open_alerts
        deliveries = GaugeMetricFamily(
            "carewatch_alert_deliveries",
            "Deliveries of alert changes per channel and status (pending, delivered, failed).",
            labels=["channel", "status"],
        )
        for channel, counts in sorted(service.store.delivery_counts().items()):
            for status, n in sorted(counts.items()):
                deliveries.add_metric([channel, status], float(n))
        yield deliveries


def registry_of(state: Any) -> CollectorRegistry:
    """The app's own registry with its collector (made on first use)."""
    with _lock:
        registry: CollectorRegistry | None = getattr(state, "metrics_registry", None)
        if registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(ServiceCollector(state))
            state.metrics_registry = registry
        return registry


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics (text format 0.0.4). No sign-in: meant for monitoring on the
    station's LAN; it holds counts and rates only, no names, pictures or alert details."""
    body = generate_latest(registry_of(request.app.state))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
