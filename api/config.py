"""The whole configuration file: one section per stage, loaded from YAML and validated.

`load_config(None)` gives the embedded defaults (`configs/default.yaml`, shipped inside the
package): the demo camera, the bundled model, data under `./data`. A file that does not validate
stops start-up with one message naming the file, each wrong key and what is allowed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from alerts.config import AlertsConfig
from models.config import PoseModelConfig
from vision.config import CameraConfig, StrictModel, TrackerConfig

DEMO_SOURCE = "demo"
"""A camera whose source is `demo` plays the generated demo video (`carewatch demo-video`)."""


class ServerConfig(StrictModel):
    """Where the web API listens and where the service keeps its files."""

    host: str = Field("127.0.0.1", description="Address the web API binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port of the web API.")
    data_dir: str = Field(
        "data", description="Folder for the service's files (demo video, later clips, database)."
    )


class AuthConfig(StrictModel):
    """Staff sign-in: token lifetimes, throttling of failed logins, the signing key."""

    access_token_ttl_s: int = Field(
        900, ge=60, le=86400, description="Lifetime of an access token (bearer), seconds."
    )
    session_ttl_s: int = Field(
        43200,
        ge=300,
        le=30 * 86400,
        description="Lifetime of a sign-in session (the browser cookie / refresh), seconds.",
    )
    max_failed_logins: int = Field(
        5, ge=1, le=100, description="Failed logins per account and address before a lockout."
    )
    failure_window_s: int = Field(
        900, ge=10, le=86400, description="Failed logins count within this many seconds."
    )
    lockout_s: int = Field(
        300, ge=1, le=86400, description="How long a locked-out account and address must wait."
    )
    secret_key_env: str = Field(
        "CAREWATCH_SECRET_KEY",
        description="Environment variable with the token signing key; when unset, a random key "
        "is generated once into `secret.key` in the data folder (mode 0600).",
    )
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (set behind a TLS proxy)."
    )


class RetentionConfig(StrictModel):
    """How long alert evidence (snapshots, clips) is kept."""

    evidence_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description="Snapshots and clips of alerts detected longer ago are deleted, unless the "
        "alert is still open or marked to keep.",
    )
    interval_s: float = Field(
        3600.0, ge=10, le=86400, description="How often the retention job runs, seconds."
    )


class AppConfig(StrictModel):
    """A CareWatch configuration file."""

    model: PoseModelConfig = Field(
        default_factory=PoseModelConfig, description="The pose model (section `model`)."
    )
    tracker: TrackerConfig = Field(
        default_factory=TrackerConfig, description="Multi-person tracking (section `tracker`)."
    )
    server: ServerConfig = Field(
        default_factory=ServerConfig, description="Web API and data folder (section `server`)."
    )
    cameras: tuple[CameraConfig, ...] = Field(
        (), description="The cameras to read and analyse; ids must be unique."
    )
    auth: AuthConfig = Field(
        default_factory=AuthConfig, description="Staff sign-in (section `auth`)."
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="Evidence retention (section `retention`)."
    )
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig,
        description="Alerts: policy, evidence, database and channels (section `alerts`).",
    )

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> AppConfig:
        ids = [c.id for c in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique, repeated: {', '.join(duplicates)}")
        unknown = sorted(set(self.alerts.cameras) - set(ids))
        if unknown:
            raise ValueError(
                f"alerts.cameras names cameras that do not exist: {', '.join(unknown)}"
            )
        return self


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message is meant for the person running it."""


def _section_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the section that holds `loc` (for 'unknown key' messages)."""
    model: type[BaseModel] = AppConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        allowed = _section_keys(tuple(error["loc"]))
        message = "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    got = error.get("input")
    shown = "" if error["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else got
    return f"  {where}: {message}" + (f" (got {shown!r})" if shown != "" else "")


def parse_config(data: object, origin: str) -> AppConfig:
    """Validate already-parsed YAML; `origin` names the file in error messages."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of sections")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(dict(e)) for e in exc.errors()]
        raise ConfigError(f"{origin}: invalid configuration\n" + "\n".join(lines)) from None


def default_config_text() -> str:
    return resources.files("configs").joinpath("default.yaml").read_text(encoding="utf-8")


def load_config(path: Path | None = None) -> AppConfig:
    """Load and validate `path`, or the embedded defaults when `path` is None."""
    if path is None:
        origin, text = "configs/default.yaml (embedded)", default_config_text()
    else:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{origin}: cannot read the configuration file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    return parse_config(data, origin)
