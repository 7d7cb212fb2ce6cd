"""Is the wall clock set? Windows are stamped with it, so the agent cuts none while it is not.

A Raspberry Pi has no real-time clock: until the network time arrives it reads 1970, or the time
it was last shut down. Windows stamped then would reach the server as 1970 (refused for good) or
as the wrong day. The agent asks :class:`ClockGuard` on every tick: a clock reading earlier than
this TwitchWatch's release date is not set. Detection goes on meanwhile; once the clock is set,
the guard says how far it stepped (from the monotonic clock, which does not step), so site starts
stamped by the wrong clock move with it and what was detected meanwhile lands in the right
windows.

A clock set wrongly but later than the release (hours ahead, last week) is caught by the server's
time: the server republishes its retained status with its time (``at``) about once a minute, and
the publisher hands every fresh copy (never the retained one delivered on subscribe, whose time
may be hours old) to :meth:`ClockGuard.server_time`. A difference beyond :data:`TOLERANCE` holds
the windows the same way, until a fresh status agrees again, or our clock steps by what it was
off (NTP fixed it: the server's time runs with our monotonic clock, so the skew is known without
waiting for the next status). Nothing waits for the server: with no server (or one too old to
send ``at``) windows are cut as before.

The retained status delivered on subscribe still says something at once: a server's time is never
earlier than a status it sent (:meth:`ClockGuard.server_time_floor`). A Pi whose clock came back
at its last shutdown time (fake-hwclock) is days behind every status the server has sent since,
so its first windows are held too, instead of landing on the wrong day before the first fresh
status comes.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from twitchwatch import __released__
from twitchwatch.contract.payload import MAX_CLOCK_AHEAD

log = logging.getLogger("edge.run")  # the journal's name for the agent (edge/views/journal.py)

#: A clock before this instant is not set (see twitchwatch.__released__).
RELEASED_UTC = datetime.combine(date.fromisoformat(__released__), datetime.min.time(), UTC)
#: The edge's clock may differ from the server's this much: the margin the server allows a
#: window's time (a window further ahead is refused for good as "future"), far above a broker's
#: delivery delay (milliseconds to seconds) and NTP's error (milliseconds), and small against the
#: hours and days the rules count over. Beyond it, windows would land in the wrong hour or
#: be refused: better to hold them.
TOLERANCE = MAX_CLOCK_AHEAD


def format_offset(offset: timedelta) -> str:
    """``2 h 03 min``, ``7 min``, ``3 d 4 h``: how far apart two clocks are, for a person."""
    minutes = int(abs(offset).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


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

    def __init__(
        self,
        clock: WallClock | None = None,
        not_before: datetime = RELEASED_UTC,
        tolerance: timedelta = TOLERANCE,
    ) -> None:
        self.clock = clock or SystemClock()
        self.not_before = not_before
        self.tolerance = tolerance
        self.set = True
        #: While not set: what the person reads (views and journal); None once set.
        self.problem: str | None = None
        self._wrong_offset_s = 0.0  # utc - monotonic while the clock was wrong
        #: The edge's clock minus the server's, from the last fresh server status that
        #: disagreed beyond the tolerance (None once one agrees), and the clock's offset from
        #: the monotonic clock then: a step of our clock since (NTP) moves the skew with it.
        self._skew: timedelta | None = None
        self._skew_offset_s = 0.0
        #: The wall time (by the wrong clock) from which its readings were wrong, while skewed.
        self._wrong_since: datetime | None = None
        #: Set with each step poll() returns: None if the clock was before the release (stamps
        #: before ``not_before`` were wrong); else the wall time (by the wrong clock) from which
        #: stamps were wrong (the clock was far from the server's).
        self.stepped_since: datetime | None = None
        self._last_offset_s: float | None = None
        self._offset_since: datetime | None = None
        #: The server's time at least, from a retained status: (its ``at``, our monotonic time
        #: when it came); None once our clock is not certainly behind it.
        self._floor: tuple[datetime, float] | None = None

    def server_time(self, server_utc: datetime) -> None:
        """A fresh server status said it is ``server_utc``: compare with our clock.

        The verdict takes effect at the next :meth:`poll` (the agent's tick)."""
        now, mono = self.clock.utc(), self.clock.monotonic()
        if now < self.not_before:
            return  # not set at all: poll() already holds the windows and says why
        skew = now - server_utc
        if abs(skew) > self.tolerance:
            if self._skew is None:
                log.warning("%s", self._skew_problem(skew))
            self._skew, self._skew_offset_s = skew, now.timestamp() - mono
        else:
            self._skew = None  # poll() says windows resume
        self._floor = None  # a fresh time says more than any floor

    def server_time_floor(self, server_utc: datetime) -> None:
        """A retained server status said ``server_utc``, maybe hours ago: the server's time is
        at least that. Only a clock behind it beyond the tolerance is known to be wrong."""
        now, mono = self.clock.utc(), self.clock.monotonic()
        if now < self.not_before or server_utc - now <= self.tolerance:
            return
        if self._floor is not None:  # the same old status again after a reconnect says less
            held_utc, held_mono = self._floor
            if held_utc + timedelta(seconds=mono - held_mono) >= server_utc:
                return
        self._floor = (server_utc, mono)

    def _skew_problem(self, skew: timedelta, at_least: bool = False) -> str:
        side = "ahead of" if skew > timedelta(0) else "behind"
        by = f"at least {format_offset(skew)}" if at_least else format_offset(skew)
        return (
            f"this device's clock is {by} {side} the server's: windows wait "
            "until it is right (is NTP running? timedatectl); detection goes on"
        )

    def _behind_floor(self, now: datetime, mono: float) -> timedelta | None:
        """How far our clock is certainly behind the server's (None: not beyond the tolerance,
        and the floor is dropped)."""
        if self._floor is None:
            return None
        server_utc, at_mono = self._floor
        behind = server_utc + timedelta(seconds=mono - at_mono) - now
        if behind > self.tolerance:
            return behind
        self._floor = None
        return None

    def poll(self) -> timedelta | None:
        """Read the clock. Returns how far it stepped when it has just been set, else None."""
        now, mono = self.clock.utc(), self.clock.monotonic()
        offset_s = now.timestamp() - mono
        if self._last_offset_s is None or abs(offset_s - self._last_offset_s) > 1.0:
            self._offset_since = now  # the clock stepped (or this is the first reading)
        self._last_offset_s = offset_s
        if now < self.not_before:
            if self.set or self._wrong_since is not None:
                self.set, self._wrong_since = False, None
                self.problem = (
                    f"the clock says {now:%Y-%m-%d %H:%M} UTC, before this TwitchWatch was "
                    f"released ({self.not_before:%Y-%m-%d}): no windows are sent until it is "
                    "set (is network time, NTP, reachable?); detection goes on"
                )
                log.warning("%s", self.problem)
            self._wrong_offset_s = offset_s
            return None
        if self._skew is not None:
            # The server's time runs with our monotonic clock: if our wall clock stepped since
            # the status, the skew stepped with it (NTP fixed it: no need to wait for the next).
            skew = self._skew + timedelta(seconds=offset_s - self._skew_offset_s)
            if abs(skew) <= self.tolerance:
                self._skew = None
        behind = None if self._skew is not None else self._behind_floor(now, mono)
        if self._skew is not None or behind is not None:
            offset = -behind if behind is not None else skew
            problem = self._skew_problem(offset, at_least=behind is not None)
            if self.set:
                # The clock has read this way since it last stepped (or since the agent began):
                # remember where it stood, so the step that fixes it can be measured.
                self.set, self._wrong_offset_s = False, offset_s
                self._wrong_since = self._offset_since
                if behind is not None:  # a fresh status's skew was logged as it came
                    log.warning("%s", problem)
            self.problem = problem
            return None
        if self.set:
            return None
        self.set, self.problem = True, None
        self.stepped_since, self._wrong_since = self._wrong_since, None
        step = timedelta(seconds=offset_s - self._wrong_offset_s)
        log.info(
            "the clock is %s (now %s UTC, it moved %s%s): windows resume",
            "set" if self.stepped_since is None else "right again by the server's time",
            f"{now:%Y-%m-%d %H:%M}",
            "back " if step < timedelta(0) else "",
            format_offset(step),
        )
        return step
