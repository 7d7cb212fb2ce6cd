"""``edge scan``: adverts recognised through the registry, printed as one table."""

from __future__ import annotations

from edge.drivers.diy import protocol as diy_proto
from edge.scan import FoundSensor, format_found, recognise

DIY_DATA = {diy_proto.COMPANY_ID: diy_proto.encode_advert(battery_pct=88, streaming=True)}


def test_each_advert_becomes_a_sensor_of_the_driver_that_recognises_it() -> None:
    diy = recognise("F4:57:00:01:1B:83", "TW-0001", [diy_proto.SERVICE_UUID], DIY_DATA, -61)
    polar = recognise("E8:9F:00:03:50:1A", "Polar Sense B5A2B12E", [], {}, -70)
    assert diy == FoundSensor("F4:57:00:01:1B:83", "TW-0001", "diy", -61, 88)
    assert polar == FoundSensor("E8:9F:00:03:50:1A", "Polar Sense B5A2B12E", "polar_pmd", -70, None)
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
    assert lines == [
        "address             name                  driver       rssi  battery",
        "E8:9F:00:03:50:1A   Polar Sense B5A2B12E  polar_pmd     -70        ?",
        "F4:57:00:01:1B:83   TW-0001               diy           -61      88%",
    ]


def test_nothing_found_is_one_line_naming_the_drivers() -> None:
    (line,) = format_found([])
    assert line.startswith("no sensors found that a driver recognises (diy, polar_pmd)")
