"""EDF+ recording of a sensor's raw streams, events and gaps as annotations: EDFbrowser opens it.

Signals follow DESIGN.md "EDF+ conventions": ``EMG <site>`` in uV and ``ACC X|Y|Z <site>`` in g,
16 bit. A label longer than EDF's 16 characters first shortens ``left_``/``right_`` to
``l_``/``r_``, then writes ``ACCX`` for ``ACC X`` (only ``ACC X r_upper_arm`` of the taxonomy
needs that); :mod:`edge.edf_read` accepts both spellings.

Samples never received are written as 0 and annotated ``gap <KIND> <site>`` (onset, duration);
nothing is interpolated. Streams are buffered until every signal has a full data record, so
memory is bounded by ``MAX_LAG_S`` of data: a stream that falls further behind the others (it
stopped) is written as a gap there, and samples that arrive for time already written are dropped
and counted.

What EDFlib (under pyedflib 0.1.42) does that shapes this module:

- ``writeAnnotation`` takes seconds (stored in units of 100 µs), but each data record has room for
  one annotation per annotation signal; EDFlib silently drops the rest at close. The recorder
  reserves ``ANNOTATIONS_PER_S`` and, if a short recording holds more, appends gap records.
- Annotation texts are cut at 40 characters (``MAX_ANNOTATION_CHARS``), and onsets are written
  relative to the start's sub-second cut to 100 µs, so the start time is put on that grid.
- ``setStartdatetime`` scales microseconds by 100 instead of 10, so EDFlib rejects any sub-second
  start time; the sub-second is set here directly.
- pyedflib picks its own data-record duration (up to 60 s) unless one is forced, and warns when
  forced; the duration is chosen here (:func:`record_duration_s`).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import numpy as np
import pyedflib

from edge.edf.labels import MAX_ANNOTATION_CHARS, gap_text, stream_labels
from edge.errors import RecorderError
from edge.stream import Block, Span, StreamInfo
from twitchwatch.contract import INTERNAL_UNIT, Kind, Reason

#: Physical range of each kind, ± this, in the internal unit, over digital ±32767: symmetric, so
#: that a gap's digital 0 reads back as exactly 0 (with -32768..32767 it reads as half a step).
#: EMG: 32767 x 0.2 uV, the DIY sensor's int16 LSB (firmware_sim/diy/firmware.py EMG_SCALE_UV, which
#: edge may not import), so its samples are stored without requantisation. ACC: the usual ±4 g
#: MEMS range. The header holds 8 characters: both are short decimals, so that the gain EDF
#: readers compute from the header is the one used here.
DEFAULT_FULL_SCALE: dict[Kind, float] = {Kind.EMG: 6553.4, Kind.ACC: 4.0}
DIGITAL_MIN, DIGITAL_MAX = -32767, 32767
#: Annotation room reserved per second of recording: twitches come at tens per minute at most.
ANNOTATIONS_PER_S = 4.0
#: Longest data record; beyond it a sample rate is refused rather than written approximately.
MAX_RECORD_S = 10.0
#: How far one stream may run ahead of another before the laggard is written as a gap there.
#: Streams of one sensor share a link, so a longer lag means a stream stopped.
MAX_LAG_S = 10.0


@dataclass(slots=True)
class StreamCounts:
    """What happened to one stream's samples: each received sample is written or dropped."""

    written: int = 0  # received and written
    dropped: int = 0  # received, not written: before the file start or for time already written
    gap: int = 0  # samples of time with nothing received: written as 0 inside a ``gap`` annotation
    clipped: int = 0  # of ``written``: outside ± full scale (written at the rail) or not finite (0)


@dataclass
class _Stream:
    info: StreamInfo
    labels: tuple[str, ...]
    gap_text: str
    spr: int  # samples per data record
    full_scale: float
    offset: int  # file sample index of the stream's sample 0 (from info.t0_utc)
    counts: StreamCounts
    pending: list[np.ndarray]  # int16 (n_channels, k) not yet in a data record
    n_pending: int = 0
    cursor: int = 0  # file sample index of the next sample to append
    gap_start: int | None = None  # file sample index where the open gap began

    def append(self, digital: np.ndarray) -> None:
        self.pending.append(digital)
        self.n_pending += digital.shape[1]
        self.cursor += digital.shape[1]

    def take(self, n: int) -> np.ndarray:
        joined = np.concatenate(self.pending, axis=1)
        self.pending = [joined[:, n:]] if joined.shape[1] > n else []
        self.n_pending -= n
        return joined[:, :n]


class EdfRecorder:
    """Writes one sensor's streams to an EDF+ file as blocks arrive; close (or ``with``) to finish.

    Blocks may arrive in any order across streams; within a stream they are contiguous except
    where samples were lost (:meth:`mark_gap`, or a block starting later than expected).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        streams: Sequence[StreamInfo],
        start_utc: datetime,
        *,
        device: str = "",
        equipment: str = "TwitchWatch",
        full_scale: Mapping[Kind, float] | None = None,
        dimension: Mapping[Kind, str] | None = None,
    ) -> None:
        """``full_scale`` and ``dimension`` (the physical unit written in the header) default to
        the internal units; a caller passing another dimension passes blocks in that unit."""
        self.path = Path(path)
        if not streams:
            raise RecorderError(self.path, "no streams to record")
        if start_utc.utcoffset() is None:
            raise RecorderError(self.path, f"start_utc must be timezone-aware, got {start_utc}")
        # EDFlib adds the start's sub-second to annotation onsets cut to 100 µs; a start on that
        # grid keeps onsets exact. Sample times move by < 100 µs, well under a sample.
        start_utc = start_utc.astimezone(UTC)
        self.start_utc = start_utc.replace(microsecond=start_utc.microsecond // 100 * 100)
        if not 1985 <= self.start_utc.year <= 2084:  # the EDF date field's range
            raise RecorderError(self.path, f"start {self.start_utc:%Y-%m-%d} is outside 1985-2084")
        scales = {**DEFAULT_FULL_SCALE, **(full_scale or {})}
        self._dimension = {**INTERNAL_UNIT, **(dimension or {})}
        record_s = record_duration_s([info.fs for info in streams])
        if record_s is None:
            rates = ", ".join(f"{info.fs:g}" for info in streams)
            raise RecorderError(
                self.path,
                f"no data record of <= {MAX_RECORD_S:g} s holds whole samples at {rates} Hz",
            )
        self.record_s: float = record_s
        self._streams: dict[tuple[str, Kind], _Stream] = {}
        for info in streams:
            if (info.site, info.kind) in self._streams:
                raise RecorderError(self.path, f"two {info.kind.value} streams for {info.site}")
            self._streams[info.site, info.kind] = self._new_stream(info, scales[info.kind])
        self._n_records = 0
        self._n_annotations = 0
        self._closed = False
        self._n_annotation_signals = min(64, max(1, math.ceil(ANNOTATIONS_PER_S * self.record_s)))
        self._writer = self._open(device, equipment)

    def __enter__(self) -> EdfRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def counts(self) -> dict[tuple[str, Kind], StreamCounts]:
        """Per (site, kind): samples written, dropped, written as gap, clipped (copies)."""
        return {key: replace(stream.counts) for key, stream in self._streams.items()}

    def write(self, block: Block) -> None:
        """Append a block; a jump past the next expected sample is written as a gap."""
        stream = self._stream(block.info)
        start = block.start + stream.offset
        if start > stream.cursor:
            self._fill_gap(stream, start - stream.cursor)
        skip = min(block.n_samples, stream.cursor - start)
        stream.counts.dropped += skip
        data = block.data[:, skip:]
        if data.shape[1] == 0:
            return
        digital, n_clipped = _to_digital(data, stream.full_scale)
        stream.counts.clipped += n_clipped
        stream.counts.written += digital.shape[1]
        self._close_gap(stream)
        stream.append(digital)
        self._flush()

    def mark_gap(self, info: StreamInfo, span: Span) -> None:
        """Samples ``span`` of a stream were never received: write them as 0 inside a gap."""
        if span.reason != Reason.GAP:
            raise RecorderError(self.path, f"mark_gap takes gap spans, got {span.reason.value}")
        stream = self._stream(info)
        stop = span.stop + stream.offset
        if stop > stream.cursor:  # what precedes the cursor is already written (data or gap)
            self._fill_gap(stream, stop - stream.cursor)

    def annotate(self, onset_s: float, duration_s: float, text: str) -> None:
        """Add an annotation, seconds from the file start; text is cut at 40 characters."""
        if self._closed:
            raise RecorderError(self.path, "recorder is closed")
        if not (onset_s >= 0 and duration_s >= 0 and math.isfinite(onset_s + duration_s)):
            raise RecorderError(self.path, f"annotation at {onset_s} s for {duration_s} s")
        self._writer.writeAnnotation(onset_s, duration_s, text[:MAX_ANNOTATION_CHARS])
        self._n_annotations += 1

    def close(self) -> None:
        """Write what is buffered, pad the last data record with a gap, annotate, close the file."""
        if self._closed:
            return
        try:
            self._flush()
            streams = list(self._streams.values())
            n_records = max(1, *(math.ceil(s.cursor / s.spr) for s in streams))
            while True:
                for stream in streams:
                    self._fill_gap(stream, n_records * stream.spr - stream.cursor)
                open_gaps = sum(stream.gap_start is not None for stream in streams)
                room = n_records * self._n_annotation_signals
                if self._n_annotations + open_gaps <= room:
                    break
                n_records += 1  # EDFlib would drop the annotations that do not fit
            for stream in streams:
                self._close_gap(stream)
        finally:
            self._closed = True
            self._writer.close()

    def _new_stream(self, info: StreamInfo, full_scale: float) -> _Stream:
        if not (full_scale > 0 and len(f"{-full_scale:g}") <= 8):
            raise RecorderError(self.path, f"full scale {full_scale!r} does not fit the EDF header")
        offset = 0
        if info.t0_utc is not None:
            offset = round((info.t0_utc - self.start_utc).total_seconds() * info.fs)
        return _Stream(
            info=info,
            labels=stream_labels(self.path, info),
            gap_text=gap_text(info),
            spr=round(info.fs * self.record_s),
            full_scale=full_scale,
            offset=offset,
            counts=StreamCounts(),
            pending=[],
        )

    def _open(self, device: str, equipment: str) -> pyedflib.EdfWriter:
        streams = list(self._streams.values())
        n_signals = sum(len(s.labels) for s in streams)
        try:
            writer = pyedflib.EdfWriter(str(self.path), n_signals, pyedflib.FILETYPE_EDFPLUS)
        except OSError as exc:
            raise RecorderError(self.path, f"cannot create: {exc}") from exc
        signal = 0
        for stream in streams:
            transducer = "surface EMG" if stream.info.kind == Kind.EMG else "accelerometer"
            for label in stream.labels:
                writer.channels[signal].update(
                    label=label,
                    dimension=self._dimension[stream.info.kind],
                    sample_frequency=stream.info.fs,
                    physical_max=stream.full_scale,
                    physical_min=-stream.full_scale,
                    digital_max=DIGITAL_MAX,
                    digital_min=DIGITAL_MIN,
                    transducer=transducer,
                )
                signal += 1
        # EDF+ recording subfields are space-separated: keep ours free of spaces.
        writer.equipment = _ascii_field(equipment)
        writer.recording_additional = _ascii_field(f"device={device};clock=UTC")
        writer.number_of_annotations = self._n_annotation_signals
        writer.recording_start_time = self.start_utc.replace(tzinfo=None, microsecond=0)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Forcing a specific record_duration")
            writer.setDatarecordDuration(self.record_s)  # also writes the rest of the header
        # In units of 100 ns; pyedflib's own conversion is off by 10 (module docstring).
        if pyedflib.set_starttime_subsecond(writer.handle, self.start_utc.microsecond * 10) != 0:
            writer.close()
            raise RecorderError(self.path, "EDFlib refused the start time's sub-second")
        return writer

    def _stream(self, info: StreamInfo) -> _Stream:
        if self._closed:
            raise RecorderError(self.path, "recorder is closed")
        stream = self._streams.get((info.site, info.kind))
        if stream is None or stream.info.fs != info.fs:
            known = ", ".join(
                f"{s.info.kind.value} {s.info.site} {s.info.fs:g} Hz"
                for s in self._streams.values()
            )
            raise RecorderError(
                self.path,
                f"no {info.kind.value} stream {info.site} at {info.fs:g} Hz here ({known})",
            )
        return stream

    def _fill_gap(self, stream: _Stream, n: int) -> None:
        # In pieces of at most MAX_LAG_S, flushing in between, so a long gap needs no more memory.
        piece = max(1, round(MAX_LAG_S * stream.info.fs))
        while n > 0:
            k = min(n, piece)
            if stream.gap_start is None:
                stream.gap_start = stream.cursor
            stream.append(np.zeros((stream.info.n_channels, k), dtype=np.int16))
            stream.counts.gap += k
            n -= k
            self._flush()

    def _close_gap(self, stream: _Stream) -> None:
        if stream.gap_start is None:
            return
        fs = stream.info.fs
        onset_s, duration_s = stream.gap_start / fs, (stream.cursor - stream.gap_start) / fs
        self._writer.writeAnnotation(onset_s, duration_s, stream.gap_text)
        self._n_annotations += 1
        stream.gap_start = None

    def _flush(self) -> None:
        """Write every data record all streams have; a stream MAX_LAG_S behind becomes a gap."""
        streams = list(self._streams.values())
        full = [s.n_pending // s.spr for s in streams]
        lag_records = max(1, math.ceil(MAX_LAG_S / self.record_s))
        if max(full) > lag_records:
            target = max(full) - lag_records
            for stream, n_full in zip(streams, full, strict=True):
                if n_full < target:
                    if stream.gap_start is None:
                        stream.gap_start = stream.cursor
                    k = target * stream.spr - stream.n_pending
                    stream.append(np.zeros((stream.info.n_channels, k), dtype=np.int16))
                    stream.counts.gap += k
        n = min(s.n_pending // s.spr for s in streams)
        if n == 0:
            return
        # (n, record size) int16: each row is one data record, signals in header order.
        records = np.concatenate(
            [
                s.take(n * s.spr)
                .reshape(s.info.n_channels, n, s.spr)
                .transpose(1, 0, 2)
                .reshape(n, -1)
                for s in streams
            ],
            axis=1,
        )
        for record in np.ascontiguousarray(records, dtype=np.int16):
            if self._writer.blockWriteDigitalShortSamples(record) != 0:
                raise RecorderError(
                    self.path, f"EDFlib failed to write data record {self._n_records}"
                )
            self._n_records += 1


def record_duration_s(rates_hz: Sequence[float]) -> float | None:
    """Data-record duration that holds a whole number of samples of every rate, or None.

    1 s when every rate is a whole number of Hz (what EDF readers expect), else the shortest
    multiple of 1 ms up to ``MAX_RECORD_S`` (97.65625 Hz -> 0.256 s).
    """
    rates = np.asarray(rates_hz, dtype=np.float64)
    candidates_s = np.concatenate([[1.0], np.arange(1, round(MAX_RECORD_S * 1000) + 1) / 1000])
    samples = candidates_s[:, None] * rates[None, :]  # (candidates, rates)
    whole = np.all((np.abs(samples - np.round(samples)) < 1e-6) & (np.round(samples) >= 1), axis=1)
    return float(candidates_s[np.argmax(whole)]) if whole.any() else None


def _to_digital(data: np.ndarray, full_scale: float) -> tuple[np.ndarray, int]:
    """Physical values to EDF digital values, rounded to the nearest step.

    Parameters
    ----------
    data : np.ndarray
        ``(n_channels, n)`` samples in the internal unit (µV or g).
    full_scale : float
        The physical range is ``[-full_scale, full_scale]``, same unit as ``data``.

    Returns
    -------
    digital : np.ndarray
        ``(n_channels, n)`` int16; out-of-range values at the rail, non-finite ones 0.
    n_clipped : int
        How many samples were out of range or not finite.
    """
    step = 2 * full_scale / (DIGITAL_MAX - DIGITAL_MIN)
    digital = np.rint((np.asarray(data, dtype=np.float64) + full_scale) / step) + DIGITAL_MIN
    finite = np.isfinite(digital)
    n_clipped = int(np.count_nonzero(~finite | (digital < DIGITAL_MIN) | (digital > DIGITAL_MAX)))
    digital = np.clip(np.where(finite, digital, 0.0), DIGITAL_MIN, DIGITAL_MAX)
    return digital.astype(np.int16), n_clipped


def _ascii_field(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace(" ", "_")
