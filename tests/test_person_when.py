"""``--at``: the five shapes a person says a time in, read in their zone, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from person.errors import WhenError
from person.when import parse_when
from person.zone import system_zone, zone_label, zone_named

BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
#: A Sunday morning in Berlin (CET, UTC+1).
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("now", BERLIN, NOW),
        ("8:15", BERLIN, datetime(2026, 12, 6, 7, 15, tzinfo=UTC)),
        ("10:30", BERLIN, datetime(2026, 12, 6, 9, 30, tzinfo=UTC)),
        ("today 8:15", BERLIN, datetime(2026, 12, 6, 7, 15, tzinfo=UTC)),
        ("  Yesterday   20:00 ", BERLIN, datetime(2026, 12, 5, 19, 0, tzinfo=UTC)),
        ("yesterday 23:59:30", BERLIN, datetime(2026, 12, 5, 22, 59, 30, tzinfo=UTC)),
        ("2026-12-01 07:30", BERLIN, datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        ("2026-12-01T07:30", BERLIN, datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        # Los Angeles (UTC-8): 09:30 UTC is 01:30 there, still December 6th; in UTC its
        # yesterday evening is already the 6th.
        ("yesterday 20:00", LOS_ANGELES, datetime(2026, 12, 6, 4, 0, tzinfo=UTC)),
        ("1:00", LOS_ANGELES, datetime(2026, 12, 6, 9, 0, tzinfo=UTC)),
        # Summer time: the same wall clock is an hour nearer UTC.
        ("2026-07-01 20:00", BERLIN, datetime(2026, 7, 1, 18, 0, tzinfo=UTC)),
        (
            "2026-12-01 07:30",
            timezone(timedelta(hours=-3)),
            datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        ),
    ],
)
def test_each_shape_is_read_in_the_persons_zone(text, zone, expected) -> None:
    assert parse_when(text, NOW, zone) == expected


def test_yesterday_across_the_night_the_clocks_go_forward() -> None:
    # Monday 30 March 2026, 09:00 in Berlin (CEST): yesterday 20:00 was CEST too, 18:00 UTC;
    # a fixed offset taken from "now" would also say 18:00, but the day before at 01:00 was CET.
    now = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert parse_when("yesterday 20:00", now, BERLIN) == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)
    assert parse_when("yesterday 1:00", now, BERLIN) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


def test_a_wall_time_the_clocks_skip_is_refused() -> None:
    now = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    with pytest.raises(WhenError, match="does not exist in Europe/Berlin"):
        parse_when("yesterday 2:30", now, BERLIN)


def test_a_wall_time_that_happens_twice_is_the_first() -> None:
    now = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # the night of 25 October: 02:30 twice
    assert parse_when("yesterday 2:30", now, BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("20:00", "2026-12-06 20:00 has not come yet (for yesterday, say 'yesterday …')"),
        ("tomorrow 8:00", 'say "now", "20:00"'),
        ("8pm", 'say "now", "20:00"'),
        ("12/01 07:30", 'say "now", "20:00"'),
        ("25:00", "25:00 is not a time of day"),
        ("today 7:61", "7:61 is not a time of day"),
        ("2026-02-30 07:30", "2026-02-30 is not a date"),
        ("2027-01-01 07:30", "has not come yet"),
        ("2025-10-01 07:30", "more than 400 days ago"),
        ("", 'say "now"'),
    ],
)
def test_anything_else_is_one_line_naming_the_shapes(text, problem) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, NOW, BERLIN)
    message = str(caught.value)
    assert problem in message and message.startswith(f"--at {text!r}: ")
    assert "\n" not in message


def test_a_few_minutes_ahead_is_a_clock_that_runs_fast_not_the_future() -> None:
    assert parse_when("10:33", NOW, BERLIN) == NOW + timedelta(minutes=3)


def test_zones_by_name_and_the_systems_zone(tmp_path, monkeypatch) -> None:
    assert zone_named("Europe/Berlin") == BERLIN
    assert zone_named("localtime") is None and zone_named("../etc/passwd") is None
    assert zone_label(BERLIN) == "Europe/Berlin"
    assert zone_label(timezone(timedelta(hours=5, minutes=30))) == "UTC+05:30"
    monkeypatch.delenv("TZ", raising=False)
    (tmp_path / "localtime").symlink_to("/usr/share/zoneinfo/America/Los_Angeles")
    assert system_zone(tmp_path) == LOS_ANGELES
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert system_zone(tmp_path) == ZoneInfo("Asia/Tokyo")
    monkeypatch.setenv("TZ", "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "timezone").write_text("Europe/Lisbon\n")
    assert system_zone(empty) == ZoneInfo("Europe/Lisbon")
