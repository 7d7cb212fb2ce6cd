"""Sensor drivers as plug-ins: one package per protocol, listed in :mod:`edge.drivers.registry`.

Importing this package, the registry or a driver's description imports no numpy and no bleak;
the driver interface (:mod:`edge.drivers.base`) is loaded when one of its names is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.drivers.registry import (
    DEFAULT_DRIVER,
    AdvertDetails,
    DriverInfo,
    UnknownDriverError,
    driver_class,
    driver_info,
    driver_names,
    drivers,
    recognising,
)

if TYPE_CHECKING:
    from edge.drivers.base import DriverError, FrameError, SensorDriver, StreamSpec

__all__ = [
    "DEFAULT_DRIVER",
    "AdvertDetails",
    "DriverError",
    "DriverInfo",
    "FrameError",
    "SensorDriver",
    "StreamSpec",
    "UnknownDriverError",
    "driver_class",
    "driver_info",
    "driver_names",
    "drivers",
    "recognising",
]

_FROM_BASE = frozenset({"DriverError", "FrameError", "SensorDriver", "StreamSpec"})


def __getattr__(name: str) -> object:
    # The interface imports numpy: load it on first use, so the registry stays cheap (PEP 562).
    if name in _FROM_BASE:
        from edge.drivers import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
