"""`twitchwatch analyze FILE [--json]` as DESIGN.md pins it ("EDF+ conventions"): the JSON
document, the table, any rate, unit, site and channel set, EDF+ and BDF; bad files fail in one
line with exit code 2; the real emgdb needle EMG is excluded, not counted."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyedflib
import pytest
from scipy.signal import resample_poly

from bench.emgdb import EMGDB_ENV, emgdb_dir, emgdb_records
from edge.edf import EdfRecorder
from edge.stream import Block, Span, StreamInfo
from firmware_sim.scenario import Scenario
from firmware_sim.scenarios import SCENARIOS
from tests.test_edf import write_third_party
from twitchwatch.cli import main
from twitchwatch.contract import Kind, Reason

START_UTC = datetime(2026, 3, 1, 22, 15, 7, tzinfo=UTC)
SECONDS = 120  # of each simulated excerpt: enough for a rate (>= 60 s of rest), still fast
EMG_TOLERANCE_S = 0.025  # a detected EMG twitch matches a true one within this
#: A mechanical twitch peaks 50-150 ms after its potential (bench/accuracy.py, detector.md §2).
ACC_TOLERANCE_S = 0.2
CHANNELS = {Kind.EMG: ("emg",), Kind.ACC: ("x", "y", "z")}

# Pinned by DESIGN.md, plus the additive "detector" record (issue 13: provenance).
DOC_KEYS = {"file", "duration_s", "sites", "events", "excluded", "summary", "detector"}
EVENT_KEYS = {"t", "site", "kind", "duration_s", "amplitude", "unit"}
EXCLUDED_KEYS = {"start", "end", "site", "reason", "evidence"}
SUMMARY_KEYS = {"twitches", "rest_s", "twitches_per_min", "cramps"}
EVENT_KINDS = {"twitch", "cramp"}
REASONS = {"voluntary", "motion", "artifact", "gap"}


# ---------------------------------------------------------------- running the command


def run_analyze(path: Path | str, capsys: pytest.CaptureFixture[str], *flags: str):
    """``twitchwatch analyze`` in-process: (exit code, stdout, stderr)."""
    code = main(["analyze", str(path), *flags])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _no_constants(name: str) -> float:
    raise AssertionError(f"{name} is not JSON")


def analyze_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The document ``analyze --json`` prints: exactly one JSON object on one line, checked."""
    code, out, err = run_analyze(path, capsys, "--json")
    assert code == 0, err
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1, out[:300]
    doc = json.loads(out, parse_constant=_no_constants)  # NaN/Infinity are not JSON
    assert isinstance(doc, dict)
    check_document(doc, path)
    return doc


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> str:
    """Exit code 2, nothing on stdout, one line on stderr naming the problem."""
    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("twitchwatch: ") and err.endswith("\n") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def check_document(doc: dict[str, Any], path: Path) -> None:
    """Everything DESIGN.md pins about the document, and its internal consistency."""
    assert set(doc) == DOC_KEYS
    assert doc["file"] == str(path)
    duration = doc["duration_s"]
    assert isinstance(duration, float | int) and duration > 0
    sites = doc["sites"]
    assert isinstance(sites, list) and len(set(sites)) == len(sites) and sites
    assert all(isinstance(s, str) and s == s.lower() for s in sites)
    assert set(doc["summary"]) == set(sites)

    for event in doc["events"]:
        assert set(event) == EVENT_KEYS, event
        assert event["kind"] in EVENT_KINDS and event["site"] in sites
        assert 0 <= event["t"] <= duration
        assert event["unit"] in {"uV", "g"}
        assert isinstance(event["amplitude"], float | int) and event["amplitude"] > 0
        assert event["duration_s"] is None or event["duration_s"] > 0
        if event["kind"] == "cramp":
            assert event["duration_s"] > 0 and event["unit"] == "uV"
    times = [e["t"] for e in doc["events"]]
    assert times == sorted(times)

    for span in doc["excluded"]:
        assert set(span) == EXCLUDED_KEYS, span
        assert span["reason"] in REASONS and span["site"] in sites
        assert 0 <= span["start"] < span["end"] <= duration
        assert isinstance(span["evidence"], str) and span["evidence"]
    detector = doc["detector"]
    assert set(detector) == {"name", "version", "settings"} and detector["settings"]
    json.dumps(detector)  # plain JSON values only

    for site in sites:
        summary = doc["summary"][site]
        assert set(summary) == SUMMARY_KEYS
        twitches = [e for e in doc["events"] if e["site"] == site and e["kind"] == "twitch"]
        cramps = [e for e in doc["events"] if e["site"] == site and e["kind"] == "cramp"]
        assert type(summary["twitches"]) is int and summary["twitches"] == len(twitches)
        assert type(summary["cramps"]) is int and summary["cramps"] == len(cramps)
        assert 0 <= summary["rest_s"] <= duration
        # A partition: one reason per instant, so excluded time plus rest fits the recording.
        spans = sorted((x["start"], x["end"]) for x in doc["excluded"] if x["site"] == site)
        assert all(b <= c + 1e-4 for (_, b), (c, _) in itertools.pairwise(spans)), spans
        excluded_s = sum(b - a for a, b in spans)
        assert excluded_s + summary["rest_s"] <= duration + 0.01
        if summary["rest_s"] < 60:
            assert summary["twitches_per_min"] is None
        else:
            expected = summary["twitches"] / (summary["rest_s"] / 60)
            assert summary["twitches_per_min"] == pytest.approx(expected, abs=0.01)
        # Excluded time is excluded: no twitch is counted inside it.
        for span in doc["excluded"]:
            if span["site"] == site:
                inside = [e["t"] for e in twitches if span["start"] < e["t"] < span["end"]]
                assert not inside, (span, inside)


def twitch_times(doc: dict[str, Any], site: str) -> np.ndarray:
    return np.array([e["t"] for e in doc["events"] if e["site"] == site and e["kind"] == "twitch"])


def matched(found: np.ndarray, truth: np.ndarray, tolerance_s: float) -> float:
    """Share of ``found`` within ``tolerance_s`` of some time of ``truth`` (1.0 when empty)."""
    if found.size == 0:
        return 1.0
    if truth.size == 0:
        return 0.0
    return float(np.mean(np.abs(found[:, None] - truth[None, :]).min(axis=1) <= tolerance_s))


def assert_matches_truth(
    doc: dict[str, Any],
    site: str,
    truth: np.ndarray,
    tolerance_s: float = EMG_TOLERANCE_S,
    share: float = 0.95,
) -> None:
    found = twitch_times(doc, site)
    assert truth.size >= 10, "too few true twitches for the test to mean anything"
    sensitivity, precision = matched(truth, found, tolerance_s), matched(found, truth, tolerance_s)
    assert sensitivity >= share and precision >= share, (site, sensitivity, precision)


def merged_length(spans: Sequence[tuple[float, float]], lo: float, hi: float) -> float:
    """Seconds of ``[lo, hi]`` that the union of ``spans`` covers."""
    total, end = 0.0, lo
    for a, b in sorted(spans):
        a, b = max(a, end), min(b, hi)
        if b > a:
            total += b - a
            end = b
    return total


# ---------------------------------------------------------------- simulated recordings


def scenario(name: str) -> Scenario:
    return SCENARIOS[name]


def truth_peaks(sc: Scenario, site: str, seconds: float = SECONDS) -> np.ndarray:
    return np.array(
        [
            r.peak_s
            for r in sc.truth()
            if r.site == site and r.kind == "twitch" and r.peak_s < seconds
        ]
    )


def render(sc: Scenario, site: str, seconds: float = SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(EMG µV (n,), ACC g (3, m)) of a site for the first ``seconds``."""
    gen = sc.generator(site)
    emg = gen.emg(0, round(seconds * sc.emg_fs_hz))
    acc = gen.acc(0, round(seconds * sc.acc_fs_hz))
    return emg, acc


def record_scenario(
    path: Path,
    sc: Scenario,
    seconds: float = SECONDS,
    *,
    kinds: Sequence[Kind] = (Kind.EMG, Kind.ACC),
    gap_s: tuple[float, float] | None = None,
) -> None:
    """Write a scenario's sites with EdfRecorder, as the edge agent does: 1 s blocks of each
    stream interleaved; samples in ``gap_s`` are never received and marked as a gap."""
    data: dict[StreamInfo, np.ndarray] = {}
    for spec in sc.sites:
        emg, acc = render(sc, spec.site, seconds)
        for kind, fs, x, present in (
            (Kind.EMG, sc.emg_fs_hz, emg[None, :], spec.emg),
            (Kind.ACC, sc.acc_fs_hz, acc, spec.acc),
        ):
            if present and kind in kinds:
                info = StreamInfo("tw-test-01", spec.site, kind, CHANNELS[kind], fs, START_UTC)
                data[info] = x.astype(np.float32)
    with EdfRecorder(path, list(data), START_UTC, device="tw-test-01") as rec:
        for second in range(int(np.ceil(seconds))):
            for info, x in data.items():
                a, b = round(second * info.fs), min(x.shape[1], round((second + 1) * info.fs))
                g0 = g1 = b  # no gap: the whole block
                if gap_s is not None:
                    g0, g1 = round(gap_s[0] * info.fs), round(gap_s[1] * info.fs)
                if min(b, g0) > a:  # before the gap
                    rec.write(Block(info, a, x[:, a : min(b, g0)]))
                if a <= g0 < b:
                    rec.mark_gap(info, Span(g0, g1, Reason.GAP))
                if b > max(a, g1):  # after it
                    rec.write(Block(info, max(a, g1), x[:, max(a, g1) : b]))


def emg_channel(
    label: str, unit: str, fs: float, values_uv: np.ndarray, scale: float = 1.0
) -> tuple[str, str, float, np.ndarray, float]:
    """A third-party EMG channel of ±6 mV; ``scale`` converts µV to ``unit`` (1e-3 for mV)."""
    full_scale_uv = 6000.0  # 6000 uV, 6 mV, 0.006 V: all fit EDF's 8-character header fields
    assert np.abs(values_uv).max() < full_scale_uv
    return (label, unit, fs, values_uv * scale, full_scale_uv * scale)


def acc_channels(site: str, unit: str, fs: float, values_g: np.ndarray, scale: float = 1.0):
    """Three third-party ACC channels ``ACC X|Y|Z site``; ``scale`` converts g to ``unit``."""
    physical_max = 4.0 * scale
    return [
        (f"ACC {axis} {site}", unit, fs, values_g[i] * scale, physical_max)
        for i, axis in enumerate("XYZ")
    ]


# ---------------------------------------------------------------- the document


@pytest.fixture(scope="module")
def calf_rest_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("calf") / "calf_rest.edf"
    record_scenario(path, scenario("calf_rest"))
    return path


def test_json_is_one_object_with_the_pinned_shape(
    calf_rest_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = analyze_json(calf_rest_file, capsys)  # the shape is checked there
    assert doc["sites"] == ["left_calf"]
    assert doc["duration_s"] == pytest.approx(SECONDS)
    assert doc["events"] and all(e["kind"] == "twitch" for e in doc["events"])
    twitch = doc["events"][0]
    assert twitch["unit"] == "uV" and 0.003 < twitch["duration_s"] < 0.04
    assert doc["summary"]["left_calf"]["twitches_per_min"] is not None


def test_twitches_are_found_at_their_peaks_in_a_simulated_recording(
    calf_rest_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario("calf_rest")
    doc = analyze_json(calf_rest_file, capsys)
    truth = truth_peaks(sc, "left_calf")
    assert_matches_truth(doc, "left_calf", truth)
    summary = doc["summary"]["left_calf"]
    assert summary["twitches"] == len(twitch_times(doc, "left_calf"))
    assert summary["cramps"] == 0
    assert SECONDS - 5 <= summary["rest_s"] <= doc["duration_s"]  # at rest all along
    assert summary["twitches_per_min"] == pytest.approx(
        summary["twitches"] / (summary["rest_s"] / 60), abs=0.01
    )
    # Amplitudes are peak-to-peak µV of the potentials (tens to hundreds of µV).
    amplitudes = [e["amplitude"] for e in doc["events"]]
    assert 30 < np.median(amplitudes) < 1000


def test_voluntary_contraction_is_excluded_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario("voluntary")
    path = tmp_path / "voluntary.edf"
    record_scenario(path, sc)
    doc = analyze_json(path, capsys)
    site = "right_forearm"
    contractions = [
        (r.start_s, min(r.end_s, SECONDS))
        for r in sc.truth()
        if r.kind == "voluntary" and r.start_s < SECONDS
    ]
    assert contractions, "the excerpt must hold a contraction"
    active = [(s["start"], s["end"]) for s in doc["excluded"] if s["reason"] != "gap"]
    true_s = merged_length(contractions, 0, SECONDS)
    assert merged_length(active, 0, SECONDS) >= 0.9 * true_s
    assert_matches_truth(doc, site, truth_peaks(sc, site))
    summary = doc["summary"][site]
    assert summary["rest_s"] <= SECONDS - 0.9 * true_s


def test_a_short_recording_has_no_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "short.edf"
    record_scenario(path, scenario("calf_rest"), seconds=40)
    doc = analyze_json(path, capsys)
    summary = doc["summary"]["left_calf"]
    assert summary["rest_s"] < 60 and summary["twitches_per_min"] is None
    assert summary["twitches"] > 0  # counted, but too little rest for a rate


def test_table_is_readable(calf_rest_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = analyze_json(calf_rest_file, capsys)
    code, out, err = run_analyze(calf_rest_file, capsys)
    assert code == 0 and err == ""
    assert "{" not in out and "}" not in out
    rows = [line.split() for line in out.splitlines() if line.startswith("left_calf")]
    assert len(rows) == 1
    assert rows[0][1] == str(doc["summary"]["left_calf"]["twitches"])
    assert "not a diagnosis" in out.lower()


# ---------------------------------------------------------------- units


@pytest.fixture(scope="module")
def calf_signals() -> tuple[np.ndarray, np.ndarray]:
    return render(scenario("calf_rest"), "left_calf", 90)


@pytest.mark.parametrize(("unit", "scale"), [("mV", 1e-3), ("V", 1e-6)])
def test_emg_units_give_the_same_events(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    calf_signals: tuple[np.ndarray, np.ndarray],
    unit: str,
    scale: float,
) -> None:
    emg, _ = calf_signals
    fs = scenario("calf_rest").emg_fs_hz
    reference, other = tmp_path / "uv.edf", tmp_path / f"{unit}.edf"
    write_third_party(reference, [emg_channel("EMG left_calf", "uV", fs, emg)])
    write_third_party(other, [emg_channel("EMG left_calf", unit, fs, emg, scale)])
    want, got = analyze_json(reference, capsys), analyze_json(other, capsys)
    assert len(want["events"]) > 10
    assert len(got["events"]) == len(want["events"])
    for a, b in zip(want["events"], got["events"], strict=True):
        assert b["t"] == pytest.approx(a["t"], abs=1e-3)
        assert b["unit"] == "uV"  # reported in µV whatever the file's unit
        assert b["amplitude"] == pytest.approx(a["amplitude"], rel=0.01)
    assert got["summary"] == want["summary"]


@pytest.mark.parametrize(("unit", "scale"), [("mg", 1e3), ("m/s2", 9.80665)])
def test_acc_units_give_the_same_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unit: str, scale: float
) -> None:
    sc = scenario("acc_only_eyelid")
    _, acc = render(sc, "left_eyelid", 90)
    reference, other = tmp_path / "g.edf", tmp_path / f"{unit.replace('/', '_')}.edf"
    write_third_party(reference, acc_channels("l_eyelid", "g", sc.acc_fs_hz, acc))
    write_third_party(other, acc_channels("l_eyelid", unit, sc.acc_fs_hz, acc, scale))
    want, got = analyze_json(reference, capsys), analyze_json(other, capsys)
    assert len(want["events"]) >= 5
    assert len(got["events"]) == len(want["events"])
    for a, b in zip(want["events"], got["events"], strict=True):
        assert b["t"] == pytest.approx(a["t"], abs=0.005)
        assert b["unit"] == "g"
        assert b["amplitude"] == pytest.approx(a["amplitude"], rel=0.01)


def test_an_unknown_unit_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "furlongs.edf"
    x = np.random.default_rng(0).normal(0, 3, 2000 * 5)
    write_third_party(path, [("EMG left_calf", "furlongs", 2000, x, 100.0)])
    assert_one_line_error(*run_analyze(path, capsys, "--json"), "furlongs", "EMG left_calf")


# ---------------------------------------------------------------- sample rates

#: EMG rates as ``resample_poly`` (up, down) factors from the simulator's 2000 Hz. Its anti-alias
#: filter band-limits the 500 Hz signal to below 250 Hz (the detector then uses 20-225 Hz).
RATES = {1000: (1, 2), 1024: (64, 125), 4000: (2, 1), 500: (1, 4)}


@pytest.mark.parametrize("fs", list(RATES))
def test_any_emg_rate_is_analysed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    calf_signals: tuple[np.ndarray, np.ndarray],
    fs: int,
) -> None:
    emg, _ = calf_signals
    up, down = RATES[fs]
    x = resample_poly(emg, up, down)
    path = tmp_path / f"emg_{fs}.edf"
    write_third_party(path, [emg_channel("EMG left_calf", "uV", fs, x)])
    doc = analyze_json(path, capsys)
    assert_matches_truth(doc, "left_calf", truth_peaks(scenario("calf_rest"), "left_calf", 90))


def test_emg_rate_too_low_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "emg_60hz.edf"
    write_third_party(path, [("EMG left_calf", "uV", 60, np.zeros(60 * 10), 100.0)])
    assert_one_line_error(*run_analyze(path, capsys), "60 Hz")


def test_acc_rate_too_low_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "acc_10hz.edf"
    write_third_party(path, acc_channels("left_calf", "g", 10, np.zeros((3, 100))))
    assert_one_line_error(*run_analyze(path, capsys), "10 Hz")


def test_rate_error_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "emg_60hz.edf"
    write_third_party(path, [("EMG left_calf", "uV", 60, np.zeros(60 * 10), 100.0)])
    assert_one_line_error(*run_analyze(path, capsys), "60 Hz", str(path))


def stated_minimum_hz(err: str) -> float:
    words = err.split("needs at least ", 1)[1].split()
    assert words[1].startswith("Hz"), err
    return float(words[0])


def test_emg_rate_below_the_stated_minimum_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    low = tmp_path / "emg_60hz.edf"
    write_third_party(low, [("EMG left_calf", "uV", 60, np.zeros(60 * 10), 100.0)])
    minimum = stated_minimum_hz(assert_one_line_error(*run_analyze(low, capsys)))
    fs = round(0.75 * minimum)  # well below what the message says is needed
    x = np.random.default_rng(1).normal(0, 3, fs * 70)
    path = tmp_path / f"emg_{fs}hz.edf"
    write_third_party(path, [("EMG left_calf", "uV", fs, x, 100.0)])
    assert_one_line_error(*run_analyze(path, capsys), f"{fs} Hz")


# ---------------------------------------------------------------- sites and channel sets


def test_several_sites_short_sides_and_unknown_sites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two, hand = scenario("two_sites"), scenario("hand_rest")
    calf_emg, calf_acc = render(two, "left_calf")
    thumb_emg, _ = render(two, "right_thumb")
    arm_emg, _ = render(hand, "right_hand")  # a hand's twitches, on a site outside the taxonomy
    fs, fa = two.emg_fs_hz, two.acc_fs_hz
    path = tmp_path / "three_sites.edf"
    write_third_party(
        path,
        [
            emg_channel("EMG l_calf", "uV", fs, calf_emg),
            *acc_channels("l_calf", "g", fa, calf_acc),
            emg_channel("EMG r_thumb", "uV", fs, thumb_emg),
            emg_channel("EMG left_arm", "uV", fs, arm_emg),
            ("ECG", "mV", 250, np.zeros(250 * SECONDS), 5.0),  # not ours: ignored
        ],
    )
    doc = analyze_json(path, capsys)
    assert sorted(doc["sites"]) == ["left_arm", "left_calf", "right_thumb"]
    assert_matches_truth(doc, "left_calf", truth_peaks(two, "left_calf"))
    assert_matches_truth(doc, "right_thumb", truth_peaks(two, "right_thumb"))
    assert_matches_truth(doc, "left_arm", truth_peaks(hand, "right_hand"))


def test_two_sites_recorded_by_the_edge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = scenario("two_sites")
    path = tmp_path / "two_sites.edf"
    record_scenario(path, sc)
    doc = analyze_json(path, capsys)
    assert sorted(doc["sites"]) == ["left_calf", "right_thumb"]
    for spec in sc.sites:
        assert_matches_truth(doc, spec.site, truth_peaks(sc, spec.site))


def test_emg_only_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = scenario("calf_rest")
    path = tmp_path / "emg_only.edf"
    record_scenario(path, sc, kinds=(Kind.EMG,))
    with pyedflib.EdfReader(str(path)) as reader:
        assert reader.getSignalLabels() == ["EMG left_calf"]
    doc = analyze_json(path, capsys)
    assert doc["sites"] == ["left_calf"]
    assert_matches_truth(doc, "left_calf", truth_peaks(sc, "left_calf"))
    assert all(e["unit"] == "uV" for e in doc["events"])


def test_acc_only_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = scenario("acc_only_eyelid")
    path = tmp_path / "acc_only.edf"
    record_scenario(path, sc)
    with pyedflib.EdfReader(str(path)) as reader:
        assert reader.getSignalLabels() == [f"ACC {a} l_eyelid" for a in "XYZ"]  # 16 chars
    doc = analyze_json(path, capsys)
    assert doc["sites"] == ["left_eyelid"]
    assert doc["events"]
    for event in doc["events"]:
        assert event["kind"] == "twitch" and event["unit"] == "g"
        assert event["duration_s"] is None  # an accelerometer does not see a potential's length
        assert 0.004 <= event["amplitude"] < 1.0
    # Visible twitches only; a quick burst of them is motion. What is found is real.
    truth, found = truth_peaks(sc, "left_eyelid"), twitch_times(doc, "left_eyelid")
    assert matched(found, truth, ACC_TOLERANCE_S) >= 0.9
    assert matched(truth, found, ACC_TOLERANCE_S) >= 0.6


def test_bdf_gives_the_same_events_as_edf(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    calf_signals: tuple[np.ndarray, np.ndarray],
) -> None:
    emg, acc = calf_signals
    sc = scenario("calf_rest")
    channels = [
        emg_channel("EMG left_calf", "uV", sc.emg_fs_hz, emg),
        *acc_channels("left_calf", "g", sc.acc_fs_hz, acc),
    ]
    edf, bdf = tmp_path / "calf.edf", tmp_path / "calf.bdf"
    write_third_party(edf, channels, file_type=pyedflib.FILETYPE_EDFPLUS)
    write_third_party(bdf, channels, file_type=pyedflib.FILETYPE_BDFPLUS)
    assert bdf.read_bytes()[:8] == b"\xffBIOSEMI"
    want, got = analyze_json(edf, capsys), analyze_json(bdf, capsys)
    assert len(want["events"]) > 10
    assert [e["t"] for e in got["events"]] == pytest.approx(
        [e["t"] for e in want["events"]], abs=1e-3
    )
    assert [e["amplitude"] for e in got["events"]] == pytest.approx(
        [e["amplitude"] for e in want["events"]], rel=0.01
    )
    assert got["summary"] == want["summary"]


# ---------------------------------------------------------------- gaps


def analyze_with_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gap: tuple[float, float]
) -> tuple[Scenario, dict[str, Any], dict[str, Any]]:
    """calf_rest analysed whole and with ``gap`` never received: (scenario, whole, holed)."""
    sc = scenario("calf_rest")
    whole, holed = tmp_path / "whole.edf", tmp_path / "gap.edf"
    record_scenario(whole, sc)
    record_scenario(holed, sc, gap_s=gap)
    return sc, analyze_json(whole, capsys), analyze_json(holed, capsys)


def test_a_gap_is_excluded_and_not_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gap = (40.0, 55.0)
    sc, want, got = analyze_with_gap(tmp_path, capsys, gap)

    gaps = [(s["start"], s["end"]) for s in got["excluded"] if s["reason"] == "gap"]
    assert any(a <= gap[0] + 1e-3 and b >= gap[1] - 1e-3 for a, b in gaps), gaps
    found = twitch_times(got, "left_calf")
    assert not np.any((found > gap[0]) & (found < gap[1]))
    rest, rest_whole = got["summary"]["left_calf"]["rest_s"], want["summary"]["left_calf"]["rest_s"]
    assert rest <= rest_whole - (gap[1] - gap[0])
    assert rest >= rest_whole - (gap[1] - gap[0]) - 2.0  # a settling time after the gap at most
    # The twitches outside the gap are still found.
    truth = truth_peaks(sc, "left_calf")
    outside = truth[(truth < gap[0] - 0.5) | (truth > gap[1] + 1.0)]
    assert matched(outside, found, EMG_TOLERANCE_S) >= 0.95


def test_a_lost_packet_in_a_file_costs_only_its_own_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 50 ms hole in a recording (zeros under a ``gap`` annotation, as the edge writes a lost
    radio notification) is bridged: the gap is exactly the hole, with its evidence, and the
    twitches around it are the whole file's."""
    hole = (40.0, 40.05)
    _, want, got = analyze_with_gap(tmp_path, capsys, hole)
    gaps = [s for s in got["excluded"] if s["reason"] == "gap" and 1.0 < s["start"] < 100.0]
    assert len(gaps) == 1 and np.allclose([gaps[0]["start"], gaps[0]["end"]], hole, atol=1e-3)
    assert "a lost radio packet" in gaps[0]["evidence"]
    rest, rest_whole = got["summary"]["left_calf"]["rest_s"], want["summary"]["left_calf"]["rest_s"]
    assert rest == pytest.approx(rest_whole - (hole[1] - hole[0]), abs=0.01)
    assert np.array_equal(twitch_times(got, "left_calf"), twitch_times(want, "left_calf"))


# ---------------------------------------------------------------- bad files


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere.edf"


def _directory(tmp_path: Path) -> Path:
    path = tmp_path / "folder.edf"
    path.mkdir()
    return path


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.edf"
    path.write_text("time,emg\n0.0,1.5\n0.0005,2.1\n")
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.edf"
    path.write_bytes(b"")
    return path


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "truncated.edf"
    x = np.random.default_rng(0).normal(0, 3, 2000 * 10)
    write_third_party(path, [("EMG left_calf", "uV", 2000, x, 100.0)])
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def _truncated_header(tmp_path: Path) -> Path:
    path = tmp_path / "header.edf"
    x = np.random.default_rng(0).normal(0, 3, 2000 * 2)
    write_third_party(path, [("EMG left_calf", "uV", 2000, x, 100.0)])
    path.write_bytes(path.read_bytes()[:300])
    return path


def _ecg_only(tmp_path: Path) -> Path:
    path = tmp_path / "ecg.edf"
    write_third_party(path, [("ECG", "mV", 250, np.zeros(250 * 10), 5.0)])
    return path


def _acc_without_z(tmp_path: Path) -> Path:
    path = tmp_path / "acc_xy.edf"
    write_third_party(path, acc_channels("left_calf", "g", 50, np.zeros((3, 500)))[:2])
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "missing": (_missing, ("nowhere.edf", "no such file")),
    "directory": (_directory, ("folder.edf", "directory")),
    "text_renamed_edf": (_text, ("notes.edf", "not an EDF or BDF file")),
    "empty": (_empty, ("empty.edf", "not an EDF or BDF file")),
    "truncated": (_truncated, ("truncated.edf", "truncated")),
    "truncated_header": (_truncated_header, ("header.edf", "truncated")),
    "ecg_only": (_ecg_only, ("ecg.edf", "no EMG or ACC channel", "ECG")),
    "acc_without_z": (_acc_without_z, ("acc_xy.edf", "Z")),
}


@pytest.mark.parametrize("flags", [(), ("--json",)], ids=["table", "json"])
@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_bad_files_fail_in_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str, flags: tuple[str, ...]
) -> None:
    make, needles = BAD_FILES[bad]
    path = make(tmp_path)
    assert_one_line_error(*run_analyze(path, capsys, *flags), *needles)


def test_errors_from_a_separate_process(tmp_path: Path) -> None:
    path = _text(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "twitchwatch", "analyze", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_error(result.returncode, result.stdout, result.stderr, "notes.edf")


# ---------------------------------------------------------------- real needle EMG (emgdb)


@pytest.fixture(scope="module")
def emgdb_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    """Each emgdb record as an EDF+ file the edge would write: name -> (path, seconds)."""
    if not emgdb_dir().is_dir():
        pytest.skip(f"emgdb records not present in {emgdb_dir()} (set {EMGDB_ENV})")
    folder = tmp_path_factory.mktemp("emgdb")
    files = {}
    for record in emgdb_records():
        info = StreamInfo("emgdb", "right_shin", Kind.EMG, ("emg",), record.fs, START_UTC)
        path = folder / f"{record.name}.edf"
        with EdfRecorder(path, [info], START_UTC) as rec:
            rec.write(Block(info, 0, record.signal_uv[None, :]))
        assert rec.counts["right_shin", Kind.EMG].clipped == 0
        files[record.name] = (path, record.signal_uv.size / record.fs)
    return files


def emgdb_figures(doc: dict[str, Any], seconds: float) -> dict[str, float]:
    def share(reasons: set[str]) -> float:
        spans = [(s["start"], s["end"]) for s in doc["excluded"] if s["reason"] in reasons]
        return merged_length(spans, 0.0, seconds) / seconds

    return {
        "seconds": seconds,
        "voluntary": share({"voluntary"}),
        "excluded": share(REASONS - {"gap"}),
        "twitches": doc["summary"]["right_shin"]["twitches"],
        "cramps": doc["summary"]["right_shin"]["cramps"],
    }


EMGDB_NAMES = ("emg_healthy", "emg_myopathy", "emg_neuropathy")


@pytest.mark.parametrize("name", EMGDB_NAMES)
def test_real_needle_emg_is_excluded_as_voluntary_not_counted(
    emgdb_files: dict[str, tuple[Path, float]], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path, seconds = emgdb_files[name]
    doc = analyze_json(path, capsys)
    figures = emgdb_figures(doc, seconds)
    with capsys.disabled():
        print(f"\nemgdb {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items()))
    assert doc["sites"] == ["right_shin"]
    assert figures["excluded"] >= 0.8
    assert figures["twitches"] / (seconds / 60) < 1.0
    assert figures["cramps"] == 0
    assert figures["voluntary"] >= 0.8
