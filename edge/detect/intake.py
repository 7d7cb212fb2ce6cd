"""One input stream's bookkeeping in a site detector: continuity, batching, bridging holes."""

from __future__ import annotations

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import Kind

#: The samples before a hole that set the filler's level.
RECENT_S = 0.1


def hole_filler(recent: np.ndarray, after: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples for a hole between ``recent`` and ``after``: the straight line between their
    edge samples, plus noise at ``recent``'s white-noise level.

    The hole is claimed as a gap, so nothing in it counts; the filler only lets the filters go on.
    A bare line would be a flat input for the length of the hole (an artefact to the EMG's flat
    rule); a seed from the hole's position, and ``recent`` being the last samples since the
    lane (re)started, keep the result the same however the stream was chunked.

    This is the one place where samples are made up, against STYLE.md's "gaps are never filled":
    they never leave the lane (the hole is a gap in every output, nothing in it is counted), and
    restarting the filters at every lost radio notification cost a BITalino most of its rest
    (bench/lost_frames.py).
    """
    step = np.arange(1, n + 1) / (n + 1)
    last, first = recent[..., -1:], after[..., :1]
    line = last + (first - last) * step
    noise = np.random.default_rng(seed).standard_normal(line.shape) * noise_level(recent)
    return (line + noise).astype(after.dtype, copy=False)


def noise_level(x: np.ndarray) -> np.ndarray | float:
    """The white noise's RMS in ``x``, per channel, from second differences: they pass white
    noise (variance x6) and all but cancel mains hum (50 Hz at 2 kHz: x0.025) and drift, which
    first differences would count as noise. Median, so a twitch in ``x`` does not raise it."""
    if x.shape[-1] < 3:
        return 0.0
    d2 = np.abs(np.diff(x, n=2, axis=-1))
    return np.median(d2, axis=-1, keepdims=True) / (0.6745 * np.sqrt(6.0))


class StreamIntake:
    """One stream's bookkeeping: continuity (expected next sample, gaps) and the batch of samples
    gathered before they are processed."""

    def __init__(self, site: str, kind: Kind, fs: float, batch_s: float) -> None:
        self.site, self.kind, self.fs = site, kind, fs
        self.expected: int | None = None  # next absolute sample
        self.batch_n = max(1, round(batch_s * fs))
        self._parts: list[np.ndarray] = []
        self._held = 0
        self._recent_n = max(2, round(RECENT_S * fs))
        self._recent: np.ndarray | None = None  # the last samples taken, to bridge a hole

    @property
    def end_s(self) -> float:
        """Time just after the last sample received."""
        return 0.0 if self.expected is None else self.expected / self.fs

    @property
    def has_samples(self) -> bool:
        """Samples came since the lane (re)started: a hole after them can be bridged."""
        return self._held > 0 or self._recent is not None

    def forget(self) -> None:
        """The lane restarts after a gap: samples before it say nothing about the next hole."""
        self._recent = None

    def hold(self, data: np.ndarray) -> bool:
        """Gather samples; True once a batch is due."""
        self._parts.append(data)
        self._held += data.shape[-1]
        return self._held >= self.batch_n

    def bridge(self, gap_from: int, after: np.ndarray) -> np.ndarray:
        """The filler for the hole from sample ``gap_from`` until ``after`` starts."""
        assert self.expected is not None
        parts = [p for p in (self._recent, *self._parts) if p is not None]
        recent = np.concatenate(parts, axis=-1)[..., -self._recent_n :]
        n = self.expected - after.shape[-1] - gap_from
        return hole_filler(recent, after, n, seed=gap_from)

    def take(self) -> np.ndarray | None:
        """The samples gathered so far, in one array (None if there are none)."""
        if not self._parts:
            return None
        data = self._parts[0] if len(self._parts) == 1 else np.concatenate(self._parts, axis=-1)
        self._parts, self._held = [], 0
        if data.shape[-1]:  # kept once per batch, not per block: blocks come every few ms live
            # A short batch (a drain before a restart) tops up the previous tail, so the tail
            # does not depend on where batches were cut.
            short = self._recent is not None and data.shape[-1] < self._recent_n
            tail = np.concatenate((self._recent, data), axis=-1) if short else data
            self._recent = tail[..., -self._recent_n :].copy()
        return data

    def check(self, start: int, n: int) -> int | None:
        """Validate a block's position; return the gap's first sample if one precedes it."""
        if start < 0:
            raise DetectorInputError(self.site, self.kind, f"negative start sample {start}")
        if self.expected is not None and start < self.expected:
            raise DetectorInputError(
                self.site, self.kind, f"block starts at sample {start}, before {self.expected}"
            )
        gap_from = None
        if self.expected is None or start > self.expected:
            gap_from = 0 if self.expected is None else self.expected
        self.expected = start + n
        return gap_from
