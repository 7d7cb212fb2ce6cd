"""The edge publishes the person's zone only when its config changed it, merged into the profile.

Real Mosquitto; "the web view" is a plain MQTT client publishing what the web view publishes
(the person's retained profile with their display name and a zone they chose there).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from support.services import MosquittoBroker
from tests.test_publisher import TIMEOUT_S, until
from tests.test_server import client
from twitchwatch.contract import Profile, profile_topic

USER, DEVICE = "alice", "kitchen-pi"
TOPIC = profile_topic(USER)


async def retained_profile(broker: MosquittoBroker) -> dict[str, object]:
    async with client(broker, "profile-reader", [TOPIC]) as reader, asyncio.timeout(TIMEOUT_S):
        message = await anext(reader.messages())
    assert message.retain
    return json.loads(message.payload)


async def connect_once(broker: MosquittoBroker, outbox: Outbox, tz: str) -> int:
    """An edge run with ``[mqtt] tz = tz``: connects, announces, stops. Returns how many profile
    publishes a watcher saw meanwhile (not counting the retained copy)."""
    async with client(broker, "watcher", [TOPIC]) as watcher:
        await asyncio.sleep(0.3)  # the retained copy, if any, has come
        while watcher.pending_messages():
            await anext(watcher.messages())
        publisher = EdgePublisher(outbox, broker.url, profile=Profile(tz))
        async with publisher:
            await until(
                lambda: (
                    publisher.link.connects > 0 and publisher._connection == publisher.link.connects
                ),
                "the announce",
            )
        await asyncio.sleep(0.3)
        return watcher.pending_messages()


async def test_the_edge_keeps_the_web_views_name_and_zone_until_its_config_changes(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    web = {"v": 1, "tz": "Europe/Berlin", "name": "Alice"}
    async with client(mosquitto_broker, "web-view") as web_view:
        await web_view.publish(TOPIC, json.dumps(web).encode(), retain=True)
    with Outbox(tmp_path / "outbox.db", USER, DEVICE) as outbox:
        # First run with a zone in the config: published once, the name kept.
        assert await connect_once(mosquitto_broker, outbox, "America/Los_Angeles") == 1
        assert await retained_profile(mosquitto_broker) == web | {"tz": "America/Los_Angeles"}
        assert outbox.published_tz == "America/Los_Angeles"
        # The same config again: nothing sent.
        assert await connect_once(mosquitto_broker, outbox, "America/Los_Angeles") == 0
        # The person picks another zone in the web view: reconnects leave it alone.
        async with client(mosquitto_broker, "web-view") as web_view:
            tokyo = web | {"tz": "Asia/Tokyo"}
            await web_view.publish(TOPIC, json.dumps(tokyo).encode(), retain=True)
        assert await connect_once(mosquitto_broker, outbox, "America/Los_Angeles") == 0
        assert await retained_profile(mosquitto_broker) == tokyo
        # The config's zone changes: published again, merged.
        assert await connect_once(mosquitto_broker, outbox, "Europe/Paris") == 1
        assert await retained_profile(mosquitto_broker) == web | {"tz": "Europe/Paris"}
    # The choice is remembered in the outbox file across runs.
    with Outbox(tmp_path / "outbox.db", USER, DEVICE) as outbox:
        assert outbox.published_tz == "Europe/Paris"
        assert await connect_once(mosquitto_broker, outbox, "Europe/Paris") == 0


async def test_with_no_profile_on_the_broker_the_edge_publishes_its_zone(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    with Outbox(tmp_path / "outbox.db", USER, DEVICE) as outbox:
        assert await connect_once(mosquitto_broker, outbox, "Asia/Kolkata") == 1
    assert await retained_profile(mosquitto_broker) == {"v": 1, "tz": "Asia/Kolkata"}
