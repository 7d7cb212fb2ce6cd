"""A private Linux Bluetooth stack for tests: a D-Bus daemon of our own and BlueZoo (a mock of
BlueZ's D-Bus API, PyPI ``bluezoo``) on it, with two mock adapters.

bleak's own BlueZ backend talks to it unchanged: it opens the *system* bus, and dbus-fast takes
the system bus from ``DBUS_SYSTEM_BUS_ADDRESS`` when that is set, so pointing that variable at
the private bus is the only difference from a Raspberry Pi. The bus runs with the session
configuration (no root, no policy files); BlueZoo owns ``org.bluez`` on it.

``hci0`` is the central (the edge agent's adapter, bleak's default); a test sensor registers
its GATT application and advertisement on ``hci1``, as any BlueZ peripheral program does.

What BlueZoo 1.0.2 cannot do (hardware/README.md §2.10 says the same; the Bumble tests cover
these):
- manufacturer data: it declares ``ManufacturerData`` as ``a{sv}`` where BlueZ uses ``a{qv}``;
  string keys reach bleak as strings, and uint16 keys stop its discovery task, so adverts here
  carry none (no battery or streaming flag before connecting);
- RSSI: fixed at 0, and a device already known is reported again only when an advertised
  property changes (real BlueZ reports every advertisement with a fresh RSSI);
- MTU: only a value (the peripheral's characteristic ``MTU`` property, else 512): no exchange,
  and payloads are not limited to MTU - 3;
- the link: a Disconnect from the peripheral's side does not reach the central; the central's
  ``Device1.Disconnect`` does (how these tests cut the link);
- no automatic CCCD descriptor, no passive scanning, no radio timing or loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

#: The edge agent's adapter and the test sensors' adapter. Addresses are BlueZoo's to choose;
#: these are public-looking but made up.
CENTRAL_ADDRESS = "00:11:22:33:44:55"
PERIPHERAL_ADDRESS = "00:AA:BB:CC:DD:EE"
CENTRAL_ADAPTER = "/org/bluez/hci0"
PERIPHERAL_ADAPTER = "/org/bluez/hci1"
#: Seconds between BlueZoo's discovery passes (its default, 10 s, would slow every reconnect).
SCAN_INTERVAL_S = 1
START_TIMEOUT_S = 15.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BluezUnavailable(RuntimeError):
    """dbus-daemon or bluezoo is missing, or did not come up."""


@dataclass(frozen=True, slots=True)
class PrivateBluez:
    """A running private bus with BlueZoo on it."""

    address: str  # for DBUS_SYSTEM_BUS_ADDRESS
    log: Path  # BlueZoo's own log, for a failing test's report

    def env(self) -> dict[str, str]:
        """This process's environment, pointed at the private bus."""
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    async def connect(self) -> MessageBus:
        """A new client connection to the private bus (the caller disconnects it)."""
        return await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()

    def device_path(self, adapter: str, address: str) -> str:
        return f"{adapter}/dev_{address.replace(':', '_')}"

    async def cut_link(self, peripheral_address: str = PERIPHERAL_ADDRESS) -> None:
        """Drop the link as walking out of range would: Disconnect on the central's side."""
        bus = await self.connect()
        try:
            reply = await bus.call(
                Message(
                    destination="org.bluez",
                    path=self.device_path(CENTRAL_ADAPTER, peripheral_address),
                    interface="org.bluez.Device1",
                    member="Disconnect",
                )
            )
            if reply.message_type is MessageType.ERROR:
                raise BluezUnavailable(f"Disconnect failed: {reply.error_name} {reply.body}")
        finally:
            bus.disconnect()


def dbus_daemon_path() -> str | None:
    return shutil.which("dbus-daemon") or shutil.which("dbus-daemon", path="/usr/bin:/bin")


def bluezoo_command() -> list[str]:
    """BlueZoo's command line, from the interpreter running the tests (hci1 peripheral-only:
    see :mod:`support.bluezoo_launch`)."""
    return [sys.executable, "-m", "support.bluezoo_launch"]


@contextlib.asynccontextmanager
async def private_bluez(folder: Path) -> AsyncIterator[PrivateBluez]:
    """Start a private bus and BlueZoo in ``folder``; stop both (by PID) on the way out."""
    daemon = dbus_daemon_path()
    if daemon is None:
        raise BluezUnavailable("dbus-daemon is not installed (Debian package dbus)")
    socket = folder / "system_bus_socket"
    bus = await asyncio.create_subprocess_exec(
        daemon,
        "--session",
        "--nofork",
        "--nopidfile",
        f"--address=unix:path={socket}",
        "--print-address=1",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # as root: a harmless "Failed to set fd limit" warning
    )
    bluezoo: asyncio.subprocess.Process | None = None
    log = folder / "bluezoo.log"
    try:
        assert bus.stdout is not None
        line = await asyncio.wait_for(bus.stdout.readline(), START_TIMEOUT_S)
        address = line.decode().strip()
        if not address:
            raise BluezUnavailable("dbus-daemon printed no address")
        with _open_log(log) as log_file:
            bluezoo = await asyncio.create_subprocess_exec(
                *bluezoo_command(),
                "--auto-enable",
                f"--scan-interval={SCAN_INTERVAL_S}",
                f"--adapter={CENTRAL_ADDRESS}",
                f"--adapter={PERIPHERAL_ADDRESS}",
                env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address},
                cwd=PROJECT_ROOT,  # so that `python -m support.bluezoo_launch` resolves
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = PrivateBluez(address, log)
        await _wait_for_adapters(running, bluezoo)
        yield running
    finally:
        for process in (bluezoo, bus):
            if process is not None and process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 5.0)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def _open_log(path: Path) -> BinaryIO:
    """BlueZoo's log file (opening a local file does not block the loop for long)."""
    return path.open("wb")


async def _wait_for_adapters(running: PrivateBluez, bluezoo: asyncio.subprocess.Process) -> None:
    """Until BlueZoo has exported both adapters, powered (``--auto-enable``)."""
    bus = await running.connect()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while loop.time() < deadline:
            if bluezoo.returncode is not None:
                raise BluezUnavailable(f"bluezoo exited ({bluezoo.returncode}): see {running.log}")
            reply = await bus.call(
                Message(
                    destination="org.bluez",
                    path="/",
                    interface="org.freedesktop.DBus.ObjectManager",
                    member="GetManagedObjects",
                )
            )
            if reply.message_type is MessageType.METHOD_RETURN:
                objects = reply.body[0]
                powered = [
                    path
                    for path in (CENTRAL_ADAPTER, PERIPHERAL_ADAPTER)
                    if objects.get(path, {}).get("org.bluez.Adapter1", {}).get("Powered")
                    and objects[path]["org.bluez.Adapter1"]["Powered"].value
                ]
                if len(powered) == 2:
                    return
            await asyncio.sleep(0.1)
        raise BluezUnavailable(f"BlueZoo did not export two powered adapters: see {running.log}")
    finally:
        bus.disconnect()
