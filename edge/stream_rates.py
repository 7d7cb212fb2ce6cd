"""Live per-sensor link figures for the views: sample rates, losses, gaps, battery.

A :class:`~edge.ble.session.StreamSink` that only counts what the sessions deliver.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from edge.ble.session import SensorSession
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate
from twitchwatch.contract import Kind

RATE_WINDOW_S = 5.0


@dataclass
class _StreamFigures:
    info: StreamInfo
    arrivals: deque[tuple[float, int]] = field(default_factory=deque)  # (host s, samples)

    def add(self, n: int, now: float) -> None:
        self.arrivals.append((now, n))
        while self.arrivals and now - self.arrivals[0][0] > RATE_WINDOW_S:
            self.arrivals.popleft()

    def rate_hz(self, now: float) -> float:
        recent = [n for t, n in self.arrivals if now - t <= RATE_WINDOW_S]
        return sum(recent) / RATE_WINDOW_S


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One line of the live table."""

    site: str
    sensor: str
    state: str
    emg_hz: float | None
    acc_hz: float | None
    frames_lost: int
    samples_lost: int
    gap_s: float
    rejected: int
    reconnects: int
    battery_pct: int | None
    mtu: int | None


class StreamRates:
    """Collects what the sessions deliver and renders one row per sensor."""

    def __init__(self) -> None:
        self.sessions: dict[str, SensorSession] = {}
        self._streams: dict[tuple[str, Kind], _StreamFigures] = {}
        self._started = time.monotonic()

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        self.sessions[session.name] = session
        for info in infos:
            self._streams.setdefault((info.device, info.kind), _StreamFigures(info))

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        n = sum(block.n_samples for block in update.blocks)
        self._streams[(info.device, info.kind)].add(n, time.monotonic())

    def watch(self, session: SensorSession) -> None:
        """List a session before it connects, so the table shows it while scanning."""
        self.sessions.setdefault(session.name, session)

    def rows(self) -> list[SiteRow]:
        now = time.monotonic()
        warm = now - self._started >= RATE_WINDOW_S
        rows = []
        for name, session in sorted(self.sessions.items(), key=lambda kv: kv[1].config.site):
            rates: dict[Kind, float | None] = {}
            for kind in Kind:
                figures = self._streams.get((name, kind))
                rates[kind] = figures.rate_hz(now) if figures and warm else None
            stats = [t.stats for t in session.timelines.values()]
            gap_s = sum(t.stats.samples_lost / t.info.fs for t in session.timelines.values())
            health = session.health
            rows.append(
                SiteRow(
                    site=session.config.site,
                    sensor=name,
                    state=health.state.value,
                    emg_hz=rates[Kind.EMG],
                    acc_hz=rates[Kind.ACC],
                    frames_lost=sum(s.frames_lost for s in stats),
                    samples_lost=sum(s.samples_lost for s in stats),
                    gap_s=gap_s / max(1, len(stats)),
                    rejected=health.frames_rejected + sum(s.frames_rejected for s in stats),
                    reconnects=max(0, health.connects - 1),
                    battery_pct=health.battery_pct,
                    mtu=health.mtu,
                )
            )
        return rows
