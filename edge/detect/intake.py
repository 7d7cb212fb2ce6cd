"""One input stream's bookkeeping in a site detector: continuity, batching, bridging holes."""

from __future__ import annotations

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import Kind

#: The samples before a hole that set the filler's level.
RECENT_S = 0.1


def hole_filler(recent: np.ndarray, after: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples for a hole between ``recent`` and ``after``: the straight line between their
    edge samples, plus noise at ``recent``'s sample-to-sample level.

    The hole is claimed as a gap, so nothing in it counts; the filler only lets the filters go on.
    A bare line would be a flat input for the length of the hole (an artefact to the EMG's flat
    rule); the noise level comes from successive differences (median, so a twitch just before
    the hole does not raise it), and a seed from the hole's position keeps the result the same
    however the stream was chunked.
    """
    step = np.arange(1, n + 1) / (n + 1)
    last, first = recent[..., -1:], after[..., :1]
    line = last + (first - last) * step
    diffs = np.abs(np.diff(recent, axis=-1))
    level = np.median(diffs, axis=-1, keepdims=True) / (0.6745 * np.sqrt(2)) if diffs.size else 0
    noise = np.random.default_rng(seed).standard_normal(line.shape) * level
    return (line + noise).astype(after.dtype, copy=False)


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
        return self._held > 0 or self._recent is not None

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
            self._recent = data[..., -self._recent_n :].copy()
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
