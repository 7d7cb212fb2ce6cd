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
from dataclasses import dataclass, field

from dbus_fast.aio import MessageBus

from edge.drivers.diy import protocol as proto
from firmware_sim.diy.firmware import DiyFirmware
from firmware_sim.diy.peripheral import _short_site
from firmware_sim.peripheral import CONNECTION_INTERVAL_S
from support.bluez import PERIPHERAL_ADAPTER
from support.bluez_peripheral import (
    DEFAULT_MTU,
    Advertisement,
    Characteristic,
    PeripheralProgram,
    Service,
)

APP_PATH = "/org/twitchwatch/sensor"
ADVERT_PATH = f"{APP_PATH}/advert"
PROFILE_PATH = f"{APP_PATH}/service0"  # the TwitchWatch service
BATTERY_PATH = f"{APP_PATH}/service1"  # Battery 0x180F
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
#: The ATT MTU this sensor acts on (see support.bluez_peripheral.DEFAULT_MTU).
SENSOR_MTU = DEFAULT_MTU


@dataclass
class SensorLog:
    """What the sensor saw, for the test's assertions."""

    connections: int = 0
    disconnections: int = 0
    info_reads: int = 0
    requests: list[bytes] = field(default_factory=list)
    frames_notified: int = 0


class BluezDiySensor(PeripheralProgram):
    """A :class:`DiyFirmware` served through BlueZ's peripheral API on ``adapter``."""

    app_path, advert_path = APP_PATH, ADVERT_PATH

    def __init__(self, firmware: DiyFirmware, serial: str, adapter: str = PERIPHERAL_ADAPTER):
        super().__init__(adapter)
        self.firmware = firmware
        self.name = f"TW-{serial[-4:]}-{_short_site(firmware.site)}"  # the complete name, §2.8
        self.log = SensorLog()
        self._origin = time.monotonic()
        self._control = Characteristic(
            f"{PROFILE_PATH}/char0",
            proto.CONTROL_POINT_UUID,
            ["write", "notify"],
            PROFILE_PATH,
            write=self._on_control_write,
        )
        self._data = Characteristic(
            f"{PROFILE_PATH}/char1", proto.DATA_UUID, ["notify"], PROFILE_PATH
        )
        self._info = Characteristic(
            f"{PROFILE_PATH}/char2", proto.INFO_UUID, ["read"], PROFILE_PATH, read=self._read_info
        )
        self._battery = Characteristic(
            f"{BATTERY_PATH}/char0",
            BATTERY_LEVEL_UUID,
            ["read", "notify"],
            BATTERY_PATH,
            read=lambda: bytes([self.firmware.battery_pct]),
        )
        # Manufacturer data is left out: BlueZoo cannot carry it (see support.bluez).
        self.advert = Advertisement(self.name, proto.SERVICE_UUID)

    def sensor_ticks(self) -> int:
        return int((time.monotonic() - self._origin) * proto.TICK_HZ)

    def export(self, bus: MessageBus) -> None:
        # The application root: dbus-fast answers GetManagedObjects for everything under it.
        bus.export(APP_PATH, Service(proto.SERVICE_UUID))
        bus.export(PROFILE_PATH, Service(proto.SERVICE_UUID))
        bus.export(BATTERY_PATH, Service(BATTERY_SERVICE_UUID))
        for characteristic in (self._control, self._data, self._info, self._battery):
            bus.export(characteristic.path, characteristic)

    def link_lost(self) -> None:
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

        self.spawn(answer_after_the_write_response())

    async def pump(self) -> None:
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
