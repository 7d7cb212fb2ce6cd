"""Home Assistant discovery: the configs on a real broker, and the templates Home Assistant runs.

No Home Assistant here and no jinja2 in the venv: the templates are single expressions written in
the syntax Jinja and Python share (subscripts, arithmetic, ``a if c else b``, ``None``), so
evaluating the exact expression with Python on the exact payload is what Home Assistant computes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.alert_feed import AlertFeed, FeedLine, follow
from server.homeassistant import (
    ALERT_TEMPLATE,
    AVAILABILITY_TEMPLATE,
    Discovery,
    HomeAssistantBridge,
    rate_template,
    template_expression,
)
from support.services import MosquittoBroker
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    AlertState,
    AlertStatus,
    DeviceState,
    DeviceStatus,
    Rule,
    ServerStatus,
    Severity,
    SiteWindow,
    TopicKind,
    WindowMessage,
    alert_topic,
    device_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink

WAIT_S = 10.0
TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]


def render(template: str, payload: bytes) -> Any:
    """What Home Assistant's ``{{ … }}`` gives for this payload (value_json = the parsed JSON)."""
    expression = template_expression(template)
    assert "|" not in expression and "{%" not in expression  # no Jinja-only syntax
    return eval(expression, {"__builtins__": {}}, {"value_json": json.loads(payload)})


def site(twitches: int, rest_s: float) -> SiteWindow:
    return SiteWindow(twitches, 0, rest_s, 60.0 - rest_s, 0.0, 90.0 if twitches else None, "uV")


def window(
    device: str, sites: dict[str, SiteWindow], seq: int = 1, user: str = "alice"
) -> WindowMessage:
    end = datetime.now(UTC).replace(microsecond=0)
    return WindowMessage(user, device, seq, end - timedelta(seconds=60), end, sites)


def alert(state: AlertStatus, scope: str = "left_calf") -> AlertState:
    return AlertState(
        Rule.PERSISTENCE,
        scope,
        Severity.ADVISORY,
        state,
        datetime(2026, 11, 1, tzinfo=UTC),
        "Twitching recorded at the left calf on 16 of the last 21 days.",
        evidence={"days_active": 16, "days_observed": 21},
        context=("exercise",),
    )


def test_rate_template_gives_twitches_per_minute_of_rest_and_nothing_without_rest() -> None:
    payload = window(
        "laptop", {"left_calf": site(6, 40.0), "right_hand": site(2, 0.0)}
    ).to_payload()
    assert render(rate_template("left_calf"), payload) == pytest.approx(9.0)  # 6 in 40 s of rest
    assert render(rate_template("right_hand"), payload) is None  # no rest: unknown, not zero
    assert render(rate_template("left_thigh"), payload) is None  # site not in this window
    quiet = window("laptop", {"left_calf": site(0, 60.0)}).to_payload()
    assert render(rate_template("left_calf"), quiet) == 0.0  # observed and quiet is zero


def test_information_is_a_plain_sensor_and_alerts_follow_the_servers_status() -> None:
    bridge = HomeAssistantBridge("alice")
    eyelid = AlertState(
        Rule.PERSISTENCE,
        "left_eyelid",
        Severity.INFO,
        AlertStatus.FIRING,
        datetime(2026, 11, 1, tzinfo=UTC),
        "Twitching recorded at the left eyelid on 20 of 24 days.",
    )
    topic = alert_topic("alice", Rule.PERSISTENCE, "left_eyelid")
    (info,) = bridge.handle(Message(topic, eyelid.to_payload(), 1, True, False, 1)).publish
    assert (
        info.topic
        == "homeassistant/sensor/twitchwatch_alice/alert_persistence_left_eyelid_info/config"
    )
    config = json.loads(info.payload)
    assert (
        "device_class" not in config
        and render(config["value_template"], eyelid.to_payload()) == "firing"
    )
    assert config["availability"][0]["topic"] == SERVER_STATUS_TOPIC
    online = ServerStatus(DeviceState.ONLINE).to_payload()
    assert render(config["availability"][0]["value_template"], online) == "online"
    # The same alert at a higher severity is a problem: the info entity makes way for it.
    advisory = replace(eyelid, severity=Severity.ADVISORY, version=2)
    removed, problem = bridge.handle(
        Message(topic, advisory.to_payload(), 1, True, False, 2)
    ).publish
    assert removed == Discovery(info.topic, b"")
    assert json.loads(problem.payload)["device_class"] == "problem"
    assert json.loads(problem.payload)["availability"] == config["availability"]
    # The same severity again publishes nothing.
    assert bridge.handle(Message(topic, advisory.to_payload(), 1, True, False, 3)).publish == []


def test_alert_and_availability_templates() -> None:
    assert render(ALERT_TEMPLATE, alert(AlertStatus.FIRING).to_payload()) == "ON"
    for state in (AlertStatus.PENDING, AlertStatus.RESOLVED):
        assert render(ALERT_TEMPLATE, alert(state).to_payload()) == "OFF"
    for state in DeviceState:
        assert (
            render(AVAILABILITY_TEMPLATE, DeviceStatus("laptop", state).to_payload()) == state.value
        )


def test_bridge_skips_bad_windows_and_other_peoples_topics() -> None:
    bridge = HomeAssistantBridge("alice")
    topic = device_topic("alice", "laptop", TopicKind.WINDOWS)
    bad = bridge.handle(Message(topic, b'{"v": 1, "user": "alice"}', 1, False, False, 1))
    assert bad.publish == [] and len(bad.problems) == 1 and "laptop" in bad.problems[0]
    bob = window("laptop", {"left_calf": site(1, 30.0)}, user="bob")
    assert bridge.handle(Message(bob.topic, bob.to_payload(), 1, False, False, 2)).publish == []
    assert (
        bridge.handle(Message("homeassistant/status", b"offline", 1, False, False, 3)).publish == []
    )
    assert bridge.rejected_windows == 1 and bridge.configs == []


class Observer:
    """A plain MQTT client reading everything under the discovery prefix."""

    def __init__(self, url: str, name: str) -> None:
        self.link = MqttLink(
            BrokerUrl.parse(url), client_id=name, subscriptions=[("homeassistant/#", 1)]
        )

    async def take(self, n: int) -> list[Message]:
        """The next n discovery configs (Home Assistant's own status is under the prefix too)."""
        taken: list[Message] = []
        async with asyncio.timeout(WAIT_S):
            async for message in self.link.messages():
                if message.topic.endswith("/config"):
                    taken.append(message)
                if len(taken) == n:
                    return taken
        raise AssertionError("unreachable: messages() never ends")


def configs(messages: list[Message]) -> dict[str, dict[str, Any]]:
    return {m.topic: json.loads(m.payload) for m in messages}


async def test_discovery_configs_on_the_broker(mosquitto_broker: MosquittoBroker) -> None:
    url = mosquitto_broker.url
    server = MqttLink(BrokerUrl.parse(url), client_id="test-server")
    observer = Observer(url, "test-observer")
    feed, bridge = AlertFeed("alice"), HomeAssistantBridge("alice")
    bridge_link = MqttLink(
        BrokerUrl.parse(url),
        client_id="test-bridge",
        subscriptions=[*feed.subscriptions, *bridge.subscriptions],
    )
    lines: list[FeedLine] = []
    calf_alert = alert_topic("alice", Rule.PERSISTENCE, "left_calf")
    async with server, observer.link:
        await server.publish(calf_alert, alert(AlertStatus.FIRING).to_payload(), retain=True)
        async with bridge_link:
            task = asyncio.create_task(follow(bridge_link, feed, lines.append, bridge))
            try:
                # The retained alert's entity comes first, so the bridge is subscribed by now.
                seen = configs(await observer.take(1))
                first = window("laptop", {"left_calf": site(3, 50.0), "right_hand": site(0, 60.0)})
                await server.publish(first.topic, first.to_payload())
                seen |= configs(await observer.take(2))

                await server.publish(first.topic, window("laptop", first.sites, 2).to_payload())
                await server.publish("homeassistant/status", b"online")  # Home Assistant restarted
                again = configs(await observer.take(3))
                assert again == seen
                thigh = window("pi", {"left_thigh": site(1, 30.0)})
                await server.publish(thigh.topic, thigh.to_payload())
                # Had the second laptop window made configs, they would come before this one.
                (new,) = await observer.take(1)
                assert (
                    new.topic == "homeassistant/sensor/twitchwatch_alice/pi_left_thigh_rate/config"
                )

                await server.publish(calf_alert, b"", retain=True)  # alert removed: entity too
                (removed,) = await observer.take(1)
                assert removed.payload == b""
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    assert [line.text for line in lines if line.problem] == []

    calf = seen["homeassistant/sensor/twitchwatch_alice/laptop_left_calf_rate/config"]
    assert calf == {
        "name": "Left calf twitch rate",
        "unique_id": "twitchwatch_alice_laptop_left_calf_rate",
        "default_entity_id": "sensor.twitchwatch_alice_laptop_left_calf_rate",
        "state_topic": first.topic,
        "value_template": rate_template("left_calf"),
        "unit_of_measurement": "twitches/min",
        "state_class": "measurement",
        "suggested_display_precision": 1,
        "expire_after": 180,  # three 60 s windows
        "availability": [
            {
                "topic": device_topic("alice", "laptop", TopicKind.STATUS),
                "value_template": AVAILABILITY_TEMPLATE,
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "icon": "mdi:pulse",
        "qos": 1,
        "device": {
            "identifiers": ["twitchwatch_alice_laptop"],
            "name": "TwitchWatch laptop",
            "manufacturer": "TwitchWatch",
            "model": "Twitch sensor (edge agent)",
            "sw_version": calf["origin"]["sw"],
        },
        "origin": {"name": "TwitchWatch", "sw": calf["origin"]["sw"]},
    }
    hand = seen["homeassistant/sensor/twitchwatch_alice/laptop_right_hand_rate/config"]
    assert hand["device"] == calf["device"] and hand["unique_id"] != calf["unique_id"]
    problem = seen[
        "homeassistant/binary_sensor/twitchwatch_alice/alert_persistence_left_calf/config"
    ]
    assert problem["device_class"] == "problem"
    assert problem["state_topic"] == problem["json_attributes_topic"] == calf_alert
    assert problem["value_template"] == ALERT_TEMPLATE
    assert (problem["payload_on"], problem["payload_off"]) == ("ON", "OFF")
    assert problem["name"] == "Persistent twitching (Left calf)"
    for config in seen.values():
        assert "object_id" not in config  # deprecated in Home Assistant; default_entity_id instead

    # Retained: a Home Assistant that connects later gets every current entity, and not the removed one.
    late = Observer(url, "test-late")
    async with late.link:
        retained = await late.take(3)
    assert all(m.retain for m in retained)
    assert set(configs(retained)) == {
        "homeassistant/sensor/twitchwatch_alice/laptop_left_calf_rate/config",
        "homeassistant/sensor/twitchwatch_alice/laptop_right_hand_rate/config",
        "homeassistant/sensor/twitchwatch_alice/pi_left_thigh_rate/config",
    }


async def test_alerts_command_with_homeassistant_publishes_discovery(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = mosquitto_broker.url
    observer = Observer(url, "test-observer")
    async with MqttLink(BrokerUrl.parse(url), client_id="test-server") as server, observer.link:
        await server.publish(
            alert_topic("alice", Rule.SPREAD, "all"),
            AlertState(
                Rule.SPREAD,
                "all",
                Severity.WARNING,
                AlertStatus.FIRING,
                datetime(2026, 11, 1, tzinfo=UTC),
                "Twitching now recorded in 2 body regions.",
            ).to_payload(),
            retain=True,
        )
        process = await asyncio.create_subprocess_exec(
            *TWITCHWATCH,
            "alerts",
            "--broker",
            url,
            "--user",
            "alice",
            "--homeassistant",
            "--seconds",
            "10",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            async with asyncio.timeout(WAIT_S):
                assert b"spread/all" in await process.stdout.readline()  # subscribed
            (config,) = await observer.take(1)
            assert (
                config.topic
                == "homeassistant/binary_sensor/twitchwatch_alice/alert_spread_all/config"
            )
            assert (
                json.loads(config.payload)["name"] == "Twitching spreading to other muscle groups"
            )
            calf = window("laptop", {"left_calf": site(2, 45.0)})
            await server.publish(calf.topic, calf.to_payload())
            (sensor,) = await observer.take(1)
            assert json.loads(sensor.payload)["state_topic"] == calf.topic
        finally:
            process.terminate()
            await process.wait()
