"""Builders for alert tests: events and alerts with chosen times."""

from __future__ import annotations

import json
import time
from typing import Any

from alerts.config import AlertsConfig
from alerts.sinks.webhook import verify_signature
from tests.brokers import HttpReceiver
from vision.types import BehaviourEvent

T0 = 1_790_000_000.0
"""An epoch second (a weekday afternoon, UTC) the tests count from."""


def event(
    kind: str = "fall",
    t: float = 0.0,
    *,
    camera: str = "cam1",
    tracks: tuple[int, ...] = (1,),
    zone: str | None = None,
    confidence: float = 0.8,
    **evidence: Any,
) -> BehaviourEvent:
    """An event detected at T0 + t that started one second earlier."""
    return BehaviourEvent(
        kind=kind,
        camera_id=camera,
        track_ids=tracks,
        started_at=T0 + t - 1.0,
        detected_at=T0 + t,
        confidence=confidence,
        zone=zone,
        evidence=dict(evidence) or {"torso_angle_deg": 80.0},
    )


def config(**data: Any) -> AlertsConfig:
    return AlertsConfig.model_validate(data)


def signed_bodies(receiver: HttpReceiver, secret: bytes) -> list[tuple[dict[str, Any], bool]]:
    """Each JSON body the receiver got, and whether its CareWatch signature checks out."""
    out = []
    for request in list(receiver.requests):
        valid = verify_signature(
            secret,
            request.headers.get("x-carewatch-timestamp", ""),
            request.body,
            request.headers.get("x-carewatch-signature", ""),
            now=time.time(),
        )
        out.append((json.loads(request.body), valid))
    return out
