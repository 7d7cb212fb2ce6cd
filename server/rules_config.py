"""The rules' config, where the command line and the demo (twitchwatch/) import it from.

It lives in the rules package now: the loader in server/rules/config.py, each table with its
reasons in its own module (server/rules/days.py, server/rules/<rule>.py, ...). Import it from
``server.rules``; this module only keeps the old import path working until twitchwatch/ moves.
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
