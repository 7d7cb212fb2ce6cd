"""Login attempts, rate-limited per account and per client address.

Failures are counted in a sliding window. An account with ``per_account`` failures in
``window_s`` is refused (before any password is checked, so guessing on gets nowhere) until the
oldest of them leaves the window; so is an address with ``per_address`` failures, which stops one
client from trying many accounts. A successful login clears its account's failures. Memory is
bounded: the least recently failing keys are forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

#: Five wrong passwords in 15 minutes lock an account for the rest of the 15 minutes: enough for
#: a person who mistypes, far too few to guess a 43-character broker password.
PER_ACCOUNT = 5
#: One address (a household behind one router) may fail more often across its accounts.
PER_ADDRESS = 20
WINDOW_S = 15 * 60.0
MAX_KEYS = 50_000


class LoginThrottle:
    def __init__(
        self,
        *,
        per_account: int = PER_ACCOUNT,
        per_address: int = PER_ADDRESS,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account, self.per_address, self.window_s = per_account, per_address, window_s
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def retry_after(self, account: str, address: str) -> float | None:
        """Seconds until a login for ``account`` from ``address`` may be tried; None: now."""
        now = self._clock()
        waits = [
            self._wait(("account", account), self.per_account, now),
            self._wait(("address", address), self.per_address, now),
        ]
        longest = max((w for w in waits if w is not None), default=None)
        return longest

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        for key in (("account", account), ("address", address)):
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times  # most recent last
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def succeeded(self, account: str) -> None:
        self._failures.pop(("account", account), None)

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> float | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        if len(times) < limit:
            return None
        return self.window_s - (now - times[-limit])
