"""Every rule, found by its name: ``Rule.X`` is ``RULE`` in ``server/rules/<x>.py``.

``evaluate``, the config loader, the alerts' words and Home Assistant's titles all read
:data:`RULES`, so adding a rule touches its own module and the contract's ``Rule`` enum only.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from server.rules.unit import RuleUnit
from twitchwatch.contract import Rule


def _load() -> dict[Rule, RuleUnit]:
    units: dict[Rule, RuleUnit] = {}
    for rule in Rule:
        module = importlib.import_module(f"{__package__}.{rule.value}")
        unit = getattr(module, "RULE", None)
        if not isinstance(unit, RuleUnit) or unit.rule is not rule:
            raise TypeError(f"{module.__name__} must end with RULE = <the RuleUnit of {rule!r}>")
        units[rule] = unit
    return units


#: The rules in the contract's order, which evaluation, the rules TOML and RuleConfig follow.
RULES: Mapping[Rule, RuleUnit] = MappingProxyType(_load())
