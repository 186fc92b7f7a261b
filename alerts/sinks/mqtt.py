"""MQTT channel (paho-mqtt 2.x): alerts for home automation, PLCs and other dashboards.

Topics (`<prefix>` is `topic_prefix`, `carewatch` by default)::

    <prefix>/<camera_id>/alerts   each change, `payload(change)` JSON, QoS `qos` (1), not retained
    <prefix>/<camera_id>/status   the camera's latest status JSON, QoS 1, retained
    <prefix>/service/status       {"online":true} retained while connected; the broker publishes
                                  the last will {"online":false} (retained) when the service
                                  vanishes, and `close()` publishes it on a clean shutdown

The client connects in the background (`connect_async` and paho's network thread), so building
the sink never fails when the broker is down, and reconnects by itself with a backoff of 1 s
doubling up to `reconnect_max_s`. `send` waits up to `timeout_s` for a connection and the
broker's acknowledgement (PUBACK for QoS 1) and raises `DeliveryError` without one; it never
queues a message for later itself (the dispatcher retries). A message published just before the
connection dropped may still reach the broker after reconnecting, so delivery is at least once:
subscribers de-duplicate by `(alert.id, alert.version)`.

`send` and `publish_status` may be called from different threads.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import ConnectFlags, DisconnectFlags
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from alerts.config import MqttSinkConfig
from alerts.model import Change
from alerts.sinks.base import DeliveryError
from alerts.sinks.webhook import payload

log = logging.getLogger(__name__)

ONLINE = b'{"online":true}'
OFFLINE = b'{"online":false}'
KEEPALIVE_S = 30


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str).encode()


class MqttSink:
    """Publishes each change on `<prefix>/<camera_id>/alerts` (topics: module docstring)."""

    def __init__(
        self, cfg: MqttSinkConfig, password: str | None, *, reconnect_max_s: int = 15
    ) -> None:
        self.name = cfg.name
        self._cfg = cfg
        self._where = f"mqtt {cfg.name!r}: broker {cfg.host}:{cfg.port}"
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._statuses: dict[str, bytes] = {}
        """The latest status per camera, published again after every (re)connect: a broker
        without persistence forgets retained messages when it restarts."""
        self._last_error = "not connected yet"
        self._closed = False

        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=cfg.client_id
        )
        if cfg.username is not None:
            client.username_pw_set(cfg.username, password)
        client.will_set(self.service_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=max(1, reconnect_max_s))
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        self._client = client
        client.connect_async(cfg.host, cfg.port, keepalive=KEEPALIVE_S)
        client.loop_start()

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up right now."""
        return self._connected.is_set()

    @property
    def service_topic(self) -> str:
        return f"{self._cfg.topic_prefix}/service/status"

    def alerts_topic(self, camera_id: str) -> str:
        return f"{self._cfg.topic_prefix}/{camera_id}/alerts"

    def status_topic(self, camera_id: str) -> str:
        return f"{self._cfg.topic_prefix}/{camera_id}/status"

    def send(self, change: Change, snapshot: Path | None) -> None:
        """Publish `change` and wait for the broker to accept it (at most `timeout_s`)."""
        timeout_s = self._cfg.timeout_s
        deadline = time.monotonic() + timeout_s
        if not self._connected.wait(timeout_s):
            raise DeliveryError(
                f"{self._where} not connected within {timeout_s:g} s ({self._last_error})"
            )
        topic = self.alerts_topic(change.alert.camera_id)
        try:
            info = self._client.publish(topic, payload(change), qos=self._cfg.qos)
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            published = info.is_published()
        except (RuntimeError, ValueError) as e:
            raise DeliveryError(f"{self._where} refused {topic}: {e}") from e
        if not published:
            raise DeliveryError(f"{self._where} did not acknowledge {topic} within {timeout_s:g} s")
        log.debug("%s accepted alert %s v%d", topic, change.alert.id, change.alert.version)

    def publish_status(self, camera_id: str, status: dict[str, Any]) -> None:
        """Publish `status` retained on `<prefix>/<camera_id>/status`, best effort: when the
        broker is down it is published once the connection is back, and nothing raises."""
        data = _json(status)
        topic = self.status_topic(camera_id)
        with self._lock:
            self._statuses[camera_id] = data
        if not self._connected.is_set():
            log.warning(
                "camera %s: %s not connected (%s), status published once it is",
                camera_id,
                self._where,
                self._last_error,
            )
            return
        try:
            info = self._client.publish(topic, data, qos=1, retain=True)
        except ValueError as e:
            log.warning("camera %s: %s refused %s: %s", camera_id, self._where, topic, e)
            return
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning(
                "camera %s: status not published on %s: %s",
                camera_id,
                topic,
                mqtt.error_string(info.rc),
            )

    def close(self) -> None:
        """Say offline (retained), disconnect and stop the network thread."""
        if self._closed:
            return
        self._closed = True
        if self._connected.is_set():
            try:
                info = self._client.publish(self.service_topic, OFFLINE, qos=1, retain=True)
                info.wait_for_publish(self._cfg.timeout_s)
            except (RuntimeError, ValueError) as e:
                log.warning("%s: offline status not published: %s", self._where, e)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._last_error = f"connection refused: {reason_code}"
            log.warning("%s %s", self._where, self._last_error)
            return
        client.publish(self.service_topic, ONLINE, qos=1, retain=True)
        with self._lock:
            statuses = dict(self._statuses)
        for camera_id, data in statuses.items():
            client.publish(self.status_topic(camera_id), data, qos=1, retain=True)
        log.info("%s connected", self._where)
        self._connected.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        if self._last_error != "cannot connect":
            log.warning("%s cannot connect, retrying in the background", self._where)
        self._last_error = "cannot connect"

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if self._closed:
            return
        self._last_error = f"connection lost: {reason_code}"
        log.warning("%s %s, reconnecting", self._where, self._last_error)
