"""Several simulated sensors on one virtual radio, one per body site."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from firmware_sim.firmware import Faults, SensorFirmware
from firmware_sim.peripheral import Pace, SimulatedSensor, sensor_address
from firmware_sim.physiology import PRESETS, SiteModel
from firmware_sim.radio import VirtualRadio

#: The DIY reference sensor's rates.
EMG_FS_HZ = 2000.0
ACC_FS_HZ = 416.0


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What to simulate: sites, physiology preset, seed, pace and faults."""

    sites: tuple[str, ...]
    seed: int = 1
    preset: str = "rest"
    speed: float = 1.0
    faults: Faults = field(default_factory=Faults)
    emg_fs_hz: float = EMG_FS_HZ
    acc_fs_hz: float = ACC_FS_HZ
    #: Twitches per minute of rest at some sites, replacing the preset's rate there.
    rates: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(
                f"unknown preset {self.preset!r} (known: {', '.join(sorted(PRESETS))})"
            )


async def start_fleet(radio: VirtualRadio, spec: FleetSpec) -> list[SimulatedSensor]:
    """Power on and advertise one sensor per site; serials are TW-0001, TW-0002, …"""
    sensors = []
    for index, site in enumerate(spec.sites, start=1):
        params = dict(PRESETS[spec.preset])
        if site in spec.rates:
            params["twitch_rate_per_min"] = spec.rates[site]
        model = SiteModel(**params, emg_fs_hz=spec.emg_fs_hz, acc_fs_hz=spec.acc_fs_hz)
        firmware = SensorFirmware(site, model, seed=spec.seed * 1000 + index, faults=spec.faults)
        serial = f"SIM{index:04d}"
        device = radio.new_device(f"TW-{index:04d}", sensor_address(index))
        sensor = SimulatedSensor(firmware, device, serial, Pace(spec.speed))
        await sensor.start()
        sensors.append(sensor)
    return sensors


async def close_fleet(sensors: list[SimulatedSensor]) -> None:
    for sensor in sensors:
        await sensor.close()
