"""The driver registry: one place that names drivers, resolves aliases and recognises adverts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.ble.session import SensorConfig
from edge.config import ConfigError, load_config
from edge.drivers import (
    DEFAULT_DRIVER,
    UnknownDriverError,
    driver_class,
    driver_info,
    driver_names,
    drivers,
    recognising,
)
from edge.drivers.diy import DRIVER as DIY
from edge.drivers.diy import protocol as diy_proto
from edge.drivers.polar_pmd import DRIVER as POLAR_PMD
from edge.drivers.polar_pmd import protocol as pmd
from twitchwatch.contract import Kind

DIY_ADVERT = ("TW-0001", [diy_proto.SERVICE_UUID], {})


def test_names_are_canonical_and_aliases_resolve_to_them() -> None:
    assert driver_names() == ["bitalino", "diy", "polar_pmd"]
    assert driver_info("polar") is driver_info("polar_pmd") is POLAR_PMD
    assert SensorConfig("Polar Sense 1", "left_calf", "polar").driver == "polar_pmd"
    assert SensorConfig("TW-0001", "left_calf").driver == DEFAULT_DRIVER == DIY.name


def test_every_name_and_alias_is_unique_and_loads_a_driver_of_that_name() -> None:
    keys = [key for info in drivers() for key in (info.name, *info.aliases)]
    assert len(keys) == len(set(keys))
    for info in drivers():
        assert driver_class(info.name).name == info.name
        assert info.description and "\n" not in info.description


def test_drivers_say_what_they_stream() -> None:
    assert DIY.streams == {Kind.EMG, Kind.ACC}
    assert POLAR_PMD.streams == {Kind.ACC}


def test_an_unknown_name_lists_the_canonical_names() -> None:
    with pytest.raises(UnknownDriverError) as error:
        driver_info("myo")
    assert str(error.value) == "unknown driver 'myo' (known: bitalino, diy, polar_pmd)"
    assert error.value.name == "myo" and error.value.known == ("bitalino", "diy", "polar_pmd")


def test_a_config_may_use_the_alias_and_gets_the_canonical_name(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text('[[sensor]]\nname = "Polar H10 0A3BC2D1"\nsite = "chest"\ndriver = "polar"\n')
    assert load_config(path).sensors[0].driver == "polar_pmd"


def test_a_misspelt_alias_gets_the_canonical_name_suggested(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text('[[sensor]]\nname = "a"\nsite = "chest"\ndriver = "polarr"\n')
    with pytest.raises(
        ConfigError,
        match=r"unknown driver 'polarr': did you mean 'polar_pmd'\? \(known: bitalino, diy, polar_pmd\)",
    ):
        load_config(path)


@pytest.mark.parametrize(
    ("advert", "expected"),
    [
        (DIY_ADVERT, ["diy"]),
        (("TW-0001-l_calf", [diy_proto.SERVICE_UUID.upper()], {}), ["diy"]),
        (("Polar Sense B5A2B12E", [], {}), ["polar_pmd"]),  # the PMD UUID only in the scan response
        (("Polar H10 0A3BC2D1", [], {}), ["polar_pmd"]),
        ((None, [pmd.SERVICE_UUID], {}), ["polar_pmd"]),
        (("Polar Loop", [], {}), []),
        (("Headphones", ["0000180f-0000-1000-8000-00805f9b34fb"], {0x004C: b"\x02"}), []),
        ((None, [], {}), []),
    ],
)
def test_adverts_are_recognised_by_their_driver_only(advert, expected) -> None:
    assert [info.name for info in recognising(*advert)] == expected


def test_the_diy_advert_tells_the_battery_before_connecting() -> None:
    data = {diy_proto.COMPANY_ID: diy_proto.encode_advert(battery_pct=73, streaming=False)}
    assert DIY.details(data).battery_pct == 73
    assert DIY.details({}).battery_pct is None
    assert DIY.details({diy_proto.COMPANY_ID: b"\x01"}).battery_pct is None  # not our layout
    assert POLAR_PMD.details(data).battery_pct is None  # Polar adverts carry no battery


def test_listing_drivers_imports_neither_numpy_nor_bleak() -> None:
    code = (
        "import sys, edge.drivers as d; d.drivers(); d.driver_info('polar'); "
        "print(sorted({'numpy', 'bleak', 'bumble'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
