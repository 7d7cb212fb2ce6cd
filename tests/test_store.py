"""The store on real SQLite files and a real PostgreSQL database: exactly once, exact sums."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from server.evaluate import AlertChanges, evaluate_user
from server.model import AlertRecord, DaySite
from server.rules import load_rule_config
from server.store import (
    DeviceAckState,
    Outcome,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
)
from server.store.schema import SCHEMA_VERSION
from server.tick_deferral import tick_due
from support.services import pg_admin_dsn
from twitchwatch.contract import (
    AlertEvent,
    AlertStatus,
    Report,
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    Transition,
    WindowMessage,
)

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)
RECEIVED = DAY0 + timedelta(days=30)


def site_window(twitches: int = 3, rest_s: float = 40.0, cramps: int = 0) -> SiteWindow:
    return SiteWindow(twitches, cramps, rest_s, 10.0, 60.0 - rest_s - 10.0, 55.5, "uV")


def window(
    seq: int,
    start: datetime,
    sites: Mapping[str, SiteWindow] | None = None,
    device: str = "calf-01",
    user: str = "alice",
    length_s: float = 60.0,
) -> WindowMessage:
    sites = sites if sites is not None else {"left_calf": site_window()}
    return WindowMessage(user, device, seq, start, start + timedelta(seconds=length_s), sites)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/twitchwatch.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as store:
        yield store


def days_of(store: Store, user: str = "alice") -> dict[tuple[date, str], DaySite]:
    history = store.load_history(user, date(2026, 1, 1), RECEIVED)
    return {(d.day, d.site): d for d in history.days}


def test_the_same_window_twice_is_stored_once(store: Store) -> None:
    w = window(1, DAY0)
    first = store.store_windows([w], RECEIVED)
    again = store.store_windows([w, w], RECEIVED)
    assert first.outcomes == (Outcome.STORED,)
    assert again.outcomes == (Outcome.DUPLICATE, Outcome.DUPLICATE)
    # The edge sent a duplicate, so it has not seen the ack: the ack is due again.
    assert again.acks == (DeviceAckState("alice", "calf-01", 1),)
    assert not again.changed_users
    day = days_of(store)[(DAY0.date(), "left_calf")]
    assert (day.twitches, day.rest_s, day.windows) == (3, 40.0, 1)


def test_a_copy_in_the_same_batch_is_a_duplicate(store: Store) -> None:
    w = window(1, DAY0)
    assert store.store_windows([w, w], RECEIVED).outcomes == (Outcome.STORED, Outcome.DUPLICATE)
    assert days_of(store)[(DAY0.date(), "left_calf")].windows == 1


def test_a_window_replayed_under_a_new_seq_is_not_counted_again(store: Store) -> None:
    sites = {"left_calf": site_window(5), "right_calf": site_window(2)}
    store.store_windows([window(1, DAY0, sites)], RECEIVED)
    # An edge that lost its outbox sends the same window as seq 2, plus one new site.
    replay = store.store_windows(
        [window(2, DAY0, {**sites, "right_hand": site_window(1)}), window(3, DAY0, sites)],
        RECEIVED,
    )
    assert replay.outcomes == (Outcome.STORED, Outcome.REPLAYED)
    assert replay.replayed_sites == 4
    assert replay.acks == (DeviceAckState("alice", "calf-01", 3),)  # the seqs are stored
    days = days_of(store)
    assert days[(DAY0.date(), "left_calf")].twitches == 5
    assert days[(DAY0.date(), "right_calf")].twitches == 2
    assert days[(DAY0.date(), "right_hand")].twitches == 1


def test_daily_sums_equal_what_was_sent(store: Store) -> None:
    rng = random.Random(7)
    sites = ["left_calf", "right_calf", "right_thumb", "tongue"]
    sent: list[WindowMessage] = []
    for device in ("calf-01", "hand-02"):
        start = DAY0 + timedelta(hours=20)
        for seq in range(1, 301):  # 300 windows of 10 min: 2+ days, crossing midnights
            chosen = rng.sample(sites, rng.randint(1, 3))
            sent.append(
                window(
                    seq,
                    start,
                    {
                        s: site_window(rng.randint(0, 50), rng.uniform(0, 500), rng.randint(0, 1))
                        for s in chosen
                    },
                    device=device,
                    length_s=600.0,
                )
            )
            start += timedelta(minutes=10)
    # Shuffled batches of random sizes, with redelivered copies mixed in.
    stream = sent + rng.sample(sent, 150)
    rng.shuffle(stream)
    i = 0
    while i < len(stream):
        n = rng.randint(1, 120)
        store.store_windows(stream[i : i + n], RECEIVED)
        i += n

    expected: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for w in sent:
        for site, s in w.sites.items():
            acc = expected[(w.start.date(), site)]
            acc[0] += s.twitches
            acc[1] += s.cramps
            acc[2] += s.rest_s
            acc[3] += 1
    days = days_of(store)
    assert days.keys() == expected.keys()
    for key, (twitches, cramps, rest_s, n) in expected.items():
        day = days[key]
        assert (day.twitches, day.cramps, day.windows) == (twitches, cramps, n)  # exact
        assert day.rest_s == pytest.approx(rest_s, rel=1e-12)  # float sums, order may differ
    assert {(a.device, a.acked_seq) for a in store.device_acks()} == {
        ("calf-01", 300),
        ("hand-02", 300),
    }


def test_a_window_crossing_midnight_counts_on_the_day_it_starts(store: Store) -> None:
    start = DAY0 - timedelta(minutes=30)  # 23:30 to 00:30
    store.store_windows([window(1, start, length_s=3600.0)], RECEIVED)
    days = days_of(store)
    assert list(days) == [(start.date(), "left_calf")]
    assert days[(start.date(), "left_calf")].twitches == 3


def test_acked_seq_is_the_contiguous_high_water_mark(store: Store) -> None:
    def stored(*seqs: int) -> tuple[DeviceAckState, ...]:
        ws = [window(s, DAY0 + timedelta(minutes=s)) for s in seqs]
        return store.store_windows(ws, RECEIVED).acks

    assert stored(1, 2, 4) == (DeviceAckState("alice", "calf-01", 2),)
    assert stored(6) == ()  # a gap below: nothing new to acknowledge
    assert stored(3) == (DeviceAckState("alice", "calf-01", 4),)
    assert stored(5) == (DeviceAckState("alice", "calf-01", 6),)
    assert store.device_acks() == [DeviceAckState("alice", "calf-01", 6)]


def test_a_long_run_beyond_a_gap_is_walked_in_pages(store: Store) -> None:
    store.store_windows([window(s, DAY0 + timedelta(minutes=s)) for s in range(2, 2503)], RECEIVED)
    assert store.device_acks() == []
    acks = store.store_windows([window(1, DAY0)], RECEIVED).acks
    assert acks == (DeviceAckState("alice", "calf-01", 2502),)


def test_device_ids_are_per_user(store: Store) -> None:
    # Issue 15: mallory's calf-01 is her own device, not alice's: it cannot touch alice's seqs,
    # ack or days (which account may publish as which user is the broker's ACL's job).
    store.store_windows([window(1, DAY0)], RECEIVED)
    result = store.store_windows(
        [
            window(2, DAY0 + timedelta(minutes=1), user="mallory"),
            window(2, DAY0 + timedelta(minutes=1)),
        ],
        RECEIVED,
    )
    assert result.outcomes == (Outcome.STORED, Outcome.STORED)
    assert result.acks == (DeviceAckState("alice", "calf-01", 2),)  # mallory's waits for her 1
    assert days_of(store)[(DAY0.date(), "left_calf")].windows == 2
    assert days_of(store, "mallory")[(DAY0.date(), "left_calf")].windows == 1


def test_reports_are_stored_once_and_come_back_in_time_order(store: Store) -> None:
    later = Report(DAY0 + timedelta(hours=5), ReportKind.CAFFEINE, value=3.0, note="espresso")
    earlier = Report(DAY0 + timedelta(hours=1), ReportKind.WEAKNESS, site="left_hand")
    assert store.store_report("alice", later, RECEIVED)
    assert store.store_report("alice", earlier, RECEIVED)
    assert not store.store_report("alice", later, RECEIVED)
    history = store.load_history("alice", DAY0.date(), DAY0 + timedelta(days=1))
    assert history.reports == (earlier, later)
    assert store.load_history("alice", DAY0.date(), DAY0 + timedelta(hours=2)).reports == (earlier,)


def _record(version: int, status: AlertStatus = AlertStatus.FIRING) -> AlertRecord:
    return AlertRecord(
        user="alice",
        rule=Rule.PERSISTENCE,
        scope="left_calf",
        severity=Severity.ADVISORY,
        status=status,
        since=DAY0 + timedelta(days=21),
        pending_since=DAY0 + timedelta(days=20, microseconds=250),
        last_notified=None if version == 1 else DAY0 + timedelta(days=21),
        acknowledged=version > 2,
        version=version,
        message="Twitching recorded at the left calf on 15 of the 19 days it was observed.",
        evidence={"active_days": 15, "observed_days": 19, "rates": [1.5, 2.25]},
        context=("caffeine: 4 cups on 2026-11-20",),
    )


def test_every_server_of_a_share_group_defers_a_user_another_one_just_stored(
    store_url: str,
) -> None:
    """The tick's deferral lives in the database: one server stores, another defers."""
    period = timedelta(hours=1)
    with open_store(store_url) as storing, open_store(store_url) as ticking:
        storing.store_windows([window(1, DAY0)], RECEIVED)
        storing.save_alert(_record(1))
        assert ticking.open_alert_users() == [("alice", None)]  # never marked: due
        assert tick_due(ticking.open_alert_users(), RECEIVED, period) == (["alice"], [])
        storing.mark_stored(["alice"], RECEIVED)
        users = ticking.open_alert_users()
        assert users == [("alice", RECEIVED)]
        assert tick_due(users, RECEIVED + period / 2, period) == ([], ["alice"])
        assert tick_due(users, RECEIVED + period, period) == (["alice"], [])  # data paused
        assert tick_due(users, RECEIVED - period, period) == (["alice"], [])  # clock went back
        storing.save_alert(_record(3, AlertStatus.RESOLVED))
        assert ticking.open_alert_users() == []


def test_alert_records_and_events_round_trip(store: Store) -> None:
    assert store.load_alerts("alice") == []
    store.save_alert(_record(1))
    assert store.load_alerts("alice") == [_record(1)]
    store.save_alert(_record(3))
    assert store.load_alerts("alice") == [_record(3)]
    assert store.all_alerts() == [_record(3)]

    events = [
        AlertEvent(DAY0 + timedelta(days=21), Transition.FIRING, _record(2).state()),
        AlertEvent(DAY0 + timedelta(days=22), Transition.ACKNOWLEDGED, _record(3).state()),
    ]
    assert store.add_events("alice", events) == events
    assert store.add_events("alice", events) == []  # re-evaluation cannot record them twice
    assert store.unpublished_events() == [("alice", e) for e in events]
    store.mark_published("alice", events[:1])
    assert store.unpublished_events() == [("alice", events[1])]


def test_rejects_are_counted_with_the_last_reason(store: Store) -> None:
    store.count_reject("not_json", "windows payload: not JSON")
    store.count_rejects({"not_json": (2, "again"), "future": (1, "in the future")})
    assert store.rejects() == {"not_json": 3, "future": 1}


def test_users_are_dirty_until_evaluated(store: Store) -> None:
    assert store.dirty_users() == []
    store.store_windows([window(1, DAY0)], RECEIVED)
    store.store_report("bob", Report(DAY0, ReportKind.SLEEP, value=5.0), RECEIVED)
    assert store.dirty_users() == ["alice", "bob"]
    with store.transaction(users=["alice"]) as tx:
        assert tx.user_state("alice") == (DAY0 + timedelta(minutes=1), True)
        tx.mark_evaluated("alice")
    assert store.dirty_users() == ["bob"]
    assert store.users_with_data() == ["alice", "bob"]
    # A duplicate changes nothing, so it leaves alice evaluated.
    store.store_windows([window(1, DAY0)], RECEIVED)
    assert store.dirty_users() == ["bob"]


def test_the_schema_is_created_once_and_a_newer_one_is_refused(store_url: str) -> None:
    with open_store(store_url) as store:
        store.store_windows([window(1, DAY0)], RECEIVED)
    with open_store(store_url) as store:  # reopening keeps the data
        assert store.device_acks() == [DeviceAckState("alice", "calf-01", 1)]
        with store.transaction():
            store.backend.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this TwitchWatch"):
        open_store(store_url)


def test_sqlite_and_postgresql_give_the_same_history(tmp_path: Path, postgres_url: str) -> None:
    rng = random.Random(3)
    batch = [
        window(
            seq,
            DAY0 + timedelta(minutes=7 * seq),
            {
                s: site_window(rng.randint(0, 9), rng.uniform(0, 50))
                for s in ("left_calf", "tongue")
            },
            length_s=420.0,
        )
        for seq in range(1, 400)
    ]
    report = Report(DAY0, ReportKind.STRESS, value=8.0)
    histories = []
    for url in (f"sqlite:///{tmp_path}/a.db", postgres_url):
        with open_store(url) as store:
            store.store_windows(batch[:200], RECEIVED)
            store.store_windows(batch[100:], RECEIVED)
            store.store_report("alice", report, RECEIVED)
            histories.append(store.load_history("alice", DAY0.date(), RECEIVED))
            assert store.device_acks() == [DeviceAckState("alice", "calf-01", 399)]
    assert histories[0] == histories[1]
    assert len(histories[0].days) == 4  # 2 days x 2 sites


def test_unusable_databases_are_one_line_errors(tmp_path: Path) -> None:
    for url, words in [
        ("mysql://x/y", "use sqlite:///"),
        ("sqlite:///", "use sqlite:///"),
        (f"sqlite:///{tmp_path}/missing/tw.db", "does not exist"),
        ("postgresql://postgres:hunter2@127.0.0.1:1/x", "127.0.0.1"),
    ]:
        with pytest.raises(StoreError, match=words) as caught:
            open_store(url)
        assert "\n" not in str(caught.value)
        assert "hunter2" not in str(caught.value)
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"this is not a database file, it is plain text" * 100)
    with pytest.raises(StoreError, match=r"notes\.db"):
        open_store(f"sqlite:///{not_a_db}")


@pytest.mark.postgres
def test_a_lost_postgresql_connection_is_transient_and_reopened(postgres_url: str) -> None:
    with open_store(postgres_url) as store:
        store.store_windows([window(1, DAY0)], RECEIVED)
        with psycopg.connect(pg_admin_dsn(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (postgres_url.rsplit("/", 1)[1],),
            )
        with pytest.raises(StoreUnavailable):
            store.store_windows([window(2, DAY0 + timedelta(minutes=1))], RECEIVED)
        # Nothing of the failed transaction was kept, and the next one reconnects.
        assert store.device_acks() == [DeviceAckState("alice", "calf-01", 1)]
        store.store_windows([window(2, DAY0 + timedelta(minutes=1))], RECEIVED)
        assert store.device_acks() == [DeviceAckState("alice", "calf-01", 2)]


def test_a_locked_sqlite_file_is_transient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("server.store.sqlite.BUSY_TIMEOUT_S", 0.05)
    url = f"sqlite:///{tmp_path}/tw.db"
    with open_store(url) as store:
        other = sqlite3.connect(tmp_path / "tw.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreUnavailable, match="locked"):
            store.store_windows([window(1, DAY0)], RECEIVED)
        other.execute("ROLLBACK")
        other.close()
        assert store.store_windows([window(1, DAY0)], RECEIVED).outcomes == (Outcome.STORED,)


def test_two_evaluators_of_one_user_record_each_transition_once(store_url: str) -> None:
    """Two server processes evaluating one user at once: one does the work, once."""
    with open_store(store_url) as store:
        store.store_report("alice", Report(DAY0, ReportKind.SWALLOWING), RECEIVED)
    config = load_rule_config(None)
    barrier = threading.Barrier(2)

    def evaluate() -> AlertChanges:
        with open_store(store_url) as own:  # a connection of its own, as another process has
            barrier.wait()
            return evaluate_user(own, "alice", config)

    with ThreadPoolExecutor(2) as pool:
        changes = list(pool.map(lambda _: evaluate(), range(2)))
    events = [e for c in changes for e in c.events]
    assert [(e.alert.scope, e.transition) for e in events] == [("swallowing", Transition.FIRING)]
    with open_store(store_url) as store:
        assert store.unpublished_events() == [("alice", events[0])]
        assert store.dirty_users() == []


def test_a_seq_resent_with_another_window_is_refused_not_stored_again(store: Store) -> None:
    # Issue 15 (M7): a resent seq with different content is refused; the stored one stands.
    store.store_windows([window(1, DAY0), window(2, DAY0 + timedelta(minutes=1))], RECEIVED)
    later = DAY0 + timedelta(hours=5)
    result = store.store_windows(
        [window(1, later), window(2, DAY0 + timedelta(minutes=1))], RECEIVED
    )
    assert result.outcomes == (Outcome.REJECTED, Outcome.DUPLICATE)
    assert result.problems[0][0] == "seq_reused"
    assert result.acks == (DeviceAckState("alice", "calf-01", 2),)  # so the edge fast-forwards
    assert days_of(store)[(DAY0.date(), "left_calf")].windows == 2


def test_overlapping_windows_of_one_site_are_refused_and_the_ack_passes_them(
    store: Store,
) -> None:
    # Issue 15 (M7): five one-hour windows a second apart would count one hour five times.
    hour = [window(seq, DAY0 + timedelta(seconds=seq - 1), length_s=3600.0) for seq in range(1, 6)]
    result = store.store_windows(hour, RECEIVED)
    assert result.outcomes == (Outcome.STORED,) + (Outcome.REJECTED,) * 4
    assert {p for p, _ in result.problems.values()} == {"overlap"}
    assert result.acks == (DeviceAckState("alice", "calf-01", 5),)
    # Against stored windows too, in a later batch; back to back is no overlap; another
    # device or another site of the same device may measure the same hour.
    after = DAY0 + timedelta(hours=1)
    result = store.store_windows(
        [
            window(6, DAY0 + timedelta(minutes=30)),
            window(7, after),
            window(8, DAY0 + timedelta(minutes=30), {"right_calf": site_window()}),
            window(1, DAY0 + timedelta(minutes=30), device="hand-02"),
        ],
        RECEIVED,
    )
    assert result.outcomes == (Outcome.REJECTED, Outcome.STORED, Outcome.STORED, Outcome.STORED)
    # The hour, seq 7 and hand-02's window count at the left calf (8 at the right).
    assert days_of(store)[(DAY0.date(), "left_calf")].windows == 3
    assert store.refused_windows("alice") == {"overlap": 5}
