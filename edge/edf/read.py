"""EDF/EDF+/BDF/BDF+ reading for ``twitchwatch analyze``: labelled EMG and ACC, streamed in chunks.

Conventions (DESIGN.md, "EDF+ conventions"): EMG is ``EMG <site>`` in uV, mV or V; acceleration is
``ACC X <site>``, ``ACC Y <site>``, ``ACC Z <site>`` in g, mg or m/s2. Labels are matched tolerant
of case and spacing (``emg  Left_Calf``, ``ACCX r_upper_arm``); the site goes through
:func:`normalize_site`, so ``l_``/``r_`` expand and sites outside the taxonomy are kept. Other
signals (ECG, unknown labels) are ignored. Samples leave in the internal unit of their kind (EMG
µV, ACC g) and the declared unit is kept for provenance.

What EDFlib (under pyedflib 0.1.42) does that shapes this module:

- It refuses EDF+D/BDF+D (discontinuous) files outright, so record timestamps cannot be read
  through it; such files get a :class:`RecordingError` that says how to convert them. Gaps in the
  files TwitchWatch writes are zeros plus ``gap`` annotations, which :meth:`Recording.gaps` reads.
- It reports a truncated or non-EDF file as "no such file or directory", so the header is
  checked here first and the problem named from it.
- ``getStartdatetime`` divides the sub-second field (units of 100 ns) by 100 instead of 10; the
  start time is computed here from the raw fields.
- ``readSignal`` past the end zero-fills and prints to stdout; chunks never read past the end.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import numpy as np
import pyedflib

from edge.edf.header import non_ascii_field, sniff
from edge.edf.labels import ACC_AXES, LABEL, signal_name
from edge.errors import RecordingError
from edge.units import UnitError, to_internal_factor
from twitchwatch.contract import INTERNAL_UNIT, Kind, Reason, SiteError, normalize_site

_FILE_TYPES = {
    pyedflib.FILETYPE_EDF: "EDF",
    pyedflib.FILETYPE_EDFPLUS: "EDF+",
    pyedflib.FILETYPE_BDF: "BDF",
    pyedflib.FILETYPE_BDFPLUS: "BDF+",
}


#: The largest physical range a channel may declare, in the internal unit of its kind: a
#: surface-EMG amplifier's input spans millivolts (10 V is far beyond any), an accelerometer's a
#: few g (1000 g is a shock sensor's). Beyond it the scaling is a header error.
MAX_REACH = {Kind.EMG: 1e7, Kind.ACC: 1000.0}


@dataclass(frozen=True, slots=True)
class SiteSignals:
    """What one site has in the file; units are as the file declares them (provenance)."""

    site: str
    emg_fs: float | None  # Hz, None when the site has no EMG
    acc_fs: float | None  # Hz, None when the site has no accelerometer
    emg_unit: str | None
    acc_unit: str | None  # "mg", or "g/mg/g" when the axes differ


@dataclass(frozen=True, slots=True)
class _Stream:
    """One (site, kind) of the file: the EDF signals behind it and how to scale them."""

    site: str
    kind: Kind
    signals: tuple[int, ...]  # EDF signal numbers: (emg,) or (x, y, z)
    factors: tuple[float, ...]  # per signal, declared unit -> internal unit
    fs: float
    n_samples: int


class Recording:
    """An open EDF/BDF file. Use :func:`open_recording`; close it or use it as a context manager.

    Only the header and annotations are read on open; samples are read chunk by chunk, so memory
    stays flat in the length of the file.
    """

    def __init__(self, path: Path, reader: pyedflib.EdfReader, streams: list[_Stream]) -> None:
        self.path = path
        self._reader: pyedflib.EdfReader | None = reader
        self._streams = sorted(streams, key=lambda s: (s.site, s.kind != Kind.EMG))
        self.file_type: str = _FILE_TYPES.get(reader.filetype, str(reader.filetype))
        self.duration_s: float = reader.datarecords_in_file * reader.datarecord_duration
        # EDFlib keeps the sub-second in units of 100 ns (see the module docstring).
        self.start_utc: datetime = datetime(
            reader.startdate_year,
            reader.startdate_month,
            reader.startdate_day,
            reader.starttime_hour,
            reader.starttime_minute,
            reader.starttime_second,
            reader.starttime_subsecond // 10,
            tzinfo=UTC,
        )
        self.sites: dict[str, SiteSignals] = _site_signals(reader, self._streams)
        self._gaps = _gap_annotations(reader, self.duration_s)

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (EDFlib holds at most 64 open files)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def chunks(self, chunk_s: float = 60.0) -> Iterator[tuple[str, Kind, int, np.ndarray]]:
        """Stream the samples of every site and kind, in time order.

        Parameters
        ----------
        chunk_s : float
            Length of each chunk in seconds. Chunk boundaries are ``round(k * chunk_s * fs)``,
            so the chunks of a stream tile it exactly whatever ``chunk_s`` is.

        Yields
        ------
        site : str
            Normalised site id (``"left_calf"``).
        kind : Kind
            ``Kind.EMG`` or ``Kind.ACC``.
        start : int
            Index of the chunk's first sample, counted from the start of the file at this
            stream's rate.
        data : np.ndarray
            ``(1, n)`` float32 µV for EMG, ``(3, n)`` float32 g for ACC (rows x, y, z), ``(1, n)``
            for a one-axis accelerometer (a file with ``ACC X`` alone).
        """
        if not (chunk_s > 0 and math.isfinite(chunk_s)):
            raise ValueError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
        n_chunks = max(1, math.ceil(self.duration_s / chunk_s))
        for k in range(n_chunks):
            for stream in self._streams:
                start = min(stream.n_samples, round(k * chunk_s * stream.fs))
                last = k == n_chunks - 1
                stop = stream.n_samples if last else round((k + 1) * chunk_s * stream.fs)
                stop = min(stream.n_samples, stop)
                if stop > start:
                    yield stream.site, stream.kind, start, self._read(stream, start, stop - start)

    def gaps(self, site: str | None = None, kind: Kind | None = None) -> list[tuple[float, float]]:
        """``(start_s, end_s)`` of the spans annotated ``gap``, seconds from the file start.

        An annotation ``gap`` covers every stream; ``gap EMG left_calf`` (what
        :class:`~edge.edf_write.EdfRecorder` writes) covers one. With ``site`` and/or ``kind``
        only the gaps that apply to them are returned, merged and sorted. EDF+ annotations
        have a resolution of 100 µs at best.
        """
        wanted_site = None if site is None else normalize_site(site)
        spans = [
            (start, end)
            for start, end, gap_site, gap_kind in self._gaps
            if (gap_site is None or wanted_site is None or gap_site == wanted_site)
            and (gap_kind is None or kind is None or gap_kind == Kind(kind))
        ]
        return _merge(spans)

    def _read(self, stream: _Stream, start: int, n: int) -> np.ndarray:
        if self._reader is None:
            raise RecordingError(self.path, "recording is closed")
        data = np.empty((len(stream.signals), n), dtype=np.float32)
        for row, (signal, factor) in enumerate(zip(stream.signals, stream.factors, strict=True)):
            data[row] = self._reader.readSignal(signal, start, n) * factor
        return data


def open_recording(path: str | os.PathLike[str]) -> Recording:
    """Open an EDF/EDF+/BDF/BDF+ file and find its EMG and ACC channels, or raise RecordingError."""
    path = Path(path)
    header = sniff(path)
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        raise RecordingError(path, non_ascii_field(header) or f"EDFlib: {reason}") from exc
    try:
        return Recording(path, reader, _find_streams(path, reader))
    except BaseException:
        reader.close()
        raise


def _find_streams(path: Path, reader: pyedflib.EdfReader) -> list[_Stream]:
    """Map labels to (site, kind, axis); check units, rates, duplicates and ACC completeness."""
    found: dict[tuple[str, Kind, str], tuple[int, str]] = {}  # -> (signal, label)
    labels = [reader.getLabel(i).strip() for i in range(reader.signals_in_file)]
    for signal, label in enumerate(labels):
        match = LABEL.match(" ".join(label.split()))
        if match is None:
            continue  # ECG, respiration, unknown labels: not ours
        kind = Kind.EMG if match["emg"] else Kind.ACC
        axis = (match["axis"] or "").lower()
        try:
            site = normalize_site(match["site"])
        except SiteError as exc:
            raise RecordingError(path, f"channel {label!r}: {exc}") from exc
        if (site, kind, axis) in found:
            other = found[site, kind, axis][1]
            raise RecordingError(
                path, f"channels {other!r} and {label!r} are both {signal_name(kind, axis, site)}"
            )
        found[site, kind, axis] = (signal, label)
    if not found:
        listed = ", ".join(repr(label) for label in labels) or "none"
        raise RecordingError(path, f"no EMG or ACC channel; labels found: {listed}")

    streams = []
    for site, kind in sorted({(site, kind) for site, kind, _ in found}):
        axes = ("",) if kind == Kind.EMG else ACC_AXES
        if kind == Kind.ACC and {a for s, k, a in found if (s, k) == (site, kind)} == {"x"}:
            axes = ("x",)  # a one-axis accelerometer (a BITalino's) is recorded as its X
        missing = [axis for axis in axes if (site, kind, axis) not in found]
        if missing:
            raise RecordingError(
                path, f"site {site!r} has ACC without axis {'/'.join(missing).upper()}"
            )
        signals = tuple(found[site, kind, axis][0] for axis in axes)
        streams.append(_stream(path, reader, site, kind, signals))
    return streams


def _stream(
    path: Path, reader: pyedflib.EdfReader, site: str, kind: Kind, signals: tuple[int, ...]
) -> _Stream:
    factors = []
    for signal in signals:
        label, unit = reader.getLabel(signal).strip(), reader.getPhysicalDimension(signal)
        try:
            factors.append(to_internal_factor(kind, unit))
        except UnitError as exc:
            raise RecordingError(path, f"channel {label!r}: {exc}") from exc
        fs = reader.getSampleFrequency(signal)
        if not (fs > 0 and math.isfinite(fs)):
            raise RecordingError(path, f"channel {label!r}: sample rate {fs} Hz (must be positive)")
        reach = factors[-1] * max(
            abs(reader.getPhysicalMinimum(signal)), abs(reader.getPhysicalMaximum(signal))
        )
        if reach > MAX_REACH[kind]:
            raise RecordingError(
                path,
                f"channel {label!r}: physical range ±{reach:g} {INTERNAL_UNIT[kind]} is beyond "
                f"any {kind.value.upper()} sensor (at most ±{MAX_REACH[kind]:g})",
            )
    rates = {reader.getSampleFrequency(s) for s in signals}
    counts = {reader.samples_in_file(s) for s in signals}
    if len(rates) > 1 or len(counts) > 1:
        listed = ", ".join(
            f"{reader.getLabel(s).strip()!r} {reader.getSampleFrequency(s):g} Hz" for s in signals
        )
        raise RecordingError(path, f"ACC axes of {site!r} differ in sample rate: {listed}")
    return _Stream(site, kind, signals, tuple(factors), rates.pop(), counts.pop())


def _site_signals(reader: pyedflib.EdfReader, streams: list[_Stream]) -> dict[str, SiteSignals]:
    fs: dict[tuple[str, Kind], float] = {}
    units: dict[tuple[str, Kind], str] = {}
    for stream in streams:
        declared = [reader.getPhysicalDimension(s).strip() for s in stream.signals]
        fs[stream.site, stream.kind] = stream.fs
        units[stream.site, stream.kind] = (
            declared[0] if len(set(declared)) == 1 else "/".join(declared)
        )
    return {
        site: SiteSignals(
            site=site,
            emg_fs=fs.get((site, Kind.EMG)),
            acc_fs=fs.get((site, Kind.ACC)),
            emg_unit=units.get((site, Kind.EMG)),
            acc_unit=units.get((site, Kind.ACC)),
        )
        for site in sorted({stream.site for stream in streams})
    }


_Gap = tuple[float, float, str | None, Kind | None]  # start_s, end_s, site, kind (None: all)


def _gap_annotations(reader: pyedflib.EdfReader, duration_s: float) -> list[_Gap]:
    """``gap`` annotations as spans; ``gap <KIND> <site>`` scopes one to a stream."""
    onsets, durations, texts = reader.readAnnotations()
    gaps: list[_Gap] = []
    for onset, duration, text in zip(onsets, durations, texts, strict=True):
        words = str(text).split()
        if not words or words[0].lower() != Reason.GAP.value or not duration > 0:
            continue  # pyedflib reports a missing duration as -1: a gap needs a length
        site: str | None = None
        kind: Kind | None = None
        if len(words) >= 3 and words[1].lower() in {k.value for k in Kind}:
            kind, site = Kind(words[1].lower()), normalize_site(" ".join(words[2:]))
        start, end = max(0.0, float(onset)), min(duration_s, float(onset + duration))
        if end > start:
            gaps.append((start, end, site, kind))
    return gaps


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
