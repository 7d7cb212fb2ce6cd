"""The test infrastructure itself: real brokers and a real database behave as later tests assume."""

import queue
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import paho.mqtt.client as mqtt  # noqa: TID251
import psycopg
from paho.mqtt.packettypes import PacketTypes  # noqa: TID251
from paho.mqtt.properties import Properties  # noqa: TID251

from support.services import EmbeddedBroker, MosquittoBroker, MqttBroker, PostgresDatabase

TIMEOUT_S = 5.0


@dataclass
class Peer:
    client: mqtt.Client
    messages: queue.Queue[mqtt.MQTTMessage]
    session_present: bool


@contextmanager
def connected(
    broker: MqttBroker, client_id: str = "", *, persistent: bool = False
) -> Iterator[Peer]:
    """A connected paho client, loop running; `persistent` asks MQTT 5 to keep the session 1 h."""
    assert broker.mqtt5 or not persistent, "session expiry needs MQTT 5"
    protocol = mqtt.MQTTv5 if broker.mqtt5 else mqtt.MQTTv311
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    connack: queue.Queue[tuple[bool, mqtt.ReasonCode]] = queue.Queue()
    client.on_connect = lambda _c, _u, flags, rc, _p: connack.put((flags.session_present, rc))
    client.on_message = lambda _c, _u, message: messages.put(message)
    if broker.mqtt5:
        properties = Properties(PacketTypes.CONNECT)
        if persistent:
            properties.SessionExpiryInterval = 3600
        client.connect(
            broker.host,
            broker.port,
            keepalive=10,
            clean_start=not persistent,
            properties=properties,
        )
    else:
        client.connect(broker.host, broker.port, keepalive=10)
    client.loop_start()
    try:
        session_present, rc = connack.get(timeout=TIMEOUT_S)
        assert not rc.is_failure, rc
        yield Peer(client, messages, session_present)
    finally:
        client.disconnect()
        client.loop_stop()


def subscribe(peer: Peer, topic: str) -> None:
    granted: queue.Queue[list[mqtt.ReasonCode]] = queue.Queue()
    peer.client.on_subscribe = lambda _c, _u, _mid, codes, _p: granted.put(codes)
    peer.client.subscribe(topic, qos=1)
    codes = granted.get(timeout=TIMEOUT_S)
    assert [code.value for code in codes] == [1], codes


def publish(peer: Peer, topic: str, payload: bytes) -> None:
    info = peer.client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout=TIMEOUT_S)
    assert info.is_published()


def receive(peer: Peer) -> mqtt.MQTTMessage:
    return peer.messages.get(timeout=TIMEOUT_S)


def accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def round_trip(broker: MqttBroker, topic: str) -> None:
    with connected(broker) as subscriber, connected(broker) as publisher:
        subscribe(subscriber, topic)
        publish(publisher, topic, b"hello")
        message = receive(subscriber)
    assert (message.topic, message.payload, message.qos) == (topic, b"hello", 1)


def test_round_trip_qos1(mqtt_broker: MqttBroker) -> None:
    round_trip(mqtt_broker, "tw/test/round-trip")


def test_mosquitto_restarts_on_same_port(mosquitto_broker: MosquittoBroker) -> None:
    port = mosquitto_broker.port
    mosquitto_broker.stop()
    assert not accepts_tcp(port)
    mosquitto_broker.start()
    assert mosquitto_broker.port == port
    round_trip(mosquitto_broker, "tw/test/after-restart")
    mosquitto_broker.kill()
    assert not accepts_tcp(port)
    mosquitto_broker.restart()
    round_trip(mosquitto_broker, "tw/test/after-kill")


def test_persistent_session_survives_disconnect_and_restart(
    mosquitto_broker: MosquittoBroker,
) -> None:
    topic = "tw/test/persistent"
    with connected(mosquitto_broker, "tw-persistent-sub", persistent=True) as subscriber:
        subscribe(subscriber, topic)
    with connected(mosquitto_broker) as publisher:
        publish(publisher, topic, b"before-restart")
    mosquitto_broker.restart()
    with connected(mosquitto_broker) as publisher:
        publish(publisher, topic, b"after-restart")
    with connected(mosquitto_broker, "tw-persistent-sub", persistent=True) as subscriber:
        assert subscriber.session_present
        payloads = [receive(subscriber).payload for _ in range(2)]
    assert payloads == [b"before-restart", b"after-restart"]


def test_shared_subscription_splits_messages(mqtt5_broker: MosquittoBroker) -> None:
    topic, count = "tw/test/shared", 20
    merged: queue.Queue[tuple[int, bytes]] = queue.Queue()
    with (
        connected(mqtt5_broker) as first,
        connected(mqtt5_broker) as second,
        connected(mqtt5_broker) as publisher,
    ):
        for index, member in enumerate((first, second)):
            member.client.on_message = lambda _c, _u, m, i=index: merged.put((i, m.payload))
            subscribe(member, f"$share/g/{topic}")
        for i in range(count):
            publish(publisher, topic, str(i).encode())
        received = [merged.get(timeout=TIMEOUT_S) for _ in range(count)]
    assert sorted(int(payload) for _, payload in received) == list(range(count))
    assert {member for member, _ in received} == {0, 1}, received


def test_embedded_broker_round_trip_and_restart(embedded_broker: EmbeddedBroker) -> None:
    assert not embedded_broker.mqtt5
    port = embedded_broker.port
    round_trip(embedded_broker, "tw/test/embedded")
    embedded_broker.restart()
    assert embedded_broker.port == port
    round_trip(embedded_broker, "tw/test/embedded")
    embedded_broker.stop()
    assert not accepts_tcp(port)


def test_postgres_url_is_a_fresh_writable_database(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
        conn.execute("CREATE TABLE probe (name text NOT NULL, n integer NOT NULL)")
        conn.execute("INSERT INTO probe VALUES (%s, %s), (%s, %s)", ("a", 3, "b", 1))
        rows = conn.execute("SELECT name, n FROM probe ORDER BY name").fetchall()
    assert rows == [("a", 3), ("b", 1)]


def test_postgres_database_is_dropped_on_close(postgres_admin_dsn: str) -> None:
    with PostgresDatabase(postgres_admin_dsn) as database:
        # A session the test forgot to close must not block the drop.
        leaked = psycopg.connect(database.url)
    leaked.close()
    with psycopg.connect(postgres_admin_dsn) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database.name,))
        assert exists.fetchone() is None
