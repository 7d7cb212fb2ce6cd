"""Which users the server's wall-clock tick may evaluate now, and which it must leave for later.

The tick evaluates every user with an open alert at the wall clock's time (issue 12: time
passes without data). Evaluating at "now" moves the user's evaluation time to now, and a later
evaluation only steps through the person's days from there: data measured before now but
stored after the tick is then evaluated at now only, and the days it covers are never
evaluated one by one (a backlog's reminders, escalations and "no measurements" notices are
skipped or misdated). So a user whose data a server stored within the last tick period is
deferred: their backlog may still be arriving, and while data arrives the data itself moves
their time forward. Once their data pauses for a whole tick period, the tick takes them again;
a live user's wall-clock evaluation is thus at most one tick period later than it would be.

When a server stored a user's data is kept in the database (``users.stored_utc``), so the
servers of a share group defer a user whichever of them stored the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def tick_due(
    users: Sequence[tuple[str, datetime | None]], now: datetime, period: timedelta
) -> tuple[list[str], list[str]]:
    """(users the tick evaluates now, users it defers), from each user and when a server last
    stored their data.

    A clock stepped back past a store time (``now`` before it) defers nobody for ever: only a
    store time in ``[now - period, now]`` defers.
    """
    due: list[str] = []
    deferred: list[str] = []
    for user, stored in users:
        recent = stored is not None and stored <= now < stored + period
        (deferred if recent else due).append(user)
    return due, deferred
