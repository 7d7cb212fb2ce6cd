"""What a person is told at once: which alerts a report raises on its own, in words about their
own history when it is known."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from server.at_once import advice_at_once
from support.histories import HistoryBuilder
from twitchwatch.contract import Report, ReportKind, Rule, Severity


def test_a_report_raises_what_the_rules_say_on_its_own() -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    breathing = advice_at_once("ada", Report(now, ReportKind.BREATHING))
    assert [(f.rule, f.scope, f.severity) for f in breathing] == [
        (Rule.RED_FLAG, "breathing", Severity.URGENT)
    ]
    assert "call your local emergency number" in breathing[0].message
    for kind in (ReportKind.CAFFEINE, ReportKind.SLEEP, ReportKind.STRESS):
        assert advice_at_once("ada", Report(now, kind, value=3)) == []


def test_its_words_come_from_the_persons_history() -> None:
    b = HistoryBuilder(30, user="ada", start=datetime(2026, 11, 6).date(), seed=3)
    b.wear("right_forearm", rate_per_min=0.9)
    history = b.build().history()
    report = Report(
        datetime.combine(b.start + timedelta(days=30), time(9), tzinfo=UTC),
        ReportKind.WEAKNESS,
        site="right_hand",
    )
    alone = advice_at_once("ada", report)
    known = advice_at_once("ada", report, history)
    assert [(f.rule, f.scope) for f in alone] == [(f.rule, f.scope) for f in known]
    assert [(f.rule, f.scope) for f in known] == [(Rule.WEAKNESS, "cervical")]
    assert "No sensor is worn" in alone[0].message  # all a lone report can say
    assert "No sensor is worn" not in known[0].message and "right forearm" in known[0].message
    assert known[0].message.endswith("Please consult a doctor.")
