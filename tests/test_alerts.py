"""The alert lifecycle (server/alerts.py): pure transitions, driven by hand-made findings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.alerts import acknowledge, advance
from server.model import AlertRecord, Finding, Verdict
from server.rules import RuleConfig, load_rule_config
from twitchwatch.contract import AlertEvent, AlertStatus, Rule, Severity, Transition

USER = "ada"
T0 = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def config() -> RuleConfig:
    return load_rule_config(None)


def finding(
    verdict: Verdict,
    severity: Severity = Severity.ADVISORY,
    *,
    rule: Rule = Rule.PERSISTENCE,
    scope: str = "left_calf",
    message: str | None = None,
) -> Finding:
    return Finding(
        rule,
        scope,
        verdict,
        severity,
        message or f"{rule.value} {verdict.value} {severity.value}",
        {"n": 1},
        ("caffeine reported on 2026-11-01",),
    )


def run(
    config: RuleConfig,
    steps: list[tuple[timedelta, Finding | None]],
    prior: AlertRecord | None = None,
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    """Apply findings at T0 + offset, in order; return the last record and every event."""
    events: list[AlertEvent] = []
    for offset, f in steps:
        prior, new = advance(USER, prior, f, T0 + offset, config)
        events += new
    return prior, events


def kinds(events: list[AlertEvent]) -> list[Transition]:
    return [e.transition for e in events]


def test_raise_is_pending_until_the_rule_for_has_passed(config: RuleConfig) -> None:
    record, events = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    assert record is not None and record.status is AlertStatus.PENDING
    assert kinds(events) == [Transition.PENDING] and record.pending_since == T0

    # 12 h later: not yet a day (for_s of persistence); a day later the evaluation confirms it.
    record, events = run(config, [(DAY / 2, finding(Verdict.RAISE))], record)
    assert events == [] and record is not None and record.status is AlertStatus.PENDING
    record, events = run(config, [(DAY, finding(Verdict.RAISE))], record)
    assert record is not None and record.status is AlertStatus.FIRING
    assert kinds(events) == [Transition.FIRING]
    assert record.since == T0 + DAY and record.last_notified == T0 + DAY and record.version == 2
    # The event carries the record's state after the change.
    assert events[0].alert == record.state() and events[0].t == T0 + DAY


def test_for_zero_fires_at_once(config: RuleConfig) -> None:
    f = finding(Verdict.RAISE, Severity.URGENT, rule=Rule.RED_FLAG, scope="swallowing")
    record, events = run(config, [(0 * DAY, f)])
    assert record is not None and record.status is AlertStatus.FIRING
    assert kinds(events) == [Transition.FIRING] and record.version == 1


@pytest.mark.parametrize("quiet", [Verdict.HOLD, Verdict.NO_DATA, None])
def test_hold_no_data_and_no_finding_change_nothing(
    config: RuleConfig, quiet: Verdict | None
) -> None:
    firing, _ = run(config, [(0 * DAY, finding(Verdict.RAISE)), (DAY, finding(Verdict.RAISE))])
    assert firing is not None and firing.status is AlertStatus.FIRING
    later = None if quiet is None else finding(quiet)
    # Weeks of it, past every reminder interval: still firing, nothing published.
    record, events = run(config, [(k * DAY, later) for k in range(2, 60)], firing)
    assert record is firing and events == []

    # A pending alert keeps its timer through HOLD/NO DATA (they are not a clear).
    pending, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(DAY / 2, later), (2 * DAY, finding(Verdict.RAISE))], pending)
    assert kinds(events) == [Transition.FIRING]


def test_nothing_but_raise_creates_an_alert(config: RuleConfig) -> None:
    for verdict in (Verdict.CLEAR, Verdict.HOLD, Verdict.NO_DATA):
        assert advance(USER, None, finding(verdict), T0, config) == (None, [])
    assert advance(USER, None, None, T0, config) == (None, [])


def test_clear_resolves_firing_and_pending(config: RuleConfig) -> None:
    clear = finding(Verdict.CLEAR, message="it has settled")
    firing, _ = run(config, [(0 * DAY, finding(Verdict.RAISE)), (DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(3 * DAY, clear)], firing)
    assert record is not None and record.status is AlertStatus.RESOLVED
    assert kinds(events) == [Transition.RESOLVED] and record.since == T0 + 3 * DAY
    assert record.message == "it has settled" and record.pending_since is None
    assert record.severity is Severity.ADVISORY  # kept; the next raise starts afresh

    # A pending alert was published too, so its end is published as well.
    pending, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(DAY / 2, clear)], pending)
    assert record is not None and record.status is AlertStatus.RESOLVED
    assert kinds(events) == [Transition.RESOLVED]

    # Clearing what is resolved publishes nothing.
    assert run(config, [(4 * DAY, clear)], record) == (record, [])


def test_raise_after_resolution_starts_over_at_a_higher_version(config: RuleConfig) -> None:
    steps: list[tuple[timedelta, Finding | None]] = [
        (0 * DAY, finding(Verdict.RAISE)),
        (DAY, finding(Verdict.RAISE)),
        (2 * DAY, finding(Verdict.CLEAR)),
        (5 * DAY, finding(Verdict.RAISE, Severity.INFO)),
    ]
    record, events = run(config, steps)
    assert kinds(events) == [
        Transition.PENDING,
        Transition.FIRING,
        Transition.RESOLVED,
        Transition.PENDING,
    ]
    assert record is not None and record.version == 4 and record.severity is Severity.INFO
    assert record.pending_since == T0 + 5 * DAY and not record.acknowledged


def test_reminder_after_the_repeat_interval_of_the_severity(config: RuleConfig) -> None:
    raise_ = finding(Verdict.RAISE)  # advisory: every 14 days
    firing, _ = run(config, [(0 * DAY, raise_), (DAY, raise_)])
    record, events = run(config, [(k * DAY, raise_) for k in range(2, 30)], firing)
    assert kinds(events) == [Transition.REMINDER, Transition.REMINDER]
    assert [e.t for e in events] == [T0 + 15 * DAY, T0 + 29 * DAY]
    assert record is not None and record.last_notified == T0 + 29 * DAY

    warn = finding(Verdict.RAISE, Severity.WARNING, rule=Rule.SPREAD, scope="all")
    _, events = run(config, [(k * DAY, warn) for k in range(0, 16)])
    assert kinds(events) == [
        Transition.PENDING,
        Transition.FIRING,
        Transition.REMINDER,
        Transition.REMINDER,
    ]
    assert [e.t - T0 for e in events[2:]] == [8 * DAY, 15 * DAY]


def test_information_is_never_repeated(config: RuleConfig) -> None:
    info = finding(Verdict.RAISE, Severity.INFO, scope="left_eyelid")
    _, events = run(config, [(k * DAY, info) for k in range(0, 60)])
    assert kinds(events) == [Transition.PENDING, Transition.FIRING]


def test_acknowledgement_stops_reminders(config: RuleConfig) -> None:
    raise_ = finding(Verdict.RAISE)
    firing, _ = run(config, [(0 * DAY, raise_), (DAY, raise_)])
    assert firing is not None
    acked, events = acknowledge(firing, T0 + 2 * DAY)
    assert kinds(events) == [Transition.ACKNOWLEDGED] and acked.acknowledged
    assert acked.version == firing.version + 1 and events[0].alert.acknowledged
    record, events = run(config, [(k * DAY, raise_) for k in range(2, 60)], acked)
    assert record is acked and events == []


def test_escalation_renotifies_even_after_acknowledgement(config: RuleConfig) -> None:
    raise_ = finding(Verdict.RAISE, Severity.INFO, scope="left_eyelid")
    firing, _ = run(config, [(0 * DAY, raise_), (DAY, raise_)])
    assert firing is not None
    acked, _ = acknowledge(firing, T0 + 2 * DAY)
    higher = finding(Verdict.RAISE, Severity.ADVISORY, scope="left_eyelid", message="more now")
    record, events = run(config, [(3 * DAY, higher)], acked)
    assert kinds(events) == [Transition.ESCALATED]
    assert record is not None and record.severity is Severity.ADVISORY
    assert not record.acknowledged and record.last_notified == T0 + 3 * DAY
    assert record.message == "more now" and record.status is AlertStatus.FIRING
    assert record.since == firing.since  # still the same firing episode

    # Severity never goes down while firing: a lower raise changes nothing, and a reminder
    # keeps the text that goes with the severity it keeps.
    assert run(config, [(4 * DAY, raise_)], record) == (record, [])
    reminded, events = run(config, [(17 * DAY, raise_)], record)
    assert kinds(events) == [Transition.REMINDER]
    assert reminded is not None and reminded.severity is Severity.ADVISORY
    assert reminded.message == "more now"


def test_a_higher_severity_while_pending_is_published_as_pending(config: RuleConfig) -> None:
    record, events = run(
        config,
        [
            (0 * DAY, finding(Verdict.RAISE, Severity.INFO)),
            (DAY / 4, finding(Verdict.RAISE, Severity.ADVISORY)),
            (DAY, finding(Verdict.RAISE, Severity.INFO)),
        ],
    )
    assert kinds(events) == [Transition.PENDING, Transition.PENDING, Transition.FIRING]
    assert record is not None and record.severity is Severity.ADVISORY
    assert record.pending_since == T0  # the timer did not restart


def test_acknowledge_only_open_unacknowledged_alerts(config: RuleConfig) -> None:
    pending, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    assert pending is not None
    acked, events = acknowledge(pending, T0 + DAY / 2)
    assert kinds(events) == [Transition.ACKNOWLEDGED]
    assert acknowledge(acked, T0 + DAY) == (acked, [])
    resolved, _ = run(config, [(DAY, finding(Verdict.CLEAR))], acked)
    assert resolved is not None and resolved.status is AlertStatus.RESOLVED
    assert acknowledge(resolved, T0 + 2 * DAY) == (resolved, [])


def test_a_finding_of_another_alert_is_refused(config: RuleConfig) -> None:
    record, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    with pytest.raises(ValueError, match="does not belong"):
        advance(USER, record, finding(Verdict.RAISE, scope="right_calf"), T0, config)


def test_for_s_and_repeat_come_from_the_config(config: RuleConfig) -> None:
    fast = replace(
        config,
        persistence=replace(config.persistence, for_s=0.0),
        reminders=replace(config.reminders, advisory_s=3 * 86400.0),
    )
    _, events = run(fast, [(k * DAY, finding(Verdict.RAISE)) for k in range(0, 7)])
    assert kinds(events) == [Transition.FIRING, Transition.REMINDER, Transition.REMINDER]


# --- properties over arbitrary sequences -----------------------------------------------------------

_steps = st.lists(
    st.tuples(
        st.sampled_from([*Verdict, None, "ack"]),
        st.sampled_from(list(Severity)),
        st.integers(min_value=0, max_value=20 * 24),  # hours until this step
    ),
    min_size=1,
    max_size=25,
)


_DEFAULTS = load_rule_config(None)


@settings(max_examples=250, deadline=None)
@given(_steps)
def test_lifecycle_invariants(steps: list[tuple[Verdict | str | None, Severity, int]]) -> None:
    """Any sequence: one version per event, events carry the state, repeats are silent,
    severity never drops while firing, and only a CLEAR resolves."""
    config = _DEFAULTS
    prior: AlertRecord | None = None
    now = T0
    for verdict, severity, hours in steps:
        now += timedelta(hours=hours)
        if verdict == "ack":
            if prior is None:
                continue
            record, events = acknowledge(prior, now)
            assert acknowledge(record, now) == (record, [])
        else:
            f = None if verdict is None else finding(Verdict(verdict), severity)
            record, events = advance(USER, prior, f, now, config)
            # Idempotent: the same evaluation again publishes nothing and changes nothing.
            assert advance(USER, record, f, now, config) == (record, [])
            if (
                record is not None
                and record.status is AlertStatus.RESOLVED
                and (prior is None or prior.status is not AlertStatus.RESOLVED)
            ):
                assert f is not None and f.verdict is Verdict.CLEAR
        if record is None:
            assert events == [] and prior is None
            continue
        old_version = prior.version if prior else 0
        assert record.version == old_version + len(events)
        assert len(events) <= 1
        for e in events:
            assert e.alert == record.state() and e.t == now
            AlertEvent.from_payload(e.to_payload())  # publishable as it is
        if (
            prior is not None
            and prior.status is AlertStatus.FIRING
            and record.status is AlertStatus.FIRING
        ):
            assert record.severity.rank >= prior.severity.rank
        if not events:
            assert record == prior
        prior = record
