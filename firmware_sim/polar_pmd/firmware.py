"""The simulated Polar sensor's firmware logic: PMD control point, ACC sampling, framing, faults.

Pure of any Bluetooth stack, like :mod:`firmware_sim.diy.firmware`:
:mod:`firmware_sim.polar_pmd.peripheral` feeds it the sensor clock and the MTU, sends what it
returns and delivers control point writes.
Two personalities follow ble_edge.md §1.2: a Verity Sense in SDK mode (delta-compressed frames,
a conversion factor in the start response) and an H10 (raw int16 frames in mG). The frame
encoders here are written independently of the edge's decoder; the real byte vectors pin both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edge.drivers.polar_pmd import frames as pmd_frames
from edge.drivers.polar_pmd import protocol as pmd
from firmware_sim.errors import FaultRateError, UnknownPresetError
from firmware_sim.physiology import PRESETS, SiteGenerator, SiteModel
from firmware_sim.physiology.model import MIN_ACC_FS_HZ, MIN_EMG_FS_HZ

ATT_NOTIFY_OVERHEAD = 3  # opcode + handle
MAX_ATTRIBUTE_BYTES = 512
RESOLUTION_BITS = 16
#: Delta samples per compressed block: short blocks follow the signal's changing size (a twitch
#: or a movement needs wide deltas only for a moment), at 2 header bytes each.
BLOCK_SAMPLES = 24
#: A partial frame goes out once it holds this much signal, so latency stays bounded. Longer than
#: a full frame at >= 100 Hz (H10 raw at MTU 247: 0.2 s; Verity compressed: about 0.6 s), so
#: frames fill the MTU as a real sensor's do; at 25/26 Hz frames go out every second.
FLUSH_AFTER_S = 1.0
#: Sensor-side buffer. Samples older than this are overwritten while the radio stalls.
RING_BUFFER_S = 2.0
FIRMWARE_VERSION = "sim-1.0"


@dataclass(frozen=True, slots=True)
class Personality:
    """What one Polar model offers (ble_edge.md §1.2)."""

    key: str
    name_prefix: str  # advertised as "<prefix> <8 hex id>"
    model_number: str
    acc_rates_hz: tuple[int, ...]
    acc_ranges_g: tuple[int, ...]
    compressed: bool  # delta-compressed frames (0x80) instead of raw int16 mG (0x01)
    features: tuple[pmd.MeasurementType, ...]
    #: H10: a stream keeps running when the link drops, until the app stops it (KnownIssues #2).
    streams_after_disconnect: bool
    offers_channels: bool  # the Verity lists CHANNELS in its settings, the H10 does not


VERITY = Personality(
    key="verity",
    name_prefix="Polar Sense",
    model_number="Polar Verity Sense",
    acc_rates_hz=(26, 52, 104, 208, 416),  # SDK mode
    acc_ranges_g=(2, 4, 8, 16),
    compressed=True,
    features=(
        pmd.MeasurementType.PPG,
        pmd.MeasurementType.ACC,
        pmd.MeasurementType.PPI,
        pmd.MeasurementType.GYRO,
        pmd.MeasurementType.MAG,
    ),
    streams_after_disconnect=False,
    offers_channels=True,
)
H10 = Personality(
    key="h10",
    name_prefix="Polar H10",
    model_number="Polar H10",
    acc_rates_hz=(25, 50, 100, 200),
    acc_ranges_g=(2, 4, 8),
    compressed=False,
    features=(pmd.MeasurementType.ECG, pmd.MeasurementType.ACC),
    streams_after_disconnect=True,
    offers_channels=False,
)
PERSONALITIES = {p.key: p for p in (VERITY, H10)}


@dataclass(frozen=True, slots=True)
class PolarFaults:
    """Faults on demand. ``drop_prob`` is per frame, seeded; ``refuse_start`` answers every
    start request with this status instead of starting."""

    drop_prob: float = 0.0
    refuse_start: pmd.Status | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_prob < 1.0:
            raise FaultRateError("drop_prob", self.drop_prob)


# --- frame encoders ------------------------------------------------------------------------


def frame_room(mtu: int) -> int:
    """Bytes of samples one notification carries at ATT MTU ``mtu`` after the 10-byte header."""
    return min(mtu - ATT_NOTIFY_OVERHEAD, MAX_ATTRIBUTE_BYTES) - pmd_frames.FRAME_HEADER.size


def encode_header(timestamp_ns: int, frame_byte: int) -> bytes:
    return pmd_frames.FRAME_HEADER.pack(pmd.MeasurementType.ACC, timestamp_ns, frame_byte)


def encode_raw_int16(counts: np.ndarray, room: int) -> tuple[bytes, int]:
    """As many samples of ``counts`` (n, 3) int16 as fit ``room`` bytes -> (payload, n used)."""
    n = min(len(counts), room // (2 * counts.shape[1]))
    return np.asarray(counts[:n], dtype="<i2").tobytes(), n


def signed_width(values: np.ndarray) -> np.ndarray:
    """Bits a two's-complement field needs to hold each value (at least 1)."""
    magnitude = np.where(values >= 0, values, -values - 1).astype(np.float64)
    return np.frexp(magnitude)[1].astype(np.int64) + 1


def encode_delta(
    counts: np.ndarray, room: int, resolution_bits: int = RESOLUTION_BITS
) -> tuple[bytes, int]:
    """Delta-compress as many samples of ``counts`` (n, channels) as fit ``room`` bytes.

    Returns the payload (reference sample, then blocks of up to BLOCK_SAMPLES deltas, each with
    the narrowest width that holds them) and how many samples it carries.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_channels = counts.shape[1]
    value_bytes = (resolution_bits + 7) // 8
    out = bytearray(_le_bytes(counts[0], value_bytes))
    if len(out) > room:
        return b"", 0
    deltas = np.diff(counts, axis=0)
    widths = signed_width(deltas).max(axis=1, initial=1)
    used = 1
    for start in range(0, len(deltas), BLOCK_SAMPLES):  # one iteration per block
        count = min(BLOCK_SAMPLES, len(deltas) - start)
        bits = int(widths[start : start + count].max())
        free_bits = 8 * (room - len(out) - 2)
        if bits * count * n_channels > free_bits:
            count = max(0, free_bits // (bits * n_channels))
            if count == 0:
                break
            bits = int(widths[start : start + count].max())
        out += bytes((bits, count)) + _pack(deltas[start : start + count].ravel(), bits)
        used += count
        if count < BLOCK_SAMPLES:
            break
    return bytes(out), used


def _pack(values: np.ndarray, bits: int) -> bytes:
    fields = (values[:, None] >> np.arange(bits)) & 1  # arithmetic shift: two's complement
    return np.packbits(fields.astype(np.uint8).ravel(), bitorder="little").tobytes()


def _le_bytes(values: np.ndarray, width: int) -> bytes:
    octets = (values[:, None] >> (8 * np.arange(width))) & 0xFF
    return octets.astype(np.uint8).tobytes()


# --- the firmware ----------------------------------------------------------------------------


@dataclass
class AccStream:
    """The ACC stream as the last start request configured it."""

    fs: float
    range_g: int
    factor: float | None  # g per count sent in the start response (Verity), None for mG counts
    next_sample: int = 0  # first sample not yet framed
    # What happened to every frame, for tests: (first sample, n, outcome) with outcome "sent",
    # "dropped" (lost in the air) or "overwritten" (never framed: the ring buffer overflowed).
    log: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def g_per_count(self) -> float:
        return 0.001 if self.factor is None else self.factor


class PolarFirmware:
    """One simulated Polar sensor on one body site, streaming ACC only."""

    def __init__(
        self,
        site: str,
        personality: Personality,
        preset: str,
        seed: int,
        faults: PolarFaults | None = None,
        boot_ns: int = 0,
        twitch_rate_per_min: float | None = None,
    ) -> None:
        if preset not in PRESETS:
            raise UnknownPresetError(preset, sorted(PRESETS))
        self.site = site
        self.personality = personality
        self.preset = preset
        self.twitch_rate_per_min = twitch_rate_per_min  # None: the preset's rate
        self.seed = seed
        self.faults = faults or PolarFaults()
        self.boot_ns = boot_ns  # device clock (ns since 2000-01-01) at sensor clock 0
        self.features_bytes = pmd.encode_features(personality.features)
        self.stream: AccStream | None = None  # the last configured stream, kept for tests
        self.streaming = False
        self.frames_sent = 0
        self.frames_dropped = 0
        self._drop_next = 0
        self._rng = np.random.default_rng([seed, 0x9014])
        self._generators: dict[float, tuple[SiteGenerator, int]] = {}

    @property
    def battery_pct(self) -> int:
        return 100

    # -- faults on demand --------------------------------------------------------------------

    def drop_next_frames(self, k: int) -> None:
        """The next ``k`` frames built are lost in the air (deterministic, for tests)."""
        self._drop_next += k

    def link_lost(self) -> None:
        if not self.personality.streams_after_disconnect:
            self.streaming = False

    # -- control point -----------------------------------------------------------------------

    def handle_request(self, data: bytes, elapsed_ns: int) -> bytes:
        """Answer one control point write (the peripheral indicates the answer back)."""
        op = data[0] if data else 0
        kind = data[1] & 0x7F if len(data) > 1 else 0
        try:
            request = pmd.decode_request(data)
        except pmd.ProtocolError:
            return pmd.encode_response(op, kind, pmd.Status.ERROR_INVALID_LENGTH)
        status, params = pmd.Status.SUCCESS, b""
        if op not in (
            pmd.Opcode.GET_MEASUREMENT_SETTINGS,
            pmd.Opcode.REQUEST_MEASUREMENT_START,
            pmd.Opcode.STOP_MEASUREMENT,
        ):
            status = pmd.Status.ERROR_INVALID_OP_CODE
        elif kind != pmd.MeasurementType.ACC or request.recording != pmd.RecordingType.ONLINE:
            status = pmd.Status.ERROR_NOT_SUPPORTED
        elif op == pmd.Opcode.GET_MEASUREMENT_SETTINGS:
            params = pmd.encode_settings(self._offered())
        elif op == pmd.Opcode.STOP_MEASUREMENT:
            status = pmd.Status.SUCCESS if self.streaming else pmd.Status.ERROR_ALREADY_IN_STATE
            self.streaming = False
        elif self.faults.refuse_start is not None:
            status = self.faults.refuse_start
        elif self.streaming:
            status = pmd.Status.ERROR_ALREADY_IN_STATE
        else:
            status, params = self._start(request.settings, elapsed_ns)
        return pmd.encode_response(op, kind, status, params)

    def _offered(self) -> dict[pmd.SettingType, tuple[int, ...]]:
        p = self.personality
        offered = {
            pmd.SettingType.SAMPLE_RATE: p.acc_rates_hz,
            pmd.SettingType.RESOLUTION: (RESOLUTION_BITS,),
            pmd.SettingType.RANGE: p.acc_ranges_g,
        }
        if p.offers_channels:
            offered[pmd.SettingType.CHANNELS] = (pmd_frames.ACC_CHANNELS,)
        return offered

    def _start(self, settings: pmd.Settings, elapsed_ns: int) -> tuple[pmd.Status, bytes]:
        p = self.personality
        rate = settings.get(pmd.SettingType.SAMPLE_RATE, (None,))[0]
        resolution = settings.get(pmd.SettingType.RESOLUTION, (None,))[0]
        range_g = settings.get(pmd.SettingType.RANGE, (None,))[0]
        channels = settings.get(pmd.SettingType.CHANNELS, (pmd_frames.ACC_CHANNELS,))[0]
        if rate not in p.acc_rates_hz:
            return pmd.Status.ERROR_INVALID_SAMPLE_RATE, b""
        if resolution != RESOLUTION_BITS:
            return pmd.Status.ERROR_INVALID_RESOLUTION, b""
        if range_g not in p.acc_ranges_g:
            return pmd.Status.ERROR_INVALID_RANGE, b""
        if channels != pmd_frames.ACC_CHANNELS:
            return pmd.Status.ERROR_INVALID_NUMBER_OF_CHANNELS, b""
        assert isinstance(rate, int) and isinstance(range_g, int)
        # A 16-bit stream spans the range: g per count = range / 2**15 (8 g -> 0.000244, the
        # factor in Polar's document). Sent as float32, so the sim uses the float32 value too.
        factor = float(np.float32(range_g / 2**15)) if p.compressed else None
        log = self.stream.log if self.stream is not None else []
        self.stream = AccStream(float(rate), range_g, factor, log=log)
        # Stream from "now": what was sampled while nobody listened is not kept.
        self.stream.next_sample = self._due(elapsed_ns)
        self.streaming = True
        if factor is None:
            return pmd.Status.SUCCESS, b"\x01"  # the H10's reserved byte (§5.3)
        return pmd.Status.SUCCESS, pmd.encode_settings({pmd.SettingType.FACTOR: factor})

    # -- sampling and framing ----------------------------------------------------------------

    def _due(self, elapsed_ns: int) -> int:
        """Samples [0, due) have been taken by sensor clock ``elapsed_ns``."""
        assert self.stream is not None
        return int(elapsed_ns * self.stream.fs // pmd_frames.NS_PER_S) + 1

    def sample_time_ns(self, index: int) -> int:
        """Device timestamp of sample ``index`` of the current stream, ns since 2000."""
        assert self.stream is not None
        return self.boot_ns + round(index * pmd_frames.NS_PER_S / self.stream.fs)

    def produce(self, elapsed_ns: int, mtu: int) -> list[bytes]:
        """Frames ready at sensor clock ``elapsed_ns`` for a link with ATT MTU ``mtu``."""
        stream = self.stream
        if not self.streaming or stream is None:
            return []
        due = self._due(elapsed_ns)
        oldest_kept = due - int(RING_BUFFER_S * stream.fs)
        if stream.next_sample < oldest_kept:  # the radio stalled: the ring buffer overwrote these
            stream.log.append((stream.next_sample, oldest_kept - stream.next_sample, "overwritten"))
            stream.next_sample = oldest_kept
        counts = self.expected_counts(stream.next_sample, due)
        room = frame_room(mtu)
        frames: list[bytes] = []
        pos = 0
        while pos < len(counts):
            if self.personality.compressed:
                payload, n = encode_delta(counts[pos:], room)
                frame_byte = pmd_frames.COMPRESSED_BIT  # compressed type 0, as in Polar's document
            else:
                payload, n = encode_raw_int16(counts[pos:], room)
                frame_byte = 1
            if pos + n == len(counts) and n < FLUSH_AFTER_S * stream.fs:
                break  # not a full frame yet: wait for more samples
            first = stream.next_sample + pos
            frame = encode_header(self.sample_time_ns(first + n - 1), frame_byte) + payload
            frames += self._through_faults(stream, frame, first, n)
            pos += n
        stream.next_sample += pos
        return frames

    def _through_faults(self, stream: AccStream, frame: bytes, first: int, n: int) -> list[bytes]:
        roll = self._rng.random()
        if self._drop_next > 0 or roll < self.faults.drop_prob:
            self._drop_next = max(0, self._drop_next - 1)
            stream.log.append((first, n, "dropped"))
            self.frames_dropped += 1
            return []
        stream.log.append((first, n, "sent"))
        self.frames_sent += 1
        return [frame]

    def expected_counts(self, start: int, stop: int) -> np.ndarray:
        """What the sensor sampled for [start, stop) of the current stream, as (n, 3) counts."""
        stream = self.stream
        assert stream is not None
        g = self._acc_g(stream.fs, start, stop)
        g = np.clip(g, -stream.range_g, stream.range_g)  # the MEMS saturates at its range
        counts = np.rint(g / stream.g_per_count)
        return np.clip(counts, -(2**15), 2**15 - 1).astype(np.int16).T

    def _acc_g(self, fs: float, start: int, stop: int) -> np.ndarray:
        """(3, n) acceleration in g from the physiology at ``fs``.

        The physiology renders at >= 100 Hz (a 30 ms twitch needs 3 samples in its rise), so a
        slower stream averages k rendered samples per sample, as a MEMS's decimation filter does.
        """
        generator, k = self.generator(fs)
        rendered = generator.acc(start * k, stop * k)
        return rendered.reshape(3, stop - start, k).mean(axis=2)

    def generator(self, fs: float) -> tuple[SiteGenerator, int]:
        """The site's physiology for a stream at ``fs`` and its oversampling factor."""
        if fs not in self._generators:
            k = math.ceil(MIN_ACC_FS_HZ / fs)
            params = dict(PRESETS[self.preset])
            if self.twitch_rate_per_min is not None:
                params["twitch_rate_per_min"] = self.twitch_rate_per_min
            model = SiteModel(**params, emg_fs_hz=MIN_EMG_FS_HZ, acc_fs_hz=fs * k)
            self._generators[fs] = (SiteGenerator(model, self.seed), k)
        return self._generators[fs]
