"""The v1 additions of issue 12: the profile topic, the server's status, new report kinds, the
"resolved" ack, folded alerts and which events notify (docs/contract.md lists them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from twitchwatch.contract import (
    NOTIFYING,
    SERVER_FILTERS,
    SERVER_STATUS_TOPIC,
    AckAction,
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    ContractError,
    DeviceState,
    PayloadError,
    Profile,
    Report,
    ReportKind,
    Rule,
    ServerStatus,
    Severity,
    TopicKind,
    Transition,
    ZoneError,
    check_zone,
    device_topic,
    format_utc,
    parse_topic,
    profile_topic,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_the_profile_topic_is_the_persons_and_the_server_reads_it() -> None:
    assert profile_topic("alice") == "twitchwatch/v1/alice/profile"
    where = parse_topic("twitchwatch/v1/alice/profile")
    assert (where.kind, where.user, where.device) == (TopicKind.PROFILE, "alice", None)
    assert SERVER_FILTERS[TopicKind.PROFILE] == "twitchwatch/v1/+/profile"
    with pytest.raises(ContractError):  # "profile" cannot be a device id: the topics would clash
        device_topic("alice", "profile", TopicKind.WINDOWS)


def test_a_profile_round_trips_and_ignores_fields_it_does_not_know() -> None:
    profile = Profile("America/Los_Angeles")
    assert json.loads(profile.to_payload()) == {"v": 1, "tz": "America/Los_Angeles"}
    assert Profile.from_payload(profile.to_payload()) == profile
    later = b'{"v": 1, "tz": "Europe/Berlin", "language": "de"}'
    assert Profile.from_payload(later).zone.key == "Europe/Berlin"
    assert Profile.from_payload(b'{"v": 1}').tz == "UTC"


@pytest.mark.parametrize(
    "tz",
    ["Mars/Olympus", "PST", "localtime", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "", 5],
)
def test_a_zone_outside_the_database_is_one_line(tz: object) -> None:
    payload = json.dumps({"v": 1, "tz": tz}).encode()
    with pytest.raises(PayloadError, match='"tz"') as caught:
        Profile.from_payload(payload)
    assert caught.value.problem == "bad_tz" and "\n" not in str(caught.value)
    with pytest.raises(ZoneError, match="IANA"):
        check_zone(tz)


def test_a_zone_knows_its_daylight_saving_days() -> None:
    zone = check_zone("America/Los_Angeles")
    spring = datetime(2026, 3, 8, 12, tzinfo=zone)  # clocks go forward that night
    assert spring.utcoffset() == timedelta(hours=-7)
    assert datetime(2026, 3, 7, 12, tzinfo=zone).utcoffset() == timedelta(hours=-8)


def test_the_servers_status_has_its_own_topic_no_user_can_take() -> None:
    assert SERVER_STATUS_TOPIC == "twitchwatch/v1/_server/status"
    assert parse_topic(SERVER_STATUS_TOPIC).kind is TopicKind.SERVER_STATUS
    status = ServerStatus(DeviceState.ONLINE)
    assert ServerStatus.from_payload(status.to_payload()) == status
    with pytest.raises(PayloadError, match="online or offline"):
        ServerStatus.from_payload(b'{"v": 1, "state": "busy"}')
    with pytest.raises(ContractError):  # "_server" is not a user id
        profile_topic("_server")


@pytest.mark.parametrize("kind", ["dehydration", "nicotine", "alcohol"])
def test_new_context_report_kinds(kind: str) -> None:
    payload = json.dumps({"v": 1, "t": format_utc(NOW), "kind": kind, "value": 2}).encode()
    report = Report.from_payload(payload, now=NOW)
    assert report.kind is ReportKind(kind) and report.value == 2


def test_an_ack_says_seen_by_default_or_resolved() -> None:
    old = b'{"v": 1, "rule": "red_flag", "scope": "speech"}'
    assert AlertAck.from_payload(old).action is AckAction.SEEN
    resolved = AlertAck(Rule.RED_FLAG, "speech", AckAction.RESOLVED)
    assert json.loads(resolved.to_payload())["action"] == "resolved"
    assert AlertAck.from_payload(resolved.to_payload()) == resolved
    with pytest.raises(PayloadError, match="seen or resolved"):
        AlertAck.from_payload(b'{"v": 1, "rule": "red_flag", "scope": "speech", "action": "x"}')


def _state(**changes: object) -> AlertState:
    fields: dict[str, object] = {
        "rule": Rule.PERSISTENCE,
        "scope": "left_calf",
        "severity": Severity.ADVISORY,
        "state": AlertStatus.FIRING,
        "since": NOW,
        "message": "Twitching recorded at the left calf on 20 of 24 days.",
        "version": 4,
    }
    fields.update(changes)
    return AlertState(**fields)  # type: ignore[arg-type]


def test_a_folded_alert_names_the_alert_it_is_folded_into() -> None:
    folded = _state(folded_into="spread/all")
    assert json.loads(folded.to_payload())["folded_into"] == "spread/all"
    assert AlertState.from_payload(folded.to_payload()) == folded
    assert json.loads(_state().to_payload())["folded_into"] is None


def test_events_say_whether_they_notify() -> None:
    assert Transition.PENDING not in NOTIFYING and Transition.FOLDED not in NOTIFYING
    assert Transition.FIRING in NOTIFYING and Transition.NO_DATA in NOTIFYING
    quiet = AlertEvent(NOW, Transition.FIRING, _state(folded_into="spread/all"), notify=False)
    doc = json.loads(quiet.to_payload())
    assert doc["notify"] is False and doc["transition"] == "firing"
    assert AlertEvent.from_payload(quiet.to_payload()) == quiet
    # A payload from before "notify" existed: the transition decides.
    del doc["notify"]
    assert AlertEvent.from_payload(json.dumps(doc).encode()).notify is True
    doc["transition"] = "pending"
    assert AlertEvent.from_payload(json.dumps(doc).encode()).notify is False
    doc["notify"] = "yes"
    with pytest.raises(PayloadError, match="notify"):
        AlertEvent.from_payload(json.dumps(doc).encode())
