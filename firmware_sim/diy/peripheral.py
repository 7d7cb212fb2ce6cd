"""The simulated DIY sensor as a real Bumble BLE peripheral speaking the TwitchWatch GATT profile."""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import Address
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from edge.drivers.diy import DRIVER
from edge.drivers.diy import protocol as proto
from firmware_sim.diy.firmware import FIRMWARE_VERSION, HARDWARE, DiyFirmware
from firmware_sim.peripheral import (
    CONNECTION_INTERVAL_S,
    Pace,
    SimulatedPeripheral,
    static_address,
)


class SimulatedDiySensor(SimulatedPeripheral):
    """A Bumble ``Device`` serving the profile and pacing frames from a :class:`DiyFirmware`.

    Faults on demand: :meth:`disconnect` (peripheral-initiated), :meth:`stall` (stop sending
    without disconnecting), and per-frame drops, corruption and clock drift through
    ``firmware.faults``.
    """

    driver: ClassVar[str] = DRIVER.name

    def __init__(
        self, firmware: DiyFirmware, device: Device, serial: str, pace: Pace | None = None
    ) -> None:
        super().__init__(device, pace)
        self.firmware = firmware
        self.site = firmware.site
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
    """A static random address per simulated DIY sensor."""
    return static_address(index, "F4:57", "1B:83")
