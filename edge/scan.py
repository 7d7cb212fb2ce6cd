"""``twitchwatch edge scan``: the sensors in range, each recognised by its driver in the registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bleak import BleakScanner

from edge.ble.session import Backend
from edge.drivers import driver_names, recognising


@dataclass(frozen=True, slots=True)
class FoundSensor:
    """One advertising sensor that a registered driver recognises."""

    address: str
    name: str  # as advertised; "" when the advertisement carries no name
    driver: str  # the registry name of the first driver that recognises it
    rssi: int  # dBm
    battery_pct: int | None  # from the advertisement, when the driver can read it there


def recognise(
    address: str,
    name: str | None,
    service_uuids: Sequence[str],
    manufacturer_data: Mapping[int, bytes],
    rssi: int,
) -> FoundSensor | None:
    """The sensor behind one advertisement, or None when no driver recognises it."""
    drivers = recognising(name, service_uuids, manufacturer_data)
    if not drivers:
        return None
    info = drivers[0]
    battery_pct = info.details(manufacturer_data).battery_pct
    return FoundSensor(address, name or "", info.name, rssi, battery_pct)


async def scan(backend: Backend, timeout_s: float) -> list[FoundSensor]:
    """Scan once for ``timeout_s`` and return the recognised sensors, sorted by address."""
    # No service filter: Polar sensors may carry their PMD UUID only in the scan response, so
    # they are recognised by name; each driver decides from the whole advertisement.
    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, backend=backend.scanner)
    sensors = [
        recognise(
            device.address,
            adv.local_name or device.name,
            adv.service_uuids,
            adv.manufacturer_data,
            adv.rssi,
        )
        for device, adv in found.values()
    ]
    return sorted((s for s in sensors if s is not None), key=lambda s: s.address)


#: The site a pasted block starts with: valid, so the block loads, and meant to be changed.
PLACEHOLDER_SITE = "left_calf"


def config_block(sensors: Sequence[FoundSensor]) -> list[str]:
    """A ``[[sensor]]`` entry per found sensor, ready to paste into the edge config."""
    lines = ["# paste into your edge config, then set each site to where the sensor is worn:"]
    for s in sensors:
        key = f'name = "{s.name}"' if s.name else f'address = "{s.address}"'
        lines += [
            "[[sensor]]",
            key,
            f'site = "{PLACEHOLDER_SITE}"  # where it is worn: left_calf, right_thumb, ...',
            f'driver = "{s.driver}"',
            "",
        ]
    return lines[:-1]


def format_found(sensors: Sequence[FoundSensor]) -> list[str]:
    """The lines ``edge scan`` prints: a table, or one line saying nothing was found."""
    if not sensors:
        return [
            f"no sensors found that a driver recognises ({', '.join(driver_names())}): are they "
            "switched on and near this computer?"
        ]
    width = max(len(name) for name in driver_names()) + 2
    lines = [f"{'address':<20}{'name':<22}{'driver':<{width}}{'rssi':>6}{'battery':>9}"]
    for s in sensors:
        battery = "?" if s.battery_pct is None else f"{s.battery_pct}%"
        lines.append(f"{s.address:<20}{s.name:<22}{s.driver:<{width}}{s.rssi:>6}{battery:>9}")
    return [*lines, "", *config_block(sensors)]
