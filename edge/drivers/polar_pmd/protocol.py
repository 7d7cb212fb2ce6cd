"""Polar Measurement Data (PMD), byte by byte: UUIDs, enums and the control point.

Written from the public description in shared/research/ble_edge.md §1.2 (Polar's
online_measurement.pdf and the products' documentation), not from SDK code. Pure: no Bluetooth.
Data frames are in :mod:`edge.drivers.polar_pmd.frames`. Real byte vectors
(tests/data/polar_pmd/vectors.json, checked by tests/test_polar_protocol.py) pin every layout;
hardware/README.md §6 summarises it in a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

from edge.errors import ProtocolError

_UUID = "fb005c8{}-02e7-f387-1cad-8acd2d8df0c8"
SERVICE_UUID = _UUID.format(0)
CONTROL_POINT_UUID = _UUID.format(1)  # read: features; write: requests; indicate: responses
DATA_UUID = _UUID.format(2)  # notify: data frames

RESPONSE_CODE = 0xF0  # first byte of an answer to a request
FEATURES_CODE = 0x0F  # first byte of a control point read
MEASUREMENT_STOPPED_CODE = 0x01  # first byte of a sensor-initiated "stream stopped" notice


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class RecordingType(IntEnum):
    """Bit 7 of a request's measurement byte."""

    ONLINE = 0
    OFFLINE = 1


class Opcode(IntEnum):
    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3
    GET_SDK_MODE_MEASUREMENT_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5
    GET_SDK_MODE_STATUS = 6


class Status(IntEnum):
    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13
    ERROR_DISK_FULL = 14


class SettingType(IntEnum):
    SAMPLE_RATE = 0  # Hz
    RESOLUTION = 1  # bits
    RANGE = 2  # g for ACC (deg/s for gyro)
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5  # float32: physical unit per count (g per count for ACC)
    SECURITY = 6


#: numpy dtype of one value of each setting (SECURITY is one opaque 16-byte value).
_SETTING_DTYPE = {
    SettingType.SAMPLE_RATE: np.dtype("<u2"),
    SettingType.RESOLUTION: np.dtype("<u2"),
    SettingType.RANGE: np.dtype("<u2"),
    SettingType.RANGE_MILLIUNIT: np.dtype("<u4"),
    SettingType.CHANNELS: np.dtype("u1"),
    SettingType.FACTOR: np.dtype("<f4"),
    SettingType.SECURITY: np.dtype("V16"),
}

SettingValue = int | float | bytes
Settings = dict[SettingType, tuple[SettingValue, ...]]


class MeasurementStatus(StrEnum):
    """Status byte of a GET_MEASUREMENT_STATUS reply: bit 6 online, bit 7 offline."""

    NO_ACTIVE_MEASUREMENT = "NO_ACTIVE_MEASUREMENT"
    ONLINE_MEASUREMENT_ACTIVE = "ONLINE_MEASUREMENT_ACTIVE"
    OFFLINE_MEASUREMENT_ACTIVE = "OFFLINE_MEASUREMENT_ACTIVE"
    ONLINE_AND_OFFLINE_ACTIVE = "ONLINE_AND_OFFLINE_ACTIVE"


def measurement_status(value: int) -> MeasurementStatus:
    online, offline = bool(value & 0x40), bool(value & 0x80)
    if online and offline:
        return MeasurementStatus.ONLINE_AND_OFFLINE_ACTIVE
    if offline:
        return MeasurementStatus.OFFLINE_MEASUREMENT_ACTIVE
    if online:
        return MeasurementStatus.ONLINE_MEASUREMENT_ACTIVE
    return MeasurementStatus.NO_ACTIVE_MEASUREMENT


# --- settings TLV --------------------------------------------------------------------------


def parse_settings(data: bytes) -> Settings:
    """``[type u8][count u8][count values]...`` -> {setting: values}; a short value raises."""
    data = bytes(data)
    settings: Settings = {}
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise ProtocolError(f"settings: 1 stray byte at {pos}, a setting needs type and count")
        code, count = data[pos], data[pos + 1]
        try:
            kind = SettingType(code)
        except ValueError:
            raise ProtocolError(f"settings: unknown setting type {code} at byte {pos}") from None
        dtype = _SETTING_DTYPE[kind]
        size = dtype.itemsize * count
        body = data[pos + 2 : pos + 2 + size]
        if len(body) < size:
            raise ProtocolError(
                f"settings: {kind.name} declares {count} value(s) of {dtype.itemsize} bytes, "
                f"{len(body)} bytes left"
            )
        values = np.frombuffer(body, dtype=dtype)
        if kind is SettingType.SECURITY:
            settings[kind] = tuple(v.tobytes() for v in values)
        else:
            settings[kind] = tuple(values.tolist())
        pos += 2 + size
    return settings


def encode_settings(settings: Mapping[SettingType, SettingValue | Sequence[SettingValue]]) -> bytes:
    """Inverse of :func:`parse_settings`; keeps the mapping's order (it shows on the wire)."""
    out = bytearray()
    for kind, given in settings.items():
        kind = SettingType(kind)
        values = (
            list(given) if isinstance(given, Sequence) and not isinstance(given, bytes) else [given]
        )
        if len(values) > 255:
            raise ProtocolError(f"settings: {kind.name} has {len(values)} values, at most 255")
        out += bytes((kind, len(values)))
        if kind is SettingType.SECURITY:
            for value in values:
                if not isinstance(value, bytes) or len(value) != 16:
                    raise ProtocolError("settings: SECURITY values are 16 bytes each")
                out += value
        else:
            out += _setting_values(kind, values)
    return bytes(out)


def _setting_values(kind: SettingType, values: list[SettingValue]) -> bytes:
    dtype = _SETTING_DTYPE[kind]
    if dtype.kind == "f":
        return np.asarray(values, dtype=np.float64).astype(dtype).tobytes()
    numbers = [int(v) for v in values]  # type: ignore[arg-type]
    info = np.iinfo(dtype)
    if any(not info.min <= v <= info.max for v in numbers):
        raise ProtocolError(f"settings: {kind.name} values {numbers} do not fit {dtype.name}")
    return np.asarray(numbers).astype(dtype).tobytes()


# --- control point -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    opcode: int
    measurement_type: int
    recording: RecordingType
    settings: Settings


def encode_request(
    opcode: Opcode,
    measurement_type: MeasurementType,
    settings: Mapping[SettingType, SettingValue | Sequence[SettingValue]] | None = None,
    recording: RecordingType = RecordingType.ONLINE,
) -> bytes:
    """``[opcode][(recording << 7) | type][settings TLV]`` (settings only for a start)."""
    head = bytes((opcode, (recording << 7) | measurement_type))
    return head + (encode_settings(settings) if settings else b"")


def decode_request(data: bytes) -> Request:
    if len(data) < 2:
        raise ProtocolError(f"control point request of {len(data)} bytes, need at least 2")
    return Request(
        data[0], data[1] & 0x7F, RecordingType(data[1] >> 7), parse_settings(bytes(data[2:]))
    )


@dataclass(frozen=True, slots=True)
class Response:
    """``F0 <opcode> <type> <status> <more> <parameters...>``."""

    opcode: int
    measurement_type: int
    status: int
    more: bool  # the parameters continue in another indication
    parameters: bytes

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCESS

    @property
    def status_name(self) -> str:
        try:
            return Status(self.status).name
        except ValueError:
            return f"UNKNOWN_STATUS_{self.status}"


def parse_response(data: bytes) -> Response:
    data = bytes(data)
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise ProtocolError(f"not a control point response: {data[:8].hex()}")
    more = len(data) > 4 and data[4] != 0
    return Response(data[1], data[2], data[3], more, data[5:])


def encode_response(
    opcode: int, measurement_type: int, status: Status, parameters: bytes = b"", more: bool = False
) -> bytes:
    return bytes((RESPONSE_CODE, opcode, measurement_type, status, int(more))) + parameters


@dataclass(frozen=True, slots=True)
class MeasurementStopped:
    """Sensor-initiated notice: these measurement types stopped streaming."""

    measurement_types: tuple[int, ...]


def parse_control_point_message(data: bytes) -> Response | MeasurementStopped:
    """Anything the control point indicates: an answer, or a "measurement stopped" notice."""
    if data[:1] == bytes((MEASUREMENT_STOPPED_CODE,)):
        return MeasurementStopped(tuple(bytes(data[1:])))
    return parse_response(data)


def start_factor(parameters: bytes) -> float | None:
    """The FACTOR (physical unit per count) in a start response, None when the sensor sends none.

    The H10 answers one "reserved" byte (online_measurement.pdf §5.3) and some Verity Sense
    firmware nothing at all (polar-ble-sdk issue #331): both mean "no factor".
    """
    if len(parameters) < 2:
        return None
    values = parse_settings(parameters).get(SettingType.FACTOR, ())
    if not values:
        return None
    factor = float(values[0])
    if not (math.isfinite(factor) and factor > 0):
        raise ProtocolError(f"conversion factor {factor} is not a positive number")
    return factor


def parse_features(data: bytes) -> frozenset[int]:
    """Control point read ``0F <bitmap>``: bit n (LSB first, byte after byte) = type n offered."""
    data = bytes(data)
    if len(data) < 2 or data[0] != FEATURES_CODE:
        raise ProtocolError(f"not a PMD feature read: {data[:8].hex()}")
    bits = np.unpackbits(np.frombuffer(data[1:], dtype=np.uint8), bitorder="little")
    return frozenset(np.flatnonzero(bits).tolist())


def encode_features(types: Sequence[int], n_bytes: int = 16) -> bytes:
    bits = np.zeros(8 * n_bytes, dtype=np.uint8)
    bits[list(types)] = 1
    return bytes((FEATURES_CODE,)) + np.packbits(bits, bitorder="little").tobytes()
