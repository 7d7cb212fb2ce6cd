"""The rules: pure functions of one user's stored daily aggregates and reports.

``evaluate(history, as_of, config)`` reads nothing but its arguments (no clock, no I/O), so weeks
of history replay in well under a second, and re-evaluating the same ``as_of`` gives the same
findings. Each rule is one function in its own module:

- persistence (site): active on most observed days for three weeks -> advisory (eyelid: info)
- worsening (site): a significant, substantial rise of the rate -> advisory
- spread ("all"): established twitching in two regions, or in a new one -> warning
- widespread ("all"): five of the eight limb groups or three regions -> warning
- weakness (region): weakness or atrophy reported where twitching is established -> warning
- red_flag (speech | swallowing | breathing): reported -> urgent, whatever the counts
"""

from __future__ import annotations

from datetime import datetime

from server.model import Finding, History
from server.rules.context import ContextFinder
from server.rules.facts import build_facts
from server.rules.persistence import persistence
from server.rules.regions import SCOPE_ALL, spread, widespread
from server.rules.symptoms import RED_FLAGS, red_flag, weakness
from server.rules.worsening import rate_test, worsening
from server.rules_config import RuleConfig

__all__ = ["RED_FLAGS", "SCOPE_ALL", "evaluate", "rate_test"]


def evaluate(history: History, as_of: datetime, config: RuleConfig) -> list[Finding]:
    """Every rule's finding for every scope it has an answer for, at ``as_of``.

    Sites get persistence and worsening findings when they have rows in the last
    ``config.history_days``; spread and widespread always give one finding (scope ``"all"``),
    weakness one per region and red_flag one per symptom. A scope without a finding (a site
    no longer in the history) means "no change" to its alert.

    Parameters
    ----------
    history : History
        The user's daily aggregates and reports; rows after ``as_of`` are ignored.
    as_of : datetime
        The evaluation time (aware, UTC). Its UTC day is the last day of every window.
    config : RuleConfig
        Thresholds (``load_rule_config``).
    """
    facts = build_facts(history, as_of, config)
    context = ContextFinder(facts)
    return [
        *persistence(facts, context),
        *worsening(facts, context),
        spread(facts, context),
        widespread(facts, context),
        *weakness(facts, context),
        *red_flag(facts, context),
    ]
