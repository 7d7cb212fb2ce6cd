"""What a site detector hands out: twitches, cramps, exclusions and rest, and span helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twitchwatch.contract import INTERNAL_UNIT, Kind, Reason


@dataclass(frozen=True, slots=True)
class Interval:
    """``[start_s, end_s)`` excluded from counting, and why."""

    start_s: float
    end_s: float
    reason: Reason
    #: What showed it, in a user's words (e.g. that no accelerometer could confirm movement).
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Cramp:
    start_s: float
    end_s: float
    amplitude_uv: float


@dataclass(slots=True)
class Detections:
    """What a site detector decided: twitches (struct of arrays), cramps, exclusions, and the rest
    time with where it lay; everything before ``decided_until_s`` is final."""

    twitch_t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # at the peak
    twitch_amplitude: np.ndarray = field(default_factory=lambda: np.zeros(0))  # p2p, in unit
    twitch_duration_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # NaN: unknown
    unit: str = INTERNAL_UNIT[Kind.EMG]  # of the amplitudes: µV from EMG, g from acceleration
    cramps: list[Cramp] = field(default_factory=list)
    excluded: list[Interval] = field(default_factory=list)
    # Observed rest in which twitches could be counted: (k, 2) half-open [start_s, end_s).
    rest_spans: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    decided_until_s: float = 0.0  # every decision before this time is final

    @property
    def rest_s(self) -> float:
        """Seconds of observed rest."""
        return float(np.sum(self.rest_spans[:, 1] - self.rest_spans[:, 0]))

    def extend(self, other: Detections) -> None:
        if not (other.twitch_t_s.size or other.cramps or other.excluded or other.rest_spans.size):
            # Most polls of a live stream decide nothing new: skip the copies.
            self.unit = other.unit
            self.decided_until_s = max(self.decided_until_s, other.decided_until_s)
            return
        self.twitch_t_s = np.concatenate((self.twitch_t_s, other.twitch_t_s))
        self.twitch_amplitude = np.concatenate((self.twitch_amplitude, other.twitch_amplitude))
        self.twitch_duration_s = np.concatenate((self.twitch_duration_s, other.twitch_duration_s))
        self.unit = other.unit
        self.cramps += other.cramps
        append_excluded(self.excluded, other.excluded)
        self.rest_spans = np.concatenate((self.rest_spans, other.rest_spans))
        self.decided_until_s = max(self.decided_until_s, other.decided_until_s)


def append_excluded(into: list[Interval], more: list[Interval]) -> None:
    """Append, joining a piece to the last one when they touch with the same reason and evidence
    (a poll boundary splits nothing)."""
    for piece in more:
        last = into[-1] if into else None
        if (
            last is not None
            and last.end_s == piece.start_s
            and last.reason is piece.reason
            and last.evidence == piece.evidence
        ):
            into[-1] = Interval(last.start_s, piece.end_s, last.reason, last.evidence)
        else:
            into.append(piece)


def covered(t: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """(k,) bool: t lies in any of the (m, 2) half-open spans."""
    if t.size == 0 or spans.size == 0:
        return np.zeros(t.size, bool)
    return ((t[:, None] >= spans[None, :, 0]) & (t[:, None] < spans[None, :, 1])).any(axis=1)


def merge_spans(spans: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The union of half-open spans clipped to ``[lo, hi)``.

    Parameters
    ----------
    spans : (m, 2) array of [start_s, end_s), in any order, overlapping or not.
    lo, hi : float
        Clip bounds in the same seconds.

    Returns
    -------
    (k, 2) array of disjoint, non-empty spans sorted by start; touching spans are joined.
    """
    spans = np.asarray(spans, dtype=float).reshape(-1, 2)
    if hi <= lo or spans.size == 0:
        return np.zeros((0, 2))
    a = np.clip(spans[:, 0], lo, hi)
    b = np.clip(spans[:, 1], lo, hi)
    keep = a < b
    a, b = a[keep], b[keep]
    if a.size == 0:
        return np.zeros((0, 2))
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    reach = np.maximum.accumulate(b)
    starts_new = np.concatenate(([True], a[1:] > reach[:-1]))
    first = a[starts_new]
    last = np.maximum.reduceat(b, np.flatnonzero(starts_new))
    return np.column_stack((first, last))
