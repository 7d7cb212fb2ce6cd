"""Driver for the PLUX BITalino (r)evolution BLE board: EMG on A1, one accelerometer axis on A5.

The board has no clock of its own to send: each frame is one sample of every selected channel,
taken on a 1 kHz timer, with a 4-bit sequence number. :mod:`.framing` turns the byte stream into
frames counted since the start; that count is the frame's sample index, handed to the timeline
as sensor ticks at 1 kHz. Each connection starts acquisition afresh (a disconnect stops it on
the board), so the first frame of a connection is marked as a clock restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from edge.drivers.base import Decoded, FrameBatch, FrameError, FrameFlag, SensorDriver, StreamSpec
from edge.drivers.bitalino import DRIVER
from edge.drivers.bitalino import protocol as proto
from edge.drivers.bitalino.framing import FrameStream
from edge.timeline import SEQ_WRAP
from twitchwatch.contract import Kind

if TYPE_CHECKING:
    from bleak import BleakClient

#: 1 kHz: the board's fastest rate, which EMG needs (the sensor's band reaches ~480 Hz).
RATE = proto.Rate.HZ_1000
FS_HZ = proto.RATE_HZ[RATE]
#: A1 and A5 take frame slots 1 and 2, so both arrive with all 10 bits (slots 5-6 carry 6).
CHANNELS = (proto.EMG_CHANNEL, proto.ACC_CHANNEL)
EMG_STREAM, ACC_STREAM = 0, 1


class BitalinoDriver(SensorDriver):
    """Rate and start commands, and frames out of the notification byte stream."""

    name: ClassVar[str] = DRIVER.name
    tick_hz: ClassVar[float] = FS_HZ  # one tick per frame: the frame count is the sample index
    tick_wrap: ClassVar[int] = 1 << 40  # never reached (35 years at 1 kHz)

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.frames = FrameStream(len(CHANNELS), FS_HZ)
        self._first_frame = True

    @property
    def data_uuid(self) -> str:
        return proto.FRAMES_UUID

    async def start(self, client: BleakClient) -> list[StreamSpec]:
        # The BT121 acts only on ATT write requests (research note §A1): always with response.
        await client.write_gatt_char(proto.COMMANDS_UUID, bytes([RATE]), response=True)
        start = proto.start_live(CHANNELS)
        await client.write_gatt_char(proto.COMMANDS_UUID, bytes([start]), response=True)
        emg_uv_per_count = proto.VCC_V / proto.EMG_GAIN / 1024 * 1e6
        acc_g_per_count = 2.0 / (proto.ACC_CMAX - proto.ACC_CMIN)
        return [
            StreamSpec(EMG_STREAM, Kind.EMG, ("emg",), FS_HZ, emg_uv_per_count, "uV"),
            StreamSpec(ACC_STREAM, Kind.ACC, ("x",), FS_HZ, acc_g_per_count, "g"),
        ]

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(proto.COMMANDS_UUID, bytes([proto.STOP]), response=True)

    def frame_period_s(self, mtu: int) -> float:
        # A 20-byte notification holds five 4-byte frames: 5 ms of samples.
        return proto.MAX_NOTIFICATION_BYTES / self.frames.frame_length / FS_HZ

    def decode(self, payloads: Sequence[bytes], host_ns: np.ndarray) -> Decoded:
        """Frames completed by these notifications. Stateful, unlike other drivers: a frame may
        begin in one batch and end in the next, so the unfinished bytes wait here."""
        found = self.frames.push(list(payloads), host_ns)
        rejected = []
        if found.crc_failures or found.bytes_skipped:
            rejected = [
                FrameError(
                    self.device,
                    None,
                    f"CRC failed {found.crc_failures}x; {found.bytes_skipped} bytes skipped"
                    " to find frames again",
                )
            ]
        k = len(found.count)
        if k == 0:
            return Decoded([], rejected)
        flags = np.zeros(k, dtype=np.int64)
        if self._first_frame:
            flags[0] = FrameFlag.TIME_RESYNC  # acquisition restarted: the count began at 0
            self._first_frame = False
        common = {
            "seq": found.count % SEQ_WRAP,  # the timeline's sequence space
            "sensor_ticks": found.count % self.tick_wrap,
            "n_samples": np.ones(k, dtype=np.int64),
            "flags": flags,
            "host_ns": found.host_ns,
        }
        emg = proto.emg_uv(found.adc[0])[None, :]
        acc = proto.acc_g(found.adc[1])[None, :]
        return Decoded(
            [
                FrameBatch(stream_id=EMG_STREAM, samples=emg, **common),
                FrameBatch(stream_id=ACC_STREAM, samples=acc, **common),
            ],
            rejected,
        )
