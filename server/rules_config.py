"""The rules' config, where the command line and the demo (twitchwatch/) import it from.

It lives in the rules package now: the loader in server/rules/config.py, each table with its
reasons in its own module (server/rules/days.py, server/rules/<rule>.py, ...). Import it from
``server.rules``; this module only keeps the old import path working until twitchwatch/ moves.

The tables of :data:`DEFAULT_RULES_TOML`, each with its reasons beside its numbers:

- ``[observation]``, ``[quiet]``, ``[established]``: what a day means (enough rest to count, a
  twitching day, settled twitching, established twitching), and after how many days without
  measurements a standing alert says so (``no_data_notice_days``);
- ``[persistence]``: three weeks on most worn days, an advisory (benign twitching persists);
- ``[spread]``: one escalating alert: a new limb group (advisory), a new region or two regions
  (warning), widespread (warning, re-notified): "spreads to other muscle groups" is a reason to
  be checked;
- ``[worsening]``: a t-test on the log rates of twitching days, two weeks against the eight
  before, so that a site's own day-to-day spread sets the bar (a pooled Poisson test alarmed
  9 of 10 steady people); four weeks of baseline; confirmed the next day;
- ``[weakness]``, ``[numbness]``: reported weakness or wasting, numbness or tingling, a warning
  the day of the report wherever it is: a reason to see a doctor whatever the counts;
- ``[red_flag]``: speech, swallowing or breathing difficulty, urgent whatever the counts;
- every reported symptom asks after ``ask_after_days`` (14) without a report and closes after
  ``close_after_days`` (30) or when the person marks it resolved: never silently;
- ``[context]``: factors shown beside a finding (exercise at the site itself, caffeine, sleep,
  stress, alcohol, ...), never reading into a verdict;
- ``[reminders]``: how often a standing alert is repeated, by severity.
"""

from server.errors import RuleConfigError
from server.rules.config import (
    DEFAULT_RULES_TOML,
    RuleConfig,
    load_rule_config,
    parse_rule_config,
)

__all__ = [
    "DEFAULT_RULES_TOML",
    "RuleConfig",
    "RuleConfigError",
    "load_rule_config",
    "parse_rule_config",
]
