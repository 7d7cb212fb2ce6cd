"""The raw EDF/BDF header, checked before EDFlib sees the file.

EDFlib misreports what it refuses (a truncated or non-EDF file comes back as "no such file or
directory"), and it believes what a header claims: a 120 KB file whose header says a data record
lasts 1e-5 s becomes a 10 MHz signal the detector sizes its buffers for (4.8 GB), and a physical
range of ±1e307 scales every sample to nothing. So every field is read here as the number it must
be, refused if it is not finite, not whole where it must be, or physically absurd, and everything
the header claims is held against the file's real size before anything is allocated from it.
Each refusal is one :class:`~edge.errors.RecordingError` line naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from edge.errors import RecordingError

MAGIC = {b"0       ": 2, b"\xffBIOSEMI": 3}  # version field -> bytes per sample
#: Digital sample range of each format (16-bit EDF, 24-bit BDF).
DIGITAL_RANGE = {2: (-32768, 32767), 3: (-8388608, 8388607)}
# Per-signal header fields, in file order, with their widths in bytes.
SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("dimension", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefilter", 80),
    ("samples_per_record", 8),
    ("reserved", 32),
)
ANNOTATIONS = (b"EDF Annotations", b"BDF Annotations")
#: No surface-EMG or accelerometer system samples faster (high-density sEMG: tens of kHz).
MAX_RATE_HZ = 100_000.0
#: Slower than this is not a signal the detector can use, and a huge duration in disguise.
MIN_RATE_HZ = 1.0
#: A physical range beyond this, in any unit EDF may declare, is no instrument's (1e9 µV is
#: 1 kV); :mod:`edge.edf.read` then checks each EMG and ACC range in its own unit.
MAX_PHYSICAL = 1e9
#: A recording longer than a year is a header error, not a recording.
MAX_DURATION_S = 366 * 86_400.0


@dataclass(frozen=True, slots=True)
class RawHeader:
    """The raw header fields this module checks before handing the file to EDFlib."""

    signals: dict[str, list[bytes]]  # field name -> one value per signal


def sniff(path: Path) -> RawHeader:
    """Check what EDFlib would misreport or believe: missing, not EDF/BDF, EDF+D, truncated,
    non-finite or absurd numbers, rates and ranges."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            fixed = f.read(256)
            if len(fixed) < 256 or fixed[:8] not in MAGIC:
                start = fixed[:8]
                raise RecordingError(
                    path, f"not an EDF or BDF file (starts with {start!r}, {size} bytes)"
                )
            n_signals = _integer(path, fixed[252:256], "number of signals", low=1)
            if 256 * (n_signals + 1) > size:  # read no more than the file holds
                raise RecordingError(
                    path, f"truncated header: {size} bytes for {n_signals} signals"
                )
            raw = f.read(256 * n_signals)
    except FileNotFoundError as exc:
        raise RecordingError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise RecordingError(path, "is a directory, not an EDF or BDF file") from exc
    except OSError as exc:
        raise RecordingError(path, f"cannot read: {exc.strerror or exc}") from exc
    signals: dict[str, list[bytes]] = {}
    offset = 0
    for name, width in SIGNAL_FIELDS:
        column = raw[offset : offset + width * n_signals]
        signals[name] = [column[i * width : (i + 1) * width].strip() for i in range(n_signals)]
        offset += width * n_signals
    if fixed[192:197] in (b"EDF+D", b"BDF+D"):
        raise RecordingError(
            path,
            f"{fixed[192:197].decode()} (discontinuous) files cannot be read by EDFlib; "
            "convert the file to EDF+C first (EDFbrowser: Tools > Convert EDF+D to EDF+C)",
        )
    header_bytes = _integer(path, fixed[184:192], "header size", low=0)
    if header_bytes != 256 * (n_signals + 1):
        raise RecordingError(
            path, f"header size {header_bytes} bytes, but {n_signals} signals need "
            f"{256 * (n_signals + 1)}",
        )  # fmt: skip
    n_records = _number(path, fixed[236:244], "number of data records")
    if n_records == -1:
        raise RecordingError(
            path, "number of data records is -1: the recording was never closed properly"
        )
    n_records = _integer(path, fixed[236:244], "number of data records", low=0)
    record_s = _number(path, fixed[244:252], "data record duration")
    if record_s < 0 or record_s * n_records > MAX_DURATION_S:
        raise RecordingError(
            path, f"data record duration {record_s:g} s × {n_records} records is not a recording"
        )
    width = MAGIC[fixed[:8]]
    spr = []
    for i, label in enumerate(signals["label"]):
        name = label.decode("latin-1")
        count = _integer(
            path, signals["samples_per_record"][i], f"{name!r} samples per record", low=0
        )
        if label not in ANNOTATIONS:
            _check_signal(path, name, count, record_s, width, signals, i)
        spr.append(count)
    expected = header_bytes + n_records * sum(spr) * width
    if n_records > 0 and size < expected:
        raise RecordingError(
            path, f"truncated: {size} bytes, header says {expected} ({n_records} data records)"
        )
    return RawHeader(signals)


def _check_signal(
    path: Path,
    name: str,
    count: int,
    record_s: float,
    width: int,
    signals: dict[str, list[bytes]],
    i: int,
) -> None:
    """A data signal's rate, digital range and physical range must be a real instrument's."""
    channel = f"channel {name!r}"
    if count <= 0 or record_s <= 0:
        rate = f"{count} samples per {record_s:g} s data record"
        raise RecordingError(path, f"{channel}: {rate} (sample rate must be positive)")
    fs = count / record_s
    if not MIN_RATE_HZ <= fs <= MAX_RATE_HZ:
        raise RecordingError(
            path,
            f"{channel}: {count} samples per {record_s:g} s data record is {fs:.6g} Hz; "
            f"sample rates from {MIN_RATE_HZ:g} Hz to {MAX_RATE_HZ:,.0f} Hz are accepted",
        )
    low, high = DIGITAL_RANGE[width]
    d_min = _integer(path, signals["digital_min"][i], f"{name!r} digital minimum")
    d_max = _integer(path, signals["digital_max"][i], f"{name!r} digital maximum")
    if not low <= d_min < d_max <= high:
        raise RecordingError(
            path,
            f"{channel}: digital range {d_min} to {d_max} (must rise, within {low} to {high})",
        )
    p_min = _number(path, signals["physical_min"][i], f"{name!r} physical minimum")
    p_max = _number(path, signals["physical_max"][i], f"{name!r} physical maximum")
    if p_min == p_max or max(abs(p_min), abs(p_max)) > MAX_PHYSICAL:
        raise RecordingError(
            path, f"{channel}: physical range {p_min:g} to {p_max:g} is not an instrument's"
        )


def _number(path: Path, field: bytes, name: str) -> float:
    """A finite number, or RecordingError naming the field (nan, inf and text refused)."""
    try:
        value = float(field.strip().decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordingError(path, f"not an EDF or BDF file: {name} is {field!r}") from exc
    if not math.isfinite(value):
        raise RecordingError(path, f"{name} is {field.strip().decode()!r}, not a number")
    return value


def _integer(path: Path, field: bytes, name: str, low: int | None = None) -> int:
    """A whole number (at least ``low``), or RecordingError naming the field."""
    value = _number(path, field, name)
    if not value.is_integer() or (low is not None and value < low):
        at_least = "" if low is None else f" of at least {low}"
        raise RecordingError(path, f"{name} is {value:g}, not a whole number{at_least}")
    return int(value)


def non_ascii_field(header: RawHeader) -> str | None:
    """EDFlib rejects non-ASCII labels and units (a latin-1 ``µV``) with a vague message."""
    for name in ("label", "dimension"):
        for i, value in enumerate(header.signals[name]):
            if not value.isascii():
                return (
                    f"signal {i} {name} {value!r} is not ASCII (EDF forbids it, EDFlib refuses it)"
                )
    return None
