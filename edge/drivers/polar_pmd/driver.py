"""Driver for Polar Verity Sense and Polar H10 accelerometers over Polar Measurement Data (PMD).

The protocol (shared/research/ble_edge.md §1.2) has no sequence numbers: every frame carries the
device time of its last sample, and lost frames show up as holes in that time. The driver hands
the timeline each frame's first-sample time and lets it turn holes into gap spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from edge.drivers.base import (
    Decoded,
    DriverError,
    FrameBatch,
    FrameError,
    FrameFlag,
    PendingAnswers,
    SensorDriver,
    StreamSpec,
)
from edge.drivers.polar_pmd import DRIVER
from edge.drivers.polar_pmd import frames as pmd_frames
from edge.drivers.polar_pmd import protocol as pmd
from twitchwatch.contract import Kind

if TYPE_CHECKING:
    from bleak import BleakClient
    from bleak.backends.characteristic import BleakGATTCharacteristic


#: How long the sensor has to answer a control point request (as in the diy driver).
CONTROL_POINT_TIMEOUT_S = 5.0
#: Highest ACC rate asked for. Twitches (a 30-100 ms mechanical bump) and limb motion live below
#: ~20 Hz (the detector's ACC band is 0.3-20 Hz), so 208/200 Hz samples them amply, and three
#: 16-bit channels at 208 Hz still leave most of a BLE link to other sensors; 416 Hz would double
#: the air time for nothing the detector uses, and Polar warns that fast streams may not all fit.
MAX_RATE_HZ = 208
RESOLUTION_BITS = 16
#: H10 raw frames carry mG (ble_edge.md §1.2): g per count when no FACTOR comes with the start.
MG_PER_COUNT_G = 0.001
STREAM_ID = 0
#: Narrowest deltas assumed when bounding how long a compressed frame can last (watchdog): real
#: MEMS noise needs 3-5 bits, so 2 errs on the long side.
MIN_DELTA_BITS = 2
#: A jump in device time within one connection bigger than this, or backwards, is a clock change
#: (H10 clock reset, time set by an app), not a gap: the timeline estimates it from host time.
MAX_FRAME_JUMP_NS = 60 * pmd_frames.NS_PER_S


class PolarDriver(SensorDriver):
    """Features read, ACC settings, start/stop over the control point, and frame decoding."""

    name: ClassVar[str] = DRIVER.name
    # Device time is ns since 2000-01-01 (~8.5e17 today). It never wraps, but the timeline works
    # modulo tick_wrap and forms (delta + wrap // 2) in int64: 2**62 keeps that below 2**63 for
    # any delta smaller than 2**61 ns (73 years) and still holds timestamps until the year 2146.
    tick_hz: ClassVar[float] = 1e9
    tick_wrap: ClassVar[int] = 2**62

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.spec: StreamSpec | None = None
        self.stopped_by_sensor = False  # the sensor said "measurement stopped" on its own
        self._answers: PendingAnswers[tuple[int, int], pmd.Response] = PendingAnswers(
            device, CONTROL_POINT_TIMEOUT_S
        )
        self._last_ns: int | None = None  # device time of the last accepted frame's last sample

    @property
    def data_uuid(self) -> str:
        return pmd.DATA_UUID

    async def start(self, client: BleakClient) -> list[StreamSpec]:
        try:
            features = pmd.parse_features(await client.read_gatt_char(pmd.CONTROL_POINT_UUID))
        except pmd.ProtocolError as exc:
            raise DriverError(self.device, f"unreadable PMD features: {exc}") from None
        if pmd.MeasurementType.ACC not in features:
            raise DriverError(self.device, "this Polar sensor has no accelerometer stream")
        await client.start_notify(pmd.CONTROL_POINT_UUID, self._on_control_point)
        offered = await self._request(client, pmd.Opcode.GET_MEASUREMENT_SETTINGS)
        try:
            chosen = choose_settings(pmd.parse_settings(offered.parameters))
        except pmd.ProtocolError as exc:
            raise DriverError(self.device, f"ACC settings: {exc}") from None
        started = await self._request(
            client,
            pmd.Opcode.REQUEST_MEASUREMENT_START,
            chosen,
            allowed=(pmd.Status.ERROR_ALREADY_IN_STATE,),
        )
        if started.status == pmd.Status.ERROR_ALREADY_IN_STATE:
            # An H10 keeps streaming after its link drops until told to stop (KnownIssues H10
            # #2): stop the old stream so that this one starts with our settings.
            await self._request(client, pmd.Opcode.STOP_MEASUREMENT)
            started = await self._request(client, pmd.Opcode.REQUEST_MEASUREMENT_START, chosen)
        try:
            factor = pmd.start_factor(started.parameters)
        except pmd.ProtocolError as exc:
            raise DriverError(self.device, f"ACC start response: {exc}") from None
        fs = float(chosen[pmd.SettingType.SAMPLE_RATE])
        scale, unit = (factor, "g") if factor is not None else (MG_PER_COUNT_G, "mg")
        self.spec = StreamSpec(STREAM_ID, Kind.ACC, ("x", "y", "z"), fs, scale, unit)
        self._last_ns = None
        return [self.spec]

    async def stop(self, client: BleakClient) -> None:
        await self._request(
            client, pmd.Opcode.STOP_MEASUREMENT, allowed=(pmd.Status.ERROR_ALREADY_IN_STATE,)
        )

    def frame_period_s(self, mtu: int) -> float:
        if self.spec is None:
            return 1.0
        room = min(mtu - 3, 512) - pmd_frames.FRAME_HEADER.size
        reference = pmd_frames.ACC_CHANNELS * RESOLUTION_BITS // 8
        # The longest a frame can last: a compressed one with the narrowest plausible deltas.
        samples = 1 + 8 * max(room - reference - 2, 0) // (pmd_frames.ACC_CHANNELS * MIN_DELTA_BITS)
        return samples / self.spec.fs

    def decode(self, payloads: Sequence[bytes], host_ns: np.ndarray) -> Decoded:
        """Frames -> one FrameBatch (seq None, first-sample device time as ticks) + rejects."""
        spec = self.spec
        if spec is None:
            problem = "not started"
            return Decoded([], [FrameError(self.device, None, problem) for _ in payloads])
        rejected: list[FrameError] = []
        frames: list[pmd_frames.AccFrame] = []
        arrival: list[int] = []
        for i, payload in enumerate(payloads):  # per frame; decoding inside is vectorized
            try:
                frame = pmd_frames.decode_acc_frame(payload, RESOLUTION_BITS)
            except pmd.ProtocolError as exc:
                rejected.append(FrameError(self.device, None, str(exc)))
                continue
            if frame.timestamp_ns >= self.tick_wrap:
                rejected.append(
                    FrameError(self.device, None, f"timestamp {frame.timestamp_ns} ns beyond 2**62")
                )
                continue
            frames.append(frame)
            arrival.append(i)
        if not frames:
            return Decoded([], rejected)
        n = np.array([f.n_samples for f in frames], dtype=np.int64)
        last_ns = np.array([f.timestamp_ns for f in frames], dtype=np.int64)
        first_ns, flags = self._first_sample_ns(last_ns, n, spec.fs)
        counts = np.concatenate([f.counts for f in frames])
        batch = FrameBatch(
            stream_id=STREAM_ID,
            seq=None,
            sensor_ticks=first_ns % self.tick_wrap,
            n_samples=n,
            flags=flags,
            host_ns=np.asarray(host_ns, dtype=np.int64)[arrival],
            samples=(counts.T * spec.scale).astype(np.float32),
        )
        return Decoded([batch], rejected)

    def _first_sample_ns(
        self, last_ns: np.ndarray, n: np.ndarray, fs: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Device time of each frame's first sample, and TIME_RESYNC where the clock jumped.

        A frame that follows the previous one without a hole (its span is n sample periods,
        within half a period) gets its first sample one interpolated step after the previous
        frame's last, as the protocol says. After a hole (a lost frame) the interpolation would
        smear the hole over the frame, so the nominal rate places it back from its last sample.
        """
        has_previous = np.ones(len(n), dtype=bool)
        has_previous[0] = self._last_ns is not None
        prev = np.concatenate(([self._last_ns or 0], last_ns[:-1]))
        period_ns = pmd_frames.NS_PER_S / fs
        span = last_ns - prev
        contiguous = has_previous & (np.abs(span - n * period_ns) <= period_ns / 2)
        interpolated = prev + np.rint(span / n).astype(np.int64)
        nominal = last_ns - np.rint((n - 1) * period_ns).astype(np.int64)
        first = np.where(contiguous, interpolated, nominal)
        jumped = has_previous & ((span <= 0) | (span > MAX_FRAME_JUMP_NS))
        flags = np.where(jumped, int(FrameFlag.TIME_RESYNC), 0).astype(np.int64)
        self._last_ns = int(last_ns[-1])
        return first, flags

    async def _request(
        self,
        client: BleakClient,
        opcode: pmd.Opcode,
        settings: dict[pmd.SettingType, int] | None = None,
        allowed: tuple[pmd.Status, ...] = (),
    ) -> pmd.Response:
        """Write a request and wait for its indicated answer; refusals raise DriverError."""
        request = pmd.encode_request(opcode, pmd.MeasurementType.ACC, settings)
        response = await self._answers.ask(
            (int(opcode), int(pmd.MeasurementType.ACC)),
            client.write_gatt_char(pmd.CONTROL_POINT_UUID, request, response=True),
            opcode.name,
        )
        if not response.ok and response.status not in allowed:
            raise DriverError(self.device, f"ACC {opcode.name} refused: {response.status_name}")
        return response

    def _on_control_point(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        # Indication callback: only resolves the waiting future (or notes a stop notice).
        try:
            message = pmd.parse_control_point_message(bytes(data))
        except pmd.ProtocolError:
            return  # not an answer to anything we asked; nothing waits on it
        if isinstance(message, pmd.MeasurementStopped):
            if pmd.MeasurementType.ACC in message.measurement_types:
                self.stopped_by_sensor = True  # frames stop; the session's watchdog reconnects
            return
        self._answers.resolve((message.opcode, message.measurement_type), message)


def choose_settings(offered: pmd.Settings) -> dict[pmd.SettingType, int]:
    """The ACC settings to start with, from what GET_MEASUREMENT_SETTINGS offered.

    Rate: the highest offered up to MAX_RATE_HZ (208 on a Verity in SDK mode, 200 on an H10;
    otherwise the slowest offered). Resolution: 16 bits. Range: the smallest (+-2 g where offered):
    a twitch is 1-3 mg, so resolution matters and limb motion rarely passes 2 g at rest sites.
    """
    rates = [int(r) for r in offered.get(pmd.SettingType.SAMPLE_RATE, ())]
    ranges = [int(r) for r in offered.get(pmd.SettingType.RANGE, ())]
    resolutions = [int(r) for r in offered.get(pmd.SettingType.RESOLUTION, ())]
    if not rates or not ranges:
        raise pmd.ProtocolError(f"no sample rate or range offered: {offered}")
    if resolutions and RESOLUTION_BITS not in resolutions:
        raise pmd.ProtocolError(f"resolutions {resolutions} offered, the driver reads 16-bit")
    slow_enough = [r for r in rates if r <= MAX_RATE_HZ]
    chosen = {
        pmd.SettingType.SAMPLE_RATE: max(slow_enough) if slow_enough else min(rates),
        pmd.SettingType.RESOLUTION: RESOLUTION_BITS,
        pmd.SettingType.RANGE: min(ranges),
    }
    if pmd.SettingType.CHANNELS in offered:
        chosen[pmd.SettingType.CHANNELS] = pmd_frames.ACC_CHANNELS
    return chosen
