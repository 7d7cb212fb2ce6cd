"""The simulated DIY sensor's firmware logic: sampling clock, ring buffer, framing, control point,
faults.

Pure of any Bluetooth stack: :mod:`firmware_sim.diy.peripheral` feeds it time and MTU, sends what
it returns and delivers control point writes. That keeps every byte decision testable on its own.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from edge.drivers.base import FrameFlag, StreamSpec
from edge.drivers.diy import protocol as proto
from firmware_sim.faults import Faults
from firmware_sim.physiology import SiteGenerator, SiteModel
from twitchwatch.contract import Kind

FIRMWARE_VERSION = "1.0.0"
HARDWARE = "twitchwatch-sim"
#: int16 scales, chosen like the DIY build: 0.2 uV/LSB covers +-6.5 mV of sEMG; 0.122 mg/LSB is a
#: +-4 g MEMS range at 16 bit.
EMG_SCALE_UV = 0.2
ACC_SCALE_G = 0.000122
#: Sensor-side buffer per stream. Samples older than this are overwritten while the radio stalls.
RING_BUFFER_S = 2.0
#: A partial frame goes out once its oldest sample is this old, so latency stays bounded at MTU 247.
FLUSH_AFTER_S = 0.05
#: Battery drain while streaming, percent per hour of sensor time.
DRAIN_PCT_PER_HOUR = 6.0


@dataclass
class StreamState:
    spec: StreamSpec
    streaming: bool = False
    next_sample: int = 0  # first sample not yet framed
    seq: int = 0
    overflowed: bool = False  # samples were overwritten since the last frame
    # What happened to every frame, for tests: (seq, start, n, outcome) with outcome in
    # "sent", "dropped", "corrupted".
    log: list[tuple[int, int, int, str]] = field(default_factory=list)


@dataclass
class FirmwareCounters:
    frames_sent: int = 0
    frames_dropped: int = 0
    frames_corrupted: int = 0
    frames_overflowed: int = 0


class DiyFirmware:
    """One simulated DIY sensor on one body site: EMG stream 0 and ACC stream 1."""

    def __init__(
        self, site: str, model: SiteModel, seed: int, faults: Faults | None = None
    ) -> None:
        self.site = site
        self.model = model
        self.generator = SiteGenerator(model, seed)
        self.faults = faults or Faults()
        self._rng = np.random.default_rng([seed, 0xF417])
        emg = StreamSpec(0, Kind.EMG, ("emg",), model.emg_fs_hz, EMG_SCALE_UV, "uV")
        acc = StreamSpec(1, Kind.ACC, ("x", "y", "z"), model.acc_fs_hz, ACC_SCALE_G, "g")
        self.streams = {s.stream_id: StreamState(s) for s in (emg, acc)}
        self.info = proto.SensorInfo(
            protocol=proto.PROTOCOL_VERSION,
            firmware=FIRMWARE_VERSION,
            hardware=HARDWARE,
            site=site,
            tick_hz=proto.TICK_HZ,
            streams=(emg, acc),
        )
        self.info_bytes = self.info.encode()
        self.counters = FirmwareCounters()
        self.epoch_us: int | None = None  # host time received with SET_TIME
        self.streamed_s = 0.0

    # -- control point -----------------------------------------------------------------------

    def handle_request(self, data: bytes, ticks_now: int) -> bytes:
        """Answer one control point write (the peripheral notifies the answer back)."""
        try:
            request = proto.decode_request(data)
        except proto.ProtocolError:
            return proto.encode_response(data[0] if data else 0, 0, proto.Status.INVALID_LENGTH)
        op, token, args = request.opcode, request.token, request.args
        status, payload = proto.Status.OK, b""
        try:
            if op == proto.Opcode.GET_INFO:
                payload = proto.GET_INFO_RESULT.pack(
                    proto.PROTOCOL_VERSION, len(self.info_bytes), self.info.crc32
                )
            elif op in (proto.Opcode.START, proto.Opcode.STOP):
                (mask,) = proto.START_ARGS.unpack(args)
                if mask == 0 or mask >> len(self.streams):
                    status = proto.Status.INVALID_PARAMETER
                else:
                    self._set_streaming(mask, op == proto.Opcode.START, ticks_now)
            elif op == proto.Opcode.SET_TIME:
                (self.epoch_us,) = proto.SET_TIME_ARGS.unpack(args)
                payload = proto.SET_TIME_RESULT.pack(ticks_now % proto.TICK_WRAP)
            elif op == proto.Opcode.GET_STATUS:
                payload = self.status(ticks_now).encode()
            else:
                status = proto.Status.UNKNOWN_OPCODE
        except struct.error:
            status = proto.Status.INVALID_LENGTH
        return proto.encode_response(op, token, status, payload)

    def status(self, ticks_now: int) -> proto.StatusReport:
        mask = sum(1 << sid for sid, s in self.streams.items() if s.streaming)
        fill = max(
            (
                self._pending(s, ticks_now) / (RING_BUFFER_S * s.spec.fs)
                for s in self.streams.values()
            ),
            default=0.0,
        )
        return proto.StatusReport(
            battery_pct=self.battery_pct,
            streaming_mask=mask,
            buffer_fill_pct=min(100, round(100 * fill)),
            frames_sent=self.counters.frames_sent,
            frames_overflowed=self.counters.frames_overflowed,
            ticks_now=ticks_now,
        )

    @property
    def battery_pct(self) -> int:
        return max(0, 100 - int(self.streamed_s / 3600 * DRAIN_PCT_PER_HOUR))

    @property
    def is_streaming(self) -> bool:
        return any(s.streaming for s in self.streams.values())

    def stop_all(self) -> None:
        """The link is gone: a sensor stops streaming until it is asked again."""
        for state in self.streams.values():
            state.streaming = False

    def _set_streaming(self, mask: int, on: bool, ticks_now: int) -> None:
        for sid, state in self.streams.items():
            if mask & (1 << sid):
                if on and not state.streaming:
                    # Stream from "now": what was sampled while nobody listened is not kept.
                    state.next_sample = self._due(state, ticks_now)
                    state.overflowed = False
                state.streaming = on

    # -- sampling and framing ----------------------------------------------------------------

    def produce(self, ticks_now: int, mtu: int, elapsed_s: float = 0.0) -> list[bytes]:
        """Frames that are ready at sensor tick ``ticks_now`` for a link with ATT MTU ``mtu``."""
        if self.is_streaming:
            self.streamed_s += elapsed_s
        frames: list[bytes] = []
        for state in self.streams.values():
            if state.streaming:
                frames += self._frames_for(state, ticks_now, mtu)
        return frames

    def _due(self, state: StreamState, ticks_now: int) -> int:
        """Samples [0, due) have been taken by tick ``ticks_now``."""
        return int(np.floor(ticks_now * state.spec.fs / proto.TICK_HZ)) + 1

    def _pending(self, state: StreamState, ticks_now: int) -> int:
        return self._due(state, ticks_now) - state.next_sample if state.streaming else 0

    def _frames_for(self, state: StreamState, ticks_now: int, mtu: int) -> list[bytes]:
        fs = state.spec.fs
        due = self._due(state, ticks_now)
        capacity = int(RING_BUFFER_S * fs)
        if due - state.next_sample > capacity:
            lost = due - state.next_sample - capacity
            state.next_sample += lost  # the ring buffer overwrote its oldest samples
            state.overflowed = True
            self.counters.frames_overflowed += 1
        n_max = proto.max_samples_per_frame(mtu, state.spec.n_channels)
        pending = due - state.next_sample
        n_full, rest = divmod(pending, n_max)
        sizes = [n_max] * n_full
        if rest and rest >= FLUSH_AFTER_S * fs:
            sizes.append(rest)
        if not sizes:
            return []
        start = state.next_sample
        stop = start + sum(sizes)
        counts, clipped = self._counts(state.spec, start, stop)
        frames: list[bytes] = []
        offset = 0
        for n in sizes:
            flags = FrameFlag(0)
            if state.overflowed:
                flags |= FrameFlag.OVERFLOW
                state.overflowed = False
            if clipped[offset : offset + n].any():
                flags |= FrameFlag.CLIPPED
            first = start + offset
            ticks = int(proto.ticks_of_sample(first, fs))
            frame = proto.encode_frame(
                state.spec.stream_id, state.seq, ticks, counts[offset : offset + n], flags
            )
            frames += self._through_faults(state, frame, first, n)
            state.seq = (state.seq + 1) & 0xFFFF
            offset += n
        state.next_sample = stop
        return frames

    def _counts(self, spec: StreamSpec, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """int16 counts (n, n_channels) of samples [start, stop) and a per-sample clip mask."""
        if spec.kind is Kind.EMG:
            physical = self.generator.emg(start, stop)[:, None]
        else:
            physical = self.generator.acc(start, stop).T
        raw = np.rint(physical / spec.scale)
        clipped = (np.abs(raw) > np.iinfo(np.int16).max).any(axis=1)
        counts = np.clip(raw, np.iinfo(np.int16).min, np.iinfo(np.int16).max).astype(np.int16)
        return counts, clipped

    def expected_counts(self, stream_id: int, start: int, stop: int) -> np.ndarray:
        """What the sensor sampled for [start, stop), as the int16 counts it would send (tests)."""
        return self._counts(self.streams[stream_id].spec, start, stop)[0]

    def _through_faults(self, state: StreamState, frame: bytes, first: int, n: int) -> list[bytes]:
        roll = self._rng.random()
        if roll < self.faults.drop_prob:
            state.log.append((state.seq, first, n, "dropped"))
            self.counters.frames_dropped += 1
            return []
        if roll < self.faults.drop_prob + self.faults.corrupt_prob:
            state.log.append((state.seq, first, n, "corrupted"))
            self.counters.frames_corrupted += 1
            return [self._corrupt(frame)]
        state.log.append((state.seq, first, n, "sent"))
        self.counters.frames_sent += 1
        return [frame]

    def _corrupt(self, frame: bytes) -> bytes:
        """Mangle a frame the way broken firmware or a bad buffer would (the LL CRC catches air)."""
        mangled = bytearray(frame)
        match int(self._rng.integers(3)):
            case 0:  # truncated
                return bytes(
                    mangled[: max(1, len(mangled) - 1 - int(self._rng.integers(len(mangled) - 1)))]
                )
            case 1:  # wrong protocol version
                mangled[0] = 0x70 | (mangled[0] & 0x0F)
            case _:  # sample count disagrees with the length
                mangled[8] = (mangled[8] % 255) + 1
        return bytes(mangled)
