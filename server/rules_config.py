"""The rule thresholds: one TOML text holds every default and its reason; a file overrides any subset.

``load_rule_config(None)`` gives the defaults. ``load_rule_config(path)`` reads a TOML file laid out
like :data:`DEFAULT_RULES_TOML` (same tables, same keys) and overrides only the keys it names. An
unknown table or key, a wrong type or an out-of-range value is a one-line :class:`RuleConfigError`.

The numbers live in :data:`DEFAULT_RULES_TOML` only; the dataclasses below give their types and
check their ranges, so a default cannot drift from its documentation.
"""

from __future__ import annotations

import math
import tomllib
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

from server.errors import RuleConfigError
from twitchwatch.contract import (
    CONTEXT_REPORTS,
    PLACE_REGION,
    ReportKind,
    Rule,
    Severity,
)

DEFAULT_RULES_TOML = """\
# TwitchWatch rule thresholds. Copy this file, keep the keys you change, pass it to the server.
# The reasons matter more than the numbers. Times are UTC days; "observed" is defined below.

# How many days of history the rules read: the longest look-back below, with room for a
# baseline before a new region starts twitching (spread).
history_days = 90

[observation]
# A day counts for a site only with this much observed rest (twitches can only be counted at
# rest). Less is NO DATA, not zero: rates are per minute of observed rest, and 30 min at the
# activity threshold below means >= 6 twitches, so one or two stray counts never decide a day.
min_rest_s_per_day = 1800
# An observed day is "active" (twitching) at >= 0.2 twitches per minute of rest (12 an hour).
# That is well above the odd stray twitch most people have and the detector's stray counts,
# and well below the rates of muscles that twitch noticeably: ~0.3 Hz (~17/min) in a hand
# muscle, benign or not (de Carvalho & Swash 2016), several to tens per minute in large leg
# muscles. Rate alone separates nothing clinically; it only says whether a day twitched.
active_rate_per_min = 0.2

[quiet]
# A site is "quiet" (its twitching has settled) when it was active on <= 20 % of >= 7 observed
# days in the last 14. This is the clear condition of persistence, spread and widespread: much
# weaker than their raise conditions (hysteresis), and it needs observed days, so a sensor
# that is not worn never clears anything.
window_days = 14
min_observed_days = 7
max_active_fraction = 0.2

[established]
# Twitching is "established" at a site, for spread, widespread and weakness, when it was
# active on >= 7 days and on >= 50 % of its observed days in the last 28, the active days
# spanning >= 14 days, and the site is not quiet. Two weeks on most worn days is more than a
# passing episode after exercise, caffeine or a bad night (hours to a few days), and shorter
# than persistence's three weeks so that a warning is not held back by a week.
window_days = 28
min_active_days = 7
min_active_fraction = 0.5
min_span_days = 14
# Places whose twitching does not make a region "involved": eyelid twitching is very common,
# benign, and not taken as a sign that the bulbar muscles are involved.
ignore_places = ["eyelid"]

[persistence]
# Persistence alone is normal in benign twitching (it persists in ~98 % of benign cases,
# Blexrud 1993): a site active on >= 60 % of >= 10 observed days in the last 28, the active
# days spanning >= 21 days (3 weeks), is an advisory. Clear: the site is quiet ([quiet]).
window_days = 28
min_observed_days = 10
min_active_fraction = 0.6
min_span_days = 21
# Twitching at these places is the least concerning: info, not advisory.
info_places = ["eyelid"]
# The next daily evaluation must confirm it before it fires (1 day).
for_s = 86400

[spread]
# Warning: established twitching in >= 2 regions, or in a region that stayed still on
# >= 14 observed days while another region was already twitching (a genuinely new region,
# not a sensor put on for the first time). Clear: at most one region has twitching that is
# not quiet, and no new region is recent enough to raise.
min_regions = 2
baseline_min_observed_days = 14
for_s = 86400

[widespread]
# Warning: established twitching in >= 5 of the 8 limb muscle groups (side x upper arm,
# forearm/hand, thigh, lower leg/foot; Howard & Murray 1992) or in >= 3 regions.
# Clear: fewer groups and regions have twitching that is not quiet.
min_limb_groups = 5
min_regions = 3
for_s = 86400

[worsening]
# Advisory: a site's rate in the last 14 days against the 14 before, the counts and minutes of
# observed rest tested as two Poisson rates (conditional binomial test, one-sided).
period_days = 14
# Significant at 1 %, and a rise of >= 1.5x: with thousands of counts a trivial rise is
# "significant", so an effect size is required too.
alpha = 0.01
min_rate_ratio = 1.5
# Worsening is about a site that was already twitching: its twitching must have been
# established ([established] activity thresholds) by the start of the last 14 days. The onset
# of new twitching at a quiet site is not a rise of its rate; persistence and spread see it.
# Each period needs >= 5 observed days and >= 5 h of observed rest, else NO DATA: 5 h at the
# activity threshold is ~60 twitches, enough for the test to see a 1.5x rise.
min_observed_days = 5
min_rest_s = 18000
# Clear (hysteresis): the rise has faded, to a ratio <= 1.1 or no longer significant even at
# 20 %. Twitch counts vary more from day to day than a Poisson process; the ratio guards that.
clear_max_rate_ratio = 1.1
clear_alpha = 0.2
for_s = 86400

[weakness]
# Warning: the person reported weakness or atrophy in the last 30 days in a region where
# twitching is established (a report without a site counts for every such region). It clears
# only after 30 days without such a report: reported symptoms never clear because sensor data
# is missing, and twitching settling does not clear them either. It fires at once.
kinds = ["weakness", "atrophy"]
window_days = 30
for_s = 0

[red_flag]
# Urgent, whatever the counts and whatever the context: speech, swallowing or breathing
# difficulty reported in the last 14 days. Clears 14 days after the last report; reporting
# again raises it again. It fires at once.
window_days = 14
for_s = 0

[context]
# Likely benign factors shown beside every finding; they never hide or lower an alert.
# Looked for in the last 14 days.
window_days = 14
# Post-exercise: >= 45 min of voluntary contraction or motion (accelerometer) summed over the
# user's sites, on a twitching day or the day before.
exercise_active_s_per_day = 2700
# Caffeine reports carry cups; >= 3 cups (~300 mg) in a day, or a report without a number.
caffeine_cups_per_day = 3.0
# Sleep reports carry hours; a night under 6 h is poor sleep.
poor_sleep_h = 6.0
# Stress reports carry a 0-10 score; >= 7, or a report without a number.
high_stress = 7.0

[reminders]
# A firing alert nobody acknowledged is sent again after this long; 0 = never.
# Information needs no reminder; urgent advice is repeated daily.
info_s = 0
advisory_s = 1209600  # 14 days
warning_s = 604800  # 7 days
urgent_s = 86400  # 1 day
"""


def _require(ok: bool, problem: str) -> None:
    if not ok:
        raise RuleConfigError(problem)


def _within(table: str, config: object, window: str, *names: str) -> None:
    """Day counts that must fit in their window (a 10-of-7-days rule could never hold)."""
    for name in names:
        _require(
            getattr(config, name) <= getattr(config, window),
            f"{table}.{name} must be <= {table}.{window}",
        )


def _check_places(table: str, name: str, places: tuple[str, ...]) -> None:
    unknown = [p for p in places if p not in PLACE_REGION]
    _require(not unknown, f"{table}.{name}: unknown body places {unknown}")


@dataclass(frozen=True, slots=True)
class ObservationConfig:
    min_rest_s_per_day: float  # below this a day is NO DATA for that site
    active_rate_per_min: float  # twitches per minute of rest that make an observed day active

    def __post_init__(self) -> None:
        _require(self.min_rest_s_per_day > 0, "observation.min_rest_s_per_day must be > 0")
        _require(self.active_rate_per_min > 0, "observation.active_rate_per_min must be > 0")


@dataclass(frozen=True, slots=True)
class QuietConfig:
    window_days: int
    min_observed_days: int
    max_active_fraction: float

    def __post_init__(self) -> None:
        _within("quiet", self, "window_days", "min_observed_days")


@dataclass(frozen=True, slots=True)
class EstablishedConfig:
    window_days: int
    min_active_days: int
    min_active_fraction: float
    min_span_days: int
    ignore_places: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_places("established", "ignore_places", self.ignore_places)
        _within("established", self, "window_days", "min_active_days", "min_span_days")


@dataclass(frozen=True, slots=True)
class PersistenceConfig:
    window_days: int
    min_observed_days: int
    min_active_fraction: float
    min_span_days: int
    info_places: tuple[str, ...]
    for_s: float

    def __post_init__(self) -> None:
        _check_places("persistence", "info_places", self.info_places)
        _within("persistence", self, "window_days", "min_observed_days", "min_span_days")


@dataclass(frozen=True, slots=True)
class SpreadConfig:
    min_regions: int
    baseline_min_observed_days: int
    for_s: float


@dataclass(frozen=True, slots=True)
class WidespreadConfig:
    min_limb_groups: int
    min_regions: int
    for_s: float

    def __post_init__(self) -> None:
        _require(self.min_limb_groups <= 8, "widespread.min_limb_groups must be <= 8 (8 groups)")
        _require(self.min_regions <= 4, "widespread.min_regions must be <= 4 (4 regions)")


@dataclass(frozen=True, slots=True)
class WorseningConfig:
    period_days: int
    alpha: float
    min_rate_ratio: float
    min_observed_days: int
    min_rest_s: float
    clear_max_rate_ratio: float
    clear_alpha: float
    for_s: float

    def __post_init__(self) -> None:
        _require(
            0 < self.alpha < 1 and 0 < self.clear_alpha < 1, "worsening alphas must be in (0, 1)"
        )
        _require(self.min_rate_ratio > 1, "worsening.min_rate_ratio must be > 1 (a rise)")
        _within("worsening", self, "period_days", "min_observed_days")
        _require(
            self.clear_alpha > self.alpha and self.clear_max_rate_ratio < self.min_rate_ratio,
            "worsening clear thresholds must be weaker than the raise thresholds "
            "(clear_alpha > alpha, clear_max_rate_ratio < min_rate_ratio)",
        )


@dataclass(frozen=True, slots=True)
class WeaknessConfig:
    kinds: tuple[str, ...]
    window_days: int
    for_s: float

    def __post_init__(self) -> None:
        allowed = {k.value for k in ReportKind} - {k.value for k in CONTEXT_REPORTS}
        bad = [k for k in self.kinds if k not in allowed]
        _require(
            not bad and bool(self.kinds), f"weakness.kinds must be symptoms from {sorted(allowed)}"
        )

    @property
    def report_kinds(self) -> frozenset[ReportKind]:
        return frozenset(ReportKind(k) for k in self.kinds)


@dataclass(frozen=True, slots=True)
class RedFlagConfig:
    window_days: int
    for_s: float


@dataclass(frozen=True, slots=True)
class ContextConfig:
    window_days: int
    exercise_active_s_per_day: float
    caffeine_cups_per_day: float
    poor_sleep_h: float
    high_stress: float


@dataclass(frozen=True, slots=True)
class RemindersConfig:
    info_s: float
    advisory_s: float
    warning_s: float
    urgent_s: float


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Every threshold of the rules and of the alert lifecycle (reasons: DEFAULT_RULES_TOML)."""

    history_days: int  # how much history evaluate() needs (the store loads this many days)
    observation: ObservationConfig
    quiet: QuietConfig
    established: EstablishedConfig
    persistence: PersistenceConfig
    spread: SpreadConfig
    widespread: WidespreadConfig
    worsening: WorseningConfig
    weakness: WeaknessConfig
    red_flag: RedFlagConfig
    context: ContextConfig
    reminders: RemindersConfig

    def __post_init__(self) -> None:
        _require(
            self.quiet.max_active_fraction < self.persistence.min_active_fraction
            and self.quiet.max_active_fraction < self.established.min_active_fraction,
            "quiet.max_active_fraction must be below the raise fractions (hysteresis)",
        )
        longest = max(
            self.persistence.window_days,
            self.established.window_days,
            self.quiet.window_days,
            2 * self.worsening.period_days,
            self.weakness.window_days,
            self.red_flag.window_days,
            self.context.window_days,
        )
        _require(
            self.history_days >= longest,
            f"history_days must be >= {longest}, the longest window the rules read",
        )

    def for_s(self, rule: Rule) -> float:
        """How long a rule's RAISE must hold before its alert fires."""
        return float(getattr(self, rule.value).for_s)

    def repeat_s(self, severity: Severity) -> float:
        """Reminder interval for a firing, unacknowledged alert of this severity (0: never)."""
        return float(getattr(self.reminders, f"{severity.value}_s"))

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        """Build from a complete document (the defaults merged with a file's overrides)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
                values[f.name] = _build_table(hint, f.name, doc[f.name])
            else:
                values[f.name] = _coerce(f.name, hint, doc[f.name])
        return cls(**values)


def _build_table(cls: type, table: str, doc: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{f.name: _coerce(f"{table}.{f.name}", hints[f.name], doc[f.name]) for f in fields(cls)}
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
