"""Weeks of history replayed through Mosquitto into the server, on SQLite and on PostgreSQL.

Each synthetic person's days (tests/histories.py) become hourly windows and reports, published
day by day as an edge agent and an app would, in one burst: the server's day-by-day catch-up
must then raise the same alerts, on the same days, as the pure day-by-day replay of the rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from pathlib import Path

import pytest

from server.rules import load_rule_config
from server.service import Server
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
    ReportKind,
    Rule,
    Severity,
    SiteWindow,
    TopicKind,
    Transition,
    WindowMessage,
    parse_topic,
    reports_topic,
)

WINDOW_S = 3600.0
FIRST_WINDOW = time(7, 0)
TIMEOUT_S = 60.0


def weakness_in_calf() -> Scenario:
    """A calf twitching for four weeks; weakness reported in that leg on day 30."""
    b = HistoryBuilder(35, seed=7).wear("left_calf", rate_per_min=1.2)
    return b.report(30, ReportKind.WEAKNESS, site="left_calf", note="trips on stairs").build()


def unworn_after_persistence() -> Scenario:
    """A calf twitching for four weeks, then the sensor stays in its drawer for three."""
    return HistoryBuilder(49, seed=8).wear("left_calf", 0, 28, rate_per_min=1.5).build()


@dataclass(frozen=True)
class Person:
    user: str
    scenario: Scenario
    shift: timedelta  # moves the story so that it ends yesterday

    @property
    def device(self) -> str:
        return f"pi-{self.user}"

    def day_index(self, t: datetime) -> int:
        return (t.astimezone(UTC).date() - (self.scenario.start + self.shift)).days


def person(user: str, scenario: Scenario) -> Person:
    last_day = scenario.start + timedelta(days=scenario.n_days - 1)
    shift = (datetime.now(UTC).date() - timedelta(days=1)) - last_day
    return Person(user, replace(scenario, user=user), shift)


def daily_messages(p: Person) -> Iterator[tuple[str, bytes]]:
    """Each day's hourly windows (all sites of the device), then that day's reports."""
    seq = 0
    by_day: dict[date, list] = {}
    for row in p.scenario.days:
        by_day.setdefault(row.day, []).append(row)
    for i in range(p.scenario.n_days):
        day = p.scenario.day(i)
        rows = by_day.get(day, [])
        hours = max((ceil((r.rest_s + r.active_s) / WINDOW_S) for r in rows), default=0)
        for h in range(hours):
            start = datetime.combine(day + p.shift, FIRST_WINDOW, tzinfo=UTC) + timedelta(hours=h)
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
            if report.t.date() == day:
                moved = replace(report, t=report.t + p.shift)
                yield reports_topic(p.user), moved.to_payload()


def events_by_person(received: list[AlertEvent], topics: list[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    for topic, event in zip(topics, received, strict=True):
        out.setdefault(parse_topic(topic).user, []).append(event)
    return out


def keyed(events: list[AlertEvent], day_of) -> list[tuple]:
    return [
        (day_of(e.t), e.alert.rule, e.alert.scope, e.transition, e.alert.severity) for e in events
    ]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'replay.db'}"
    return request.getfixturevalue("postgres_url")


async def test_replayed_histories_raise_the_right_alerts(
    mosquitto_broker: MosquittoBroker, db_url: str
) -> None:
    config = load_rule_config(None)
    people = [
        person("benign", benign_calf(weeks=6)),
        person("spread", spreading()),
        person("weak", weakness_in_calf()),
        person("swallow", red_flag_only(ReportKind.SWALLOWING, day=3)),
        person("drawer", unworn_after_persistence()),
    ]
    events: list[AlertEvent] = []
    event_topics: list[str] = []
    server = Server(mosquitto_broker.url, db_url, client_id="replay-server")
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

    def last_data_day(p: Person) -> int:
        """The server's time moves with the data (event time); the pure replay evaluates every
        day. They are compared up to the person's last day with data, whose evening only the
        replay sees."""
        days = [(r.day - p.scenario.start).days for r in p.scenario.days]
        days += [(r.t.date() - p.scenario.start).days for r in p.scenario.reports]
        return max(days)

    def server_view(user: str) -> list[tuple]:
        p = by_user[user]
        last = last_data_day(p)
        return [k for k in keyed(got.get(user, []), p.day_index) if k[0] < last]

    def replay_view(user: str) -> list[tuple]:
        run, last = want[user], last_data_day(by_user[user])
        return [
            (day, e.alert.rule, e.alert.scope, e.transition, e.alert.severity)
            for day, e in zip(run.event_days, run.events, strict=True)
            if day < last
        ]

    for user in by_user:
        assert server_view(user) == replay_view(user), user

    # What each story must show, in words:
    severities = {e.alert.severity for e in got["benign"]}
    assert severities == {Severity.ADVISORY}, "a benign calf stays an advisory"
    firing = [e for e in got["benign"] if e.transition is Transition.FIRING]
    assert [(e.alert.rule, e.alert.scope) for e in firing] == [(Rule.PERSISTENCE, "left_calf")]
    assert any("post-exercise" in c for c in firing[0].alert.context), firing[0].alert.context

    order = [e.alert.rule for e in got["spread"] if e.transition is Transition.FIRING]
    assert Rule.SPREAD in order and Rule.WIDESPREAD in order
    assert order.index(Rule.SPREAD) < order.index(Rule.WIDESPREAD)
    assert all(
        e.alert.severity is Severity.WARNING
        for e in got["spread"]
        if e.alert.rule in (Rule.SPREAD, Rule.WIDESPREAD)
    )

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
    assert all(e.transition is not Transition.RESOLVED for e in got["drawer"])


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
