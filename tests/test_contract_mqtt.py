"""The MQTT half of the contract: topics and v1 payloads, valid and hostile."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from twitchwatch.contract import (
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    ContractError,
    DeviceAck,
    DeviceState,
    DeviceStatus,
    PayloadError,
    Report,
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    TopicKind,
    Transition,
    WindowMessage,
    alert_topic,
    device_topic,
    format_utc,
    parse_topic,
    reports_topic,
)

NOW = datetime(2026, 11, 21, 10, 0, 30, tzinfo=UTC)
START = datetime(2026, 11, 21, 9, 59, tzinfo=UTC)


def _window(**site: object) -> dict[str, object]:
    entry = {
        "twitches": 12,
        "cramps": 0,
        "rest_s": 50.0,
        "active_s": 6.5,
        "gap_s": 3.5,
        "amp_median": 84.2,
        "unit": "uV",
    }
    entry.update(site)
    return {
        "v": 1,
        "user": "alice",
        "device": "pi-1",
        "seq": 7,
        "start": "2026-11-21T09:59:00Z",
        "end": "2026-11-21T10:00:00Z",
        "sites": {"left_calf": entry},
    }


def _parse(doc: object) -> WindowMessage:
    return WindowMessage.from_payload(
        json.dumps(doc).encode(), user="alice", device="pi-1", now=NOW
    )


def test_topics_round_trip() -> None:
    assert device_topic("alice", "pi-1", TopicKind.WINDOWS) == "twitchwatch/v1/alice/pi-1/windows"
    assert parse_topic("twitchwatch/v1/alice/pi-1/windows").device == "pi-1"
    assert parse_topic(reports_topic("alice")).kind is TopicKind.REPORTS
    alert = parse_topic(alert_topic("alice", "spread", "all"))
    assert (alert.kind, alert.rule, alert.scope) == (TopicKind.ALERT, "spread", "all")
    assert parse_topic("twitchwatch/v1/alice/alerts/events").kind is TopicKind.ALERT_EVENTS


@pytest.mark.parametrize(
    "topic",
    [
        "twitchwatch/v2/alice/pi-1/windows",
        "twitchwatch/v1/alice/pi-1/other",
        "twitchwatch/v1/alice/alerts/nosuchrule/x",
        "twitchwatch/v1/$SYS/pi-1/windows",
        "twitchwatch/v1/alice",
    ],
)
def test_topics_outside_the_contract_are_refused(topic: str) -> None:
    with pytest.raises(ContractError):
        parse_topic(topic)


@pytest.mark.parametrize("bad_id", ["", "a/b", "a+b", "#", "$x", "reports", "x" * 65])
def test_ids_that_break_topics_are_refused(bad_id: str) -> None:
    with pytest.raises(ContractError):
        device_topic("alice", bad_id, TopicKind.WINDOWS)


def test_window_round_trip() -> None:
    message = _parse(_window())
    assert message.seq == 7 and message.duration_s == 60.0
    assert message.sites["left_calf"] == SiteWindow(12, 0, 50.0, 6.5, 3.5, 84.2, "uV")
    again = WindowMessage.from_payload(message.to_payload(), user="alice", device="pi-1", now=NOW)
    assert again == message


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({**_window(), "device": "pi-2"}, "id_mismatch"),
        ({**_window(), "user": "bob"}, "id_mismatch"),
        ({**_window(), "v": 2}, "version"),
        ({**_window(), "seq": 0}, "out_of_range"),
        ({**_window(), "seq": True}, "bad_type"),
        ({**_window(), "seq": "7"}, "bad_type"),
        ({**_window(), "start": "2026-11-21T09:59:00+01:00"}, "bad_time"),
        ({**_window(), "start": "yesterday"}, "bad_time"),
        ({**_window(), "end": "2026-11-21T09:59:00Z"}, "bad_window"),
        (
            {**_window(), "start": "2026-11-21T11:00:00Z", "end": "2026-11-21T11:01:00Z"},
            "future",
        ),
        (
            {**_window(), "start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:01:00Z"},
            "too_old",
        ),
        ({**_window(), "sites": {}}, "bad_sites"),
        ({**_window(), "sites": {"left_arm": _window()["sites"]["left_calf"]}}, "unknown_site"),
        (_window(twitches=-1), "out_of_range"),
        (_window(twitches=10_000), "out_of_range"),
        (_window(twitches=1.5), "bad_type"),
        (_window(rest_s=-0.1), "out_of_range"),
        (_window(rest_s=60.0, active_s=30.0), "out_of_range"),
        (_window(rest_s="50"), "bad_type"),
        (_window(amp_median=-3.0), "out_of_range"),
        (_window(unit="volts"), "bad_unit"),
        (_window(unit=["uV"]), "bad_unit"),
        (_window(rest_s=10**400), "out_of_range"),
        (_window(amp_median=-(10**400)), "out_of_range"),
    ],
)
def test_hostile_windows_are_refused_with_a_reason(doc: dict[str, object], problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        _parse(doc)
    assert caught.value.problem == problem
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b'{"v": 1, "seq": NaN}', "not_json"),
        (b'{"v": 1, "seq": Infinity}', "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"[1, 2]", "not_object"),
        (b"x" * 20_000, "too_large"),
        (b"[" * 10_000, "not_json"),
    ],
)
def test_malformed_bytes_are_refused(payload: bytes, problem: str) -> None:
    with pytest.raises(PayloadError) as caught:
        WindowMessage.from_payload(payload, user="alice", device="pi-1", now=NOW)
    assert caught.value.problem == problem


def test_window_at_the_rounding_slack_is_accepted() -> None:
    assert _parse(_window(rest_s=50.3, active_s=6.5, gap_s=3.5)).sites["left_calf"].rest_s == 50.3


def test_report_round_trip_and_refusals() -> None:
    report = Report(NOW - timedelta(hours=1), ReportKind.WEAKNESS, site="left_hand", value=3)
    assert Report.from_payload(report.to_payload(), now=NOW) == report
    bad = json.dumps({"v": 1, "t": format_utc(NOW), "kind": "headache"}).encode()
    with pytest.raises(PayloadError, match="kind"):
        Report.from_payload(bad, now=NOW)
    bad = json.dumps({"v": 1, "t": format_utc(NOW), "kind": "weakness", "note": "x" * 501})
    with pytest.raises(PayloadError, match="note"):
        Report.from_payload(bad.encode(), now=NOW)


def test_device_status_ack_and_alert_payloads_round_trip() -> None:
    status = DeviceStatus("pi-1", DeviceState.OFFLINE)
    assert DeviceStatus.from_payload(status.to_payload(), device="pi-1") == status
    with pytest.raises(PayloadError):
        DeviceStatus.from_payload(status.to_payload(), device="pi-2")
    assert DeviceAck.from_payload(DeviceAck("pi-1", 42).to_payload(), device="pi-1").seq == 42
    state = AlertState(
        Rule.SPREAD,
        "all",
        Severity.WARNING,
        AlertStatus.FIRING,
        NOW,
        "Twitching recorded in 2 regions. Please consult a doctor.",
        evidence={"regions": ["lumbosacral", "cervical"]},
        context=("post-exercise",),
        version=3,
    )
    assert AlertState.from_payload(state.to_payload()) == state
    event = AlertEvent(NOW, Transition.FIRING, state)
    assert AlertEvent.from_payload(event.to_payload()) == event
    ack = AlertAck(Rule.PERSISTENCE, "left_calf")
    assert AlertAck.from_payload(ack.to_payload()) == ack


def test_severities_are_ordered() -> None:
    ranks = [s.rank for s in (Severity.INFO, Severity.ADVISORY, Severity.WARNING, Severity.URGENT)]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4
