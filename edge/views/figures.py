"""What a person sees of a running agent, as plain figures: one :class:`Snapshot` per poll.

The views (:mod:`edge.views.terminal`, :mod:`edge.views.journal`) render these; nothing else here
touches Bluetooth, MQTT or the clock, so tests build figures by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edge.ble.session import SensorSession, SessionState
from edge.publisher import BrokerState
from edge.stream_rates import SiteRow
from edge.totals import SiteTotals
from twitchwatch.contract import Reason

if TYPE_CHECKING:
    from edge.agent import Agent


@dataclass(frozen=True, slots=True)
class SensorFigures:
    """One sensor as the agent sees it at one moment: its link, its data, its detections."""

    sensor: str
    site: str
    driver: str
    state: SessionState
    not_found: bool = False  # the last scan did not see it
    last_error: str | None = None  # the last failure's one-line message (kept after recovery)
    failures: int = 0  # consecutive failed attempts
    #: Failed often enough to be called unreachable. From the failure count, not the momentary
    #: state, which flips between backoff and scanning faster than a poll may see.
    unreachable: bool = False
    connects: int = 0  # successful connections so far
    battery_pct: int | None = None
    emg_hz: float | None = None  # None: no stream of that kind, or not measured yet
    acc_hz: float | None = None
    lost_pct: float | None = None  # samples lost of those due; None before any arrived
    gap_s: float = 0.0
    twitches: int = 0
    rest_s: float = 0.0
    per_min: float | None = None  # None until enough rest was observed for a rate
    cramps: int = 0
    excluded_s: dict[Reason, float] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return self.state is SessionState.STREAMING

    @property
    def name(self) -> str:
        return f"{self.sensor} ({self.site})"


@dataclass(frozen=True, slots=True)
class UplinkFigures:
    """The publisher's side: the broker (address without credentials) and the outbox."""

    broker: str
    state: BrokerState
    sent: int = 0
    acked_seq: int = 0
    pending: int = 0  # windows in the outbox not yet acked by the server
    lost: int = 0  # windows the outbox could not store
    dropped: int = 0  # windows the full outbox dropped unsent


@dataclass(frozen=True, slots=True)
class Snapshot:
    sensors: tuple[SensorFigures, ...]
    uplink: UplinkFigures | None
    elapsed_s: float
    #: While the wall clock is not set: why no windows are sent (None once it is).
    clock: str | None = None
    #: The run ended on SIGINT (Ctrl-C): the command exits 130 after its clean stop.
    interrupted: bool = False


def take_snapshot(agent: Agent, elapsed_s: float) -> Snapshot:
    """Read every session, the live rates, the detector totals and the publisher into figures."""
    rows = {row.sensor: row for row in agent.rates.rows()}
    figures = tuple(
        _sensor_figures(s, rows.get(s.name), agent.totals.get(s.config.site))
        for s in sorted(agent.sessions, key=lambda s: (s.config.site, s.name))
    )
    uplink_figures = None
    if agent.uplink is not None:
        stats, broker = agent.uplink.stats(), agent.uplink.broker
        uplink_figures = UplinkFigures(
            broker=f"{'mqtts' if broker.tls else 'mqtt'}://{broker.host}:{broker.port}",
            state=agent.final_broker_state or stats.state,
            sent=stats.sent,
            acked_seq=stats.acked_seq,
            pending=stats.pending,
            lost=stats.lost,
            dropped=stats.dropped,
        )
    return Snapshot(figures, uplink_figures, elapsed_s, agent.clock_guard.problem)


def _sensor_figures(
    session: SensorSession, row: SiteRow | None, totals: SiteTotals | None
) -> SensorFigures:
    health = session.health
    stats = [t.stats for t in session.timelines.values()]
    due = sum(s.samples_received + s.samples_lost for s in stats)
    lost_pct = 100.0 * sum(s.samples_lost for s in stats) / due if due else None
    detector = {}
    if totals is not None:
        detector = {
            "twitches": totals.twitches,
            "rest_s": totals.rest_s,
            "per_min": totals.per_min,
            "cramps": totals.cramps,
            "excluded_s": dict(totals.excluded_s),
        }
    return SensorFigures(
        sensor=session.name,
        site=session.config.site,
        driver=session.config.driver,
        state=health.state,
        not_found=health.not_found,
        last_error=health.last_error,
        failures=health.failures,
        unreachable=health.failures >= session.policy.unreachable_after,
        connects=health.connects,
        battery_pct=health.battery_pct,
        emg_hz=row.emg_hz if row else None,
        acc_hz=row.acc_hz if row else None,
        lost_pct=lost_pct,
        gap_s=row.gap_s if row else 0.0,
        **detector,  # type: ignore[arg-type]
    )
