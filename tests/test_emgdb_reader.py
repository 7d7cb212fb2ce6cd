"""bench/emgdb.py: the PhysioNet emgdb records load, in µV, with their headers' promises verified."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.emgdb import EMGDB_DIR, EMGDB_ENV, WfdbRecord, emgdb_dir, emgdb_records, read_wfdb16

REPO = Path(__file__).resolve().parents[1]

# name: (samples, first sample in adu) from the headers; 10000 adu/mV = 0.1 µV per adu.
EXPECTED = {
    "emg_healthy": (50_860, -333),
    "emg_myopathy": (110_337, -50),
    "emg_neuropathy": (147_858, 900),
}


@pytest.fixture(scope="module")
def records() -> list[WfdbRecord]:
    # The records ship in tests/data/emgdb: missing ones are a broken checkout, not a skip.
    assert emgdb_dir().is_dir(), f"emgdb records not present in {emgdb_dir()} (set {EMGDB_ENV})"
    return emgdb_records()


def copy_record(name: str, to: Path, source: Path | None = None) -> Path:
    """A writable copy (copyfile does not copy the shared files' read-only mode)."""
    for suffix in (".hea", ".dat"):
        shutil.copyfile((source or emgdb_dir()) / f"{name}{suffix}", to / f"{name}{suffix}")
    return to / f"{name}.hea"


def test_default_location_ships_with_the_repository() -> None:
    assert REPO / "tests" / "data" / "emgdb" == EMGDB_DIR
    assert (EMGDB_DIR / "SOURCE.md").is_file()  # origin and licence travel with the data


def test_three_records_load_in_microvolts(records: list[WfdbRecord]) -> None:
    assert [r.name for r in records] == list(EXPECTED)
    for r in records:
        n_samples, first_adu = EXPECTED[r.name]
        assert r.fs == 4000.0
        assert r.signal_uv.shape == (n_samples,) and r.signal_uv.dtype == np.float32
        assert r.signal_uv[0] == pytest.approx(first_adu * 0.1)
        assert any("tibialis anterior" in c for c in r.comments)


def test_checksum_mismatch_is_refused(records: list[WfdbRecord], tmp_path: Path) -> None:
    header = copy_record("emg_healthy", tmp_path)
    dat = header.with_suffix(".dat")
    raw = bytearray(dat.read_bytes())
    raw[200] ^= 0x01  # one bit of sample 100
    dat.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        read_wfdb16(header)


def test_wrong_length_is_refused(records: list[WfdbRecord], tmp_path: Path) -> None:
    header = copy_record("emg_myopathy", tmp_path)
    dat = header.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:-1])
    with pytest.raises(ValueError, match="110337 samples"):
        read_wfdb16(header)


def write_record(folder: Path, signal_line: str, samples: list[int], n_signals: int = 1) -> Path:
    np.array(samples, dtype="<i2").tofile(folder / "r.dat")
    total = sum(samples) & 0xFFFF
    checksum = total - 0x10000 if total >= 0x8000 else total
    line = signal_line.format(first=samples[0], checksum=checksum)
    header = folder / "r.hea"
    header.write_text(f"# lead comment\nr {n_signals} 1000 {len(samples)}\n{line}\n")
    return header


def test_baseline_and_units_from_the_gain_field(tmp_path: Path) -> None:
    header = write_record(
        tmp_path, "r.dat 16 2(-10)/uV 16 0 {first} {checksum} 0 EMG", [-10, 0, 30]
    )
    r = read_wfdb16(header)
    assert (r.name, r.fs, r.comments) == ("r", 1000.0, ("lead comment",))
    assert r.signal_uv.tolist() == [0.0, 5.0, 20.0]
    # No units: WFDB's default, mV. No baseline: the ADC zero (5 here).
    header = write_record(tmp_path, "r.dat 16 1000 16 5 {first} {checksum} 0 EMG", [5, 7])
    assert read_wfdb16(header).signal_uv.tolist() == [0.0, 2.0]


def test_unsupported_headers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format 16"):
        read_wfdb16(
            write_record(tmp_path, "r.dat 212 200/mV 12 0 {first} {checksum} 0 EMG", [1, 2])
        )
    with pytest.raises(ValueError, match="1 signal"):
        read_wfdb16(
            write_record(tmp_path, "r.dat 16 200/mV 16 0 {first} {checksum} 0 EMG", [1, 2], 2)
        )
    with pytest.raises(ValueError, match="first sample"):
        read_wfdb16(write_record(tmp_path, "r.dat 16 200/mV 16 0 9 {checksum} 0 EMG", [1, 2]))


def test_location_comes_from_the_environment(
    records: list[WfdbRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = emgdb_dir()
    monkeypatch.setenv(EMGDB_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=EMGDB_ENV):
        emgdb_records()
    for name in EXPECTED:
        copy_record(name, tmp_path, source)
    assert [r.name for r in emgdb_records()] == list(EXPECTED)
