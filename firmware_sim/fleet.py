"""Simulated sensors of any driver on one virtual radio, started from one spec.

Each driver in the edge's registry may have a simulator, the package ``firmware_sim/<driver>/``
(same name), which provides ``start_sensor(radio, sensor, fleet, index)``: nothing here names a
driver, so a new driver's simulator needs no line in this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, cast

from edge.drivers import DEFAULT_DRIVER, driver_info
from firmware_sim.errors import NoSimulatorError, UnknownPresetError
from firmware_sim.faults import Faults
from firmware_sim.peripheral import SimulatedPeripheral
from firmware_sim.physiology import PRESETS
from firmware_sim.radio import VirtualRadio


@dataclass(frozen=True, slots=True)
class SimSensor:
    """One simulated sensor: its body site, its driver's registry name, that simulator's options."""

    site: str
    driver: str = DEFAULT_DRIVER  # an alias ("polar") becomes the canonical name
    options: object | None = None  # e.g. firmware_sim.polar_pmd.PolarOptions; None: defaults

    def __post_init__(self) -> None:
        object.__setattr__(self, "driver", driver_info(self.driver).name)

    @classmethod
    def parse(cls, text: str) -> SimSensor:
        """The command line's form: ``left_calf`` (the default driver) or ``right_calf:polar_pmd``."""
        site, _, driver = text.partition(":")
        return cls(site, driver or DEFAULT_DRIVER)


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What to simulate: the sensors, and the physiology, seed, pace and faults they share."""

    sensors: tuple[SimSensor, ...]
    seed: int = 1
    preset: str = "rest"
    speed: float = 1.0
    #: Applied to every sensor; a simulator refuses a fault it cannot inject.
    faults: Faults = field(default_factory=Faults)
    #: Twitches per minute of rest at some sites, replacing the preset's rate there.
    rates: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise UnknownPresetError(self.preset, sorted(PRESETS))

    def physiology(self, site: str) -> dict[str, float]:
        """``SiteModel`` parameters of ``site``: the preset, with the site's rate if given."""
        params = dict(PRESETS[self.preset])
        if site in self.rates:
            params["twitch_rate_per_min"] = self.rates[site]
        return params

    def sensor_seed(self, index: int) -> int:
        """The seed of the ``index``-th sensor (1-based): distinct per sensor, stable per fleet."""
        return self.seed * 1000 + index


class Simulator(Protocol):
    """What ``firmware_sim/<driver>/__init__.py`` provides."""

    async def start_sensor(
        self, radio: VirtualRadio, sensor: SimSensor, fleet: FleetSpec, index: int
    ) -> SimulatedPeripheral:
        """Power on and advertise the ``index``-th sensor (1-based) of ``fleet``."""
        ...


def simulator(driver: str) -> Simulator:
    """The simulator package of a driver, found by its registry name."""
    name = f"firmware_sim.{driver_info(driver).name}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the simulator exists but something it imports does not
        raise NoSimulatorError(driver) from None
    return cast(Simulator, module)


async def start_fleet(radio: VirtualRadio, spec: FleetSpec) -> list[SimulatedPeripheral]:
    """Power on and advertise every sensor of ``spec``, numbered from 1 in its order."""
    sensors = []
    for index, sensor in enumerate(spec.sensors, start=1):
        sensors.append(await simulator(sensor.driver).start_sensor(radio, sensor, spec, index))
    return sensors


async def close_fleet(sensors: list[SimulatedPeripheral]) -> None:
    for sensor in sensors:
        await sensor.close()
