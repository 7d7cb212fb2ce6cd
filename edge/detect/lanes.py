"""One stream of a site, from samples to decided evidence: its intake, front end and trackers.

A lane validates and batches its stream's samples, runs its front end (``emg.process`` with
``EmgActivity``, or ``acc.process``) over carried state, turns what became decided into claims
(``claims``), cramps and candidate twitches, and hands them to its ``Sink`` in order. It also
says up to when its decisions are final; the site detector judges past none of its lanes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import Kind, Reason

from . import acc, emg
from .activity import EmgActivity
from .claims import (
    EVIDENCE_ACC_MOTION,
    EVIDENCE_BRIDGED,
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
from .detections import Cramp
from .intake import StreamIntake
from .partition import Claim
from .runs import Run, RunTracker
from .trains import UnitTrains


@dataclass(frozen=True, slots=True)
class Sink:
    """Where a lane's decided evidence goes, in the order it is decided."""

    claims: Callable[[list[Claim]], None]
    cramps: Callable[[list[Cramp]], None]
    candidates: Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # t_s, amplitude, dur_s


def _open_starts(*trackers: RunTracker) -> list[float]:
    return [t.open_start_s for t in trackers if t.open_start_s is not None] or [math.inf]


def _gap_claim(from_s: float, start: int, fs: float, cfg: DetectorConfig) -> Claim:
    """No samples from ``from_s`` until sample ``start``, then the filters settle."""
    evidence = EVIDENCE_START if from_s * fs >= start else EVIDENCE_GAP
    return Claim(from_s, start / fs + cfg.warmup_s, Reason.GAP, evidence)


class _Lane:
    """What both lanes do with a block: a short hole is bridged, a longer gap restarts the lane,
    samples gather into batches; a lane that ``owns_gaps`` (the site's primary stream) claims
    the holes and gaps, and the recording's end."""

    intake: StreamIntake
    state: emg.EmgState | acc.AccState | None
    sink: Sink
    cfg: DetectorConfig
    owns_gaps: bool
    moved: bool

    def _accept(self, start: int, n: int, data: np.ndarray) -> None:
        if n == 0:  # says nothing: a hole before it shows at the next samples
            return
        gap_from = self.intake.check(start, n)
        if gap_from is not None and self._bridgeable(gap_from, start):
            data = np.concatenate((self.intake.bridge(gap_from, data), data), axis=-1)
            if self.owns_gaps:
                fs = self.intake.fs
                self.sink.claims([Claim(gap_from / fs, start / fs, Reason.GAP, EVIDENCE_BRIDGED)])
        elif gap_from is not None:
            self.drain()
            self.intake.forget()
            self._restart(gap_from, start)
        if self.intake.hold(data):
            self.drain()

    def _bridgeable(self, gap_from: int, start: int) -> bool:
        """A hole short enough to bridge, after samples since the lane (re)started."""
        short = (start - gap_from) / self.intake.fs <= self.cfg.bridge_max_s
        return short and self.intake.has_samples

    def drain(self) -> None:
        """Process the samples gathered so far (per-call costs make tiny batches slow)."""
        data = self.intake.take()
        if data is not None:
            self._run(data)

    def finish(self) -> float | None:
        """End of the stream: decide everything; where it ends (None: it never started)."""
        self.drain()
        if self.state is None:
            return None
        self._close(end=True)
        if self.owns_gaps:
            self.sink.claims([Claim(self.unseen_s(), self.intake.end_s, Reason.GAP, EVIDENCE_END)])
        return self.intake.end_s

    def unseen_s(self) -> float:
        """Where analysed samples end: the peak finder's look-ahead and a partial frame are not."""
        assert self.state is not None
        lag = self.state.tail.x.size // 2
        return (self.state.next_sample - lag) / self.intake.fs

    def _restart(self, gap_from: int, start: int) -> None:
        from_s = gap_from / self.intake.fs
        if self.state is not None:
            self._close()
            from_s = self.unseen_s()
        if self.owns_gaps:
            self.sink.claims([_gap_claim(from_s, start, self.intake.fs, self.cfg)])
        self.state = self._start_state(start)
        self.moved = True

    def _start_state(self, start: int) -> emg.EmgState | acc.AccState:
        raise NotImplementedError

    def _run(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def _close(self, end: bool = False) -> None:
        raise NotImplementedError


class EmgLane(_Lane):
    def __init__(
        self, site: str, fs: float, cfg: DetectorConfig, has_acc: bool, sink: Sink
    ) -> None:
        self.site, self.cfg, self.sink, self.has_acc = site, cfg, sink, has_acc
        self.owns_gaps = True
        self.design = EmgDesign.build(fs, cfg)
        self.intake = StreamIntake(site, Kind.EMG, fs, cfg.batch_s)
        self.state: emg.EmgState | None = None
        self.activity = EmgActivity(self.design)
        self.trains = UnitTrains(cfg, fs, self.design.template_n)
        self.motion = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self.artifact = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self.moved = False  # samples were processed since the site last judged

    def feed(self, start: int, data: np.ndarray) -> None:
        x = data.reshape(-1) if data.ndim == 2 and data.shape[0] == 1 else data
        if x.ndim != 1:
            raise DetectorInputError(
                self.site, Kind.EMG, f"expected (n,) samples, got {data.shape}"
            )
        self._accept(start, x.size, x)

    def final_s(self) -> float:
        """This lane's decisions are final before this time."""
        if self.state is None:
            return 0.0
        return min(
            self.activity.final_until_s,
            self.trains.final_s(),
            self.unseen_s(),
            *_open_starts(self.motion, self.artifact),
        )

    def _start_state(self, start: int) -> emg.EmgState:
        return emg.start_state(self.design, start)

    def _run(self, x: np.ndarray) -> None:
        assert self.state is not None
        self.moved = True
        subframes, candidates, self.state = emg.process(self.design, self.state, x)
        episodes, cleared = self.activity.push(subframes, candidates, self.unseen_s())
        self._take(episodes, *self.trains.push(cleared, self.activity.final_until_s))
        if subframes is not None:
            starts_s, sub_s = subframes.starts_s(), subframes.sub_s
            self._take_motion(self.motion.push(starts_s, sub_s, subframes.motion))
            self.sink.claims(
                run_claims(
                    self.artifact.push(starts_s, sub_s, subframes.artifact),
                    Reason.ARTIFACT,
                    self.cfg,
                )
            )

    def _close(self, end: bool = False) -> None:
        episodes, cleared = self.activity.flush(end)
        self._take(episodes, *self.trains.flush(cleared))
        self._take_motion(self.motion.flush())
        self.sink.claims(run_claims(self.artifact.flush(), Reason.ARTIFACT, self.cfg))

    def _take(self, episodes, cleared: emg.Candidates, trains: list[Claim]) -> None:
        cramps, claims = episode_claims(episodes, self.cfg)
        self.sink.cramps(cramps)
        self.sink.claims(claims + trains)
        fit = cleared.take(cleared.shape_ok)
        self.sink.candidates(
            fit.peak / self.design.fs - self.design.delay_s, fit.p2p_uv, fit.duration_s
        )

    def _take_motion(self, runs: list[Run]) -> None:
        evidence = EVIDENCE_EMG_MOTION + ("" if self.has_acc else NO_ACC)
        min_s = motion_min_s(self.cfg, Kind.EMG, has_emg=True)
        self.sink.claims(
            run_claims(runs, Reason.MOTION, self.cfg, motion_min_s=min_s, evidence=evidence)
        )


class AccLane(_Lane):
    """Acceleration: motion evidence; with no EMG at the site (``primary``) also its twitches
    and its gaps."""

    def __init__(
        self, site: str, fs: float, cfg: DetectorConfig, primary: bool, sink: Sink
    ) -> None:
        self.site, self.cfg, self.sink, self.primary = site, cfg, sink, primary
        self.owns_gaps = primary  # with no EMG, the accelerometer's gaps are the site's
        self.design = AccDesign.build(fs, cfg)
        self.intake = StreamIntake(site, Kind.ACC, fs, cfg.batch_s)
        self.state: acc.AccState | None = None
        self.motion = RunTracker(cfg.isolation_s, cfg.max_episode_s)
        self.moving_t = np.zeros(0)  # moving subframes not yet in a decided run
        self.moving_g = np.zeros(0)
        self.moved = False

    def feed(self, start: int, data: np.ndarray) -> None:
        if data.ndim != 2 or data.shape[0] not in (1, 3):
            raise DetectorInputError(
                self.site, Kind.ACC, f"expected (3, n) or (1, n) samples, got {data.shape}"
            )
        self._accept(start, data.shape[1], data)

    def final_s(self) -> float:
        if self.state is None:  # nothing decided before both streams have started
            return 0.0
        return min(self.unseen_s(), *_open_starts(self.motion))

    def _start_state(self, start: int) -> acc.AccState:
        return acc.start_state(self.design, start)

    def _run(self, x: np.ndarray) -> None:
        assert self.state is not None
        self.moved = True
        subframes, candidates, self.state = acc.process(self.design, self.state, x, self.primary)
        if subframes is not None:
            starts_s = subframes.starts_s()
            moving = subframes.moving
            self.moving_t = np.concatenate((self.moving_t, starts_s[moving]))
            self.moving_g = np.concatenate((self.moving_g, subframes.rms_g[moving]))
            self._take_motion(self.motion.push(starts_s, subframes.sub_s, moving))
        if self.primary and candidates.peak.size:
            t = candidates.peak / self.design.fs
            self.sink.candidates(t, candidates.peak_g, np.full(t.size, np.nan))

    def _close(self, end: bool = False) -> None:
        self._take_motion(self.motion.flush())

    def _take_motion(self, runs: list[Run]) -> None:
        min_s = motion_min_s(self.cfg, Kind.ACC, has_emg=not self.primary)
        self.sink.claims(
            run_claims(
                runs, Reason.MOTION, self.cfg, motion_min_s=min_s,
                evidence=EVIDENCE_ACC_MOTION, explains=self._slight,
            )
        )  # fmt: skip

    def _slight(self, run: Run) -> bool:
        explains, self.moving_t, self.moving_g = slight(
            self.moving_t, self.moving_g, run, self.cfg.cramp_tilt_g
        )
        return explains
