"""The simulated BITalino (r)evolution BLE: the board's firmware and bridge (:mod:`.firmware`) on
a Bumble peripheral (:mod:`.peripheral`), started by :func:`firmware_sim.fleet.start_fleet` as
driver ``bitalino``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware_sim.bitalino.firmware import BitalinoFaults, BitalinoFirmware
from firmware_sim.bitalino.peripheral import SimulatedBitalino, bitalino_address, bitalino_name
from firmware_sim.errors import SimOptionsError
from firmware_sim.peripheral import Pace
from firmware_sim.physiology import SiteModel

if TYPE_CHECKING:
    from firmware_sim.fleet import FleetSpec, SimSensor
    from firmware_sim.radio import VirtualRadio

#: The board samples every channel at 1 kHz.
FS_HZ = 1000.0

__all__ = ["BitalinoFaults", "BitalinoFirmware", "SimulatedBitalino", "start_sensor"]


async def start_sensor(
    radio: VirtualRadio, sensor: SimSensor, fleet: FleetSpec, index: int
) -> SimulatedBitalino:
    """Power on and advertise a BITalino; the fleet's faults map onto the board's own: a dropped
    frame is one the board skips, a corrupt one is sent with a bit flipped."""
    options = sensor.options
    if options is not None and not isinstance(options, BitalinoFaults):
        raise SimOptionsError(sensor.driver, "BitalinoFaults", options)
    faults = options or BitalinoFaults(
        skip_prob=fleet.faults.drop_prob, corrupt_prob=fleet.faults.corrupt_prob
    )
    model = SiteModel(**fleet.physiology(sensor.site), emg_fs_hz=FS_HZ, acc_fs_hz=FS_HZ)
    firmware = BitalinoFirmware(
        sensor.site,
        model,
        seed=fleet.sensor_seed(index),
        faults=faults,
        drift_ppm=fleet.faults.drift_ppm,
    )
    device = radio.new_device(bitalino_name(index), bitalino_address(index))
    started = SimulatedBitalino(firmware, device, bitalino_name(index), Pace(fleet.speed))
    await started.start()
    return started
