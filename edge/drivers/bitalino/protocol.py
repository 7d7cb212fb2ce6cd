"""The BITalino (r)evolution BLE protocol, byte by byte (research/sensors.md §A).

The BLE board is the classic board's microcontroller behind a BT121 module that bridges its
UART to GATT: one-byte commands are written to "Commands", and everything the board sends
(sample frames, replies) arrives on "Frames" as a byte stream cut into notifications of at
most 20 bytes, with no regard for frame boundaries.

A frame of ``n`` channels is 3..8 bytes. Read with its bytes in reverse order (the last byte
sent first) and padded with zero bytes to 8, it is one big-endian 64-bit word::

    seq:4 | crc:4 | I1 I2 O1 O2 | S1:10 | S2:10 | S3:10 | S4:10 | S5:6 | S6:6

``Sk`` is the k-th *selected* channel in ascending physical order (A1 first); slots 5 and 6
carry only the ADC's upper 6 bits. The CRC-4 (polynomial x^4 + x + 1, initial 0, MSB first,
not reflected) covers every bit in wire order except the CRC nibble itself.

Written from the facts in the research note; no code of PLUX's (GPL) implementations is used.
The encoder lives here, beside the decoder, for the simulator and the tests; golden vectors from
the note (decoded there with PLUX's official decoder) pin both.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edge.errors import ProtocolError

SERVICE_UUID = "c566488a-0882-4e1b-a6d0-0b717e652234"
COMMANDS_UUID = "4051eb11-bf0a-4c74-8730-a48f4193fcea"  # write (with response)
FRAMES_UUID = "40fdba6b-672e-47c4-808a-e529adff3633"  # notify: the byte stream
#: What the BT121's notifications carry at most (ATT MTU 23, never renegotiated).
MAX_NOTIFICATION_BYTES = 20

#: The stock Board Kit's sensors by analog port (firmware pins.h).
EMG_CHANNEL = 1  # A1
ACC_CHANNEL = 5  # A5: one axis of the board's accelerometer
N_CHANNELS = 6
SEQ_MODULO = 16

#: Transfer functions (PLUX's unit conversion, research note §A4): EMG in volts is
#: (ADC / 2**bits - 1/2) * VCC / G; ACC in g maps the calibration counts Cmin..Cmax to -1..+1 g.
VCC_V = 3.3
EMG_GAIN = 1009.0  # BITalino (r)evolution EMG sensor
ACC_CMIN = 400  # 10-bit counts at -1 g (PLUX's default calibration; boards differ slightly)
ACC_CMAX = 608  # ... at +1 g


class Rate(IntEnum):
    """Sampling rate commands (``rr000011``); the rate applies at the next start."""

    HZ_1 = 0x03
    HZ_10 = 0x43
    HZ_100 = 0x83
    HZ_1000 = 0xC3


RATE_HZ = {Rate.HZ_1: 1.0, Rate.HZ_10: 10.0, Rate.HZ_100: 100.0, Rate.HZ_1000: 1000.0}
STOP = 0x00  # only while acquiring; in idle the same byte sets the battery threshold to 0
VERSION = 0x07  # replied as ASCII "BITalino_v5.2\n" on Frames


def start_live(channels: tuple[int, ...]) -> int:
    """The command that starts live acquisition of analog ports ``channels`` (1..6)."""
    return _mask(channels) << 2 | 0x01


def start_simulated(channels: tuple[int, ...]) -> int:
    """The command that starts the firmware's synthetic waveforms on ``channels``."""
    return _mask(channels) << 2 | 0x02


def parse_start(command: int) -> tuple[tuple[int, ...], bool] | None:
    """``(channels, live)`` of a start command, None if ``command`` is not one."""
    mode = command & 0x03
    if mode not in (0x01, 0x02) or command >> 2 == 0:
        return None
    channels = tuple(c for c in range(1, N_CHANNELS + 1) if command >> (c + 1) & 1)
    return channels, mode == 0x01


def _mask(channels: tuple[int, ...]) -> int:
    if not channels or any(not 1 <= c <= N_CHANNELS for c in channels):
        raise ProtocolError(f"BITalino channels must be among 1..6, got {channels}")
    return sum(1 << (c - 1) for c in set(channels))


def frame_bytes(n_channels: int) -> int:
    """Bytes per frame of ``n_channels`` selected channels: 3, 4, 6, 7, 8, 8."""
    if not 1 <= n_channels <= N_CHANNELS:
        raise ProtocolError(f"a BITalino frame holds 1..6 channels, got {n_channels}")
    return n_channels + 2 + (1 if 3 <= n_channels <= 5 else 0)


def slot_bits(n_channels: int) -> tuple[int, ...]:
    """Bits per selected channel as sent: 10 in slots 1-4, 6 in slots 5-6."""
    return tuple(10 if slot < 4 else 6 for slot in range(n_channels))


# Field positions in the 64-bit word (see the module docstring): shift of each slot's value.
_SLOT_SHIFT = (42, 32, 22, 12, 6, 0)
_SEQ_SHIFT, _CRC_SHIFT, _DIGITAL_SHIFT = 60, 56, 52

# CRC-4, x^4 + x + 1, one nibble at a time: T[c] is c shifted through four zero bits.
_CRC_TABLE = np.array([0, 3, 6, 5, 12, 15, 10, 9, 11, 8, 13, 14, 7, 4, 1, 2], dtype=np.uint8)


def crc4(frames: np.ndarray) -> np.ndarray:
    """CRC-4 of frames ``(k, L)`` uint8 in wire order, CRC nibble excluded -> ``(k,)`` uint8."""
    crc = np.zeros(frames.shape[0], dtype=np.uint8)
    for column in range(frames.shape[1]):  # one vector step per nibble: at most 16
        byte = frames[:, column]
        crc = _CRC_TABLE[crc] ^ (byte >> 4)
        if column < frames.shape[1] - 1:
            crc = _CRC_TABLE[crc] ^ (byte & 0x0F)
    return _CRC_TABLE[crc]  # the CRC's own nibble counts as zero


def _words(frames: np.ndarray) -> np.ndarray:
    """Frames ``(k, L)`` uint8 -> ``(k,)`` uint64, last byte most significant (docstring)."""
    k, length = frames.shape
    padded = np.zeros((k, 8), dtype=np.uint8)
    padded[:, :length] = frames[:, ::-1]
    return padded.view(">u8").reshape(k).astype(np.uint64)


def unpack(frames: np.ndarray, n_channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode frames ``(k, L)`` uint8 -> seq ``(k,)``, digital ``(k,)``, ADC ``(n_channels, k)``.

    No CRC check: see :func:`crc4`. Values are as sent (slots 5-6 are 6-bit).
    """
    words = _words(frames)
    seq = (words >> np.uint64(_SEQ_SHIFT)).astype(np.int64)
    digital = (words >> np.uint64(_DIGITAL_SHIFT) & np.uint64(0xF)).astype(np.int64)
    adc = np.empty((n_channels, len(words)), dtype=np.int64)
    for slot, bits in enumerate(slot_bits(n_channels)):
        field = words >> np.uint64(_SLOT_SHIFT[slot]) & np.uint64((1 << bits) - 1)
        adc[slot] = field.astype(np.int64)
    return seq, digital, adc


def pack(seq: np.ndarray, adc: np.ndarray, digital: np.ndarray | None = None) -> bytes:
    """Encode frames: seq ``(k,)`` 0..15, ADC ``(n, k)`` as sent, digital nibble ``(k,)`` -> bytes.

    The firmware's side, for the simulator and the tests: frames in wire order, CRC filled in.
    """
    adc = np.asarray(adc, dtype=np.uint64)
    n_channels, k = adc.shape
    length = frame_bytes(n_channels)
    words = (np.asarray(seq, dtype=np.uint64) & np.uint64(0xF)) << np.uint64(_SEQ_SHIFT)
    if digital is not None:
        words |= (np.asarray(digital, dtype=np.uint64) & np.uint64(0xF)) << np.uint64(
            _DIGITAL_SHIFT
        )
    for slot, bits in enumerate(slot_bits(n_channels)):
        if np.any(adc[slot] >= 1 << bits):
            raise ProtocolError(f"slot {slot + 1} holds {bits} bits, got {int(adc[slot].max())}")
        words |= adc[slot] << np.uint64(_SLOT_SHIFT[slot])
    reversed_bytes = words.astype(">u8").view(np.uint8).reshape(k, 8)[:, :length]
    frames = np.ascontiguousarray(reversed_bytes[:, ::-1])
    frames[:, -1] |= crc4(frames)
    return frames.tobytes()


def frame_windows(data: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``length``-byte window of a byte stream: ``(crc_ok, seq)``, one per start offset."""
    if len(data) < length:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    windows = sliding_window_view(data, length)
    crc_ok = crc4(windows) == (windows[:, -1] & 0x0F)
    return crc_ok, (windows[:, -1] >> 4).astype(np.int64)


def emg_uv(adc: np.ndarray, bits: int = 10) -> np.ndarray:
    """EMG in µV from ADC counts of ``bits`` resolution (±1.64 mV full scale at 10 bits)."""
    volts = (np.asarray(adc, dtype=np.float64) / (1 << bits) - 0.5) * VCC_V / EMG_GAIN
    return (volts * 1e6).astype(np.float32)


def acc_g(adc: np.ndarray, bits: int = 10) -> np.ndarray:
    """Acceleration in g from ADC counts of ``bits`` resolution (default calibration)."""
    scale = 1 << (10 - bits)
    cmin, cmax = ACC_CMIN / scale, ACC_CMAX / scale
    return (2.0 * (np.asarray(adc, dtype=np.float64) - cmin) / (cmax - cmin) - 1.0).astype(
        np.float32
    )


def emg_counts(uv: np.ndarray) -> np.ndarray:
    """The inverse of :func:`emg_uv` at 10 bits, rounded and held at the ADC's rails."""
    counts = (np.asarray(uv, dtype=np.float64) * 1e-6 * EMG_GAIN / VCC_V + 0.5) * 1024
    return np.clip(np.rint(counts), 0, 1023).astype(np.int64)


def acc_counts(g: np.ndarray) -> np.ndarray:
    """The inverse of :func:`acc_g` at 10 bits, rounded and held at the ADC's rails."""
    counts = ACC_CMIN + (np.asarray(g, dtype=np.float64) + 1.0) / 2.0 * (ACC_CMAX - ACC_CMIN)
    return np.clip(np.rint(counts), 0, 1023).astype(np.int64)
