"""What a careful doctor would sign: the life-like stories of issue 12 and what each must be told.

Each :class:`Row` is one thing a person lives through (the issue's table, then the benign and
red-flag stories that already worked), built as synthetic days (support/histories.py), replayed
through the server's own evaluation steps, and checked for what the person is *told* (events
that notify): which alerts, at which advice level, on which of their days, in which words.
:func:`check` returns the problems (empty: the row holds). ``tests/test_advice.py`` asserts every
row; ``bench/advice.py`` prints the table.

Wording checks apply to every row: a warning or urgent message never reassures ("harmless",
"benign", "usually settles"), no message gives a p-value or statistics jargon, and no message
shows a UTC timestamp instead of the person's date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from server.rules import RuleConfig
from support.histories import HistoryBuilder, Replay, Scenario, replay
from twitchwatch.contract import AlertEvent, ReportKind, Rule, Severity, Transition

#: Words a warning or urgent message must not contain: it never reassures.
REASSURING = re.compile(r"\b(harmless|benign|usually settles|nothing to worry)\b", re.IGNORECASE)
#: Statistics a person should not have to read.
JARGON = re.compile(r"\bp\s*[<=>]|p-value|\bsignifican|confidence interval", re.IGNORECASE)
#: A UTC timestamp leaking into a message (the person's dates are words: "Tue 3 Nov at 20:00").
UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\dZ\b")


@dataclass(frozen=True)
class Told:
    """One alert the person must be told of: its first notification (firing)."""

    rule: Rule
    scope: str | None  # None: any scope of the rule
    severity: Severity
    day: int | None  # the person's day it is first told; None: any day
    says: tuple[str, ...] = ()  # phrases its message must hold

    def describe(self) -> str:
        where = self.rule.value + (f"/{self.scope}" if self.scope else "")
        when = "" if self.day is None else f" on day {self.day}"
        return f"{self.severity.value} {where}{when}"


Check = Callable[[Replay, Scenario], str | None]


@dataclass(frozen=True)
class Row:
    name: str
    lived: str  # what the person lives through (the issue's words)
    build: Callable[[], Sequence[Scenario]]  # one scenario, or several people living it
    told: tuple[Told, ...] = ()
    #: Rules the person must not be told of at all.
    never: tuple[Rule, ...] = ()
    #: The highest advice level the person may be told (None: no limit).
    at_most: Severity | None = None
    checks: tuple[Check, ...] = field(default=())
    issue: bool = True  # a row of the issue's table (else a story that already worked)


def told(run: Replay) -> list[tuple[int, AlertEvent]]:
    """(day, event) for every event the person is told of."""
    return [(d, e) for d, e in zip(run.event_days, run.events, strict=True) if e.notify]


def check(row: Row, config: RuleConfig) -> list[str]:
    """Every way the row's people were told something other than what they should be."""
    problems: list[str] = []
    for scenario in row.build():
        run = replay(scenario, config)
        notified = told(run)
        who = scenario.user
        for want in row.told:
            first = next(
                (
                    (d, e)
                    for d, e in notified
                    if e.alert.rule is want.rule
                    and (want.scope is None or e.alert.scope == want.scope)
                    and e.transition is Transition.FIRING
                ),
                None,
            )
            if first is None:
                problems.append(f"{who}: never told {want.describe()}")
                continue
            day, event = first
            if event.alert.severity is not want.severity:
                problems.append(f"{who}: {want.describe()} came as {event.alert.severity.value}")
            if want.day is not None and day != want.day:
                problems.append(f"{who}: {want.describe()} came on day {day}")
            for phrase in want.says:
                if phrase not in event.alert.message:
                    problems.append(f"{who}: {want.describe()} does not say {phrase!r}")
        for day, event in notified:
            alert = event.alert
            if alert.rule in row.never:
                problems.append(f"{who}: told {alert.rule.value}/{alert.scope} on day {day}")
            if row.at_most is not None and alert.severity.rank > row.at_most.rank:
                problems.append(f"{who}: told a {alert.severity.value} on day {day}")
            problems += _wording(who, day, event)
        for extra in row.checks:
            problem = extra(run, scenario)
            if problem:
                problems.append(f"{who}: {problem}")
    return problems


def _wording(who: str, day: int, event: AlertEvent) -> list[str]:
    alert, problems = event.alert, []
    where = f"{who}: {alert.rule.value}/{alert.scope} on day {day}"
    if alert.severity.rank >= Severity.WARNING.rank and REASSURING.search(alert.message):
        problems.append(f"{where} reassures inside a {alert.severity.value}")
    if JARGON.search(alert.message):
        problems.append(f"{where} speaks statistics: {JARGON.search(alert.message)}")
    if UTC_STAMP.search(alert.message):
        problems.append(f"{where} shows a UTC timestamp")
    return problems


# --- the stories ---------------------------------------------------------------------------------


def _calf(n_days: int, seed: int, **wear: object) -> HistoryBuilder:
    return HistoryBuilder(n_days, seed=seed).wear("left_calf", rate_per_min=1.5, **wear)  # type: ignore[arg-type]


def _weakness_where_no_sensor() -> list[Scenario]:
    b = _calf(35, 101).report(30, ReportKind.WEAKNESS, site="right_hand", note="drops cups")
    return [b.build()]


def _weakness_without_data() -> list[Scenario]:
    weak = HistoryBuilder(20, user="weak").report(6, ReportKind.WEAKNESS, site="left_thigh")
    wasting = HistoryBuilder(20, user="wasting").report(6, ReportKind.ATROPHY, site="left_hand")
    return [weak.build(), wasting.build()]


def _weakness_on_day_four() -> list[Scenario]:
    return [_calf(20, 102).report(4, ReportKind.WEAKNESS, site="left_calf").build()]


def _numbness_daily() -> list[Scenario]:
    b = _calf(21, 103)
    for day in range(3, 17):
        b.report(day, ReportKind.NUMBNESS, site="left_foot", note="tingling toes")
    return [b.build()]


def _steady_calves() -> list[Scenario]:
    """Ten people, steady calf twitching on ~60 % of days, ordinary spread, 100 days."""
    people = []
    for k in range(10):
        b = HistoryBuilder(100, user=f"steady{k}", seed=200 + k)
        days = [d for d in range(100) if (d * 7 + k) % 5 in (0, 1, 3)]  # 60 % of days
        b.wear("left_calf", rate_per_min=1.5, twitch_days=days, variability=0.55)
        people.append(b.build())
    return people


def _limb_groups_one_region() -> list[Scenario]:
    b = HistoryBuilder(90, seed=104)
    b.wear("left_calf", rate_per_min=1.5)
    b.wear("right_calf", rate_per_min=1.2, twitch_days=range(30, 90))
    b.wear("left_thigh", rate_per_min=1.0, twitch_days=range(55, 90))
    b.wear("right_thigh", rate_per_min=1.0, twitch_days=range(55, 90))
    return [b.build()]


def _los_angeles_swallowing() -> list[Scenario]:
    b = HistoryBuilder(10, tz="America/Los_Angeles", seed=105)
    b.wear("left_calf", rate_per_min=1.0)
    return [b.report(5, ReportKind.SWALLOWING, hour=20, note="bread sticks").build()]


def _spread_with_coffee() -> list[Scenario]:
    b = HistoryBuilder(100, seed=106)
    b.wear("left_calf", rate_per_min=1.5)
    b.wear("right_hand", rate_per_min=0.8, twitch_days=range(28, 100))
    b.wear("tongue", rate_per_min=0.6, twitch_days=range(56, 100))
    for day in range(0, 100, 2):
        b.report(day, ReportKind.CAFFEINE, value=4)
    return [b.build()]


def _slurred_speech_once() -> list[Scenario]:
    return [HistoryBuilder(50, seed=107).report(5, ReportKind.SPEECH, note="slurred").build()]


def _never_worn_again() -> list[Scenario]:
    return [HistoryBuilder(120, seed=108).wear("left_calf", 0, 28, rate_per_min=1.5).build()]


def _five_sensors_moving() -> list[Scenario]:
    b = HistoryBuilder(35, seed=109)
    for site in ("left_calf", "right_calf", "left_thigh", "right_thigh", "left_forearm"):
        b.wear(site, rate_per_min=1.5 if site == "left_calf" else 0.0, active_h=0.25)
    return [b.build()]


def _calf_after_running() -> list[Scenario]:
    b = _calf(42, 110)
    for day in range(2, 42, 3):
        b.activity(day, 1.5, site="left_calf").report(day, ReportKind.EXERCISE, value=1.5)
    return [b.build()]


def _eyelid_with_caffeine() -> list[Scenario]:
    b = HistoryBuilder(42, seed=111).wear("left_eyelid", rate_per_min=1.0)
    for day in range(0, 42, 2):
        b.report(day, ReportKind.CAFFEINE, value=5)
    return [b.build()]


def _red_flag(kind: ReportKind) -> Callable[[], list[Scenario]]:
    def build() -> list[Scenario]:
        return [_calf(12, 112).report(7, kind).build()]

    return build


# --- extra checks --------------------------------------------------------------------------------


def _no_worsening_ever(run: Replay, scenario: Scenario) -> str | None:
    raised = [e for e in run.events if e.alert.rule is Rule.WORSENING]
    return f"worsening {raised[0].transition.value} on a steady calf" if raised else None


def _one_spread_alert_naming_both(run: Replay, scenario: Scenario) -> str | None:
    spread = run.events_for(Rule.SPREAD)
    if {e.alert.scope for e in spread} != {"all"}:
        return "spread is not one alert"
    first = next(e for e in spread if e.transition is Transition.FIRING)
    if "left lower leg and foot" not in first.alert.message:
        return "the spread advisory does not name the group it spread from"
    return None


def _quiet_beside_the_warning(run: Replay, scenario: Scenario) -> str | None:
    """Once the spread warning fires, lesser alerts are folded, and the person is not flooded."""
    fired = run.first_day(Rule.SPREAD, "all", Transition.FIRING)
    if fired is None:
        return "the spread warning never fired"
    after = [(d, e) for d, e in told(run) if d >= fired]
    lesser = [e for _, e in after if e.alert.severity.rank < Severity.WARNING.rank]
    if lesser:
        return f"told {lesser[0].alert.rule.value}/{lesser[0].alert.scope} beside the warning"
    in_eight_days = [e for d, e in after if d < fired + 8]
    if len(in_eight_days) > 2:
        return f"{len(in_eight_days)} messages in the 8 days after the warning"
    return None


def _asks_then_closes_with_advice(run: Replay, scenario: Scenario) -> str | None:
    events = run.events_for(Rule.RED_FLAG, "speech")
    ask = next((e for e in events if "not reported again since" in e.alert.message), None)
    if ask is None or run.event_days[run.events.index(ask)] != 19:  # 14 days after day 5
        return "not asked on day 19 whether it goes on"
    closing = [e for e in events if e.transition is Transition.RESOLVED]
    if not closing or "report it again and seek medical attention" not in closing[0].alert.message:
        return "closed without saying what to do if it continues"
    return None


def _says_the_data_stopped(run: Replay, scenario: Scenario) -> str | None:
    notices = [(d, e) for d, e in told(run) if e.transition is Transition.NO_DATA]
    if not notices or notices[0][0] != 34:
        return f"no 'no measurements' notice on day 34 ({[d for d, _ in notices]})"
    reminders = [d for d, e in told(run) if e.transition is Transition.REMINDER]
    if len(reminders) < 3:
        return f"only {len(reminders)} reminders in three months without data"
    return None


def _no_post_exercise(run: Replay, scenario: Scenario) -> str | None:
    bad = [e for e in run.events if any("post-exercise" in c for c in e.alert.context)]
    return "post-exercise context from movement summed over sensors" if bad else None


def _local_date(run: Replay, scenario: Scenario) -> str | None:
    (event,) = [e for e in run.events if e.transition is Transition.FIRING]
    return None if "Sat 12 Sep at 20:00" in event.alert.message else "not the person's date"


ROWS: tuple[Row, ...] = (
    Row(
        "weakness_no_sensor",
        "calf twitching; weakness reported in the right hand, where no sensor is worn",
        _weakness_where_no_sensor,
        told=(
            Told(Rule.WEAKNESS, "cervical", Severity.WARNING, 30,
                 ("Weakness reported on", "right hand", "No sensor is worn in the neck and arms")),
        ),
    ),
    Row(
        "weakness_no_data",
        "weakness or wasting reported with no sensor data at all",
        _weakness_without_data,
        told=(Told(Rule.WEAKNESS, None, Severity.WARNING, 6),),
    ),
    Row(
        "weakness_day_four",
        "weakness reported on day 4 of calf twitching",
        _weakness_on_day_four,
        told=(
            Told(Rule.WEAKNESS, "lumbosacral", Severity.WARNING, 4,
                 ("Twitching was recorded at the left calf on 5 of the 5 days",)),
        ),
    ),
    Row(
        "numbness_daily",
        "numbness or tingling reported daily for 2 weeks",
        _numbness_daily,
        told=(Told(Rule.NUMBNESS, "lumbosacral", Severity.WARNING, 3,
                   ("Numbness or tingling reported on",)),),
    ),
    Row(
        "steady_calf_spread",
        "steady calf twitching on ~60 % of days with ordinary day-to-day spread, no trend",
        _steady_calves,
        never=(Rule.WORSENING,),
        checks=(_no_worsening_ever,),
    ),
    Row(
        "limb_groups_one_region",
        "left calf, then right calf, then both thighs (4 limb groups, one region)",
        _limb_groups_one_region,
        told=(
            Told(Rule.SPREAD, "all", Severity.ADVISORY, None,
                 ("spread to another muscle group", "right lower leg and foot")),
        ),
        checks=(_one_spread_alert_naming_both,),
    ),
    Row(
        "los_angeles_evening",
        "a person in Los Angeles reports trouble swallowing at 20:00",
        _los_angeles_swallowing,
        told=(Told(Rule.RED_FLAG, "swallowing", Severity.URGENT, 5,
                   ("Difficulty swallowing reported on Sat 12 Sep at 20:00",)),),
        checks=(_local_date,),
    ),
    Row(
        "spread_warning_with_coffee",
        "spread warning, with coffee reported, and persistent sites on the same body parts",
        _spread_with_coffee,
        told=(Told(Rule.SPREAD, "all", Severity.WARNING, None,
                   ("This does not change the advice",)),),
        checks=(_quiet_beside_the_warning,),
    ),
    Row(
        "slurred_speech_once",
        "a single report of slurred speech",
        _slurred_speech_once,
        told=(Told(Rule.RED_FLAG, "speech", Severity.URGENT, 5),),
        checks=(_asks_then_closes_with_advice,),
    ),
    Row(
        "never_worn_again",
        "a sensor never worn again after an alert",
        _never_worn_again,
        told=(Told(Rule.PERSISTENCE, "left_calf", Severity.ADVISORY, 21),),
        checks=(_says_the_data_stopped,),
    ),
    Row(
        "five_sensors_moving",
        "five sensors with ordinary movement",
        _five_sensors_moving,
        checks=(_no_post_exercise,),
    ),
    Row(
        "calf_after_running",
        "calf twitching after running",
        _calf_after_running,
        told=(Told(Rule.PERSISTENCE, "left_calf", Severity.ADVISORY, 21,
                   ("post-exercise", "Stretching, rest and enough to drink")),),
        at_most=Severity.ADVISORY,
        issue=False,
    ),
    Row(
        "eyelid_with_caffeine",
        "eyelid twitching with a lot of coffee",
        _eyelid_with_caffeine,
        told=(Told(Rule.PERSISTENCE, "left_eyelid", Severity.INFO, 21,
                   ("caffeine", "Cutting down on caffeine")),),
        at_most=Severity.INFO,
        issue=False,
    ),
    *(
        Row(
            f"red_flag_{kind.value}",
            f"{kind.value} difficulty reported",
            _red_flag(kind),
            told=(Told(Rule.RED_FLAG, kind.value, Severity.URGENT, 7,
                       ("Seek medical attention promptly",)
                       + (("call your local emergency number",)
                          if kind is ReportKind.BREATHING else ())),),
            issue=False,
        )
        for kind in (ReportKind.SPEECH, ReportKind.SWALLOWING, ReportKind.BREATHING)
    ),
)  # fmt: skip
