"""One fleet starts every driver's simulated sensors; edge scan tells them apart by the registry."""

from __future__ import annotations

import asyncio

import pytest

from edge.ble.session import Backend
from edge.drivers import UnknownDriverError
from edge.scan import scan
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.errors import (
    FaultRateError,
    SimOptionsError,
    UnknownPersonalityError,
    UnknownPresetError,
    UnsupportedFaultError,
)
from firmware_sim.faults import Faults
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.polar_pmd import PolarOptions
from firmware_sim.radio import VirtualRadio
from twitchwatch.cli import main
from twitchwatch.contract import TwitchWatchError


def test_the_command_line_form_names_site_and_driver() -> None:
    assert SimSensor.parse("left_calf") == SimSensor("left_calf", "diy")
    assert SimSensor.parse("right_calf:polar_pmd") == SimSensor("right_calf", "polar_pmd")
    assert SimSensor.parse("right_calf:polar").driver == "polar_pmd"
    with pytest.raises(UnknownDriverError, match="unknown driver 'myo'"):
        SimSensor.parse("right_calf:myo")


async def test_one_fleet_serves_diy_and_polar_sensors_that_scan_apart() -> None:
    radio = VirtualRadio()
    spec = FleetSpec(
        (
            SimSensor("left_calf"),
            SimSensor("right_calf", "polar_pmd"),
            SimSensor("chest", "polar_pmd", PolarOptions("h10")),
        ),
        seed=3,
    )
    sensors = await start_fleet(radio, spec)
    adapter = BumbleAdapter(radio=radio)
    try:
        assert [(s.site, s.driver) for s in sensors] == [
            ("left_calf", "diy"),
            ("right_calf", "polar_pmd"),
            ("chest", "polar_pmd"),
        ]
        assert sensors[0].name == "TW-0001"
        assert sensors[1].name.startswith("Polar Sense ")
        assert sensors[2].name.startswith("Polar H10 ")
        classes = bumble_backend(adapter)
        found = await scan(Backend(classes.scanner, classes.client), 3.0)
        assert sorted((f.name, f.driver) for f in found) == sorted(
            (s.name, s.driver) for s in sensors
        )
    finally:
        await adapter.close()
        await close_fleet(sensors)
        await asyncio.sleep(0.05)  # let Bumble finish in-flight HCI exchanges


async def test_what_a_simulator_cannot_do_is_a_typed_error() -> None:
    radio = VirtualRadio()
    with pytest.raises(UnsupportedFaultError, match="polar_pmd simulator cannot inject corrupt"):
        await start_fleet(
            radio,
            FleetSpec((SimSensor("chest", "polar"),), faults=Faults(corrupt_prob=0.1)),
        )
    with pytest.raises(SimOptionsError, match="diy sensor options must be None"):
        await start_fleet(radio, FleetSpec((SimSensor("left_calf", options=PolarOptions()),)))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: FleetSpec((), preset="sleepy"), UnknownPresetError, "unknown preset 'sleepy'"),
        (lambda: PolarOptions("oh1"), UnknownPersonalityError, "personality 'oh1'"),
        (lambda: Faults(drop_prob=1.5), FaultRateError, "drop_prob must be in [0, 1), got 1.5"),
    ],
)
def test_bad_requests_are_one_line_errors(make, error, message: str) -> None:
    with pytest.raises(error) as raised:
        make()
    assert isinstance(raised.value, TwitchWatchError) and message in str(raised.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sim", "--preset", "sleepy"], "twitchwatch: unknown preset 'sleepy'"),
        (["sim", "--site", "left_calf:myo"], "twitchwatch: unknown driver 'myo'"),
        (["sim", "--drop", "2"], "twitchwatch: drop_prob must be in [0, 1), got 2.0"),
    ],
)
def test_sim_refuses_bad_requests_in_one_line(capsys, argv: list[str], message: str) -> None:
    assert main([*argv, "--hci", "127.0.0.1:0", "--seconds", "0"]) == 2
    assert capsys.readouterr().err.startswith(message)
