"""EDF/BDF headers that lie: non-finite numbers, absurd rates and ranges, counts the file cannot
hold. Each is one line and exit code 2 from ``twitchwatch analyze``, never a traceback, never a
buffer sized by the lie, never "0 twitches" from a signal scaled to nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.edf import RecordingError, open_recording
from tests.test_edf import write_third_party

# Offsets in a file of two signals (the EMG and EDF+'s annotations): the fixed header, then each
# per-signal field for both signals in turn.
HEADER_BYTES, N_RECORDS, RECORD_S, N_SIGNALS = 184, 236, 244, 252
PHYSICAL_MIN, PHYSICAL_MAX = 256 + 2 * (16 + 80 + 8), 256 + 2 * (16 + 80 + 16)
DIGITAL_MIN, DIGITAL_MAX = 256 + 2 * (16 + 80 + 24), 256 + 2 * (16 + 80 + 32)
SAMPLES_PER_RECORD = 256 + 2 * (16 + 80 + 8 * 5 + 80)


def valid(path: Path, unit: str = "uV", physical_max: float = 100.0) -> Path:
    """Three 1-s records of 100 samples: 100 Hz of EMG at the left calf."""
    write_third_party(path, [("EMG left_calf", unit, 100, np.zeros(300), physical_max)])
    return path


def patched(tmp_path: Path, offset: int, field: bytes, **kwargs: object) -> Path:
    path = valid(tmp_path / "lying.edf", **kwargs)  # type: ignore[arg-type]
    raw = bytearray(path.read_bytes())
    padded = field.ljust(4 if offset == N_SIGNALS else 8)
    raw[offset : offset + len(padded)] = padded
    path.write_bytes(bytes(raw))
    return path


LIES = {
    # M4: a 120 KB file claimed a 1e-5 s data record: a 10 MHz signal, 4.8 GB, a MemoryError.
    "tiny_record": (RECORD_S, b"1e-05", "is 1e+07 Hz; sample rates from 1 Hz to 100,000 Hz"),
    "slow_rate": (RECORD_S, b"1000", "is 0.1 Hz; sample rates from 1 Hz"),
    "nan_duration": (RECORD_S, b"nan", "data record duration is 'nan', not a number"),
    "inf_duration": (RECORD_S, b"inf", "data record duration is 'inf', not a number"),
    "negative_duration": (RECORD_S, b"-1", "data record duration -1 s"),
    "unclosed_records": (N_RECORDS, b"-1", "number of data records is -1: the recording was"),
    "fraction_records": (N_RECORDS, b"2.5", "number of data records is 2.5, not a whole number"),
    "centuries": (N_RECORDS, b"99999999", "× 99999999 records is not a recording"),
    "many_signals": (N_SIGNALS, b"9999", "truncated header"),
    "no_signals": (N_SIGNALS, b"0", "number of signals is 0, not a whole number of at least 1"),
    "header_size": (HEADER_BYTES, b"1024", "header size 1024 bytes, but 2 signals need 768"),
    "nan_samples": (SAMPLES_PER_RECORD, b"nan", "samples per record is 'nan', not a number"),
    "negative_samples": (SAMPLES_PER_RECORD, b"-1", "samples per record is -1, not a whole"),
    # M5: ±1e307 was read as "29 s of rest, 0 twitches", exit 0.
    "huge_physical": (PHYSICAL_MAX, b"1e307", "physical range -100 to 1e+307 is not an"),
    "nan_physical": (PHYSICAL_MIN, b"nan", "physical minimum is 'nan', not a number"),
    "flat_physical": (PHYSICAL_MAX, b"-100", "physical range -100 to -100 is not an"),
    "inverted_digital": (DIGITAL_MAX, b"-32768", "digital range -32768 to -32768 (must rise"),
    "digital_beyond_16_bits": (DIGITAL_MAX, b"99999", "digital range -32768 to 99999"),
}


@pytest.mark.parametrize(("offset", "field", "problem"), LIES.values(), ids=LIES.keys())
def test_a_lying_header_is_refused_in_one_line(
    tmp_path: Path, offset: int, field: bytes, problem: str
) -> None:
    path = patched(tmp_path, offset, field)
    with pytest.raises(RecordingError) as caught:
        open_recording(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert problem in message, message


def test_a_range_no_sensor_has_in_its_own_unit_is_refused(tmp_path: Path) -> None:
    """±10,000 V is a finite header number, and no EMG amplifier's input."""
    path = valid(tmp_path / "volts.edf", unit="V", physical_max=1e4)
    with pytest.raises(RecordingError, match=r"physical range ±1e\+10 uV is beyond any EMG"):
        open_recording(path)


@pytest.mark.parametrize(
    "name", ["tiny_record", "huge_physical", "nan_duration", "unclosed_records"]
)
def test_analyze_exits_2_in_one_line_and_at_once(tmp_path: Path, name: str) -> None:
    offset, field, problem = LIES[name]
    path = patched(tmp_path, offset, field)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "twitchwatch", "analyze", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("twitchwatch: ") and done.stderr.count("\n") == 1
    assert problem in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 30  # refused from the header, nothing was computed
