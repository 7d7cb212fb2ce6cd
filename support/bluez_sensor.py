# dbus-fast reads D-Bus signatures from annotations ("ay", "a{sv}"), which are not Python names.
# ruff: noqa: F821, F722
"""The simulated DIY sensor as an ordinary BlueZ peripheral program: a GATT application and an
LE advertisement registered on a (mock) adapter through BlueZ's own D-Bus API
(``GattManager1.RegisterApplication``, ``LEAdvertisingManager1.RegisterAdvertisement``).

The bytes come from the reference firmware, :class:`firmware_sim.diy.firmware.DiyFirmware`:
Info, control point answers and frames are exactly what the Bumble sensor sends. Only the
transport differs, so a test that runs ``twitchwatch edge run`` against this sensor exercises
bleak's real BlueZ backend end to end.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

from edge.drivers.diy import protocol as proto
from firmware_sim.diy.firmware import DiyFirmware
from firmware_sim.diy.peripheral import _short_site
from firmware_sim.peripheral import CONNECTION_INTERVAL_S
from support.bluez import PERIPHERAL_ADAPTER, PrivateBluez

APP_PATH = "/org/twitchwatch/sensor"
ADVERT_PATH = f"{APP_PATH}/advert"
PROFILE_PATH = f"{APP_PATH}/service0"  # the TwitchWatch service
BATTERY_PATH = f"{APP_PATH}/service1"  # Battery 0x180F
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
#: The ATT MTU this sensor acts on. BlueZoo negotiates none (a BlueZ stack would), so the
#: sensor declares what a Linux central and the nRF52 usually settle on.
SENSOR_MTU = 247
#: How often the advertised marker changes (see :class:`_Advertisement`); well under BlueZoo's
#: 1 s between discovery passes, so every pass sees a new value.
ADVERT_REFRESH_S = 0.2


@dataclass
class SensorLog:
    """What the sensor saw, for the test's assertions."""

    connections: int = 0
    disconnections: int = 0
    info_reads: int = 0
    requests: list[bytes] = field(default_factory=list)
    frames_notified: int = 0


class _Characteristic(ServiceInterface):
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
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.path = path
        self._uuid, self._flags, self._read, self._write = uuid, flags, read, write
        self._service = service
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
        return SENSOR_MTU

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


class _Service(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True


class _Advertisement(ServiceInterface):
    """The advert: the complete name and the TwitchWatch service UUID (hardware/README §2.8).

    BlueZoo reports a device it already knows again only when an advertised property changed,
    where real BlueZ reports every advertisement with a fresh RSSI. So that a reconnect's scan
    finds the sensor, a one-byte marker in service data changes every ``ADVERT_REFRESH_S``; no
    driver reads it. Manufacturer data is left out (BlueZoo cannot carry it, see support.bluez).
    """

    def __init__(self, name: str, service_uuid: str = proto.SERVICE_UUID) -> None:
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


class BluezDiySensor:
    """A :class:`DiyFirmware` served through BlueZ's peripheral API on ``adapter``."""

    def __init__(self, firmware: DiyFirmware, serial: str, adapter: str = PERIPHERAL_ADAPTER):
        self.firmware = firmware
        self.adapter = adapter
        self.name = f"TW-{serial[-4:]}-{_short_site(firmware.site)}"  # the complete name, §2.8
        self.log = SensorLog()
        self._origin = time.monotonic()
        self._bus: MessageBus | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected: set[str] = set()  # central device paths with Connected = True
        self._control = _Characteristic(
            f"{PROFILE_PATH}/char0",
            proto.CONTROL_POINT_UUID,
            ["write", "notify"],
            PROFILE_PATH,
            write=self._on_control_write,
        )
        self._data = _Characteristic(
            f"{PROFILE_PATH}/char1", proto.DATA_UUID, ["notify"], PROFILE_PATH
        )
        self._info = _Characteristic(
            f"{PROFILE_PATH}/char2", proto.INFO_UUID, ["read"], PROFILE_PATH, read=self._read_info
        )
        self._battery = _Characteristic(
            f"{BATTERY_PATH}/char0",
            BATTERY_LEVEL_UUID,
            ["read", "notify"],
            BATTERY_PATH,
            read=lambda: bytes([self.firmware.battery_pct]),
        )
        self._advert = _Advertisement(self.name)

    def sensor_ticks(self) -> int:
        return int((time.monotonic() - self._origin) * proto.TICK_HZ)

    async def start(self, bluez: PrivateBluez) -> None:
        bus = self._bus = await bluez.connect()
        # The application root: dbus-fast answers GetManagedObjects for everything under it.
        bus.export(APP_PATH, _Service(proto.SERVICE_UUID))
        bus.export(PROFILE_PATH, _Service(proto.SERVICE_UUID))
        bus.export(BATTERY_PATH, _Service(BATTERY_SERVICE_UUID))
        for characteristic in (self._control, self._data, self._info, self._battery):
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

    # -- BlueZ's side of the link ---------------------------------------------------------------

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
            self.firmware.stop_all()  # a sensor stops streaming when the link drops
            self._data.notifying = self._control.notifying = False

    def _read_info(self) -> bytes:
        self.log.info_reads += 1
        return self.firmware.info_bytes

    def _on_control_write(self, value: bytes) -> None:
        self.log.requests.append(value)
        answer = self.firmware.handle_request(value, self.sensor_ticks())

        async def answer_after_the_write_response() -> None:
            await asyncio.sleep(0)  # rule 1 of §2.9: never before the write's response
            if self._control.notifying:
                self._control.notify(answer)

        self._spawn(answer_after_the_write_response())

    async def _pump(self) -> None:
        """Every connection interval: the frames due, notified if the host subscribed."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(CONNECTION_INTERVAL_S)
            now = time.monotonic()
            elapsed_s, last = now - last, now
            frames = self.firmware.produce(self.sensor_ticks(), SENSOR_MTU, elapsed_s)
            if not self._data.notifying:
                continue  # built but unseen, as a stack without a subscriber drops them
            for frame in frames:
                self._data.notify(frame)
                self.log.frames_notified += 1

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
