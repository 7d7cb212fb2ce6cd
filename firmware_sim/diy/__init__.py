"""The simulated DIY sensor: its firmware (:mod:`.firmware`) on a Bumble peripheral
(:mod:`.peripheral`), started by :func:`firmware_sim.fleet.start_fleet` as driver ``diy``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware_sim.diy.firmware import DiyFirmware
from firmware_sim.diy.peripheral import SimulatedDiySensor, sensor_address
from firmware_sim.errors import SimOptionsError
from firmware_sim.peripheral import Pace
from firmware_sim.physiology import SiteModel

if TYPE_CHECKING:
    from firmware_sim.fleet import FleetSpec, SimSensor
    from firmware_sim.radio import VirtualRadio

#: The DIY reference sensor's rates (hardware/README.md §3.3).
EMG_FS_HZ = 2000.0
ACC_FS_HZ = 416.0


async def start_sensor(
    radio: VirtualRadio, sensor: SimSensor, fleet: FleetSpec, index: int
) -> SimulatedDiySensor:
    """Power on and advertise a DIY sensor; serials are TW-0001, TW-0002, … by fleet position."""
    if sensor.options is not None:
        raise SimOptionsError(sensor.driver, "None", sensor.options)
    model = SiteModel(**fleet.physiology(sensor.site), emg_fs_hz=EMG_FS_HZ, acc_fs_hz=ACC_FS_HZ)
    firmware = DiyFirmware(sensor.site, model, seed=fleet.sensor_seed(index), faults=fleet.faults)
    device = radio.new_device(f"TW-{index:04d}", sensor_address(index))
    started = SimulatedDiySensor(firmware, device, f"SIM{index:04d}", Pace(fleet.speed))
    await started.start()
    return started
