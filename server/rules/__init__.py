"""The rules: pure functions of one user's stored daily aggregates and reports.

``evaluate(history, as_of, config)`` reads nothing but its arguments (no clock, no I/O), so weeks
of history replay in well under a second, and re-evaluating the same ``as_of`` gives the same
findings. Each rule is one module (``server/rules/<rule>.py``: its config table with the medical
reasons, its finding, its words and its Home Assistant title; unit.py says what a rule is),
collected by the registry (registry.py):

- persistence (site): active on most observed days for three weeks -> advisory (eyelid: info)
- spread ("all"): a new limb group -> advisory; a new region or two regions -> warning;
  five of the eight limb groups or three regions (widespread) -> warning, re-notified
- worsening (site): the twitching days' rate rose clearly beyond the site's own spread -> advisory
- weakness (region): weakness or wasting reported, wherever it is -> warning
- numbness (region): numbness or tingling reported, wherever it is -> warning
- red_flag (speech | swallowing | breathing): reported -> urgent, whatever the counts

What every rule shares has its own module: the day definitions (days.py), the evidence as arrays
(facts.py), the context shown beside a finding (context.py), reported symptoms (symptoms.py),
reminders (reminders.py) and the TOML loader (config.py).
"""

from __future__ import annotations

from datetime import datetime

from server.model import Finding, History
from server.rules.config import (
    DEFAULT_RULES_TOML,
    RuleConfig,
    load_rule_config,
    parse_rule_config,
)
from server.rules.context import ContextFinder
from server.rules.facts import build_facts
from server.rules.red_flag import RED_FLAGS
from server.rules.registry import RULES
from server.rules.unit import SCOPE_ALL, RuleTable, RuleUnit
from server.rules.worsening import rise_test

__all__ = [
    "DEFAULT_RULES_TOML",
    "RED_FLAGS",
    "RULES",
    "SCOPE_ALL",
    "RuleConfig",
    "RuleTable",
    "RuleUnit",
    "evaluate",
    "load_rule_config",
    "parse_rule_config",
    "rise_test",
]


def evaluate(history: History, as_of: datetime, config: RuleConfig) -> list[Finding]:
    """Every rule's finding for every scope it has an answer for, at ``as_of``.

    Sites get persistence and worsening findings when they have rows in the last
    ``config.history_days``; spread always gives one finding (scope ``"all"``), weakness and
    numbness one per region (and one for reports without a place), red_flag one per symptom.
    A scope without a finding (a site no longer in the history) means "no change" to its
    alert. Findings come rule by rule, in registry order.

    Parameters
    ----------
    history : History
        The user's daily aggregates and reports; rows after ``as_of`` are ignored.
    as_of : datetime
        The evaluation time (aware). Its day in the person's zone (``history.tz``) is the
        last day of every window.
    config : RuleConfig
        Thresholds (``load_rule_config``).
    """
    facts = build_facts(history, as_of, config)
    context = ContextFinder(facts)
    return [finding for unit in RULES.values() for finding in unit.findings(facts, context)]
