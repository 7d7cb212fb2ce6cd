"""When servers sharing the load publish a device's ack again, from the database.

Servers of one share group store a device's windows in turn, and each publishes the ack its own
transaction saw. Their publishes reach the broker in either order, so the retained ack can end
on an older seq than the database holds (the device then believes the server went back). A
server that published a device's ack publishes it once more, read from the database, when
``settle_s`` has passed without another of its own: by then every server's transaction that
could move it has committed, so every server publishes the same, newest seq. (Each server
watching the acks on the broker and republishing the higher one did not converge under load:
bench/scale.py, 1,000 devices at 60x, left 17 devices a seq behind; settling left none.)
Pure bookkeeping with an injected clock: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

#: A device's ack is settled this long after this server last published it. Transactions commit
#: within a second or two under load; an ack read after that is the newest any server wrote.
SETTLE_S = 5.0


class AckSettling:
    """Devices whose ack this server published, and when to publish it again from the store."""

    def __init__(self, settle_s: float = SETTLE_S) -> None:
        self.settle_s = settle_s
        self._due: dict[tuple[str, str], float] = {}  # (user, device) -> clock when due

    def published(self, devices: Iterable[tuple[str, str]], now: float) -> None:
        """Acks of ``devices`` went out now: settle each ``settle_s`` after its latest."""
        for device in devices:
            self._due[device] = now + self.settle_s

    def due(self, now: float) -> list[tuple[str, str]]:
        """Devices to settle now (forgotten here: a later publish schedules them again)."""
        ready = sorted(d for d, t in self._due.items() if t <= now)
        for device in ready:
            del self._due[device]
        return ready

    def next_in(self, now: float) -> float | None:
        """Seconds until the next device is due; None when none waits."""
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - now)

    def __len__(self) -> int:
        return len(self._due)
