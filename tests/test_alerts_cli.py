"""`twitchwatch alerts`: what a person reads, what a script reads, acks, and the failure modes."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from server.alert_feed import (
    AlertFeed,
    format_event,
    format_state,
    parse_ack_target,
)
from server.errors import AckTargetError
from support.services import MosquittoBroker, free_port
from twitchwatch.contract import (
    ADVICE,
    AckAction,
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    Profile,
    Rule,
    Severity,
    Transition,
    alert_acks_topic,
    alert_events_topic,
    alert_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
WAIT_S = 10.0
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SPREAD_MESSAGE = (
    "Twitching now recorded in 2 body regions (lumbosacral since 2026-10-02, cervical since "
    "2026-11-14)."
)


def spread(version: int = 1, **changes: object) -> AlertState:
    fields: dict[str, object] = {
        "rule": Rule.SPREAD,
        "scope": "all",
        "severity": Severity.WARNING,
        "state": AlertStatus.FIRING,
        "since": T0,
        "message": SPREAD_MESSAGE,
        "evidence": {"regions": ["lumbosacral", "cervical"]},
        "context": ("caffeine",),
        "version": version,
    }
    fields.update(changes)
    return AlertState(**fields)  # type: ignore[arg-type]


def persistence(version: int = 1) -> AlertState:
    return AlertState(
        Rule.PERSISTENCE,
        "left_calf",
        Severity.ADVISORY,
        AlertStatus.RESOLVED,
        datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
        "Twitching at the left calf has been recorded on 2 of the last 14 days.",
        version=version,
    )


def state_message(state: AlertState, *, retain: bool = True, user: str = "alice") -> Message:
    topic = alert_topic(user, state.rule, state.scope)
    return Message(topic, state.to_payload(), 1, retain, False, 1)


def event_message(event: AlertEvent, *, dup: bool = False) -> Message:
    return Message(alert_events_topic("alice"), event.to_payload(), 1, False, dup, 2)


# --- wording -------------------------------------------------------------------------------------


def test_a_firing_warning_reads_as_one_calm_line_with_advice_and_context() -> None:
    assert format_state(spread()) == (
        "2026-11-21 10:00Z  WARNING   firing        spread/all  "
        f"{SPREAD_MESSAGE} Please consult a doctor. (also reported: caffeine; this does not "
        "change the advice)"
    )
    assert "harmless" not in format_state(spread())  # a warning never reassures
    # Advice the server already wrote is not repeated; resolved alerts give no advice.
    said = spread(message=f"{SPREAD_MESSAGE} {ADVICE[Severity.WARNING]}", context=())
    assert format_state(said).count(ADVICE[Severity.WARNING]) == 1
    # Nor is context the message already names (the server's wording does).
    named = spread(message=f"{SPREAD_MESSAGE} Possibly related and usually harmless: caffeine.")
    assert "also noted" not in format_state(named)
    assert format_state(persistence()) == (
        "2026-11-20 06:00Z  ADVISORY  resolved      persistence/left_calf  "
        "Twitching at the left calf has been recorded on 2 of the last 14 days."
    )


def test_each_transition_names_itself() -> None:
    urgent = AlertState(
        Rule.RED_FLAG,
        "swallowing",
        Severity.URGENT,
        AlertStatus.FIRING,
        T0,
        "You reported difficulty swallowing.",
        version=1,
    )
    line = format_event(AlertEvent(T0, Transition.FIRING, urgent))
    assert "URGENT    firing        red_flag/swallowing" in line
    assert line.endswith("You reported difficulty swallowing. Seek medical attention promptly.")
    escalated = format_event(AlertEvent(T0, Transition.ESCALATED, spread(3)))
    assert " escalated " in escalated and "Please consult a doctor." in escalated
    seen = format_event(AlertEvent(T0, Transition.ACKNOWLEDGED, spread(4, acknowledged=True)))
    assert seen.endswith(
        "acknowledged  spread/all  Marked as seen: no more reminders unless it changes."
    )
    assert format_state(spread(4, acknowledged=True)).count("[seen]") == 1


# --- one line per change -------------------------------------------------------------------------


def test_person_sees_current_states_then_each_change_once() -> None:
    feed = AlertFeed("alice")
    texts = lambda message: [line.text for line in feed.handle(message)]  # noqa: E731

    assert texts(state_message(spread(2))) == [format_state(spread(2))]
    assert texts(state_message(spread(3), retain=False)) == []  # its event says it better
    escalated = AlertEvent(T0, Transition.ESCALATED, spread(3, severity=Severity.URGENT))
    assert texts(event_message(escalated)) == [format_event(escalated)]
    assert texts(event_message(escalated, dup=True)) == []  # QoS 1 redelivery
    assert texts(state_message(spread(3))) == []  # retained again after a reconnect
    assert texts(state_message(spread(5))) == [format_state(spread(5))]  # missed while away
    assert texts(event_message(AlertEvent(T0, Transition.REMINDER, spread(4)))) == []  # older
    reminder = AlertEvent(T0.replace(day=28), Transition.REMINDER, spread(5))
    assert texts(event_message(reminder)) == [format_event(reminder)]  # same version, new event
    assert texts(Message("twitchwatch/v1/alice/laptop/windows", b"{}", 1, False, False, 3)) == []

    bad = feed.handle(Message(alert_topic("alice", "spread", "all"), b"{nope", 1, True, False, 4))
    assert len(bad) == 1 and bad[0].problem and "not JSON" in bad[0].text
    misfiled = persistence().to_payload()
    wrong = feed.handle(Message(alert_topic("alice", "spread", "all"), misfiled, 1, True, False, 5))
    assert wrong[0].problem and "disagrees with the topic" in wrong[0].text
    assert feed.malformed == 2

    cleared = feed.handle(Message(alert_topic("alice", "spread", "all"), b"", 1, False, False, 6))
    assert [line.text.split() for line in cleared] == [
        ["cleared", "spread/all", "No", "longer", "current."]
    ]
    assert texts(state_message(spread(1))) == [format_state(spread(1))]  # a new alert after it


def test_times_are_the_persons_and_only_what_notifies_is_told() -> None:
    feed = AlertFeed("alice")
    texts = lambda message: [line.text for line in feed.handle(message)]  # noqa: E731
    los_angeles = Profile("America/Los_Angeles").to_payload()
    assert texts(Message(profile_topic("alice"), los_angeles, 1, True, False, 1)) == []
    assert feed.subscriptions[0] == (profile_topic("alice"), 1)  # the zone comes first
    # 04:00 UTC on 22 Nov is 20:00 on 21 Nov in Los Angeles.
    late = spread(2, since=datetime(2026, 11, 22, 4, 0, tzinfo=UTC))
    assert texts(state_message(late))[0].startswith("2026-11-21 20:00 PST  WARNING")
    pending = AlertEvent(T0, Transition.PENDING, spread(3, state=AlertStatus.PENDING), notify=False)
    assert texts(event_message(pending)) == []  # pending is not a notification
    folded = persistence(4)
    quiet = AlertEvent(T0, Transition.FIRING, folded, notify=False)
    assert texts(event_message(quiet)) == []  # folded into a warning: not told separately
    fired = AlertEvent(T0, Transition.FIRING, spread(5))
    assert texts(event_message(fired))[0].startswith("2026-11-21 02:00 PST")
    fixed = AlertFeed("alice", tz="Europe/Berlin")  # --tz wins over the profile
    fixed.handle(Message(profile_topic("alice"), los_angeles, 1, True, False, 1))
    assert fixed.handle(state_message(spread(2)))[0].text.startswith("2026-11-21 11:00 CET")


def test_scripts_get_every_state_and_event_once_as_json() -> None:
    feed = AlertFeed("alice", as_json=True)
    event = AlertEvent(T0, Transition.ESCALATED, spread(3))
    messages = [
        state_message(spread(2)),
        state_message(spread(3), retain=False),
        event_message(event),
        event_message(event, dup=True),
        state_message(spread(3)),
        Message(alert_topic("alice", "spread", "all"), b"", 1, False, False, 6),
    ]
    lines = [json.loads(line.text) for m in messages for line in feed.handle(m)]
    assert lines == [
        {"topic": alert_topic("alice", "spread", "all"), **json.loads(spread(2).to_payload())},
        {"topic": alert_topic("alice", "spread", "all"), **json.loads(spread(3).to_payload())},
        {"topic": alert_events_topic("alice"), **json.loads(event.to_payload())},
        {
            "topic": alert_topic("alice", "spread", "all"),
            "rule": "spread",
            "scope": "all",
            "cleared": True,
        },
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("persistence", "use RULE/SCOPE"),
        ("gloom/left_calf", "unknown rule 'gloom'"),
        ("persistence/left calf", "scope id 'left calf'"),
    ],
)
def test_ack_targets_are_checked(value: str, problem: str) -> None:
    with pytest.raises(AckTargetError, match=problem):
        parse_ack_target(value)
    assert parse_ack_target("persistence/left_calf") == AlertAck(Rule.PERSISTENCE, "left_calf")


# --- the command ---------------------------------------------------------------------------------


async def _line(stream: asyncio.StreamReader) -> str:
    async with asyncio.timeout(WAIT_S):
        return (await stream.readline()).decode().rstrip("\n")


async def _run(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *TWITCHWATCH,
        "alerts",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_alerts_command_prints_states_then_events_until_ctrl_c(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = mosquitto_broker.url
    async with MqttLink(BrokerUrl.parse(url), client_id="test-server") as server:
        for state in (spread(2), persistence()):
            await server.publish(
                alert_topic("alice", state.rule, state.scope), state.to_payload(), retain=True
            )
        await server.publish(
            alert_topic("bob", "spread", "all"), spread(9).to_payload(), retain=True
        )
        process = await _run("--broker", url, "--user", "alice")
        assert process.stdout is not None and process.stderr is not None
        try:
            assert (await _line(process.stderr)).startswith("alerts of alice on mqtt://")
            current = {await _line(process.stdout), await _line(process.stdout)}
            assert current == {format_state(spread(2)), format_state(persistence())}

            event = AlertEvent(T0, Transition.ESCALATED, spread(3, severity=Severity.URGENT))
            await server.publish(alert_events_topic("alice"), event.to_payload())
            assert await _line(process.stdout) == format_event(event)

            await server.publish(alert_events_topic("alice"), b'{"v": 1, "rule": "spread"}')
            warning = await _line(process.stderr)
            assert warning.startswith("twitchwatch: warning: ignored a message on ")
            await server.publish(alert_topic("alice", "spread", "all"), b"", retain=True)
            assert "cleared" in await _line(process.stdout)
        finally:
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(WAIT_S):
                code = await process.wait()
        assert code == 130
        rest = (await process.stderr.read()).decode()
        assert "Traceback" not in rest


async def test_json_lines_for_scripts_and_seconds_ends_the_run(
    mosquitto_broker: MosquittoBroker,
) -> None:
    url = mosquitto_broker.url
    async with MqttLink(BrokerUrl.parse(url), client_id="test-server") as server:
        topic = alert_topic("alice", "spread", "all")
        await server.publish(topic, spread(2).to_payload(), retain=True)
        process = await _run("--broker", url, "--user", "alice", "--json", "--seconds", "2")
        assert process.stdout is not None
        assert json.loads(await _line(process.stdout)) == {
            "topic": topic,
            **json.loads(spread(2).to_payload()),
        }
        event = AlertEvent(T0, Transition.RESOLVED, spread(3, state=AlertStatus.RESOLVED))
        await server.publish(alert_events_topic("alice"), event.to_payload())
        assert json.loads(await _line(process.stdout))["transition"] == "resolved"
        async with asyncio.timeout(WAIT_S):
            assert await process.wait() == 0


async def test_ack_is_published_for_the_server(mosquitto_broker: MosquittoBroker) -> None:
    url = mosquitto_broker.url
    listener = MqttLink(
        BrokerUrl.parse(url),
        client_id="test-server",
        subscriptions=[(alert_acks_topic("alice"), 1)],
    )
    async with listener:
        process = await _run("--broker", url, "--user", "alice", "--ack", "persistence/left_calf")
        out, err = await asyncio.wait_for(process.communicate(), WAIT_S)
        assert process.returncode == 0, err.decode()
        assert "persistence/left_calf: marked as seen" in out.decode()
        async with asyncio.timeout(WAIT_S):
            message = await anext(listener.messages())
        assert AlertAck.from_payload(message.payload) == AlertAck(Rule.PERSISTENCE, "left_calf")
        process = await _run("--broker", url, "--user", "alice", "--resolve", "red_flag/speech")
        out, err = await asyncio.wait_for(process.communicate(), WAIT_S)
        assert process.returncode == 0, err.decode()
        assert "red_flag/speech: marked resolved" in out.decode()
        async with asyncio.timeout(WAIT_S):
            message = await anext(listener.messages())
        resolved = AlertAck(Rule.RED_FLAG, "speech", AckAction.RESOLVED)
        assert AlertAck.from_payload(message.payload) == resolved


@pytest.mark.parametrize(
    ("args", "problem", "code"),
    [
        (["--ack", "persistence"], "--ack 'persistence': use RULE/SCOPE", 2),
        (["--user", "al/ice"], "user id 'al/ice'", 2),
        (["--connect-timeout", "0.5"], "not reachable within 0.5 s", 1),
        (["--homeassistant", "--ha-prefix", "home/#"], "discovery prefix 'home/#'", 2),
    ],
)
def test_mistakes_exit_2_and_an_unreachable_broker_exits_1_in_one_line(
    args: list[str], problem: str, code: int
) -> None:
    base = ["--broker", f"mqtt://127.0.0.1:{free_port()}", "--user", "alice"]
    done = subprocess.run(
        [*TWITCHWATCH, "alerts", *base, *args], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == code
    assert done.stderr.startswith("twitchwatch: ") and len(done.stderr.splitlines()) == 1
    assert problem in done.stderr
