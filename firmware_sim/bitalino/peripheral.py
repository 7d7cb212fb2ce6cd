"""The simulated BITalino as a real Bumble BLE peripheral: the BT121's GATT table and bridge.

Services: the "Exchange Data Service" (Commands: write with response, read, indicate; Frames:
read, notify) and Device Information, as the BT121 firmware declares them (research note §A1).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from bumble import gatt
from bumble.core import UUID
from bumble.device import Connection, Device
from bumble.hci import Address
from bumble.profiles.device_information_service import DeviceInformationService

from edge.drivers.bitalino import DRIVER
from edge.drivers.bitalino import protocol as proto
from firmware_sim.bitalino.firmware import BitalinoFirmware
from firmware_sim.peripheral import (
    CONNECTION_INTERVAL_S,
    Pace,
    SimulatedPeripheral,
    static_address,
)

#: Notifications the bridge sends per connection interval: 6 x 20 B per 15 ms is 8 kB/s, twice
#: what EMG + ACC at 1 kHz need (4 B frames), so the ring drains after a stall.
NOTIFICATIONS_PER_INTERVAL = 6


class SimulatedBitalino(SimulatedPeripheral):
    """A Bumble ``Device`` serving the BT121's GATT table over a :class:`BitalinoFirmware`.

    Faults on demand: :meth:`disconnect`, and skipped, corrupted or torn frames through
    ``firmware.faults`` and :meth:`BitalinoFirmware.skip_next_frames`.
    """

    driver: ClassVar[str] = DRIVER.name

    def __init__(
        self, firmware: BitalinoFirmware, device: Device, name: str, pace: Pace | None = None
    ) -> None:
        super().__init__(device, pace)
        self.firmware = firmware
        self.site = firmware.site
        self.name = name
        self._frames = gatt.Characteristic(
            UUID(proto.FRAMES_UUID),
            gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.READABLE,
            b"",
        )
        self._commands = gatt.Characteristic(
            UUID(proto.COMMANDS_UUID),
            gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.READ
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=lambda _c: b"", write=self._on_command),
        )
        device.add_services(
            [
                gatt.Service(UUID(proto.SERVICE_UUID), [self._commands, self._frames]),
                DeviceInformationService(
                    manufacturer_name="Plux (simulated)",
                    firmware_revision="Firmware v1.0",
                    hardware_revision="PCB v1.0",
                ),
            ]
        )

    def board_s(self) -> float:
        return self.firmware.board_time_s(self.elapsed_s())

    def _link_lost(self) -> None:
        self.firmware.link_lost()

    def _on_command(self, _connection: Connection, value: bytes) -> None:
        self.firmware.handle_command(bytes(value), self.board_s())

    async def _advertise(self) -> None:
        # Flags, the 128-bit service UUID and a 14-character name do not fit 31 bytes together:
        # the name goes in the advertisement (scans recognise "bitalino" in it), the UUID in
        # the scan response.
        await self._advertise_name_then_uuid(self.name, proto.SERVICE_UUID)

    async def _pump(self) -> None:
        """Every connection interval: run the board's timer, notify what the bridge passes."""
        budget = NOTIFICATIONS_PER_INTERVAL * proto.MAX_NOTIFICATION_BYTES
        while True:
            await asyncio.sleep(CONNECTION_INTERVAL_S)
            connection = self.connection
            if connection is None:
                continue
            for piece in self.firmware.produce(self.board_s(), budget):
                if self.connection is not connection:
                    break
                await self.device.notify_subscriber(connection, self._frames, piece)


def bitalino_address(index: int) -> Address:
    """A static random address per simulated BITalino (distinct from the other simulators')."""
    return static_address(index, "C0:B1", "7A:11")


def bitalino_name(index: int) -> str:
    """The advertised name: "BITalino-" and two bytes, as the boards name themselves."""
    return f"BITalino-{(index >> 8) & 0xFF:02X}-{index & 0xFF:02X}"
