"""Runs of flagged subframes, closed across short pauses: the isolation rule in streaming form."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Times are sums and quotients of sample counts: two routes to one instant can differ in the
#: last bit. Comparisons of durations allow this much, so every chunking decides alike.
EPS_S = 1e-9


@dataclass(frozen=True, slots=True, eq=False)
class SubframeGrid:
    """Where a call's subframes lie: subframe ``i`` starts at sample ``first_sample + i * sub_n``.

    Subclasses add per-subframe arrays and say how many subframes there are (``n``).
    """

    first_sample: int
    sub_n: int
    fs: float

    @property
    def n(self) -> int:
        raise NotImplementedError

    @property
    def sub_s(self) -> float:
        return self.sub_n / self.fs

    def starts_s(self) -> np.ndarray:
        """(n,) start time of each subframe, in s from sample 0."""
        return (self.first_sample + np.arange(self.n) * self.sub_n) / self.fs


@dataclass(frozen=True, slots=True)
class Run:
    """Flagged time ``[start_s, end_s)``, from the first flagged subframe to the end of the last."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class RunTracker:
    """Groups flagged subframes into runs; a pause of ``close_s`` or more ends a run.

    A run is reported once it is closed, i.e. once ``close_s`` of unflagged data follows it, so
    the result does not depend on how the subframes were chunked. Runs longer than ``max_s`` are
    reported in pieces of ``max_s`` (the cut depends only on the run's start).
    """

    def __init__(self, close_s: float, max_s: float) -> None:
        self.close_s = close_s
        self.max_s = max_s
        self._open: Run | None = None
        self.seen_until_s = -np.inf

    @property
    def open_start_s(self) -> float | None:
        return None if self._open is None else self._open.start_s

    def push(self, starts_s: np.ndarray, sub_s: float, flags: np.ndarray) -> list[Run]:
        """Feed consecutive subframes (start times, length, flags); return the runs now closed."""
        if starts_s.size == 0:
            return []
        hit = np.flatnonzero(flags)
        a_s, b_s = starts_s[hit], starts_s[hit] + sub_s
        if self._open is not None:
            a_s = np.concatenate(([self._open.start_s], a_s))
            b_s = np.concatenate(([self._open.end_s], b_s))
        self.seen_until_s = float(starts_s[-1] + sub_s)
        closed: list[Run] = []
        if a_s.size:
            breaks = np.flatnonzero(a_s[1:] - b_s[:-1] >= self.close_s - EPS_S) + 1
            firsts = np.concatenate(([0], breaks))
            lasts = np.concatenate((breaks - 1, [a_s.size - 1]))
            runs = [Run(float(a_s[i]), float(b_s[j])) for i, j in zip(firsts, lasts, strict=True)]
            self._open = runs.pop()
            closed = runs
        closed = [piece for run in closed for piece in self._pieces(run)]
        if self._open is not None:
            pieces = self._pieces(self._open)
            self._open = pieces.pop()
            closed += pieces
            if self.seen_until_s - self._open.end_s >= self.close_s - EPS_S:
                closed.append(self._open)
                self._open = None
        return closed

    def flush(self) -> list[Run]:
        """End of data: the open run, if any, ends where it is."""
        if self._open is None:
            return []
        run, self._open = self._open, None
        return [run]

    def _pieces(self, run: Run) -> list[Run]:
        """``run`` cut every ``max_s`` from its start."""
        if run.duration_s <= self.max_s + EPS_S:
            return [run]
        cuts = run.start_s + self.max_s * np.arange(1, int(run.duration_s // self.max_s) + 1)
        edges = [run.start_s, *(float(c) for c in cuts if c < run.end_s), run.end_s]
        return [Run(a, b) for a, b in itertools.pairwise(edges)]
