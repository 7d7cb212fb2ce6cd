"""Is the wall clock set? Windows are stamped with it, so the agent cuts none while it is not.

A Raspberry Pi has no real-time clock: until the network time arrives it reads 1970, or the time
it was last shut down. Windows stamped then would reach the server as 1970 (refused for good) or
as the wrong day. The agent asks :class:`ClockGuard` on every tick: a clock reading earlier than
this TwitchWatch's release date is not set. Detection goes on meanwhile; once the clock is set,
the guard says how far it stepped (from the monotonic clock, which does not step), so site starts
stamped by the wrong clock move with it and what was detected meanwhile lands in the right
windows. A clock set wrongly but later than the release (far in the future, or last week) is not
caught here: nothing on the edge knows better without asking a time source.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from twitchwatch import __released__

log = logging.getLogger("edge.run")  # the journal's name for the agent (edge/views/journal.py)

#: A clock before this instant is not set (see twitchwatch.__released__).
RELEASED_UTC = datetime.combine(date.fromisoformat(__released__), datetime.min.time(), UTC)


class WallClock(Protocol):
    """The time as UTC, and a monotonic clock that never steps (tests pass a fake)."""

    def utc(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def utc(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ClockGuard:
    """Watches the wall clock: :attr:`set` says whether windows may be cut now."""

    def __init__(self, clock: WallClock | None = None, not_before: datetime = RELEASED_UTC) -> None:
        self.clock = clock or SystemClock()
        self.not_before = not_before
        self.set = True
        #: While not set: what the person reads (views and journal); None once set.
        self.problem: str | None = None
        self._wrong_offset_s = 0.0  # utc - monotonic while the clock was wrong

    def poll(self) -> timedelta | None:
        """Read the clock. Returns how far it stepped when it has just been set, else None."""
        now, mono = self.clock.utc(), self.clock.monotonic()
        offset_s = now.timestamp() - mono
        if now < self.not_before:
            if self.set:
                self.set = False
                self.problem = (
                    f"the clock says {now:%Y-%m-%d %H:%M} UTC, before this TwitchWatch was "
                    f"released ({self.not_before:%Y-%m-%d}): no windows are sent until it is "
                    "set (is network time, NTP, reachable?); detection goes on"
                )
                log.warning("%s", self.problem)
            self._wrong_offset_s = offset_s
            return None
        if self.set:
            return None
        self.set, self.problem = True, None
        step = timedelta(seconds=offset_s - self._wrong_offset_s)
        log.info(
            "the clock is set (now %s UTC, it moved %s): windows resume",
            f"{now:%Y-%m-%d %H:%M}",
            step,
        )
        return step
