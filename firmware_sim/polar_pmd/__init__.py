"""The simulated Polar Verity Sense and H10: PMD firmware (:mod:`.firmware`) on a Bumble
peripheral (:mod:`.peripheral`), started by :func:`firmware_sim.fleet.start_fleet` as driver
``polar_pmd``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware_sim.errors import SimOptionsError, UnknownPersonalityError, UnsupportedFaultError
from firmware_sim.peripheral import Pace
from firmware_sim.polar_pmd.firmware import PERSONALITIES, PolarFaults, PolarFirmware
from firmware_sim.polar_pmd.peripheral import (
    SimulatedPolarSensor,
    polar_address,
    polar_device_id,
)

if TYPE_CHECKING:
    from firmware_sim.fleet import FleetSpec, SimSensor
    from firmware_sim.radio import VirtualRadio

#: Polar device clocks count ns from 2000-01-01T00:00:00Z; the Unix epoch is this much earlier.
UNIX_TO_POLAR_EPOCH_NS = 946_684_800 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class PolarOptions:
    """Which Polar model to simulate, and its own faults (None: the fleet's drop rate)."""

    personality: str = "verity"  # a key of PERSONALITIES: "verity" or "h10"
    faults: PolarFaults | None = None

    def __post_init__(self) -> None:
        if self.personality not in PERSONALITIES:
            raise UnknownPersonalityError(self.personality, list(PERSONALITIES))


async def start_sensor(
    radio: VirtualRadio, sensor: SimSensor, fleet: FleetSpec, index: int
) -> SimulatedPolarSensor:
    """Power on and advertise a simulated Polar sensor (a Verity Sense unless told otherwise)."""
    options = PolarOptions() if sensor.options is None else sensor.options
    if not isinstance(options, PolarOptions):
        raise SimOptionsError(sensor.driver, "PolarOptions", options)
    # The simulated PMD link loses frames but never mangles them, and its clock does not drift.
    for fault in ("corrupt_prob", "drift_ppm"):
        if getattr(fleet.faults, fault):
            raise UnsupportedFaultError(sensor.driver, fault)
    faults = options.faults
    if faults is None:
        faults = PolarFaults(drop_prob=fleet.faults.drop_prob)
    firmware = PolarFirmware(
        sensor.site,
        PERSONALITIES[options.personality],
        fleet.preset,
        seed=fleet.sensor_seed(index),
        faults=faults,
        # The device clock was set by its phone app at some point: it reads host UTC.
        boot_ns=time.time_ns() - UNIX_TO_POLAR_EPOCH_NS,
        twitch_rate_per_min=fleet.rates.get(sensor.site),
    )
    device_id = polar_device_id(fleet.seed, index)
    device = radio.new_device(f"Polar-{device_id}", polar_address(index))
    started = SimulatedPolarSensor(firmware, device, device_id, Pace(fleet.speed))
    await started.start()
    return started
