"""Ingest: any bytes on any topic become an outcome, and a batch is one transaction."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.ingest import AlertAckIn, Ingest, Rejected, ReportIn, StatusIn, parse
from server.model import AlertRecord
from server.store import Outcome, RefusedWindow, Store, StoreUnavailable, open_store
from twitchwatch.contract import (
    AckAction,
    AlertAck,
    AlertStatus,
    DeviceState,
    DeviceStatus,
    Profile,
    Report,
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    TopicKind,
    Transition,
    WindowMessage,
    alert_acks_topic,
    alert_events_topic,
    device_topic,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import Message

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
WINDOWS_TOPIC = device_topic("alice", "calf-01", TopicKind.WINDOWS)


def window(seq: int, site: str = "left_calf", device: str = "calf-01") -> WindowMessage:
    start = NOW - timedelta(hours=2) + timedelta(minutes=seq)
    return WindowMessage(
        "alice",
        device,
        seq,
        start,
        start + timedelta(minutes=1),
        {site: SiteWindow(4, 0, 45.0, 10.0, 5.0, 70.0, "uV")},
    )


def message(topic: str, payload: bytes, mid: int = 1) -> Message:
    return Message(topic, payload, qos=1, retain=False, dup=False, mid=mid)


def of(w: WindowMessage) -> Message:
    return message(w.topic, w.to_payload())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path}/tw.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_store(url) as store:
        yield store


def test_each_topic_becomes_its_contract_object() -> None:
    w = window(1)
    assert parse(w.topic, w.to_payload(), NOW) == w
    report = Report(NOW, ReportKind.SLEEP, value=5.5)
    assert parse(reports_topic("alice"), report.to_payload(), NOW) == ReportIn("alice", report)
    status = DeviceStatus("calf-01", DeviceState.OFFLINE)
    assert parse(device_topic("alice", "calf-01", TopicKind.STATUS), status.to_payload(), NOW) == (
        StatusIn("alice", status)
    )
    ack = AlertAck(Rule.SPREAD, "all")
    assert parse(alert_acks_topic("alice"), ack.to_payload(), NOW) == AlertAckIn("alice", ack)


@pytest.mark.parametrize(
    ("topic", "payload", "problem"),
    [
        (WINDOWS_TOPIC, b"[" * 10_000, "not_json"),  # json.loads would exhaust the stack
        (WINDOWS_TOPIC, b"", "not_json"),
        ("twitchwatch/v1/alice/calf 01/windows", b"{}", "bad_topic"),
        ("elsewhere/alice/calf-01/windows", b"{}", "bad_topic"),
        (alert_events_topic("alice"), b"{}", "unexpected_topic"),
        (device_topic("alice", "calf-01", TopicKind.ACK), b"{}", "unexpected_topic"),
    ],
)
def test_malformed_messages_are_rejected_with_a_code(
    topic: str, payload: bytes, problem: str
) -> None:
    rejected = parse(topic, payload, NOW)
    assert isinstance(rejected, Rejected) and rejected.problem == problem
    assert "\n" not in rejected.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [("unit", []), ("amp_median", 10**400), ("rest_s", 10**400), ("twitches", {"a": 1})],
)
def test_values_the_validation_trips_over_are_rejected_not_raised(
    field: str, value: object
) -> None:
    # A list where a unit string belongs is unhashable; 10**400 overflows math.isfinite. The
    # contract's own checks may name them one day; until then they must not escape.
    doc = json.loads(window(1).to_payload())
    doc["sites"]["left_calf"][field] = value
    # Refused for good under its seq when the contract names the problem (the ack passes it).
    item = parse(WINDOWS_TOPIC, json.dumps(doc).encode(), NOW)
    assert isinstance(item, Rejected | RefusedWindow)


def _json_values() -> st.SearchStrategy[object]:
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=12,
    )


FIELDS = ["v", "user", "device", "seq", "start", "end", "sites", "t", "kind", "state", "rule"]
SITE_FIELDS = ["twitches", "cramps", "rest_s", "active_s", "gap_s", "amp_median", "unit"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(
        [
            WINDOWS_TOPIC,
            reports_topic("alice"),
            alert_acks_topic("alice"),
            device_topic("alice", "calf-01", TopicKind.STATUS),
        ]
    ),
    field=st.sampled_from(FIELDS + [f"sites.left_calf.{f}" for f in SITE_FIELDS]),
    value=_json_values(),
)
def test_no_payload_makes_parse_raise(topic: str, field: str, value: object) -> None:
    """A valid document with one field replaced by any JSON value: an outcome, never an error."""
    doc = json.loads(window(1).to_payload())
    doc.update({"t": "2026-11-21T09:00:00Z", "kind": "sleep", "state": "online", "rule": "spread"})
    target = doc
    *path, last = field.split(".")
    for key in path:
        target = target[key]
    target[last] = value
    payload = json.dumps(doc, allow_nan=True).encode()
    assert parse(topic, payload, NOW) is not None


def test_a_batch_reports_every_message_and_counts_rejects(store: Store) -> None:
    ingest = Ingest(store)
    w1, w2 = window(1), window(2, "tongue")
    report = Report(NOW - timedelta(hours=1), ReportKind.CAFFEINE, value=4.0)
    status = DeviceStatus("calf-01", DeviceState.ONLINE)
    batch = [
        of(w1),
        of(w1),  # redelivered within the batch
        message(w1.topic, b"not json"),
        of(w2),
        message(reports_topic("alice"), report.to_payload()),
        message(device_topic("alice", "calf-01", TopicKind.STATUS), status.to_payload()),
        message(alert_acks_topic("alice"), AlertAck(Rule.SPREAD, "all").to_payload()),
    ]
    outcome = ingest.batch(batch, NOW)
    assert outcome.outcomes == (
        Outcome.STORED,
        Outcome.DUPLICATE,
        Outcome.REJECTED,
        Outcome.STORED,
        Outcome.STORED,
        Outcome.STORED,
        Outcome.REJECTED,  # alice has no spread alert to acknowledge
    )
    assert [(a.device, a.acked_seq) for a in outcome.acks] == [("calf-01", 2)]
    assert outcome.dirty_users == {"alice"}
    assert store.rejects() == {"not_json": 1, "unknown_alert": 1}
    again = ingest.batch(batch, NOW)
    assert again.outcomes[:2] == (Outcome.DUPLICATE, Outcome.DUPLICATE)
    assert again.outcomes[4] == Outcome.DUPLICATE  # the report
    assert not again.dirty_users
    assert store.rejects() == {"not_json": 2, "unknown_alert": 2}


def test_rejections_are_logged_at_warning_then_quietly(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ingest = Ingest(store)
    with caplog.at_level(logging.DEBUG, logger="server.ingest"):
        ingest.batch([message(WINDOWS_TOPIC, b"?", mid=i) for i in range(12)], NOW)
    levels = [r.levelno for r in caplog.records if "rejected [not_json]" in r.message]
    assert levels == [logging.WARNING] * 5 + [logging.DEBUG] * 7
    assert "further ones at DEBUG" in caplog.records[4].message
    assert store.rejects() == {"not_json": 12}


def _firing(user: str = "alice") -> AlertRecord:
    return AlertRecord(
        user=user,
        rule=Rule.RED_FLAG,
        scope="speech",
        severity=Severity.URGENT,
        status=AlertStatus.FIRING,
        since=NOW - timedelta(hours=1),
        pending_since=NOW - timedelta(hours=1),
        last_notified=NOW - timedelta(hours=1),
        acknowledged=False,
        version=1,
        message="Difficulty speaking was reported. Seek medical attention promptly.",
    )


def test_an_alert_ack_is_applied_once(store: Store) -> None:
    store.save_alert(_firing())
    ingest = Ingest(store)
    ack = message(alert_acks_topic("alice"), AlertAck(Rule.RED_FLAG, "speech").to_payload())
    first = ingest.batch([ack], NOW)
    assert first.outcomes == (Outcome.STORED,)
    (change,) = first.alert_changes
    assert [s.acknowledged for s in change.states] == [True]
    assert [e.transition for e in change.events] == [Transition.ACKNOWLEDGED]
    assert store.load_alerts("alice")[0].acknowledged
    second = ingest.batch([ack], NOW)
    assert second.outcomes == (Outcome.DUPLICATE,) and not second.alert_changes


def test_a_symptom_is_resolved_by_the_person_and_a_measured_alert_is_not(store: Store) -> None:
    store.save_alert(_firing())
    measured = replace(
        _firing(), rule=Rule.PERSISTENCE, scope="left_calf", severity=Severity.ADVISORY
    )
    store.save_alert(measured)
    ingest = Ingest(store)
    done = AlertAck(Rule.RED_FLAG, "speech", AckAction.RESOLVED)
    wrong = AlertAck(Rule.PERSISTENCE, "left_calf", AckAction.RESOLVED)
    outcome = ingest.batch(
        [
            message(alert_acks_topic("alice"), a.to_payload(), i)
            for i, a in enumerate((done, wrong))
        ],
        NOW,
    )
    assert outcome.outcomes == (Outcome.STORED, Outcome.REJECTED)
    assert outcome.rejected == {"not_resolvable": 1}
    alerts = {a.rule: a for a in store.load_alerts("alice")}
    assert alerts[Rule.RED_FLAG].status is AlertStatus.RESOLVED
    assert alerts[Rule.RED_FLAG].resolved_by_person
    assert alerts[Rule.PERSISTENCE].status is AlertStatus.FIRING


def test_a_profile_sets_the_zone_once_and_marks_the_user(store: Store) -> None:
    ingest = Ingest(store)
    berlin = message(profile_topic("alice"), Profile("Europe/Berlin").to_payload())
    first = ingest.batch([berlin], NOW)
    assert first.outcomes == (Outcome.STORED,) and first.dirty_users == {"alice"}
    assert store.profile_tz("alice") == "Europe/Berlin"
    again = ingest.batch([berlin], NOW)  # the retained profile, at every reconnect
    assert again.outcomes == (Outcome.DUPLICATE,) and not again.dirty_users
    bad = message(profile_topic("alice"), b'{"v": 1, "tz": "Mars/Olympus"}')
    assert ingest.batch([bad], NOW).rejected == {"bad_tz": 1}
    assert store.profile_tz("alice") == "Europe/Berlin"


@pytest.mark.postgres
def test_a_value_the_database_refuses_rejects_that_message_alone(postgres_url: str) -> None:
    # JSON allows "\u0000" in a note; PostgreSQL text does not.
    with open_store(postgres_url) as store:
        nul = Report(NOW, ReportKind.STRESS, value=8.0, note="bad\x00day")
        batch = [
            of(window(1)),
            message(reports_topic("alice"), nul.to_payload()),
            of(window(2)),
        ]
        outcome = Ingest(store).batch(batch, NOW)
        assert outcome.outcomes == (Outcome.STORED, Outcome.REJECTED, Outcome.STORED)
        assert store.rejects() == {"db_refused": 1}
        assert [(a.device, a.acked_seq) for a in outcome.acks] == [("calf-01", 2)]


def test_a_refused_value_is_isolated_on_sqlite_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tw.db"
    with open_store(url) as store:
        store.backend.execute(
            "CREATE TRIGGER no_tongue BEFORE INSERT ON window_sites WHEN NEW.site = 'tongue' "
            "BEGIN SELECT RAISE(ABORT, 'no tongue here'); END"
        )
        outcome = Ingest(store).batch([of(window(1)), of(window(2, "tongue")), of(window(3))], NOW)
        assert outcome.outcomes == (Outcome.STORED, Outcome.REJECTED, Outcome.STORED)
        assert store.rejects() == {"db_refused": 1}


def test_an_unavailable_database_keeps_nothing_of_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("server.store.sqlite.BUSY_TIMEOUT_S", 0.05)
    with open_store(f"sqlite:///{tmp_path}/tw.db") as store:
        ingest = Ingest(store)
        batch = [of(window(1)), message(WINDOWS_TOPIC, b"?")]
        other = sqlite3.connect(tmp_path / "tw.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable):
            ingest.batch(batch, NOW)
        other.execute("ROLLBACK")
        other.close()
        assert store.rejects() == {} and store.device_acks() == []
        assert ingest.batch(batch, NOW).outcomes == (Outcome.STORED, Outcome.REJECTED)
        assert store.rejects() == {"not_json": 1}
