"""The sensor driver interface: one BLE protocol, bytes in, samples out.

A driver knows its UUIDs, how to start and stop streaming and how to decode notifications.
It never retries, sleeps, drops data or talks to anything but GATT: reconnects, watchdogs and
sequence-gap accounting belong to :mod:`edge.ble.session` and :mod:`edge.timeline`.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import IntFlag
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

import numpy as np

from edge.errors import DriverError, FrameError
from twitchwatch.contract import Kind

if TYPE_CHECKING:
    from bleak import BleakClient


K = TypeVar("K")
A = TypeVar("A")


class FrameFlag(IntFlag):
    """Per-frame conditions the sensor reports (bit values are the DIY wire values)."""

    OVERFLOW = (
        0x01  # the sensor's ring buffer overflowed before this frame: samples were lost there
    )
    CLIPPED = 0x02  # at least one sample hit the ADC rail
    LEAD_OFF = 0x04  # an electrode lost contact
    TIME_RESYNC = 0x08  # the sensor's tick counter was re-synchronised (SET_TIME)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What one stream of a connected sensor sends, as the sensor describes it."""

    stream_id: int  # the id frames carry
    kind: Kind
    channels: tuple[str, ...]
    fs: float  # Hz, on the sensor's clock
    scale: float  # physical units per int16 count, already in the internal unit (uV or g)
    source_unit: str  # the unit the sensor declared, kept for provenance

    @property
    def n_channels(self) -> int:
        return len(self.channels)


@dataclass(frozen=True, slots=True)
class FrameBatch:
    """Frames of ONE stream decoded together, in arrival order (struct of arrays).

    ``seq`` is None for protocols without sequence numbers (Polar); drops are then inferred
    from the sensor times alone.
    """

    stream_id: int
    seq: np.ndarray | None  # (k,) int64, per-stream sequence numbers as sent (wrapping)
    sensor_ticks: np.ndarray  # (k,) int64, sensor clock of each frame's FIRST sample (wrapping)
    n_samples: np.ndarray  # (k,) int64 samples per frame
    flags: np.ndarray  # (k,) int64 FrameFlag bits
    host_ns: np.ndarray  # (k,) int64 time.monotonic_ns() at arrival
    samples: np.ndarray  # (n_channels, sum(n_samples)) float32, internal unit

    @property
    def n_frames(self) -> int:
        return len(self.n_samples)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Result of decoding a burst of notifications: good frames per stream, and what was rejected."""

    batches: list[FrameBatch]
    rejected: list[FrameError]


class PendingAnswers(Generic[K, A]):
    """Control point answers awaited by the requests that asked for them, matched by a key.

    The notification callback only calls :meth:`resolve`; :meth:`ask` writes a request and
    waits for the answer with that key, or raises DriverError after ``timeout_s``.
    """

    def __init__(self, device: str, timeout_s: float) -> None:
        self.device, self.timeout_s = device, timeout_s
        self._futures: dict[K, asyncio.Future[A]] = {}

    async def ask(self, key: K, write: Awaitable[object], what: str) -> A:
        future: asyncio.Future[A] = asyncio.get_running_loop().create_future()
        self._futures[key] = future
        try:
            await write
            async with asyncio.timeout(self.timeout_s):
                return await future
        except TimeoutError:
            raise DriverError(
                self.device, f"no answer to {what} within {self.timeout_s} s"
            ) from None
        finally:
            self._futures.pop(key, None)

    def resolve(self, key: K, answer: A) -> None:
        """Hand ``answer`` to the request waiting for ``key``; nothing waits: dropped."""
        future = self._futures.get(key)
        if future is not None and not future.done():
            future.set_result(answer)


class SensorDriver(abc.ABC):
    """One BLE sensor protocol. Instances hold what ``start`` learned about the sensor."""

    #: Config key (``driver = "diy"``), the ``name`` of the package's registry entry.
    name: ClassVar[str]
    #: Sensor clock: ticks per second and the value at which the tick counter wraps.
    tick_hz: ClassVar[float]
    tick_wrap: ClassVar[int]

    def __init__(self, device: str) -> None:
        self.device = device

    @abc.abstractmethod
    async def start(self, client: BleakClient) -> list[StreamSpec]:
        """Enable streaming on a connected client and say what will flow."""

    @abc.abstractmethod
    async def stop(self, client: BleakClient) -> None:
        """Ask the sensor to stop streaming (best effort: the link may already be gone)."""

    @property
    @abc.abstractmethod
    def data_uuid(self) -> str:
        """The characteristic whose notifications carry frames."""

    @abc.abstractmethod
    def decode(self, payloads: Sequence[bytes], host_ns: np.ndarray) -> Decoded:
        """Pure: decode notifications (in arrival order) into per-stream frame batches."""

    @abc.abstractmethod
    def frame_period_s(self, mtu: int) -> float:
        """Longest expected time between frames of a stream at this MTU (for the watchdog)."""

    async def read_battery(self, client: BleakClient) -> int | None:
        """Battery percent from the standard Battery Service, None if the sensor has none."""
        if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return None
        value = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        return int(value[0]) if value else None


BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
