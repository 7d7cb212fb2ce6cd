"""One input stream's bookkeeping in a site detector: continuity and batching."""

from __future__ import annotations

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import Kind


class StreamIntake:
    """One stream's bookkeeping: continuity (expected next sample, gaps) and the batch of samples
    gathered before they are processed."""

    def __init__(self, site: str, kind: Kind, fs: float, batch_s: float) -> None:
        self.site, self.kind, self.fs = site, kind, fs
        self.expected: int | None = None  # next absolute sample
        self.batch_n = max(1, round(batch_s * fs))
        self._parts: list[np.ndarray] = []
        self._held = 0

    @property
    def end_s(self) -> float:
        """Time just after the last sample received."""
        return 0.0 if self.expected is None else self.expected / self.fs

    def hold(self, data: np.ndarray) -> bool:
        """Gather samples; True once a batch is due."""
        self._parts.append(data)
        self._held += data.shape[-1]
        return self._held >= self.batch_n

    def take(self) -> np.ndarray | None:
        """The samples gathered so far, in one array (None if there are none)."""
        if not self._parts:
            return None
        data = self._parts[0] if len(self._parts) == 1 else np.concatenate(self._parts, axis=-1)
        self._parts, self._held = [], 0
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
