"""EDF+/BDF: files we write read back; files others write (pyedflib directly) read too; bad ones
fail with one line naming the problem."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from edge.edf import (
    DEFAULT_FULL_SCALE,
    EdfRecorder,
    RecorderError,
    Recording,
    RecordingError,
    StreamCounts,
    open_recording,
    record_duration_s,
)
from edge.edf.write import MAX_LAG_S
from edge.stream import Block, Span, StreamInfo
from twitchwatch.contract import Kind, Reason

START_UTC = datetime(2026, 3, 1, 22, 15, 7, 500_000, tzinfo=UTC)
STEP = {kind: scale / 32767 for kind, scale in DEFAULT_FULL_SCALE.items()}  # one digital step
CHANNELS = {Kind.EMG: ("emg",), Kind.ACC: ("x", "y", "z")}


def stream(site: str, kind: Kind, fs: float, t0_utc: datetime | None = START_UTC) -> StreamInfo:
    return StreamInfo("tw-test-01", site, kind, CHANNELS[kind], fs, t0_utc)


def signal(rng: np.random.Generator, info: StreamInfo, seconds: float) -> np.ndarray:
    """Random samples inside the physical range, (n_channels, n) float32."""
    n = round(seconds * info.fs)
    scale = 0.8 * DEFAULT_FULL_SCALE[info.kind]
    return rng.uniform(-scale, scale, (info.n_channels, n)).astype(np.float32)


def record(
    path: Path, data: dict[StreamInfo, np.ndarray], rng: np.random.Generator
) -> dict[tuple[str, Kind], StreamCounts]:
    """Write each stream's samples as blocks of random sizes, interleaved at random."""
    cursors = dict.fromkeys(data, 0)
    with EdfRecorder(path, list(data), START_UTC, device="tw-test-01") as rec:
        while any(cursors[info] < x.shape[1] for info, x in data.items()):
            info = list(data)[rng.integers(len(data))]
            start = cursors[info]
            stop = min(data[info].shape[1], start + int(rng.integers(1, 700)))
            rec.write(Block(info, start, data[info][:, start:stop]))
            cursors[info] = stop
    return rec.counts


def read_all(rec: Recording, chunk_s: float = 1e6) -> dict[tuple[str, Kind], np.ndarray]:
    parts: dict[tuple[str, Kind], list[np.ndarray]] = {}
    expected_start: dict[tuple[str, Kind], int] = {}
    for site, kind, start, data in rec.chunks(chunk_s):
        assert data.dtype == np.float32
        assert start == expected_start.get((site, kind), 0)  # chunks tile each stream
        expected_start[site, kind] = start + data.shape[1]
        parts.setdefault((site, kind), []).append(data)
    return {key: np.concatenate(chunks, axis=1) for key, chunks in parts.items()}


def write_third_party(
    path: Path,
    channels: Sequence[tuple[str, str, int, np.ndarray, float]],
    *,
    file_type: int = pyedflib.FILETYPE_EDFPLUS,
    annotations: Sequence[tuple[float, float, str]] = (),
) -> None:
    """A file as another program would write it: pyedflib alone, (label, unit, fs, values, ±max)."""
    bdf = file_type in (pyedflib.FILETYPE_BDF, pyedflib.FILETYPE_BDFPLUS)
    digital_max = 8388607 if bdf else 32767
    writer = pyedflib.EdfWriter(str(path), len(channels), file_type)
    try:
        writer.setSignalHeaders(
            [
                {
                    "label": label,
                    "dimension": unit,
                    "sample_frequency": fs,
                    "physical_max": physical_max,
                    "physical_min": -physical_max,
                    "digital_max": digital_max,
                    "digital_min": -digital_max - 1,
                    "transducer": "",
                    "prefilter": "",
                }
                for label, unit, fs, _, physical_max in channels
            ]
        )
        writer.setStartdatetime(START_UTC.replace(tzinfo=None, microsecond=0))
        writer.writeSamples([np.asarray(values, dtype=np.float64) for *_, values, _ in channels])
        for onset_s, duration_s, text in annotations:
            writer.writeAnnotation(onset_s, duration_s, text)
    finally:
        writer.close()


def third_party_step(physical_max: float, bdf: bool = False) -> float:
    return 2 * physical_max / ((1 << 24) - 1 if bdf else 65535)


# ---------------------------------------------------------------- round trip through EdfRecorder

ROUND_TRIPS = {
    "emg_only": [("left_calf", Kind.EMG, 2000.0)],
    "acc_only": [("right_forearm", Kind.ACC, 416.0)],
    "emg_and_acc": [("left_calf", Kind.EMG, 2000.0), ("left_calf", Kind.ACC, 416.0)],
    "two_sites": [
        ("left_calf", Kind.EMG, 512.0),
        ("left_calf", Kind.ACC, 100.0),
        ("right_thumb", Kind.EMG, 4000.0),
    ],
    "upper_arm_acc_label": [("right_upper_arm", Kind.ACC, 52.0)],
    "non_integer_rate": [("tongue", Kind.EMG, 97.65625), ("tongue", Kind.ACC, 50.0)],
}


@pytest.mark.parametrize("streams", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_round_trip(tmp_path: Path, streams: list[tuple[str, Kind, float]]) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "rec.edf"
    data = {stream(s, k, fs): signal(rng, stream(s, k, fs), 3.3) for s, k, fs in streams}
    counts = record(path, data, rng)

    with open_recording(path) as rec:
        assert rec.file_type == "EDF+"
        assert rec.start_utc == START_UTC
        got = read_all(rec)
        sites = {info.site for info in data}
        assert set(rec.sites) == sites
        for info, x in data.items():
            site = rec.sites[info.site]
            fs, unit = (
                (site.emg_fs, site.emg_unit)
                if info.kind == Kind.EMG
                else (site.acc_fs, site.acc_unit)
            )
            assert fs == pytest.approx(info.fs, rel=1e-12)
            assert unit == ("uV" if info.kind == Kind.EMG else "g")
            y = got[info.site, info.kind]
            n = x.shape[1]
            assert np.abs(y[:, :n] - x).max() <= STEP[info.kind]
            assert not y[:, n:].any()  # the last record's padding is zero ...
            padding = rec.gaps(info.site, info.kind)  # ... and marked as a gap
            if y.shape[1] > n:
                assert padding == [pytest.approx((n / info.fs, rec.duration_s), abs=1e-4)]
            else:
                assert padding == []
            assert counts[info.site, info.kind].written == n
            assert counts[info.site, info.kind].clipped == 0
        assert set(got) == {(info.site, info.kind) for info in data}
        record_s = record_duration_s([info.fs for info in data])
        assert record_s is not None
        n_records = max(math.ceil(x.shape[1] / (info.fs * record_s)) for info, x in data.items())
        assert rec.duration_s == pytest.approx(n_records * record_s)


def test_labels_follow_the_convention_and_fit_16_chars(tmp_path: Path) -> None:
    path = tmp_path / "labels.edf"
    infos = [
        stream("left_calf", Kind.EMG, 1000.0),
        stream("right_forearm", Kind.ACC, 50.0),
        stream("right_upper_arm", Kind.ACC, 50.0),
    ]
    EdfRecorder(path, infos, START_UTC).close()
    with pyedflib.EdfReader(str(path)) as reader:
        labels = reader.getSignalLabels()
        dimensions = [reader.getPhysicalDimension(i) for i in range(reader.signals_in_file)]
    assert labels == [
        "EMG left_calf",
        "ACC X r_forearm",
        "ACC Y r_forearm",
        "ACC Z r_forearm",
        "ACCX r_upper_arm",  # "ACC X r_upper_arm" would be 17 characters
        "ACCY r_upper_arm",
        "ACCZ r_upper_arm",
    ]
    assert dimensions == ["uV"] + ["g"] * 6


# ---------------------------------------------------------------- files written by others


@pytest.mark.parametrize(
    ("kind", "unit", "physical_max", "factor"),
    [
        (Kind.EMG, "uV", 5000.0, 1.0),
        (Kind.EMG, "mV", 5.0, 1e3),
        (Kind.EMG, "V", 0.005, 1e6),
        (Kind.ACC, "g", 8.0, 1.0),
        (Kind.ACC, "mg", 8000.0, 1e-3),
        (Kind.ACC, "m/s2", 80.0, 1 / 9.80665),
    ],
)
def test_units_convert_on_read(
    tmp_path: Path, kind: Kind, unit: str, physical_max: float, factor: float
) -> None:
    rng = np.random.default_rng(2)
    fs, n = 200, 600
    labels = ["EMG left_calf"] if kind == Kind.EMG else [f"ACC {a} left_calf" for a in "XYZ"]
    values = rng.uniform(-0.9 * physical_max, 0.9 * physical_max, (len(labels), n))
    path = tmp_path / f"{unit.replace('/', '_')}.edf"
    write_third_party(
        path, [(lb, unit, fs, v, physical_max) for lb, v in zip(labels, values, strict=True)]
    )
    with open_recording(path) as rec:
        site = rec.sites["left_calf"]
        assert (site.emg_unit if kind == Kind.EMG else site.acc_unit) == unit
        y = read_all(rec)["left_calf", kind]
    tolerance = third_party_step(physical_max) * factor * 1.01
    np.testing.assert_allclose(y, values * factor, rtol=1e-6, atol=tolerance)


def test_labels_are_tolerant_and_unknown_sites_kept(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    fs, n = 100, 300
    labels = [
        "EMG l_calf",
        "emg  Left_Arm",  # outside the taxonomy, odd case and spacing
        "ACC X r_forearm",
        "acc y R_FOREARM",
        "ACCZ r_forearm",
        "ECG",
        "Resp chest",
    ]
    values = rng.uniform(-50, 50, (len(labels), n))
    units = ["uV", "uV", "g", "g", "g", "mV", "mV"]
    path = tmp_path / "third.edf"
    write_third_party(
        path, [(lb, u, fs, v, 100.0) for lb, u, v in zip(labels, units, values, strict=True)]
    )
    with open_recording(path) as rec:
        assert set(rec.sites) == {"left_calf", "left_arm", "right_forearm"}
        assert rec.sites["left_arm"].acc_fs is None
        assert rec.sites["right_forearm"].emg_fs is None
        got = read_all(rec)
    assert set(got) == {
        ("left_calf", Kind.EMG),
        ("left_arm", Kind.EMG),
        ("right_forearm", Kind.ACC),
    }
    tolerance = third_party_step(100.0) * 1.01
    np.testing.assert_allclose(got["left_arm", Kind.EMG][0], values[1], atol=tolerance)
    np.testing.assert_allclose(got["right_forearm", Kind.ACC], values[2:5], atol=tolerance)


@pytest.mark.parametrize(
    ("file_type", "name"),
    [
        (pyedflib.FILETYPE_BDFPLUS, "BDF+"),
        (pyedflib.FILETYPE_BDF, "BDF"),
        (pyedflib.FILETYPE_EDF, "EDF"),
    ],
)
def test_bdf_and_plain_edf(tmp_path: Path, file_type: int, name: str) -> None:
    rng = np.random.default_rng(4)
    emg = rng.uniform(-4000, 4000, 2048 * 2)
    acc = rng.uniform(-3, 3, (3, 64 * 2))
    channels = [("EMG right_calf", "uV", 2048, emg, 5000.0)]
    channels += [(f"ACC {a} right_calf", "g", 64, acc[i], 4.0) for i, a in enumerate("XYZ")]
    bdf = name.startswith("BDF")
    path = tmp_path / ("x.bdf" if bdf else "x.edf")
    write_third_party(path, channels, file_type=file_type)
    with open_recording(path) as rec:
        assert rec.file_type == name
        assert rec.duration_s == 2.0
        assert rec.start_utc == START_UTC.replace(microsecond=0)
        assert rec.gaps() == []
        got = read_all(rec, chunk_s=0.7)
    np.testing.assert_allclose(
        got["right_calf", Kind.EMG][0], emg, atol=third_party_step(5000.0, bdf) * 1.01, rtol=1e-6
    )
    np.testing.assert_allclose(
        got["right_calf", Kind.ACC], acc, atol=third_party_step(4.0, bdf) * 1.01
    )


# ---------------------------------------------------------------- chunking


@pytest.mark.parametrize("chunk_s", [0.37, 1.0, 2.9, 60.0])
def test_chunked_reading_equals_one_chunk(tmp_path: Path, chunk_s: float) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "chunks.edf"
    data = {
        info: signal(rng, info, 7.0)
        for info in (
            stream("left_calf", Kind.EMG, 2000.0),
            stream("left_calf", Kind.ACC, 416.0),
            stream("right_thumb", Kind.EMG, 512.0),
        )
    }
    record(path, data, rng)
    with open_recording(path) as rec:
        whole = read_all(rec)
        chunked = read_all(rec, chunk_s)
        # Time order: every stream's chunk k comes before any stream's chunk k + 1.
        fs = {(i.site, i.kind): i.fs for i in data}
        index = [
            round(start / fs[site, kind] / chunk_s) for site, kind, start, _ in rec.chunks(chunk_s)
        ]
    assert index == sorted(index)
    assert whole.keys() == chunked.keys()
    for key in whole:
        np.testing.assert_array_equal(chunked[key], whole[key])


def test_reads_never_exceed_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    path = tmp_path / "long.edf"
    info = stream("left_calf", Kind.EMG, 4000.0)
    record(path, {info: signal(rng, info, 12.0)}, rng)
    sizes: list[int] = []
    original = pyedflib.EdfReader.readSignal

    def spy(
        self: pyedflib.EdfReader,
        chn: int,
        start: int = 0,
        n: int | None = None,
        digital: bool = False,
    ):
        sizes.append(-1 if n is None else n)
        return original(self, chn, start, n, digital)

    monkeypatch.setattr(pyedflib.EdfReader, "readSignal", spy)
    with open_recording(path) as rec:
        total = sum(data.shape[1] for *_, data in rec.chunks(2.0))
    assert total == 12 * 4000
    assert sizes and max(sizes) == 2 * 4000 and min(sizes) > 0


# ---------------------------------------------------------------- gaps, lag, annotations


def test_gaps_written_as_zero_and_read_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "gaps.edf"
    emg, acc = stream("left_calf", Kind.EMG, 2000.0), stream("left_calf", Kind.ACC, 416.0)
    x, a = signal(rng, emg, 6.0), signal(rng, acc, 6.0)
    with EdfRecorder(path, [emg, acc], START_UTC) as rec:
        rec.write(Block(emg, 0, x[:, :3000]))
        rec.mark_gap(emg, Span(3000, 5000, Reason.GAP))  # told: 1.0 s lost
        rec.write(Block(emg, 5000, x[:, 5000:]))
        rec.write(Block(acc, 0, a[:, :832]))
        rec.write(Block(acc, 1248, a[:, 1248:]))  # not told: a jump is a gap too
        rec.mark_gap(acc, Span(832, 1248, Reason.GAP))  # told late: already written, no-op
        rec.annotate(4.2, 0.01, "twitch left_calf 152 uV")
    counts = rec.counts
    assert counts["left_calf", Kind.EMG].gap == 2000
    assert counts["left_calf", Kind.ACC].gap == 416
    assert counts["left_calf", Kind.EMG].written == 12000 - 2000

    with open_recording(path) as rec:
        assert rec.gaps("left_calf", Kind.EMG) == [(1.5, 2.5)]
        assert rec.gaps("left_calf", Kind.ACC) == [(2.0, 3.0)]
        assert rec.gaps() == [(1.5, 3.0)]
        assert rec.gaps("right_calf") == []
        got = read_all(rec)
    y = got["left_calf", Kind.EMG]
    assert not y[:, 3000:5000].any()
    assert np.abs(y[:, 5000:] - x[:, 5000:]).max() <= STEP[Kind.EMG]
    assert not got["left_calf", Kind.ACC][:, 832:1248].any()
    with pyedflib.EdfReader(str(path)) as reader:
        _, _, texts = reader.readAnnotations()
    assert sorted(texts) == ["gap ACC left_calf", "gap EMG left_calf", "twitch left_calf 152 uV"]


def test_third_party_gap_annotation_applies_to_all_streams(tmp_path: Path) -> None:
    path = tmp_path / "annotated.edf"
    values = np.zeros(600)  # 6 data records: room for 6 annotations (see EdfRecorder)
    annotations = [(0.5, 0.25, "Gap"), (2.0, -1, "gap"), (1.0, 0.5, "gapless"), (1.5, 0.5, "gap")]
    channels = [
        ("EMG left_calf", "uV", 100, values, 100.0),
        ("EMG right_calf", "uV", 100, values, 100.0),
    ]
    write_third_party(path, channels, annotations=annotations)
    with open_recording(path) as rec:
        assert rec.gaps() == [(0.5, 0.75), (1.5, 2.0)]  # no duration: not a span
        assert rec.gaps("right_calf", Kind.EMG) == [(0.5, 0.75), (1.5, 2.0)]


def test_stream_that_stops_becomes_a_gap_and_memory_stays_bounded(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    path = tmp_path / "stopped.edf"
    emg, acc = stream("left_calf", Kind.EMG, 2000.0), stream("left_calf", Kind.ACC, 416.0)
    x, a = signal(rng, emg, 40.0), signal(rng, acc, 40.0)
    lag_samples = (MAX_LAG_S + 1) * emg.fs
    with EdfRecorder(path, [emg, acc], START_UTC) as rec:
        rec.write(Block(acc, 0, a[:, : 2 * 416]))  # the accelerometer stops after 2 s
        for start in range(0, x.shape[1], 500):
            rec.write(Block(emg, start, x[:, start : start + 500]))
            assert rec._streams["left_calf", Kind.EMG].n_pending <= lag_samples
        rec.write(
            Block(acc, 416 * 5, a[:, 416 * 5 : 416 * 6])
        )  # arrives after it was written as gap
    counts = rec.counts
    assert counts["left_calf", Kind.ACC].dropped == 416
    assert counts["left_calf", Kind.ACC].gap == 38 * 416
    with open_recording(path) as rec:
        assert rec.duration_s == 40.0
        assert rec.gaps("left_calf", Kind.ACC) == [(2.0, 40.0)]
        assert rec.gaps("left_calf", Kind.EMG) == []
        got = read_all(rec, chunk_s=7.0)
    assert np.abs(got["left_calf", Kind.EMG] - x).max() <= STEP[Kind.EMG]


def test_no_annotation_is_dropped_in_a_short_recording(tmp_path: Path) -> None:
    path = tmp_path / "busy.edf"
    emg = stream("left_calf", Kind.EMG, 1000.0)
    with EdfRecorder(path, [emg], START_UTC) as rec:
        rec.write(Block(emg, 0, np.zeros((1, 1500), dtype=np.float32)))
        for i in range(40):  # far more than 2 records x 4 annotation signals
            rec.annotate(i * 0.03, 0.005, f"twitch left_calf {i} uV")
    with pyedflib.EdfReader(str(path)) as reader:
        onsets, durations, texts = reader.readAnnotations()
        n_records = reader.datarecords_in_file
    assert sorted(t for t in texts if t.startswith("twitch")) == sorted(
        f"twitch left_calf {i} uV" for i in range(40)
    )
    assert n_records > 2  # extra records made room ...
    with open_recording(path) as rec:
        assert rec.gaps() == [(1.5, n_records * 1.0)]  # ... and are marked as gap
    twitch = np.array([t.startswith("twitch") for t in texts])
    np.testing.assert_allclose(np.sort(onsets[twitch]), np.arange(40) * 0.03, atol=1e-4)
    np.testing.assert_allclose(durations[twitch], 0.005)  # seconds, both ways


def test_clipped_and_non_finite_samples_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "clip.edf"
    emg = stream("left_calf", Kind.EMG, 100.0)
    x = np.full((1, 100), 10.0, dtype=np.float32)
    x[0, :3] = [7000.0, -9000.0, np.nan]
    with EdfRecorder(path, [emg], START_UTC) as rec:
        rec.write(Block(emg, 0, x))
    assert rec.counts["left_calf", Kind.EMG].clipped == 3
    with open_recording(path) as rec:
        y = read_all(rec)["left_calf", Kind.EMG][0]
    np.testing.assert_allclose(y[:3], [6553.4, -6553.4, 0.0], atol=STEP[Kind.EMG])


def test_stream_starting_after_the_file_start(tmp_path: Path) -> None:
    path = tmp_path / "late.edf"
    emg = stream("left_calf", Kind.EMG, 1000.0, START_UTC + timedelta(seconds=0.5))
    with EdfRecorder(path, [emg], START_UTC) as rec:
        rec.write(Block(emg, 0, np.full((1, 1500), 20.0, dtype=np.float32)))
    with open_recording(path) as rec:
        assert rec.gaps() == [(0.0, 0.5)]
        y = read_all(rec)["left_calf", Kind.EMG][0]
    assert not y[:500].any()
    np.testing.assert_allclose(y[500:2000], 20.0, atol=STEP[Kind.EMG])


def test_record_duration() -> None:
    assert record_duration_s([2000.0, 416.0, 4000.0]) == 1.0
    assert record_duration_s([97.65625]) == 0.256
    assert record_duration_s([97.65625, 50.0]) == 1.28
    assert record_duration_s([0.5]) == 2.0
    assert record_duration_s([math.pi]) is None


@pytest.mark.parametrize(
    ("streams", "problem"),
    [
        ([stream("left_calf", Kind.EMG, math.pi)], "whole samples"),
        ([stream("left_calf", Kind.EMG, 1000.0)] * 2, "two emg streams"),
        ([stream("left_gastrocnemius_medial", Kind.EMG, 1000.0)], "longer than 16"),
        ([], "no streams"),
    ],
)
def test_recorder_refuses_what_it_cannot_write(
    tmp_path: Path, streams: list[StreamInfo], problem: str
) -> None:
    with pytest.raises(RecorderError) as err:
        EdfRecorder(tmp_path / "bad.edf", streams, START_UTC)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_recorder_refuses_blocks_of_unknown_streams_and_after_close(tmp_path: Path) -> None:
    emg = stream("left_calf", Kind.EMG, 1000.0)
    rec = EdfRecorder(tmp_path / "r.edf", [emg], START_UTC)
    with pytest.raises(RecorderError, match="no emg stream right_calf"):
        rec.write(Block(stream("right_calf", Kind.EMG, 1000.0), 0, np.zeros((1, 10), np.float32)))
    rec.close()
    rec.close()  # idempotent
    with pytest.raises(RecorderError, match="closed"):
        rec.annotate(0.0, 0.0, "twitch")
    with pytest.raises(RecorderError, match="closed"):
        rec.write(Block(emg, 0, np.zeros((1, 10), np.float32)))


def test_recorder_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RecorderError, match="cannot create") as err:
        EdfRecorder(tmp_path / "no" / "r.edf", [stream("left_calf", Kind.EMG, 1000.0)], START_UTC)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- bad files


def _valid(path: Path) -> Path:
    values = np.zeros(300)
    write_third_party(path, [("EMG left_calf", "uV", 100, values, 100.0)])
    return path


def _patched(path: Path, offset: int, new: bytes) -> Path:
    raw = bytearray(_valid(path).read_bytes())
    raw[offset : offset + len(new)] = new
    path.write_bytes(bytes(raw))
    return path


def _bad_missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere.edf"


def _bad_text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.edf"
    path.write_text("this is not an EDF file\n" * 20)
    return path


def _bad_truncated(tmp_path: Path) -> Path:
    path = _valid(tmp_path / "cut.edf")
    path.write_bytes(path.read_bytes()[:-100])
    return path


def _bad_ecg_only(tmp_path: Path) -> Path:
    path = tmp_path / "ecg.edf"
    write_third_party(path, [("ECG", "mV", 100, np.zeros(100), 5.0)])
    return path


def _bad_unit(tmp_path: Path) -> Path:
    path = tmp_path / "furlongs.edf"
    write_third_party(path, [("EMG left_calf", "furlongs", 100, np.zeros(100), 5.0)])
    return path


def _bad_duplicate(tmp_path: Path) -> Path:
    path = tmp_path / "dup.edf"
    zeros = np.zeros(100)
    write_third_party(
        path, [("EMG left_calf", "uV", 100, zeros, 5.0), ("EMG l_calf", "uV", 100, zeros, 5.0)]
    )
    return path


def _bad_missing_axis(tmp_path: Path) -> Path:
    path = tmp_path / "two_axes.edf"
    zeros = np.zeros(100)
    write_third_party(
        path, [("ACC X left_calf", "g", 100, zeros, 4.0), ("ACC Z left_calf", "g", 100, zeros, 4.0)]
    )
    return path


def _bad_discontinuous(tmp_path: Path) -> Path:
    return _patched(tmp_path / "d.edf", 192, b"EDF+D")


def _bad_zero_rate(tmp_path: Path) -> Path:
    # Signal 0's "samples per data record": after the fixed header and 7 other fields of 2 signals
    # (the annotation signal is the second).
    return _patched(tmp_path / "zero.edf", 256 + 2 * (16 + 80 + 8 * 5 + 80), b"0       ")


def _bad_micro_sign(tmp_path: Path) -> Path:
    return _patched(tmp_path / "latin1.edf", 256 + 2 * (16 + 80), b"\xb5V      ")


def _bad_directory(tmp_path: Path) -> Path:
    path = tmp_path / "folder.edf"
    path.mkdir()
    return path


BAD_FILES = {
    "missing": (_bad_missing, "no such file"),
    "text_file": (_bad_text, "not an EDF or BDF file"),
    "truncated": (_bad_truncated, "truncated"),
    "ecg_only": (_bad_ecg_only, "no EMG or ACC channel; labels found: 'ECG'"),
    "unknown_unit": (_bad_unit, "channel 'EMG left_calf': unknown emg unit 'furlongs'"),
    "duplicate": (_bad_duplicate, "'EMG left_calf' and 'EMG l_calf' are both EMG left_calf"),
    "missing_axis": (_bad_missing_axis, "site 'left_calf' has ACC without axis Y"),
    "discontinuous": (_bad_discontinuous, "EDF+D (discontinuous)"),
    "zero_rate": (_bad_zero_rate, "sample rate must be positive"),
    "micro_sign": (_bad_micro_sign, "not ASCII"),
    "directory": (_bad_directory, "is a directory"),
}


@pytest.mark.parametrize(("make", "problem"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_fail_with_one_line(tmp_path: Path, make, problem: str) -> None:
    path = make(tmp_path)
    with pytest.raises(RecordingError) as err:
        open_recording(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_closed_recording_refuses_to_read(tmp_path: Path) -> None:
    rec = open_recording(_valid(tmp_path / "ok.edf"))
    rec.close()
    with pytest.raises(RecordingError, match="closed"):
        next(rec.chunks())
