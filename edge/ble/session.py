"""One supervisor per sensor: scan, connect with backoff, stream, watch for silence, reconnect.

Data handling stays out of here: the notification callback only appends ``(host_ns, bytes)`` to
an inbox; a consumer decodes the inbox in batches through the driver, places frames on each
stream's timeline and hands blocks and gaps to the sink.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from edge.ble.reconnect import ReconnectPolicy, reconnect_delay, watchdog_timeout
from edge.drivers import (
    DEFAULT_DRIVER,
    DriverError,
    SensorDriver,
    StreamSpec,
    driver_class,
    driver_info,
    recognising,
)
from edge.errors import DriverMismatchError, SensorNotFoundError
from edge.stream import StreamInfo
from edge.timeline import StreamTimeline, TimelineUpdate
from twitchwatch.contract import TwitchWatchError, normalize_site

logger = logging.getLogger(__name__)

#: The consumer wakes at most this often, so frames are decoded in batches: numpy's per-call
#: overhead dominates small batches (4 sensors at real time: 10.2 % of a core
#: with 50 ms batches, 4.2 % with 250 ms, bench/ble_link.py),
#: and a quarter second of latency is far below a detector window.
BATCH_INTERVAL_S = 0.25
#: Inbox bound: about a minute of frames of a busy sensor. Beyond it notifications are counted
#: as dropped (never silently) and show up as gaps.
INBOX_LIMIT = 4096
SCAN_TIMEOUT_S = 10.0
DISCONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Backend:
    """Which bleak backend classes to use; None means bleak's own platform backend."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """A configured sensor: advertised name or address, the body site it sits on, its driver."""

    sensor: str
    site: str
    driver: str = DEFAULT_DRIVER  # a registry name; an alias becomes the canonical name

    def __post_init__(self) -> None:
        object.__setattr__(self, "site", normalize_site(self.site))
        # Fails on a typo at load time, not on first connect.
        object.__setattr__(self, "driver", driver_info(self.driver).name)


class SessionState(StrEnum):
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    BACKOFF = "backoff"
    UNREACHABLE = "unreachable"
    STOPPED = "stopped"


@dataclass
class SensorHealth:
    """What the supervisor knows about the link; per-stream counters live in the timelines."""

    state: SessionState = SessionState.SCANNING
    address: str | None = None
    connects: int = 0
    link_losses: int = 0  # disconnects we did not ask for
    watchdog_trips: int = 0  # links silent too long without a disconnect
    failures: int = 0  # consecutive failed attempts
    frames_rejected: int = 0  # notifications the driver could not decode
    inbox_dropped: int = 0
    battery_pct: int | None = None
    mtu: int | None = None
    last_error: str | None = None
    not_found: bool = False  # the last scan did not see the sensor (off, flat, out of range)


class StreamSink(Protocol):
    """Where decoded data goes: the live figures, detection, a test's collector."""

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None: ...

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None: ...


@dataclass
class SensorSession:
    """Supervises one sensor for as long as :meth:`run` runs."""

    config: SensorConfig
    sink: StreamSink
    backend: Backend = field(default_factory=Backend)
    connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    scan_timeout_s: float = SCAN_TIMEOUT_S
    watchdog_floor_s: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    health: SensorHealth = field(default_factory=SensorHealth)
    timelines: dict[int, StreamTimeline] = field(default_factory=dict)
    _inbox: list[tuple[int, bytes]] = field(default_factory=list)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _link_lost: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return self.config.sensor

    async def run(self) -> None:
        """Stream, reconnecting forever, until cancelled."""
        try:
            while True:
                started = time.monotonic()
                try:
                    await self._connect_and_stream()
                # Typed errors of ours (not found, refused command, incompatible sensor) and link
                # errors: shown in the health, retried with backoff; other sensors keep streaming.
                except (BleakError, TwitchWatchError, TimeoutError, OSError) as exc:
                    # A cancel that lands inside a connect attempt can surface as TimeoutError
                    # (asyncio.timeout / bleak on Python 3.11): the run is over, not the link.
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise
                    self.health.last_error = str(exc) or type(exc).__name__
                    # The agent's view reports state changes once; every retry only in debug.
                    logger.debug("%s: %s", self.name, self.health.last_error)
                if time.monotonic() - started >= self.policy.healthy_after_s:
                    self.health.failures = 0
                else:
                    self.health.failures += 1
                unreachable = self.health.failures >= self.policy.unreachable_after
                self.health.state = (
                    SessionState.UNREACHABLE if unreachable else SessionState.BACKOFF
                )
                await asyncio.sleep(
                    reconnect_delay(self.policy, self.health.failures - 1, self.rng)
                )
        finally:
            self.health.state = SessionState.STOPPED

    async def _connect_and_stream(self) -> None:
        self.health.state = SessionState.SCANNING
        async with self.connect_lock:  # one scan+connect per adapter at a time (BlueZ InProgress)
            device = await self._find()
            self.health.state = SessionState.CONNECTING
            self._link_lost.clear()
            client = await establish_connection(
                BleakClient,
                device,
                self.name,
                disconnected_callback=lambda _client: self._link_lost.set(),
                max_attempts=3,
                backend=self.backend.client,
            )
        try:
            await self._stream(client)
        finally:
            if client.is_connected:
                async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                    await client.disconnect()

    async def _find(self) -> BLEDevice:
        wanted = self.config.sensor.upper()
        adverts: dict[str, AdvertisementData] = {}

        def match(device: BLEDevice, adv: AdvertisementData) -> bool:
            name = (adv.local_name or device.name or "").upper()
            # A scan may report the complete name ("TW-0001-l_calf") or the short one ("TW-0001").
            found = (
                device.address.upper() == wanted or name == wanted or name.startswith(wanted + "-")
            )
            if found:
                adverts[device.address] = adv
            return found

        device = await BleakScanner.find_device_by_filter(
            match, timeout=self.scan_timeout_s, backend=self.backend.scanner
        )
        self.health.not_found = device is None
        if device is None:
            raise SensorNotFoundError(self.config.sensor, self.scan_timeout_s)
        self.health.address = device.address
        adv = adverts[device.address]
        claimed = recognising(
            adv.local_name or device.name, adv.service_uuids, adv.manufacturer_data
        )
        # An advert no driver recognises is trusted by its name, as before the registry; one that
        # only other drivers recognise would fail in the wrong driver's start, less clearly.
        if claimed and self.config.driver not in {info.name for info in claimed}:
            raise DriverMismatchError(self.config.sensor, self.config.driver, claimed[0].name)
        return device

    async def _stream(self, client: BleakClient) -> None:
        driver = driver_class(self.config.driver)(self.name)
        # Subscribe before starting: frames sent before the CCCD write would be lost.
        await client.start_notify(driver.data_uuid, self._on_notify)
        specs = await driver.start(client)
        infos = self._prepare_timelines(driver, specs)
        self.health.connects += 1
        self.health.mtu = client.mtu_size
        self.health.battery_pct = await driver.read_battery(client)
        self.health.state = SessionState.STREAMING
        self.sink.on_streams(self, infos)
        silence_s = watchdog_timeout(driver.frame_period_s(client.mtu_size), self.watchdog_floor_s)
        by_stream = {s.stream_id: i for s, i in zip(specs, infos, strict=True)}
        try:
            await self._consume(driver, by_stream, silence_s)
        finally:
            if client.is_connected:
                try:
                    async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                        await driver.stop(client)
                except (BleakError, DriverError, TimeoutError) as exc:
                    logger.info("%s: stop not acknowledged: %s", self.name, exc)
            # Frames of this connection still in the inbox belong before the next one's.
            self._drain(driver, by_stream)

    def _prepare_timelines(self, driver: SensorDriver, specs: list[StreamSpec]) -> list[StreamInfo]:
        """Keep each stream's sample axis across reconnects; start afresh if the sensor changed."""
        infos = []
        for spec in specs:
            info = StreamInfo(self.name, self.config.site, spec.kind, spec.channels, spec.fs)
            timeline = self.timelines.get(spec.stream_id)
            if timeline is None or timeline.info != info:
                timeline = StreamTimeline(info, driver.tick_hz, driver.tick_wrap)
                self.timelines[spec.stream_id] = timeline
            else:
                timeline.mark_discontinuity()
            infos.append(timeline.info)
        return infos

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        # Notification callback: enqueue only.
        if len(self._inbox) >= INBOX_LIMIT:
            self.health.inbox_dropped += 1
            return
        self._inbox.append((time.monotonic_ns(), bytes(data)))
        self._wakeup.set()

    async def _consume(
        self, driver: SensorDriver, infos: dict[int, StreamInfo], silence_s: float
    ) -> None:
        """Decode the inbox in batches until the link is lost or stays silent too long."""
        link_lost = asyncio.ensure_future(self._link_lost.wait())
        try:
            while not self._link_lost.is_set():
                self._wakeup.clear()
                wakeup = asyncio.ensure_future(self._wakeup.wait())
                done, _ = await asyncio.wait(
                    {wakeup, link_lost}, timeout=silence_s, return_when=asyncio.FIRST_COMPLETED
                )
                wakeup.cancel()
                if not done:
                    self.health.watchdog_trips += 1
                    raise TimeoutError(f"no data for {silence_s:.1f} s; reconnecting")
                self._drain(driver, infos)
                await asyncio.sleep(BATCH_INTERVAL_S)
            self._drain(driver, infos)
            self.health.link_losses += 1
        finally:
            link_lost.cancel()

    def _drain(self, driver: SensorDriver, infos: dict[int, StreamInfo]) -> None:
        inbox, self._inbox = self._inbox, []
        if not inbox:
            return
        host_ns, payloads = zip(*inbox, strict=True)
        decoded = driver.decode(payloads, np.asarray(host_ns, dtype=np.int64))
        if decoded.rejected:
            self.health.frames_rejected += len(decoded.rejected)
            logger.info("%s: %s", self.name, decoded.rejected[0])
        for batch in decoded.batches:
            update = self.timelines[batch.stream_id].push(batch)
            self.sink.on_update(infos[batch.stream_id], update)
