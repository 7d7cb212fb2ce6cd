"""The BITalino codec and byte-stream framing: golden vectors, CRC, wraps, garbage, splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edge.drivers.base import FrameFlag
from edge.drivers.bitalino import protocol as proto
from edge.drivers.bitalino.driver import BitalinoDriver
from edge.drivers.bitalino.framing import MAX_DELAY_S, FrameStream
from edge.drivers.registry import recognising

# (wire hex, channels selected, seq, digital nibble, values): research/sensors.md §A7, decoded
# there with PLUX's official Python decoder.
GOLDEN = [
    ("e0060f", 1, 0, 0, [440]),
    ("dff7df7fb5e10606", 6, 0, 0, [440, 437, 511, 511, 31, 31]),
    ("50575c", 1, 5, 5, [468]),
    ("00f28a5a", 2, 5, 8, [700, 512]),
    ("f8b104f0", 2, 15, 0, [300, 504]),
    ("f8fd0f10", 2, 1, 0, [1023, 504]),
    ("c007208000020826", 5, 2, 0, [512, 512, 512, 512, 31]),
]
MS = 1_000_000


def frames_of(hex_text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_text), dtype=np.uint8).reshape(1, -1)


@pytest.mark.parametrize(("wire", "n", "seq", "digital", "values"), GOLDEN)
def test_golden_frames_decode_and_encode(wire, n, seq, digital, values):
    frames = frames_of(wire)
    assert frames.shape[1] == proto.frame_bytes(n)
    got_seq, got_digital, adc = proto.unpack(frames, n)
    assert (int(got_seq[0]), int(got_digital[0]), adc[:, 0].tolist()) == (seq, digital, values)
    assert proto.crc4(frames)[0] == frames[0, -1] & 0x0F
    encoded = proto.pack(np.array([seq]), np.array(values).reshape(-1, 1), np.array([digital]))
    assert encoded.hex() == wire


def test_flipped_bit_fails_the_crc():
    frames = frames_of("01f28a5a")  # example 4 with bit 0 of its first byte flipped
    assert proto.crc4(frames)[0] == 0x0 and frames[0, -1] & 0x0F == 0xA


def test_crc4_catches_every_single_bit_flip():
    wire = bytearray(proto.pack(np.arange(16), np.full((2, 16), 700)))
    for bit in range(8 * 4):
        flipped = bytearray(wire[:4])
        flipped[bit // 8] ^= 1 << (bit % 8)
        frames = np.frombuffer(bytes(flipped), dtype=np.uint8).reshape(1, -1)
        assert proto.crc4(frames)[0] != frames[0, -1] & 0x0F


def test_commands_and_frame_sizes():
    assert proto.Rate.HZ_1000 == 0xC3
    assert proto.start_live((1,)) == 0x05 and proto.start_live((1, 5)) == 0x45
    assert proto.start_live(tuple(range(1, 7))) == 0xFD
    assert proto.start_simulated(tuple(range(1, 7))) == 0xFE
    assert proto.parse_start(0x45) == ((1, 5), True)
    assert proto.parse_start(proto.Rate.HZ_1000) is None
    assert [proto.frame_bytes(n) for n in range(1, 7)] == [3, 4, 6, 7, 8, 8]


def test_transfer_functions():
    np.testing.assert_allclose(
        proto.emg_uv(np.array([512, 700, 300])), [0, 600.5, -677.1], atol=0.1
    )
    np.testing.assert_allclose(proto.acc_g(np.array([504, 608, 400])), [0, 1, -1], atol=1e-6)
    np.testing.assert_allclose(proto.acc_g(np.array([31]), bits=6), [-0.0769], atol=1e-3)
    assert proto.emg_counts(proto.emg_uv(np.arange(1024))).tolist() == list(range(1024))
    assert proto.acc_counts(proto.acc_g(np.arange(1024))).tolist() == list(range(1024))


def test_recognised_by_name_or_service():
    assert [d.name for d in recognising("BiTalino BLE", [], {})] == ["bitalino"]
    assert [d.name for d in recognising(None, [proto.SERVICE_UUID], {})] == ["bitalino"]
    assert recognising("TW-0001", [], {}) == []


# --- the byte stream -------------------------------------------------------------------------


def stream_bytes(k: int, first: int = 0, seed: int = 0) -> tuple[bytes, np.ndarray]:
    """``k`` consecutive two-channel frames from count ``first``, and their ADC values."""
    rng = np.random.default_rng(seed)
    adc = rng.integers(0, 1024, size=(2, k))
    return proto.pack((first + np.arange(k)) % 16, adc), adc


def split(data: bytes, size: int = 20) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def push_all(stream: FrameStream, pieces: list[bytes], t0_ns: int = 0, step_ns: int = MS):
    host = t0_ns + step_ns * np.arange(1, len(pieces) + 1)
    return stream.push(pieces, host)


def test_frames_split_across_notifications_and_batches():
    data, adc = stream_bytes(100)
    stream = FrameStream(2, 1000.0)
    pieces = split(data)
    counts, values = [], []
    for i in range(0, len(pieces), 3):  # batches of three notifications: frames straddle them
        found = stream.push(pieces[i : i + 3], np.full(len(pieces[i : i + 3]), (i + 1) * 4 * MS))
        counts.append(found.count)
        values.append(found.adc)
        assert found.crc_failures == 0 and found.bytes_skipped == 0
    assert np.concatenate(counts).tolist() == list(range(100))
    np.testing.assert_array_equal(np.concatenate(values, axis=1), adc)


def test_garbage_before_the_stream_is_skipped():
    data, adc = stream_bytes(40, seed=1)
    garbage = b"BITalino_v5.2\n" + bytes(range(7))
    found = FrameStream(2, 1000.0).push(split(garbage + data), np.arange(1, 100) * MS)
    # The first frame follows the garbage; nothing else is lost.
    assert found.bytes_skipped == len(garbage)
    np.testing.assert_array_equal(found.adc, adc)


def test_a_corrupt_frame_becomes_an_exact_gap():
    data, adc = stream_bytes(60, seed=2)
    broken = bytearray(data)
    broken[4 * 17 + 1] ^= 0x10  # frame 17
    found = FrameStream(2, 1000.0).push(split(bytes(broken)), np.arange(1, 20) * MS)
    assert found.crc_failures == 1
    assert found.count.tolist() == [c for c in range(60) if c != 17]
    np.testing.assert_array_equal(found.adc, np.delete(adc, 17, axis=1))


def test_dropped_bytes_lose_only_the_torn_frames():
    data, adc = stream_bytes(60, seed=3)
    torn = data[: 4 * 30 + 1] + data[4 * 30 + 3 :]  # two bytes of frame 30 never arrive
    found = FrameStream(2, 1000.0).push(split(torn), np.arange(1, 20) * MS)
    assert found.count.tolist() == [c for c in range(60) if c != 30]
    np.testing.assert_array_equal(found.adc, np.delete(adc, 30, axis=1))


@pytest.mark.parametrize("damage", ["flip", "tear"])
def test_the_frame_after_a_damaged_one_survives_a_skip_after_it(damage):
    data, adc = stream_bytes(60, seed=5)
    frames = [bytearray(data[4 * c : 4 * c + 4]) for c in range(60)]
    if damage == "flip":
        frames[20][1] ^= 0x04
    else:
        del frames[20][1:3]
    frames[22] = bytearray()  # skipped by the board: its seq is used, no bytes sent
    found = FrameStream(2, 1000.0).push(split(b"".join(frames)), np.arange(1, 20) * MS)
    kept = [c for c in range(60) if c not in (20, 22)]
    assert found.count.tolist() == kept
    np.testing.assert_array_equal(found.adc, adc[:, kept])


def test_losses_below_sixteen_frames_are_counted_by_seq():
    data, _ = stream_bytes(100, seed=4)
    kept = [c for c in range(100) if not 40 <= c < 55]  # 15 frames skipped by the board
    wire = b"".join(data[4 * c : 4 * c + 4] for c in kept)
    found = FrameStream(2, 1000.0).push(split(wire), np.arange(1, 30) * MS)
    assert found.count.tolist() == kept


def test_whole_wraps_are_resolved_with_the_host_clock():
    stream = FrameStream(2, 1000.0)
    first, _ = stream_bytes(100)
    found = stream.push(split(first), np.linspace(5, 100, 20).astype(np.int64) * MS)
    assert found.count[-1] == 99
    # 3 s later (3000 frames were skipped by the board) the stream resumes: seq says nothing.
    lost = 3000
    later, _ = stream_bytes(50, first=100 + lost)
    found = stream.push(split(later), (3100 + np.arange(1, 11) * 5) * MS)
    assert found.count[0] - 100 <= lost
    assert lost - found.count[0] + 100 < MAX_DELAY_S * 1000 + 16
    assert (found.count[0] - 100 - lost) % 16 == 0


def test_delivery_late_within_the_bound_adds_no_wraps():
    stream = FrameStream(2, 1000.0)
    data, _ = stream_bytes(1000)
    pieces = split(data)  # 5 frames per piece
    host = np.array([(5 * i + 5) * MS for i in range(len(pieces))], dtype=np.int64)
    host[100:] += 300 * MS  # a 300 ms stall: frames pile up and arrive late
    found = stream.push(pieces, host)
    assert found.count.tolist() == list(range(1000))


def test_a_stalled_host_stamping_a_backlog_late_adds_no_wraps():
    stream = FrameStream(2, 1000.0)
    data, _ = stream_bytes(5000)
    pieces = split(data)  # 5 frames (5 ms) per piece
    host = np.array([(5 * i + 5) * MS for i in range(len(pieces))], dtype=np.int64)
    host[100:400] = host[399]  # the host slept 1.5 s; the backlog is stamped when it woke
    # The session drains everything that arrived every 250 ms: the backlog in one batch.
    drain = np.ceil(host / (250 * MS)).astype(np.int64)
    counts = []
    for when in np.unique(drain):
        picked = np.flatnonzero(drain == when)
        counts.append(stream.push([pieces[i] for i in picked], host[picked]).count)
    assert np.concatenate(counts).tolist() == list(range(5000))


def test_driver_marks_each_connection_start():
    driver = BitalinoDriver("bit")
    data, adc = stream_bytes(30)
    decoded = driver.decode(split(data), np.arange(1, 7) * MS)
    emg, acc = decoded.batches
    assert emg.flags[0] == FrameFlag.TIME_RESYNC and not emg.flags[1:].any()
    np.testing.assert_array_equal(emg.samples[0], proto.emg_uv(adc[0]))
    np.testing.assert_array_equal(acc.samples[0], proto.acc_g(adc[1]))
    assert emg.sensor_ticks.tolist() == list(range(30)) and not decoded.rejected
    more = driver.decode(split(stream_bytes(5, first=30)[0]), np.array([10 * MS]))
    assert not more.batches[0].flags.any() and more.batches[0].sensor_ticks.tolist() == [
        30,
        31,
        32,
        33,
        34,
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 6),
    k=st.integers(1, 80),
    seed=st.integers(0, 2**16),
    cut=st.lists(st.integers(1, 20), min_size=1, max_size=40),
)
def test_round_trip_any_channels_any_split(n, k, seed, cut):
    rng = np.random.default_rng(seed)
    bits = np.array(proto.slot_bits(n))[:, None]
    adc = rng.integers(0, 1 << 10, size=(n, k)) % (1 << bits)
    digital = rng.integers(0, 16, size=k)
    wire = proto.pack(np.arange(k) % 16, adc, digital)
    pieces, position, i = [], 0, 0
    while position < len(wire):
        size = cut[i % len(cut)]
        pieces.append(wire[position : position + size])
        position, i = position + size, i + 1
    stream = FrameStream(n, 1000.0)
    # Each piece arrives in real time: when the board has sampled the frames it completes.
    arrived = np.cumsum([len(p) for p in pieces]) // proto.frame_bytes(n) + 1
    found = [stream.push([p], np.array([t * MS])) for p, t in zip(pieces, arrived, strict=True)]
    counts = np.concatenate([f.count for f in found])
    # The last frame waits for the confirmation its successor would give only when the stream
    # is not yet locked (k == 1): a lone frame is never trusted.
    expected = k if k > 1 else 0
    assert counts.tolist() == list(range(expected))
    got = np.concatenate([f.adc for f in found], axis=1)
    np.testing.assert_array_equal(got, adc[:, :expected])
    np.testing.assert_array_equal(np.concatenate([f.digital for f in found]), digital[:expected])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n_faults=st.integers(1, 6))
@example(seed=1587, n_faults=3)  # a window a byte off the grid once passed for the resumed frame
def test_corruption_anywhere_loses_only_hit_frames(seed, n_faults):
    rng = np.random.default_rng(seed)
    k = 300
    data, adc = stream_bytes(k, seed=seed)
    wire = bytearray(data)
    # Hits at least 3 frames apart: a good frame between two hit ones cannot be confirmed by
    # its successor and is lost too (still an exact gap, one frame longer).
    hit = sorted(rng.choice(np.arange(2, k - 2, 3), size=n_faults, replace=False).tolist())
    for frame in hit:  # one flipped bit per frame: always caught by the CRC
        wire[4 * frame + int(rng.integers(0, 4))] ^= 1 << int(rng.integers(0, 8))
    found = FrameStream(2, 1000.0).push(split(bytes(wire)), np.arange(1, 70) * 4 * MS)
    kept = [c for c in range(k) if c not in hit]
    assert found.count.tolist() == kept
    np.testing.assert_array_equal(found.adc, adc[:, kept])
