"""What a person reads: the words that every message and the report share.

Each message says what was measured, which rule it meets, the likely benign factors seen around
it, and the advice level (contract.ADVICE). It never names a disease or offers a diagnosis: most
readers are healthy and anxious, and a home sensor cannot tell causes apart.

Everything a sentence states comes from ``evidence`` (plain JSON values), so a published message
can be traced to the numbers beside it. Each rule's sentences live with the rule
(``server/rules/<rule>.py``, ``describe``); the message around them is ``RuleUnit.message``
(server/rules/unit.py). This module holds the names, dates and numbers they all use.

Dates and times are the person's own (the zone of their profile), written out in English words
whatever the machine's locale: "Tue 3 Nov", "Tue 3 Nov at 20:00". No statistics jargon: a
comparison is said as "about twice as many", never as a p-value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from twitchwatch.contract import Region, split_site

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Regions in lay words (the evidence keeps the Awaji names).
_REGION_NAMES: dict[str, str] = {
    Region.BULBAR: "the head and throat",
    Region.CERVICAL: "the neck and arms",
    Region.THORACIC: "the chest and trunk",
    Region.LUMBOSACRAL: "the lower back and legs",
}
_LIMB_GROUP_NAMES = {
    "upper_arm": "upper arm",
    "forearm_hand": "forearm and hand",
    "thigh": "thigh",
    "leg_foot": "lower leg and foot",
}


def site_name(site: str) -> str:
    """``"right_upper_arm"`` -> ``"right upper arm"``."""
    side, place = split_site(site)
    words = place.replace("_", " ")
    return f"{side} {words}" if side else words


def region_name(region: str) -> str:
    return _REGION_NAMES.get(region, region)


def limb_group_name(group: str) -> str:
    """``"left_forearm_hand"`` -> ``"left forearm and hand"``."""
    side, _, rest = group.partition("_")
    return f"{side} {_LIMB_GROUP_NAMES.get(rest, rest.replace('_', ' '))}"


def period(days: int) -> str:
    """``28`` -> ``"the last 4 weeks"``; ``10`` -> ``"the last 10 days"``."""
    if days % 7 == 0 and days >= 14:
        return f"the last {days // 7} weeks"
    return "the last week" if days == 7 else f"the last {days} days"


def rate(per_min: float | None) -> str:
    if per_min is None:
        return "no"
    return f"{per_min:.1f}" if per_min >= 1 else f"{per_min:.2f}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def site_names(sites: Sequence[str]) -> str:
    """``["left_calf", "right_thumb"]`` -> ``"left calf and right thumb"``."""
    return _names([site_name(s) for s in sites])


def region_names(regions: Sequence[str]) -> str:
    """Regions in lay words, separated by semicolons."""
    # Semicolons: region names have "and" in them ("the neck and arms").
    return "; ".join(region_name(r) for r in regions)


def days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def day(d: date | str) -> str:
    """``2026-11-03`` -> ``"Tue 3 Nov"`` (a date or its ISO text, as evidence holds it)."""
    d = date.fromisoformat(d) if isinstance(d, str) else d
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def moment(t: datetime | str, zone: tzinfo) -> str:
    """A time in the person's zone: ``"Tue 3 Nov at 20:00"`` (ISO text as evidence holds it)."""
    t = datetime.fromisoformat(t) if isinstance(t, str) else t
    local = t.astimezone(zone)
    return f"{day(local.date())} at {local:%H:%M}"


def times_as_many(ratio: float) -> str:
    """A rate ratio in words: ``2.1`` -> ``"about twice as many"``, ``5.2`` -> ``"about 5 times as many"``.

    Coarse on purpose: day-to-day counts vary too much for a finer figure to mean anything.
    """
    if ratio < 0.8:
        return "fewer"
    if ratio < 1.25:
        return "about as many"
    if ratio < 1.75:
        return "about one and a half times as many"
    if ratio < 2.5:
        return "about twice as many"
    if ratio < 3.5:
        return "about three times as many"
    if ratio < 4.5:
        return "about four times as many"
    return f"about {ratio:.0f} times as many"


#: Why a sensor's windows were refused for good, for the codes a real sensor can cause.
_REFUSAL_REASONS: dict[str, str] = {
    "too_old": "they started too long ago (was the sensor's clock set?)",
    "future": "they started in the future (is the sensor's clock ahead?)",
    "bad_window": "their length was impossible",
    "overlap": "they overlapped time already counted from the same sensor and place",
}


def refused_windows(n: int, reason: str) -> str:
    """``"3 windows refused: they started too long ago (…)"``; unknown codes as they are."""
    noun = "window" if n == 1 else "windows"
    return f"{n} {noun} refused: {_REFUSAL_REASONS.get(reason, reason)}"
