"""Sensor drivers, one protocol per module. :func:`driver_class` maps a config name to a class."""

from __future__ import annotations

import importlib

from edge.drivers.base import DriverError, FrameError, SensorDriver, StreamSpec

__all__ = ["DRIVERS", "DriverError", "FrameError", "SensorDriver", "StreamSpec", "driver_class"]

#: Config name -> "module:Class", imported only when used.
DRIVERS: dict[str, str] = {
    "diy": "edge.drivers.diy.driver:DiyDriver",
    "polar": "edge.drivers.polar_pmd.driver:PolarDriver",
}


class UnknownDriverError(DriverError):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"unknown driver (known: {', '.join(sorted(DRIVERS))})")


def driver_class(name: str) -> type[SensorDriver]:
    try:
        module_name, class_name = DRIVERS[name].split(":")
    except KeyError:
        raise UnknownDriverError(name) from None
    return getattr(importlib.import_module(module_name), class_name)
