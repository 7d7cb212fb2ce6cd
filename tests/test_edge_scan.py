"""``edge scan``: adverts recognised through the registry, printed as one table."""

from __future__ import annotations

import tomllib

from edge.config import load_config
from edge.drivers.bitalino import protocol as bitalino_proto
from edge.drivers.diy import protocol as diy_proto
from edge.scan import FoundSensor, format_found, recognise

DIY_DATA = {diy_proto.COMPANY_ID: diy_proto.encode_advert(battery_pct=88, streaming=True)}


def test_each_advert_becomes_a_sensor_of_the_driver_that_recognises_it() -> None:
    diy = recognise("F4:57:00:01:1B:83", "TW-0001", [diy_proto.SERVICE_UUID], DIY_DATA, -61)
    polar = recognise("E8:9F:00:03:50:1A", "Polar Sense B5A2B12E", [], {}, -70)
    assert diy == FoundSensor("F4:57:00:01:1B:83", "TW-0001", "diy", -61, 88)
    assert polar == FoundSensor("E8:9F:00:03:50:1A", "Polar Sense B5A2B12E", "polar_pmd", -70, None)
    bitalino = recognise("20:19:07:00:7A:11", "BITalino-7A-11", [], {}, -66)
    assert bitalino == FoundSensor("20:19:07:00:7A:11", "BITalino-7A-11", "bitalino", -66, None)
    # The BT121 firmware's own name, and a board found by its data service alone.
    assert recognise("A", "BiTalino BLE", [], {}, -66).driver == "bitalino"  # type: ignore[union-attr]
    by_uuid = recognise("A", None, [bitalino_proto.SERVICE_UUID], {}, -66)
    assert by_uuid is not None and by_uuid.driver == "bitalino"
    assert recognise("AA:BB:CC:DD:EE:FF", "Headphones", [], {0x004C: b"\x10"}, -50) is None
    assert recognise("AA:BB:CC:DD:EE:FF", None, [diy_proto.SERVICE_UUID], {}, -50) == FoundSensor(
        "AA:BB:CC:DD:EE:FF", "", "diy", -50, None
    )


def test_the_table_has_one_aligned_row_per_sensor() -> None:
    lines = format_found(
        [
            FoundSensor("E8:9F:00:03:50:1A", "Polar Sense B5A2B12E", "polar_pmd", -70, None),
            FoundSensor("F4:57:00:01:1B:83", "TW-0001", "diy", -61, 88),
        ]
    )
    assert lines[:3] == [
        "address             name                  driver       rssi  battery",
        "E8:9F:00:03:50:1A   Polar Sense B5A2B12E  polar_pmd     -70        ?",
        "F4:57:00:01:1B:83   TW-0001               diy           -61      88%",
    ]


def test_the_config_block_pastes_into_a_config_that_loads(tmp_path) -> None:
    found = [
        FoundSensor("20:19:07:00:7A:11", "BITalino-7A-11", "bitalino", -66, None),
        FoundSensor("F4:57:00:01:1B:83", "", "diy", -61, 88),
    ]
    lines = format_found(found)
    block = "\n".join(lines[lines.index("") + 1 :])
    assert block.startswith("# paste into your edge config")
    assert tomllib.loads(block)["sensor"][0] == {
        "name": "BITalino-7A-11",
        "site": "left_calf",
        "driver": "bitalino",
    }
    path = tmp_path / "edge.toml"
    path.write_text(block + "\n")
    sensors = load_config(path).sensors
    assert [(s.sensor, s.driver) for s in sensors] == [
        ("BITalino-7A-11", "bitalino"),
        ("F4:57:00:01:1B:83", "diy"),
    ]


def test_nothing_found_is_one_line_naming_the_drivers() -> None:
    (line,) = format_found([])
    assert line.startswith("no sensors found that a driver recognises (bitalino, diy, polar_pmd)")
