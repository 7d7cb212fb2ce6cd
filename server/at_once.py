"""What a person is told the moment they report a symptom, before the server has evaluated it.

The rules themselves answer. Which alerts a report raises is found by evaluating a history that
holds nothing but that report (speech, swallowing or breathing trouble: urgent; weakness, wasting
or numbness: a warning, whatever the counts). Their words come from the person's whole stored
history with the report added, when the caller has it (the web view does), so that they say what
the person's sensors did record; without it they can only speak of the report itself.
"""

from __future__ import annotations

from server.model import Finding, History, Verdict
from server.rules import RuleConfig, evaluate, load_rule_config
from twitchwatch.contract import DEFAULT_TZ, Report


def advice_at_once(
    user: str,
    report: Report,
    history: History | None = None,
    config: RuleConfig | None = None,
    *,
    tz: str = DEFAULT_TZ,
) -> list[Finding]:
    """The findings ``report`` raises, most severe first (worded from ``history`` if given)."""
    config = config or load_rule_config(None)
    tz = history.tz if history is not None else tz
    alone = History(user, (), (report,), tz)
    raised = {(f.rule, f.scope): f for f in evaluate(alone, report.t, config) if _raises(f)}
    if history is not None and raised:
        reports = tuple(sorted((*history.reports, report), key=lambda r: r.t))
        merged = History(user, history.days, reports, tz)
        for finding in evaluate(merged, report.t, config):
            if (finding.rule, finding.scope) in raised and _raises(finding):
                raised[(finding.rule, finding.scope)] = finding
    return sorted(raised.values(), key=lambda f: (-f.severity.rank, f.rule.value, f.scope))


def _raises(finding: Finding) -> bool:
    return finding.verdict is Verdict.RAISE
