"""EMG activity: isolated discharges versus continual firing (voluntary contraction or cramp).

Sleutjes 2016: a discharge is isolated when nothing fires within 250 ms of it. Busy subframes
closer than that form a run; a run of half a second or more is continual firing. Continual runs
less than a second apart are one episode (a cramp's units pause up to ~0.4 s). An episode is a
cramp when it lasts 5 s or more, is sparse (few units, kurtosis above an interference pattern's)
and its units fire as a cramp's do, irregularly at 6-25 pps (cramp.py), or, clearly sparse, its
discharges match units seen fasciculating at rest at this site; otherwise it is voluntary
activity. Nothing waits for a site's units to be known. A run
that an electrode artifact explains (short, or full of artifact subframes) is the artifact's.
Candidates outside episodes leave here in time order, to be judged against the other exclusions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twitchwatch.contract import EventKind, Reason

from .cramp import fires_like_a_cramp, sort_units
from .design import EmgDesign
from .emg import Candidates, Subframes
from .runs import EPS_S, Run, RunTracker
from .templates import same_unit


@dataclass(frozen=True, slots=True)
class Episode:
    """Continual firing ``[start_s, end_s)``: a cramp event or excluded voluntary time."""

    start_s: float
    end_s: float
    kind: EventKind | Reason  # EventKind.CRAMP, Reason.VOLUNTARY or Reason.ARTIFACT
    amplitude_uv: float  # cramp: median p2p of its discharges; 0 otherwise


class EmgActivity:
    """Streams subframes and candidates in; episodes and cleared candidates out."""

    def __init__(self, design: EmgDesign) -> None:
        cfg = design.config
        self._design = design
        self._runs = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self._pending: Run | None = None  # a continual run that a later one may still join
        self._candidates = Candidates.empty(design.template_n)
        self._sub_t = np.zeros(0)  # retained subframe features, for classifying episodes
        self._sub_kurt = np.zeros(0)
        self._sub_busy = np.zeros(0, bool)
        self._sub_artifact = np.zeros(0, bool)
        self._library = np.zeros((0, design.template_n))  # templates of cleared twitch candidates
        self._library_p2p = np.zeros(0)
        self.final_until_s = -math.inf
        self._fed_until_s = -math.inf  # subframes before this went to the run tracker

    def push(
        self, subframes: Subframes | None, candidates: Candidates, complete_until_s: float
    ) -> tuple[list[Episode], Candidates]:
        """Feed one call's output of the EMG front end; return what is now decided.

        ``complete_until_s``: every candidate before this time has been delivered. Subframes
        after it wait, so that a discharge can mark its subframe busy before the run is judged.
        """
        self._candidates = Candidates.concat([self._candidates, candidates])
        episodes: list[Episode] = []
        cleared: list[Candidates] = []
        if subframes is not None and subframes.n:
            self._retain(subframes.starts_s(), subframes)
        self._feed_runs(complete_until_s, episodes, cleared)
        self.final_until_s = self._decided_until()
        cleared.append(self._clear(self.final_until_s))
        self._trim()
        return episodes, Candidates.concat(cleared)

    def flush(self, end: bool) -> tuple[list[Episode], Candidates]:
        """End of contiguous data: a gap, or the ``end`` of the stream (then nothing is held)."""
        episodes: list[Episode] = []
        cleared: list[Candidates] = []
        self._feed_runs(math.inf, episodes, cleared)
        for run in self._runs.flush():
            self._on_run(run, episodes, cleared)
        if self._pending is not None:
            self._finalize(self._pending, episodes, cleared, known_until_s=self._fed_until_s)
            self._pending = None
        self.final_until_s = self._decided_until()
        cleared.append(self._clear(self.final_until_s))
        self._trim()
        return episodes, Candidates.concat(cleared)

    # --- runs and episodes ---------------------------------------------------------------

    def _feed_runs(
        self, complete_until_s: float, episodes: list[Episode], cleared: list[Candidates]
    ) -> None:
        """Judge the subframes whose candidates are all in: the isolation rule on discharges
        (a subframe holding a candidate potential is busy, however small its RMS) as well as
        on energy (an interference pattern is busy without separable peaks)."""
        sub_s = self._design.sub_s
        ready = (self._sub_t >= self._fed_until_s - EPS_S) & (
            self._sub_t + sub_s <= complete_until_s + EPS_S
        )
        if not ready.any():
            return
        at = np.flatnonzero(ready)
        starts_s = self._sub_t[at]
        t = self._candidates.peak / self._design.fs
        inside = (t >= starts_s[0]) & (t < starts_s[-1] + sub_s)
        hit = np.searchsorted(starts_s, t[inside], side="right") - 1
        self._sub_busy[at[hit]] = True
        for run in self._runs.push(starts_s, sub_s, self._sub_busy[at]):
            self._on_run(run, episodes, cleared)
        self._fed_until_s = float(starts_s[-1] + sub_s)
        self._expire(episodes, cleared)

    def _on_run(self, run: Run, episodes: list[Episode], cleared: list[Candidates]) -> None:
        cfg = self._design.config
        # Subframe starts are sorted: the run's subframes are one slice.
        lo = int(self._sub_t.searchsorted(run.start_s - EPS_S))
        hi = int(self._sub_t.searchsorted(run.end_s - EPS_S))
        n_artifact = int(np.count_nonzero(self._sub_artifact[lo:hi]))
        if n_artifact and (
            run.duration_s < cfg.artifact_run_s or n_artifact >= cfg.artifact_share * (hi - lo)
        ):
            # Activity that an electrode event explains (the filters ringing after a pop, a
            # lead-off) is the artifact's: neither twitches nor voluntary. In a long run of real
            # activity a few such subframes are excluded on their own (site's artifact spans).
            if self._pending is not None:
                self._finalize(self._pending, episodes, cleared, known_until_s=run.start_s)
                self._pending = None
            self._finalize(run, episodes, cleared, Reason.ARTIFACT)
            return
        pending = self._pending
        if pending is not None and pending.duration_s >= cfg.max_episode_s - EPS_S:
            self._finalize(pending, episodes, cleared, known_until_s=run.start_s)
            pending = self._pending = None
        joins = pending is not None and run.start_s - pending.end_s < cfg.merge_s - EPS_S
        if run.duration_s >= cfg.sustained_s - EPS_S:
            if joins:
                assert pending is not None
                self._pending = Run(pending.start_s, run.end_s)
            else:
                if pending is not None:
                    self._finalize(pending, episodes, cleared, known_until_s=run.start_s)
                self._pending = run
        else:
            if pending is not None and not joins:
                self._finalize(pending, episodes, cleared, known_until_s=run.start_s)
                self._pending = None
            if self._pending is None:
                self._learn(run)  # isolated discharges: the units that twitch at rest here

    def _expire(self, episodes: list[Episode], cleared: list[Candidates]) -> None:
        """Decide the pending episode once no later run can join it any more."""
        pending = self._pending
        if pending is None:
            return
        horizon_s = pending.end_s + self._design.config.merge_s
        open_s = self._runs.open_start_s
        if self._runs.seen_until_s >= horizon_s - EPS_S and (
            open_s is None or open_s >= horizon_s - EPS_S
        ):
            self._finalize(pending, episodes, cleared, known_until_s=horizon_s)
            self._pending = None

    def _decided_until(self) -> float:
        """Everything before this time is decided: no open or pending run can cover it."""
        until = self._runs.seen_until_s
        for s in (self._runs.open_start_s, self._pending and self._pending.start_s):
            if s is not None:
                until = min(until, s)
        return until

    def _finalize(
        self,
        run: Run,
        episodes: list[Episode],
        cleared: list[Candidates],
        reason: Reason | None = None,
        known_until_s: float = -math.inf,
    ) -> None:
        """Emit ``run`` as an episode (classified, unless ``reason`` is given); consume its
        candidates. Candidates before ``known_until_s`` (the next run's start, or how far the
        data is complete) may extend continual firing by its derecruitment tail."""
        if reason is None:
            run = self._with_derecruitment(run, known_until_s)
        cleared.append(self._clear(run.start_s))
        t = self._candidates.peak / self._design.fs
        inside = (t >= run.start_s) & (t < run.end_s)
        discharges = self._candidates.take(inside)
        self._candidates = self._candidates.take(~inside)
        if reason is not None:
            episodes.append(Episode(run.start_s, run.end_s, reason, 0.0))
        else:
            episodes.append(self._classify(run, discharges))

    def _with_derecruitment(self, run: Run, known_until_s: float) -> Run:
        """``run`` ending at the last discharge of its derecruitment tail.

        The last units of a contraction slow down before they stop, their intervals growing past
        the isolation rule's 250 ms: a discharge within ``derecruitment_s`` of the firing's end,
        or of such a discharge, is still the contraction's. Only candidates before the merge
        horizon (known whenever an episode is decided) are read, so chunking cannot change it.
        """
        cfg = self._design.config
        until_s = min(run.end_s + cfg.merge_s, known_until_s)
        t = self._candidates.peak / self._design.fs
        end_s = run.end_s
        for t_s in t[(t >= run.end_s) & (t < until_s)]:  # a few per episode
            if t_s - end_s > cfg.derecruitment_s:
                break
            end_s = t_s + EPS_S
        return run if end_s == run.end_s else Run(run.start_s, end_s)

    def _sparseness(self, run: Run) -> float:
        """Median kurtosis of the run's busy subframes (a few units firing are sparse, an
        interference pattern near-Gaussian: 3); 0 when the run is too short to be a cramp."""
        if run.duration_s < self._design.config.cramp_min_s - EPS_S:
            return 0.0
        busy = (self._sub_t >= run.start_s) & (self._sub_t < run.end_s) & self._sub_busy
        return float(np.median(self._sub_kurt[busy])) if busy.any() else 0.0

    def _classify(self, run: Run, discharges: Candidates) -> Episode:
        """A long, sparse episode is a cramp when its units fire as a cramp's do (irregularly,
        at 6-25 pps), or when they are the units seen twitching at rest here; otherwise it is
        voluntary activity."""
        cfg = self._design.config
        sparseness = self._sparseness(run) if discharges.n else 0.0
        if sparseness <= cfg.sparse_kurtosis:
            return Episode(run.start_s, run.end_s, Reason.VOLUNTARY, 0.0)
        units = sort_units(discharges, self._design.fs, round(cfg.cramp_unit_pps[0] * 5.0))
        if fires_like_a_cramp(units, discharges.n, cfg.cramp_unit_pps, cfg.cramp_irregularity):
            return Episode(
                run.start_s, run.end_s, EventKind.CRAMP, float(np.median(discharges.p2p_uv))
            )
        # Units seen twitching at rest here: only with enough of them known and an episode that
        # is clearly a few units (small known templates match a faint contraction by chance).
        if self._library.shape[0] >= cfg.units_known and sparseness > cfg.known_units_kurtosis:
            known = self._known_units(discharges)
            if known.mean() >= cfg.cramp_template_share:
                amp = float(np.median(discharges.p2p_uv[known]))
                return Episode(run.start_s, run.end_s, EventKind.CRAMP, amp)
        return Episode(run.start_s, run.end_s, Reason.VOLUNTARY, 0.0)

    def _known_units(self, discharges: Candidates) -> np.ndarray:
        """(k,) bool: the discharge matches the shape and size of a twitch seen at rest here."""
        if self._library.shape[0] == 0:
            return np.zeros(discharges.n, bool)
        cfg = self._design.config
        return same_unit(
            discharges.template,
            discharges.p2p_uv,
            self._library,
            self._library_p2p,
            cfg.template_match_r,
            cfg.template_amp_ratio,
        ).any(axis=1)

    # --- candidates and retained features -----------------------------------------------------

    def _clear(self, until_s: float) -> Candidates:
        """Release candidates before ``until_s`` (none of them is inside an episode)."""
        t = self._candidates.peak / self._design.fs
        done = t < until_s
        out = self._candidates.take(done)
        self._candidates = self._candidates.take(~done)
        return out

    def _learn(self, run: Run) -> None:
        """Keep the templates of a short run's potentials (isolated discharges at rest)."""
        # Candidates are sorted by peak: the run's are one slice.
        cands = self._candidates
        t = cands.peak / self._design.fs
        lo, hi = int(t.searchsorted(run.start_s)), int(t.searchsorted(run.end_s))
        if hi == lo:  # a run of energy alone, no separable potential
            return
        fit = lo + np.flatnonzero(cands.shape_ok[lo:hi])
        if fit.size:
            keep = self._design.config.template_library
            self._library = np.concatenate((self._library, cands.template[fit]))[-keep:]
            self._library_p2p = np.concatenate((self._library_p2p, cands.p2p_uv[fit]))[-keep:]

    def _retain(self, starts_s: np.ndarray, subframes: Subframes) -> None:
        self._sub_t = np.concatenate((self._sub_t, starts_s))
        self._sub_kurt = np.concatenate((self._sub_kurt, subframes.kurtosis))
        self._sub_busy = np.concatenate((self._sub_busy, subframes.busy))
        self._sub_artifact = np.concatenate((self._sub_artifact, subframes.artifact))

    def _trim(self) -> None:
        """Forget subframe features no open or pending run can still need."""
        keep_from = self._decided_until()
        if not math.isfinite(keep_from):
            return
        keep = self._sub_t >= keep_from
        if not keep.all():
            self._sub_t = self._sub_t[keep]
            self._sub_kurt = self._sub_kurt[keep]
            self._sub_busy = self._sub_busy[keep]
            self._sub_artifact = self._sub_artifact[keep]
