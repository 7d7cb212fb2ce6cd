"""The person's calendar days: which day a moment falls on in their zone, and when a day starts.

Days follow the zone of the person's profile (UTC until one is set), through the zone database,
so a day is 23 or 25 hours long when the clocks change, and a midnight the clocks skip starts
the day at the moment they jump. Every day the rules, the store's daily sums, the report and
the messages speak of comes from here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

#: A day's evaluation runs at its last second: the day's windows and reports are all in.
DAY_END_MARGIN = timedelta(seconds=1)


def local_day(t: datetime, zone: tzinfo) -> date:
    """The calendar day ``t`` falls on in ``zone``."""
    return t.astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment (UTC) of ``day`` in ``zone``.

    Where the clocks skip midnight (spring forward at 00:00), the day starts when they jump:
    ``fold=0`` reads the missing 00:00 with the offset in force before the jump, which is that
    very moment.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def day_end(day: date, zone: tzinfo) -> datetime:
    """The last second (UTC) of ``day`` in ``zone``: a day's evaluation sees it all."""
    return day_start(day + timedelta(days=1), zone) - DAY_END_MARGIN


def day_length_s(day: date, zone: tzinfo) -> float:
    """86,400 s, or 82,800 / 90,000 on the days the clocks change."""
    return (day_start(day + timedelta(days=1), zone) - day_start(day, zone)).total_seconds()
