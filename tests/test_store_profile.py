"""The store and the person's zone: local daily sums, a zone change, and the 1 -> 2 migration,
on real SQLite files and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from server.evaluate import evaluate_user
from server.model import AlertRecord
from server.rules import load_rule_config
from server.store import Store, open_store
from server.store.schema import SCHEMA_VERSION
from tests.test_store import site_window, window
from twitchwatch.contract import AlertStatus, Profile, Report, ReportKind, Rule, Severity

RECEIVED = datetime(2026, 12, 1, tzinfo=UTC)
LA = Profile("America/Los_Angeles")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/twitchwatch.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as store:
        yield store


def day_rests(store: Store, user: str = "alice") -> dict[str, float]:
    history = store.load_history(user, date(2026, 1, 1), RECEIVED)
    return {d.day.isoformat(): d.rest_s for d in history.days}


def evening_rest(start_utc: datetime, n: int = 32) -> list:
    """``n`` one-minute windows of 40 s rest from ``start_utc``."""
    return [window(i + 1, start_utc + timedelta(minutes=i)) for i in range(n)]


def test_days_are_utc_until_a_profile_sets_a_zone(store: Store) -> None:
    # 20:00 to 20:32 in Los Angeles on 3 Nov is 04:00 to 04:32 UTC on 4 Nov.
    store.store_windows(evening_rest(datetime(2026, 11, 4, 4, 0, tzinfo=UTC)), RECEIVED)
    assert day_rests(store) == {"2026-11-04": 32 * 40.0}
    assert store.profile_tz("alice") == "UTC"


def test_an_evening_rest_across_utc_midnight_is_one_local_day(store: Store) -> None:
    """The issue's case: a 32-min evening rest in Los Angeles split over two UTC days."""
    store.set_profile("alice", LA, RECEIVED)
    store.store_windows(evening_rest(datetime(2026, 11, 3, 23, 44, tzinfo=UTC)), RECEIVED)
    assert day_rests(store) == {"2026-11-03": 32 * 40.0}  # 15:44-16:16 local, one day
    history = store.load_history("alice", date(2026, 11, 1), RECEIVED)
    assert history.tz == "America/Los_Angeles"


def test_a_new_zone_recuts_the_stored_days_and_marks_the_user(store: Store) -> None:
    store.store_windows(evening_rest(datetime(2026, 11, 3, 23, 44, tzinfo=UTC)), RECEIVED)
    assert day_rests(store) == {"2026-11-03": 16 * 40.0, "2026-11-04": 16 * 40.0}
    with store.transaction(users=["alice"]) as tx:
        tx.mark_evaluated("alice", RECEIVED)
    assert store.set_profile("alice", LA, RECEIVED) is True
    assert day_rests(store) == {"2026-11-03": 32 * 40.0}
    assert store.dirty_users() == ["alice"]  # its days changed: evaluate again
    # The same zone again (a retained profile at every reconnect) changes nothing.
    with store.transaction(users=["alice"]) as tx:
        tx.mark_evaluated("alice", RECEIVED)
    assert store.set_profile("alice", LA, RECEIVED) is False
    assert store.dirty_users() == []
    # Windows stored after the change count on Los Angeles days too.
    later = [window(100 + i, datetime(2026, 11, 5, 7, i, tzinfo=UTC)) for i in range(3)]
    store.store_windows(later, RECEIVED)
    assert day_rests(store)["2026-11-04"] == 3 * 40.0  # 23:00 on 4 Nov in Los Angeles


def test_a_day_the_clocks_change_holds_23_or_25_hours(store: Store) -> None:
    store.set_profile("alice", Profile("Europe/Berlin"), RECEIVED)
    # Hourly windows over 29 Mar 2026 (clocks forward at 02:00 in Berlin) and 25 Oct (back).
    for seq0, first in (
        (1, datetime(2026, 3, 28, 23, tzinfo=UTC)),
        (100, datetime(2026, 10, 24, 22, tzinfo=UTC)),
    ):
        hourly = [
            window(seq0 + h, first + timedelta(hours=h), {"left_calf": site_window(1, 40.0)})
            for h in range(26)
        ]
        store.store_windows(hourly, RECEIVED)
    windows = {
        d.day: d.windows for d in store.load_history("alice", date(2026, 1, 1), RECEIVED).days
    }
    assert windows[date(2026, 3, 29)] == 23
    assert windows[date(2026, 10, 25)] == 25


def test_open_alerts_are_listed_for_the_wall_clock(store: Store) -> None:
    def record(user: str, status: AlertStatus) -> AlertRecord:
        return AlertRecord(
            user,
            Rule.RED_FLAG,
            "speech",
            Severity.URGENT,
            status,
            RECEIVED,
            None,
            None,
            False,
            1,
            "x",
        )

    store.save_alert(record("alice", AlertStatus.FIRING))
    store.save_alert(record("bob", AlertStatus.RESOLVED))
    store.save_alert(record("carol", AlertStatus.PENDING))
    assert [user for user, _ in store.open_alert_users()] == ["alice", "carol"]


#: The schema as TwitchWatch wrote it before issue 12 (version 1): the tables that changed since.
V1_ALERTS = """CREATE TABLE alerts (
    user_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    scope TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    since_utc TEXT NOT NULL,
    pending_since_utc TEXT,
    last_notified_utc TEXT,
    acknowledged INTEGER NOT NULL,
    version BIGINT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    context TEXT NOT NULL,
    PRIMARY KEY (user_id, rule, scope)
)"""


def test_a_version_1_database_is_migrated_and_keeps_its_alerts(store_url: str) -> None:
    # A current database, then made to look like version 1.
    with open_store(store_url) as store, store.transaction():
        store.backend.execute("DROP TABLE alerts")
        store.backend.execute("DROP TABLE profiles")
        store.backend.execute(V1_ALERTS)
        store.backend.execute(
            "INSERT INTO alerts VALUES ('alice', 'persistence', 'left_calf', 'advisory', "
            "'firing', '2026-11-21T10:00:00.000000Z', NULL, "
            "'2026-11-21T10:00:00.000000Z', 0, 2, 'Twitching at the left calf.', '{}', '[]')"
        )
        store.backend.execute("ALTER TABLE windows DROP COLUMN refused")  # version 3's
        store.backend.execute("ALTER TABLE reports DROP COLUMN report_id")
        store.backend.execute("ALTER TABLE users DROP COLUMN stored_utc")  # version 4's
        store.backend.execute("UPDATE schema_version SET version = 1")
    with open_store(store_url) as store:
        with store.transaction():
            assert store.backend.execute("SELECT version FROM schema_version") == [
                (SCHEMA_VERSION,)
            ]
        (alert,) = store.load_alerts("alice")
        assert (alert.rule, alert.status, alert.version) == (
            Rule.PERSISTENCE,
            AlertStatus.FIRING,
            2,
        )
        assert (alert.folded_into, alert.resolved_by_person, alert.asked) == (None, False, None)
        store.save_alert(AlertRecord(**{**_fields(alert), "folded_into": "spread/all"}))
        assert store.load_alerts("alice")[0].folded_into == "spread/all"
        assert store.set_profile("alice", LA, RECEIVED) is True  # the new table is there
    with open_store(store_url) as store:  # opening again migrates nothing twice
        assert store.profile_tz("alice") == "America/Los_Angeles"


def _fields(record: AlertRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in AlertRecord.__slots__}  # type: ignore[attr-defined]


def test_a_zone_change_applies_from_then_on(store: Store) -> None:
    """What was said stays said: an alert published in UTC keeps its words; what follows the
    new zone is written in it."""
    config = load_rule_config(None)
    evening_la = datetime(2026, 11, 4, 4, 0, tzinfo=UTC)  # 20:00 on 3 Nov in Los Angeles
    store.store_report("alice", Report(evening_la, ReportKind.SPEECH), RECEIVED)
    first = evaluate_user(store, "alice", config)
    (fired,) = [e for e in first.events if e.alert.rule is Rule.RED_FLAG]
    assert "reported on Wed 4 Nov at 04:00" in fired.alert.message  # UTC: no zone set yet
    store.set_profile("alice", LA, RECEIVED)
    evaluate_user(store, "alice", config)
    (alert,) = [a for a in store.load_alerts("alice") if a.rule is Rule.RED_FLAG]
    assert alert.message == fired.alert.message  # not rewritten behind the person's back
    later = evening_la + timedelta(days=2)
    store.store_report("alice", Report(later, ReportKind.SWALLOWING), RECEIVED)
    change = evaluate_user(store, "alice", config)
    (swallowing,) = [e for e in change.events if e.alert.scope == "swallowing"]
    assert "reported on Thu 5 Nov at 20:00" in swallowing.alert.message
