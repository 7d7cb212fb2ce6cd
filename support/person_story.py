"""A person's last weeks up to now, stored through the real Store API: for the web view's tests,
its browser test, its screenshot and its bench.

Windows go in as an edge agent sends them (hourly windows of one device for the past days, then
ten-minute windows today up to now), reports as the server stores them. Alerts are left to the
server: the stored user is marked for evaluation, so a server started on the database evaluates
the whole history day by day at once, as it would after a backlog.

The story (seeded): the left calf twitches most days for the whole period (more after weekend
runs), its sensor stays in a drawer for five days and is barely worn on two more (no data, not
zero); the right forearm, worn and still at first, twitches from five weeks ago; a few cramps in
the calf at night; coffee, short nights and runs reported. Nothing is reported today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import ceil

from server.store import Store
from support.histories import HistoryBuilder, Scenario
from twitchwatch.contract import ReportKind, SiteWindow, WindowMessage

HOUR_S = 3600.0
TODAY_WINDOW_S = 600.0
FIRST_WINDOW = time(7, 0)
#: A note that would run a script if any page forgot to escape it.
SCRIPT_NOTE = "<script>alert(1)</script> & a second coffee"
SITES = ("left_calf", "right_forearm")
#: Twitches per minute of rest today, per site.
TODAY_RATES = {"left_calf": 1.4, "right_forearm": 0.9}
#: Night cramps in the left calf, days before today -> cramps.
CRAMPS = {40: 2, 17: 1, 3: 1}


@dataclass(frozen=True)
class StoredStory:
    scenario: Scenario
    device: str
    windows: int
    today_windows: int


def recent_story(
    user: str, now: datetime, *, days: int = 90, seed: int = 21, extra_site: str | None = None
) -> Scenario:
    """The past ``days`` days of ``user``, ending yesterday (today is :func:`today_windows`).

    ``extra_site``: a third site, worn and twitching for the last three weeks (tells two people
    apart on a page).
    """
    first = now.astimezone(UTC).date() - timedelta(days=days)
    b = HistoryBuilder(days, user=user, start=first, seed=seed)
    b.wear("left_calf", rate_per_min=lambda i: 1.1 + 0.004 * i)
    b.unworn("left_calf", days - 30, days - 25).barely_worn("left_calf", days - 12, days - 10)
    b.wear("right_forearm", rate_per_min=0.8, twitch_days=range(days - 35, days))
    if extra_site is not None:
        b.wear(extra_site, days - 21, rate_per_min=1.6)
    for i in range(5, days, 7):  # weekend runs
        if (i, "left_calf") in b._rows:
            b.activity(i, 1.3, site="left_calf")
        b.report(i, ReportKind.EXERCISE, value=1.0, note="10 km run", hour=17)
    for i in range(1, days, 3):
        b.report(i, ReportKind.CAFFEINE, value=1 + i % 3, hour=9)
    for i in (days - 20, days - 19, days - 6):
        b.report(i, ReportKind.SLEEP, value=5.0, hour=7)
    b.report(days - 9, ReportKind.CAFFEINE, value=4, note=SCRIPT_NOTE, hour=15)
    return b.build()


def past_windows(scenario: Scenario, device: str) -> list[WindowMessage]:
    """Each day's rows as hourly windows of one device from 07:00 UTC."""
    by_day: dict[date, list] = {}
    for row in scenario.days:
        by_day.setdefault(row.day, []).append(row)
    cramp_days = {scenario.start + timedelta(days=scenario.n_days - ago) for ago in CRAMPS}
    messages: list[WindowMessage] = []
    for day in sorted(by_day):
        rows = by_day[day]
        hours = [ceil((r.rest_s + r.active_s) / HOUR_S) for r in rows]
        for h in range(max(hours)):
            start = datetime.combine(day, FIRST_WINDOW, tzinfo=UTC) + timedelta(hours=h)
            sites = {}
            for r, n in zip(rows, hours, strict=True):
                if h >= n:
                    continue
                twitches = r.twitches // n + (1 if h < r.twitches % n else 0)
                rest, active = r.rest_s / n, r.active_s / n
                cramps = 0
                if h == 0 and r.site == "left_calf" and day in cramp_days:
                    ago = (scenario.start + timedelta(days=scenario.n_days) - day).days
                    cramps = CRAMPS[ago]
                sites[r.site] = SiteWindow(
                    twitches, cramps, rest, active, HOUR_S - rest - active, 80.0, "uV"
                )
            seq = len(messages) + 1
            end = start + timedelta(seconds=HOUR_S)
            messages.append(WindowMessage(scenario.user, device, seq, start, end, sites))
    return messages


def today_windows(
    user: str, device: str, now: datetime, first_seq: int, *, hours: float = 2.0
) -> list[WindowMessage]:
    """Ten-minute windows of today up to ``now`` (the last ``hours``, from midnight at most)."""
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    start = max(midnight, now - timedelta(hours=hours))
    start = start.replace(minute=start.minute - start.minute % 10, second=0, microsecond=0)
    messages = []
    while start + timedelta(seconds=TODAY_WINDOW_S) <= now:
        rest, active = 540.0, 45.0
        sites = {
            site: SiteWindow(
                round(rate * rest / 60), 0, rest, active, TODAY_WINDOW_S - rest - active, 75.0, "uV"
            )
            for site, rate in TODAY_RATES.items()
        }
        seq = first_seq + len(messages)
        end = start + timedelta(seconds=TODAY_WINDOW_S)
        messages.append(WindowMessage(user, device, seq, start, end, sites))
        start = end
    return messages


def store_story(
    store: Store, scenario: Scenario, now: datetime, *, today: bool = True
) -> StoredStory:
    """Store the scenario's windows (and today's up to ``now``) and reports."""
    device = f"pi-{scenario.user}"
    past = past_windows(scenario, device)
    live = today_windows(scenario.user, device, now, len(past) + 1) if today else []
    for chunk in _chunks([*past, *live], 500):
        store.store_windows(chunk, received=now)
    for report in scenario.reports:
        store.store_report(scenario.user, report, received=now)
    return StoredStory(scenario, device, len(past) + len(live), len(live))


def _chunks(items: list[WindowMessage], size: int) -> Iterable[list[WindowMessage]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
