"""Stream metadata that travels with the samples: StreamInfo, Block and Span."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from edge.errors import StreamInfoError
from twitchwatch.contract import INTERNAL_UNIT, Kind, Reason, normalize_site


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One sensor stream, validated once. Samples inside TwitchWatch are in ``INTERNAL_UNIT``."""

    device: str
    site: str  # contract site id, normalised: "right_forearm"
    kind: Kind
    channels: tuple[str, ...]  # ("emg",) or ("x", "y", "z")
    fs: float  # Hz, nominal rate of the sensor clock
    t0_utc: datetime | None = None  # UTC time of sample 0, when known
    unit: str = field(init=False)

    def __post_init__(self) -> None:
        if not (self.fs > 0 and np.isfinite(self.fs)):
            raise StreamInfoError("fs", "a positive number of Hz", self.fs)
        if not self.channels:
            raise StreamInfoError("channels", "at least one channel name", self.channels)
        if self.t0_utc is not None and self.t0_utc.utcoffset() is None:
            raise StreamInfoError("t0_utc", "a timezone-aware datetime", self.t0_utc)
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "site", normalize_site(self.site))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "unit", INTERNAL_UNIT[self.kind])

    @property
    def n_channels(self) -> int:
        return len(self.channels)


@dataclass(frozen=True, slots=True)
class Block:
    """Contiguous samples of one stream: ``data[:, i]`` is absolute sample ``start + i``."""

    info: StreamInfo
    start: int
    data: np.ndarray  # (n_channels, n) float32 in info.unit

    def __post_init__(self) -> None:
        if self.data.ndim != 2 or self.data.shape[0] != self.info.n_channels:
            raise StreamInfoError(
                "data", f"shape ({self.info.n_channels}, n)", getattr(self.data, "shape", None)
            )

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[1])

    @property
    def stop(self) -> int:
        return self.start + self.n_samples


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open sample range ``[start, stop)`` of one stream that is marked, never filled."""

    start: int
    stop: int
    reason: Reason

    @property
    def n_samples(self) -> int:
        return self.stop - self.start
