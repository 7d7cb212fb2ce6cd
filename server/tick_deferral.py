"""Which users the server's wall-clock tick may evaluate now, and which it must leave for later.

The tick evaluates every user with an open alert at the wall clock's time (issue 12: time
passes without data). Evaluating at "now" moves the user's evaluation time to now, and a later
evaluation only steps through the person's days from there: data measured before now but
stored after the tick is then evaluated at now only, and the days it covers are never
evaluated one by one (a backlog's reminders, escalations and "no measurements" notices are
skipped or misdated). So a user whose data this process stored within the last tick period is
deferred: their backlog may still be arriving, and while data arrives the data itself moves
their time forward. Once their data pauses for a whole tick period, the tick takes them again;
a live user's wall-clock evaluation is thus at most one tick period later than it would be.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


class TickDeferral:
    """The times this process last stored each user's data, on the server's wall clock."""

    def __init__(self, period: timedelta) -> None:
        self.period = period
        self._stored: dict[str, datetime] = {}

    def stored(self, users: Iterable[str], at: datetime) -> None:
        """``users``' data was stored (committed) at ``at``."""
        for user in users:
            self._stored[user] = at

    def due(self, users: Iterable[str], now: datetime) -> tuple[list[str], list[str]]:
        """(users the tick evaluates now, users it defers); forgets what is a period old.

        A clock stepped back past a store time (``now`` before it) defers nobody for ever: only
        a store time in ``[now - period, now]`` defers.
        """
        self._stored = {u: t for u, t in self._stored.items() if t <= now < t + self.period}
        due: list[str] = []
        deferred: list[str] = []
        for user in users:
            (deferred if user in self._stored else due).append(user)
        return due, deferred

    def __len__(self) -> int:
        return len(self._stored)
