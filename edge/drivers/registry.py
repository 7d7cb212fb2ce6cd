"""The one list of sensor drivers, as bleak lists its backends: what each is called, what it
streams, how to recognise its advertisements, and where its code is.

A driver is a package under ``edge/drivers/`` whose ``__init__`` declares ``DRIVER``, a
:class:`DriverInfo`. The description is cheap to import (no numpy, no bleak), so that listing
drivers or checking a config costs nothing; the driver's class is imported when a sensor of its
kind connects. ``edge scan``, the session's sensor search and the config's ``driver =`` all look
drivers up here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge.errors import UnknownDriverError
from twitchwatch.contract import Kind

if TYPE_CHECKING:
    from edge.drivers.base import SensorDriver

#: The driver packages, in the order a scan asks them whether they recognise an advertisement.
#: Adding a driver adds its package here: the only line outside its own folder.
DRIVER_PACKAGES = ("edge.drivers.diy", "edge.drivers.polar_pmd", "edge.drivers.bitalino")
#: The driver of a sensor whose config names none: the DIY reference sensor.
DEFAULT_DRIVER = "diy"


@dataclass(frozen=True, slots=True)
class AdvertDetails:
    """What an advertisement says about a sensor before anyone connects to it."""

    battery_pct: int | None = None


#: ``recognises(name, service_uuids, manufacturer_data)``: pure, True if the advertisement is a
#: sensor of this driver. ``name`` is the advertised local name (None if absent), UUIDs are
#: lower-case strings, manufacturer data maps a company id to its bytes (as bleak gives them).
Recogniser = Callable[[str | None, Sequence[str], Mapping[int, bytes]], bool]
#: ``advert_details(manufacturer_data)``: what the driver's manufacturer data tells, unconnected.
AdvertReader = Callable[[Mapping[int, bytes]], AdvertDetails]


@dataclass(frozen=True, slots=True)
class DriverInfo:
    """A driver as the registry knows it, declared by its package as ``DRIVER``."""

    name: str  # the config key: driver = "diy"
    description: str  # one line for people
    streams: frozenset[Kind]  # what its sensors send
    driver_class: str  # "module:Class", imported only when a sensor connects
    recognises: Recogniser
    aliases: tuple[str, ...] = ()  # other names a config may use; they resolve to ``name``
    advert_details: AdvertReader | None = None

    def __post_init__(self) -> None:
        if not self.streams:
            raise ValueError(f"driver {self.name!r} streams nothing")
        if self.driver_class.count(":") != 1:
            raise ValueError(f"driver {self.name!r}: driver_class must be 'module:Class'")

    def load(self) -> type[SensorDriver]:
        """The driver's class (imports its module, and with it numpy)."""
        module_name, class_name = self.driver_class.split(":")
        return getattr(importlib.import_module(module_name), class_name)

    def details(self, manufacturer_data: Mapping[int, bytes]) -> AdvertDetails:
        if self.advert_details is None:
            return AdvertDetails()
        return self.advert_details(manufacturer_data)


def drivers() -> tuple[DriverInfo, ...]:
    """Every registered driver, in scan order."""
    return tuple(importlib.import_module(package).DRIVER for package in DRIVER_PACKAGES)


def driver_names() -> list[str]:
    """The canonical names, sorted (aliases left out)."""
    return sorted(info.name for info in drivers())


def driver_info(name: str) -> DriverInfo:
    """The driver called ``name`` or known by it as an alias (``polar`` -> ``polar_pmd``)."""
    for info in drivers():
        if name == info.name or name in info.aliases:
            return info
    raise UnknownDriverError(name, driver_names())


def driver_class(name: str) -> type[SensorDriver]:
    """The class of the driver called ``name`` (or an alias of it), imported now."""
    return driver_info(name).load()


def recognising(
    name: str | None, service_uuids: Sequence[str], manufacturer_data: Mapping[int, bytes]
) -> list[DriverInfo]:
    """The drivers that recognise an advertisement as one of their sensors, in scan order."""
    uuids = [uuid.lower() for uuid in service_uuids]
    return [info for info in drivers() if info.recognises(name, uuids, manufacturer_data)]
