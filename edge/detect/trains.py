"""One motor unit firing on and on at a slow, steady pace: tonic activity, not twitches.

The isolation rule (Sleutjes 2016) calls a discharge isolated when nothing fires within 250 ms,
so a single unit that a muscle not quite at rest keeps firing 2-4 times a second passes it
discharge after discharge, and would count as a hundred twitches a minute. Fasciculations come
at random, irregular intervals. So a discharge is tonic firing when it belongs to a chain of at
least ``train_min`` discharges of one unit (same shape and size) that follow each other at
steady intervals (log-interval spread under ``train_regularity``) between ``train_isi_s``;
such a train is excluded as voluntary activity and none of it counts. Same-unit repeats closer
than the lower bound are doublets (10-110 ms, Kleine 2012), which count.

Each discharge is judged on the chain within ``horizon_s`` either side of it, once everything
up to ``horizon_s`` after it has arrived, so any chunking of the input gives the same decisions.
"""

from __future__ import annotations

import math

import numpy as np

from twitchwatch.contract import Reason

from .config import DetectorConfig
from .emg import Candidates
from .partition import Claim

EVIDENCE_TRAIN = "EMG: one motor unit firing steadily, {pps:.1f} times a second (tonic activity)"


class UnitTrains:
    """Holds cleared candidates until their train, if any, is known; passes the rest on."""

    def __init__(self, cfg: DetectorConfig, fs: float, length: int) -> None:
        self._cfg, self._fs = cfg, fs
        self.horizon_s = (cfg.train_min - 1) * cfg.train_isi_s[1]  # a whole shortest train
        self._held = Candidates.empty(length)  # arrived, not yet decided
        self._past = Candidates.empty(length)  # decided, still within a later one's reach
        self._known_until_s = -math.inf  # every candidate before this has arrived

    def final_s(self) -> float:
        """Claims this stage has still to make start at or after this time."""
        first = self._held.peak[0] / self._fs if self._held.n else self._known_until_s
        return first - self._cfg.exclusion_pad_s

    def push(self, cleared: Candidates, known_until_s: float) -> tuple[Candidates, list[Claim]]:
        """Take candidates cleared so far (each one before ``known_until_s`` has arrived);
        return those that are no train's, and the time trains take from rest."""
        self._held = Candidates.concat([self._held, cleared])
        self._known_until_s = known_until_s
        return self._decide(known_until_s - self.horizon_s)

    def flush(self, cleared: Candidates) -> tuple[Candidates, list[Claim]]:
        """Nothing follows these candidates (a gap, the end): decide them all."""
        self._held = Candidates.concat([self._held, cleared])
        out = self._decide(math.inf)
        self._past = self._past.take(np.zeros(self._past.n, bool))
        self._known_until_s = -math.inf
        return out

    def _decide(self, until_s: float) -> tuple[Candidates, list[Claim]]:
        """Decide the held candidates before ``until_s``."""
        n_due = int(np.searchsorted(self._held.peak / self._fs, until_s))
        if n_due == 0:
            return self._held.take(np.zeros(self._held.n, bool)), []
        near = Candidates.concat([self._past, self._held])
        t = near.peak / self._fs
        nxt = self._next_of_unit(near, t)
        # Each discharge's latest predecessor of its unit: whichever earlier ones a chunking
        # still holds, the latest is the same.
        prv = np.full(near.n, -1)
        linked = np.flatnonzero(nxt >= 0)
        np.maximum.at(prv, nxt[linked], linked)
        due = np.arange(self._past.n, self._past.n + n_due)
        member = np.zeros(n_due, bool)
        claims = []
        for k, i in enumerate(due):  # one turn per candidate: a few a minute at rest
            chain = self._chain(int(i), t, nxt, prv)
            if len(chain) < self._cfg.train_min:
                continue
            isi = np.diff(t[chain])
            if float(np.std(np.log(isi))) > self._cfg.train_regularity:
                continue
            member[k] = True
            follows = chain.index(int(i)) + 1 < len(chain)
            end_s = t[chain[chain.index(int(i)) + 1]] if follows else t[i]
            pps = 1.0 / float(np.median(isi))
            pad = self._cfg.exclusion_pad_s
            claims.append(
                Claim(t[i] - pad, end_s + pad, Reason.VOLUNTARY, EVIDENCE_TRAIN.format(pps=pps))
            )
        decided = near.take(due)
        last_s = t[due[-1]]
        reach = (np.arange(near.n) <= due[-1]) & (t >= last_s - self.horizon_s)
        self._past = near.take(reach)
        self._held = near.take(np.arange(due[-1] + 1, near.n))
        return decided.take(~member), claims

    def _next_of_unit(self, c: Candidates, t: np.ndarray) -> np.ndarray:
        """(n,) index of each candidate's next discharge of the same unit, when it follows
        within ``train_isi_s`` (past the doublet range); -1 otherwise."""
        cfg = self._cfg
        low, high = cfg.train_isi_s
        r = c.template @ c.template.T  # rows are zero-mean and unit-norm
        ratio = c.p2p_uv[:, None] / np.maximum(c.p2p_uv[None, :], 1e-9)
        lo_ratio, hi_ratio = cfg.template_amp_ratio
        # The weak tier's bar: two units of a site can look alike at the cramp rule's 0.85.
        same = (r >= cfg.weak_match_r) & (ratio >= lo_ratio) & (ratio <= hi_ratio)
        gap = t[None, :] - t[:, None]  # gap[i, j] > 0: j after i
        later = same & (gap > 0) & (gap <= high)
        first = np.argmax(later, axis=1)
        found = later[np.arange(c.n), first]
        ok = found & (gap[np.arange(c.n), first] > low)
        return np.where(ok, first, -1)

    def _chain(self, i: int, t: np.ndarray, nxt: np.ndarray, prv: np.ndarray) -> list[int]:
        """The unit's chain through ``i`` within ``horizon_s`` of it."""
        lo_s, hi_s = t[i] - self.horizon_s, t[i] + self.horizon_s
        back = []
        j = prv[i]
        while j >= 0 and t[j] >= lo_s:
            back.append(int(j))
            j = prv[j]
        ahead = []
        j = nxt[i]
        while j >= 0 and t[j] <= hi_s:
            ahead.append(int(j))
            j = nxt[j]
        return [*back[::-1], i, *ahead]
