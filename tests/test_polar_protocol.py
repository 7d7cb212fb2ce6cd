"""Polar PMD codec against real byte vectors, plus round trips of the simulator's encoders.

tests/data/polar_pmd/vectors.json (provenance in SOURCE.md beside it) holds 42 cases from Polar's
document and public unit tests. Every case is checked here; an encoder/decoder bug they share
cannot hide behind a round trip.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge.drivers.base import StreamSpec
from edge.drivers.polar_pmd import frames as pmd_frames
from edge.drivers.polar_pmd import protocol as pmd
from edge.drivers.polar_pmd.driver import PolarDriver, choose_settings
from edge.stream import StreamInfo
from edge.timeline import StreamTimeline
from firmware_sim.polar_pmd.firmware import (
    H10,
    VERITY,
    PolarFirmware,
    encode_delta,
    encode_raw_int16,
)
from twitchwatch.contract import Kind

VECTORS = Path(__file__).parent / "data" / "polar_pmd" / "vectors.json"
VECTORS_SHA256 = "3c4a49d04dfa882de75ade87c85b109ada05453253f0bf872cd06b07481562d3"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text())
BY_ID = {case["id"]: case for case in CASES}
SETTING = {t.name: t for t in pmd.SettingType}


def test_the_vectors_are_the_published_ones() -> None:
    assert hashlib.sha256(VECTORS.read_bytes()).hexdigest() == VECTORS_SHA256
    assert len(CASES) == 42 and len(BY_ID) == 42


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_vector(case_id: str) -> None:
    case = BY_ID[case_id]
    CHECKS[case["kind"]](case)


# --- per kind ---------------------------------------------------------------------------------


def check_acc_frame(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    expected = case["expected"]
    if case.get("truncated"):
        with pytest.raises(pmd.ProtocolError, match="declares 29 samples of 8-bit deltas"):
            pmd_frames.decode_acc_frame(data)
        # Samples 0..2 are what the document states: the same frame with its block cut to the
        # two deltas printed in full.
        data = data[:16] + bytes((expected["delta_bits"], 2)) + data[18:24]
    frame = pmd_frames.decode_acc_frame(data)
    assert frame.compressed is case["compressed"] and frame.frame_type == case["frame_type"]
    if expected["timestamp_ns"] is not None:
        assert frame.timestamp_ns == expected["timestamp_ns"]
    counts = frame.counts
    if "sample_count" in expected:
        assert frame.n_samples == expected["sample_count"]
    if "samples" in expected:
        assert counts.tolist() == expected["samples"]
    factor = case["conversion_factor"]
    if expected["unit"] == "mG" and factor != 1.0:
        for index, raw in expected["samples_raw_by_index"].items():
            assert counts[int(index)].tolist() == raw
        # The source's own expression: (factor * raw * 1000f).toInt() in float32.
        mg = np.trunc(np.float32(factor) * counts.astype(np.float32) * np.float32(1000.0))
        for index, value in expected["samples_by_index"].items():
            assert mg[int(index)].tolist() == value
        assert np.abs(mg).max() <= expected["abs_max_all_samples_mG"]
    else:
        for index, value in expected.get("samples_by_index", {}).items():
            assert counts[int(index)].tolist() == value
    context = case["decode_context"]
    previous = context.get("previous_timestamp_ns")
    if previous is None:
        return
    # The SDK treats a previous timestamp of 0 as "none" and spaces samples at the nominal rate.
    fs = context.get("sample_rate_hz") or None
    times = pmd_frames.sample_times_ns(frame.timestamp_ns, frame.n_samples, previous or None, fs)
    assert times[-1] == frame.timestamp_ns
    if "per_sample_timestamps_ns" in expected:
        assert times.tolist() == expected["per_sample_timestamps_ns"]
    elif previous:
        step = (frame.timestamp_ns - previous) / frame.n_samples
        assert times[0] == round(previous + step)
    else:
        assert np.diff(times) == pytest.approx(1e9 / fs, abs=1)


def check_acc_payload(case: dict[str, Any]) -> None:
    counts = pmd_frames.decode_raw_samples(bytes.fromhex(case["hex"]), case["frame_type"])
    assert counts.tolist() == case["expected"]["samples"]
    assert len(counts) == case["expected"]["sample_count"]


def check_delta_payload(case: dict[str, Any]) -> None:
    context, expected = case["decode_context"], case["expected"]
    counts = pmd_frames.decode_delta_samples(
        bytes.fromhex(case["hex"]), context["channels"], context["resolution_bits"]
    )
    if "reference_sample" in expected:
        assert counts.tolist() == [expected["reference_sample"]]
        return
    assert len(counts) == expected["sample_count"]
    if "samples" in expected:
        assert counts.tolist() == expected["samples"]
    for index, value in expected.get("samples_by_index", {}).items():
        assert counts[int(index)].tolist() == value


def check_other_frame(case: dict[str, Any]) -> None:
    frame = pmd_frames.parse_frame(bytes.fromhex(case["hex"]))
    expected, context = case["expected"], case["decode_context"]
    assert frame.measurement_type == case["measurement_type"] == pmd.MeasurementType.GYRO
    assert frame.timestamp_ns == expected["timestamp_ns"] == 2**63 - 1
    assert frame.compressed and frame.frame_type == case["frame_type"]
    counts = pmd_frames.decode_delta_samples(
        frame.payload, context["channels"], context["resolution_bits"]
    )
    assert counts.tolist() == expected["samples"]
    with pytest.raises(pmd.ProtocolError, match="expected ACC"):
        pmd_frames.decode_acc_frame(bytes.fromhex(case["hex"]))


def check_frame_header(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if "error" in expected:
        for data in (bytes.fromhex(case["hex"]), b""):
            with pytest.raises(pmd.ProtocolError, match="frame too short"):
                pmd_frames.parse_frame(data)
        return
    if "hex_sequence" in case:
        frames = [pmd_frames.parse_frame(bytes.fromhex(h)) for h in case["hex_sequence"]]
        # Each ACC frame's "previous timestamp" is the last ACC frame's; other types do not count.
        got, previous = [], 0
        for frame in frames:
            if frame.measurement_type == pmd.MeasurementType.ACC:
                got.append({"timestamp_ns": frame.timestamp_ns, "previous_timestamp_ns": previous})
                previous = frame.timestamp_ns
        assert got == expected["acc_frames"]
        return
    frame = pmd_frames.parse_frame(bytes.fromhex(case["hex"]))
    assert frame.measurement_type == expected["measurement_type"]
    assert frame.timestamp_ns == expected["timestamp_ns"]
    assert frame.compressed is expected["compressed"]
    assert frame.frame_type == expected["frame_type"]
    assert frame.payload.hex().upper() == expected["payload_hex"]
    if "previous_timestamp_ns" in expected:  # the first ACC frame: nothing before it
        assert expected["previous_timestamp_ns"] == 0


def check_control_point(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    expected = case["expected"]
    direction = case["direction"]
    if "table" in expected:
        for byte, name in expected["table"].items():
            assert pmd.measurement_status(int(byte, 16)).name == name
        return
    if "error" in expected:
        with pytest.raises(pmd.ProtocolError, match="RESOLUTION declares 1 value"):
            pmd.parse_settings(data)
        return
    meaning = expected["meaning"]
    if direction == "client_to_sensor":
        check_request(data, meaning, expected)
        if "response_hex" in expected:
            check_response(bytes.fromhex(expected["response_hex"]), expected["response_meaning"])
    elif direction.startswith("settings_tlv"):
        check_settings(pmd.parse_settings(data), meaning["settings"])
        parsed = pmd.parse_settings(data)
        assert len(parsed) == meaning.get("setting_count", len(meaning["settings"]))
        for name in meaning.get("absent", []):
            assert SETTING[name] not in parsed
        if plain_numbers(meaning["settings"]):
            assert pmd.encode_settings(encodable(meaning["settings"])) == data
    elif meaning.get("response_code") == pmd.FEATURES_CODE:
        features = pmd.parse_features(data)
        names = {"ecg": 0, "ppg": 1, "acc": 2, "ppi": 3, "bit4": 4, "gyro": 5, "mag": 6}
        for name, supported in meaning["supported"].items():
            assert (names[name] in features) is supported
        assert data[1] == meaning["feature_bitmap"]
    elif "code_name" in meaning:
        message = pmd.parse_control_point_message(data)
        assert meaning["code"] == pmd.MEASUREMENT_STOPPED_CODE
        assert message == pmd.MeasurementStopped(tuple(meaning["stopped_measurement_types"]))
        assert pmd.parse_control_point_message(b"\x01") == pmd.MeasurementStopped(())
    else:
        check_response(data, meaning)


def check_request(data: bytes, meaning: dict[str, Any], expected: dict[str, Any]) -> None:
    recording = (
        pmd.RecordingType.OFFLINE
        if meaning.get("recording_type") == "OFFLINE"
        else pmd.RecordingType.ONLINE
    )
    if "op_name" in meaning:
        assert pmd.Opcode(meaning["op_code"]).name == meaning["op_name"]
    if "measurement_name" in meaning:
        assert pmd.MeasurementType(meaning["measurement_type"]).name == meaning["measurement_name"]
    encoded = pmd.encode_request(
        pmd.Opcode(meaning["op_code"]),
        pmd.MeasurementType(meaning["measurement_type"]),
        encodable(meaning.get("settings", {})),
        recording,
    )
    if "asserted_bytes" in expected:  # a prefix only: the settings that follow are not given
        assert data == encoded[:2]
        assert all(encoded[int(i)] == b for i, b in expected["asserted_bytes"].items())
        return
    assert encoded == data
    request = pmd.decode_request(data)
    assert (request.opcode, request.measurement_type) == (
        meaning["op_code"],
        meaning["measurement_type"],
    )
    assert request.recording is recording
    check_settings(request.settings, meaning.get("settings", {}))


def check_response(data: bytes, meaning: dict[str, Any]) -> None:
    response = pmd.parse_response(data)
    assert data[0] == meaning["response_code"] == pmd.RESPONSE_CODE
    assert response.opcode == meaning["op_code"]
    assert response.measurement_type == meaning["measurement_type"]
    assert response.status == meaning["status"]
    assert response.more is meaning["more"]
    assert response.ok is (meaning["status"] == 0)
    if "status_name" in meaning:
        assert response.status_name == meaning["status_name"]
    if "parameters_hex" in meaning:
        assert response.parameters.hex().upper() == meaning["parameters_hex"]
    if "trailing" in meaning:  # the H10's reserved byte: no factor
        assert response.parameters == b"\x01" and pmd.start_factor(response.parameters) is None
    settings_meaning = meaning.get("settings")
    if settings_meaning is None:
        return
    factor = settings_meaning.get("FACTOR")
    if factor is None:
        check_settings(pmd.parse_settings(response.parameters), settings_meaning)
        if response.opcode == pmd.Opcode.REQUEST_MEASUREMENT_START:
            assert pmd.start_factor(response.parameters) is None
        return
    value = pmd.start_factor(response.parameters)
    assert value is not None
    assert struct.unpack("<I", struct.pack("<f", value))[0] == factor["uint32"]
    assert value == pytest.approx(factor["value"], rel=1e-7)
    assert bytes(np.float32(value).tobytes()).hex().upper() == factor["float32_le_hex"]
    assert pmd.encode_settings({pmd.SettingType.FACTOR: value}) == response.parameters
    assert (
        pmd.encode_response(
            response.opcode,
            response.measurement_type,
            pmd.Status(response.status),
            response.parameters,
        )
        == data
    )


def check_settings(parsed: pmd.Settings, meaning: dict[str, Any]) -> None:
    assert set(parsed) == {SETTING[name] for name in meaning}
    for name, value in meaning.items():
        got = parsed[SETTING[name]]
        if isinstance(value, dict):  # RANGE_MILLIUNIT: Android reads it signed, iOS unsigned
            assert list(got) == value["ios_unsigned"]
        elif isinstance(value, list):
            assert list(got) == value
        else:
            assert got == (value,)


def plain_numbers(meaning: dict[str, Any]) -> bool:
    """Settings given as plain numbers (so they can be encoded back)."""
    return all(not isinstance(v, dict) for v in meaning.values())


def encodable(meaning: dict[str, Any]) -> dict[pmd.SettingType, Any]:
    return {SETTING[name]: value for name, value in meaning.items()}


CHECKS = {
    "acc_frame": check_acc_frame,
    "acc_payload": check_acc_payload,
    "delta_payload": check_delta_payload,
    "other_frame": check_other_frame,
    "frame_header": check_frame_header,
    "control_point": check_control_point,
}


def test_every_kind_of_vector_has_a_check() -> None:
    assert {case["kind"] for case in CASES} == set(CHECKS)


# --- hostile and truncated input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("0264000000000000008001", "cannot hold the 6-byte reference sample"),
        ("026400000000000000800100020003000A", "1 stray byte"),
        ("0264000000000000008001000200030000 05", "5 samples of 0-bit deltas"),
        ("026400000000000000800100020003002101", "33-bit deltas is not valid"),
        ("02640000000000000001010002", "not a whole, non-zero number of 6-byte samples"),
        ("0264000000000000000100", "not a whole, non-zero number of 6-byte samples"),
        ("02640000000000000005", "raw ACC frame type 5 not supported"),
        ("02640000000000000083", "compressed ACC frame type 3 not supported"),
    ],
)
def test_bad_frames_raise_one_line_protocol_errors(data: str, problem: str) -> None:
    with pytest.raises(pmd.ProtocolError, match=problem) as info:
        pmd_frames.decode_acc_frame(bytes.fromhex(data.replace(" ", "")))
    assert "\n" not in str(info.value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_protocol_errors(data: bytes) -> None:
    for parse in (
        pmd_frames.decode_acc_frame,
        pmd_frames.parse_frame,
        pmd.parse_settings,
        pmd.parse_response,
        pmd.parse_features,
        pmd.parse_control_point_message,
        pmd.decode_request,
        pmd.start_factor,
        lambda d: pmd_frames.decode_delta_samples(d, 3, 16),
        lambda d: pmd_frames.decode_delta_samples(d, 4, 24),
        lambda d: pmd_frames.decode_raw_samples(d, 2),
    ):
        with contextlib.suppress(pmd.ProtocolError):
            parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=11, max_size=300), st.sampled_from([0x80, 0x81, 0x00, 0x01, 0x02]))
def test_random_acc_bodies_decode_or_raise_protocol_errors(body: bytes, frame_byte: int) -> None:
    data = bytes((pmd.MeasurementType.ACC,)) + bytes(8) + bytes((frame_byte,)) + body
    try:
        frame = pmd_frames.decode_acc_frame(data)
    except pmd.ProtocolError:
        return
    assert frame.counts.ndim == 2 and frame.counts.shape[1] == 3 and frame.n_samples >= 1


# --- the simulator's encoders against the decoder -------------------------------------------

int16_samples = arrays(np.int16, st.tuples(st.integers(1, 300), st.just(3)))


@settings(max_examples=200, deadline=None)
@given(int16_samples, st.integers(8, 600))
def test_delta_encoding_round_trips(counts: np.ndarray, room: int) -> None:
    payload, n = encode_delta(counts, room)
    assert 1 <= n <= len(counts) and len(payload) <= room
    assert pmd_frames.decode_delta_samples(payload, 3, 16).tolist() == counts[:n].tolist()
    whole, n_all = encode_delta(counts, 100_000)
    assert n_all == len(counts)
    assert pmd_frames.decode_delta_samples(whole, 3, 16).tolist() == counts.tolist()


@settings(max_examples=100, deadline=None)
@given(int16_samples, st.integers(6, 600))
def test_raw_encoding_round_trips(counts: np.ndarray, room: int) -> None:
    payload, n = encode_raw_int16(counts, room)
    assert n == min(len(counts), room // 6)
    assert pmd_frames.decode_raw_samples(payload, 1).tolist() == counts[:n].tolist()


def test_small_noise_compresses_to_narrow_deltas() -> None:
    counts = np.cumsum(np.random.default_rng(3).integers(-3, 4, (200, 3)), axis=0)
    payload, n = encode_delta(counts.astype(np.int16), 10_000)
    assert n == 200 and len(payload) < 200 * 6 / 3  # 3-bit deltas: a third of raw int16 or less
    assert pmd_frames.decode_delta_samples(payload, 3, 16).tolist() == counts.tolist()


# --- driver decoding on the timeline, without a radio ---------------------------------------


def _started(personality, seed: int = 5) -> tuple[PolarFirmware, PolarDriver, StreamTimeline]:
    firmware = PolarFirmware("left_calf", personality, "rest", seed, boot_ns=8 * 10**17)
    ask = pmd.encode_request(pmd.Opcode.GET_MEASUREMENT_SETTINGS, pmd.MeasurementType.ACC)
    offered = pmd.parse_response(firmware.handle_request(ask, 0))
    chosen = choose_settings(pmd.parse_settings(offered.parameters))
    start = pmd.encode_request(
        pmd.Opcode.REQUEST_MEASUREMENT_START, pmd.MeasurementType.ACC, chosen
    )
    started = pmd.parse_response(firmware.handle_request(start, 10**9))
    assert started.ok
    factor = pmd.start_factor(started.parameters)
    driver = PolarDriver("sim")
    fs = float(chosen[pmd.SettingType.SAMPLE_RATE])
    driver.spec = StreamSpec(0, Kind.ACC, ("x", "y", "z"), fs, factor or 0.001, "g")
    info = StreamInfo("sim", "left_calf", Kind.ACC, ("x", "y", "z"), fs)
    return firmware, driver, StreamTimeline(info, driver.tick_hz, driver.tick_wrap)


@pytest.mark.parametrize("personality", [VERITY, H10], ids=["verity", "h10"])
def test_one_dropped_frame_is_one_gap_of_its_samples(personality) -> None:
    firmware, driver, timeline = _started(personality)
    frames: list[bytes] = []
    for step in range(1, 120):
        if step == 60:
            firmware.drop_next_frames(1)
        frames += firmware.produce(10**9 + step * 60_000_000, 247)
    decoded = driver.decode(frames, np.arange(len(frames), dtype=np.int64))
    assert not decoded.rejected and decoded.batches[0].seq is None
    # First-sample times follow the protocol's rule: interpolated after the previous frame.
    stamps = [pmd_frames.parse_frame(f).timestamp_ns for f in frames]
    batch = decoded.batches[0]
    for i in (1, 2, len(frames) - 1):
        rule = pmd_frames.sample_times_ns(stamps[i], int(batch.n_samples[i]), stamps[i - 1], None)
        assert batch.sensor_ticks[i] == rule[0]
    update = timeline.push(decoded.batches[0])
    dropped = [(first, n) for first, n, outcome in firmware.stream.log if outcome == "dropped"]
    assert len(dropped) == 1
    offset = firmware.stream.log[0][0]
    first, n = dropped[0]
    assert [(g.start, g.stop) for g in update.gaps] == [(first - offset, first - offset + n)]
    for block in update.blocks:  # every delivered sample bit-exact, at its right index
        expected = firmware.expected_counts(block.start + offset, block.stop + offset)
        got = np.rint(block.data.T / np.float32(driver.spec.scale)).astype(np.int64)
        np.testing.assert_array_equal(got, expected)


def test_a_clock_jump_is_a_resync_not_a_gap() -> None:
    firmware, driver, timeline = _started(H10)
    frames: list[bytes] = []
    for step in range(1, 40):
        frames += firmware.produce(10**9 + step * 60_000_000, 247)
    firmware.boot_ns -= 3600 * 10**9  # the device clock is set back an hour mid-stream
    for step in range(40, 80):
        frames += firmware.produce(10**9 + step * 60_000_000, 247)
    host_ns = np.arange(len(frames), dtype=np.int64) * 195_000_000
    timeline.push(driver.decode(frames, host_ns).batches[0])
    assert timeline.stats.resyncs == 1 and timeline.stats.frames_rejected == 0


def test_decoding_rejects_bad_frames_and_keeps_good_ones() -> None:
    firmware, driver, _ = _started(VERITY)
    frames = firmware.produce(10**9 + 3 * 10**9, 247)
    mangled = [frames[0][:20], b"\x02", frames[1], (9).to_bytes(1, "little") + frames[2][1:]]
    decoded = driver.decode(mangled, np.arange(4, dtype=np.int64))
    assert len(decoded.rejected) == 3
    assert all(str(e).startswith("sim: frame rejected: ") for e in decoded.rejected)
    assert decoded.batches[0].n_frames == 1


def test_settings_choice_prefers_208_or_200_hz_16_bit_and_the_smallest_range() -> None:
    verity = pmd.parse_settings(
        bytes.fromhex("00051A0034006800D000A0010101100002040200040008001000040103")
    )
    assert choose_settings(verity) == {
        pmd.SettingType.SAMPLE_RATE: 208,
        pmd.SettingType.RESOLUTION: 16,
        pmd.SettingType.RANGE: 2,
        pmd.SettingType.CHANNELS: 3,
    }
    h10 = pmd.parse_response(bytes.fromhex(BY_ID["arctic-h10-acc-settings-response"]["hex"]))
    assert choose_settings(pmd.parse_settings(h10.parameters)) == {
        pmd.SettingType.SAMPLE_RATE: 200,
        pmd.SettingType.RESOLUTION: 16,
        pmd.SettingType.RANGE: 2,
    }
    # A Verity outside SDK mode offers 52 Hz and 8 g only (online_measurement.pdf figure 2).
    plain = pmd.parse_response(
        bytes.fromhex(BY_ID["polar-doc-verity-acc-settings-response"]["hex"])
    )
    chosen = choose_settings(pmd.parse_settings(plain.parameters))
    assert chosen[pmd.SettingType.SAMPLE_RATE] == 52 and chosen[pmd.SettingType.RANGE] == 8
    assert pmd.encode_request(
        pmd.Opcode.REQUEST_MEASUREMENT_START, pmd.MeasurementType.ACC, chosen
    ) == bytes.fromhex(BY_ID["polar-doc-verity-start-acc-request"]["hex"])


def test_frame_period_bounds_the_longest_compressed_frame() -> None:
    firmware, driver, _ = _started(VERITY)
    frames = firmware.produce(10**9 + 20 * 10**9, 247)
    longest = max(pmd_frames.decode_acc_frame(f).n_samples for f in frames)
    assert driver.frame_period_s(247) > longest / driver.spec.fs
    assert math.isclose(driver.frame_period_s(247), 302 / 208)


@pytest.mark.parametrize("mtu", [23, 185, 247, 517])
def test_frames_follow_the_negotiated_mtu(mtu: int) -> None:
    for personality in (VERITY, H10):
        firmware, driver, _ = _started(personality)
        frames = firmware.produce(10**9 + 5 * 10**9, mtu)
        assert frames and max(map(len, frames)) <= min(mtu - 3, 512)
        decoded = driver.decode(frames, np.zeros(len(frames), dtype=np.int64))
        assert not decoded.rejected
        if personality is H10:  # raw int16: as many whole samples as fit
            assert max(decoded.batches[0].n_samples) == (min(mtu - 3, 512) - 10) // 6
