"""The scenario table of issue 12, held as a test: what each person is told, at which level, on
which of their days, in which words (support/advice_table.py has the rows and the checks).

``bench/advice.py`` prints the same table, and the worsening rule's false alarms and power.
"""

from __future__ import annotations

import pytest

from server.rules import RuleConfig, load_rule_config
from server.wording import times_as_many
from support.advice_table import JARGON, REASSURING, ROWS, UTC_STAMP, Row, check
from support.histories import HistoryBuilder, replay
from twitchwatch.contract import ReportKind, Rule, Severity


@pytest.fixture(scope="module")
def config() -> RuleConfig:
    return load_rule_config(None)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_person_is_told_what_a_careful_doctor_would_sign(row: Row, config: RuleConfig) -> None:
    assert check(row, config) == []


def test_the_table_holds_every_row_of_the_issue() -> None:
    issue = {row.name for row in ROWS if row.issue}
    assert issue == {
        "weakness_no_sensor",
        "weakness_no_data",
        "weakness_day_four",
        "numbness_daily",
        "steady_calf_spread",
        "limb_groups_one_region",
        "los_angeles_evening",
        "spread_warning_with_coffee",
        "slurred_speech_once",
        "never_worn_again",
        "five_sensors_moving",
    }
    assert {row.name for row in ROWS if not row.issue} >= {
        "calf_after_running",
        "eyelid_with_caffeine",
        "red_flag_speech",
        "red_flag_swallowing",
        "red_flag_breathing",
    }


def test_the_wording_checks_catch_what_they_are_for() -> None:
    """The checks the table runs on every message would have caught the issue's messages."""
    assert REASSURING.search("Possibly related and usually harmless: caffeine")
    assert REASSURING.search("Twitching that persists is common and usually benign.")
    assert JARGON.search("A rise this large is unlikely to be chance (p < 0.001).")
    assert UTC_STAMP.search("reported on 2026-11-04T04:00:00Z")
    assert not JARGON.search("about twice as many per minute of rest as in the 8 weeks before")


def test_a_warning_about_a_symptom_never_reassures_even_with_context(config: RuleConfig) -> None:
    b = HistoryBuilder(30, seed=40).wear("left_calf", rate_per_min=1.5)
    for day in range(10, 30):
        b.report(day, ReportKind.CAFFEINE, value=5).report(day, ReportKind.SLEEP, value=4)
        b.activity(day, 1.5, site="left_calf")
    b.report(25, ReportKind.WEAKNESS, site="left_calf")
    run = replay(b.build(), config)
    warnings = [e for e in run.notified() if e.alert.severity.rank >= Severity.WARNING.rank]
    assert warnings and all(not REASSURING.search(e.alert.message) for e in warnings)
    assert all("This does not change the advice." in e.alert.message for e in warnings)
    weakness = run.events_for(Rule.WEAKNESS, "lumbosacral")[0].alert
    assert weakness.context and "caffeine: 5 cups" in weakness.message


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (1.1, "about as many"),
        (1.6, "about one and a half times as many"),
        (2.3, "about twice as many"),
        (3.2, "about three times as many"),
        (4.1, "about four times as many"),
        (7.0, "about 7 times as many"),
    ],
)
def test_a_rise_is_said_in_words(ratio: float, words: str) -> None:
    assert times_as_many(ratio) == words
