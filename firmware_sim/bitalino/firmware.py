"""The simulated BITalino's firmware logic: the board's MCU and its BT121 bridge, Bluetooth aside.

Like the real board (research/sensors.md §A0-A5): one-byte commands; a sample timer that builds
one frame of every selected channel per tick with a 4-bit sequence number that counts every
tick; a 1500-byte transmit ring that skips frames (seq still counting) while nearly full; a
bridge that cuts the byte stream into notifications of at most 20 bytes wherever it stands;
acquisition stopped by a disconnect. Faults on demand: frames skipped, bits flipped (CRC
failures), bytes lost between the MCU and the radio.

:mod:`firmware_sim.bitalino.peripheral` feeds it time and sends what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge.drivers.bitalino import protocol as proto
from firmware_sim.errors import FaultRateError
from firmware_sim.physiology import SiteGenerator, SiteModel

VERSION_TEXT = b"BITalino_v5.2\n"
#: The MCU's transmit ring (firmware TXBUFSIZ); a frame is skipped while 8 bytes or fewer are free.
TX_RING_BYTES = 1500
TX_RING_RESERVE = 8


@dataclass(frozen=True, slots=True)
class BitalinoFaults:
    """Per-frame probabilities, seeded: a frame skipped by the board (its seq used), a frame
    sent with one bit flipped, and per notification, a few bytes lost before the radio."""

    skip_prob: float = 0.0
    corrupt_prob: float = 0.0
    lose_bytes_prob: float = 0.0

    def __post_init__(self) -> None:
        for name in ("skip_prob", "corrupt_prob", "lose_bytes_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise FaultRateError(name, value)


@dataclass
class FrameLog:
    """What happened to frames, for tests: counts since the start, by outcome."""

    sent: list[np.ndarray] = field(default_factory=list)  # left the ring for the radio
    skipped: list[np.ndarray] = field(default_factory=list)
    corrupted: list[np.ndarray] = field(default_factory=list)
    torn: list[int] = field(default_factory=list)  # frames that lost bytes in the bridge

    @staticmethod
    def _all(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def delivered(self) -> np.ndarray:
        """Frames that left for the radio intact: what a receiver can decode, in order."""
        sent = self._all(self.sent)
        return sent[~np.isin(sent, self.all_lost())]

    def all_lost(self) -> np.ndarray:
        """Frames that cannot arrive intact: skipped, corrupted or torn (acquisition-relative)."""
        torn = np.asarray(self.torn, dtype=np.int64)
        return np.unique(np.concatenate((self._all(self.skipped), self._all(self.corrupted), torn)))


class BitalinoFirmware:
    """One simulated BITalino (r)evolution BLE board with EMG on A1 and the accelerometer on A5."""

    def __init__(
        self,
        site: str,
        model: SiteModel,
        seed: int,
        faults: BitalinoFaults | None = None,
        drift_ppm: float = 0.0,
    ) -> None:
        self.site = site
        self.generator = SiteGenerator(model, seed)
        self.faults = faults or BitalinoFaults()
        self.drift_ppm = drift_ppm
        self.rate = proto.Rate.HZ_1000
        self.channels: tuple[int, ...] = ()
        self.acquiring = False
        self.log = FrameLog()  # of the current acquisition
        self.logs: list[FrameLog] = []  # one per acquisition (each connection starts one)
        self._rng = np.random.default_rng([seed, 0xB17A])
        self._start_s = 0.0  # board time of the start command
        self._next = 0  # count of the next frame the timer builds
        self._ring = bytearray()
        self._ring_counts: list[tuple[int, int]] = []  # (end offset in ring, frame count)
        self._skip_next = 0
        self._batch_frames: list[tuple[int, int]] = []

    @property
    def fs(self) -> float:
        return proto.RATE_HZ[self.rate]

    # -- commands (the MCU's UART) -----------------------------------------------------------

    def handle_command(self, data: bytes, board_s: float) -> None:
        """Bytes written to Commands; replies go out on Frames with the stream."""
        for command in data:
            started = proto.parse_start(command)
            if self.acquiring:
                if command in (proto.STOP, 0xFF):
                    self.acquiring = False
                continue  # other bytes during acquisition only set digital outputs
            if command in tuple(proto.Rate):
                self.rate = proto.Rate(command)
            elif command == proto.VERSION:
                self._ring += VERSION_TEXT
            elif started is not None and started[1]:
                self.channels, self.acquiring = started[0], True
                self._start_s, self._next = board_s, 0
                self.log = FrameLog()
                self.logs.append(self.log)
            # Simulated mode, battery threshold, state, PWM: not simulated.

    def link_lost(self) -> None:
        """The BT121 sends 0xFF to the MCU on disconnect: acquisition stops, the ring drains."""
        self.acquiring = False
        self._ring.clear()
        self._ring_counts.clear()

    def skip_next_frames(self, k: int) -> None:
        """The next ``k`` frames are skipped by the board (deterministic, for tests)."""
        self._skip_next += k

    # -- samples -----------------------------------------------------------------------------

    def adc(self, start: int, stop: int) -> np.ndarray:
        """ADC values of frames ``[start, stop)`` of an acquisition, ``(2, n)``: A1 EMG, A5 ACC."""
        emg = proto.emg_counts(self.generator.emg(start, stop))
        acc = proto.acc_counts(self.generator.acc(start, stop)[0])
        return np.stack((emg, acc))

    def board_time_s(self, elapsed_s: float) -> float:
        return elapsed_s * (1.0 + self.drift_ppm * 1e-6)

    # -- the byte stream ---------------------------------------------------------------------

    def produce(self, board_s: float, max_bytes: int) -> list[bytes]:
        """Run the timer up to board time ``board_s``, then hand up to ``max_bytes`` of the ring
        to the radio as notifications of at most 20 bytes."""
        if self.acquiring:
            self._tick(board_s)
        out = bytes(self._ring[:max_bytes])
        del self._ring[: len(out)]
        self._forget_sent(len(out))
        return self._through_bridge(out)

    def _tick(self, board_s: float) -> None:
        due = int((board_s - self._start_s) * self.fs) + 1
        if due <= self._next:
            return
        counts = np.arange(self._next, due)
        self._next = due
        length = proto.frame_bytes(len(self.channels))
        room = max(0, (TX_RING_BYTES - TX_RING_RESERVE - len(self._ring)) // length)
        skip = np.zeros(len(counts), dtype=bool)
        skip[room:] = True  # the ring is full: the timer skips these, seq keeps counting
        skip |= self._rng.random(len(counts)) < self.faults.skip_prob
        forced = min(self._skip_next, len(counts))
        skip[:forced] = True
        self._skip_next -= forced
        if skip.any():
            self.log.skipped.append(counts[skip])
        counts = counts[~skip]
        if len(counts) == 0:
            return
        adc = self.adc(int(counts[0]), int(counts[-1]) + 1)[:, counts - counts[0]]
        frames = np.frombuffer(proto.pack(counts % 16, adc), dtype=np.uint8).reshape(-1, length)
        corrupt = self._rng.random(len(counts)) < self.faults.corrupt_prob
        if corrupt.any():
            frames = frames.copy()
            rows = np.flatnonzero(corrupt)
            columns = self._rng.integers(0, length, size=len(rows))
            frames[rows, columns] ^= (1 << self._rng.integers(0, 8, size=len(rows))).astype(
                np.uint8
            )
            self.log.corrupted.append(counts[corrupt])
        start = len(self._ring)
        self._ring += frames.tobytes()
        ends = start + length * np.arange(1, len(counts) + 1)
        self._ring_counts += list(zip(ends.tolist(), counts.tolist(), strict=True))

    def _forget_sent(self, n_bytes: int) -> None:
        """``n_bytes`` left the ring: keep this batch's frame positions, shift the rest."""
        self._batch_frames = list(self._ring_counts)  # (end, count), offsets in this batch
        gone = [c for end, c in self._ring_counts if end <= n_bytes]
        if gone:
            self.log.sent.append(np.asarray(gone, dtype=np.int64))
        self._ring_counts = [(end - n_bytes, c) for end, c in self._ring_counts if end > n_bytes]

    def _through_bridge(self, data: bytes) -> list[bytes]:
        """The BT121 cuts the bytes into notifications; some lose bytes on the way (a fault)."""
        size = proto.MAX_NOTIFICATION_BYTES
        pieces = [data[i : i + size] for i in range(0, len(data), size)]
        if self.faults.lose_bytes_prob == 0:
            return pieces
        out = []
        for index, piece in enumerate(pieces):
            if len(piece) > 3 and self._rng.random() < self.faults.lose_bytes_prob:
                at = int(self._rng.integers(0, len(piece) - 2))
                n_lost = int(self._rng.integers(1, 3))
                self._note_torn(index * size + at, index * size + at + n_lost)
                piece = piece[:at] + piece[at + n_lost :]
            out.append(piece)
        return out

    def _note_torn(self, first: int, stop: int) -> None:
        """Log the frames that bytes ``[first, stop)`` of this batch belonged to."""
        length = proto.frame_bytes(len(self.channels)) if self.channels else 1
        for end, count in self._batch_frames:
            if end - length < stop and end > first:
                self.log.torn.append(count)
