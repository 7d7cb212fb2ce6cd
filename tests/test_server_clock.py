"""The server's wall clock and its own status, through a real Mosquitto: time passes without data.

A report of slurred speech, then nothing: the server's tick (fast here, an hour in service)
evaluates the open alert on its clock, asks after two weeks and closes after 30 days with what
to do if it goes on. The person marks another symptom resolved on the acks topic. The server's
retained status is online while it runs and offline after it stops.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.service import Server
from server.service_options import ServerOptions
from support.services import MosquittoBroker
from tests.test_server import client, running
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    AckAction,
    AlertAck,
    AlertEvent,
    AlertStatus,
    DeviceState,
    Profile,
    Report,
    ReportKind,
    Rule,
    ServerStatus,
    Transition,
    alert_acks_topic,
    alerts_filter,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import MqttLink

TIMEOUT_S = 20.0


class Clock:
    """A wall clock the test moves (the only fake: time itself)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def next_event(link: MqttLink, wanted: Transition) -> AlertEvent:
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            if message.topic.endswith("/alerts/events"):
                event = AlertEvent.from_payload(message.payload)
                if event.transition is wanted:
                    return event
    raise AssertionError("unreachable")


async def retained_status(broker: MosquittoBroker) -> DeviceState:
    async with client(broker, "status-reader", [SERVER_STATUS_TOPIC]) as reader:
        async with asyncio.timeout(TIMEOUT_S):
            async for message in reader.messages():
                return ServerStatus.from_payload(message.payload).state
    raise AssertionError("unreachable")


async def test_the_wall_clock_asks_then_closes_a_symptom_without_any_data(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    clock = Clock(reported + timedelta(minutes=30))
    server = Server(
        mosquitto_broker.url,
        f"sqlite:///{tmp_path / 'clock.db'}",
        client_id="clock-server",
        options=ServerOptions(tick_s=0.2),
        clock=clock,
    )
    async with (
        running(server),
        client(mosquitto_broker, "person", [alerts_filter("ann")]) as person,
    ):
        assert await retained_status(mosquitto_broker) is DeviceState.ONLINE
        await person.publish(
            profile_topic("ann"), Profile("Europe/Berlin").to_payload(), retain=True
        )
        speech = Report(reported, ReportKind.SPEECH, note="slurred")
        await person.publish(reports_topic("ann"), speech.to_payload())
        fired = await next_event(person, Transition.FIRING)
        assert (fired.alert.rule, fired.alert.scope) == (Rule.RED_FLAG, "speech")
        await person.publish(
            alert_acks_topic("ann"), AlertAck(Rule.RED_FLAG, "speech").to_payload()
        )
        await next_event(person, Transition.ACKNOWLEDGED)

        clock.now = reported + timedelta(days=15)  # no data at all since the report
        asked = await next_event(person, Transition.REMINDER)
        assert "not reported again since" in asked.alert.message and asked.notify

        clock.now = reported + timedelta(days=31)
        closed = await next_event(person, Transition.RESOLVED)
        assert closed.alert.state is AlertStatus.RESOLVED and closed.notify
        assert "report it again and seek medical attention promptly" in closed.alert.message
        assert server.stats.ticks >= 3
    assert await retained_status(mosquitto_broker) is DeviceState.OFFLINE


async def test_the_person_marks_a_symptom_resolved_after_seeing_a_doctor(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    server = Server(
        mosquitto_broker.url, f"sqlite:///{tmp_path / 'resolve.db'}", client_id="resolve-server"
    )
    async with (
        running(server),
        client(mosquitto_broker, "person", [alerts_filter("ben")]) as person,
    ):
        report = Report(reported, ReportKind.NUMBNESS, site="left_hand")
        await person.publish(reports_topic("ben"), report.to_payload())
        fired = await next_event(person, Transition.FIRING)
        assert (fired.alert.rule, fired.alert.scope) == (Rule.NUMBNESS, "cervical")
        done = AlertAck(Rule.NUMBNESS, "cervical", AckAction.RESOLVED)
        await person.publish(alert_acks_topic("ben"), done.to_payload())
        resolved = await next_event(person, Transition.RESOLVED)
        assert "Marked resolved" in resolved.alert.message
        # An answer about an alert the person does not have is refused and counted.
        wrong = AlertAck(Rule.PERSISTENCE, "left_calf", AckAction.RESOLVED)
        await person.publish(alert_acks_topic("ben"), wrong.to_payload())
        async with asyncio.timeout(TIMEOUT_S):
            while server.stats.rejected < 1:
                await asyncio.sleep(0.05)


async def test_the_server_republishes_its_status_with_its_time(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """Edges compare the fresh copies' time with their own clock (edge/wall_clock.py)."""
    clock = Clock(datetime(2026, 12, 6, 7, 0, tzinfo=UTC))
    server = Server(
        mosquitto_broker.url,
        f"sqlite:///{tmp_path / 'status.db'}",
        client_id="status-server",
        options=ServerOptions(status_every_s=0.2),
        clock=clock,
    )
    async with running(server), client(mosquitto_broker, "edge", [SERVER_STATUS_TOPIC]) as edge:
        fresh: list[ServerStatus] = []
        async with asyncio.timeout(TIMEOUT_S):
            async for message in edge.messages():
                if not message.retain:
                    fresh.append(ServerStatus.from_payload(message.payload))
                    clock.now += timedelta(minutes=1)
                if len(fresh) == 2:
                    break
    assert [s.state for s in fresh] == [DeviceState.ONLINE] * 2
    assert fresh[1].at is not None and fresh[0].at is not None
    assert fresh[1].at - fresh[0].at == timedelta(minutes=1)  # each says the time it was sent
