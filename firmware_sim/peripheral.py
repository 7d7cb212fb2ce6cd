"""What every simulated sensor does as a real Bumble BLE peripheral, whatever its protocol: the
link, advertising again after a disconnect, answers after the write response, pacing, addresses.

Each driver's simulator (``firmware_sim/<driver>/peripheral.py``) subclasses
:class:`SimulatedPeripheral` with its GATT services, advertising and frames.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import Address

logger = logging.getLogger(__name__)

#: How often the firmware hands frames to the radio: one BLE connection interval (the profile
#: asks centrals for 15-30 ms).
CONNECTION_INTERVAL_S = 0.015


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast the sensor's clock runs against the host's: 1 = real time."""

    speed: float = 1.0


class SimulatedPeripheral(abc.ABC):
    """What every simulated sensor does on the link: power on, advertise again after a
    disconnect, answer control point writes after the write response, pace its frames.

    Subclasses build their GATT services, say how they advertise and pump frames, and what a
    lost link does to their firmware.
    """

    #: The registry name of the driver that reads this sensor.
    driver: ClassVar[str]
    name: str  # as advertised
    site: str  # the body site it sits on

    def __init__(self, device: Device, pace: Pace | None) -> None:
        self.device = device
        self.pace = pace or Pace()
        self.connection: Connection | None = None
        self.connections_made = 0
        self._clock_origin = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        device.on(device.EVENT_CONNECTION, self._on_connection)

    @property
    def address(self) -> str:
        return str(self.device.random_address).removesuffix("/P")

    async def start(self) -> None:
        """Power on, advertise, and start pacing frames."""
        await self.device.power_on()
        await self._advertise()
        self._pump_task = asyncio.create_task(self._pump(), name=f"pump {self.name}")

    async def close(self) -> None:
        if self._pump_task is not None:
            self._pump_task.cancel()
            await asyncio.gather(self._pump_task, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def elapsed_s(self) -> float:
        """Sensor time since power-on: true elapsed time x pace."""
        return (time.monotonic() - self._clock_origin) * self.pace.speed

    async def disconnect(self) -> None:
        """Drop the link from the sensor's side (like walking out of range)."""
        if self.connection is not None:
            await self.connection.disconnect()

    @abc.abstractmethod
    async def _advertise(self) -> None:
        """Start advertising unless already advertising."""

    async def _advertise_name_then_uuid(self, name: str, service_uuid: str) -> None:
        """Flags and the complete name in the advertisement, the 128-bit service UUID in the scan
        response: a long name, the flags and a 128-bit UUID do not fit 31 legacy bytes together."""
        if self.device.is_advertising:
            return
        advert = AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([0x06])),
                (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
            ]
        )
        uuids = AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS
        scan_response = AdvertisingData([(uuids, bytes(UUID(service_uuid)))])
        await self.device.start_advertising(
            advertising_data=bytes(advert),
            scan_response_data=bytes(scan_response),
            own_address_type=0x01,
        )

    @abc.abstractmethod
    async def _pump(self) -> None:
        """Every connection interval, send the frames that are due (runs until cancelled)."""

    @abc.abstractmethod
    def _link_lost(self) -> None:
        """What the firmware does when the central goes away."""

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        self.connections_made += 1
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, _reason: int) -> None:
        self.connection = None
        self._link_lost()
        self._spawn(self._advertise())

    def _answer_later(
        self,
        connection: Connection,
        characteristic: gatt.Characteristic,
        answer: bytes,
        *,
        indicate: bool = False,
    ) -> None:
        """Answer a control point write after the ATT write response has gone out: answering
        first breaks some centrals (bleak #1885), so real firmware must not do it either."""

        async def send() -> None:
            await asyncio.sleep(0)
            if self.connection is not connection:
                return
            if indicate:
                await self.device.indicate_subscriber(connection, characteristic, answer)
            else:
                await self.device.notify_subscriber(connection, characteristic, answer)

        self._spawn(send())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def static_address(index: int, first: str, last: str) -> Address:
    """A static random address ``first:<index, 2 bytes>:last`` per simulated sensor; ``first``
    must set the top two bits (static random addresses, Core Spec Vol 6 Part B 1.3.2.1)."""
    return Address(f"{first}:{(index >> 8) & 0xFF:02X}:{index & 0xFF:02X}:{last}")
