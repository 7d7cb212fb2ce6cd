"""The users whose stored data awaits rule evaluation, in the order the server evaluates them.

Under load the server evaluates in time slices between batches (evaluation_rounds.py), so the order
decides who waits: a user who reported something comes first (a report of slurred speech is
urgent, and one evaluation answers it), then everyone else, longest waiting first, so that no
user starves however many others keep sending windows. A user already waiting keeps their
place when more of their data arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class EvaluationQueue:
    """Insertion-ordered sets: the reporters, then the rest."""

    def __init__(self) -> None:
        self._reported: dict[str, None] = {}
        self._data: dict[str, None] = {}

    def add(self, users: Iterable[str], reported: Iterable[str] = ()) -> None:
        """``users``' data changed; ``reported``: those among them whose change is a report."""
        reported = set(reported)
        for user in users:
            if user in reported:
                self._data.pop(user, None)
                self._reported.setdefault(user)
            elif user not in self._reported:
                self._data.setdefault(user)

    def done(self, user: str) -> None:
        """``user`` was evaluated (with everything stored until then)."""
        self._reported.pop(user, None)
        self._data.pop(user, None)

    def in_order(self) -> list[str]:
        """A snapshot: reporters first, then the rest, each longest waiting first."""
        return [*self._reported, *self._data]

    def __contains__(self, user: object) -> bool:
        return user in self._reported or user in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self.in_order())

    def __len__(self) -> int:
        return len(self._reported) + len(self._data)
