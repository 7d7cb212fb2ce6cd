"""One body site: its EMG and accelerometer streams, combined into twitches, cramps, exclusions.

Times are seconds from sample 0 of the site's streams (both streams of a sensor start together).
Every decision is made once all of its inputs are final, so feeding the same samples in any
chunks gives the same detections.
"""

from __future__ import annotations

import math

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import INTERNAL_UNIT, Kind, Reason

from . import acc, emg
from .activity import EmgActivity, Episode
from .claims import (
    EVIDENCE_ACC_MOTION,
    EVIDENCE_EMG_MOTION,
    EVIDENCE_END,
    EVIDENCE_GAP,
    EVIDENCE_START,
    NO_ACC,
    episode_claims,
    motion_min_s,
    run_claims,
    slight,
)
from .config import DetectorConfig
from .design import AccDesign, EmgDesign
from .detections import Detections
from .intake import StreamIntake
from .judge import Pending, judge
from .partition import Claim
from .runs import Run, RunTracker


class SiteDetector:
    """Streaming twitch detector for one site with EMG, acceleration, or both.

    Parameters
    ----------
    site : str
        Contract site id (reported as given).
    emg_fs, acc_fs : float or None
        Sampling rates of the site's streams in Hz; None when the site has no such stream.
    config : DetectorConfig

    Use::

        det = SiteDetector("left_calf", emg_fs=2000.0, acc_fs=None)
        det.feed(Kind.EMG, 0, emg_uv)  # (n,) or (1, n) µV, any chunk size; ACC (3, n) or (1, n) g
        new = det.poll()  # Detections decided so far
        rest = det.finish()  # end of the recording
    """

    def __init__(
        self,
        site: str,
        *,
        emg_fs: float | None,
        acc_fs: float | None,
        config: DetectorConfig | None = None,
    ) -> None:
        if emg_fs is None and acc_fs is None:
            raise ValueError("a site needs an EMG or an accelerometer stream")
        self.site = site
        self.config = cfg = config or DetectorConfig()
        self._emg_design = EmgDesign.build(emg_fs, cfg) if emg_fs is not None else None
        self._acc_design = AccDesign.build(acc_fs, cfg) if acc_fs is not None else None
        self._emg = (
            StreamIntake(site, Kind.EMG, emg_fs, cfg.batch_s) if emg_fs is not None else None
        )
        self._acc = (
            StreamIntake(site, Kind.ACC, acc_fs, cfg.batch_s) if acc_fs is not None else None
        )
        self._emg_state: emg.EmgState | None = None
        self._acc_state: acc.AccState | None = None
        self._activity = EmgActivity(self._emg_design) if self._emg_design else None
        self._emg_motion = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self._emg_artifact = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self._acc_motion = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self._acc_moving_t = np.zeros(0)  # moving subframes not yet in a decided run
        self._acc_moving_g = np.zeros(0)
        self._pending = Pending()  # decided, waiting for every stream to be final
        self._new = Detections(unit=INTERNAL_UNIT[Kind.EMG if emg_fs else Kind.ACC])
        self._judged_until_s = 0.0
        # Samples were processed since the last judgement: what is final may have moved on.
        self._moved = False

    # --- input -------------------------------------------------------------------------------

    def feed(self, kind: Kind, start: int, data: np.ndarray) -> None:
        """Samples ``[start, start + n)`` of one stream: EMG (n,) or (1, n) µV; ACC (3, n) g, or
        (1, n) from a one-axis accelerometer (always the same number of axes per site)."""
        kind = Kind(kind)
        data = np.asarray(data)
        if kind is Kind.EMG:
            if self._emg is None or self._emg_design is None:
                raise DetectorInputError(self.site, kind, "this site was set up without EMG")
            x = data.reshape(-1) if data.ndim == 2 and data.shape[0] == 1 else data
            if x.ndim != 1:
                raise DetectorInputError(
                    self.site, kind, f"expected (n,) samples, got {data.shape}"
                )
            gap_from = self._emg.check(start, x.size)
            if gap_from is not None:
                self._drain_emg()
                self._restart_emg(gap_from, start)
            if self._emg.hold(x):
                self._drain_emg()
        else:
            if self._acc is None or self._acc_design is None:
                raise DetectorInputError(
                    self.site, kind, "this site was set up without acceleration"
                )
            if data.ndim != 2 or data.shape[0] not in (1, 3):
                raise DetectorInputError(
                    self.site, kind, f"expected (3, n) or (1, n) samples, got {data.shape}"
                )
            gap_from = self._acc.check(start, data.shape[1])
            if gap_from is not None:
                self._drain_acc()
                self._restart_acc(gap_from, start)
            if self._acc.hold(data):
                self._drain_acc()

    def poll(self) -> Detections:
        """Detections decided since the last poll."""
        if self._moved:  # otherwise nothing became final (most polls of 50 ms chunks)
            self._moved = False
            self._judge(self._final_s())
        return self._hand_out()

    def finish(self) -> Detections:
        """End of the recording: decide everything; trailing unprocessed samples are a gap."""
        end_s = 0.0
        self._drain_emg()
        self._drain_acc()
        if self._emg is not None and self._emg_state is not None:
            self._close_emg(end=True)
            end_s = max(end_s, self._emg.end_s)
            self._exclude(self._emg_unseen_s(), self._emg.end_s, Reason.GAP, EVIDENCE_END)
        if self._acc is not None and self._acc_state is not None:
            self._close_acc()
            end_s = max(end_s, self._acc.end_s)
            if self._emg is None:
                self._exclude(self._acc_unseen_s(), end_s, Reason.GAP, EVIDENCE_END)
        self._judge(end_s, final=True)
        return self._hand_out()

    def _hand_out(self) -> Detections:
        out = self._new
        self._new = Detections(unit=out.unit, decided_until_s=self._judged_until_s)
        return out

    # --- EMG ---------------------------------------------------------------------------------

    def _drain_emg(self) -> None:
        """Process the EMG gathered so far (per-call costs make tiny batches slow)."""
        data = self._emg.take() if self._emg is not None else None
        if data is not None:
            self._run_emg(data)

    def _restart_emg(self, gap_from: int, start: int) -> None:
        assert self._emg is not None and self._emg_design is not None
        if self._emg_state is not None:
            self._close_emg()
            gap_start_s = self._emg_unseen_s()
        else:
            gap_start_s = gap_from / self._emg.fs
        warm_s = start / self._emg.fs + self.config.warmup_s
        evidence = EVIDENCE_START if gap_start_s * self._emg.fs >= start else EVIDENCE_GAP
        self._exclude(gap_start_s, warm_s, Reason.GAP, evidence)
        self._emg_state = emg.start_state(self._emg_design, start)
        self._moved = True

    def _emg_unseen_s(self) -> float:
        """Where analysed EMG ends: the peak finder's look-ahead and a partial frame are not."""
        assert self._emg_state is not None and self._emg_design is not None
        lag = self._emg_state.tail_y.size // 2
        return (self._emg_state.next_sample - lag) / self._emg_design.fs

    def _run_emg(self, x: np.ndarray) -> None:
        assert self._emg_state is not None and self._emg_design is not None
        assert self._activity is not None
        self._moved = True
        subframes, candidates = emg.process(self._emg_design, self._emg_state, x)
        episodes, cleared = self._activity.push(subframes, candidates, self._emg_unseen_s())
        self._take_emg(episodes, cleared)
        if subframes is not None:
            starts_s, sub_s = subframes.starts_s(), subframes.sub_s
            self._take_runs(
                self._emg_motion.push(starts_s, sub_s, subframes.motion), Reason.MOTION, Kind.EMG
            )
            self._take_runs(
                self._emg_artifact.push(starts_s, sub_s, subframes.artifact),
                Reason.ARTIFACT,
                Kind.EMG,
            )

    def _close_emg(self, end: bool = False) -> None:
        assert self._activity is not None
        episodes, cleared = self._activity.flush(end)
        self._take_emg(episodes, cleared)
        self._take_runs(self._emg_motion.flush(), Reason.MOTION, Kind.EMG)
        self._take_runs(self._emg_artifact.flush(), Reason.ARTIFACT, Kind.EMG)

    def _take_emg(self, episodes: list[Episode], cleared: emg.Candidates) -> None:
        assert self._emg_design is not None
        cramps, claims = episode_claims(episodes, self.config)
        self._new.cramps += cramps
        self._pending.claims += claims
        fit = cleared.take(cleared.shape_ok)
        self._pending.add_candidates(
            fit.peak / self._emg_design.fs - self._emg_design.delay_s, fit.p2p_uv, fit.duration_s
        )

    def _take_runs(self, runs: list[Run], reason: Reason, source: Kind) -> None:
        cfg = self.config
        min_s = motion_min_s(cfg, source, has_emg=self._emg is not None)
        if reason is Reason.ARTIFACT:
            claims = run_claims(runs, reason, cfg)
        elif source is Kind.ACC:
            claims = run_claims(
                runs, reason, cfg, motion_min_s=min_s, evidence=EVIDENCE_ACC_MOTION,
                explains=self._slight,
            )  # fmt: skip
        else:
            evidence = EVIDENCE_EMG_MOTION + (NO_ACC if self._acc is None else "")
            claims = run_claims(runs, reason, cfg, motion_min_s=min_s, evidence=evidence)
        self._pending.claims += claims

    def _slight(self, run: Run) -> bool:
        explains, self._acc_moving_t, self._acc_moving_g = slight(
            self._acc_moving_t, self._acc_moving_g, run, self.config.cramp_tilt_g
        )
        return explains

    # --- acceleration ----------------------------------------------------------------------------

    def _drain_acc(self) -> None:
        data = self._acc.take() if self._acc is not None else None
        if data is not None:
            self._run_acc(data)

    def _restart_acc(self, gap_from: int, start: int) -> None:
        assert self._acc is not None and self._acc_design is not None
        if self._acc_state is not None:
            self._close_acc()
        if self._emg is None:  # the accelerometer is the primary stream: its gaps are gaps
            from_s = gap_from / self._acc.fs
            if self._acc_state is not None:
                from_s = self._acc_unseen_s()
            evidence = EVIDENCE_START if from_s * self._acc.fs >= start else EVIDENCE_GAP
            self._exclude(from_s, start / self._acc.fs + self.config.warmup_s, Reason.GAP, evidence)
        self._acc_state = acc.start_state(self._acc_design, start)
        self._moved = True

    def _acc_unseen_s(self) -> float:
        """Where analysed acceleration ends: the peak finder's look-ahead is not."""
        assert self._acc_state is not None and self._acc is not None
        lag = self._acc_state.tail_mag.size // 2
        return (self._acc_state.next_sample - lag) / self._acc.fs

    def _run_acc(self, x: np.ndarray) -> None:
        assert self._acc_state is not None and self._acc_design is not None
        self._moved = True
        find_twitches = self._emg is None  # with EMG, acceleration only gates motion
        subframes, candidates = acc.process(self._acc_design, self._acc_state, x, find_twitches)
        if subframes is not None:
            starts_s = subframes.starts_s()
            moving = subframes.moving
            self._acc_moving_t = np.concatenate((self._acc_moving_t, starts_s[moving]))
            self._acc_moving_g = np.concatenate((self._acc_moving_g, subframes.rms_g[moving]))
            self._take_runs(
                self._acc_motion.push(starts_s, subframes.sub_s, moving),
                Reason.MOTION,
                Kind.ACC,
            )
        if self._emg is None and candidates.peak.size:
            t = candidates.peak / self._acc_design.fs
            self._pending.add_candidates(t, candidates.peak_g, np.full(t.size, np.nan))

    def _close_acc(self) -> None:
        self._take_runs(self._acc_motion.flush(), Reason.MOTION, Kind.ACC)

    # --- combining ----------------------------------------------------------------------------

    def _final_s(self) -> float:
        """Every stream's decisions are final before this time."""
        final = math.inf
        if self._emg is not None:
            if self._emg_state is None or self._activity is None:
                return 0.0
            final = min(final, self._activity.final_until_s, self._emg_unseen_s())
            final = min(final, *self._open_starts(self._emg_motion, self._emg_artifact))
        if self._acc is not None:
            if self._acc_state is None:  # nothing decided before both streams have started
                return 0.0
            final = min(final, self._acc_unseen_s(), *self._open_starts(self._acc_motion))
        return final - max(self.config.motion_pad_s, self.config.exclusion_pad_s)

    @staticmethod
    def _open_starts(*trackers: RunTracker) -> list[float]:
        return [t.open_start_s for t in trackers if t.open_start_s is not None] or [math.inf]

    def _judge(self, until_s: float, final: bool = False) -> None:
        """Judge everything decided before ``until_s`` (see judge.judge)."""
        if until_s <= self._judged_until_s and not final:
            return
        until_s = max(until_s, self._judged_until_s)
        self._pending = judge(self._pending, self._judged_until_s, until_s, final, self._new)
        self._judged_until_s = until_s

    def _exclude(
        self,
        start_s: float,
        end_s: float,
        reason: Reason | None,
        evidence: str = "",
        cramp_explains: bool = False,
    ) -> None:
        """A decided claim on ``[start_s, end_s)`` (None: a cramp's time, which is not rest)."""
        self._pending.claims.append(Claim(start_s, end_s, reason, evidence, cramp_explains))
