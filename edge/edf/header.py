"""The raw EDF/BDF header, checked before EDFlib sees the file (EDFlib misreports what it refuses:
a truncated or non-EDF file comes back as "no such file or directory")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.errors import RecordingError

MAGIC = {b"0       ": 2, b"\xffBIOSEMI": 3}  # version field -> bytes per sample
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


@dataclass(frozen=True, slots=True)
class RawHeader:
    """The raw header fields this module checks before handing the file to EDFlib."""

    signals: dict[str, list[bytes]]  # field name -> one value per signal


def sniff(path: Path) -> RawHeader:
    """Check what EDFlib would misreport: missing, not EDF/BDF, EDF+D, truncated, zero rates."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            fixed = f.read(256)
            if len(fixed) < 256 or fixed[:8] not in MAGIC:
                start = fixed[:8]
                raise RecordingError(
                    path, f"not an EDF or BDF file (starts with {start!r}, {size} bytes)"
                )
            n_signals = int(_number(path, fixed[252:256], "number of signals"))
            raw = f.read(256 * n_signals)
    except FileNotFoundError as exc:
        raise RecordingError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise RecordingError(path, "is a directory, not an EDF or BDF file") from exc
    except OSError as exc:
        raise RecordingError(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) < 256 * n_signals:
        raise RecordingError(path, f"truncated header: {size} bytes for {n_signals} signals")
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
    record_s = _number(path, fixed[244:252], "data record duration")
    n_records = int(_number(path, fixed[236:244], "number of data records"))
    header_bytes = int(_number(path, fixed[184:192], "header size"))
    spr = [int(_number(path, v, "samples per data record")) for v in signals["samples_per_record"]]
    for label, count in zip(signals["label"], spr, strict=True):
        if count <= 0 or (record_s <= 0 and label != b"EDF Annotations"):
            name = label.decode("latin-1")
            rate = f"{count} samples per {record_s:g} s data record"
            raise RecordingError(path, f"channel {name!r}: {rate} (sample rate must be positive)")
    expected = header_bytes + n_records * sum(spr) * MAGIC[fixed[:8]]
    if n_records > 0 and size < expected:
        raise RecordingError(
            path, f"truncated: {size} bytes, header says {expected} ({n_records} data records)"
        )
    return RawHeader(signals)


def _number(path: Path, field: bytes, name: str) -> float:
    try:
        return float(field.strip().decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordingError(path, f"not an EDF or BDF file: {name} is {field!r}") from exc


def non_ascii_field(header: RawHeader) -> str | None:
    """EDFlib rejects non-ASCII labels and units (a latin-1 ``µV``) with a vague message."""
    for name in ("label", "dimension"):
        for i, value in enumerate(header.signals[name]):
            if not value.isascii():
                return (
                    f"signal {i} {name} {value!r} is not ASCII (EDF forbids it, EDFlib refuses it)"
                )
    return None
