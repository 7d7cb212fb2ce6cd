"""Weeks of synthetic history replayed day by day through evaluate + advance, as the server runs."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from server.model import Verdict
from server.rules import RuleConfig, load_rule_config
from support.histories import (
    HistoryBuilder,
    Replay,
    Scenario,
    benign_calf,
    eyelid_only,
    limbs,
    red_flag_only,
    replay,
    spreading,
    worsening_calf,
)
from twitchwatch.contract import AlertEvent, AlertStatus, ReportKind, Rule, Severity, Transition

P, F, R, RES = Transition.PENDING, Transition.FIRING, Transition.REMINDER, Transition.RESOLVED


@pytest.fixture(scope="module")
def config() -> RuleConfig:
    return load_rule_config(None)


def alerts(run: Replay) -> set[tuple[Rule, str]]:
    return {(e.alert.rule, e.alert.scope) for e in run.events}


def test_benign_calf_for_six_weeks_is_one_advisory(config: RuleConfig) -> None:
    run = replay(benign_calf(weeks=6), config)
    assert alerts(run) == {(Rule.PERSISTENCE, "left_calf")}
    assert run.transitions(Rule.PERSISTENCE) == [P, F, R]  # reminded 14 days after firing
    assert run.first_day(Rule.PERSISTENCE, "left_calf", F) == 21
    assert {e.alert.severity for e in run.events} == {Severity.ADVISORY}


def test_eyelid_only_is_information_only(config: RuleConfig) -> None:
    run = replay(eyelid_only(), config)
    assert alerts(run) == {(Rule.PERSISTENCE, "left_eyelid"), (Rule.PERSISTENCE, "right_eyelid")}
    assert {e.alert.severity for e in run.events} == {Severity.INFO}
    assert Transition.REMINDER not in run.transitions(Rule.PERSISTENCE)


def test_calf_then_hand_then_tongue_is_one_spread_alert_that_escalates(
    config: RuleConfig,
) -> None:
    run = replay(spreading(), config)
    calf = run.first_day(Rule.PERSISTENCE, "left_calf", F)
    spread = run.first_day(Rule.SPREAD, "all", F)
    wide = run.first_day(Rule.SPREAD, "all", Transition.ESCALATED)
    assert calf is not None and spread is not None and wide is not None
    # The hand starts on day 28 and is established two weeks later; the tongue on day 56.
    assert calf == 21 and 42 <= spread <= 44 and 69 <= wide <= 72
    first_spread = run.events_for(Rule.SPREAD)[1].alert
    assert first_spread.severity is Severity.WARNING and first_spread.evidence["stage"] == 2
    assert first_spread.evidence["order"] == ["lumbosacral", "cervical"]
    assert [r["sites"] for r in first_spread.evidence["regions"]] == [["left_calf"], ["right_hand"]]
    assert "then the neck and arms (right hand, since Mon 5 Oct)" in first_spread.message
    widespread = run.records[(Rule.SPREAD, "all")]
    assert widespread.stage == 3 and widespread.evidence["path"] == "widespread"
    assert widespread.evidence["order"] == ["lumbosacral", "cervical", "bulbar"]
    # The persistence advisories of the calf, the hand and the tongue are folded into the
    # spread warning: recorded, never notified beside it.
    for site in ("left_calf", "right_hand", "tongue"):
        assert run.records[(Rule.PERSISTENCE, site)].folded_into == "spread/all"
    told = [(e.alert.rule, e.alert.scope, e.transition) for e in run.notified()]
    assert told[:2] == [(Rule.PERSISTENCE, "left_calf", F), (Rule.PERSISTENCE, "left_calf", R)]
    assert all(rule is Rule.SPREAD for rule, _, _ in told[2:])
    assert not any("benign" in e.alert.message for e in run.notified()[2:])
    # Nothing resolves while every site keeps twitching, and onset is not "worsening".
    assert RES not in [e.transition for e in run.events]
    assert not run.events_for(Rule.WORSENING)


def test_five_limb_groups_at_once_are_widespread_in_two_regions(config: RuleConfig) -> None:
    run = replay(limbs(), config)
    wide = run.records[(Rule.SPREAD, "all")]
    assert wide.status is AlertStatus.FIRING and len(wide.evidence["limb_groups"]) == 5
    assert wide.evidence["path"] == "widespread" and len(wide.evidence["order"]) == 2
    assert "5 of the 8 limb muscle groups" in wide.message


def _moving(hand_from_day: int) -> Scenario:
    """Calf twitching for five weeks then still; the right hand twitching from day 35."""
    b = HistoryBuilder(70, seed=21)
    b.wear("left_calf", rate_per_min=1.5, twitch_days=range(35))
    b.wear("right_hand", hand_from_day, rate_per_min=1.0, twitch_days=range(35, 70))
    return b.build()


def test_a_new_region_after_a_still_baseline_spreads(config: RuleConfig) -> None:
    run = replay(_moving(hand_from_day=0), config)
    events = run.events_for(Rule.SPREAD)
    assert [e.transition for e in events][:2] == [P, F]
    assert events[1].alert.evidence["path"] == "new_region"
    assert events[1].alert.evidence["new_region"]["name"] == "cervical"
    assert "Twitching started in a new body region, the neck and arms" in events[1].alert.message


def test_a_sensor_worn_for_the_first_time_is_not_a_new_region(config: RuleConfig) -> None:
    run = replay(_moving(hand_from_day=35), config)
    assert not run.events_for(Rule.SPREAD)
    assert run.records[(Rule.PERSISTENCE, "left_calf")].status is AlertStatus.RESOLVED


def test_weakness_warns_at_once_wherever_it_is_then_asks_then_closes(config: RuleConfig) -> None:
    b = HistoryBuilder(70, seed=22).wear("left_calf", rate_per_min=1.5).wear("right_hand")
    b.report(30, ReportKind.WEAKNESS, site="left_calf")
    b.report(31, ReportKind.ATROPHY, site="right_hand")  # nothing twitches there: still a warning
    run = replay(b.build(), config)
    for scope, day in (("lumbosacral", 30), ("cervical", 31)):
        events = run.events_for(Rule.WEAKNESS, scope)
        assert [e.transition for e in events] == [F, R, R, R, R, RES]
        days = [run.event_days[run.events.index(e)] for e in events]
        # Fires the day of the report, weekly reminders, the question after two weeks, closes
        # 30 days after the report with what to do if it goes on.
        assert days == [day, day + 7, day + 14, day + 21, day + 28, day + 30]
        assert events[0].alert.severity is Severity.WARNING
        assert "not reported again since" in events[2].alert.message
        assert "report it again and please consult a doctor" in events[-1].alert.message
    assert "Wasting reported on" in run.events_for(Rule.WEAKNESS, "cervical")[0].alert.message
    # The calf's persistence advisory is folded while the weakness warning covers its region,
    # and shown on its own again when that closes.
    calf = run.transitions(Rule.PERSISTENCE, "left_calf")
    assert calf[:4] == [P, F, Transition.FOLDED, Transition.UNFOLDED]


def test_swallowing_report_is_urgent_at_once_without_any_sensor_data(config: RuleConfig) -> None:
    run = replay(
        red_flag_only(ReportKind.SWALLOWING, day=3),
        config,
        acks={5: [(Rule.RED_FLAG, "swallowing")]},
    )
    events = run.events_for(Rule.RED_FLAG, "swallowing")
    # Acknowledged on day 5: no daily reminders, but the question after two weeks still comes.
    assert [e.transition for e in events] == [F, R, Transition.ACKNOWLEDGED, R]
    assert [run.event_days[run.events.index(e)] for e in events] == [3, 4, 5, 17]
    assert events[0].alert.severity is Severity.URGENT
    assert "mark this alert resolved" in events[-1].alert.message
    assert alerts(run) == {(Rule.RED_FLAG, "swallowing")}


def test_a_single_slurred_speech_report_is_never_silently_resolved(config: RuleConfig) -> None:
    b = HistoryBuilder(60, seed=27).report(5, ReportKind.SPEECH, note="slurred")
    run = replay(b.build(), config, acks={6: [(Rule.RED_FLAG, "speech")]})
    events = run.events_for(Rule.RED_FLAG, "speech")
    # Seen on day 6: no daily reminders; the question on day 19; closed on day 35.
    assert [e.transition for e in events] == [F, Transition.ACKNOWLEDGED, R, RES]
    assert [run.event_days[run.events.index(e)] for e in events] == [5, 6, 19, 35]
    closing = events[-1]
    assert run.event_days[run.events.index(closing)] == 35 and closing.notify
    assert "No new report of difficulty speaking since" in closing.alert.message
    assert "report it again and seek medical attention promptly" in closing.alert.message


def test_resolved_after_seeing_a_doctor_stays_resolved_until_reported_again(
    config: RuleConfig,
) -> None:
    b = (
        HistoryBuilder(40, seed=28)
        .report(5, ReportKind.SWALLOWING)
        .report(25, ReportKind.SWALLOWING)
    )
    run = replay(b.build(), config, resolves={9: [(Rule.RED_FLAG, "swallowing")]})
    events = run.events_for(Rule.RED_FLAG, "swallowing")
    assert [e.transition for e in events][:5] == [F, R, R, R, RES]
    assert [run.event_days[run.events.index(e)] for e in events][:5] == [5, 6, 7, 8, 9]
    assert "Marked resolved" in events[4].alert.message
    assert run.first_day(Rule.RED_FLAG, "swallowing", F) == 5
    refired = [d for d, e in zip(run.event_days, run.events, strict=True) if e.transition is F]
    assert refired == [5, 25]  # the report of day 25 raises it again, at once


def test_unworn_weeks_keep_persistence_firing_and_say_that_data_stopped(
    config: RuleConfig,
) -> None:
    b = HistoryBuilder(84, seed=23).wear("left_calf", 0, 28, rate_per_min=1.5)
    b.barely_worn("left_calf", 42, 56)  # worn, but never 30 min at rest: NO DATA
    b.wear("left_calf", 56, 84, rate_per_min=0.0, quiet_rate_per_min=0.0)  # worn and still
    run = replay(b.build(), config)
    # A week after the last measured day it says so, then it is repeated as an advisory is.
    assert run.transitions(Rule.PERSISTENCE, "left_calf") == [P, F, Transition.NO_DATA, R, RES]
    notice = run.events_for(Rule.PERSISTENCE, "left_calf")[2]
    assert run.event_days[run.events.index(notice)] == 34
    assert "No measurements from the left calf since Sun 4 Oct" in notice.alert.message
    # Unworn (days 28-41) and barely worn (42-55): neither cleared nor weakened.
    for day in range(28, 56):
        assert run.findings[day][(Rule.PERSISTENCE, "left_calf")].verdict is not Verdict.CLEAR
    # Only observed still days clear it: the 7th observed still day in the last 14.
    assert run.first_day(Rule.PERSISTENCE, "left_calf", RES) == 62


def test_context_is_shown_and_never_hides_a_red_flag(config: RuleConfig) -> None:
    b = HistoryBuilder(35, seed=24).wear("left_calf", rate_per_min=1.5)
    for day in range(0, 35, 2):
        b.activity(day, 1.6)
    b.report(30, ReportKind.SPEECH, note="slurred")
    run = replay(b.build(), config)
    red = run.events_for(Rule.RED_FLAG, "speech")
    assert red[0].transition is F and run.event_days[run.events.index(red[0])] == 30
    assert (
        red[0]
        .alert.context[0]
        .startswith("post-exercise: 1.6 h of activity recorded at the left calf on ")
    )
    calf = run.events_for(Rule.PERSISTENCE, "left_calf")[1].alert
    assert calf.context and calf.context[0].startswith("post-exercise:")
    assert "Possibly related and usually harmless: post-exercise" in calf.message


def test_a_dip_between_the_raise_and_clear_thresholds_does_not_flap(config: RuleConfig) -> None:
    # Daily twitching for 5 weeks, then on 2 days of every 5 (40 %: below the 60 % that raises,
    # above the 20 % that clears) for 8 weeks.
    dip = [d for d in range(35, 91) if d % 5 in (0, 2)]
    b = HistoryBuilder(91, seed=25).wear(
        "left_calf", rate_per_min=1.5, twitch_days=[*range(35), *dip]
    )
    run = replay(b.build(), config)
    # Reminders every two weeks while it stands, then HOLD: no resolution, no new pending.
    assert run.transitions(Rule.PERSISTENCE, "left_calf") == [P, F, R, R, R, R]
    verdicts = {run.findings[d][(Rule.PERSISTENCE, "left_calf")].verdict for d in range(70, 91)}
    assert verdicts == {Verdict.HOLD}  # below the raise threshold: the hysteresis is what holds


def test_acknowledging_stops_the_reminder(config: RuleConfig) -> None:
    run = replay(benign_calf(weeks=6), config, acks={25: [(Rule.PERSISTENCE, "left_calf")]})
    assert run.transitions(Rule.PERSISTENCE) == [P, F, Transition.ACKNOWLEDGED]


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "benign_calf": benign_calf,
    "eyelid_only": eyelid_only,
    "spreading": spreading,
    "limbs": limbs,
    "worsening_calf": worsening_calf,
    "red_flag_only": red_flag_only,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_re_evaluation_is_idempotent_and_events_are_publishable(
    config: RuleConfig, name: str
) -> None:
    run = replay(SCENARIOS[name](), config, twice=True)  # raises if a repeat publishes anything
    last_version: dict[tuple[Rule, str], int] = {}
    for event in run.events:
        key = (event.alert.rule, event.alert.scope)
        assert event.alert.version == last_version.get(key, 0) + 1
        last_version[key] = event.alert.version
        assert AlertEvent.from_payload(event.to_payload()) == event  # JSON-clean evidence


# Disease names and labels a message must never put on a person (word-bounded, any case).
FORBIDDEN = re.compile(
    r"\b(ALS|MND|BFS|amyotrophic|lateral sclerosis|sclerosis|motor neu?rone? disease|Lou Gehrig"
    r"|fasciculation syndrome|syndrome|disease|disorder|neuropathy|myopathy|radiculopathy"
    r"|myokymia|dystrophy|palsy|cancer|tumou?r|diagnos\w*)\b",
    re.IGNORECASE,
)


def test_no_message_names_a_disease(config: RuleConfig) -> None:
    b = HistoryBuilder(40, seed=26).wear("left_calf", rate_per_min=1.5).wear("right_hand")
    for kind in ReportKind:
        b.report(20, kind, site="left_calf" if kind is ReportKind.WEAKNESS else None, value=9)
    b.barely_worn("right_hand", 0, 40)
    scenarios = [f() for f in SCENARIOS.values()] + [b.build(), _moving(0)]
    messages: set[str] = set()
    spoken: set[tuple[Rule, Verdict]] = set()
    for scenario in scenarios:
        run = replay(scenario, config)
        messages |= {e.alert.message for e in run.events}
        for findings in run.findings.values():
            messages |= {f.message for f in findings.values()}
            spoken |= {(f.rule, f.verdict) for f in findings.values()}
    # Every rule has raised and cleared, and every verdict has been worded.
    assert {(rule, v) for rule in Rule for v in (Verdict.RAISE, Verdict.CLEAR)} <= spoken
    assert {v for _, v in spoken} == set(Verdict)
    offending = [m for m in messages if FORBIDDEN.search(m)]
    assert offending == []
