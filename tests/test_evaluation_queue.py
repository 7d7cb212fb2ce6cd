"""The order of the server's time-sliced evaluations: reporters first, then longest waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.evaluation_queue import EvaluationQueue
from server.service import Server
from server.service_options import ServerOptions
from support.services import MosquittoBroker
from tests.test_server import TIMEOUT_S, client, make_window, publish_all, running
from twitchwatch.contract import (
    AlertEvent,
    Report,
    ReportKind,
    Rule,
    Transition,
    alerts_filter,
    reports_topic,
)


def test_reporters_go_first_and_the_rest_keep_their_place() -> None:
    queue = EvaluationQueue()
    queue.add(["cleo", "abel", "bea"])
    queue.add(["abel", "dan"], reported=["dan"])  # abel keeps his place; dan reported
    assert queue.in_order() == ["dan", "cleo", "abel", "bea"]
    queue.add(["bea"], reported=["bea"])  # waiting, then reports: moves ahead
    assert queue.in_order() == ["dan", "bea", "cleo", "abel"]
    queue.add(["bea"])  # more windows do not move her back
    assert queue.in_order()[:2] == ["dan", "bea"]
    queue.done("dan")
    queue.done("cleo")
    assert queue.in_order() == ["bea", "abel"] and len(queue) == 2 and "abel" in queue
    queue.add(["cleo"])  # evaluated, then new data: to the back
    assert list(queue) == ["bea", "abel", "cleo"]
    for user in queue.in_order():
        queue.done(user)
    assert not queue and len(queue) == 0


async def test_a_report_is_answered_before_hundreds_of_users_windows_are_evaluated(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """Through real Mosquitto and SQLite: 300 users' windows, then slurred speech from one more
    user (last in every order but the queue's). Evaluating one user per slice, the urgent alert
    is out while most of the others still wait."""
    options = ServerOptions(evaluate_slice_s=0.0)
    server = Server(
        mosquitto_broker.url, f"sqlite:///{tmp_path / 'q.db'}", client_id="q", options=options
    )
    windows = [make_window(1, device=f"dev{i:03d}", user=f"user{i:03d}") for i in range(300)]
    speech = Report(datetime.now(UTC) - timedelta(minutes=1), ReportKind.SPEECH)
    async with (
        running(server),
        client(mosquitto_broker, "person", [alerts_filter("zed")]) as person,
        client(mosquitto_broker, "edges") as edges,
    ):
        await publish_all(edges, [(w.topic, w.to_payload()) for w in windows])
        await edges.publish(reports_topic("zed"), speech.to_payload())
        async with asyncio.timeout(TIMEOUT_S):
            async for message in person.messages():
                if message.topic.endswith("/events"):
                    event = AlertEvent.from_payload(message.payload)
                    if event.transition is Transition.FIRING:
                        break
        waiting = server.pending_evaluations
        assert event.alert.rule is Rule.RED_FLAG
        assert waiting > 100, f"only {waiting} users still waited: the report was not first"
        async with asyncio.timeout(TIMEOUT_S):
            while server.pending_evaluations:
                await asyncio.sleep(0.05)
    assert server.stats.evaluations >= 301
