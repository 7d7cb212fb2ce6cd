"""The MQTT adapter against a real Mosquitto: sessions, manual acks, the Will, refusals."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from support.services import MosquittoBroker, free_port
from twitchwatch.mqtt_link import (
    BrokerUrl,
    LinkLost,
    Message,
    MqttLink,
    MqttLinkError,
    Protocol,
    Will,
)

TIMEOUT_S = 10.0


async def _take(link: MqttLink, n: int, ack: bool = True) -> list[Message]:
    got: list[Message] = []
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            got.append(message)
            if ack:
                link.ack(message)
            if len(got) == n:
                return got
    return got


def test_broker_urls() -> None:
    url = BrokerUrl.parse("mqtts://dev-alice:s%40cret@broker.example:8884?ca=/etc/tw/ca.pem")
    assert (url.host, url.port, url.tls, url.username, url.password, url.ca_file) == (
        "broker.example",
        8884,
        True,
        "dev-alice",
        "s@cret",
        "/etc/tw/ca.pem",
    )
    assert BrokerUrl.parse("mqtt://127.0.0.1").port == 1883
    assert "s@cret" not in repr(url) and "s@cret" not in str(url)
    for bad in ("http://x", "mqtt://", "mqtt://host:port"):
        with pytest.raises(MqttLinkError):
            BrokerUrl.parse(bad)


@pytest.mark.parametrize("protocol", list(Protocol))
async def test_persistent_session_queues_while_away(
    mosquitto_broker: MosquittoBroker, protocol: Protocol
) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)

    def subscriber() -> MqttLink:
        return MqttLink(
            url,
            client_id="server-1",
            protocol=protocol,
            subscriptions=[("t/#", 1)],
            session_expiry_s=3600,
            manual_ack=True,
        )

    async with subscriber():
        pass  # creates the session and its subscription
    async with MqttLink(url, client_id="edge-1", protocol=protocol) as edge:
        for i in range(3):
            await edge.publish("t/x", str(i).encode())
    async with subscriber() as again:
        assert again.session_present
        got = await _take(again, 3)
    assert [m.payload for m in got] == [b"0", b"1", b"2"]


async def test_clean_session_gets_nothing_sent_while_away(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(url, client_id="s", subscriptions=[("t/#", 1)]):
        pass
    async with MqttLink(url, client_id="edge-1") as edge:
        await edge.publish("t/x", b"lost")
    async with MqttLink(url, client_id="s", subscriptions=[("t/#", 1)]) as again:
        assert not again.session_present
        await edge_publish_marker(url)
        got = await _take(again, 1)
    assert got[0].payload == b"marker"


async def edge_publish_marker(url: BrokerUrl) -> None:
    async with MqttLink(url, client_id="marker") as link:
        await link.publish("t/m", b"marker")


async def test_unacknowledged_messages_come_back_after_a_crash(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Manual ack: a message taken but not acknowledged (the process died before its commit)
    is delivered again, marked as a duplicate."""
    url = BrokerUrl.parse(mosquitto_broker.url)

    def server() -> MqttLink:
        return MqttLink(
            url,
            client_id="server-1",
            subscriptions=[("t/#", 1)],
            session_expiry_s=3600,
            manual_ack=True,
        )

    first = server()
    async with first:
        async with MqttLink(url, client_id="edge-1") as edge:
            for i in range(5):
                await edge.publish("t/x", str(i).encode())
        taken = await _take(first, 5, ack=False)
        for message in taken[:2]:
            first.ack(message)
        await asyncio.sleep(0.2)  # let the two PUBACKs leave before the "crash"
        first.drop_connection()
    async with server() as second:
        again = await _take(second, 3)
    assert [m.payload for m in again] == [b"2", b"3", b"4"]
    assert all(m.dup for m in again)


async def test_the_will_is_published_when_the_link_dies(mosquitto_broker: MosquittoBroker) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(url, client_id="watcher", subscriptions=[("dev/status", 1)]) as watcher:
        edge = MqttLink(url, client_id="edge-1", will=Will("dev/status", b"offline"))
        async with edge:
            await edge.publish("dev/status", b"online", retain=True)
            assert (await _take(watcher, 1))[0].payload == b"online"
            edge.drop_connection()
            assert (await _take(watcher, 1))[0].payload == b"offline"


async def test_a_clean_close_does_not_send_the_will(mosquitto_broker: MosquittoBroker) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(url, client_id="watcher", subscriptions=[("dev/#", 1)]) as watcher:
        async with MqttLink(url, client_id="edge-1", will=Will("dev/status", b"offline")) as edge:
            await edge.publish("dev/status", b"online", retain=True)
        await edge_publish_to(url, "dev/after", b"after")
        got = await _take(watcher, 2)
    assert [m.payload for m in got] == [b"online", b"after"]


async def edge_publish_to(url: BrokerUrl, topic: str, payload: bytes) -> None:
    async with MqttLink(url, client_id="other") as link:
        await link.publish(topic, payload)


async def test_publish_waits_out_a_broker_restart(mosquitto_broker: MosquittoBroker) -> None:
    """QoS 1 published while the broker is down is sent after paho reconnects."""
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with (
        MqttLink(
            url, client_id="s", subscriptions=[("t/#", 1)], session_expiry_s=600, manual_ack=True
        ) as sub,
        MqttLink(url, client_id="edge-1") as edge,
    ):
        mosquitto_broker.stop()
        await asyncio.sleep(0.1)
        pending = edge.publish_nowait("t/x", b"during outage")
        mosquitto_broker.start()
        async with asyncio.timeout(3 * TIMEOUT_S):
            await pending
        got = await _take(sub, 1)
    assert got[0].payload == b"during outage"


async def test_unreachable_broker_is_one_clear_error() -> None:
    link = MqttLink(BrokerUrl.parse(f"mqtt://127.0.0.1:{free_port()}"), client_id="x")
    link.start()
    try:
        with pytest.raises(MqttLinkError, match="not reachable"):
            await link.wait_connected(within_s=1.0)
    finally:
        await link.close()


@pytest.fixture
def password_broker(mosquitto_broker: MosquittoBroker, tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A second Mosquitto that wants dev-alice's password (mosquitto_broker ensures the binary)."""
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    subprocess.run(
        ["mosquitto_passwd", "-b", str(passwords), "dev-alice", "right"],
        check=True,
        capture_output=True,
    )
    with MosquittoBroker(
        extra_config=f"allow_anonymous false\npassword_file {passwords}"
    ) as broker:
        yield broker


async def test_wrong_password_is_refused(password_broker: MosquittoBroker) -> None:
    port = password_broker.port
    async with MqttLink(BrokerUrl.parse(f"mqtt://dev-alice:right@127.0.0.1:{port}"), client_id="a"):
        pass
    bad = BrokerUrl.parse(f"mqtt://dev-alice:wrong@127.0.0.1:{port}")
    with pytest.raises(MqttLinkError, match="refused"):
        async with MqttLink(bad, client_id="b"):
            pass


# --- the message iterator ends when the connection does (as aiomqtt's) ----------------------------


async def _until_lost(link: MqttLink) -> tuple[list[bytes], LinkLost]:
    """Iterate ``link.messages()`` to its end: the payloads it gave, and the LinkLost it ended with."""
    payloads = []
    with pytest.raises(LinkLost) as lost:
        async with asyncio.timeout(TIMEOUT_S):
            async for message in link.messages():
                payloads.append(message.payload)
    return payloads, lost.value


async def test_the_iterator_gives_what_is_queued_then_ends_when_the_broker_stops(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(url, client_id="s", subscriptions=[("t/#", 1)]) as link:
        waiting = asyncio.create_task(_until_lost(link))
        await edge_publish_to(url, "t/x", b"before")
        await asyncio.sleep(0.1)
        assert not waiting.done()  # connected: it waits for more
        mosquitto_broker.stop()
        payloads, lost = await waiting
        assert payloads == [b"before"]
        assert not lost.closed and lost.reason

        # Messages that arrived before the drop are handed out first, then LinkLost again.
        mosquitto_broker.start()
        async with asyncio.timeout(3 * TIMEOUT_S):
            await link.subscribed.wait()
        for payload in (b"a", b"b"):
            await edge_publish_to(url, "t/x", payload)
        async with asyncio.timeout(TIMEOUT_S):
            while link.pending_messages() < 2:
                await asyncio.sleep(0.02)
        mosquitto_broker.stop()
        async with asyncio.timeout(TIMEOUT_S):
            while link.connected.is_set():
                await asyncio.sleep(0.02)
        payloads, lost = await _until_lost(link)
        assert payloads == [b"a", b"b"] and not lost.closed


async def test_iterating_again_after_the_broker_is_back_receives_new_messages(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(url, client_id="s", subscriptions=[("t/#", 1)]) as link:
        waiting = asyncio.create_task(_until_lost(link))
        await asyncio.sleep(0.1)
        mosquitto_broker.stop()
        await waiting
        with pytest.raises(LinkLost):  # down: a new iteration ends at once
            await anext(link.messages())
        mosquitto_broker.start()
        async with asyncio.timeout(3 * TIMEOUT_S):
            await link.subscribed.wait()
        await edge_publish_to(url, "t/x", b"after")
        async with asyncio.timeout(TIMEOUT_S):
            message = await anext(link.messages())
    assert message.payload == b"after"
    assert message.connection == link.connects == 2


async def test_close_ends_a_waiting_iterator_at_once(mosquitto_broker: MosquittoBroker) -> None:
    url = BrokerUrl.parse(mosquitto_broker.url)
    link = MqttLink(url, client_id="s", subscriptions=[("t/#", 1)])
    async with link:
        one_connection = asyncio.create_task(_until_lost(link))
        every_connection = asyncio.create_task(_collect(link.messages_across_reconnects()))
        await asyncio.sleep(0.1)
        assert not one_connection.done() and not every_connection.done()
        closing = asyncio.create_task(link.close())
        async with asyncio.timeout(1.0):
            payloads, lost = await one_connection
            assert await every_connection == []  # it ends without an error
        await closing
    assert payloads == [] and lost.closed
    with pytest.raises(LinkLost):
        await anext(link.messages())


async def _collect(messages: AsyncIterator[Message]) -> list[Message]:
    return [message async for message in messages]


async def test_an_ack_from_an_earlier_connection_is_ignored(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """After a reconnect the broker delivers again what was not acknowledged, and the old
    connection's message id may name another message now: acking the old copy sends nothing."""
    url = BrokerUrl.parse(mosquitto_broker.url)
    async with MqttLink(
        url,
        client_id="server-1",
        subscriptions=[("t/#", 1)],
        session_expiry_s=3600,
        manual_ack=True,
    ) as server:
        await edge_publish_to(url, "t/x", b"a")
        [first] = await _take(server, 1, ack=False)
        server.drop_connection()  # paho reconnects; the broker delivers "a" again
        [again] = await _take(server, 1, ack=False)
        assert (again.payload, again.dup) == (b"a", True)
        assert first.connection + 1 == again.connection == server.connects
        server.ack(first)  # stale: ignored
        await asyncio.sleep(0.2)  # had it been sent, the broker would have it by now
        server.drop_connection()
        [third] = await _take(server, 1)  # still unacknowledged: delivered once more
    assert (third.payload, third.dup) == (b"a", True)
