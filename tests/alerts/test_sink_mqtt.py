"""The MQTT channel against a real Mosquitto broker on loopback."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from alerts.config import MqttSinkConfig
from alerts.sinks.base import DeliveryError
from alerts.sinks.mqtt import MqttSink
from alerts.sinks.registry import build_sink
from alerts.sinks.webhook import payload
from tests.brokers import MosquittoBroker, make_change, running_mosquitto
from tests.servers import free_port, wait_until

TIMEOUT_S = 1.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with running_mosquitto(tmp_path) as running:
        yield running


class Subscriber:
    """A paho client subscribed to `topic` (QoS 1) that queues every message it receives."""

    def __init__(self, broker: MosquittoBroker, topic: str) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        subscribed = threading.Event()
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        client.on_message = lambda c, u, message: self.messages.put(message)
        client.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
        client.connect(broker.host, broker.port)
        client.subscribe(topic, qos=1)
        client.loop_start()
        assert subscribed.wait(5), "no SUBACK"
        self.client = client

    def next(self, timeout_s: float = 5.0) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout_s)

    def until(self, topic: str, timeout_s: float = 5.0) -> mqtt.MQTTMessage:
        """The next message on `topic`, skipping others."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if message.topic == topic:
                return message

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    """Subscribers made in a test, closed after it."""
    made: list[Subscriber] = []
    yield made
    for subscriber in made:
        subscriber.close()


def subscribe(made: list[Subscriber], broker: MosquittoBroker, topic: str) -> Subscriber:
    made.append(Subscriber(broker, topic))
    return made[-1]


@pytest.fixture
def sink(broker: MosquittoBroker) -> Iterator[MqttSink]:
    cfg = MqttSinkConfig(
        name="bus", port=broker.port, client_id="carewatch-test", timeout_s=TIMEOUT_S
    )
    built = MqttSink(cfg, None, reconnect_max_s=1)
    yield built
    built.close()


def send_until_accepted(sink: MqttSink, timeout_s: float) -> int:
    """Send a change, again after each `DeliveryError`, until one is accepted; the failures."""
    deadline = time.monotonic() + timeout_s
    failures = 0
    while True:
        try:
            sink.send(make_change(seq=100 + failures), None)
            return failures
        except DeliveryError:
            failures += 1
            if time.monotonic() > deadline:
                raise


def test_alert_is_published_with_qos1(
    broker: MosquittoBroker, sink: MqttSink, subscribers: list[Subscriber]
) -> None:
    subscriber = subscribe(subscribers, broker, "carewatch/+/alerts")
    change = make_change(camera_id="hall-2")
    sink.send(change, None)
    message = subscriber.next()
    assert message.topic == "carewatch/hall-2/alerts"
    assert message.payload == payload(change)
    assert message.qos == 1
    assert not message.retain


def test_status_is_retained_and_service_says_online(
    broker: MosquittoBroker, sink: MqttSink, subscribers: list[Subscriber]
) -> None:
    status = {"fps": 14.8, "online": True, "people": 2}
    assert wait_until(lambda: sink.connected, 5)
    sink.publish_status("hall-2", status)
    sink.send(make_change(), None)  # acknowledged after the status: the broker has both
    # A subscriber connecting afterwards still gets both retained messages.
    late = subscribe(subscribers, broker, "carewatch/+/status")
    seen: dict[str, Any] = {}
    while len(seen) < 2:
        message = late.next()
        assert message.retain
        seen[message.topic] = json.loads(message.payload)
    assert seen == {"carewatch/hall-2/status": status, "carewatch/service/status": {"online": True}}


def test_status_given_while_disconnected_is_published_on_connect(
    broker: MosquittoBroker, subscribers: list[Subscriber], caplog: pytest.LogCaptureFixture
) -> None:
    broker.stop()
    cfg = MqttSinkConfig(name="bus", port=broker.port, timeout_s=TIMEOUT_S)
    sink = MqttSink(cfg, None, reconnect_max_s=1)
    try:
        with caplog.at_level(logging.WARNING, "alerts.sinks.mqtt"):
            sink.publish_status("hall-2", {"online": False})  # must not raise
        assert "camera hall-2" in caplog.text
        broker.start()
        subscriber = subscribe(subscribers, broker, "carewatch/hall-2/status")
        assert json.loads(subscriber.next(10).payload) == {"online": False}
    finally:
        sink.close()


def test_close_says_offline(
    broker: MosquittoBroker, sink: MqttSink, subscribers: list[Subscriber]
) -> None:
    sink.send(make_change(), None)  # connected
    sink.close()
    late = subscribe(subscribers, broker, "carewatch/service/status")
    message = late.next()
    assert message.retain
    assert json.loads(message.payload) == {"online": False}


def test_broker_down_then_back(
    broker: MosquittoBroker, sink: MqttSink, subscribers: list[Subscriber]
) -> None:
    sink.send(make_change(seq=1), None)
    broker.stop()
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=f"broker 127.0.0.1:{broker.port}"):
        sink.send(make_change(seq=2), None)
    assert time.monotonic() - started < TIMEOUT_S + 2, "send must give up after its timeout"

    broker.start()
    subscriber = subscribe(subscribers, broker, "carewatch/+/alerts")
    send_until_accepted(sink, timeout_s=10)
    message = subscriber.until("carewatch/hall-2/alerts")
    assert json.loads(message.payload)["seq"] >= 100
    # The restarted broker lost its retained messages; the sink said online again.
    late = subscribe(subscribers, broker, "carewatch/service/status")
    assert json.loads(late.next().payload) == {"online": True}


def test_hung_broker_times_out_without_acknowledgement(
    broker: MosquittoBroker, sink: MqttSink
) -> None:
    sink.send(make_change(seq=1), None)
    broker.pause()
    try:
        with pytest.raises(DeliveryError, match="did not acknowledge carewatch/hall-2/alerts"):
            sink.send(make_change(seq=2), None)
    finally:
        broker.resume()
    sink.send(make_change(seq=3), None)


def test_no_broker_at_all() -> None:
    cfg = MqttSinkConfig(name="bus", port=free_port(), timeout_s=0.3)
    sink = MqttSink(cfg, None)  # construction never waits for the broker
    try:
        with pytest.raises(DeliveryError, match=r"not connected within 0\.3 s"):
            sink.send(make_change(), None)
        sink.publish_status("hall-2", {"online": True})  # best effort: no exception
    finally:
        sink.close()


def test_registry_builds_mqtt(broker: MosquittoBroker, subscribers: list[Subscriber]) -> None:
    cfg = MqttSinkConfig(name="bus", port=broker.port, topic_prefix="site-a", timeout_s=2)
    sink = build_sink(cfg, {})
    assert isinstance(sink, MqttSink)
    subscriber = subscribe(subscribers, broker, "site-a/+/alerts")
    try:
        sink.send(make_change(camera_id="yard"), None)
    finally:
        sink.close()
    assert subscriber.next().topic == "site-a/yard/alerts"


def test_registry_refuses_a_missing_password() -> None:
    cfg = MqttSinkConfig(name="bus", username="carewatch", password_env="CW_MQTT_PASSWORD")
    with pytest.raises(ValueError, match="sink 'bus': environment variable CW_MQTT_PASSWORD"):
        build_sink(cfg, {})


def test_service_publishes_alerts_and_camera_status(
    broker: MosquittoBroker, subscribers: list[Subscriber], tmp_path: Path
) -> None:
    """Through the whole alert service: a stored alert reaches the broker, and the camera's
    status (retained) follows the reader's state and the camera's own problems."""
    from alerts.config import AlertsConfig
    from alerts.service import AlertService
    from alerts.store import AlertStore, create_schema, make_engine
    from tests.alerts.builders import T0, event

    config = AlertsConfig.model_validate(
        {
            "camera_health": {"offline_s": 5},
            "sinks": [{"type": "mqtt", "name": "b", "host": broker.host, "port": broker.port}],
        }
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    create_schema(engine)
    health = [{"camera_id": "cam1", "state": "online", "last_error": None}]
    service = AlertService(
        config,
        AlertStore(engine),
        tmp_path / "ev",
        {"b": build_sink(config.sinks[0])},
        health_source=lambda: health,
        clock=lambda: T0,  # the events' time: nothing is overdue for escalation
    )
    alerts = subscribe(subscribers, broker, "carewatch/cam1/alerts")
    service.dispatcher.start()
    try:
        change = service.handle(event("fall", 0))
        assert change is not None
        body = json.loads(alerts.until("carewatch/cam1/alerts").payload)
        assert (body["alert"]["id"], body["action"]) == (change.alert.id, "created")

        service.tick(T0)
        health[0] = {"camera_id": "cam1", "state": "reconnecting", "last_error": "refused"}
        service.tick(T0 + 10)  # no frame since the service started 10 s ago: offline
        late = subscribe(subscribers, broker, "carewatch/cam1/status")  # retained: still gets it
        # the retained status, or (if the broker had not yet taken the newer one) the update
        # right after it: publishing status is asynchronous
        status = json.loads(late.until("carewatch/cam1/status").payload)
        if status["state"] == "online":
            status = json.loads(late.until("carewatch/cam1/status").payload)
        assert status["state"] == "reconnecting" and status["online"] is False
        assert status["problems"] == ["camera_offline"] and status["last_error"] == "refused"
        offline = json.loads(alerts.until("carewatch/cam1/alerts").payload)
        assert offline["alert"]["kind"] == "camera_offline"
    finally:
        service.dispatcher.stop()
        engine.dispose()
