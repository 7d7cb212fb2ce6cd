"""Runs BlueZoo 1.0.2 (``python -m support.bluezoo_launch [bluezoo options]``) with two changes
that make it behave as BlueZ does for what these tests need; the edge agent stays unchanged.

- The second adapter claims the peripheral role only, like a controller that cannot be a
  central. BlueZoo's adapters all claim every role, and bleak takes "the first powered adapter
  with the central role" from an unordered set, so with two adapters the edge agent would scan
  from the test sensor's adapter in about half of the runs.
- A disconnect removes the connection's GATT objects, as BlueZ does for an unpaired device.
  BlueZoo leaves them exported, so the next Connect fails with "error number: 17" (EEXIST) and
  no reconnect could ever work.

BlueZoo (GPL-2.0-only) runs in this separate process; the tests only talk to it over D-Bus.
"""

from __future__ import annotations

import sdbus
from bluezoo import bluezoo
from bluezoo.adapter import Adapter
from bluezoo.device import Device

PERIPHERAL_ONLY_ID = 1  # hci1, the test sensors' adapter


class PeripheralOnlyAdapter(Adapter):
    @sdbus.dbus_property_async_override()
    def Roles(self) -> list[str]:
        return ["peripheral"]


def make_adapter(mock: bluezoo.BluezMockService, id: int, address: str) -> Adapter:
    kind = PeripheralOnlyAdapter if id == PERIPHERAL_ONLY_ID else Adapter
    return kind(mock, id, address)


_disconnect = Device.disconnect


async def disconnect_and_forget_services(self: Device, uuid: str | None = None) -> None:
    await _disconnect(self, uuid)
    for link in reversed(list(self.services.values())):  # descriptors and characteristics first
        self.peer_adapter.mock.remove_object(link)
    self.services.clear()
    await self.ServicesResolved.set_async(False)


if __name__ == "__main__":
    bluezoo.Adapter = make_adapter  # the name BluezMockService.add_adapter builds adapters by
    Device.disconnect = disconnect_and_forget_services
    bluezoo.main()
