"""When to send a window again that the broker acknowledged but the server's ack has not covered.

Brokers drop acknowledged messages (queue caps, a restart without persistence, a server session
that expired), so such a window goes again ``resend_after_s`` after its PUBACK. While the server's
ack does not move (the server is down), each round of resends waits twice as long as the last, up
to ``MAX_RESEND_AFTER_S``; any progress of the ack resets the pace. Pure bookkeeping with an
injected clock: no I/O.
"""

from __future__ import annotations

import math

#: A window the broker acknowledged but the server has not, after this long, is sent again. The
#: server acks within a second when it is up; when it is down, resending costs one message a
#: window per period.
RESEND_AFTER_S = 30.0
#: While the server's ack does not move, each round of resends waits twice as long as the last,
#: up to this: a server down overnight must not turn every device into a resend storm.
MAX_RESEND_AFTER_S = 600.0


class ResendSchedule:
    """Seqs the broker holds (PUBACK seen) that the server has not acked yet, with their times."""

    def __init__(self, resend_after_s: float = RESEND_AFTER_S) -> None:
        self.resend_after_s = resend_after_s
        self._broker_has: dict[int, float] = {}  # seq -> clock at PUBACK, until the server acks
        self._rounds = 0  # resend rounds since the server's ack last moved (the backoff)
        self._round_at = -math.inf

    def broker_has(self, seq: int, now: float) -> None:
        """The broker acknowledged ``seq`` (or refused it: try again later all the same)."""
        self._broker_has[seq] = now

    def forget(self, seq: int) -> None:
        """``seq`` is being published again: its PUBACK restarts the wait."""
        self._broker_has.pop(seq, None)

    def clear(self) -> None:
        """A new connection sends everything waiting anyway."""
        self._broker_has.clear()

    def acked(self, seq: int, progressed: bool) -> None:
        """The server stored everything up to ``seq``; ``progressed``: its ack moved forward."""
        for done in [s for s in self._broker_has if s <= seq]:
            del self._broker_has[done]
        if progressed:
            self._rounds = 0  # the server is taking windows: resend at the base pace again

    def due(self, now: float) -> list[int]:
        """Seqs to send again now, oldest first; a new round makes the next one wait longer."""
        wait_s = self.wait_s()
        due = sorted(s for s, t in self._broker_has.items() if now - t >= wait_s)
        if due and now - self._round_at >= wait_s:
            self._rounds += 1
            self._round_at = now
        return due

    def next_in(self, now: float) -> float | None:
        """Seconds until the next window is due again; None if none waits on the server."""
        if not self._broker_has:
            return None
        oldest = min(self._broker_has.values())
        return max(0.0, oldest + self.wait_s() - now)

    def wait_s(self) -> float:
        cap = max(self.resend_after_s, MAX_RESEND_AFTER_S)
        return min(self.resend_after_s * 2.0 ** min(self._rounds, 32), cap)
