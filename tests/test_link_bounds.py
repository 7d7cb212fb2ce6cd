"""The MQTT link at its edges, against a real Mosquitto: a slow consumer, an oversized packet, a
port that never answers, a Will that waits out a short reconnect, URLs, CA files and passwords.

Two brokers here are fakes, because Mosquitto cannot misbehave that way: a TCP port that takes the
connection and never answers CONNACK, and a broker that says "session taken over" (0x8E; Mosquitto
2.0.11 closes such a connection without saying why).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.services import MosquittoBroker
from twitchwatch.errors import redact_url
from twitchwatch.mqtt_link import (
    BrokerHandshakeError,
    BrokerUnreachableError,
    BrokerUrl,
    BrokerUrlError,
    CredentialError,
    Message,
    MqttLink,
    ReceiveLimits,
    SessionTakenOverError,
    Will,
)
from twitchwatch.mqtt_link.credentials import PASSWORD_ENV, read_password_file, with_password

TIMEOUT_S = 20.0


async def take(
    link: MqttLink, n: int, *, pause_every: int = 0, pause_s: float = 0.0
) -> list[Message]:
    got: list[Message] = []
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            got.append(message)
            link.ack(message)
            if pause_every and len(got) % pause_every == 0:
                await asyncio.sleep(pause_s)  # a consumer busy with a slow commit
            if len(got) == n:
                break
    return got


# --- bounded in, never dropped --------------------------------------------------------------------


async def test_a_slow_consumer_keeps_the_link_bounded_and_loses_nothing(
    mqtt5_broker: MosquittoBroker,
) -> None:
    url = BrokerUrl.parse(mqtt5_broker.url)
    limits = ReceiveLimits(messages=50)
    n, body = 3000, b"x" * 1000
    consumer = MqttLink(
        url,
        client_id="slow-server",
        subscriptions=[("flood/#", 1)],
        session_expiry_s=600,
        manual_ack=True,
        receive_maximum=1000,  # more than the limit: the link's own bound must hold
        receive_limits=limits,
    )
    async with consumer, MqttLink(url, client_id="flooder") as flooder:
        await consumer.subscribed.wait()
        sent = [flooder.publish_nowait("flood/a", b"%06d" % i + body) for i in range(n)]
        async with asyncio.timeout(TIMEOUT_S):
            await asyncio.gather(*sent)  # all at the broker, the consumer not reading yet
        await asyncio.sleep(0.5)
        waiting, _ = consumer.receive_window.waiting
        assert waiting <= limits.messages + 1, waiting
        got = await take(consumer, n, pause_every=200, pause_s=0.05)
    assert [int(m.payload[:6]) for m in got] == list(range(n))  # all, in order, none twice
    # paho reads one packet at a time when it has room: the bound held throughout.
    assert consumer.receive_window.peak_messages <= limits.messages + 1
    assert consumer.receive_window.pauses >= 1


async def test_a_packet_above_the_limit_is_never_sent_to_the_link(
    mqtt5_broker: MosquittoBroker,
) -> None:
    """Maximum Packet Size on CONNECT: a broker without a size limit still keeps a 1 MB message
    (anyone may publish it) away from a link that did not ask for it."""
    url = BrokerUrl.parse(mqtt5_broker.url)
    async with (
        MqttLink(url, client_id="server", subscriptions=[("big/#", 1)]) as server,
        MqttLink(url, client_id="attacker") as attacker,
    ):
        await server.subscribed.wait()
        await attacker.publish("big/a", b"x" * 1_000_000)
        await attacker.publish("big/a", b"small")
        got = await take(server, 1)
        await asyncio.sleep(0.2)
        assert [m.payload for m in got] == [b"small"] and server.pending_messages() == 0


# --- a broker that takes the connection and says nothing ------------------------------------------


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never sends a byte."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_port_that_never_answers_the_handshake_is_named(silent_port: int) -> None:
    link = MqttLink(BrokerUrl.parse(f"mqtt://127.0.0.1:{silent_port}"), client_id="x")
    link.start()
    try:
        with pytest.raises(BrokerHandshakeError) as caught:
            await link.wait_connected(within_s=1.5)
    finally:
        await link.close()
    assert str(caught.value) == (
        f"broker mqtt://127.0.0.1:{silent_port} took the connection but did not answer the MQTT "
        "handshake within 1.5 s (is this port an MQTT broker, and does it want TLS, mqtts://?)"
    )


async def test_a_closed_port_is_still_not_reachable(silent_port: int) -> None:
    from support.services import free_port

    link = MqttLink(BrokerUrl.parse(f"mqtt://127.0.0.1:{free_port()}"), client_id="x")
    link.start()
    try:
        with pytest.raises(BrokerUnreachableError, match="not reachable within 1 s"):
            await link.wait_connected(within_s=1.0)
    finally:
        await link.close()


# --- a broker that says the session was taken over (MQTT 5, 0x8E) ---------------------------------


@pytest.fixture
async def taking_over_port() -> AsyncIterator[int]:
    """Answers CONNECT with a CONNACK, then disconnects with "Session taken over" (0x8E)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)  # the CONNECT
        writer.write(bytes([0x20, 0x03, 0x00, 0x00, 0x00]))  # CONNACK: success, no properties
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.write(bytes([0xE0, 0x02, 0x8E, 0x00]))  # DISCONNECT: Session taken over
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_a_session_taken_over_stops_the_link_instead_of_taking_it_back(
    taking_over_port: int,
) -> None:
    link = MqttLink(BrokerUrl.parse(f"mqtt://127.0.0.1:{taking_over_port}"), client_id="tw-1")
    async with link:
        with pytest.raises(
            SessionTakenOverError, match="took over the session of client id 'tw-1'"
        ):
            async with asyncio.timeout(TIMEOUT_S):
                async for _ in link.messages_across_reconnects():
                    pass
        await asyncio.sleep(1.5)  # paho would reconnect after 1 s
        assert link.taken_over and link.connects == 1


# --- the Will waits out a short reconnect ---------------------------------------------------------


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_a_will_delay_rides_out_a_short_reconnect(mqtt5_broker: MosquittoBroker) -> None:
    url = BrokerUrl.parse(mqtt5_broker.url)
    will = Will("dev/status", b"offline", delay_s=3)
    async with MqttLink(url, client_id="watcher", subscriptions=[("dev/status", 1)]) as watcher:
        await watcher.subscribed.wait()
        edge = MqttLink(url, client_id="edge-1", will=will)
        async with edge:
            await edge.publish("dev/status", b"online", retain=True)
            assert [m.payload for m in await take(watcher, 1)] == [b"online"]
            edge.drop_connection()  # a Wi-Fi blip: paho is back within about a second
            async with asyncio.timeout(TIMEOUT_S):
                while edge.connects < 2:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(will.delay_s + 1.0)
            assert watcher.pending_messages() == 0  # no offline/online flap
            # Gone for good (the process died): offline, after the delay.
            edge.drop_connection()
            edge._client.loop_stop()  # no reconnect: the process is gone
            died = asyncio.get_running_loop().time()
            got = await take(watcher, 1)
            assert got[0].payload == b"offline"
            assert asyncio.get_running_loop().time() - died >= will.delay_s - 0.5


# --- URLs, CA files and passwords: one line each, never a password ------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mqtt://[::1", "not a URL (Invalid IPv6 URL)"),
        ("mqtt://dev:s3cret@[::1", "not a URL"),
        ("mqtt://dev:s3cret@host:99999", "the port is not a number from 1 to 65535"),
        ("mqtt://dev:s3cret@host:1883?ca=/etc/ca.pem", "?ca= is for TLS: use mqtts://"),
        (f"mqtt://dev:{'p' * 70_000}@host", "the password is 70,000 bytes long"),
        ("http://dev:s3cret@host", "use mqtt://host[:port] or mqtts://host[:port] (TLS)"),
    ],
)
def test_bad_broker_urls_are_one_line_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(BrokerUrlError) as caught:
        BrokerUrl.parse(url)
    message = str(caught.value)
    assert problem in message and "\n" not in message and len(message) < 300
    assert "s3cret" not in message and "ppppp" not in message


def test_redact_url_hides_every_password() -> None:
    assert redact_url("postgresql://tw:s3cret@db/tw") == "postgresql://tw:***@db/tw"
    assert redact_url("postgresql://tw@db/tw?password=s3cret&sslmode=require") == (
        "postgresql://tw@db/tw?password=***&sslmode=require"
    )
    assert redact_url("mqtt://u:p@ss@[::1") == "mqtt://***@[::1"
    assert redact_url("sqlite:///tw.db") == "sqlite:///tw.db"


async def test_a_missing_or_wrong_ca_file_is_one_line(tmp_path: Path) -> None:
    missing = BrokerUrl.parse(f"mqtts://dev:s3cret@127.0.0.1:8883?ca={tmp_path / 'nope.pem'}")
    with pytest.raises(BrokerUrlError, match=r"nope\.pem: no such file"):
        MqttLink(missing, client_id="x")
    wrong = tmp_path / "notes.txt"
    wrong.write_text("not a certificate\n")
    with pytest.raises(BrokerUrlError, match=r"notes\.txt: not a PEM CA certificate") as caught:
        MqttLink(BrokerUrl.parse(f"mqtts://dev:s3cret@127.0.0.1:8883?ca={wrong}"), client_id="x")
    assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)


def test_passwords_come_from_a_file_or_the_environment(tmp_path: Path, caplog) -> None:
    url = BrokerUrl.parse("mqtt://dev-alice@127.0.0.1:1883")
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-the-file\n")
    secret.chmod(0o600)
    assert with_password(url, password_file=secret, environ={}).password == "from-the-file"
    env = {PASSWORD_ENV: "from-the-env"}
    assert with_password(url, environ=env).password == "from-the-env"
    assert with_password(url, environ={}).password is None  # nothing to add
    credentials = tmp_path / "credentials"  # what systemd's LoadCredential= makes
    credentials.mkdir()
    (credentials / "mqtt-password").write_text("from-systemd")
    unit = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert with_password(url, environ=unit).password == "from-systemd"
    assert with_password(url, environ={**unit, **env}).password == "from-the-env"
    in_url = BrokerUrl.parse("mqtt://dev-alice:in-url@127.0.0.1:1883")
    assert with_password(in_url, environ=env).password == "in-url"
    with pytest.raises(CredentialError, match="holds a password too"):
        with_password(in_url, password_file=secret, environ={})
    with pytest.raises(CredentialError, match="needs a username"):
        with_password(BrokerUrl.parse("mqtt://127.0.0.1"), password_file=secret, environ={})
    for text, problem in (("", "empty"), ("a\nb\n", "several lines"), (b"\xff\n", "not UTF-8")):
        secret.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(CredentialError, match=problem):
            read_password_file(secret)
    with pytest.raises(CredentialError, match="no such file"):
        read_password_file(tmp_path / "missing")
    secret.write_text("ok\n")
    secret.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        read_password_file(secret)
    assert "readable by every user (mode 0644): chmod 600 it" in caplog.text
    assert os.environ.get(PASSWORD_ENV) is None  # the tests never leak it into others
