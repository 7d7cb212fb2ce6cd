"""Judging: candidates and claims decided so far, turned into counted twitches, exclusions
(one reason per instant) and rest, up to a time every stream is final at."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detections import Detections, Interval, covered
from .partition import Claim, partition


@dataclass(slots=True)
class Pending:
    """Decided inputs waiting for every stream to be final past them."""

    claims: list[Claim] = field(default_factory=list)  # excluded from rest, overlapping
    t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # candidate twitches
    amplitude: np.ndarray = field(default_factory=lambda: np.zeros(0))
    duration_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add_candidates(self, t_s: np.ndarray, amplitude: np.ndarray, duration_s: np.ndarray):
        self.t_s = np.concatenate((self.t_s, t_s))
        self.amplitude = np.concatenate((self.amplitude, amplitude))
        self.duration_s = np.concatenate((self.duration_s, duration_s))


def judge(
    pending: Pending, from_s: float, until_s: float, final: bool, into: Detections
) -> Pending:
    """Count the candidates before ``until_s`` (all of them when ``final``) that no claim
    covers and partition ``[from_s, until_s)`` into exclusions and rest, appended to ``into``.

    Returns what stays pending: later candidates, and the claims that reach past ``until_s``.
    """
    spans = np.array([(c.start_s, c.end_s) for c in pending.claims]).reshape(-1, 2)
    take = np.ones(pending.t_s.size, bool) if final else pending.t_s < until_s
    t = pending.t_s[take]
    counted = ~covered(t, spans)
    pieces, rest = partition(pending.claims, max(from_s, 0.0), until_s)
    into.extend(
        Detections(
            t[counted],
            pending.amplitude[take][counted],
            pending.duration_s[take][counted],
            unit=into.unit,
            excluded=[
                Interval(p.start_s, p.end_s, p.reason, p.evidence)
                for p in pieces
                if p.reason is not None
            ],
            rest_spans=rest,
            decided_until_s=until_s,
        )
    )
    return Pending(
        # Later candidates and rest lie after until_s: claims ending before it are done.
        [c for c in pending.claims if c.end_s > until_s],
        pending.t_s[~take],
        pending.amplitude[~take],
        pending.duration_s[~take],
    )
