"""Issue 15, the server's side: the ack means "dealt with", through real Mosquitto and real stores.

Each test here failed before its change: a window refused for good froze the device's ack.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.report.data import load_report_data
from server.report.figures import render_figures
from server.report.html import render_html
from server.rules import load_rule_config
from server.service import Server
from server.store import open_store
from support.services import MosquittoBroker
from tests.test_server import ack_topic, client, make_window, publish_all, running, wait_acks


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/twitchwatch.db"
    return request.getfixturevalue("postgres_url")


def booted_without_clock(seq: int) -> bytes:
    """A window from an edge whose clock starts in 1970: the contract refuses it for good."""
    doc = json.loads(make_window(seq).to_payload())
    doc["start"], doc["end"] = "1970-01-01T00:01:00Z", "1970-01-01T00:02:00Z"
    return json.dumps(doc).encode()


async def test_a_window_refused_for_good_does_not_hold_back_the_ack(
    mosquitto_broker: MosquittoBroker, store_url: str
) -> None:
    windows = [make_window(s) for s in (1, 2, 4, 5)]
    messages = [(w.topic, w.to_payload()) for w in windows]
    messages.insert(2, (windows[0].topic, booted_without_clock(3)))
    async with (
        running(Server(mosquitto_broker.url, store_url)),
        client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge,
    ):
        await publish_all(edge, messages)
        assert (await wait_acks(edge, {"calf-01": 5}))["calf-01"] == 5
        # Sent again: the ack comes again; the person's count is per window, not per message.
        await publish_all(edge, [(windows[0].topic, booted_without_clock(3))])
        assert (await wait_acks(edge, {"calf-01": 5}))["calf-01"] == 5
    with open_store(store_url) as store:
        assert store.refused_windows("alice") == {"too_old": 1}
        assert store.rejects() == {"too_old": 2}
        assert store.device_acks()[0].acked_seq == 5
        # The person sees it in their report, beside the time worn.
        data = load_report_data(store, "alice", load_rule_config(None))
    page = render_html(data, render_figures(data))
    assert "1 window refused: they started too long ago (was the sensor&#x27;s clock set?)" in page


def test_a_version_2_database_is_migrated_to_record_refusals(store_url: str) -> None:
    with open_store(store_url) as store, store.transaction():
        store.backend.execute("ALTER TABLE windows DROP COLUMN refused")
        store.backend.execute("UPDATE schema_version SET version = 2")
    with open_store(store_url) as store:
        with store.transaction():
            assert store.backend.execute("SELECT version FROM schema_version") == [(3,)]
        assert store.refused_windows("alice") == {}
        received = datetime.now(UTC)
        assert store.store_windows([make_window(1)], received).acks[0].acked_seq == 1
