"""The random streams every draw of a site comes from: ``(seed, Part, ...)``, keyed by segment.

A stream is named by its :class:`Part` (and, for per-segment and per-episode draws, the segment
and the item's index), so adding a stream or a draw to one never changes what another draws.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

#: Planning segment length. Events are drawn per segment; long episodes may run past its end.
SEGMENT_S = 10.0


class Part(IntEnum):
    """Random streams, the first element of every seed key after the site seed."""

    UNITS = 1
    EPISODES = 2
    TWITCHES = 3
    EMG_NOISE = 4
    ACC_NOISE = 5
    DETAIL = 6  # per-episode details: (DETAIL, segment, index, Detail)
    # New streams go last so every existing seed keeps drawing exactly what it drew before.
    MAINS = 7  # the site's mains profile: harmonics, phases, slow amplitude modulation
    WANDER = 8  # the site's baseline wander: slow sinusoids
    DRIFT = 9  # electrode/skin drift: slow sinusoids of 0.05-0.3 Hz
    CRAMP_UNITS = 10  # large units that fire only in cramps
    EMG_COLOURED = 11  # white noise that the 1/f filter colours, per block
    WALKING = 12  # walking bouts: (WALKING, segment) plans them, after every other episode


class Detail(IntEnum):
    """Sub-streams of one episode: shared by both signals, or private to one."""

    SHARED = 0
    EMG = 1
    ACC = 2
    TILT = 3  # a cramp's foot tilt


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """The generator for one random stream: ``SeedSequence(seed, spawn_key=key)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A number drawn uniformly on a log scale between ``bounds``."""
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))
