"""Logged-in sessions: random tokens kept in this process, never in the cookie's value alone.

A session is a 256-bit random token (the cookie) that maps to the person it belongs to, its CSRF
token and its age. Only the token's SHA-256 is kept, so a leaked session table logs nobody in.
Sessions end after ``idle_s`` without a request, after ``max_age_s`` in any case, on logout, and
when the server restarts (people log in again; nothing else is lost).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

#: Signed out after this long without a request; a phone left on a table is not a login forever.
IDLE_S = 12 * 3600.0
#: Signed out after this long whatever happens, so a stolen cookie does not last.
MAX_AGE_S = 7 * 86400.0
#: Sessions kept at most; the oldest go first (each person needs one or two).
MAX_SESSIONS = 10_000
TOKEN_BYTES = 32


@dataclass(slots=True)
class Flash:
    """A message for the next page a person sees (what was sent, what the rules say at once)."""

    text: str
    level: str = "info"  # info | advisory | warning | urgent | problem


@dataclass(slots=True)
class Session:
    user: str
    csrf: str
    created_s: float
    seen_s: float
    flashes: list[Flash] = field(default_factory=list)


class Sessions:
    """The sessions of one web view, by token."""

    def __init__(
        self,
        *,
        idle_s: float = IDLE_S,
        max_age_s: float = MAX_AGE_S,
        limit: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_s, self.max_age_s, self.limit, self._clock = idle_s, max_age_s, limit, clock
        self._by_digest: OrderedDict[str, Session] = OrderedDict()

    def create(self, user: str) -> tuple[str, Session]:
        """A new session for ``user``: its token (for the cookie) and the session."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock()
        session = Session(user, secrets.token_urlsafe(TOKEN_BYTES), now, now)
        self._by_digest[_digest(token)] = session
        while len(self._by_digest) > self.limit:
            self._by_digest.popitem(last=False)
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``; None if there is none or it has expired."""
        if not token:
            return None
        digest = _digest(token)
        session = self._by_digest.get(digest)
        if session is None:
            return None
        now = self._clock()
        if now - session.seen_s > self.idle_s or now - session.created_s > self.max_age_s:
            del self._by_digest[digest]
            return None
        session.seen_s = now
        self._by_digest.move_to_end(digest)
        return session

    def drop(self, token: str | None) -> None:
        if token:
            self._by_digest.pop(_digest(token), None)

    def __len__(self) -> int:
        return len(self._by_digest)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
