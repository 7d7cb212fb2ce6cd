"""SiteGenerator: seeded, deterministic EMG + accelerometer samples and truth for one site.

Determinism by construction:

- events are planned per 10 s segment from ``(seed, stream, segment)`` (see :mod:`.plan`);
- signals are rendered per fixed block of samples: block ``b`` = noise from
  ``(seed, NOISE, b)`` (+ gravity, or EMG interference evaluated at absolute sample indices)
  + every item reaching the block, added in the items' fixed ``(segment, index)`` order, each
  item drawn whole; then EMG samples inside a lead-off are clipped at the rail. A block is
  always computed whole, so any sample has the same value however, and in whatever order,
  ranges are asked for;
- caches (plans, drawn items, the last blocks) are small LRUs: memory stays bounded for any
  recording length, and in-order chunked reads touch each block once.
"""

from __future__ import annotations

import math
import operator
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from .episodes import Episode, plan_episodes
from .interference import Interference
from .model import EMG_BAND_HZ, EMG_RAIL_UV, SiteModel, TruthEvent, TruthKind
from .noise import colour_filter, coloured_block, quantise
from .plan import (
    MAX_REACH_S,
    Candidates,
    Item,
    draw_candidates,
    plan_twitches,
    raw_twitch_rate_per_s,
)
from .render import render_acc, render_emg
from .streams import SEGMENT_S, Part, rng_for
from .units import RenderContext, draw_cramp_units, draw_units
from .walking import plan_walking

#: Render block length. A block is drawn whole and cached; chunked reads slice it.
BLOCK_S = 10.0
#: Segments before the current one whose items may still reach it.
_REACH_SEGMENTS = math.ceil(MAX_REACH_S / SEGMENT_S) + 1
#: Twitch truth may start this much before its segment (half a potential)...
_EARLY_S = 0.05
#: ...or this much after it (a doublet's repeat belongs to the segment of its first potential).
_LATE_S = 0.2

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A bounded least-recently-used map filled by a factory."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[K], V]) -> V:
        try:
            self._data.move_to_end(key)
            return self._data[key]
        except KeyError:
            value = make(key)
            self._data[key] = value
            if len(self._data) > self._capacity:
                self._data.popitem(last=False)
            return value


@dataclass(eq=False)
class _Segment:
    """A planned segment: its items in summation order, their truth, and drawn waveforms."""

    items: tuple[Item, ...]
    truth: tuple[TruthEvent, ...]  # sorted by start_s
    drawn: dict[tuple[int, Part], tuple[int, np.ndarray] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Stream:
    """How one signal is rendered: rate, block size, noise and the item renderer."""

    part: Part  # its noise stream
    fs_hz: float
    block_n: int
    noise_scale: float  # per-sample white-noise sd, µV or g
    offset: np.ndarray  # (n_channels, 1) static value added to every sample
    render: Callable[[Item, RenderContext], tuple[int, np.ndarray] | None]
    # Continuous interference of samples [start, stop), or None when there is none.
    background: Callable[[int, int], np.ndarray] | None = None
    rail: float | None = None  # lead-off drives this signal to +-rail, and no further
    colour_taps: np.ndarray | None = None  # coloured noise replaces the white noise when set
    adc_bits: int = 0  # quantise the finished block to this many bits (0: not at all)


class SiteGenerator:
    """Surface EMG, 3-axis acceleration and ground-truth events of one simulated body site.

    Parameters
    ----------
    model : SiteModel
        Physiology and sampling rates.
    seed : int
        Non-negative seed; the same ``(model, seed)`` always gives the same site.

    Examples
    --------
    >>> gen = SiteGenerator(SiteModel(emg_fs_hz=2000.0, acc_fs_hz=416.0), seed=7)
    >>> gen.emg(0, 2000).shape, gen.acc(0, 416).shape
    ((2000,), (3, 416))
    """

    def __init__(self, model: SiteModel, seed: int) -> None:
        seed = operator.index(seed)
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self._ctx = RenderContext(
            model, seed, draw_units(model, seed), draw_cramp_units(model, seed)
        )
        self._raw_rate_per_s = raw_twitch_rate_per_s(model)
        self._episodes: _Lru[int, tuple[Episode, ...]] = _Lru(4 * _REACH_SEGMENTS + 8)
        self._candidates: _Lru[int, Candidates] = _Lru(8)
        self._segments: _Lru[int, _Segment] = _Lru(2 * _REACH_SEGMENTS + 8)
        self._blocks: _Lru[tuple[Part, int], np.ndarray] = _Lru(4)
        low_hz, high_hz = EMG_BAND_HZ
        nyquist_hz = model.emg_fs_hz / 2
        # White noise spreads over 0..Nyquist; scale it so the 20-450 Hz band holds noise_uv_rms.
        emg_scale = model.noise_uv_rms * math.sqrt(nyquist_hz / (min(high_hz, nyquist_hz) - low_hz))
        interference = Interference(model, seed)
        self._emg = _Stream(
            Part.EMG_NOISE,
            model.emg_fs_hz,
            max(1, round(BLOCK_S * model.emg_fs_hz)),
            emg_scale,
            np.zeros((1, 1)),
            render_emg,
            interference.emg if interference.active else None,
            EMG_RAIL_UV,
            None if model.noise_colour == 0.0 else self._colour_taps(model),
            model.adc_bits,
        )
        self._acc = _Stream(
            Part.ACC_NOISE,
            model.acc_fs_hz,
            max(1, round(BLOCK_S * model.acc_fs_hz)),
            model.acc_noise_g_rms,
            np.array(model.gravity_g, dtype=np.float64).reshape(3, 1),
            render_acc,
        )

    @property
    def model(self) -> SiteModel:
        return self._ctx.model

    @property
    def seed(self) -> int:
        return self._ctx.seed

    def emg(self, start: int, stop: int) -> np.ndarray:
        """Surface EMG samples ``[start, stop)`` at ``model.emg_fs_hz``.

        Parameters
        ----------
        start, stop : int
            Half-open range of absolute sample indices, ``0 <= start <= stop``.

        Returns
        -------
        ndarray of float64, shape (stop - start,)
            EMG in µV (a fresh array the caller may modify).
        """
        return self._read(self._emg, start, stop)[0]

    def acc(self, start: int, stop: int) -> np.ndarray:
        """Accelerometer samples ``[start, stop)`` at ``model.acc_fs_hz``.

        Parameters
        ----------
        start, stop : int
            Half-open range of absolute sample indices, ``0 <= start <= stop``.

        Returns
        -------
        ndarray of float64, shape (3, stop - start)
            Acceleration in g along the sensor's x, y, z axes, gravity included.
        """
        return self._read(self._acc, start, stop)

    def events(self, start_s: float, stop_s: float) -> list[TruthEvent]:
        """Ground-truth events whose ``start_s`` lies in ``[start_s, stop_s)``, sorted by it.

        Parameters
        ----------
        start_s, stop_s : float
            Time span in s from sample 0; must be finite.
        """
        if not (math.isfinite(start_s) and math.isfinite(stop_s)):
            raise ValueError(f"events needs a finite span, got [{start_s}, {stop_s})")
        if stop_s <= start_s or stop_s <= -_EARLY_S:
            return []
        first = max(0, math.floor((start_s - _LATE_S) / SEGMENT_S))
        last = math.floor((stop_s + _EARLY_S) / SEGMENT_S)
        found = [
            e
            for k in range(first, last + 1)
            for e in self._segment(k).truth
            if start_s <= e.start_s < stop_s
        ]
        found.sort(key=lambda e: e.start_s)  # stable: ties keep the planning order
        return found

    # --- rendering ---------------------------------------------------------------------

    def _read(self, stream: _Stream, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of ``stream`` as (n_channels, n), from whole blocks."""
        start, stop = operator.index(start), operator.index(stop)
        if not 0 <= start <= stop:
            raise ValueError(f"expected 0 <= start <= stop, got start={start}, stop={stop}")
        n = stream.block_n
        first, last = start // n, (stop - 1) // n
        if stop == start:
            return np.zeros((stream.offset.shape[0], 0))
        if first == last:
            block = self._block(stream, first)
            return block[:, start - first * n : stop - first * n].copy()
        pieces = [self._block(stream, b) for b in range(first, last + 1)]
        return np.concatenate(pieces, axis=1)[:, start - first * n : stop - first * n]

    def _block(self, stream: _Stream, index: int) -> np.ndarray:
        return self._blocks.get((stream.part, index), lambda _: self._render(stream, index))

    def _render(self, stream: _Stream, index: int) -> np.ndarray:
        """Block ``index`` of ``stream``: noise + offset (+ interference), then every reaching
        item in order, then the rail inside lead-offs."""
        n = stream.block_n
        a, b = index * n, (index + 1) * n
        if stream.colour_taps is None:
            noise = rng_for(self.seed, stream.part, index).standard_normal(
                (stream.offset.shape[0], n)
            )
            out = noise * stream.noise_scale + stream.offset
        else:
            out = coloured_block(self.seed, index, n, stream.colour_taps) + stream.offset
        if stream.background is not None:
            out += stream.background(a, b)
        railed: list[tuple[int, int]] = []  # block-relative sample ranges of lead-offs
        t0_s, t1_s = a / stream.fs_hz, b / stream.fs_hz
        first = max(0, math.floor(t0_s / SEGMENT_S) - _REACH_SEGMENTS)
        last = math.floor((t1_s + _EARLY_S) / SEGMENT_S)
        for k in range(first, last + 1):
            segment = self._segment(k)
            for i, item in enumerate(segment.items):
                lo_s, hi_s = item.span_s
                if hi_s < t0_s or lo_s >= t1_s:
                    continue
                key = (i, stream.part)
                if key not in segment.drawn:
                    segment.drawn[key] = stream.render(item, self._ctx)
                drawn = segment.drawn[key]
                if drawn is None:
                    continue
                n0, wave = drawn
                wave = wave.reshape(-1, wave.shape[-1])
                lo, hi = max(a, n0), min(b, n0 + wave.shape[-1])
                if lo < hi:
                    out[:, lo - a : hi - a] += wave[:, lo - n0 : hi - n0]
                    if isinstance(item, Episode) and item.kind is TruthKind.LEADOFF:
                        railed.append((lo - a, hi - a))
        # Clipping is not additive, so it comes after every item of the block is in.
        if stream.rail is not None:
            for lo, hi in railed:
                np.clip(out[:, lo:hi], -stream.rail, stream.rail, out=out[:, lo:hi])
        return quantise(out, stream.adc_bits) if stream.adc_bits else out

    @staticmethod
    def _colour_taps(model: SiteModel) -> np.ndarray:
        block_n = max(1, round(BLOCK_S * model.emg_fs_hz))
        return colour_filter(model.noise_colour, model.emg_fs_hz, block_n, model.noise_uv_rms)

    # --- planning ----------------------------------------------------------------------

    def _segment(self, k: int) -> _Segment:
        return self._segments.get(k, self._plan_segment)

    def _plan_segment(self, k: int) -> _Segment:
        episodes = self._episodes.get(k, self._plan_episodes)
        nearby = [
            e
            for j in range(max(0, k - _REACH_SEGMENTS), k + 2)
            for e in self._episodes.get(j, self._plan_episodes)
        ]
        previous = self._candidates.get(k - 1, self._draw_candidates) if k > 0 else None
        candidates = self._candidates.get(k, self._draw_candidates)
        twitches = plan_twitches(self._ctx, k, candidates, previous, nearby, len(episodes))
        items: tuple[Item, ...] = (*episodes, *twitches)
        truth = tuple(sorted((item.truth for item in items), key=lambda e: e.start_s))
        return _Segment(items, truth)

    def _plan_episodes(self, k: int) -> tuple[Episode, ...]:
        episodes = plan_episodes(self._ctx, k)
        # Walking bouts come from their own stream and go last: no other draw or key moves.
        walking = plan_walking(self._ctx, k, len(episodes))
        return tuple(sorted(episodes + walking, key=lambda e: e.start_s)) if walking else episodes

    def _draw_candidates(self, k: int) -> Candidates:
        return draw_candidates(self._ctx, k, self._raw_rate_per_s)
