"""The simulated BITalino as an ordinary BlueZ peripheral program: the BT121's GATT table and an
LE advertisement registered on a (mock) adapter through BlueZ's own D-Bus API.

The bytes come from :class:`firmware_sim.bitalino.firmware.BitalinoFirmware`, the same board the
Bumble simulator runs: a byte stream cut into notifications of at most 20 bytes, each relayed by
BlueZ as one ``Value`` change. BlueZoo enforces no MTU, so the 20-byte cut is the firmware's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from edge.drivers.bitalino import protocol as proto
from firmware_sim.bitalino.firmware import BitalinoFirmware
from firmware_sim.bitalino.peripheral import NOTIFICATIONS_PER_INTERVAL
from firmware_sim.peripheral import CONNECTION_INTERVAL_S
from support.bluez import PERIPHERAL_ADAPTER, PrivateBluez
from support.bluez_sensor import _Advertisement, _Characteristic, _Service

APP_PATH = "/org/twitchwatch/bitalino"
ADVERT_PATH = f"{APP_PATH}/advert"
SERVICE_PATH = f"{APP_PATH}/service0"  # the "Exchange Data Service"
ADVERT_REFRESH_S = 0.2  # see support.bluez_sensor: BlueZoo re-reports only changed adverts


@dataclass
class BitalinoLog:
    """What the board saw, for the test's assertions."""

    connections: int = 0
    disconnections: int = 0
    commands: list[bytes] = field(default_factory=list)
    notifications: int = 0
    largest_notification: int = 0


class BluezBitalino:
    """A :class:`BitalinoFirmware` served through BlueZ's peripheral API on ``adapter``."""

    def __init__(self, firmware: BitalinoFirmware, name: str, adapter: str = PERIPHERAL_ADAPTER):
        self.firmware = firmware
        self.adapter = adapter
        self.name = name
        self.log = BitalinoLog()
        self._origin = time.monotonic()
        self._bus: MessageBus | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected: set[str] = set()
        self._commands = _Characteristic(
            f"{SERVICE_PATH}/char0",
            proto.COMMANDS_UUID,
            ["read", "write", "indicate"],
            SERVICE_PATH,
            read=lambda: b"",
            write=self._on_command,
        )
        self._frames = _Characteristic(
            f"{SERVICE_PATH}/char1", proto.FRAMES_UUID, ["read", "notify"], SERVICE_PATH
        )
        self._advert = _Advertisement(name, proto.SERVICE_UUID)

    def board_s(self) -> float:
        return time.monotonic() - self._origin

    async def start(self, bluez: PrivateBluez) -> None:
        bus = self._bus = await bluez.connect()
        bus.export(APP_PATH, _Service(proto.SERVICE_UUID))
        bus.export(SERVICE_PATH, _Service(proto.SERVICE_UUID))
        for characteristic in (self._commands, self._frames):
            bus.export(characteristic.path, characteristic)
        bus.export(ADVERT_PATH, self._advert)
        bus.add_message_handler(self._on_signal)
        await self._call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "AddMatch",
            "s",
            ["type='signal',sender='org.bluez'"],
        )
        await self._call(
            "org.bluez",
            self.adapter,
            "org.bluez.GattManager1",
            "RegisterApplication",
            "oa{sv}",
            [APP_PATH, {}],
        )
        await self._call(
            "org.bluez",
            self.adapter,
            "org.bluez.LEAdvertisingManager1",
            "RegisterAdvertisement",
            "oa{sv}",
            [ADVERT_PATH, {}],
        )
        self._spawn(self._pump())
        self._spawn(self._refresh_advert())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._bus is not None:
            self._bus.disconnect()

    def _on_signal(self, message: Message) -> None:
        """A central connected or left: the BT121 sends 0xFF to the MCU, acquisition stops."""
        if (
            message.message_type is not MessageType.SIGNAL
            or message.member != "PropertiesChanged"
            or not (message.path or "").startswith(self.adapter + "/dev_")
        ):
            return
        interface, changed, _ = message.body
        if interface != "org.bluez.Device1" or "Connected" not in changed:
            return
        if changed["Connected"].value:
            if message.path not in self._connected:
                self._connected.add(message.path)
                self.log.connections += 1
        elif message.path in self._connected:
            self._connected.discard(message.path)
            self.log.disconnections += 1
            self.firmware.link_lost()
            self._frames.notifying = False

    def _on_command(self, value: bytes) -> None:
        self.log.commands.append(value)
        self.firmware.handle_command(value, self.board_s())

    async def _pump(self) -> None:
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

    async def _refresh_advert(self) -> None:
        while True:
            await asyncio.sleep(ADVERT_REFRESH_S)
            self._advert.refresh()

    async def _call(
        self, destination: str, path: str, interface: str, member: str, signature: str, body: list
    ) -> None:
        assert self._bus is not None
        reply = await self._bus.call(
            Message(
                destination=destination,
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body,
            )
        )
        if reply.message_type is MessageType.ERROR:
            raise RuntimeError(f"{interface}.{member}: {reply.error_name} {reply.body}")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
