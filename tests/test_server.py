"""The server end to end through a real Mosquitto: stored once, acked, alerts out, crashes survived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.service import Server
from server.service_options import ServerOptions
from server.store import open_store
from support.services import MosquittoBroker
from twitchwatch.cli import main
from twitchwatch.contract import (
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    DeviceAck,
    Report,
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    TopicKind,
    Transition,
    WindowMessage,
    alert_acks_topic,
    alerts_filter,
    device_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import MAX_PACKET_BYTES, BrokerUrl, MqttLink, Protocol

TIMEOUT_S = 20.0
SERVER_ID = "server-under-test"
TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
SITES = ("left_calf", "right_calf")
#: Windows of the last days: inside the contract's clock bounds whenever the test runs.
START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=3)


def make_window(
    seq: int, device: str = "calf-01", user: str = "alice", sites: Iterable[str] = SITES
) -> WindowMessage:
    start = START + timedelta(minutes=seq)
    return WindowMessage(
        user,
        device,
        seq,
        start,
        start + timedelta(minutes=1),
        {site: SiteWindow(seq % 7, 0, 40.0, 10.0, 10.0, 60.0, "uV") for site in sites},
    )


def twitches_sent(windows: Iterable[WindowMessage]) -> int:
    return sum(s.twitches for w in windows for s in w.sites.values())


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def stored_twitches(db: Path) -> tuple[int, int, int]:
    """(twitches in daily_site, windows rows, window_sites rows), read beside a running server."""
    with sqlite3.connect(db) as conn:
        daily = conn.execute("SELECT COALESCE(SUM(twitches), 0) FROM daily_site").fetchone()[0]
        windows = conn.execute("SELECT COUNT(*) FROM windows").fetchone()[0]
        sites = conn.execute("SELECT COUNT(*) FROM window_sites").fetchone()[0]
    return daily, windows, sites


@asynccontextmanager
async def running(server: Server) -> AsyncIterator[Server]:
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, timeout=TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # it failed: raise its error
    assert server.ready.is_set(), "server not ready"
    try:
        yield server
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT_S)


@asynccontextmanager
async def client(broker: MosquittoBroker, name: str, topics: Sequence[str] = ()):
    link = MqttLink(
        BrokerUrl.parse(broker.url), client_id=name, subscriptions=[(t, 1) for t in topics]
    )
    async with link:
        yield link


async def publish_all(link: MqttLink, messages: Iterable[tuple[str, bytes]]) -> None:
    await asyncio.gather(*(link.publish_nowait(topic, payload) for topic, payload in messages))


async def wait_acks(link: MqttLink, want: dict[str, int]) -> dict[str, int]:
    """Read DeviceAcks until every device's acked seq reaches ``want``; the last seen."""
    seen: dict[str, int] = {}
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            device = message.topic.split("/")[-2]
            seen[device] = DeviceAck.from_payload(message.payload, device=device).seq
            if all(seen.get(d, 0) >= seq for d, seq in want.items()):
                return seen
    return seen


def ack_topic(device: str, user: str = "alice") -> str:
    return device_topic(user, device, TopicKind.ACK)


async def test_windows_are_stored_once_and_acknowledged(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    db = tmp_path / "tw.db"
    windows = [make_window(s, d) for d in ("calf-01", "hand-02") for s in range(1, 61)]
    async with running(Server(mosquitto_broker.url, sqlite_url(db))) as server:
        async with client(
            mosquitto_broker, "edge", [ack_topic("calf-01"), ack_topic("hand-02")]
        ) as edge:
            await publish_all(edge, [(w.topic, w.to_payload()) for w in windows])
            await wait_acks(edge, {"calf-01": 60, "hand-02": 60})
            # Redelivered and replayed: nothing counts twice, and the ack comes again.
            replay = make_window(5, "calf-01")
            replay = WindowMessage(**{**_fields(replay), "seq": 61})
            await publish_all(edge, [(windows[0].topic, windows[0].to_payload())] * 3)
            await publish_all(edge, [(replay.topic, replay.to_payload())])
            assert (await wait_acks(edge, {"calf-01": 61}))["calf-01"] == 61
        # A device connecting later finds its ack retained.
        async with client(mosquitto_broker, "edge-again", [ack_topic("hand-02")]) as again:
            assert await wait_acks(again, {"hand-02": 60}) == {"hand-02": 60}
        assert server.stats.stored == 120
        assert server.stats.duplicates == 3
        assert server.stats.replayed == 1
    assert stored_twitches(db) == (twitches_sent(windows), 121, 240)


async def test_mqtt_3_1_1_serves_too(mosquitto_broker: MosquittoBroker, tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    windows = [make_window(s) for s in range(1, 11)]
    server = Server(mosquitto_broker.url, sqlite_url(db), protocol=Protocol.MQTT311)
    async with running(server), client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
        await publish_all(edge, [(w.topic, w.to_payload()) for w in windows])
        await wait_acks(edge, {"calf-01": 10})
    assert stored_twitches(db) == (twitches_sent(windows), 10, 20)


def _fields(w: WindowMessage) -> dict[str, object]:
    return {name: getattr(w, name) for name in ("user", "device", "seq", "start", "end", "sites")}


HOSTILE: list[tuple[str, bytes | str, str]] = [
    # (topic suffix under twitchwatch/v1/, payload, the problem it is counted under)
    ("alice/calf-01/windows", b"NaN", "not_json"),
    ("alice/calf-01/windows", b"{not json", "not_json"),
    ("alice/calf-01/windows", b"[1, 2, 3]", "not_object"),
    ("alice/calf-01/windows", b"[" * 5000 + b"]" * 5000, "not_json"),
    # Over the contract's cap but under the link's Maximum Packet Size: ingest refuses it.
    ("alice/calf-01/windows", b"x" * 100_000, "too_large"),
    ("alice/calf-01/windows", "wrong_types", "bad_type"),
    ("alice/calf-01/windows", "negative", "out_of_range"),
    ("alice/calf-01/windows", "nan_field", "not_json"),
    ("alice/calf-01/windows", "unknown_site", "unknown_site"),
    ("alice/calf-01/windows", "future", "future"),
    ("alice/calf-01/windows", "other_device", "id_mismatch"),
    ("mallory/calf-01/windows", "user_mismatch", "id_mismatch"),
    ("alice/bad device/windows", "valid", "bad_topic"),
    ("alice/reports", b'{"v": 1, "t": "2026-01-01T00:00:00", "kind": "weakness"}', "bad_time"),
    ("alice/reports", b'{"v": 1, "t": "2999-01-01T00:00:00Z", "kind": "weakness"}', "future"),
    ("alice/acks", b'{"v": 1, "rule": "persistence", "scope": "left_calf"}', "unknown_alert"),
    ("alice/calf-01/status", b'{"v": 1, "device": "calf-01", "state": "asleep"}', "bad_state"),
]


def _hostile_payload(kind: str) -> bytes:
    doc = json.loads(make_window(2).to_payload())
    match kind:
        case "wrong_types":
            doc["sites"]["left_calf"]["twitches"] = "many"
        case "negative":
            doc["sites"]["left_calf"]["twitches"] = -3
        case "nan_field":
            return json.dumps(doc).replace('"rest_s": 40.0', '"rest_s": NaN').encode()
        case "unknown_site":
            doc["sites"]["left_tail"] = doc["sites"].pop("left_calf")
        case "future":
            doc["start"], doc["end"] = "2999-01-01T00:00:00Z", "2999-01-01T00:01:00Z"
        case "other_device":
            doc["device"] = "hand-02"
        case "user_mismatch":
            doc["user"] = "alice"
    return json.dumps(doc).encode()


async def test_hostile_payloads_are_counted_and_the_server_keeps_going(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    db = tmp_path / "tw.db"
    async with running(Server(mosquitto_broker.url, sqlite_url(db))) as server:
        async with client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
            first = make_window(1)
            await edge.publish(first.topic, first.to_payload())
            await wait_acks(edge, {"calf-01": 1})
            for suffix, payload, _ in HOSTILE:
                body = payload if isinstance(payload, bytes) else _hostile_payload(payload)
                await edge.publish(f"twitchwatch/v1/{suffix}", body)
            # Over MAX_PACKET_BYTES: the broker (no size limit here) never sends it to the
            # server, whose CONNECT said so (MQTT 5 Maximum Packet Size): not even counted.
            await edge.publish(first.topic, b"x" * (MAX_PACKET_BYTES + 1))
            valid = make_window(2)
            await edge.publish(valid.topic, valid.to_payload())
            # The refusals of seq 2 already moved the ack to 2 (dealt with); seq 3 follows the
            # valid 2 (stored after all) through the broker, in order.
            after = make_window(3)
            await edge.publish(after.topic, after.to_payload())
            await wait_acks(edge, {"calf-01": 3})
        assert server.stats.rejected == len(HOSTILE)
    expected: dict[str, int] = {}
    for _, _, problem in HOSTILE:
        expected[problem] = expected.get(problem, 0) + 1
    with open_store(sqlite_url(db)) as store:
        assert store.rejects() == expected
    assert stored_twitches(db)[1:] == (3, 6)


async def test_alerts_are_published_retained_and_acknowledged(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    swallowing = Report(START + timedelta(hours=1), ReportKind.SWALLOWING, note="since Tuesday")
    async with running(Server(mosquitto_broker.url, sqlite_url(tmp_path / "tw.db"))):
        async with client(mosquitto_broker, "person", [alerts_filter("alice")]) as person:
            await person.publish(reports_topic("alice"), swallowing.to_payload())
            state, event = await _alert_and_event(person)
            assert (state.rule, state.scope) == (Rule.RED_FLAG, "swallowing")
            assert (state.severity, state.state) == (Severity.URGENT, AlertStatus.FIRING)
            assert event.transition is Transition.FIRING and event.alert == state
            assert "medical attention" in state.message
            await person.publish(
                alert_acks_topic("alice"), AlertAck(Rule.RED_FLAG, "swallowing").to_payload()
            )
            state, event = await _alert_and_event(person)
            assert state.acknowledged and event.transition is Transition.ACKNOWLEDGED
            assert state.version == 2
        # The same report again changes nothing: no second firing.
        async with client(mosquitto_broker, "late-reader", [alerts_filter("alice")]) as reader:
            await reader.publish(reports_topic("alice"), swallowing.to_payload())
            retained = await _next(reader)
            assert retained.retain and AlertState.from_payload(retained.payload).version == 2
            with pytest.raises(TimeoutError):
                await _next(reader, timeout_s=1.0)


async def _next(link: MqttLink, timeout_s: float = TIMEOUT_S):
    async with asyncio.timeout(timeout_s):
        return await anext(link.messages())


async def _alert_and_event(link: MqttLink) -> tuple[AlertState, AlertEvent]:
    got: dict[bool, bytes] = {}
    while len(got) < 2:
        message = await _next(link)
        got[message.topic.endswith("/events")] = message.payload
    return AlertState.from_payload(got[False]), AlertEvent.from_payload(got[True])


async def test_a_restart_publishes_what_a_crash_left_undone(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "tw.db")
    # A previous run stored a report but crashed before evaluating it, and recorded a transition
    # the broker never acknowledged.
    lost = AlertEvent(
        START,
        Transition.REMINDER,
        AlertState(
            Rule.PERSISTENCE, "left_calf", Severity.ADVISORY, AlertStatus.FIRING, START, "…"
        ),
    )
    with open_store(url) as store:
        store.store_report("alice", Report(START, ReportKind.BREATHING))
        store.add_events("alice", [lost])
    server = Server(mosquitto_broker.url, url)
    events: list[AlertEvent] = []
    async with (
        client(mosquitto_broker, "person", [alerts_filter("alice")]) as person,
        running(server),
    ):
        while len(events) < 2:
            message = await _next(person)
            if message.topic.endswith("/events"):
                events.append(AlertEvent.from_payload(message.payload))
    assert lost in events
    assert [(e.alert.scope, e.transition) for e in events if e != lost] == [
        ("breathing", Transition.FIRING)
    ]
    with open_store(url) as store:
        assert store.dirty_users() == []
        assert store.unpublished_events() == []  # the broker acknowledged both


async def test_a_locked_database_is_retried_and_nothing_is_acked_meanwhile(
    mosquitto_broker: MosquittoBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("server.store.sqlite.BUSY_TIMEOUT_S", 0.02)
    db = tmp_path / "tw.db"
    windows = [make_window(s) for s in range(1, 21)]
    server = Server(mosquitto_broker.url, sqlite_url(db), options=ServerOptions(retry_min_s=0.02))
    async with running(server), client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. a backup holding the write lock
        try:
            await publish_all(edge, [(w.topic, w.to_payload()) for w in windows])
            async with asyncio.timeout(TIMEOUT_S):
                while server.stats.db_retries < 3:
                    await asyncio.sleep(0.01)
            assert edge.pending_messages() == 0  # no DeviceAck: nothing is stored yet
        finally:
            other.execute("ROLLBACK")
            other.close()
        await wait_acks(edge, {"calf-01": 20})
    assert stored_twitches(db) == (twitches_sent(windows), 20, 40)


async def test_a_broker_restart_mid_stream_loses_nothing(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    db = tmp_path / "tw.db"
    windows = [make_window(s) for s in range(1, 1501)]
    server = Server(mosquitto_broker.url, sqlite_url(db))
    async with running(server), client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
        # Publish without waiting: paho keeps what the broker has not acknowledged and
        # sends it again once the broker is back.
        futures = [edge.publish_nowait(w.topic, w.to_payload()) for w in windows[:750]]
        await asyncio.gather(*futures[:300])
        await asyncio.to_thread(mosquitto_broker.restart)  # SIGTERM: saves its database
        futures += [edge.publish_nowait(w.topic, w.to_payload()) for w in windows[750:]]
        async with asyncio.timeout(TIMEOUT_S):
            await asyncio.gather(*futures)
        await wait_acks(edge, {"calf-01": 1500})
    assert stored_twitches(db) == (twitches_sent(windows), 1500, 3000)


def _start_server_process(broker: MosquittoBroker, db: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*TWITCHWATCH, "server", "--broker", broker.url, "--db", sqlite_url(db),
         "--client-id", SERVER_ID],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("twitchwatch server:"), (line, process.stderr and process.stderr.read())
    return process


async def test_a_server_killed_mid_stream_loses_nothing_and_counts_nothing_twice(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    db = tmp_path / "tw.db"
    windows = [make_window(s, d) for d in ("calf-01", "hand-02") for s in range(1, 1001)]
    windows.sort(key=lambda w: w.seq)
    killed_at: list[int] = []
    # The server's session exists (as after an earlier run), so what is published while it is
    # down is queued, and it starts with a backlog to work through at full speed.
    session = Server(mosquitto_broker.url, sqlite_url(db), client_id=SERVER_ID)
    async with MqttLink(
        BrokerUrl.parse(mosquitto_broker.url),
        client_id=SERVER_ID,
        subscriptions=session.subscriptions,
        session_expiry_s=session.options.session_expiry_s,
    ):
        pass
    process = None
    try:
        async with client(
            mosquitto_broker, "edge", [ack_topic("calf-01"), ack_topic("hand-02")]
        ) as edge:
            await publish_all(edge, [(w.topic, w.to_payload()) for w in windows])
            process = await asyncio.to_thread(_start_server_process, mosquitto_broker, db)
            # Twice: SIGKILL while it is busy storing (the store is most of its work, so the
            # kill lands inside a transaction more often than not), then start it again with
            # the same client id. The second kill follows the restarted server's first commit:
            # a fixed threshold could be overtaken by one batch (up to 500 windows) in one go.
            for n_kill in range(2):
                threshold = 300 if n_kill == 0 else killed_at[0] + 1
                async with asyncio.timeout(TIMEOUT_S):
                    while stored_twitches(db)[1] < threshold:
                        await asyncio.sleep(0.005)
                await asyncio.sleep(0.02)  # not right after a commit: into the next batch
                process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(process.wait)
                killed_at.append(stored_twitches(db)[1])
                process = await asyncio.to_thread(_start_server_process, mosquitto_broker, db)
            await wait_acks(edge, {"calf-01": 1000, "hand-02": 1000})
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(process.communicate, timeout=TIMEOUT_S)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert 300 <= killed_at[0] < killed_at[1] < 2000, "a kill did not land mid-stream"
    stored_by_last = int(out.split(" stored,")[0].rsplit(" ", 1)[1])
    assert killed_at[1] + stored_by_last == 2000, out  # the rest, and only the rest
    assert stored_twitches(db) == (twitches_sent(windows), 2000, 4000)


async def test_a_shared_servers_retained_ack_settles_on_the_newest_seq(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    # Another server of the group stored an earlier window and its ack reaches the broker last:
    # the retained ack goes back. The server publishes the stored ack again once it settled.
    options = ServerOptions(ack_settle_s=2.0)
    server = Server(mosquitto_broker.url, sqlite_url(tmp_path / "tw.db"), share_group="tw",
                    options=options)  # fmt: skip
    windows = [make_window(s) for s in range(1, 11)]
    async with running(server), client(mosquitto_broker, "edge", [ack_topic("calf-01")]) as edge:
        await publish_all(edge, [(w.topic, w.to_payload()) for w in windows])
        await wait_acks(edge, {"calf-01": 10})
        stale = DeviceAck("calf-01", 7).to_payload()
        await edge.publish(ack_topic("calf-01"), stale, retain=True)
        seen = await wait_acks(edge, {"calf-01": 10})  # 7 comes back first, then the settled 10
        assert seen == {"calf-01": 10}
        await asyncio.sleep(0.5)
    async with client(mosquitto_broker, "late", [ack_topic("calf-01")]) as late:
        assert await wait_acks(late, {"calf-01": 1}) == {"calf-01": 10}  # the retained one


async def test_two_servers_share_the_load_on_postgresql(
    mosquitto_broker: MosquittoBroker, postgres_url: str
) -> None:
    users = {"alice": ("a-calf", "a-hand"), "bob": ("b-calf", "b-hand")}
    windows = [make_window(s, d, u) for u, ds in users.items() for d in ds for s in range(1, 301)]
    reports = [
        (u, Report(START + timedelta(minutes=m), ReportKind.SPEECH))
        for u in users
        for m in range(3)
    ]
    acks = [device_topic(u, d, TopicKind.ACK) for u, ds in users.items() for d in ds]
    options = ServerOptions(evaluate_every_s=0.0)
    servers = [
        Server(
            mosquitto_broker.url,
            postgres_url,
            client_id=f"server-{i}",
            share_group="tw",
            options=options,
        )
        for i in range(2)
    ]
    async with (
        running(servers[0]),
        running(servers[1]),
        client(mosquitto_broker, "person", ["twitchwatch/v1/+/alerts/events", *acks]) as link,
    ):
        messages = [(w.topic, w.to_payload()) for w in windows]
        messages += [(reports_topic(u), r.to_payload()) for u, r in reports]
        await publish_all(link, messages)
        events: list[AlertEvent] = []
        acked: dict[str, int] = {}
        async with asyncio.timeout(TIMEOUT_S):
            async for message in link.messages():
                if message.topic.endswith("/events"):
                    events.append(AlertEvent.from_payload(message.payload))
                else:
                    device = message.topic.split("/")[-2]
                    acked[device] = DeviceAck.from_payload(message.payload, device=device).seq
                if len(events) == 2 and len(acked) == 4 and min(acked.values()) == 300:
                    break
        # No second firing from the other server. (Acks may still come: a server republishes
        # the newer ack when a stale one overtook it at the broker.)
        late_events = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                async for message in link.messages():
                    if message.topic.endswith("/events"):
                        late_events.append(AlertEvent.from_payload(message.payload))
        assert late_events == []
    assert all(s.stats.messages > 0 for s in servers), "the broker did not split the load"
    assert sorted((e.alert.scope, e.transition) for e in events) == [
        ("speech", Transition.FIRING),
        ("speech", Transition.FIRING),
    ]
    with open_store(postgres_url) as store:
        for user in users:
            history = store.load_history(user, START.date(), datetime.now(UTC))
            mine = [w for w in windows if w.user == user]
            assert sum(d.twitches for d in history.days) == twitches_sent(mine)
            assert sum(d.windows for d in history.days) == 2 * len(mine)
        assert sum(s.stats.stored for s in servers) == len(windows) + len(reports)


def test_the_command_line_reports_unusable_settings_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite_url(tmp_path / "tw.db")
    for args, words, code in [
        (["--db", "mysql://x/y"], "use sqlite:///", 2),
        (["--db", sqlite_url(tmp_path / "no" / "tw.db")], "does not exist", 2),
        (["--db", db, "--connect-timeout", "0.3"], "not reachable", 1),  # runtime, not usage
        (["--db", db, "--rules", str(tmp_path / "none.toml")], "rules", 2),
        (["--db", db, "--share", "a/b"], "share group", 2),
    ]:
        assert main(["server", "--broker", "mqtt://127.0.0.1:1", *args]) == code, args
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("twitchwatch: ") and words in lines[0], lines
