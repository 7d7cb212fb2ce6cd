"""The TwitchWatch GATT profile codec: golden bytes from hardware/README.md and property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.drivers.base import FrameFlag, StreamSpec
from edge.drivers.diy import protocol as proto
from edge.drivers.diy.driver import decode_frames
from twitchwatch.contract import Kind

# Golden vectors, written down in hardware/README.md; a bug shared by encoder and decoder
# cannot change these.
START_REQUEST = "020703"
START_RESPONSE = "f0020700"
EMG_FRAME = "100002010010000003026400feffff7f"

SPECS = {
    0: StreamSpec(0, Kind.EMG, ("emg",), 2000.0, 0.2, "uV"),
    1: StreamSpec(1, Kind.ACC, ("x", "y", "z"), 416.0, 0.000122, "g"),
}


def test_golden_control_point_bytes() -> None:
    assert (
        proto.encode_request(proto.Opcode.START, 7, proto.START_ARGS.pack(0x03)).hex()
        == START_REQUEST
    )
    assert proto.encode_response(proto.Opcode.START, 7, proto.Status.OK).hex() == START_RESPONSE
    response = proto.decode_response(bytes.fromhex(START_RESPONSE))
    assert (response.opcode, response.token, response.status) == (
        proto.Opcode.START,
        7,
        proto.Status.OK,
    )


def test_golden_frame_bytes_decode() -> None:
    samples = np.array([[100], [-2], [32767]], dtype=np.int16)
    frame = proto.encode_frame(0, 0x0102, 0x1000, samples, FrameFlag.CLIPPED)
    assert frame.hex() == EMG_FRAME
    decoded = decode_frames([bytes.fromhex(EMG_FRAME)], np.array([5]), SPECS, "golden")
    (batch,) = decoded.batches
    assert not decoded.rejected
    assert batch.seq.tolist() == [0x0102] and batch.sensor_ticks.tolist() == [0x1000]
    assert batch.flags.tolist() == [FrameFlag.CLIPPED]
    np.testing.assert_allclose(batch.samples, [[20.0, -0.4, 6553.4]], rtol=1e-6)


def test_frame_size_follows_the_mtu() -> None:
    assert proto.max_samples_per_frame(23, 1) == 5
    assert proto.max_samples_per_frame(23, 3) == 1
    assert proto.max_samples_per_frame(247, 1) == 117
    assert proto.max_samples_per_frame(247, 3) == 39
    assert proto.max_samples_per_frame(517, 1) == 251  # capped by the 512-byte attribute limit
    with pytest.raises(proto.ProtocolError):
        proto.max_samples_per_frame(14, 1)


def test_info_document_round_trip_converts_units_once() -> None:
    info = proto.SensorInfo(1, "1.0.0", "hw", "left_calf", proto.TICK_HZ, tuple(SPECS.values()))
    parsed = proto.parse_info(info.encode())
    assert parsed == info
    mv = info.encode().replace(b'"unit":"uV","scale":0.2', b'"unit":"mV","scale":0.0002')
    assert proto.parse_info(mv).streams[0].scale == pytest.approx(0.2)


@pytest.mark.parametrize(
    "document",
    [b"", b"{", b'{"proto":2}', b'{"proto":1,"tick_hz":1000,"streams":[]}', b"\xff\xfe"],
)
def test_bad_info_documents_are_one_clear_error(document: bytes) -> None:
    with pytest.raises(proto.ProtocolError):
        proto.parse_info(document)


frames = st.lists(
    st.tuples(
        st.sampled_from([0, 1]),
        st.integers(0, 0xFFFF),
        st.integers(0, proto.TICK_WRAP - 1),
        st.integers(1, 40),
        st.sampled_from([0, 1, 2, 4, 8]),
        st.integers(0, 2**31),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(frames)
def test_encode_decode_round_trip(spec_list) -> None:
    payloads, expected = [], []
    for stream_id, seq, ticks, n, flags, seed in spec_list:
        counts = (
            np.random.default_rng(seed)
            .integers(-32768, 32767, (n, SPECS[stream_id].n_channels))
            .astype(np.int16)
        )
        payloads.append(proto.encode_frame(stream_id, seq, ticks, counts, flags))
        expected.append((stream_id, seq, ticks, flags, counts))
    decoded = decode_frames(payloads, np.arange(len(payloads)), SPECS, "prop")
    assert not decoded.rejected
    for batch in decoded.batches:
        mine = [e for e in expected if e[0] == batch.stream_id]
        assert batch.seq.tolist() == [e[1] for e in mine]
        assert batch.sensor_ticks.tolist() == [e[2] for e in mine]
        assert batch.flags.tolist() == [e[3] for e in mine]
        counts = np.concatenate([e[4] for e in mine]).T
        np.testing.assert_array_equal(
            np.rint(batch.samples / np.float32(SPECS[batch.stream_id].scale)), counts
        )
        assert batch.host_ns.tolist() == [
            i for i, e in enumerate(expected) if e[0] == batch.stream_id
        ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=20))
def test_decoder_fed_arbitrary_bytes_never_crashes(payloads) -> None:
    decoded = decode_frames(payloads, np.zeros(len(payloads), dtype=np.int64), SPECS, "fuzz")
    accepted = sum(b.n_frames for b in decoded.batches)
    assert accepted + len(decoded.rejected) == len(payloads)
    for batch in decoded.batches:
        assert batch.samples.shape == (
            SPECS[batch.stream_id].n_channels,
            int(batch.n_samples.sum()),
        )
        assert np.all(batch.n_samples > 0)
