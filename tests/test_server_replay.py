"""Weeks of history replayed through Mosquitto into the server, on SQLite and on PostgreSQL.

Each synthetic person's days (support/histories.py) become hourly windows and reports at their
own local times, published after their retained profile (their time zone), day by day as an
edge agent and an app would, in one burst. The story ends yesterday; some people's data stops
weeks before that. The server's day-by-day catch-up, then its wall-clock tick (fast here), must
tell each person the same things, on the same of their days, as the pure replay, which drives
the same evaluation steps at the end of every day of the story: the person's days, the zone's
daylight-saving change, the no-data notice and the reminders of a sensor left in a drawer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.localdays import local_day
from server.rules import load_rule_config
from server.service import Server
from server.service_options import ServerOptions
from support.histories import (
    HistoryBuilder,
    Scenario,
    benign_calf,
    red_flag_only,
    replay,
    spreading,
)
from support.services import MosquittoBroker
from tests.test_server import client, publish_all, running, wait_acks
from twitchwatch.contract import (
    AlertEvent,
    AlertState,
    AlertStatus,
    Profile,
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    TopicKind,
    Transition,
    WindowMessage,
    parse_topic,
    profile_topic,
    reports_topic,
)

WINDOW_S = 3600.0
#: Local time of the first window of a day: seven hourly windows end by 21:00, inside the
#: person's day, and in Los Angeles they cross UTC midnight (14:00 PST is 22:00 UTC).
FIRST_WINDOW = time(14, 0)
TIMEOUT_S = 90.0


def weakness_in_calf() -> Scenario:
    """A calf twitching for four weeks; weakness reported in that leg on day 30."""
    b = HistoryBuilder(35, seed=7).wear("left_calf", rate_per_min=1.2)
    return b.report(30, ReportKind.WEAKNESS, site="left_calf", note="trips on stairs").build()


def unworn_after_persistence() -> Scenario:
    """A calf twitching for four weeks, then the sensor stays in its drawer for three."""
    return HistoryBuilder(49, seed=8).wear("left_calf", 0, 28, rate_per_min=1.5).build()


def los_angeles_calf() -> Scenario:
    """Ten weeks in Los Angeles (the clocks go back in the story): a calf twitching, coffee,
    then trouble swallowing at 20:00 one evening (04:00 UTC the next day)."""
    b = HistoryBuilder(70, seed=9, tz="America/Los_Angeles").wear("left_calf", rate_per_min=1.3)
    for day in range(0, 70, 4):
        b.report(day, ReportKind.CAFFEINE, value=4, hour=9)
    return b.report(60, ReportKind.SWALLOWING, hour=20, note="bread sticks").build()


def kolkata_numbness() -> Scenario:
    """Half an hour off UTC: twitching at the right hand, numbness reported at 23:00 local."""
    b = HistoryBuilder(40, seed=10, tz="Asia/Kolkata").wear("right_hand", rate_per_min=1.0)
    return b.report(30, ReportKind.NUMBNESS, site="right_hand", hour=23).build()


@dataclass(frozen=True)
class Person:
    user: str
    scenario: Scenario
    shift: timedelta  # whole days: moves the story so that it ends yesterday, local time

    @property
    def device(self) -> str:
        return f"pi-{self.user}"

    @property
    def zone(self) -> ZoneInfo:
        return self.scenario.zone

    def day_index(self, t: datetime) -> int:
        return (local_day(t, self.zone) - (self.scenario.start + self.shift)).days

    def moved(self, t: datetime) -> datetime:
        """A moment of the story at the same local time ``shift`` days later."""
        local = t.astimezone(self.zone)
        return datetime.combine(local.date() + self.shift, local.time(), self.zone)


def person(user: str, scenario: Scenario) -> Person:
    last_day = scenario.start + timedelta(days=scenario.n_days - 1)
    today = datetime.now(scenario.zone).date()
    shift = (today - timedelta(days=1)) - last_day
    return Person(user, replace(scenario, user=user), shift)


def daily_messages(p: Person) -> Iterator[tuple[str, bytes]]:
    """The retained profile, then each day's hourly windows (all sites of the device) at the
    person's local times, then that day's reports."""
    yield profile_topic(p.user), Profile(p.scenario.tz).to_payload()
    seq = 0
    by_day: dict[date, list] = {}
    for row in p.scenario.days:
        by_day.setdefault(row.day, []).append(row)
    for i in range(p.scenario.n_days):
        day = p.scenario.day(i)
        rows = by_day.get(day, [])
        hours = max((ceil((r.rest_s + r.active_s) / WINDOW_S) for r in rows), default=0)
        for h in range(hours):
            local = datetime.combine(day + p.shift, FIRST_WINDOW, p.zone) + timedelta(hours=h)
            start = local.astimezone(UTC)
            sites = {}
            for r in rows:
                n = ceil((r.rest_s + r.active_s) / WINDOW_S)
                if h >= n:
                    continue
                twitches = r.twitches // n + (1 if h < r.twitches % n else 0)
                rest, active = r.rest_s / n, r.active_s / n
                gap = WINDOW_S - rest - active
                sites[r.site] = SiteWindow(twitches, 0, rest, active, gap, 80.0, "uV")
            seq += 1
            end = start + timedelta(seconds=WINDOW_S)
            message = WindowMessage(p.user, p.device, seq, start, end, sites)
            yield message.topic, message.to_payload()
        for report in p.scenario.reports:
            if local_day(report.t, p.zone) == day:
                moved = replace(report, t=p.moved(report.t).astimezone(UTC))
                yield reports_topic(p.user), moved.to_payload()


def events_by_person(received: list[AlertEvent], topics: list[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    for topic, event in zip(topics, received, strict=True):
        out.setdefault(parse_topic(topic).user, []).append(event)
    return out


def keyed(events: list[AlertEvent], day_of) -> list[tuple]:
    return [
        (day_of(e.t), e.alert.rule, e.alert.scope, e.transition, e.alert.severity, e.notify)
        for e in events
    ]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'replay.db'}"
    return request.getfixturevalue("postgres_url")


async def test_replayed_histories_tell_what_the_pure_replay_tells(
    mosquitto_broker: MosquittoBroker, db_url: str
) -> None:
    config = load_rule_config(None)
    people = [
        person("benign", benign_calf(weeks=6)),
        person("spread", spreading()),
        person("weak", weakness_in_calf()),
        person("swallow", red_flag_only(ReportKind.SWALLOWING, day=3)),
        person("drawer", unworn_after_persistence()),
        person("la", los_angeles_calf()),
        person("kolkata", kolkata_numbness()),
    ]
    events: list[AlertEvent] = []
    event_topics: list[str] = []
    # The wall clock ticks fast here (an hour in service): users with open alerts are
    # evaluated up to now, data or not. A user whose data arrived within the last tick is
    # deferred; 2 s, not less, so that a loaded CI machine pausing between two batches of one
    # person's history does not let a tick evaluate them halfway through it.
    server = Server(
        mosquitto_broker.url, db_url, client_id="replay-server", options=ServerOptions(tick_s=2.0)
    )
    async with (
        running(server),
        client(mosquitto_broker, "watcher", ["twitchwatch/v1/+/alerts/events"]) as watcher,
        client(mosquitto_broker, "acks", ["twitchwatch/v1/+/+/ack"]) as acks,
        client(mosquitto_broker, "edges") as edges,
    ):
        last_seq: dict[str, int] = {}
        sent = 0
        for p in people:
            messages = list(daily_messages(p))
            last_seq[p.device] = sum(1 for t, _ in messages if t.endswith("/windows"))
            sent += len(messages)
            await publish_all(edges, messages)
        await wait_acks(acks, {d: s for d, s in last_seq.items() if s})
        async with asyncio.timeout(TIMEOUT_S):
            while server.pending_evaluations or server.stats.messages < sent:
                await asyncio.sleep(0.05)
            ticks = server.stats.ticks
            while server.stats.ticks < ticks + 2:  # a whole tick after the last data
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the last events are on their way
        while watcher.pending_messages():
            async for message in watcher.messages():
                events.append(AlertEvent.from_payload(message.payload))
                event_topics.append(message.topic)
                break
        async with client(mosquitto_broker, "late", ["twitchwatch/v1/+/alerts/+/+"]) as late:
            states = await retained_states(late)

    got = events_by_person(events, event_topics)
    want = {p.user: replay(p.scenario, config) for p in people}
    by_user = {p.user: p for p in people}

    def server_view(user: str) -> list[tuple]:
        """The server's events on the story's days (today's, at the tick's hour, are its own)."""
        p = by_user[user]
        return [k for k in keyed(got.get(user, []), p.day_index) if k[0] < p.scenario.n_days]

    def replay_view(user: str) -> list[tuple]:
        run = want[user]
        return [
            (day, e.alert.rule, e.alert.scope, e.transition, e.alert.severity, e.notify)
            for day, e in zip(run.event_days, run.events, strict=True)
        ]

    for user in by_user:
        assert server_view(user) == replay_view(user), user

    # What each story must show, in words:
    told = {user: [e for e in evs if e.notify] for user, evs in got.items()}
    severities = {e.alert.severity for e in got["benign"]}
    assert severities == {Severity.ADVISORY}, "a benign calf stays an advisory"
    firing = [e for e in got["benign"] if e.transition is Transition.FIRING]
    assert [(e.alert.rule, e.alert.scope) for e in firing] == [(Rule.PERSISTENCE, "left_calf")]
    assert any("post-exercise" in c for c in firing[0].alert.context), firing[0].alert.context

    spread = [e for e in got["spread"] if e.alert.rule is Rule.SPREAD]
    assert [e.transition for e in spread if e.notify][:2] == [
        Transition.FIRING,
        Transition.REMINDER,
    ]
    assert any(e.transition is Transition.ESCALATED for e in spread)
    assert all(e.alert.severity is Severity.WARNING for e in spread)

    weak = [e for e in got["weak"] if e.alert.rule is Rule.WEAKNESS]
    assert weak and weak[0].transition is Transition.FIRING
    assert weak[0].alert.severity is Severity.WARNING and weak[0].alert.scope == "lumbosacral"

    urgent = [e for e in got["swallow"] if e.transition is Transition.FIRING]
    assert [(e.alert.rule, e.alert.scope, e.alert.severity) for e in urgent] == [
        (Rule.RED_FLAG, "swallowing", Severity.URGENT)
    ]
    assert by_user["swallow"].day_index(urgent[0].t) == 3

    drawer = states[("drawer", Rule.PERSISTENCE, "left_calf")]
    assert drawer.state is AlertStatus.FIRING, "three unworn weeks must not resolve it"
    assert "No measurements from the left calf since" in drawer.message
    assert [e.transition for e in told["drawer"]] == [
        Transition.FIRING,
        Transition.NO_DATA,
        Transition.REMINDER,
    ]

    # Los Angeles: 20:00 there is 04:00 UTC the next day; the person reads their own date.
    (la_urgent,) = [e for e in got["la"] if e.alert.rule is Rule.RED_FLAG and e.notify][:1]
    p = by_user["la"]
    (swallowing,) = [r for r in p.scenario.reports if r.kind is ReportKind.SWALLOWING]
    evening = p.moved(swallowing.t).astimezone(p.zone)
    assert p.day_index(la_urgent.t) == 60
    assert f"{evening:%a} {evening.day} {evening:%b} at 20:00" in la_urgent.alert.message
    kolkata = [e for e in got["kolkata"] if e.alert.rule is Rule.NUMBNESS]
    assert kolkata[0].alert.scope == "cervical" and by_user["kolkata"].day_index(kolkata[0].t) == 30


async def retained_states(link) -> dict[tuple[str, Rule, str], AlertState]:
    """Every retained alert state the broker holds (they arrive right after subscribing)."""
    states = {}
    try:
        async with asyncio.timeout(2.0):
            async for message in link.messages():
                where = parse_topic(message.topic)
                if where.kind is TopicKind.ALERT and message.payload:
                    state = AlertState.from_payload(message.payload)
                    states[(where.user, state.rule, state.scope)] = state
    except TimeoutError:
        pass
    return states
