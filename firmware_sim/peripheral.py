"""The simulated sensor as a real Bumble BLE peripheral speaking the TwitchWatch GATT profile."""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import Address
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from edge.drivers.diy import protocol as proto
from firmware_sim.firmware import FIRMWARE_VERSION, HARDWARE, SensorFirmware

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

    name: str

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


class SimulatedSensor(SimulatedPeripheral):
    """A Bumble ``Device`` serving the profile and pacing frames from a :class:`SensorFirmware`.

    Faults on demand: :meth:`disconnect` (peripheral-initiated), :meth:`stall` (stop sending
    without disconnecting), and per-frame drops, corruption and clock drift through
    ``firmware.faults``.
    """

    def __init__(
        self, firmware: SensorFirmware, device: Device, serial: str, pace: Pace | None = None
    ) -> None:
        super().__init__(device, pace)
        self.firmware = firmware
        self.serial = serial
        self.name = f"TW-{serial[-4:]}"  # fits the advertising packet
        # The shortened name must be a prefix of the complete one (Core Spec Supplement 1.2).
        self.long_name = f"{self.name}-{_short_site(firmware.site)}"
        self._stalled_until = 0.0
        self._data = gatt.Characteristic(
            UUID(proto.DATA_UUID), gatt.Characteristic.Properties.NOTIFY, 0, b""
        )
        self._control_point = gatt.Characteristic(
            UUID(proto.CONTROL_POINT_UUID),
            gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_control_write),
        )
        self._info = gatt.Characteristic(
            UUID(proto.INFO_UUID),
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            firmware.info_bytes,
        )
        self._battery = BatteryService(lambda _connection: self.firmware.battery_pct)
        device.add_services(
            [
                gatt.Service(
                    UUID(proto.SERVICE_UUID), [self._control_point, self._data, self._info]
                ),
                self._battery,
                DeviceInformationService(
                    manufacturer_name="TwitchWatch",
                    model_number=HARDWARE,
                    serial_number=serial,
                    firmware_revision=FIRMWARE_VERSION,
                ),
            ]
        )

    def sensor_ticks(self) -> int:
        """The sensor's RTC: true elapsed time x pace x (1 + crystal error)."""
        rate = 1.0 + self.firmware.faults.drift_ppm * 1e-6
        return int(self.elapsed_s() * rate * proto.TICK_HZ)

    # -- faults on demand --------------------------------------------------------------------

    def stall(self, seconds: float) -> None:
        """Stop handing frames to the radio for ``seconds`` of host time; the link stays up."""
        self._stalled_until = time.monotonic() + seconds

    # -- GATT and link events ----------------------------------------------------------------

    def _link_lost(self) -> None:
        self.firmware.stop_all()

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        answer = self.firmware.handle_request(bytes(value), self.sensor_ticks())
        self._answer_later(connection, self._control_point, answer)

    async def _advertise(self) -> None:
        # Legacy advertising holds 31 bytes: flags + 128-bit service UUID + the short name fill
        # it. The long name and the battery go in the scan response (Bumble's virtual controller
        # replays the advertising data as scan response, so simulated scans see the short name).
        if self.device.is_advertising:
            return
        advert = AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, no BR/EDR
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    bytes(UUID(proto.SERVICE_UUID)),
                ),
                (AdvertisingData.SHORTENED_LOCAL_NAME, self.name.encode()),
            ]
        )
        scan_response = AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.long_name.encode()),
                (
                    AdvertisingData.MANUFACTURER_SPECIFIC_DATA,
                    proto.COMPANY_ID.to_bytes(2, "little")
                    + proto.encode_advert(self.firmware.battery_pct, self.firmware.is_streaming),
                ),
            ]
        )
        await self.device.start_advertising(
            advertising_data=bytes(advert),
            scan_response_data=bytes(scan_response),
            own_address_type=0x01,  # random (static) address, as the profile recommends
        )

    async def _pump(self) -> None:
        """Every connection interval: take the samples due and notify the frames."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(CONNECTION_INTERVAL_S)
            now = time.monotonic()
            elapsed_s, last = (now - last) * self.pace.speed, now
            connection = self.connection
            if connection is None or now < self._stalled_until:
                continue
            frames = self.firmware.produce(self.sensor_ticks(), connection.att_mtu, elapsed_s)
            for frame in frames:
                if self.connection is not connection:
                    break
                await self.device.notify_subscriber(connection, self._data, frame)


def _short_site(site: str) -> str:
    """A site label short enough for the advertised name: ``left_calf`` -> ``l_calf``."""
    return site.replace("left_", "l_").replace("right_", "r_")


def sensor_address(index: int) -> Address:
    """A static random address per simulated sensor (top two bits set, as the spec requires)."""
    return Address(f"F4:57:{(index >> 8) & 0xFF:02X}:{index & 0xFF:02X}:1B:83")
