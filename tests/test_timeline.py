"""Frames -> sample axis: gaps counted to the sample, bad frames rejected, chunking irrelevant."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.drivers.base import FrameBatch, FrameFlag
from edge.drivers.diy import protocol as proto
from edge.stream import StreamInfo
from edge.timeline import StreamTimeline
from twitchwatch.contract import Kind, Reason

FS = 2000.0
INFO = StreamInfo("dev", "left_calf", Kind.EMG, ("emg",), FS)


def frame_rows(first_sample: int, n_frames: int, n: int = 10, seq0: int = 0, tick0: int = 0):
    """(seq, ticks, n, flags) of consecutive frames starting at a sensor sample index."""
    rows = []
    for k in range(n_frames):
        index = first_sample + k * n
        rows.append(
            (
                (seq0 + k) & 0xFFFF,
                (tick0 + int(proto.ticks_of_sample(index, FS))) % proto.TICK_WRAP,
                n,
                0,
            )
        )
    return rows


def batch(rows, values_from: int = 0) -> FrameBatch:
    n = np.array([r[2] for r in rows], dtype=np.int64)
    return FrameBatch(
        stream_id=0,
        seq=np.array([r[0] for r in rows], dtype=np.int64),
        sensor_ticks=np.array([r[1] for r in rows], dtype=np.int64),
        n_samples=n,
        flags=np.array([r[3] for r in rows], dtype=np.int64),
        host_ns=np.arange(len(rows), dtype=np.int64) * 5_000_000,
        samples=np.arange(values_from, values_from + n.sum(), dtype=np.float32)[None, :],
    )


def new_timeline() -> StreamTimeline:
    return StreamTimeline(INFO, float(proto.TICK_HZ), proto.TICK_WRAP)


def test_contiguous_frames_make_one_block() -> None:
    timeline = new_timeline()
    update = timeline.push(batch(frame_rows(500, 5)))
    assert [(b.start, b.stop) for b in update.blocks] == [(0, 50)]
    assert update.gaps == [] and timeline.stats.samples_received == 50


def test_missing_frames_become_an_exact_gap() -> None:
    rows = frame_rows(0, 10)
    del rows[3:6]
    timeline = new_timeline()
    update = timeline.push(batch(rows))
    assert update.gaps == [proto_span(30, 60)]
    assert timeline.stats.frames_lost == 3 and timeline.stats.samples_lost == 30
    assert [(b.start, b.stop) for b in update.blocks] == [(0, 30), (60, 100)]


def proto_span(start: int, stop: int):
    from edge.stream import Span

    return Span(start, stop, Reason.GAP)


def test_duplicates_and_late_frames_are_rejected_not_counted_twice() -> None:
    rows = frame_rows(0, 6)
    timeline = new_timeline()
    update = timeline.push(batch([*rows[:3], rows[2], rows[1], *rows[3:]]))
    assert timeline.stats.frames_rejected == 2
    assert [(b.start, b.stop) for b in update.blocks] == [(0, 60)]
    assert timeline.stats.samples_received == 60


def test_header_that_disagrees_with_the_sequence_is_rejected() -> None:
    rows = frame_rows(0, 4)
    seq, ticks, n, flags = rows[2]
    rows[2] = (
        seq,
        ticks + int(proto.ticks_of_sample(500, FS)),
        n,
        flags,
    )  # ticks jump, seq does not
    timeline = new_timeline()
    update = timeline.push(batch(rows))
    assert timeline.stats.frames_rejected == 1
    assert update.gaps == [proto_span(20, 30)]  # the bad frame's samples are a gap, never placed


def test_sensor_overflow_is_a_flagged_gap() -> None:
    rows = [*frame_rows(0, 3), (3, int(proto.ticks_of_sample(80, FS)), 10, FrameFlag.OVERFLOW)]
    timeline = new_timeline()
    update = timeline.push(batch(rows))
    assert update.gaps == [proto_span(30, 80)]
    assert timeline.stats.overflow_frames == 1 and timeline.stats.frames_lost == 0


def test_counters_wrap() -> None:
    start_tick = proto.TICK_WRAP - int(proto.ticks_of_sample(25, FS))
    rows = frame_rows(0, 8, seq0=0xFFFD, tick0=start_tick)
    timeline = new_timeline()
    update = timeline.push(batch(rows))
    assert [(b.start, b.stop) for b in update.blocks] == [(0, 80)]
    assert timeline.stats.frames_lost == 0 and timeline.stats.frames_rejected == 0


def test_reconnect_keeps_the_axis_and_reports_the_time_off_link() -> None:
    timeline = new_timeline()
    timeline.push(batch(frame_rows(0, 3)))
    timeline.mark_discontinuity()
    update = timeline.push(batch(frame_rows(1000, 2, seq0=0)))  # sequence restarted
    assert update.gaps == [proto_span(30, 1000)]
    assert [(b.start, b.stop) for b in update.blocks] == [(1000, 1020)]
    assert timeline.stats.frames_rejected == 0


def test_sensor_reboot_resyncs_from_host_time() -> None:
    timeline = new_timeline()
    timeline.push(batch(frame_rows(5000, 3)))
    timeline.mark_discontinuity()
    rows = frame_rows(0, 2)  # ticks restarted from zero
    update = timeline.push(batch(rows))
    assert timeline.stats.resyncs == 1
    assert update.blocks and update.blocks[0].start >= 30


@settings(max_examples=60, deadline=None)
@given(
    drops=st.lists(st.booleans(), min_size=30, max_size=30),
    cuts=st.lists(st.integers(1, 29), max_size=6),
)
def test_chunking_does_not_change_the_result(drops, cuts) -> None:
    rows = [
        r for r, dropped in zip(frame_rows(77, 30), drops, strict=True) if not dropped
    ] or frame_rows(77, 1)
    whole = new_timeline()
    reference = whole.push(batch(rows))
    chunked = new_timeline()
    blocks, gaps = [], []
    bounds = sorted({0, len(rows), *[c for c in cuts if c < len(rows)]})
    for a, b in itertools.pairwise(bounds):
        update = chunked.push(batch(rows[a:b]))
        blocks += update.blocks
        gaps += update.gaps
    assert gaps == reference.gaps
    covered = sorted((b.start, b.stop) for b in blocks)
    merged = []
    for start, stop in covered:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    assert merged == [(b.start, b.stop) for b in reference.blocks]
    assert chunked.stats == whole.stats
