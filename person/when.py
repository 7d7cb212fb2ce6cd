"""``--at``: when something happened, as a person says it, read in their own time zone.

Accepted (case and surrounding spaces do not matter)::

    now
    20:00   8:15   20:00:30          today at that time (a time still to come is refused)
    today 8:15   yesterday 20:00
    2026-12-01 07:30                 (or 2026-12-01T07:30)

Small and written here rather than taken from a date-parsing library: these five shapes are
all a person needs to say when a symptom or a coffee was, each has one meaning, and anything
else is refused with the shapes listed, where a general parser would guess ("12/01" is a
different day in Boston and in Berlin).

A local time that a clock change skips (02:30 on the night clocks go forward) is refused; one
that happens twice (the night clocks go back) is the first of the two.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from person.errors import WhenError
from twitchwatch.contract import MAX_AGE, MAX_CLOCK_AHEAD

SHAPES = '"now", "20:00", "today 8:15", "yesterday 20:00" or "2026-12-01 07:30"'

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_RELATIVE = re.compile(rf"^(?:(?P<day>today|yesterday)\s+)?{_TIME}$")
_ABSOLUTE = re.compile(rf"^(?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?:\s+|t){_TIME}$")


def parse_when(text: str, now: datetime, zone: tzinfo) -> datetime:
    """The moment ``text`` names in ``zone``, as an aware UTC datetime.

    Parameters
    ----------
    text : str
        One of the shapes above.
    now : datetime
        Aware; "today" and "yesterday" are days of ``now`` in ``zone``.
    zone : tzinfo
        The person's zone (a ``ZoneInfo``, or a fixed offset when nothing better is known).

    Raises
    ------
    WhenError
        Unreadable, not a real time, skipped by a clock change, in the future or too old.
    """
    words = " ".join(text.strip().lower().split())
    today = now.astimezone(zone).date()
    if words == "now":
        return now.astimezone(UTC)
    if match := _RELATIVE.match(words):
        day = today - timedelta(days=1) if match["day"] == "yesterday" else today
    elif match := _ABSOLUTE.match(words):
        try:
            day = date.fromisoformat(match["date"])
        except ValueError:
            raise WhenError(text, f"{match['date']} is not a date") from None
    else:
        raise WhenError(text, f"say {SHAPES}")
    moment = _local(text, day, _clock(text, match), zone)
    if moment > now + MAX_CLOCK_AHEAD:
        hint = " (for yesterday, say 'yesterday …')" if match.re is _RELATIVE else ""
        raise WhenError(text, f"{_shown(moment, zone)} has not come yet{hint}")
    if moment < now - MAX_AGE:
        raise WhenError(
            text, f"more than {MAX_AGE.days} days ago: the server keeps no older reports"
        )
    return moment


def _clock(text: str, match: re.Match[str]) -> time:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise WhenError(text, f"{match['hour']}:{match['minute']} is not a time of day")
    return time(hour, minute, second)


def _local(text: str, day: date, clock: time, zone: tzinfo) -> datetime:
    """``day`` at ``clock`` in ``zone`` as UTC; a wall time the zone skips is an error."""
    local = datetime.combine(day, clock, tzinfo=zone)  # fold=0: the first of a repeated hour
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise WhenError(text, f"{day} {clock:%H:%M} does not exist in {zone} (the clocks changed)")
    return utc


def _shown(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
