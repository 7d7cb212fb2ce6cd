"""The simulated BITalino as an ordinary BlueZ peripheral program: the BT121's GATT table and an
LE advertisement registered on a (mock) adapter through BlueZ's own D-Bus API.

The bytes come from :class:`firmware_sim.bitalino.firmware.BitalinoFirmware`, the same board the
Bumble simulator runs: a byte stream cut into notifications of at most 20 bytes, each relayed by
BlueZ as one ``Value`` change. BlueZoo enforces no MTU, so the 20-byte cut is the firmware's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from dbus_fast.aio import MessageBus

from edge.drivers.bitalino import protocol as proto
from firmware_sim.bitalino.firmware import BitalinoFirmware
from firmware_sim.bitalino.peripheral import NOTIFICATIONS_PER_INTERVAL
from firmware_sim.peripheral import CONNECTION_INTERVAL_S
from support.bluez import PERIPHERAL_ADAPTER
from support.bluez_peripheral import Advertisement, Characteristic, PeripheralProgram, Service

APP_PATH = "/org/twitchwatch/bitalino"
ADVERT_PATH = f"{APP_PATH}/advert"
SERVICE_PATH = f"{APP_PATH}/service0"  # the "Exchange Data Service"


@dataclass
class BitalinoLog:
    """What the board saw, for the test's assertions."""

    connections: int = 0
    disconnections: int = 0
    commands: list[bytes] = field(default_factory=list)
    notifications: int = 0
    largest_notification: int = 0


class BluezBitalino(PeripheralProgram):
    """A :class:`BitalinoFirmware` served through BlueZ's peripheral API on ``adapter``."""

    app_path, advert_path = APP_PATH, ADVERT_PATH

    def __init__(self, firmware: BitalinoFirmware, name: str, adapter: str = PERIPHERAL_ADAPTER):
        super().__init__(adapter)
        self.firmware = firmware
        self.name = name
        self.log = BitalinoLog()
        self._origin = time.monotonic()
        self._commands = Characteristic(
            f"{SERVICE_PATH}/char0",
            proto.COMMANDS_UUID,
            ["read", "write", "indicate"],
            SERVICE_PATH,
            read=lambda: b"",
            write=self._on_command,
        )
        self._frames = Characteristic(
            f"{SERVICE_PATH}/char1", proto.FRAMES_UUID, ["read", "notify"], SERVICE_PATH
        )
        self.advert = Advertisement(name, proto.SERVICE_UUID)

    def board_s(self) -> float:
        return time.monotonic() - self._origin

    def export(self, bus: MessageBus) -> None:
        bus.export(APP_PATH, Service(proto.SERVICE_UUID))
        bus.export(SERVICE_PATH, Service(proto.SERVICE_UUID))
        for characteristic in (self._commands, self._frames):
            bus.export(characteristic.path, characteristic)

    def link_lost(self) -> None:
        """The BT121 tells the MCU the central left (0xFF): acquisition stops."""
        self.firmware.link_lost()
        self._frames.notifying = False

    def _on_command(self, value: bytes) -> None:
        self.log.commands.append(value)
        self.firmware.handle_command(value, self.board_s())

    async def pump(self) -> None:
        budget = NOTIFICATIONS_PER_INTERVAL * proto.MAX_NOTIFICATION_BYTES
        while True:
            await asyncio.sleep(CONNECTION_INTERVAL_S)
            pieces = self.firmware.produce(self.board_s(), budget)
            if not self._frames.notifying:
                continue  # nobody subscribed: the bridge has no one to send to
            for piece in pieces:
                self._frames.notify(piece)
                self.log.notifications += 1
                self.log.largest_notification = max(self.log.largest_notification, len(piece))
