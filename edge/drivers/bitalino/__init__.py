"""PLUX BITalino (r)evolution over BLE: the protocol (:mod:`.protocol`), frames out of the
notification byte stream (:mod:`.framing`) and the driver (:mod:`.driver`).

This module is the driver's description for the registry; it imports the protocol (and numpy)
only when a scan asks about an advertisement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edge.drivers.registry import DriverInfo
from twitchwatch.contract import Kind


def recognises(
    name: str | None, service_uuids: Sequence[str], manufacturer_data: Mapping[int, bytes]
) -> bool:
    """A BITalino BLE board: its data service, or "bitalino" in its name in any case.

    The BT121 firmware names itself "BiTalino BLE"; other firmware "BITalino-XX-XX".
    """
    from edge.drivers.bitalino.protocol import SERVICE_UUID

    return SERVICE_UUID in service_uuids or "bitalino" in (name or "").lower()


DRIVER = DriverInfo(
    name="bitalino",
    description="PLUX BITalino (r)evolution BLE: raw EMG (A1) and one accelerometer axis (A5)",
    streams=frozenset({Kind.EMG, Kind.ACC}),
    driver_class="edge.drivers.bitalino.driver:BitalinoDriver",
    recognises=recognises,
)
