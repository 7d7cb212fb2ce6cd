"""The TwitchWatch GATT profile, byte by byte (hardware/README.md describes the same bytes).

Defined once here; the simulated firmware encodes with these functions and the DIY driver decodes
with them. Golden byte vectors in tests/test_diy_protocol.py pin the layout so that a bug shared
by encoder and decoder cannot hide.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from edge.drivers.base import StreamSpec
from edge.errors import ProtocolError
from edge.units import to_internal_factor
from twitchwatch.contract import Kind

_BASE_UUID = "1b83{:04x}-f957-4c6f-a1a6-aff7562f8ef0"
SERVICE_UUID = _BASE_UUID.format(0x0001)
CONTROL_POINT_UUID = _BASE_UUID.format(0x0002)
DATA_UUID = _BASE_UUID.format(0x0003)
INFO_UUID = _BASE_UUID.format(0x0004)

PROTOCOL_VERSION = 1
#: Sensor clock: a 32.768 kHz RTC counter, u32, wraps every ~36.4 h. Must be >= 2 x the fastest rate.
TICK_HZ = 32768
TICK_WRAP = 1 << 32
#: Bluetooth SIG "reserved for testing" company id, used in the advertised manufacturer data.
COMPANY_ID = 0xFFFF

ATT_NOTIFY_OVERHEAD = 3  # opcode + handle
FRAME_TYPE_RAW_INT16 = 0x0

# Frame header, little-endian: ver|type, stream_id, seq u16, t_first u32, n u8, flags u8.
FRAME_HEADER = struct.Struct("<BBHIBB")
HEADER_DTYPE = np.dtype(
    [
        ("ver_type", "u1"),
        ("stream", "u1"),
        ("seq", "<u2"),
        ("ticks", "<u4"),
        ("n", "u1"),
        ("flags", "u1"),
    ]
)
assert HEADER_DTYPE.itemsize == FRAME_HEADER.size == 10
MAX_SAMPLES_PER_FRAME = 255  # n is a u8
MAX_ATTRIBUTE_BYTES = 512


class Opcode(IntEnum):
    GET_INFO = 0x01
    START = 0x02
    STOP = 0x03
    SET_TIME = 0x04
    GET_STATUS = 0x05


class Status(IntEnum):
    OK = 0x00
    UNKNOWN_OPCODE = 0x01
    INVALID_LENGTH = 0x02
    INVALID_PARAMETER = 0x03
    INVALID_STATE = 0x04


RESPONSE_CODE = 0xF0


def max_samples_per_frame(mtu: int, n_channels: int) -> int:
    """How many samples of ``n_channels`` int16 fit in one notification at ATT MTU ``mtu``."""
    # An attribute value is at most 512 bytes whatever the MTU (Android asks for 517).
    room = min(mtu - ATT_NOTIFY_OVERHEAD, MAX_ATTRIBUTE_BYTES) - FRAME_HEADER.size
    n = min(room // (2 * n_channels), MAX_SAMPLES_PER_FRAME)
    if n < 1:
        raise ProtocolError(f"ATT MTU {mtu} cannot carry one sample of {n_channels} channels")
    return n


def encode_frame(stream_id: int, seq: int, ticks: int, samples: np.ndarray, flags: int) -> bytes:
    """One data frame. ``samples``: (n, n_channels) int16 counts, interleaved by sample."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16 or samples.ndim != 2:
        raise ProtocolError(
            f"samples must be a 2-D int16 array, got {samples.dtype} {samples.shape}"
        )
    n = samples.shape[0]
    if not 1 <= n <= MAX_SAMPLES_PER_FRAME:
        raise ProtocolError(f"a frame holds 1..{MAX_SAMPLES_PER_FRAME} samples, got {n}")
    header = FRAME_HEADER.pack(
        (PROTOCOL_VERSION << 4) | FRAME_TYPE_RAW_INT16,
        stream_id,
        seq & 0xFFFF,
        ticks % TICK_WRAP,
        n,
        flags,
    )
    return header + samples.astype("<i2", copy=False).tobytes()


def ticks_of_sample(index: int | np.ndarray, fs: float) -> int | np.ndarray:
    """Sensor tick at which sample ``index`` of a stream at ``fs`` Hz was taken (not wrapped)."""
    return np.floor(np.asarray(index, dtype=np.float64) * (TICK_HZ / fs)).astype(np.int64)


# --- control point -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    opcode: int
    token: int
    args: bytes


@dataclass(frozen=True, slots=True)
class Response:
    opcode: int
    token: int
    status: Status
    payload: bytes


def encode_request(opcode: Opcode, token: int, args: bytes = b"") -> bytes:
    return bytes((opcode, token & 0xFF)) + args


def decode_request(data: bytes) -> Request:
    if len(data) < 2:
        raise ProtocolError(f"control point request of {len(data)} bytes, need at least 2")
    return Request(data[0], data[1], bytes(data[2:]))


def encode_response(opcode: int, token: int, status: Status, payload: bytes = b"") -> bytes:
    return bytes((RESPONSE_CODE, opcode & 0xFF, token & 0xFF, status)) + payload


def decode_response(data: bytes) -> Response:
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise ProtocolError(f"not a control point response: {bytes(data[:8]).hex()}")
    try:
        status = Status(data[3])
    except ValueError:
        raise ProtocolError(f"unknown control point status {data[3]:#04x}") from None
    return Response(data[1], data[2], status, bytes(data[4:]))


# START / STOP take a stream mask (bit i = stream id i). SET_TIME takes host UTC in µs since the
# Unix epoch and answers the sensor tick at which it arrived.
START_ARGS = struct.Struct("<B")
SET_TIME_ARGS = struct.Struct("<Q")
SET_TIME_RESULT = struct.Struct("<I")
# GET_INFO answers the protocol version and the Info document's length and CRC-32, so a host
# can tell whether a cached copy is still current without a long read.
GET_INFO_RESULT = struct.Struct("<BHI")


@dataclass(frozen=True, slots=True)
class StatusReport:
    """GET_STATUS answer: 15 bytes, so it fits the 20-byte payload of the minimum MTU."""

    battery_pct: int
    streaming_mask: int
    buffer_fill_pct: int
    frames_sent: int
    frames_overflowed: int
    ticks_now: int

    _LAYOUT = struct.Struct("<BBBIII")

    def encode(self) -> bytes:
        return self._LAYOUT.pack(
            self.battery_pct,
            self.streaming_mask,
            self.buffer_fill_pct,
            self.frames_sent & 0xFFFFFFFF,
            self.frames_overflowed & 0xFFFFFFFF,
            self.ticks_now % TICK_WRAP,
        )

    @classmethod
    def decode(cls, data: bytes) -> StatusReport:
        if len(data) != cls._LAYOUT.size:
            raise ProtocolError(f"status payload of {len(data)} bytes, expected {cls._LAYOUT.size}")
        return cls(*cls._LAYOUT.unpack(data))


# --- info characteristic -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """The Info characteristic: compact UTF-8 JSON, at most 512 bytes (one long read)."""

    protocol: int
    firmware: str
    hardware: str
    site: str
    tick_hz: int
    streams: tuple[StreamSpec, ...]

    def encode(self) -> bytes:
        doc = {
            "proto": self.protocol,
            "fw": self.firmware,
            "hw": self.hardware,
            "site": self.site,
            "tick_hz": self.tick_hz,
            "streams": [
                {
                    "id": s.stream_id,
                    "kind": s.kind.value,
                    "fs": s.fs,
                    "ch": list(s.channels),
                    "unit": s.source_unit,
                    "scale": s.scale / to_internal_factor(s.kind, s.source_unit),
                }
                for s in self.streams
            ],
        }
        data = json.dumps(doc, separators=(",", ":")).encode()
        if len(data) > 512:
            raise ProtocolError(f"info document of {len(data)} bytes exceeds 512")
        return data

    @property
    def crc32(self) -> int:
        return zlib.crc32(self.encode())


def parse_info(data: bytes) -> SensorInfo:
    """Validate the Info document; ``scale`` is converted to the internal unit once, here."""
    try:
        doc = json.loads(bytes(data).decode("utf-8"))
        if doc["proto"] != PROTOCOL_VERSION:
            raise ProtocolError(
                f"protocol version {doc['proto']}, this agent speaks {PROTOCOL_VERSION}"
            )
        if doc["tick_hz"] != TICK_HZ:
            raise ProtocolError(f"tick_hz {doc['tick_hz']}, the profile fixes {TICK_HZ}")
        streams = []
        for entry in doc["streams"]:
            kind = Kind(entry["kind"])
            fs = float(entry["fs"])
            scale = float(entry["scale"])
            channels = tuple(str(c) for c in entry["ch"])
            stream_id = int(entry["id"])
            if not (0 < fs <= doc["tick_hz"] / 2) or not scale > 0 or not channels:
                raise ProtocolError(
                    f"stream {stream_id}: fs {fs}, scale {scale}, channels {channels}"
                )
            if not 0 <= stream_id < 8:
                raise ProtocolError(f"stream id {stream_id} outside 0..7")
            unit = str(entry["unit"])
            streams.append(
                StreamSpec(
                    stream_id, kind, channels, fs, scale * to_internal_factor(kind, unit), unit
                )
            )
        return SensorInfo(
            protocol=int(doc["proto"]),
            firmware=str(doc["fw"]),
            hardware=str(doc["hw"]),
            site=str(doc["site"]),
            tick_hz=int(doc["tick_hz"]),
            streams=tuple(streams),
        )
    except ProtocolError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"unreadable info document: {exc}") from exc


# --- advertising ---------------------------------------------------------------------------

ADVERT_LAYOUT = struct.Struct("<BBB")  # protocol version, battery %, flags (bit0 = streaming)


def encode_advert(battery_pct: int, streaming: bool) -> bytes:
    """Manufacturer-specific data (after the company id): lets a scan show battery unconnected."""
    return ADVERT_LAYOUT.pack(PROTOCOL_VERSION, battery_pct, int(streaming))


def decode_advert(data: bytes) -> tuple[int, int, bool] | None:
    if len(data) != ADVERT_LAYOUT.size:
        return None
    version, battery, flags = ADVERT_LAYOUT.unpack(data)
    return version, battery, bool(flags & 1)
