"""The wall-clock tick waits while a user's backlog is still arriving (real Mosquitto and SQLite).

A person's six weeks of history arrive in two parts; their persistence alert fires in the
first. Between the parts the server's tick runs many times. Evaluating the open alert at the
wall clock's "now" there would move the person's evaluation time past every day of the second
part, so those days would never be evaluated one by one (the "no measurements" notice of a
sensor that was only late, reminders on the wrong days). The tick defers a user whose data was
stored within its period; once the data pauses for a period, the tick evaluates them at now.
The only fake is the wall clock, held still so that the timing is the test's, not the machine's.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.rules import load_rule_config
from server.service import Server
from server.service_options import ServerOptions
from server.store import open_store
from support.histories import benign_calf, replay
from support.services import MosquittoBroker
from tests.test_publisher import until
from tests.test_server import client, publish_all, running, wait_acks
from tests.test_server_clock import Clock
from tests.test_server_replay import daily_messages, keyed, person
from twitchwatch.contract import AlertEvent, Transition

TIMEOUT_S = 60.0
#: The day of the story the second part starts on: the persistence advisory fired before it.
SPLIT_DAY = 28


async def test_the_tick_defers_a_user_whose_backlog_is_still_arriving(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    p = person("late", benign_calf(weeks=6))
    messages = list(daily_messages(p))

    def day_of(topic: str, payload: bytes) -> int:
        if not topic.endswith("/windows"):
            return -1
        return p.day_index(datetime.fromisoformat(json.loads(payload)["start"]))

    split = next(i for i, m in enumerate(messages) if day_of(*m) >= SPLIT_DAY)
    first, second = messages[:split], messages[split:]
    seqs = [sum(1 for t, _ in part if t.endswith("/windows")) for part in (first, messages)]

    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    tick = ServerOptions(tick_s=0.1)  # 0.1 s of the test's clock too: it stands still meanwhile
    db = tmp_path / "tick.db"
    url = f"sqlite:///{db}"
    server = Server(mosquitto_broker.url, url, client_id="tick", options=tick, clock=clock)
    events: list[AlertEvent] = []
    async with (
        running(server),
        client(mosquitto_broker, "watcher", ["twitchwatch/v1/late/alerts/events"]) as watcher,
        client(mosquitto_broker, "acks", ["twitchwatch/v1/+/+/ack"]) as acks,
        client(mosquitto_broker, "edge") as edge,
    ):
        await publish_all(edge, first)
        await wait_acks(acks, {p.device: seqs[0]})
        await until(lambda: server.stats.messages >= len(first), "first part taken", TIMEOUT_S)
        await until(lambda: not server.pending_evaluations, "first part evaluated", TIMEOUT_S)
        ticks = server.stats.ticks
        await until(
            lambda: server.stats.ticks >= ticks + 5, "the clock ticked meanwhile", TIMEOUT_S
        )
        assert server.stats.deferred >= 5, "the alert is open: every tick found and deferred it"

        await publish_all(edge, second)
        await wait_acks(acks, {p.device: seqs[1]})
        await until(lambda: server.stats.messages >= len(messages), "second part taken", TIMEOUT_S)
        await until(lambda: not server.pending_evaluations, "second part evaluated", TIMEOUT_S)
        clock.now += timedelta(minutes=1)  # the data paused for a whole period: now it is due
        ticks = server.stats.ticks
        await until(lambda: server.stats.ticks >= ticks + 2, "the clock ticked after", TIMEOUT_S)
        await asyncio.sleep(0.3)  # the last events are on their way
        while watcher.pending_messages():
            async for message in watcher.messages():
                events.append(AlertEvent.from_payload(message.payload))
                break

    run = replay(p.scenario, load_rule_config(None))
    want = [
        (day, e.alert.rule, e.alert.scope, e.transition, e.alert.severity, e.notify)
        for day, e in zip(run.event_days, run.events, strict=True)
    ]
    got = [k for k in keyed(events, p.day_index) if k[0] < p.scenario.n_days]
    assert got == want
    assert any(e.transition is Transition.FIRING for e in events)
    assert not any(e.transition is Transition.NO_DATA for e in events), "the data was only late"
    store = open_store(url)
    try:
        with store.transaction(users=["late"]) as tx:
            assert tx.evaluated_at("late") == clock.now, "the tick took the user once due"
    finally:
        store.close()
