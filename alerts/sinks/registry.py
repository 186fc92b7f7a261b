"""Builds the sink a configuration names, with its secrets read from the environment.

Secrets never sit in configuration files: `secret_env` (webhook HMAC key), `password_env` (MQTT
broker password) and `urls_env` (more Apprise URLs, space-separated, as they usually hold
tokens) name environment variables. A variable that is named but unset or empty stops
start-up with a `ValueError` naming the sink and the variable, rather than silently sending
unsigned or unauthenticated messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import assert_never

from alerts.config import AppriseSinkConfig, MqttSinkConfig, SinkConfig, WebhookSinkConfig
from alerts.sinks.base import Sink
from alerts.sinks.messaging import AppriseSink
from alerts.sinks.mqtt import MqttSink
from alerts.sinks.webhook import WebhookSink, payload

__all__ = ["build_sink", "payload"]


def _secret(sink: str, var: str | None, env: Mapping[str, str]) -> str | None:
    """The value of `var` (None when no variable is configured)."""
    if var is None:
        return None
    value = env.get(var, "")
    if not value:
        raise ValueError(f"sink {sink!r}: environment variable {var} is not set or empty")
    return value


def build_sink(cfg: SinkConfig, env: Mapping[str, str] = os.environ) -> Sink:
    """The sink for `cfg`, by `cfg.type`; `ValueError` when a named variable is missing."""
    if isinstance(cfg, WebhookSinkConfig):
        secret = _secret(cfg.name, cfg.secret_env, env)
        return WebhookSink(cfg, None if secret is None else secret.encode())
    if isinstance(cfg, MqttSinkConfig):
        return MqttSink(cfg, _secret(cfg.name, cfg.password_env, env))
    if isinstance(cfg, AppriseSinkConfig):
        urls = _secret(cfg.name, cfg.urls_env, env)
        return AppriseSink(cfg, urls.split() if urls else [])
    assert_never(cfg)
