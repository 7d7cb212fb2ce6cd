"""Reader for the PhysioNet Examples of Electromyograms database (emgdb), WFDB format 16.

The three records (healthy, myopathy, neuropathy) are needle EMG from tibialis anterior during
gentle dorsiflexion, 4 kHz, no annotations. They are the project's real-signal negative control:
voluntary motor-unit trains a twitch counter must not count. Source:
https://physionet.org/content/emgdb/1.0.0/ (Open Data Commons Attribution License v1.0).

Only what these records use is supported: one signal, format 16 (little-endian int16), no byte
offset. Everything the header promises (sample count, first value, checksum) is verified.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.units import to_internal_factor
from twitchwatch.contract import Kind

#: The records travel with the repository (tests/data/emgdb/SOURCE.md: origin and licence).
EMGDB_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "emgdb"
#: Set this to a folder holding the records to read them from elsewhere.
EMGDB_ENV = "TWITCHWATCH_EMGDB"
#: The whole database: three records.
EMGDB_RECORDS = ("emg_healthy", "emg_myopathy", "emg_neuropathy")

# gain[(baseline)][/units], e.g. "10000/mV" or "200(-12)/uV" (WFDB header spec, signal lines).
_GAIN = re.compile(r"^(?P<gain>[-+0-9.eE]+)(?:\((?P<baseline>[-+0-9]+)\))?(?:/(?P<units>\S+))?$")


@dataclass(frozen=True, slots=True)
class WfdbRecord:
    """One single-signal WFDB record, converted to µV at load."""

    name: str  # record name from the header, e.g. "emg_healthy"
    fs: float  # Hz
    signal_uv: np.ndarray  # (n,) float32 µV: (adu - baseline) / gain, in the header's units
    comments: tuple[str, ...]  # header comment lines without their "#", in order


def read_wfdb16(header_path: str | os.PathLike[str]) -> WfdbRecord:
    """Read a single-signal format-16 WFDB record from its ``.hea`` file (the ``.dat`` beside it).

    Raises ValueError when the header is not a single format-16 signal, or when the data file
    does not hold exactly the header's sample count, or its first sample or 16-bit checksum
    differ from the header's. A missing file raises FileNotFoundError.
    """
    header_path = Path(header_path)
    lines = header_path.read_text(encoding="ascii").splitlines()
    comments = tuple(line.lstrip("#").strip() for line in lines if line.lstrip().startswith("#"))
    specs = [line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not specs:
        raise ValueError(f"{header_path}: no record line")

    record = specs[0]
    if len(record) < 4:
        raise ValueError(
            f"{header_path}: record line needs name, signals, fs, samples; got {record}"
        )
    name, n_signals = record[0], int(record[1])
    # "4000" or "4000/1000" (counter frequency) or "4000(0)": the sampling frequency comes first.
    fs = float(re.split(r"[/(]", record[2])[0])
    n_samples = int(record[3])
    if n_signals != 1 or len(specs) != 2:
        raise ValueError(
            f"{header_path}: expected 1 signal line, got {n_signals} signals, {len(specs) - 1} lines"
        )
    if fs <= 0:
        raise ValueError(f"{header_path}: sampling frequency must be positive, got {record[2]}")

    signal = specs[1]
    if len(signal) < 7:
        raise ValueError(
            f"{header_path}: signal line needs file .. checksum (7 fields), got {signal}"
        )
    dat_name, fmt, gain_field = signal[0], signal[1], signal[2]
    adc_zero, initial, checksum = int(signal[4]), int(signal[5]), int(signal[6])
    if fmt != "16":
        raise ValueError(
            f"{header_path}: only format 16 without byte offset is supported, got {fmt!r}"
        )
    match = _GAIN.match(gain_field)
    if match is None:
        raise ValueError(f"{header_path}: cannot read gain field {gain_field!r}")
    gain = float(match["gain"])  # adu per physical unit
    if gain <= 0:  # WFDB's "0 = uncalibrated" would make every value invalid here
        raise ValueError(f"{header_path}: gain must be positive, got {gain_field!r}")
    # WFDB defaults: baseline = ADC zero, units = mV. One emgdb header writes "mV" as "mv".
    baseline = int(match["baseline"]) if match["baseline"] is not None else adc_zero
    units = match["units"] or "mV"

    dat_path = header_path.with_name(dat_name)
    n_bytes = dat_path.stat().st_size
    if n_bytes != 2 * n_samples:  # fromfile would silently drop an odd trailing byte
        raise ValueError(
            f"{dat_path}: header says {n_samples} samples ({2 * n_samples} bytes), file has {n_bytes} bytes"
        )
    adu = np.fromfile(dat_path, dtype="<i2")
    if n_samples and int(adu[0]) != initial:
        raise ValueError(f"{dat_path}: first sample {int(adu[0])}, header says {initial}")
    # The header's checksum: sum of all samples, modulo 2**16, as a signed 16-bit value.
    total = int(np.sum(adu, dtype=np.int64)) & 0xFFFF
    got = total - 0x10000 if total >= 0x8000 else total
    if got != checksum:
        raise ValueError(f"{dat_path}: checksum {got}, header says {checksum}")

    # Units are converted once, here, to the EMG unit used everywhere inside TwitchWatch.
    scale = to_internal_factor(Kind.EMG, units) / gain
    signal_uv = ((adu.astype(np.float64) - baseline) * scale).astype(np.float32)
    return WfdbRecord(name=name, fs=fs, signal_uv=signal_uv, comments=comments)


def emgdb_dir() -> Path:
    """The emgdb folder: ``$TWITCHWATCH_EMGDB`` if set, else ``EMGDB_DIR``. Read at each call."""
    override = os.environ.get(EMGDB_ENV)
    return Path(override) if override else EMGDB_DIR


def emgdb_records() -> list[WfdbRecord]:
    """The three emgdb records (healthy, myopathy, neuropathy), in that order.

    Raises FileNotFoundError naming the folder, the variable to set and where to get the data
    when a header is missing.
    """
    folder = emgdb_dir()
    missing = [name for name in EMGDB_RECORDS if not (folder / f"{name}.hea").is_file()]
    if missing:
        raise FileNotFoundError(
            f"emgdb records {', '.join(missing)} not found in {folder}: set {EMGDB_ENV} to the folder "
            "holding emg_*.hea and emg_*.dat (https://physionet.org/content/emgdb/1.0.0/)"
        )
    return [read_wfdb16(folder / f"{name}.hea") for name in EMGDB_RECORDS]
