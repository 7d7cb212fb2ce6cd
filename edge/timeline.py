"""Frames -> sample-indexed blocks, with every lost sample counted and marked as a gap.

Each stream has a sample index that starts at 0 with its first frame. A frame's position comes
from its sensor ticks (exact: ticks are latched per sample on the sensor clock); the sequence
number tells how many frames went missing. Missing samples become ``gap`` spans: never filled,
never interpolated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from edge.clock import ClockFit
from edge.drivers.base import FrameBatch, FrameFlag
from edge.stream import Block, Span, StreamInfo
from twitchwatch.contract import Reason

SEQ_WRAP = 1 << 16
logger = logging.getLogger(__name__)


@dataclass
class TimelineStats:
    """Counters of one stream; each lost or rejected item is counted exactly once per counter."""

    frames_received: int = 0  # accepted frames
    samples_received: int = 0
    frames_lost: int = 0  # missing from the sequence numbers (never arrived, or arrived corrupt)
    samples_lost: int = 0  # inside gap spans
    frames_rejected: int = 0  # arrived but unusable: duplicate, out of order, inconsistent header
    overflow_frames: int = 0  # the sensor flagged a ring-buffer overflow before this frame
    clipped_frames: int = 0
    lead_off_frames: int = 0
    gaps: int = 0
    resyncs: int = 0  # sensor clock restarted (reboot, re-sync): gap size estimated from host time


@dataclass(frozen=True, slots=True)
class TimelineUpdate:
    blocks: list[Block]
    gaps: list[Span]


@dataclass
class _Cursor:
    """Where the last accepted frame left the stream."""

    ticks_wrapped: int
    ticks_unwrapped: int
    seq: int | None
    next_index: int  # index of the sample expected next
    host_ns: int


@dataclass
class StreamTimeline:
    """Carries one stream's position across batches and reconnects."""

    info: StreamInfo
    tick_hz: float
    tick_wrap: int
    stats: TimelineStats = field(default_factory=TimelineStats)
    clock: ClockFit = field(default_factory=ClockFit)
    _origin_ticks: int = 0  # unwrapped ticks of sample index ``_origin_index``
    _origin_index: int = 0
    _cursor: _Cursor | None = None
    _discontinuity: bool = False
    _emitted_stop: int = 0  # end of the last block or gap handed out

    def mark_discontinuity(self) -> None:
        """The link was lost: the next frame's sequence number starts afresh."""
        self._discontinuity = True

    def push(self, batch: FrameBatch) -> TimelineUpdate:
        """Place a batch of frames (arrival order) on the stream's sample axis."""
        if batch.n_frames == 0:
            return TimelineUpdate([], [])
        if self._cursor is None:
            self._start(batch)
        starts = self._fast_starts(batch)
        if starts is None:
            accepted, starts = self._careful_starts(batch)
        else:
            accepted = np.ones(batch.n_frames, dtype=bool)
            self._count_seq(batch.seq, accepted)
        return self._emit(batch, accepted, starts)

    # -- internals ---------------------------------------------------------------------------

    def _start(self, batch: FrameBatch) -> None:
        # A virtual frame just before the first one, so the first frame is an ordinary step.
        ticks = int(batch.sensor_ticks[0])
        self._origin_ticks, self._origin_index = ticks, 0
        seq = None if batch.seq is None else (int(batch.seq[0]) - 1) % SEQ_WRAP
        before = (ticks - 1) % self.tick_wrap
        self._cursor = _Cursor(before, ticks - 1, seq, 0, int(batch.host_ns[0]))

    def _signed(self, delta: np.ndarray) -> np.ndarray:
        half = self.tick_wrap // 2
        return (delta + half) % self.tick_wrap - half

    def _index_of(self, unwrapped: np.ndarray) -> np.ndarray:
        return self._origin_index + np.rint(
            (unwrapped - self._origin_ticks) * (self.info.fs / self.tick_hz)
        ).astype(np.int64)

    def _fast_starts(self, batch: FrameBatch) -> np.ndarray | None:
        """Start index of every frame when the whole batch is in order and consistent, else None."""
        cursor = self._cursor
        assert cursor is not None
        if self._discontinuity or np.any(batch.flags & FrameFlag.TIME_RESYNC):
            return None
        ticks = batch.sensor_ticks
        deltas = self._signed(np.diff(ticks, prepend=cursor.ticks_wrapped))
        if np.any(deltas <= 0):
            return None
        starts = self._index_of(cursor.ticks_unwrapped + np.cumsum(deltas))
        expected = np.concatenate(([cursor.next_index], starts[:-1] + batch.n_samples[:-1]))
        gaps = starts - expected
        if np.any(gaps < 0):
            return None
        if batch.seq is not None and cursor.seq is not None:
            seq_steps = np.diff(batch.seq, prepend=cursor.seq) % SEQ_WRAP
            silent_loss = (seq_steps == 1) & (gaps > 0) & ((batch.flags & FrameFlag.OVERFLOW) == 0)
            if np.any(seq_steps == 0) or np.any(silent_loss):
                return None
        cursor.ticks_unwrapped += int(deltas.sum())
        cursor.ticks_wrapped = int(ticks[-1])
        cursor.next_index = int(starts[-1] + batch.n_samples[-1])
        cursor.host_ns = int(batch.host_ns[-1])
        return starts

    def _count_seq(self, seq: np.ndarray | None, accepted: np.ndarray) -> None:
        cursor = self._cursor
        assert cursor is not None
        if seq is None:
            return
        kept = seq[accepted]
        if len(kept) == 0:
            return
        if cursor.seq is not None:
            steps = np.diff(kept, prepend=cursor.seq) % SEQ_WRAP
            self.stats.frames_lost += int(np.maximum(steps - 1, 0).sum())
        else:
            steps = np.diff(kept) % SEQ_WRAP
            self.stats.frames_lost += int(np.maximum(steps - 1, 0).sum())
        cursor.seq = int(kept[-1])

    def _careful_starts(self, batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
        """Frame-by-frame path for batches with duplicates, reordering, corruption or resyncs.

        Loops over frames (never samples); taken only for the rare batches the fast path refuses.
        """
        cursor = self._cursor
        assert cursor is not None
        k = batch.n_frames
        accepted = np.zeros(k, dtype=bool)
        starts = np.zeros(k, dtype=np.int64)
        for i in range(k):
            ticks = int(batch.sensor_ticks[i])
            n = int(batch.n_samples[i])
            flags = int(batch.flags[i])
            seq = None if batch.seq is None else int(batch.seq[i])
            delta = int(self._signed(np.int64(ticks - cursor.ticks_wrapped)))
            resync = bool(flags & FrameFlag.TIME_RESYNC) or (self._discontinuity and delta <= 0)
            if resync:
                # The sensor clock restarted: ticks say nothing about the gap. Estimate it from
                # host arrival times and re-anchor the tick origin there.
                elapsed_s = (int(batch.host_ns[i]) - cursor.host_ns) / 1e9
                start = cursor.next_index + max(0, round(elapsed_s * self.info.fs) - n)
                self._origin_ticks, self._origin_index = ticks, start
                cursor.ticks_unwrapped = ticks
                self.clock = ClockFit()  # the old sensor time axis no longer applies
                self.stats.resyncs += 1
            else:
                if delta <= 0:
                    self.stats.frames_rejected += 1  # duplicate or out of order
                    logger.info(
                        "%s %s: frame %s rejected: not after the previous one",
                        self.info.device,
                        self.info.kind,
                        seq,
                    )
                    continue
                start = int(self._index_of(np.int64(cursor.ticks_unwrapped + delta)))
                gap = start - cursor.next_index
                seq_step = None
                if seq is not None and cursor.seq is not None and not self._discontinuity:
                    seq_step = (seq - cursor.seq) % SEQ_WRAP
                silent_loss = seq_step == 1 and gap > 0 and not flags & FrameFlag.OVERFLOW
                if gap < 0 or seq_step == 0 or silent_loss:
                    self.stats.frames_rejected += 1  # overlaps, repeats, or header disagrees
                    logger.info(
                        "%s %s: frame %s rejected: starts at sample %d, expected %d, sequence step %s",
                        self.info.device,
                        self.info.kind,
                        seq,
                        start,
                        cursor.next_index,
                        seq_step,
                    )
                    continue
                cursor.ticks_unwrapped += delta
            if seq is not None and cursor.seq is not None and not self._discontinuity:
                self.stats.frames_lost += max((seq - cursor.seq) % SEQ_WRAP - 1, 0)
            self._discontinuity = False
            cursor.seq = seq
            cursor.ticks_wrapped = ticks
            cursor.next_index = start + n
            cursor.host_ns = int(batch.host_ns[i])
            accepted[i] = True
            starts[i] = start
        return accepted, starts

    def _emit(self, batch: FrameBatch, accepted: np.ndarray, starts: np.ndarray) -> TimelineUpdate:
        n = batch.n_samples[accepted]
        starts = starts[accepted]
        flags = batch.flags[accepted]
        if len(n) == 0:
            return TimelineUpdate([], [])
        samples = (
            batch.samples
            if accepted.all()
            else batch.samples[:, np.repeat(accepted, batch.n_samples)]
        )
        stops = starts + n
        previous_stop = np.concatenate(([self._emitted_stop], stops[:-1]))
        gap_at = np.flatnonzero(starts > previous_stop)
        gaps = [Span(int(previous_stop[i]), int(starts[i]), Reason.GAP) for i in gap_at]
        # Blocks: runs of frames without a gap between them.
        run_first = np.concatenate(([0], gap_at[gap_at > 0])) if len(gap_at) else np.array([0])
        run_first = np.unique(run_first)
        run_last = np.concatenate((run_first[1:], [len(n)]))
        offsets = np.concatenate(([0], np.cumsum(n)))
        blocks = [
            Block(self.info, int(starts[a]), samples[:, offsets[a] : offsets[b]])
            for a, b in zip(run_first, run_last, strict=True)
        ]
        self._emitted_stop = int(stops[-1])
        self._observe_clock(starts, n, batch.host_ns[accepted])
        stats = self.stats
        stats.frames_received += len(n)
        stats.samples_received += int(n.sum())
        stats.samples_lost += sum(g.n_samples for g in gaps)
        stats.gaps += len(gaps)
        stats.overflow_frames += int(np.count_nonzero(flags & FrameFlag.OVERFLOW))
        stats.clipped_frames += int(np.count_nonzero(flags & FrameFlag.CLIPPED))
        stats.lead_off_frames += int(np.count_nonzero(flags & FrameFlag.LEAD_OFF))
        return TimelineUpdate(blocks, gaps)

    def _observe_clock(self, starts: np.ndarray, n: np.ndarray, host_ns: np.ndarray) -> None:
        last_sample = starts + n - 1
        sensor_ticks = self._origin_ticks + (last_sample - self._origin_index) * (
            self.tick_hz / self.info.fs
        )
        self.clock.add(sensor_ticks / self.tick_hz, host_ns / 1e9)
