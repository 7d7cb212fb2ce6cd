"""Issue 15, the server's side: the ack means "dealt with", through real Mosquitto and real stores.

Each test here failed before its change: a window refused for good froze the device's ack; a
lost server database never converged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from server.errors import DatabaseReplacedError
from server.report.data import load_report_data
from server.report.figures import render_figures
from server.report.html import render_html
from server.rules import load_rule_config
from server.service import Server
from server.service_options import ServerOptions
from server.store import Outcome, open_store
from server.store.schema import SCHEMA_VERSION
from support.services import MosquittoBroker
from tests.test_publisher import until
from tests.test_server import (
    START,
    _start_server_process,
    ack_topic,
    client,
    make_window,
    publish_all,
    running,
    wait_acks,
)
from twitchwatch.contract import (
    DeviceAck,
    PayloadError,
    Report,
    ReportKind,
    SiteWindow,
    TopicKind,
    WindowMessage,
    device_topic,
    format_utc,
    reports_topic,
)
from twitchwatch.mqtt_link import MqttLink

TIMEOUT_S = 20.0
#: The edge resends a window its server has not acked after this (30 s in production).
RESEND_S = 5.0
#: Issue 15: a lost server database converges within a minute.
CONVERGE_S = 60.0


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
        store.backend.execute("ALTER TABLE reports DROP COLUMN report_id")
        store.backend.execute("ALTER TABLE users DROP COLUMN stored_utc")  # version 4's
        store.backend.execute("UPDATE schema_version SET version = 2")
    with open_store(store_url) as store:
        with store.transaction():
            assert store.backend.execute("SELECT version FROM schema_version") == [
                (SCHEMA_VERSION,)
            ]
        assert store.refused_windows("alice") == {}
        received = datetime.now(UTC)
        assert store.store_windows([make_window(1)], received).acks[0].acked_seq == 1


# --- H3: a lost server database ------------------------------------------------------------------


def held_windows(n: int, first: int) -> list[tuple[datetime, datetime, dict[str, SiteWindow]]]:
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    out = []
    for i in range(first, first + n):
        start = base + timedelta(minutes=i)
        out.append((start, start + timedelta(minutes=1), {"left_calf": SITE(i)}))
    return out


def SITE(i: int) -> SiteWindow:
    return SiteWindow(i % 7, 0, 50.0, 4.0, 6.0, 100.0 + i, "uV")


def delete_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def test_a_lost_server_database_resynchronises_and_loses_nothing_the_edge_held(
    mosquitto_broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "tw.db"
    outbox = Outbox(tmp_path / "outbox.db", "alice", "kitchen-pi")
    publisher = EdgePublisher(outbox, mosquitto_broker.url, resend_after_s=RESEND_S)
    async with publisher:
        async with running(Server(mosquitto_broker.url, f"sqlite:///{db}")):
            for w in held_windows(20, 0):
                publisher.add(*w)
            assert await publisher.wait_drained(TIMEOUT_S)
        # The server is down; the edge keeps measuring; the database is lost, and with it
        # (worst case) the broker's session for the server: what it had queued is gone too.
        held = [publisher.add(*w) for w in held_windows(10, 20)]
        delete_sqlite(db)
        t0 = time.monotonic()
        async with running(
            Server(mosquitto_broker.url, f"sqlite:///{db}", client_id="server-after-the-loss")
        ):
            held += [publisher.add(*w) for w in held_windows(10, 30)]
            assert await publisher.wait_drained(CONVERGE_S), publisher.format_stats()
        converged_s = time.monotonic() - t0
    print(f"converged {converged_s:.1f} s after the server restarted on an empty database")
    assert converged_s < CONVERGE_S
    assert publisher.stats.acked_seq == 40
    with open_store(f"sqlite:///{db}") as store, store.transaction():
        stored = store.backend.execute("SELECT seq FROM windows WHERE refused IS NULL ORDER BY seq")
        twitches = store.backend.execute("SELECT SUM(twitches) FROM daily_site")[0][0]
    assert [s for (s,) in stored] == [m.seq for m in held if m is not None] == list(range(21, 41))
    assert twitches == sum(i % 7 for i in range(20, 40))
    resyncs = [r for r in caplog.records if "holds nothing below seq 21" in r.getMessage()]
    assert len(resyncs) == 1  # logged once
    outbox.close()


async def test_an_ack_that_goes_back_sends_every_held_window_again_with_first_held(
    mosquitto_broker: MosquittoBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "outbox.db", "alice", "kitchen-pi")
    windows_topic = device_topic("alice", "kitchen-pi", TopicKind.WINDOWS)
    ack = device_topic("alice", "kitchen-pi", TopicKind.ACK)
    received: list[WindowMessage] = []

    async def take(link: MqttLink, n: int) -> None:
        async with asyncio.timeout(TIMEOUT_S):
            async for message in link.messages_across_reconnects():
                doc = WindowMessage.from_payload(message.payload, user="alice", device="kitchen-pi")
                received.append(doc)
                if len(received) >= n:
                    return

    # Resends only after ten minutes: what comes back sooner comes from the ack going back.
    publisher = EdgePublisher(outbox, mosquitto_broker.url, resend_after_s=600.0)
    async with client(mosquitto_broker, "fake-server", [windows_topic]) as server, publisher:
        for w in held_windows(5, 0):
            publisher.add(*w)
        await take(server, 5)
        await server.publish(ack, DeviceAck("kitchen-pi", 2).to_payload(), retain=True)
        await until(lambda: len(outbox) == 3, "the outbox to forget acked windows", TIMEOUT_S)
        assert [m.first_held for m in received] == [1, 1, 1, 1, 1]
        await server.publish(ack, DeviceAck("kitchen-pi", 0).to_payload(), retain=True)
        await take(server, 8)
    assert [(m.seq, m.first_held) for m in received[5:]] == [(3, 3), (4, 3), (5, 3)]
    went_back = [r for r in caplog.records if "ack went back" in r.getMessage()]
    assert len(went_back) == 1  # said once
    outbox.close()


def test_first_held_is_additive_and_checked() -> None:
    window = make_window(7)
    assert b"first_held" not in window.to_payload()  # as before: older servers read it as ever
    parsed = WindowMessage.from_payload(
        dataclasses.replace(window, first_held=3).to_payload(), user="alice", device="calf-01"
    )
    assert parsed.first_held == 3
    doc = json.loads(window.to_payload()) | {"first_held": 8}  # above its own seq: impossible
    with pytest.raises(PayloadError, match="first_held"):
        WindowMessage.from_payload(json.dumps(doc).encode(), user="alice", device="calf-01")


# --- M1: the database file deleted or replaced under a running server ----------------------------


async def test_a_deleted_database_file_stops_the_server_before_it_acks_again(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    db = tmp_path / "tw.db"
    process = await asyncio.to_thread(_start_server_process, mosquitto_broker, db)
    try:
        async with client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
            await publish_all(
                edge, [(w.topic, w.to_payload()) for w in map(make_window, range(1, 11))]
            )
            assert (await wait_acks(edge, {"calf-01": 10}))["calf-01"] == 10
            delete_sqlite(db)
            later = [make_window(s) for s in range(11, 21)]
            await publish_all(edge, [(w.topic, w.to_payload()) for w in later])
            _, err = await asyncio.to_thread(process.communicate, timeout=TIMEOUT_S)
            # Nothing it received after the loss was acknowledged.
            async with client(mosquitto_broker, "look", [ack_topic("calf-01")]) as look:
                assert (await wait_acks(look, {"calf-01": 10}))["calf-01"] == 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "the file was deleted while the server ran" in lines[0], err


def test_a_replaced_database_file_is_noticed(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    with open_store(f"sqlite:///{db}") as store:
        store.check_identity()  # the file it opened: fine
        with open_store(f"sqlite:///{tmp_path}/other.db"):
            pass
        os.replace(tmp_path / "other.db", db)  # a restore from backup under a running server
        with pytest.raises(DatabaseReplacedError, match="the file was replaced"):
            store.check_identity()


# --- reports: a correction replaces; JSON with a key twice is refused -----------------------------


def test_a_report_with_the_id_of_a_stored_one_replaces_it(store_url: str) -> None:
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    first = Report(t, ReportKind.CAFFEINE, value=2.0, id="r-1")
    with open_store(store_url) as store:
        assert store.store_report("alice", first) is True
        assert store.store_report("alice", first) is False  # the same again: nothing changes
        # Corrected: the same time, kind and site (dropped as a duplicate before), then a new time.
        assert store.store_report("alice", replace(first, value=3.0)) is True
        assert store.store_report("alice", replace(first, value=3.0, t=t - timedelta(hours=2)))
        assert store.store_report("bob", first) is True  # ids are the sender's, per person
        assert store.store_report("alice", Report(t, ReportKind.SLEEP, value=7.0)) is True
        with store.reading() as tx:
            reports = tx.reports_between("alice", t - timedelta(days=1), t + timedelta(hours=1))
    assert sorted((r.kind, r.value, r.t) for r in reports) == [
        (ReportKind.CAFFEINE, 3.0, t - timedelta(hours=2)),
        (ReportKind.SLEEP, 7.0, t),
    ]


def test_report_ids_round_trip_and_bad_ones_are_refused() -> None:
    report = Report(datetime.now(UTC).replace(microsecond=0), ReportKind.STRESS, value=4.0)
    assert b'"id"' not in report.to_payload()
    with_id = replace(report, id="3f2b9c1e-0d4a-4f7e-9a51-2c8e6b1d7a90")
    assert Report.from_payload(with_id.to_payload()) == with_id
    doc = json.loads(report.to_payload()) | {"id": "a b/c"}
    with pytest.raises(PayloadError, match="id"):
        Report.from_payload(json.dumps(doc).encode())


async def test_json_with_a_key_twice_is_refused_in_one_line_and_counted(
    mosquitto_broker: MosquittoBroker, store_url: str
) -> None:
    twice = b'{"v": 1, "t": "%s", "kind": "weakness", "kind": "caffeine"}' % (
        format_utc(datetime.now(UTC) - timedelta(hours=1)).encode()
    )
    with pytest.raises(PayloadError) as refused:
        Report.from_payload(twice)
    assert refused.value.problem == "duplicate_key" and "\n" not in str(refused.value)
    window = make_window(1)
    async with (
        running(Server(mosquitto_broker.url, store_url)) as server,
        client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge,
    ):
        await edge.publish(reports_topic("alice"), twice)
        await edge.publish(window.topic, window.to_payload())
        await wait_acks(edge, {"calf-01": 1})
        assert server.stats.rejected == 1
    with open_store(store_url) as store:
        assert store.rejects() == {"duplicate_key": 1}


# --- device ids are per user -------------------------------------------------------------------


async def test_two_people_may_each_name_a_device_kitchen_pi(
    mosquitto_broker: MosquittoBroker, store_url: str
) -> None:
    alice = [make_window(s, "kitchen-pi", "alice") for s in range(1, 4)]
    bob = [make_window(s, "kitchen-pi", "bob") for s in range(1, 6)]
    topics = [ack_topic("kitchen-pi", "alice"), ack_topic("kitchen-pi", "bob")]
    async with (
        running(Server(mosquitto_broker.url, store_url)) as server,
        client(mosquitto_broker, "edges", topics) as edges,
    ):
        await publish_all(edges, [(w.topic, w.to_payload()) for w in alice + bob])
        seen = await wait_acks_by_topic(edges, {topics[0]: 3, topics[1]: 5})
        assert server.stats.rejected == 0
    assert seen == {topics[0]: 3, topics[1]: 5}  # each its own seqs, its own ack
    with open_store(store_url) as store:
        assert {(a.user, a.device, a.acked_seq) for a in store.device_acks()} == {
            ("alice", "kitchen-pi", 3),
            ("bob", "kitchen-pi", 5),
        }
        assert {u: len(store.load_history(u, START.date(), datetime.now(UTC)).days) > 0
                for u in ("alice", "bob")} == {"alice": True, "bob": True}  # fmt: skip


async def wait_acks_by_topic(link: MqttLink, want: dict[str, int]) -> dict[str, int]:
    seen: dict[str, int] = {}
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            device = message.topic.split("/")[-2]
            seen[message.topic] = DeviceAck.from_payload(message.payload, device=device).seq
            if all(seen.get(t, 0) >= seq for t, seq in want.items()):
                return seen
    return seen


def test_a_version_2_database_keys_its_devices_by_user(store_url: str) -> None:
    with open_store(store_url) as store:
        store.store_windows([make_window(1, "kitchen-pi", "alice")], datetime.now(UTC))
        with store.transaction():  # as a version 2 database held it: the bare device id
            store.backend.execute("ALTER TABLE windows DROP COLUMN refused")
            store.backend.execute("ALTER TABLE reports DROP COLUMN report_id")
            store.backend.execute("ALTER TABLE users DROP COLUMN stored_utc")
            for table in ("devices", "windows", "window_sites"):
                store.backend.execute(f"UPDATE {table} SET device_id = 'kitchen-pi'")
            store.backend.execute("UPDATE schema_version SET version = 2")
    with open_store(store_url) as store:
        received = datetime.now(UTC)
        result = store.store_windows(
            [make_window(1, "kitchen-pi", "alice"), make_window(2, "kitchen-pi", "alice"),
             make_window(1, "kitchen-pi", "bob")],
            received,
        )  # fmt: skip
        assert result.outcomes == (Outcome.DUPLICATE, Outcome.STORED, Outcome.STORED)
        assert {(a.user, a.acked_seq) for a in store.device_acks()} == {("alice", 2), ("bob", 1)}


# --- retained acks of vanished devices ------------------------------------------------------------


async def retained_acks(broker: MosquittoBroker, topic: str, wait_s: float = 1.0) -> list[int]:
    """The retained ack a new subscriber is handed (none: [])."""
    seen = []
    async with client(broker, f"look-{time.monotonic_ns()}", [topic]) as look:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                async for message in look.messages_across_reconnects():
                    seen.append(DeviceAck.from_payload(message.payload, device="calf-01").seq)
    return seen


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_the_retained_ack_of_a_vanished_device_expires_and_is_not_republished(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/tw.db"
    options = ServerOptions(ack_expiry_s=2)  # 30 days in production
    window = make_window(1)
    async with running(Server(mosquitto_broker.url, url, options=options)):
        async with client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
            await edge.publish(window.topic, window.to_payload())
            await wait_acks(edge, {"calf-01": 1})
        assert await retained_acks(mosquitto_broker, ack_topic("calf-01")) == [1]
        await asyncio.sleep(2.5)
        assert await retained_acks(mosquitto_broker, ack_topic("calf-01")) == []
    # A restart republishes the acks of devices heard from lately only.
    async with running(Server(mosquitto_broker.url, url, options=options)):
        assert await retained_acks(mosquitto_broker, ack_topic("calf-01")) == []
    async with running(Server(mosquitto_broker.url, url)):  # 30 days: this device is recent
        assert await retained_acks(mosquitto_broker, ack_topic("calf-01")) == [1]
