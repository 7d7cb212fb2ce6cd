# dbus-fast reads D-Bus signatures from annotations ("ay", "a{sv}"), which are not Python names.
# ruff: noqa: F821, F722
"""A simulated sensor as an ordinary BlueZ peripheral program: the GATT objects, the LE
advertisement, and :class:`PeripheralProgram`, which registers them on a (mock) adapter through
BlueZ's own D-Bus API (``GattManager1.RegisterApplication``,
``LEAdvertisingManager1.RegisterAdvertisement``) and follows the central's link.

Each sensor's program (support/bluez_sensor.py, support/bluez_bitalino.py) says what it exports,
what it notifies each connection interval and what its board does when the link drops.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

from support.bluez import PERIPHERAL_ADAPTER, PrivateBluez

#: The ATT MTU a characteristic reports. BlueZoo negotiates none (a BlueZ stack would), so the
#: sensor declares what a Linux central and the nRF52 usually settle on.
DEFAULT_MTU = 247
#: How often the advertised marker changes (see :class:`Advertisement`); well under BlueZoo's
#: 1 s between discovery passes, so every pass sees a new value.
ADVERT_REFRESH_S = 0.2


class Characteristic(ServiceInterface):
    """One ``org.bluez.GattCharacteristic1``: BlueZ forwards every read, write and subscription."""

    def __init__(
        self,
        path: str,
        uuid: str,
        flags: list[str],
        service: str,
        *,
        read: Callable[[], bytes] | None = None,
        write: Callable[[bytes], None] | None = None,
        mtu: int = DEFAULT_MTU,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.path = path
        self._uuid, self._flags, self._read, self._write = uuid, flags, read, write
        self._service = service
        self._mtu = mtu
        self.notifying = False
        self._value = b""

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":
        return self._service

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":
        return self._flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":
        return self._value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> "q":
        return self._mtu

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        value = self._read() if self._read is not None else b""
        offset = options["offset"].value if "offset" in options else 0
        return value[offset:]

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}"):
        if self._write is not None:
            self._write(bytes(value))

    @method()
    def StartNotify(self):
        self.notifying = True

    @method()
    def StopNotify(self):
        self.notifying = False

    @method()
    def Confirm(self):
        """BlueZoo confirms every value it relays; a notification needs no answer."""

    def notify(self, value: bytes) -> None:
        """A notification: BlueZ relays a change of ``Value`` to the subscribed central."""
        self._value = value
        self.emit_properties_changed({"Value": value})


class Service(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True


class Advertisement(ServiceInterface):
    """The advert: the complete name and the sensor's service UUID.

    BlueZoo reports a device it already knows again only when an advertised property changed,
    where real BlueZ reports every advertisement with a fresh RSSI. So that a reconnect's scan
    finds the sensor, a one-byte marker in service data changes every ``ADVERT_REFRESH_S``; no
    driver reads it. Manufacturer data is left out (BlueZoo cannot carry it, see support.bluez).
    """

    def __init__(self, name: str, service_uuid: str) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self._name = name
        self._service_uuid = service_uuid
        self.marker = 0

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> "s":
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> "s":
        return self._name

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> "as":
        return [self._service_uuid]

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> "a{sv}":
        return {self._service_uuid: Variant("ay", bytes([self.marker]))}

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> "b":
        return True

    @method()
    def Release(self):
        pass

    def refresh(self) -> None:
        self.marker = (self.marker + 1) & 0xFF
        self.emit_properties_changed({"ServiceData": self.ServiceData})


class LinkLog(Protocol):
    connections: int
    disconnections: int


class PeripheralProgram:
    """Registers a sensor's GATT application and advert on ``adapter`` and follows its link.

    A subclass sets ``app_path``, ``advert_path``, ``log`` and ``advert`` and implements
    :meth:`export` (its objects on the bus), :meth:`pump` (each connection interval's
    notifications) and :meth:`link_lost` (what the board does when the central leaves).
    """

    app_path: str
    advert_path: str
    log: LinkLog
    advert: Advertisement

    def __init__(self, adapter: str = PERIPHERAL_ADAPTER) -> None:
        self.adapter = adapter
        self._bus: MessageBus | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected: set[str] = set()  # central device paths with Connected = True

    def export(self, bus: MessageBus) -> None:
        raise NotImplementedError

    async def pump(self) -> None:
        raise NotImplementedError

    def link_lost(self) -> None:
        raise NotImplementedError

    async def start(self, bluez: PrivateBluez) -> None:
        bus = self._bus = await bluez.connect()
        self.export(bus)
        bus.export(self.advert_path, self.advert)
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
            [self.app_path, {}],
        )
        await self._call(
            "org.bluez",
            self.adapter,
            "org.bluez.LEAdvertisingManager1",
            "RegisterAdvertisement",
            "oa{sv}",
            [self.advert_path, {}],
        )
        self.spawn(self.pump())
        self.spawn(self._refresh_advert())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._bus is not None:
            self._bus.disconnect()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_signal(self, message: Message) -> None:
        """A central connected to or left this adapter: ``Device1.Connected`` under it."""
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
            self.link_lost()

    async def _refresh_advert(self) -> None:
        while True:
            await asyncio.sleep(ADVERT_REFRESH_S)
            self.advert.refresh()

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
