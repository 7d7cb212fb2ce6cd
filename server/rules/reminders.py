"""How often a firing alert nobody acknowledged is sent again, by severity ([reminders]).

Part of the rules TOML because the numbers are advice too: urgent advice is repeated daily,
information never. The alert lifecycle (server/alerts.py) reads them through
``RuleConfig.repeat_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

from twitchwatch.contract import Severity

REMINDERS_TOML = """\
[reminders]
# A firing alert nobody acknowledged is sent again after this long; 0 = never.
# Information needs no reminder; urgent advice is repeated daily.
info_s = 0
advisory_s = 1209600  # 14 days
warning_s = 604800  # 7 days
urgent_s = 86400  # 1 day
"""


@dataclass(frozen=True, slots=True)
class RemindersConfig:
    info_s: float
    advisory_s: float
    warning_s: float
    urgent_s: float

    def repeat_s(self, severity: Severity) -> float:
        """The reminder interval of a severity's alerts (0: never)."""
        return float(getattr(self, f"{severity.value}_s"))
