"""The alert lifecycle (server/alerts.py): pure transitions, driven by hand-made findings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.alerts import acknowledge, advance, resolve
from server.folding import fold, quiet_folded
from server.model import AlertRecord, Finding, Notice, Verdict
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
    assert not events[0].notify  # pending is published, not notified

    # 12 h later: not yet a day (for_s of persistence); a day later the evaluation confirms it.
    record, events = run(config, [(DAY / 2, finding(Verdict.RAISE))], record)
    assert events == [] and record is not None and record.status is AlertStatus.PENDING
    record, events = run(config, [(DAY, finding(Verdict.RAISE))], record)
    assert record is not None and record.status is AlertStatus.FIRING
    assert kinds(events) == [Transition.FIRING] and events[0].notify
    assert record.since == T0 + DAY and record.last_notified == T0 + DAY and record.version == 2
    # The event carries the record's state after the change.
    assert events[0].alert == record.state() and events[0].t == T0 + DAY


def test_for_zero_fires_at_once(config: RuleConfig) -> None:
    f = finding(Verdict.RAISE, Severity.URGENT, rule=Rule.RED_FLAG, scope="swallowing")
    record, events = run(config, [(0 * DAY, f)])
    assert record is not None and record.status is AlertStatus.FIRING
    assert kinds(events) == [Transition.FIRING] and record.version == 1


@pytest.mark.parametrize("quiet", [Verdict.HOLD, Verdict.NO_DATA, None])
def test_hold_no_data_and_no_finding_never_clear_or_weaken(
    config: RuleConfig, quiet: Verdict | None
) -> None:
    firing, _ = run(config, [(0 * DAY, finding(Verdict.RAISE)), (DAY, finding(Verdict.RAISE))])
    assert firing is not None and firing.status is AlertStatus.FIRING
    later = None if quiet is None else finding(quiet)
    # Weeks of it: still firing at its severity with its text. An alert that stands is
    # repeated as time passes (every 14 days for an advisory), with or without new data; no
    # finding at all (its site left the history) changes nothing.
    record, events = run(config, [(k * DAY, later) for k in range(2, 60)], firing)
    assert record is not None and record.status is AlertStatus.FIRING
    assert record.severity is firing.severity and record.message == firing.message
    if quiet is None:
        assert record is firing and events == []
    else:
        assert kinds(events) == [Transition.REMINDER] * 4
        assert [e.t - T0 for e in events] == [15 * DAY, 29 * DAY, 43 * DAY, 57 * DAY]

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

    assert events[0].notify  # the person was told it fired: they are told it ended

    # A pending alert was published too, so its end is published as well, but nobody was
    # told of it: its end tells nobody either.
    pending, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(DAY / 2, clear)], pending)
    assert record is not None and record.status is AlertStatus.RESOLVED
    assert kinds(events) == [Transition.RESOLVED] and not events[0].notify

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


# --- issue 12: days of 23 hours, stages, notices, the person's resolution ------------------------


def test_a_day_of_23_hours_still_confirms_the_next_day(config: RuleConfig) -> None:
    """The clocks went forward overnight: the next evening's evaluation is 23 h later."""
    record, _ = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(timedelta(hours=23), finding(Verdict.RAISE))], record)
    assert kinds(events) == [Transition.FIRING]
    record, events = run(config, [(0 * DAY, finding(Verdict.RAISE))])
    record, events = run(config, [(timedelta(hours=22), finding(Verdict.RAISE))], record)
    assert events == []  # 22 h is not a day on any calendar


def _spread(stage: int, severity: Severity = Severity.WARNING) -> Finding:
    return replace(finding(Verdict.RAISE, severity, rule=Rule.SPREAD, scope="all"), stage=stage)


def test_a_further_stage_of_the_same_severity_escalates(config: RuleConfig) -> None:
    record, events = run(
        config,
        [
            (0 * DAY, _spread(1, Severity.ADVISORY)),
            (DAY, _spread(1, Severity.ADVISORY)),
            (9 * DAY, _spread(2)),
            (10 * DAY, _spread(2)),
            (30 * DAY, _spread(3)),
            (31 * DAY, _spread(2)),  # settling back a stage neither escalates nor weakens it
        ],
    )
    assert kinds(events) == [
        Transition.PENDING,
        Transition.FIRING,
        Transition.ESCALATED,
        Transition.ESCALATED,
    ]
    assert record is not None and (record.severity, record.stage) == (Severity.WARNING, 3)


def _symptom(verdict: Verdict, reported: datetime, notice: Notice | None = None) -> Finding:
    base = finding(verdict, Severity.URGENT, rule=Rule.RED_FLAG, scope="speech")
    return replace(base, reported=reported, notice=notice, message=f"speech {verdict.value}")


def test_a_symptom_is_asked_about_once_even_when_acknowledged(config: RuleConfig) -> None:
    record, _ = run(config, [(0 * DAY, _symptom(Verdict.RAISE, T0))])
    assert record is not None
    record, _ = acknowledge(record, T0 + DAY)
    ask = _symptom(Verdict.HOLD, T0, Notice.ASK)
    record, events = run(config, [(k * DAY, ask) for k in range(15, 29)], record)
    assert kinds(events) == [Transition.REMINDER] and events[0].notify
    assert record is not None and record.asked == T0 + 15 * DAY
    assert record.message == "speech hold"  # the question is the retained text now
    # A new report answers it (quietly); a later silence asks again.
    record, events = run(config, [(29 * DAY, _symptom(Verdict.RAISE, T0 + 29 * DAY))], record)
    assert events == [] and record is not None and record.asked is None


def test_measurements_that_stop_are_said_once_and_taken_back_quietly(config: RuleConfig) -> None:
    firing, _ = run(config, [(0 * DAY, finding(Verdict.RAISE)), (DAY, finding(Verdict.RAISE))])
    stopped = replace(finding(Verdict.NO_DATA), notice=Notice.NO_DATA)
    record, events = run(config, [(k * DAY, stopped) for k in range(8, 12)], firing)
    assert kinds(events) == [Transition.NO_DATA] and events[0].notify
    assert record is not None and record.no_data_noticed == T0 + 8 * DAY
    assert record.last_notified == T0 + 8 * DAY  # a notification: reminders count from here
    back, events = run(config, [(12 * DAY, finding(Verdict.RAISE))], record)
    assert events == [] and back is not None and back.no_data_noticed is None
    assert back.version == record.version + 1  # the retained state changes, nobody is told


def test_the_person_resolves_a_symptom_and_only_a_newer_report_raises_it(
    config: RuleConfig,
) -> None:
    record, _ = run(config, [(0 * DAY, _symptom(Verdict.RAISE, T0))])
    assert record is not None
    resolved, events = resolve(record, T0 + 3 * DAY, UTC)
    assert kinds(events) == [Transition.RESOLVED] and resolved.resolved_by_person
    assert "after seeing a doctor" in resolved.message and "report it again" in resolved.message
    # The same (old) report still raises the rule: the alert stays resolved.
    again, events = run(config, [(4 * DAY, _symptom(Verdict.RAISE, T0))], resolved)
    assert again is resolved and events == []
    # A report after the resolution raises it again, afresh.
    again, events = run(config, [(5 * DAY, _symptom(Verdict.RAISE, T0 + 5 * DAY))], resolved)
    assert kinds(events) == [Transition.FIRING] and again is not None
    assert not again.resolved_by_person


def test_alerts_that_follow_the_measurements_cannot_be_resolved_by_hand(
    config: RuleConfig,
) -> None:
    firing, _ = run(config, [(0 * DAY, finding(Verdict.RAISE)), (DAY, finding(Verdict.RAISE))])
    assert firing is not None
    with pytest.raises(ValueError, match="follow the measurements"):
        resolve(firing, T0 + 2 * DAY, UTC)


def _record(rule: Rule, scope: str, severity: Severity, status: AlertStatus) -> AlertRecord:
    return AlertRecord(USER, rule, scope, severity, status, T0, T0, T0, False, 2, f"{scope} text")


def test_a_warning_folds_lesser_alerts_about_the_same_region_only() -> None:
    calf = _record(Rule.PERSISTENCE, "left_calf", Severity.ADVISORY, AlertStatus.FIRING)
    hand = _record(Rule.PERSISTENCE, "right_hand", Severity.ADVISORY, AlertStatus.FIRING)
    weak = _record(Rule.WEAKNESS, "lumbosacral", Severity.WARNING, AlertStatus.FIRING)
    records = {(r.rule, r.scope): r for r in (calf, hand, weak)}
    changed, events = fold(records, T0 + DAY)
    assert set(changed) == {(Rule.PERSISTENCE, "left_calf")}
    folded = changed[(Rule.PERSISTENCE, "left_calf")]
    assert folded.folded_into == "weakness/lumbosacral" and folded.version == 3
    assert kinds(events) == [Transition.FOLDED] and not events[0].notify
    assert fold({**records, **changed}, T0 + DAY) == ({}, [])  # idempotent
    # The warning ends: the calf's advisory is shown on its own again, and notified.
    ended = replace(weak, status=AlertStatus.RESOLVED)
    after = {**records, **changed, (Rule.WEAKNESS, "lumbosacral"): ended}
    changed, events = fold(after, T0 + 2 * DAY)
    assert kinds(events) == [Transition.UNFOLDED] and events[0].notify
    assert changed[(Rule.PERSISTENCE, "left_calf")].folded_into is None


def test_a_folded_alerts_events_tell_nobody() -> None:
    calf = _record(Rule.PERSISTENCE, "left_calf", Severity.ADVISORY, AlertStatus.FIRING)
    fired = AlertEvent(T0, Transition.FIRING, calf.state())
    folded = replace(calf, folded_into="spread/all")
    out = quiet_folded([fired], {(calf.rule, calf.scope): folded})
    assert [e.notify for e in out] == [False]
