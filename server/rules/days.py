"""What a day means to every rule: observed, active (twitching), quiet, established.

A site's day is *observed* with enough rest to count twitches, and *active* when its rate reaches
the activity threshold ([observation]). A site is *quiet* when its twitching has settled
([quiet]), the clear condition of persistence, spread and widespread; its twitching is
*established* when it has lasted long enough to count for spread, widespread and weakness
([established]). facts.py applies these to the stored days; the reasons are in :data:`DAYS_TOML`.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.rules.checks import check_places, require, within

DAYS_TOML = """\
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
# A standing alert whose sites have not been observed for a week says so ("no measurements
# since…"): time passes without data too, and silence must not read as "still the same".
no_data_notice_days = 7

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
"""


@dataclass(frozen=True, slots=True)
class ObservationConfig:
    min_rest_s_per_day: float  # below this a day is NO DATA for that site
    active_rate_per_min: float  # twitches per minute of rest that make an observed day active
    no_data_notice_days: int  # days without observation before a standing alert says so

    def __post_init__(self) -> None:
        require(self.min_rest_s_per_day > 0, "observation.min_rest_s_per_day must be > 0")
        require(self.active_rate_per_min > 0, "observation.active_rate_per_min must be > 0")


@dataclass(frozen=True, slots=True)
class QuietConfig:
    window_days: int
    min_observed_days: int
    max_active_fraction: float

    def __post_init__(self) -> None:
        within("quiet", self, "window_days", "min_observed_days")

    def check_hysteresis(self, raise_fraction: float) -> None:
        """A raise condition's active fraction must lie above quiet's, or alerts could flap."""
        require(
            self.max_active_fraction < raise_fraction,
            "quiet.max_active_fraction must be below the raise fractions (hysteresis)",
        )


@dataclass(frozen=True, slots=True)
class EstablishedConfig:
    window_days: int
    min_active_days: int
    min_active_fraction: float
    min_span_days: int
    ignore_places: tuple[str, ...]

    def __post_init__(self) -> None:
        check_places("established", "ignore_places", self.ignore_places)
        within("established", self, "window_days", "min_active_days", "min_span_days")
