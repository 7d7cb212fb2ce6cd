"""Polar Verity Sense and Polar H10 over Polar Measurement Data (PMD): the control point
(:mod:`.protocol`), data frames (:mod:`.frames`) and the driver (:mod:`.driver`).

This module is the driver's description for the registry; it imports the protocol (and numpy)
only when a scan asks about an advertisement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edge.drivers.registry import DriverInfo
from twitchwatch.contract import Kind

#: Polar sensors advertise "Polar Sense <id>" (Verity Sense) or "Polar H10 <id>".
ADVERTISED_NAME_PREFIXES = ("Polar Sense ", "Polar H10 ")


def recognises(
    name: str | None, service_uuids: Sequence[str], manufacturer_data: Mapping[int, bytes]
) -> bool:
    """A Polar PMD sensor: its PMD service UUID or its model name.

    The PMD UUID may be only in the scan response, so a UUID-only filter can miss them.
    """
    from edge.drivers.polar_pmd.protocol import SERVICE_UUID

    return SERVICE_UUID in service_uuids or (name or "").startswith(ADVERTISED_NAME_PREFIXES)


DRIVER = DriverInfo(
    name="polar_pmd",
    description="Polar Verity Sense or H10 (Polar Measurement Data): accelerometer only",
    streams=frozenset({Kind.ACC}),
    driver_class="edge.drivers.polar_pmd.driver:PolarDriver",
    recognises=recognises,
    aliases=("polar",),
)
