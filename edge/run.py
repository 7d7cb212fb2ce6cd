"""``twitchwatch edge run``: supervise the sensors, detect, publish, and show it to a person.

:func:`run_agent` wires the sessions, live detection and the optional uplink, polls them about
twice a second into a :class:`~edge.live_view.Snapshot`, and hands that to one of two views:
``live`` (a rich table redrawn in the terminal) or ``log`` (INFO lines on the ``edge.run``
logger: one per state change and a summary per sensor a minute, for systemd's journal).
A sensor that is not found is retried for ever (a service must not die because a sensor is in
another room); a broker that refuses the login or the device's topics stops the run with a
one-line error, since retrying cannot help; an unreachable broker is retried while windows
wait in the outbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.live import Live

from edge.agent import Fanout, make_sessions, run_for
from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import SCAN_TIMEOUT_S, Backend, SensorConfig, SensorSession
from edge.config import MqttConfig
from edge.live import LiveFigures, SiteRow
from edge.live_detect import LiveDetection, SiteTotals
from edge.live_view import (
    SensorFigures,
    Snapshot,
    UplinkFigures,
    final_lines,
    render_live,
    sensor_changes,
    summary_line,
    uplink_changes,
)
from edge.uplink import Uplink

log = logging.getLogger(__name__)


class View(StrEnum):
    LIVE = "live"  # a terminal: a table redrawn in place
    LOG = "log"  # no terminal (systemd): log lines, no ANSI codes


def choose_view(requested: str, isatty: bool) -> View:
    """``--view auto|live|log``: auto is live on a terminal, log otherwise."""
    if requested == "auto":
        return View.LIVE if isatty else View.LOG
    return View(requested)


@dataclass(frozen=True, slots=True)
class RunTuning:
    """Timing of a run; the defaults suit a person, tests shorten them."""

    scan_timeout_s: float = SCAN_TIMEOUT_S
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    #: Redraw and poll period: about twice a second reads as live and costs nothing.
    refresh_s: float = 0.5
    #: The log view's summary period: a journal line per sensor a minute is enough to see trends.
    summary_every_s: float = 60.0


async def run_agent(
    sensors: Sequence[SensorConfig],
    backend: Backend,
    *,
    seconds: float | None = None,
    record: Path | None = None,
    mqtt: MqttConfig | None = None,
    view: View = View.LOG,
    config_path: Path | None = None,
    console: Console | None = None,
    tuning: RunTuning = RunTuning(),
) -> Snapshot:
    """Stream ``sensors`` until ``seconds`` pass (None: until SIGINT/SIGTERM); the last figures.

    ``config_path`` is named in errors a person fixes in the config (a refused broker login).
    ``console`` is where the live view draws (default: the terminal). Raises
    :class:`~edge.uplink.BrokerLoginError` or :class:`~edge.uplink.BrokerNotAuthorizedError` as
    soon as the broker refuses this device for good.
    """
    uplink = None
    if mqtt is not None:  # windows -> outbox -> broker
        uplink = await Uplink.start([s.site for s in sensors], mqtt)
    live = LiveFigures()
    detection = LiveDetection(record, windows=uplink.windows if uplink else None)
    sessions = make_sessions(list(sensors), Fanout(live, detection), backend)
    for session in sessions:
        session.scan_timeout_s = tuning.scan_timeout_s
        session.policy = tuning.policy
        live.watch(session)
    loop = asyncio.get_running_loop()
    started = loop.time()

    def snapshot() -> Snapshot:
        return take_snapshot(sessions, live, detection, uplink, loop.time() - started)

    reporter: _Reporter = (
        _LiveReporter(console or Console(), tuning.refresh_s)
        if view is View.LIVE
        else _LogReporter(tuning.summary_every_s)
    )

    def tick() -> None:
        if uplink is not None:
            uplink.tick()
            uplink.raise_if_refused(config_path)
        reporter.update(snapshot())

    finished = False
    with reporter.showing(snapshot()), _stop_on_signals() as stopped:
        try:
            await run_for(sessions, seconds, tick, tuning.refresh_s, stop=stopped)
            finished = True
        finally:
            try:
                detection.close()  # the detectors' last decisions go into the last windows
            finally:
                if uplink is not None:
                    last_state = uplink.stats().state  # "stopped" once closed says nothing
                    await uplink.stop()
        final = snapshot()
    if final.uplink is not None:
        final = dataclasses.replace(
            final, uplink=dataclasses.replace(final.uplink, state=last_state)
        )
    if finished:
        reporter.final(final, record)
    return final


@contextmanager
def _stop_on_signals() -> Iterator[asyncio.Event]:
    """SIGINT and SIGTERM end the run like ``--seconds`` does: last windows, final summary."""
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopped.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    try:
        yield stopped
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


# --- figures -------------------------------------------------------------------------------------


def take_snapshot(
    sessions: list[SensorSession],
    live: LiveFigures,
    detection: LiveDetection,
    uplink: Uplink | None,
    elapsed_s: float,
) -> Snapshot:
    """Read every session, the live rates, the detector totals and the publisher into figures."""
    rows = {row.sensor: row for row in live.rows()}
    totals = {t.site: t for t in detection.totals()}
    figures = tuple(
        _sensor_figures(s, rows.get(s.name), totals.get(s.config.site))
        for s in sorted(sessions, key=lambda s: (s.config.site, s.name))
    )
    uplink_figures = None
    if uplink is not None:
        stats, broker = uplink.stats(), uplink.broker
        uplink_figures = UplinkFigures(
            broker=f"{'mqtts' if broker.tls else 'mqtt'}://{broker.host}:{broker.port}",
            state=stats.state,
            sent=stats.sent,
            acked_seq=stats.acked_seq,
            pending=stats.pending,
            lost=stats.lost,
        )
    return Snapshot(figures, uplink_figures, elapsed_s)


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


# --- the two views -------------------------------------------------------------------------------


class _Reporter:
    @contextmanager
    def showing(self, first: Snapshot) -> Iterator[None]:
        yield

    def update(self, snapshot: Snapshot) -> None: ...

    def final(self, snapshot: Snapshot, record: Path | None) -> None: ...


class _LiveReporter(_Reporter):
    """A rich Live display redrawn on every poll; the final figures stay on screen."""

    def __init__(self, console: Console, refresh_s: float) -> None:
        self.console = console
        self._live = Live(console=console, auto_refresh=False, refresh_per_second=1.0 / refresh_s)

    @contextmanager
    def showing(self, first: Snapshot) -> Iterator[None]:
        self._live.update(render_live(first))
        with self._live:
            yield

    def update(self, snapshot: Snapshot) -> None:
        self._live.update(render_live(snapshot), refresh=True)

    def final(self, snapshot: Snapshot, record: Path | None) -> None:
        for line in final_lines(snapshot):
            self.console.print(line, highlight=False, soft_wrap=True)
        if record is not None:
            self.console.print(f"recordings (EDF+, open them in EDFbrowser): {record}")


class _LogReporter(_Reporter):
    """INFO lines: each state change once, every sensor's figures once per period."""

    def __init__(self, summary_every_s: float) -> None:
        self.summary_every_s = summary_every_s
        self._sensors: dict[str, SensorFigures] = {}
        self._uplink: UplinkFigures | None = None
        self._next_summary_s = summary_every_s

    def update(self, snapshot: Snapshot) -> None:
        for figures in snapshot.sensors:
            for line in sensor_changes(self._sensors.get(figures.sensor), figures):
                log.info("%s", line)
            self._sensors[figures.sensor] = figures
        if snapshot.uplink is not None:
            for line in uplink_changes(self._uplink, snapshot.uplink):
                log.info("%s", line)
            self._uplink = snapshot.uplink
        if snapshot.elapsed_s >= self._next_summary_s:
            self._next_summary_s = snapshot.elapsed_s + self.summary_every_s
            for figures in snapshot.sensors:
                log.info("%s", summary_line(figures))

    def final(self, snapshot: Snapshot, record: Path | None) -> None:
        for line in final_lines(snapshot):
            log.info("final: %s", line)
        if record is not None:
            log.info("final: recordings (EDF+) in %s", record)
