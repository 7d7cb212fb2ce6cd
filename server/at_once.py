"""What a person is told the moment they report a symptom, before the server has evaluated it.

The rules themselves answer: they are evaluated on a history that holds nothing but this one
report, and every finding that raises on it alone (speech, swallowing or breathing trouble:
urgent, whatever the counts) is shown at once, in the rule's own words and with its advice.
What depends on the person's measurements comes from the server a moment later, as always.
"""

from __future__ import annotations

from server.model import Finding, History, Verdict
from server.rules import RuleConfig, evaluate, load_rule_config
from twitchwatch.contract import Report


def advice_at_once(user: str, report: Report, config: RuleConfig | None = None) -> list[Finding]:
    """The findings that ``report`` raises on its own, most severe first."""
    history = History(user, (), (report,))
    findings = evaluate(history, report.t, config or load_rule_config(None))
    raised = [f for f in findings if f.verdict is Verdict.RAISE]
    return sorted(raised, key=lambda f: -f.severity.rank)
