"""The live view and the log lines, rendered from plain figures: no Bluetooth, no broker."""

from __future__ import annotations

import dataclasses

from rich.console import Console

from edge.ble.session import SessionState
from edge.publisher import BrokerState
from edge.views import (
    FOOTER,
    NOT_FOUND_ADVICE,
    SensorFigures,
    Snapshot,
    UplinkFigures,
    View,
    choose_view,
    final_lines,
    render_live,
    sensor_changes,
    summary_line,
    uplink_changes,
)
from twitchwatch.contract import Reason

HEALTHY = SensorFigures(
    sensor="TW-0001",
    site="left_calf",
    driver="diy",
    state=SessionState.STREAMING,
    connects=1,
    battery_pct=87,
    emg_hz=2000.0,
    acc_hz=416.0,
    lost_pct=0.25,
    gap_s=0.4,
    twitches=37,
    rest_s=190.0,
    per_min=11.7,
    cramps=1,
    excluded_s={Reason.VOLUNTARY: 12.0, Reason.MOTION: 3.0},
)
NOT_FOUND = SensorFigures(
    "TW-0002",
    "right_thumb",
    "polar_pmd",
    SessionState.BACKOFF,
    not_found=True,
    last_error="sensor 'TW-0002' not found within 10 s: …",
    failures=2,
)
UPLINK = UplinkFigures("mqtt://10.0.0.2:1883", BrokerState.CONNECTED, 12, 11, 1)


def screen(*sensors: SensorFigures, uplink: UplinkFigures | None = None) -> str:
    console = Console(record=True, width=140, color_system=None)
    console.print(render_live(Snapshot(sensors, uplink, 75.0)))
    return console.export_text()


def test_a_healthy_sensor_shows_its_link_and_detector_figures() -> None:
    text = screen(HEALTHY, uplink=UPLINK)
    row = next(line for line in text.splitlines() if "streaming" in line)
    cells = row.strip("│ ").split("│")
    assert [c.strip() for c in cells] == [
        "streaming", "87%", "2,000", "416", "0.2%", "0.4", "37", "190 s", "11.7", "1", "15 s",
    ]  # fmt: skip
    assert "left_calf" in text and "TW-0001 · diy" in text
    assert "broker mqtt://10.0.0.2:1883: connected (sent 12, acked up to seq 11, 1 waiting" in text
    assert FOOTER in text and "1:15" in text


def test_a_sensor_out_of_range_says_what_to_check() -> None:
    text = screen(HEALTHY, NOT_FOUND)
    assert NOT_FOUND_ADVICE in text
    assert "not found" in next(line for line in text.splitlines() if "│" in line and "-" in line)
    assert text.index("left_calf") < text.index("right_thumb")  # the order it was given


def test_backoff_and_unreachable_show_the_last_error() -> None:
    backoff = dataclasses.replace(
        HEALTHY, state=SessionState.BACKOFF, last_error="no data for 2.0 s; reconnecting"
    )
    unreachable = dataclasses.replace(
        HEALTHY,
        state=SessionState.UNREACHABLE,
        failures=6,
        unreachable=True,
        last_error="GATT write refused",
    )
    assert "backoff: no data for 2.0 s; reconnecting" in screen(backoff)
    assert "unreachable after 6 attempts: GATT write refused; still retrying" in screen(unreachable)


def test_an_unreachable_broker_says_windows_are_kept() -> None:
    offline = dataclasses.replace(UPLINK, state=BrokerState.UNREACHABLE, pending=5)
    text = screen(HEALTHY, uplink=offline)
    assert "broker mqtt://10.0.0.2:1883: unreachable, retrying; windows are kept, not lost" in text
    assert "5 waiting in the outbox" in text


def test_log_lines_say_each_state_change_once_not_each_retry() -> None:
    scanning = SensorFigures("TW-0002", "right_thumb", "polar_pmd", SessionState.SCANNING)
    retries = [NOT_FOUND, dataclasses.replace(NOT_FOUND, state=SessionState.SCANNING)] * 3
    unreachable = dataclasses.replace(
        NOT_FOUND, state=SessionState.UNREACHABLE, failures=6, unreachable=True
    )
    # Between attempts the state flips back to scanning: still one line, not one per attempt.
    rescanning = dataclasses.replace(unreachable, state=SessionState.SCANNING, failures=7)
    found = dataclasses.replace(
        HEALTHY, sensor="TW-0002", site="right_thumb", driver="polar_pmd", battery_pct=60
    )
    lost = dataclasses.replace(found, state=SessionState.BACKOFF, last_error="link lost")
    back = dataclasses.replace(found, connects=2)
    lines: list[str] = []
    before = None
    for figures in [
        scanning,
        *retries,
        unreachable,
        rescanning,
        unreachable,
        found,
        found,
        lost,
        back,
    ]:
        lines += sensor_changes(before, figures)
        before = figures
    assert lines == [
        f"TW-0002 (right_thumb): {NOT_FOUND_ADVICE} (still looking)",
        "TW-0002 (right_thumb): still not found after 6 attempts; retrying, less often",
        "TW-0002 (right_thumb): connected (polar_pmd, battery 60%)",
        "TW-0002 (right_thumb): link lost (link lost); reconnecting",
        "TW-0002 (right_thumb): reconnected (polar_pmd, battery 60%)",
    ]
    stopped = dataclasses.replace(back, state=SessionState.STOPPED)
    assert sensor_changes(back, stopped) == []  # the end of the run is not a lost link


def test_a_connect_failure_is_logged_once_per_new_error() -> None:
    failing = SensorFigures(
        "TW-0001", "left_calf", "diy", SessionState.BACKOFF, last_error="connect timed out"
    )
    assert sensor_changes(None, failing) == [
        "TW-0001 (left_calf): could not connect: connect timed out; retrying"
    ]
    assert sensor_changes(failing, dataclasses.replace(failing, failures=3)) == []


def test_summary_and_uplink_lines_are_plain_text() -> None:
    line = summary_line(HEALTHY)
    assert line == (
        "TW-0001 (left_calf): streaming, EMG 2,000 Hz, ACC 416 Hz, lost 0.2%, gap 0.4 s, "
        "battery 87%; 37 twitches in 190 s of rest (11.7/min), 1 cramp, "
        "excluded: voluntary 12 s, motion 3 s"
    )
    assert summary_line(NOT_FOUND) == f"TW-0002 (right_thumb): {NOT_FOUND_ADVICE}"
    offline = dataclasses.replace(UPLINK, state=BrokerState.UNREACHABLE)
    assert uplink_changes(None, dataclasses.replace(UPLINK, state=BrokerState.CONNECTING)) == []
    assert uplink_changes(UPLINK, UPLINK) == []
    [changed] = uplink_changes(UPLINK, offline)
    assert "unreachable, retrying; windows are kept, not lost" in changed
    assert not any("\x1b" in text for text in (line, changed))


def test_the_final_summary_names_a_sensor_never_found() -> None:
    never = dataclasses.replace(NOT_FOUND, state=SessionState.STOPPED)
    lines = final_lines(Snapshot((HEALTHY, never), UPLINK, 30.4))
    assert lines[1] == (
        "TW-0002 (right_thumb) was never found in 30 s: is it switched on, charged and within "
        "a few metres?"
    )
    assert lines[0].startswith("TW-0001 (left_calf): EMG 2,000 Hz")
    assert lines[2].startswith("broker mqtt://10.0.0.2:1883 (connected at the end): sent 12")
    assert lines[2].endswith("1 waiting in the outbox; the next run sends what waits")
    assert lines[-1] == "1 of 2 sensors streamed; every lost sample is counted as a gap."


def test_auto_view_follows_the_terminal() -> None:
    assert choose_view("auto", isatty=True) is View.LIVE
    assert choose_view("auto", isatty=False) is View.LOG
    assert choose_view("live", isatty=False) is View.LIVE
