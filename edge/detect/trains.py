"""One motor unit firing on and on at a slow, steady pace: tonic activity, not twitches.

The isolation rule (Sleutjes 2016) calls a discharge isolated when nothing fires within 250 ms,
so a single unit that a muscle not quite at rest keeps firing 2-4 times a second passes it
discharge after discharge, and would count as a hundred twitches a minute. Fasciculations come
at random, irregular intervals. So a discharge is tonic firing when, within ``horizon_s`` either
side of it, at least ``train_min`` discharges have its shape and size and follow each other at
steady intervals (a robust log-interval spread under ``train_regularity``) typically within
``train_isi_s``; such a train is excluded as voluntary activity and none of it counts.
Same-unit repeats shorter than that range are doublets (10-110 ms, Kleine 2012), which count.

A discharge is judged once everything up to ``horizon_s`` after it has arrived, and only on
that window; one with no discharge of its unit within ``reach_s`` (no member of a train is that
alone) once that much has, so a twitch is not held 3 s. Any chunking gives the same decisions.
"""

from __future__ import annotations

import math

import numpy as np

from twitchwatch.contract import Reason

from .config import DetectorConfig
from .cramp import irregularity
from .emg import Candidates
from .partition import Claim
from .templates import same_unit

EVIDENCE_TRAIN = "EMG: one motor unit firing steadily, {pps:.1f} times a second (tonic activity)"


class UnitTrains:
    """Holds cleared candidates until their train, if any, is known; passes the rest on."""

    def __init__(self, cfg: DetectorConfig, fs: float, length: int) -> None:
        self._cfg, self._fs = cfg, fs
        self.horizon_s = (cfg.train_min - 1) * cfg.train_isi_s[1]  # the slowest shortest train
        self.reach_s = 2 * cfg.train_isi_s[1]  # a member's next or last: one may be missed
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
        return self._decide(known_until_s)

    def flush(self, cleared: Candidates) -> tuple[Candidates, list[Claim]]:
        """Nothing follows these candidates (a gap, the end): decide them all."""
        self._held = Candidates.concat([self._held, cleared])
        out = self._decide(math.inf)
        self._past = self._past.take(np.zeros(self._past.n, bool))
        return out

    def _decide(self, known_until_s: float) -> tuple[Candidates, list[Claim]]:
        """Decide the held candidates whose answer is known by ``known_until_s``: those a
        ``horizon_s`` before it, and sooner those with no discharge of their unit within
        ``reach_s`` (no train's member is that alone), so twitches are not held 3 s."""
        near = Candidates.concat([self._past, self._held])
        t = near.peak / self._fs
        alone = set()  # decided before their horizon: no member of a train
        n_due = 0
        for i in range(self._past.n, near.n):  # the held, in time order, while decidable
            if t[i] + self.horizon_s > known_until_s:
                if t[i] + self.reach_s > known_until_s:
                    break
                if self._unit_around(near, t, i, self.reach_s).size > 1:
                    break
                alone.add(i)
            n_due += 1
        if n_due == 0:
            return self._held.take(np.zeros(self._held.n, bool)), []
        due = np.arange(self._past.n, self._past.n + n_due)
        member = np.zeros(n_due, bool)
        claims = []
        for k, i in enumerate(due):  # one turn per candidate: a few a minute at rest
            i = int(i)
            if i in alone:
                continue
            around = self._unit_around(near, t, i, max(self.reach_s, self.horizon_s))
            gap = np.abs(t[around] - t[i])
            if np.count_nonzero(gap <= self.reach_s) == 1:
                continue
            train = around[gap <= self.horizon_s]
            isi = np.diff(t[train])
            if train.size < self._cfg.train_min or not self._steady(isi):
                continue
            member[k] = True
            after = train[t[train] > t[i]]
            close = after.size and t[after[0]] - t[i] <= self.reach_s
            end_s = t[after[0]] if close else t[i]  # across one missed discharge at most
            pad = self._cfg.exclusion_pad_s
            pps = 1.0 / float(np.median(isi))
            claims.append(
                Claim(t[i] - pad, end_s + pad, Reason.VOLUNTARY, EVIDENCE_TRAIN.format(pps=pps))
            )
        decided = near.take(due)
        last_s = t[due[-1]]
        reach = (np.arange(near.n) <= due[-1]) & (t >= last_s - self.horizon_s)
        self._past = near.take(reach)
        self._held = near.take(np.arange(due[-1] + 1, near.n))
        return decided.take(~member), claims

    def _unit_around(self, c: Candidates, t: np.ndarray, i: int, within_s: float) -> np.ndarray:
        """Indices, in time order, of the discharges within ``within_s`` of ``i`` that have its
        shape and size (``i`` among them), its doublet partners left out (closer than
        ``train_isi_s``: they count). Each is compared with ``i`` itself, so one discharge
        distorted by noise or an overlap does not break the train."""
        cfg = self._cfg
        gap = np.abs(t - t[i])
        window = np.flatnonzero((gap <= within_s) & ((gap > cfg.train_isi_s[0]) | (gap == 0)))
        # The weak tier's bar: two units of a site can look alike at the cramp rule's 0.85.
        same = same_unit(
            c.template[window],
            c.p2p_uv[window],
            c.template[i : i + 1],
            c.p2p_uv[i : i + 1],
            cfg.weak_match_r,
            cfg.template_amp_ratio,
        )[:, 0]
        return window[same | (window == i)]

    def _steady(self, isi: np.ndarray) -> bool:
        """Intervals of a unit firing steadily: typically in ``train_isi_s``, with a robust
        spread of log intervals (1.4826 MAD: one missed discharge does not count) under
        ``train_regularity``."""
        low, high = self._cfg.train_isi_s
        typical = float(np.median(isi))
        return low < typical <= high and irregularity(isi) <= self._cfg.train_regularity
