"""Configuration of the alert service (section `alerts`): policy, evidence, delivery, sinks.

Secrets (webhook keys, broker passwords, messaging URLs with tokens) are read from environment
variables named here (`*_env`), so a configuration file can be shared without them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from alerts.model import ACTIONS, CAMERA_KINDS, Action, Severity
from vision.configbase import StrictModel
from vision.zones import TimeWindow

MergeBy = Literal["track", "zone", "camera"]

BEHAVIOUR_KINDS = (
    "fall",
    "person_down",
    "fight",
    "loitering",
    "pacing",
    "restricted_entry",
    "night_movement",
    "exit_approach",
)
KINDS = (*BEHAVIOUR_KINDS, *CAMERA_KINDS)


class KindPolicy(StrictModel):
    """How events of one kind become alerts."""

    enabled: bool = Field(True, description="Whether this kind raises alerts at all.")
    severity: Severity = Field("warning", description="Severity of a new alert of this kind.")
    zone_severity: dict[str, Severity] = Field(
        default_factory=dict,
        description="Severity by zone name, overriding `severity` (e.g. exit: critical).",
    )
    cooldown_s: float = Field(
        120.0,
        ge=0,
        le=86400,
        description=(
            "A further event of the same incident within this many seconds of its last one "
            "updates the open alert instead of raising a new one."
        ),
    )
    merge_by: MergeBy = Field(
        "track",
        description=(
            "What makes two events one incident (besides camera, kind and zone): sharing a "
            "`track` id, the same `zone`, or anything on the same `camera`."
        ),
    )


def _kind(severity: Severity, cooldown_s: float, merge_by: MergeBy = "track") -> KindPolicy:
    return KindPolicy(severity=severity, cooldown_s=cooldown_s, merge_by=merge_by)


def _default_kinds() -> dict[str, KindPolicy]:
    return {
        "fall": _kind("critical", 120),
        "person_down": _kind("warning", 600),
        "fight": _kind("critical", 120, "camera"),
        "loitering": _kind("info", 900, "zone"),
        "pacing": _kind("warning", 900),
        "restricted_entry": _kind("warning", 300, "zone"),
        "night_movement": _kind("info", 900, "zone"),
        "exit_approach": _kind("warning", 300, "zone"),
        "camera_offline": _kind("warning", 0, "camera"),
        "camera_frozen": _kind("warning", 0, "camera"),
        "camera_covered": _kind("warning", 0, "camera"),
    }


class CameraAlerts(StrictModel):
    """Per-camera enablement."""

    enabled: bool = Field(True, description="Whether this camera raises alerts at all.")
    kinds: tuple[str, ...] | None = Field(
        None, description="Only these kinds raise alerts on this camera (default: all enabled)."
    )

    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(kinds or ()) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; allowed: {', '.join(KINDS)}")
        return kinds


class QuietHours(TimeWindow):
    """A daily window in which alerts below `min_severity` are stored and shown on the console
    but not pushed to channels that respect quiet hours."""

    min_severity: Severity = Field(
        "critical", description="Alerts at or above this severity are pushed even now."
    )
    kinds: tuple[str, ...] | None = Field(
        None, description="The kinds muted in this window (default: all)."
    )


class EscalationConfig(StrictModel):
    """What happens to an alert nobody acknowledges."""

    after_s: float = Field(
        120.0, gt=0, le=86400, description="Seconds without acknowledgement before escalating."
    )
    repeat_s: float = Field(
        300.0, gt=0, le=86400, description="Seconds between further escalation steps."
    )
    max_level: int = Field(
        2, ge=0, le=10, description="Escalation steps at most (0 = never escalate)."
    )
    severity_steps: int = Field(
        1, ge=0, le=2, description="Severity levels added per escalation step (capped)."
    )


class EvidenceConfig(StrictModel):
    """The snapshot and clip stored with each alert."""

    clip_before_s: float = Field(
        5.0, ge=0, le=60, description="Seconds of video before detection in the clip."
    )
    clip_after_s: float = Field(
        5.0, ge=0, le=60, description="Seconds of video after detection in the clip."
    )
    max_width_px: int = Field(
        960, ge=160, le=3840, description="Frames wider than this are scaled down for evidence."
    )
    snapshot_quality: int = Field(85, ge=30, le=100, description="JPEG quality of snapshots.")
    clip_crf: int = Field(
        26, ge=0, le=51, description="H.264 constant rate factor of clips (lower = better)."
    )
    finish_timeout_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="A clip whose camera stops delivering frames is written with what it has "
        "after this many seconds.",
    )


class DeliveryConfig(StrictModel):
    """Retries of failed deliveries (exponential backoff, per channel, in order)."""

    retry_initial_s: float = Field(2.0, gt=0, le=600, description="First wait after a failure.")
    retry_max_s: float = Field(300.0, gt=0, le=86400, description="Longest wait between tries.")
    give_up_after_s: float = Field(
        86400.0, gt=0, description="A delivery still failing this long after it was due fails."
    )


class CameraHealthConfig(StrictModel):
    """When a camera's own state raises an alert (and clears it again)."""

    offline_s: float = Field(
        30.0, gt=0, le=3600, description="No frame for this long: `camera_offline`."
    )
    frozen_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Frames arriving but no pixel changing for this long: `camera_frozen` "
        "(cameras with an on-screen clock never trip this while they work).",
    )
    frozen_pixel_delta: int = Field(
        2, ge=0, le=50, description="Grey levels a pixel must change by to count as changed."
    )
    covered_s: float = Field(
        15.0, gt=0, le=3600, description="A dark or uniform image this long: `camera_covered`."
    )
    dark_level: float = Field(
        12.0, ge=0, le=255, description="Mean grey level below which the image counts as dark."
    )
    uniform_std: float = Field(
        4.0, ge=0, le=128, description="Grey-level spread below which the image counts as uniform."
    )


class SinkBase(StrictModel):
    """What every channel shares: its name and which changes it receives."""

    name: str = Field(description="Unique channel name, used in delivery records.")
    actions: tuple[Action, ...] = Field(
        ACTIONS, description=f"The changes this channel receives ({', '.join(ACTIONS)})."
    )
    min_severity: Severity = Field("info", description="Alerts below this are not sent here.")
    escalated_only: bool = Field(
        False, description="Only escalated alerts (e.g. the night manager's phone)."
    )
    respect_quiet_hours: bool = Field(True, description="Skip alerts muted by quiet hours.")


class WebhookSinkConfig(SinkBase):
    """JSON POST of each change, signed with HMAC-SHA256 over `timestamp.body`."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(description="http(s) URL the JSON is POSTed to.")
    secret_env: str | None = Field(
        None, description="Environment variable holding the HMAC key (unsigned when unset)."
    )
    timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds per attempt.")

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url


class MqttSinkConfig(SinkBase):
    """Alerts on `<prefix>/<camera>/alerts` (QoS 1) and retained `<prefix>/<camera>/status`."""

    type: Literal["mqtt"] = "mqtt"
    host: str = Field("127.0.0.1", description="Broker host.")
    port: int = Field(1883, ge=1, le=65535, description="Broker TCP port.")
    topic_prefix: str = Field("carewatch", description="First level of every topic.")
    client_id: str = Field("carewatch", description="MQTT client id.")
    username: str | None = Field(None, description="Broker user name.")
    password_env: str | None = Field(
        None, description="Environment variable holding the broker password."
    )
    qos: Literal[0, 1, 2] = Field(1, description="QoS of alert messages.")
    timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds to wait for the broker.")


class AppriseSinkConfig(SinkBase):
    """Staff messaging through Apprise (email, DingTalk, WeCom, Feishu, Telegram, ...)."""

    type: Literal["apprise"] = "apprise"
    urls: tuple[str, ...] = Field((), description="Apprise URLs (avoid secrets here).")
    urls_env: str | None = Field(
        None, description="Environment variable with more Apprise URLs, space-separated."
    )
    attach_snapshot: bool = Field(
        True, description="Attach the snapshot where the service allows attachments."
    )
    actions: tuple[Action, ...] = Field(
        ("created", "reopened", "escalated"),
        description=f"The changes this channel receives ({', '.join(ACTIONS)}).",
    )

    @model_validator(mode="after")
    def _some_url(self) -> AppriseSinkConfig:
        if not self.urls and not self.urls_env:
            raise ValueError("give `urls` or `urls_env`")
        return self


SinkConfig = Annotated[
    WebhookSinkConfig | MqttSinkConfig | AppriseSinkConfig, Field(discriminator="type")
]


class AlertsConfig(StrictModel):
    """The alert service: from behaviour events to stored alerts and their deliveries."""

    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database; default SQLite `carewatch.db` in the data "
        "folder. PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    kinds: dict[str, KindPolicy] = Field(
        default_factory=_default_kinds,
        description="Policy per kind; keys left out keep their defaults (fall, fight: critical; "
        "person_down, pacing, restricted_entry, exit_approach, camera_*: warning; loitering, "
        "night_movement: info; see docs/ALERTS.md for the cool-downs).",
    )
    cameras: dict[str, CameraAlerts] = Field(
        default_factory=dict, description="Per-camera enablement by camera id."
    )
    quiet_hours: tuple[QuietHours, ...] = Field(
        (), description="Windows in which lower-severity alerts are not pushed."
    )
    reopen_s: float = Field(
        600.0,
        ge=0,
        le=86400,
        description="A resolved alert re-opens when its behaviour comes back within this time.",
    )
    escalation: EscalationConfig = Field(
        default_factory=EscalationConfig, description="Unacknowledged alerts (section below)."
    )
    evidence: EvidenceConfig = Field(
        default_factory=EvidenceConfig, description="Snapshot and clip of each alert."
    )
    delivery: DeliveryConfig = Field(
        default_factory=DeliveryConfig, description="Retries of failed deliveries."
    )
    camera_health: CameraHealthConfig = Field(
        default_factory=CameraHealthConfig,
        description="Camera offline, frozen and covered alerts.",
    )
    sinks: tuple[SinkConfig, ...] = Field((), description="Delivery channels.")

    @field_validator("kinds", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; allowed: {', '.join(KINDS)}")
        merged: dict[str, object] = {k: v.model_dump() for k, v in _default_kinds().items()}
        for kind, override in value.items():
            if isinstance(override, dict):
                merged[kind] = {**merged[kind], **override}  # type: ignore[dict-item]
            else:
                merged[kind] = override
        return merged

    @model_validator(mode="after")
    def _unique_sinks(self) -> AlertsConfig:
        names = [s.name for s in self.sinks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"sink names must be unique, repeated: {', '.join(repeated)}")
        return self

    def policy(self, kind: str) -> KindPolicy:
        return self.kinds.get(kind) or KindPolicy()
