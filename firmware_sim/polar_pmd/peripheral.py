"""The simulated Polar sensor as a real Bumble BLE peripheral speaking PMD.

Services: PMD (control point: read -> features, write -> request, indicate -> response; data:
notify), Battery and Device Information. The standard Heart Rate service of the real sensors is
omitted: TwitchWatch reads acceleration only.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from bumble import gatt
from bumble.core import UUID
from bumble.device import Connection, Device
from bumble.hci import Address
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from edge.drivers.polar_pmd import DRIVER
from edge.drivers.polar_pmd import protocol as pmd
from firmware_sim.peripheral import (
    CONNECTION_INTERVAL_S,
    Pace,
    SimulatedPeripheral,
    static_address,
)
from firmware_sim.polar_pmd.firmware import FIRMWARE_VERSION, PolarFirmware


class SimulatedPolarSensor(SimulatedPeripheral):
    """A Bumble ``Device`` serving PMD and pacing ACC frames from a :class:`PolarFirmware`.

    Faults on demand: :meth:`disconnect`, :meth:`drop_next_frames`, and through
    ``firmware.faults`` per-frame drops and refused starts.
    """

    driver: ClassVar[str] = DRIVER.name

    def __init__(
        self, firmware: PolarFirmware, device: Device, device_id: str, pace: Pace | None = None
    ) -> None:
        super().__init__(device, pace)
        self.firmware = firmware
        self.site = firmware.site
        self.device_id = device_id
        self.name = f"{firmware.personality.name_prefix} {device_id}"
        self._data = gatt.Characteristic(
            UUID(pmd.DATA_UUID), gatt.Characteristic.Properties.NOTIFY, 0, b""
        )
        self._control_point = gatt.Characteristic(
            UUID(pmd.CONTROL_POINT_UUID),
            gatt.Characteristic.Properties.READ
            | gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(
                read=lambda _connection: firmware.features_bytes, write=self._on_control_write
            ),
        )
        device.add_services(
            [
                gatt.Service(UUID(pmd.SERVICE_UUID), [self._control_point, self._data]),
                BatteryService(lambda _connection: self.firmware.battery_pct),
                DeviceInformationService(
                    manufacturer_name="Polar Electro Oy (simulated)",
                    model_number=firmware.personality.model_number,
                    serial_number=device_id,
                    firmware_revision=FIRMWARE_VERSION,
                ),
            ]
        )

    def elapsed_ns(self) -> int:
        """The sensor clock: true elapsed time x pace, in ns since power-on."""
        return int(self.elapsed_s() * 1e9)

    # -- faults on demand --------------------------------------------------------------------

    def drop_next_frames(self, k: int) -> None:
        """Lose the next ``k`` frames in the air."""
        self.firmware.drop_next_frames(k)

    # -- GATT and link events ----------------------------------------------------------------

    def _link_lost(self) -> None:
        self.firmware.link_lost()

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        answer = self.firmware.handle_request(bytes(value), self.elapsed_ns())
        self._answer_later(connection, self._control_point, answer, indicate=True)

    async def _advertise(self) -> None:
        # Flags and the complete name fill 25 of the 31 legacy bytes; the 128-bit PMD UUID goes
        # in the scan response (which Bumble's virtual controller does not replay, so simulated
        # scans find Polar sensors by name, as scans of the real ones can).
        await self._advertise_name_then_uuid(self.name, pmd.SERVICE_UUID)

    async def _pump(self) -> None:
        """Every connection interval: take the samples due and notify the frames."""
        while True:
            await asyncio.sleep(CONNECTION_INTERVAL_S)
            connection = self.connection
            if connection is None:
                continue
            frames = self.firmware.produce(self.elapsed_ns(), connection.att_mtu)
            for frame in frames:
                if self.connection is not connection:
                    break
                await self.device.notify_subscriber(connection, self._data, frame)


def polar_address(index: int) -> Address:
    """A static random address per simulated Polar sensor (distinct from the DIY sensors')."""
    return static_address(index, "E8:9F", "50:1A")


def polar_device_id(seed: int, index: int) -> str:
    """The 8 hex digits a Polar sensor advertises after its model name (seeded, stable)."""
    return f"{(seed * 1000 + index) * 2654435761 % 2**32:08X}"
