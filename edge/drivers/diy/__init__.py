"""The DIY reference sensor (nRF52840 + MyoWare): the TwitchWatch GATT profile byte by byte
(:mod:`.protocol`) and its driver (:mod:`.driver`).

This module is the driver's description for the registry; it imports the profile (and numpy)
only when a scan asks about an advertisement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edge.drivers.registry import AdvertDetails, DriverInfo
from twitchwatch.contract import Kind


def recognises(
    name: str | None, service_uuids: Sequence[str], manufacturer_data: Mapping[int, bytes]
) -> bool:
    """A DIY sensor advertises the profile's service UUID beside its name."""
    from edge.drivers.diy.protocol import SERVICE_UUID

    return SERVICE_UUID in service_uuids


def advert_details(manufacturer_data: Mapping[int, bytes]) -> AdvertDetails:
    """Battery from the manufacturer data, when the advertisement carries it."""
    from edge.drivers.diy.protocol import COMPANY_ID, decode_advert

    advert = decode_advert(manufacturer_data.get(COMPANY_ID, b""))
    return AdvertDetails(battery_pct=None if advert is None else advert[1])


DRIVER = DriverInfo(
    name="diy",
    description="TwitchWatch DIY sensor (nRF52840 + MyoWare): raw EMG and accelerometer",
    streams=frozenset({Kind.EMG, Kind.ACC}),
    driver_class="edge.drivers.diy.driver:DiyDriver",
    recognises=recognises,
    advert_details=advert_details,
)
