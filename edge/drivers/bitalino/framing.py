"""BITalino frames out of the notification byte stream: locking on, re-syncing, unwrapping seq.

The board's notifications are slices of a byte stream (research note §A1), so frames are found
by their CRC: every byte offset is a candidate, checked for all offsets at once with numpy.
Locking on needs more than a CRC-4 (a random window passes one time in 16): a frame is trusted
when the next frame also passes and continues its sequence number. Once locked, frames follow
each other every ``L`` bytes; the first that fails its CRC (a torn or dropped byte) ends the lock
and the search starts again one byte later. Python loops run once per error, never per frame.

The 4-bit sequence number gives the exact count of frames lost, up to 15. A run of 16 lost
frames or more wraps it; the host clock resolves that: a frame cannot reach the host before it
was sampled, and the board's 1500-byte transmit ring (firmware ``TXBUFSIZ``) cannot hold a frame
for longer than about half a second, so a frame that would otherwise be older than that has lost
whole wraps of 16 before it (research note §A5, "Back-pressure behaviour"). Lost wraps make every
later frame look old; a stalled host only the backlog it stamps late, whose newest frames are
fresh: frames are judged by the freshest frame after them in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.drivers.bitalino import protocol as proto

#: A frame reaches the host at most this long after the earliest-arriving frames suggest it was
#: sampled. Bounded by the board's transmit ring (1500 B: 0.38 s of two-channel frames at 1 kHz)
#: plus BLE connection-event jitter; a longer apparent delay means lost wraps of 16 frames.
MAX_DELAY_S = 0.5
#: How fast the delay floor may rise (ppm): the board's crystal may run slow against the host's.
FLOOR_RISE_PPM = 300.0


@dataclass(frozen=True, slots=True)
class Frames:
    """Frames found in one batch of notifications (struct of arrays, arrival order)."""

    count: np.ndarray  # (k,) int64 frames since acquisition started (seq unwrapped)
    host_ns: np.ndarray  # (k,) arrival of the notification holding each frame's last byte
    digital: np.ndarray  # (k,) the I1 I2 O1 O2 nibble
    adc: np.ndarray  # (n_channels, k) int64, as sent
    bytes_skipped: int  # bytes discarded while searching for frames (torn frames, garbage)
    crc_failures: int  # places where a locked stream's next frame failed its CRC


@dataclass
class FrameStream:
    """Carries one connection's byte stream across batches; a new connection, a new instance."""

    n_channels: int
    fs: float
    _rest: bytes = b""  # bytes not yet part of a decided frame
    _locked: bool = False  # ``_rest`` starts at a frame boundary
    _last_seq: int | None = None
    _grid_phase: int = 0  # offset in ``_rest`` of the frame grid last locked on
    _last_count: int = -1
    _floor_s: float | None = None  # smallest (arrival - sample time) seen, tracked slowly
    _floor_host_ns: int = 0

    @property
    def frame_length(self) -> int:
        return proto.frame_bytes(self.n_channels)

    def push(self, payloads: list[bytes] | tuple[bytes, ...], host_ns: np.ndarray) -> Frames:
        """Find the frames completed by ``payloads`` (arrival order, stamped ``host_ns``)."""
        length = self.frame_length
        data = np.frombuffer(self._rest + b"".join(payloads), dtype=np.uint8)
        lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
        ends = len(self._rest) + np.cumsum(lengths)
        crc_ok, seq = proto.frame_windows(data, length)
        starts, position, skipped, failures = self._walk(crc_ok, seq)
        self._rest = data[position:].tobytes()
        frames = data[starts[:, None] + np.arange(length)] if len(starts) else None
        if frames is None:
            empty = np.zeros(0, dtype=np.int64)
            adc = np.zeros((self.n_channels, 0), dtype=np.int64)
            return Frames(empty, empty, empty, adc, skipped, failures)
        seq_k, digital, adc = proto.unpack(frames, self.n_channels)
        # A frame arrives with the notification that holds its last byte.
        arrival = np.asarray(host_ns, dtype=np.int64)[
            np.searchsorted(ends, starts + length, side="left")
        ]
        count = self._unwrap(seq_k, arrival)
        return Frames(count, arrival, digital, adc, skipped, failures)

    def _walk(self, crc_ok: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, int, int, int]:
        """Frame starts, where the undecided tail begins, bytes skipped, CRC failures."""
        length = self.frame_length
        m = len(crc_ok)
        # Trusted start: this frame and the next pass their CRCs and the sequence continues.
        confirmed = np.zeros(m, dtype=bool)
        pairs = np.zeros(m, dtype=bool)  # this window and the one a frame later pass their CRCs
        if m > length:
            step = (seq[length:] - seq[:-length]) % proto.SEQ_MODULO
            pairs[:-length] = crc_ok[:-length] & crc_ok[length:]
            confirmed[:-length] = pairs[:-length] & (step == 1)
        undecided = max(0, m - length)  # windows from here on cannot be confirmed yet
        taken: list[np.ndarray] = []
        skipped = failures = 0
        position = 0
        last_seq = self._last_seq
        grid_at = self._grid_phase  # a frame boundary of the last lock
        while True:
            just_locked = False
            if not self._locked:
                trusted = confirmed[position:undecided].copy()
                if last_seq is not None:
                    # Just after a damaged frame the stream resumes 2 or 3 frames on, within two
                    # frames' bytes; its successor may be one the board skipped (a seq jump), so
                    # there only the CRCs of both must pass.
                    near = slice(position, min(undecided, position + 2 * length))
                    resumes = np.isin((seq[near] - last_seq) % proto.SEQ_MODULO, (2, 3))
                    resumes &= pairs[near]
                    # A flipped bit leaves frame boundaries where they were: a resume on the old
                    # grid goes first, before a window a byte off that passed by chance.
                    on_grid = (np.arange(near.start, near.stop) - grid_at) % length == 0
                    if (resumes & on_grid).any():
                        trusted[:] = False
                        resumes &= on_grid
                    trusted[: near.stop - near.start] |= resumes
                found = np.flatnonzero(trusted)
                if len(found) == 0:
                    keep_from = max(position, undecided)
                    skipped += keep_from - position
                    position = keep_from
                    break
                skipped += int(found[0])
                position += int(found[0])
                self._locked = just_locked = True
                grid_at = position
            chain = np.arange(position, m, length)
            # In lock a frame needs its CRC, and a sequence step of 1 or a confirmation: a torn
            # frame that passes its CRC by chance (1 in 16) rarely also continues the sequence.
            previous = np.concatenate(([-1 if last_seq is None else last_seq], seq[chain[:-1]]))
            follows = (seq[chain] - previous) % proto.SEQ_MODULO == 1
            good = crc_ok[chain] & (follows | confirmed[chain])
            good[:1] |= just_locked  # the search already trusted the frame it locked on
            # Past ``undecided`` a frame that needs its confirmation must wait for more bytes.
            waiting = ~follows & (chain >= undecided) & crc_ok[chain]
            stop = np.flatnonzero(~good | waiting)
            n_good = int(stop[0]) if len(stop) else len(chain)
            taken.append(chain[:n_good])
            if n_good:
                last_seq = int(seq[chain[n_good - 1]])
            position = int(chain[n_good]) if n_good < len(chain) else position + n_good * length
            if n_good == len(chain) or waiting[n_good]:
                break
            # Lost lock: this frame is torn or was hit; search again from the next byte.
            failures += 1
            self._locked = False
            skipped += 1
            position += 1
        starts = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
        self._grid_phase = (grid_at - position) % length  # the next batch starts at ``position``
        return starts, position, skipped, failures

    def _unwrap(self, seq: np.ndarray, arrival_ns: np.ndarray) -> np.ndarray:
        """Frames since the start for each frame: seq steps, plus wraps the host clock reveals."""
        if self._last_seq is None:
            # The board restarts seq at 0 on start: frames before the first one seen were lost.
            first = int(seq[0])
            steps = np.diff(seq, prepend=first - 1) % proto.SEQ_MODULO
            steps[0] = first + 1
        else:
            steps = np.diff(seq, prepend=self._last_seq) % proto.SEQ_MODULO
        steps[steps == 0] = proto.SEQ_MODULO  # same seq again: 15 frames lost in between
        naive = self._last_count + np.cumsum(steps)
        arrival_s = arrival_ns / 1e9
        if self._floor_s is None:
            self._floor_s = float(arrival_s[0] - naive[0] / self.fs)
            self._floor_host_ns = int(arrival_ns[0])
        floor = self._floor_s + (arrival_ns - self._floor_host_ns) / 1e9 * FLOOR_RISE_PPM * 1e-6
        delay_s = arrival_s - naive / self.fs - floor
        # Lost wraps delay every later frame too, the freshest included; a host that stalled
        # stamps a backlog late, but its last frames are fresh. So each frame is judged by the
        # smallest delay from it to the end of the batch (non-decreasing: wraps accumulate).
        settled_s = np.minimum.accumulate(delay_s[::-1])[::-1]
        wraps = np.ceil((settled_s - MAX_DELAY_S) * self.fs / proto.SEQ_MODULO).clip(min=0)
        count = naive + proto.SEQ_MODULO * wraps.astype(np.int64)
        lowest = np.argmin(arrival_s - count / self.fs)
        low_s = float(arrival_s[lowest] - count[lowest] / self.fs)
        risen = self._floor_s + (int(arrival_ns[lowest]) - self._floor_host_ns) / 1e9 * (
            FLOOR_RISE_PPM * 1e-6
        )
        if low_s < risen:
            self._floor_s, self._floor_host_ns = low_s, int(arrival_ns[lowest])
        self._last_seq, self._last_count = int(seq[-1]), int(count[-1])
        return count
