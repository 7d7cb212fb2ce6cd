"""Polar Measurement Data (PMD) data frames: header, raw and delta-compressed ACC samples, times.

Written from the public description in shared/research/ble_edge.md §1.2, not from SDK code.
Pure: no Bluetooth. Decoding is vectorized with numpy: loops run per frame or per delta block,
never per sample.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from edge.drivers.polar_pmd.protocol import MeasurementType, ProtocolError

#: Data frame header: measurement type, u64 ns since 2000-01-01T00:00:00Z of the LAST sample,
#: frame type (bit 7: delta-compressed, low 7 bits: type).
FRAME_HEADER = struct.Struct("<BQB")
COMPRESSED_BIT = 0x80
#: Raw ACC frame types: bytes per channel value (int8, int16, int24), three channels x, y, z.
RAW_ACC_WIDTH = {0: 1, 1: 2, 2: 3}
#: Compressed ACC frame types seen from devices (0x80 in Polar's document, 0x81 in issue #331).
COMPRESSED_ACC_TYPES = frozenset({0, 1})
ACC_CHANNELS = 3
#: Widest delta a block may declare. Deltas of 16-bit samples need at most 17 bits; anything
#: above 32 can only come from a misparse (a wrong resolution or channel count) or garbage.
MAX_DELTA_BITS = 32
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class DataFrame:
    measurement_type: int
    timestamp_ns: int  # of the LAST sample, ns since 2000-01-01T00:00:00Z
    compressed: bool
    frame_type: int  # low 7 bits of byte 9
    payload: bytes


def parse_frame(data: bytes) -> DataFrame:
    data = bytes(data)
    if len(data) < FRAME_HEADER.size:
        raise ProtocolError(
            f"frame too short ({len(data)} bytes; minimum is {FRAME_HEADER.size} = type + "
            "8-byte timestamp + frame type)"
        )
    kind, timestamp_ns, frame_byte = FRAME_HEADER.unpack_from(data)
    return DataFrame(
        kind, timestamp_ns, bool(frame_byte & COMPRESSED_BIT), frame_byte & 0x7F, data[10:]
    )


@dataclass(frozen=True, slots=True)
class AccFrame:
    timestamp_ns: int  # of the last sample
    compressed: bool
    frame_type: int
    counts: np.ndarray  # (n, 3) int64, x y z per sample, in the sensor's counts

    @property
    def n_samples(self) -> int:
        return int(self.counts.shape[0])


def decode_acc_frame(data: bytes, resolution_bits: int = 16) -> AccFrame:
    """One ACC notification -> counts; raw types 0/1/2 or delta-compressed 0x80/0x81."""
    frame = parse_frame(data)
    if frame.measurement_type != MeasurementType.ACC:
        raise ProtocolError(f"measurement type {frame.measurement_type}, expected ACC (2)")
    if frame.compressed:
        if frame.frame_type not in COMPRESSED_ACC_TYPES:
            raise ProtocolError(f"compressed ACC frame type {frame.frame_type} not supported")
        counts = decode_delta_samples(frame.payload, ACC_CHANNELS, resolution_bits)
    else:
        counts = decode_raw_samples(frame.payload, frame.frame_type)
    return AccFrame(frame.timestamp_ns, frame.compressed, frame.frame_type, counts)


def decode_raw_samples(
    payload: bytes, frame_type: int, n_channels: int = ACC_CHANNELS
) -> np.ndarray:
    """Raw ACC samples -> (n, n_channels) int64: little-endian int8/int16/int24 per value."""
    width = RAW_ACC_WIDTH.get(frame_type)
    if width is None:
        raise ProtocolError(f"raw ACC frame type {frame_type} not supported")
    sample_bytes = width * n_channels
    if len(payload) == 0 or len(payload) % sample_bytes:
        raise ProtocolError(
            f"raw ACC frame type {frame_type}: {len(payload)} bytes is not a whole, non-zero "
            f"number of {sample_bytes}-byte samples"
        )
    return _signed_le(payload, width).reshape(-1, n_channels)


def decode_delta_samples(payload: bytes, n_channels: int, resolution_bits: int) -> np.ndarray:
    """Delta-compressed samples -> (n, n_channels) int64.

    Layout: a reference sample (``ceil(resolution / 8)`` little-endian signed bytes per channel),
    then blocks ``[delta bits u8][sample count u8][count x n_channels deltas]``, each delta a
    two's-complement field of ``delta bits`` bits, packed least significant bit first across byte
    boundaries. Each sample is the previous one plus its deltas. A block cut short raises.
    """
    payload = bytes(payload)
    value_bytes = (resolution_bits + 7) // 8
    if not 1 <= value_bytes <= 4 or n_channels < 1:
        raise ProtocolError(f"{n_channels} channels of {resolution_bits} bits cannot be decoded")
    ref_size = value_bytes * n_channels
    if len(payload) < ref_size:
        raise ProtocolError(
            f"delta frame of {len(payload)} bytes cannot hold the {ref_size}-byte reference sample"
        )
    rows = [_signed_le(payload[:ref_size], value_bytes).reshape(1, n_channels)]
    pos = ref_size
    while pos < len(payload):  # one iteration per block, never per sample
        if len(payload) - pos < 2:
            raise ProtocolError(f"delta frame: 1 stray byte at {pos}, a block header needs 2")
        bits, count = payload[pos], payload[pos + 1]
        if not 1 <= bits <= MAX_DELTA_BITS or count == 0:
            raise ProtocolError(
                f"delta block at byte {pos}: {count} samples of {bits}-bit deltas is not valid"
            )
        size = (bits * count * n_channels + 7) // 8
        chunk = payload[pos + 2 : pos + 2 + size]
        if len(chunk) < size:
            raise ProtocolError(
                f"delta block at byte {pos} declares {count} samples of {bits}-bit deltas "
                f"({size} bytes), {len(chunk)} bytes arrived"
            )
        rows.append(unpack_deltas(chunk, bits, count * n_channels).reshape(count, n_channels))
        pos += 2 + size
    return np.cumsum(np.concatenate(rows), axis=0)


def unpack_deltas(chunk: bytes, bits: int, n_values: int) -> np.ndarray:
    """``n_values`` signed ``bits``-bit fields, LSB first, from ``chunk`` -> (n_values,) int64."""
    flat = np.unpackbits(np.frombuffer(chunk, dtype=np.uint8), bitorder="little")
    fields = flat[: bits * n_values].reshape(n_values, bits).astype(np.int64)
    values = fields @ (np.int64(1) << np.arange(bits, dtype=np.int64))
    sign = np.int64(1) << np.int64(bits - 1)
    return (values ^ sign) - sign


def _signed_le(data: bytes, width: int) -> np.ndarray:
    """Little-endian two's-complement integers of ``width`` bytes -> (len / width,) int64."""
    octets = np.frombuffer(data, dtype=np.uint8).reshape(-1, width).astype(np.int64)
    values = octets @ (np.int64(1) << (8 * np.arange(width, dtype=np.int64)))
    sign = np.int64(1) << np.int64(8 * width - 1)
    return (values ^ sign) - sign


def sample_times_ns(
    last_ns: int, n_samples: int, previous_ns: int | None, fs: float | None
) -> np.ndarray:
    """Time of every sample of a frame, ns since 2000 (int64).

    With the previous frame's timestamp the times are interpolated between it and this frame's
    (the protocol's rule: each frame ends where its last sample was taken); without one they are
    spaced at the nominal rate ``fs`` back from the last sample. Rounding is half to even.
    """
    steps = np.arange(1, n_samples + 1, dtype=np.float64)
    if previous_ns is not None:
        offsets = np.rint((last_ns - previous_ns) * steps / n_samples).astype(np.int64)
        return previous_ns + offsets
    if fs is None or not fs > 0:
        raise ProtocolError("sample times need the previous frame's timestamp or a sample rate")
    back = np.rint((n_samples - steps) * (NS_PER_S / fs)).astype(np.int64)
    return last_ns - back
