"""A realistic ten-week story stored through the real Store API, for `twitchwatch report`.

Used by tests/test_report.py, and runnable to render the sample page::

    .venv/bin/python -m tests.report_history /tmp/report_sample/report.html

Windows go in as the edge sends them (hourly WindowMessages of one device, every site of the
day in each), reports as the server stores them, and alerts as the pure replay of the rules
(tests/histories.py) leaves them, saved through the store's alert methods.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from math import ceil
from pathlib import Path

from server.rules import RuleConfig, load_rule_config
from server.store import Store, open_store
from support.histories import HistoryBuilder, Scenario, replay
from twitchwatch.contract import ReportKind, SiteWindow, WindowMessage

WINDOW_S = 3600.0
FIRST_WINDOW = time(7, 0)
SCRIPT_NOTE = "<script>alert(1)</script> & a second coffee"
RECEIVED = datetime(2027, 1, 1, tzinfo=UTC)

#: Night cramps in the left calf: (day index, site) -> cramps that day.
CRAMPS: dict[tuple[int, str], int] = {
    (5, "left_calf"): 2,
    (6, "left_calf"): 1,
    (19, "left_calf"): 1,
    (33, "left_calf"): 3,
    (47, "left_calf"): 1,
    (54, "right_hand"): 1,
}


def story(user: str = "ada", *, seed: int = 11) -> Scenario:
    """Ten weeks: a calf twitching from the start, the right hand from week 4, then weakness.

    The eyelids twitch for a few weeks (common, not counted for its region); the calf sensor
    stays in a drawer for five days and is barely worn on two more (no data, not zero); the
    tongue is worn and still throughout. Context: coffee, short nights, stress, weekend runs.
    """
    n = 70
    b = HistoryBuilder(n, user=user, seed=seed)
    b.wear("left_calf", rate_per_min=lambda i: 1.2 + 0.01 * i)
    b.unworn("left_calf", 22, 27).barely_worn("left_calf", 40, 42)
    b.wear("right_hand", rate_per_min=0.7, twitch_days=range(28, n))
    b.wear("tongue", rate_per_min=0.0, rest_h=3.0)
    b.wear("left_eyelid", 10, 38, rate_per_min=1.0, rest_h=4.0)
    for i in range(5, n, 7):  # Saturday runs
        b.activity(i, 1.4, site="left_calf" if not 22 <= i < 27 else "right_hand")
        b.report(i, ReportKind.EXERCISE, note="10 km run", hour=18)
    for i in range(0, n, 3):
        b.report(i, ReportKind.CAFFEINE, value=1 + (i // 3) % 3, hour=9)
    for i in (12, 13, 30, 31, 32):
        b.report(i, ReportKind.SLEEP, value=5.0, hour=7)
    b.report(30, ReportKind.STRESS, value=8, note="deadline at work")
    b.report(36, ReportKind.CAFFEINE, value=4, note=SCRIPT_NOTE, hour=15)
    b.report(44, ReportKind.NUMBNESS, site="left_calf", note="tingling after sitting long")
    b.report(52, ReportKind.WEAKNESS, site="right_hand", note="hard to open jars")
    return b.build()


def window_messages(
    scenario: Scenario, cramps: Mapping[tuple[int, str], int] = CRAMPS
) -> list[WindowMessage]:
    """Each day's rows as hourly windows of one device from 07:00; a day's cramps go in its first."""
    device = f"pi-{scenario.user}"
    by_day: dict[int, list] = {}
    for row in scenario.days:
        by_day.setdefault((row.day - scenario.start).days, []).append(row)
    messages = []
    for i in sorted(by_day):
        rows = by_day[i]
        hours = [ceil((r.rest_s + r.active_s) / WINDOW_S) for r in rows]
        for h in range(max(hours)):
            start = datetime.combine(scenario.day(i), FIRST_WINDOW, tzinfo=UTC) + timedelta(hours=h)
            sites = {}
            for r, n in zip(rows, hours, strict=True):
                if h >= n:
                    continue
                twitches = r.twitches // n + (1 if h < r.twitches % n else 0)
                rest, active = r.rest_s / n, r.active_s / n
                n_cramps = cramps.get((i, r.site), 0) if h == 0 else 0
                sites[r.site] = SiteWindow(
                    twitches, n_cramps, rest, active, WINDOW_S - rest - active, 80.0, "uV"
                )
            end = start + timedelta(seconds=WINDOW_S)
            messages.append(
                WindowMessage(scenario.user, device, len(messages) + 1, start, end, sites)
            )
    return messages


def store_story(
    store: Store,
    scenario: Scenario,
    config: RuleConfig,
    cramps: Mapping[tuple[int, str], int] = CRAMPS,
) -> None:
    """Store the scenario's windows and reports, and the alerts its replay ends with."""
    store.store_windows(window_messages(scenario, cramps), received=RECEIVED)
    for report in scenario.reports:
        store.store_report(scenario.user, report, received=RECEIVED)
    run = replay(scenario, config)
    for record in run.records.values():
        store.save_alert(record)
    store.add_events(scenario.user, run.events)


def main(out: Path) -> None:
    """Render the sample report of :func:`story` to ``out`` (a fresh SQLite file beside it)."""
    from server.report import write_report

    out.parent.mkdir(parents=True, exist_ok=True)
    db = out.with_name("sample.db")
    db.unlink(missing_ok=True)
    config = load_rule_config(None)
    with open_store(f"sqlite:///{db.resolve()}") as store:
        scenario = story()
        store_story(store, scenario, config)
        files = write_report(store, scenario.user, out, rule_config=config)
    print(f"wrote {files.html} and {len(files.figures)} figures; database {db}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/report_sample/report.html"))
