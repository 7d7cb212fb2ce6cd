"""The server's Last Will waits out a short reconnect (MQTT 5 Will Delay Interval, real Mosquitto).

Home Assistant takes the alert entities' availability from the server's retained status: a
network blip or a restart within the delay must not show them unavailable and back, while a
server that is gone for good is still reported offline, once the delay has passed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.service import Server
from server.service_options import ServerOptions
from support.services import MosquittoBroker
from tests.test_server import client, running
from twitchwatch.contract import SERVER_STATUS_TOPIC, DeviceState, ServerStatus
from twitchwatch.mqtt_link import MqttLink

TIMEOUT_S = 20.0


async def next_status(watcher: MqttLink) -> DeviceState:
    async with asyncio.timeout(TIMEOUT_S):
        async for message in watcher.messages_across_reconnects():
            return ServerStatus.from_payload(message.payload).state
    raise AssertionError("unreachable")


async def reconnected(link: MqttLink, connects: int) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        while link.connects < connects or not link.connected.is_set():
            await asyncio.sleep(0.05)


async def test_a_short_reconnect_never_shows_the_server_offline(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    server = Server(mosquitto_broker.url, f"sqlite:///{tmp_path / 'w.db'}", client_id="will-1")
    assert server.options.will_delay_s == 30  # as the edge's
    async with (
        client(mosquitto_broker, "ha", [SERVER_STATUS_TOPIC]) as home_assistant,
        running(server),
    ):
        assert await next_status(home_assistant) is DeviceState.ONLINE
        assert server.link is not None
        server.link.drop_connection()  # no DISCONNECT: the broker holds the Will for 30 s
        await reconnected(server.link, 2)
        await asyncio.sleep(1.0)
        said = [await next_status(home_assistant) for _ in range(home_assistant.pending_messages())]
        assert said and set(said) == {DeviceState.ONLINE}, said  # said again, never offline
    assert await next_status(home_assistant) is DeviceState.OFFLINE  # a clean stop: at once


async def test_a_server_gone_for_good_is_offline_after_the_delay(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    options = ServerOptions(will_delay_s=2)
    server = Server(
        mosquitto_broker.url, f"sqlite:///{tmp_path / 'w.db'}", client_id="will-2", options=options
    )
    async with (
        client(mosquitto_broker, "ha", [SERVER_STATUS_TOPIC]) as home_assistant,
        running(server),
    ):
        assert await next_status(home_assistant) is DeviceState.ONLINE
        assert server.link is not None
        loop = asyncio.get_running_loop()
        server.link.drop_connection()
        server.link._client.loop_stop()  # no reconnect: as if the process had died
        died = loop.time()
        assert await next_status(home_assistant) is DeviceState.OFFLINE
        assert loop.time() - died >= options.will_delay_s - 0.5
