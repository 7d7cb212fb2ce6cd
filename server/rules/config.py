"""The rules' thresholds: one TOML text holds every default and its reason; a file overrides any subset.

``load_rule_config(None)`` gives the defaults. ``load_rule_config(path)`` reads a TOML file laid out
like :data:`DEFAULT_RULES_TOML` (same tables, same keys) and overrides only the keys it names. An
unknown table or key, a wrong type or an out-of-range value is a one-line :class:`RuleConfigError`.

The text is assembled from the tables' own modules: the day definitions (days.py), one table per
rule (each rule's module, in registry order), context (context.py) and reminders (reminders.py).
The numbers live in that text only; the tables' dataclasses give their types and check their
ranges, so a default cannot drift from its documentation.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from pathlib import Path
from typing import Any, Self

from server.errors import RuleConfigError
from server.rules.checks import require
from server.rules.context import CONTEXT_TOML, ContextConfig
from server.rules.days import DAYS_TOML, EstablishedConfig, ObservationConfig, QuietConfig
from server.rules.registry import RULES
from server.rules.reminders import REMINDERS_TOML, RemindersConfig
from server.rules.unit import RuleTable
from twitchwatch.contract import Rule, Severity

_HEADER_TOML = """\
# TwitchWatch rule thresholds. Copy this file, keep the keys you change, pass it to the server.
# The reasons matter more than the numbers. Times are UTC days; "observed" is defined below.

# How many days of history the rules read: the longest look-back below, with room for a
# baseline before a new region starts twitching (spread).
history_days = 90
"""

#: The default rules config, every key with its reason: copy it, keep the keys you change.
DEFAULT_RULES_TOML = "\n".join(
    [_HEADER_TOML, DAYS_TOML, *(unit.toml for unit in RULES.values()), CONTEXT_TOML, REMINDERS_TOML]
)


class _RuleConfigBase:
    """The behaviour of :class:`RuleConfig`, whose fields are made from the registry below."""

    __slots__ = ()

    history_days: int
    quiet: QuietConfig
    established: EstablishedConfig
    context: ContextConfig
    reminders: RemindersConfig

    def __post_init__(self) -> None:
        self.quiet.check_hysteresis(self.established.min_active_fraction)
        for rule in RULES:
            self.table(rule).check_with(self)
        longest = max(
            self.established.window_days,
            self.quiet.window_days,
            self.context.window_days,
            *(self.table(rule).lookback_days for rule in RULES),
        )
        require(
            self.history_days >= longest,
            f"history_days must be >= {longest}, the longest window the rules read",
        )

    def table(self, rule: Rule) -> RuleTable:
        """A rule's own table (``config.table(Rule.SPREAD)`` is ``config.spread``)."""
        return getattr(self, rule.value)

    def for_s(self, rule: Rule) -> float:
        """How long a rule's RAISE must hold before its alert fires."""
        return float(self.table(rule).for_s)

    def repeat_s(self, severity: Severity) -> float:
        """Reminder interval for a firing, unacknowledged alert of this severity (0: never)."""
        return self.reminders.repeat_s(severity)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        """Build from a complete document (the defaults merged with a file's overrides)."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(f.type):
                values[f.name] = _build_table(f.type, f.name, doc[f.name])
            else:
                values[f.name] = _coerce(f.name, f.type, doc[f.name])
        return cls(**values)


#: Every threshold of the rules and of the alert lifecycle, one field per table of
#: :data:`DEFAULT_RULES_TOML` in its order (``config.persistence.window_days``). Made from the
#: registry, so that a new rule's table is read without a change here.
RuleConfig = dataclasses.make_dataclass(
    "RuleConfig",
    [
        ("history_days", int),  # how much history evaluate() needs (the store loads this many days)
        ("observation", ObservationConfig),
        ("quiet", QuietConfig),
        ("established", EstablishedConfig),
        *((rule.value, unit.table) for rule, unit in RULES.items()),
        ("context", ContextConfig),
        ("reminders", RemindersConfig),
    ],
    bases=(_RuleConfigBase,),
    namespace={
        "__module__": __name__,
        "__doc__": "Every threshold of the rules and of the alert lifecycle.",
    },
    frozen=True,
    slots=True,
)


def _build_table(cls: type, table: str, doc: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            f.name: _coerce(f"{table}.{f.name}", hints[f.name], doc[f.name])
            for f in dataclasses.fields(cls)
        }
    )


def _coerce(key: str, hint: Any, value: Any) -> Any:
    """Check one value against its field type; numbers must be finite and >= 0."""
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleConfigError(f"{key} must be an integer, got {value!r}")
        if value < 1:
            raise RuleConfigError(f"{key} must be >= 1, got {value}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleConfigError(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise RuleConfigError(f"{key} must be a finite number >= 0, got {value}")
        if key.endswith("_fraction") and value > 1:
            raise RuleConfigError(f"{key} must be between 0 and 1, got {value}")
        return float(value)
    if hint == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleConfigError(f"{key} must be a list of strings, got {value!r}")
        return tuple(value)
    raise AssertionError(f"no coercion for {key}: {hint}")  # a new field type needs a branch here


def _merge(defaults: dict[str, Any], override: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in override.items():
        name = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise RuleConfigError(f"unknown key {name!r} (known here: {known})")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise RuleConfigError(f"{name} must be a table ([{name}])")
            merged[key] = _merge(defaults[key], value, f"{name}.")
        elif isinstance(value, dict):
            raise RuleConfigError(f"{name} must be a value, not a table")
        else:
            merged[key] = value
    return merged


def load_rule_config(path: Path | None) -> RuleConfig:
    """The defaults, with the keys a TOML file sets overridden; None: the defaults.

    Raises
    ------
    RuleConfigError
        The file cannot be read or parsed, names an unknown key, or gives a wrong type or value.
    """
    if path is None:
        return RuleConfig.from_doc(tomllib.loads(DEFAULT_RULES_TOML))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleConfigError(f"cannot read it ({exc.strerror})", str(path)) from exc
    except UnicodeDecodeError as exc:
        raise RuleConfigError(
            f"not UTF-8 text (offset {exc.start}): save it as UTF-8", str(path)
        ) from None
    return parse_rule_config(text, str(path))


def parse_rule_config(text: str, source: str) -> RuleConfig:
    """The defaults with the keys of TOML ``text`` overridden; ``source`` names it in errors."""
    try:
        override = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleConfigError(f"not valid TOML: {exc}", source) from exc
    try:
        return RuleConfig.from_doc(_merge(tomllib.loads(DEFAULT_RULES_TOML), override))
    except RuleConfigError as exc:
        raise RuleConfigError(exc.problem, source) from None
