"""Rule evaluation for one user, as the server runs it: stored data in, alert changes out.

One transaction per user holds the user's row lock from reading the history to writing the
alerts, so two server processes sharing the load never evaluate the same user at once; the second
finds the user clean and does nothing. Transitions are written under a unique key, so even a
replayed evaluation cannot record (or publish) one twice.

The evaluation time is the user's latest stored event time (window end or report time), never
the server's clock: replaying a backlog evaluates the data as of when it was measured, and a
restart re-evaluates at the same time, which changes nothing. When event time has moved over
one or more UTC midnights since the last evaluation (a backlog, a device that was offline for a
week, a replayed history arriving in one burst), the rules also run at each of those midnights,
in order: "held for a day" and "for three weeks" then mean the same whether the data arrived live
or all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from server import alerts, rules
from server.model import AlertRecord, History
from server.rules import RuleConfig
from server.store import Store, Tx
from twitchwatch.contract import AlertEvent, AlertState, Rule, utc_day


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What one user's alerts need published after a commit."""

    user: str
    states: tuple[AlertState, ...] = ()  # alerts whose retained state changed
    events: tuple[AlertEvent, ...] = ()  # transitions recorded for the first time


def _persist(
    tx: Tx, prior: AlertRecord | None, record: AlertRecord | None, events: Sequence[AlertEvent]
) -> tuple[AlertState | None, list[AlertEvent]]:
    """Write a changed alert and its events; its new state and the events that were new."""
    if record is None or record == prior:
        return None, []
    tx.save_alert(record)
    return record.state(), tx.add_events(record.user, events)


def evaluate_user(store: Store, user: str, config: RuleConfig) -> AlertChanges:
    """Evaluate every rule for ``user`` if its data changed since the last evaluation."""
    with store.transaction(users=[user]) as tx:
        as_of, dirty = tx.user_state(user)
        if not dirty or as_of is None:
            return AlertChanges(user)
        # Enough history for the earliest catch-up step; the rules ignore rows after a step.
        since_day = utc_day(as_of) - timedelta(days=2 * config.history_days)
        history = tx.load_history(user, since_day, as_of)
        last = tx.evaluated_at(user) or _first_event(history)
        steps = evaluation_times(last, as_of, config.history_days)
        priors = {(a.rule, a.scope): a for a in tx.load_alerts(user)}
        latest: dict[tuple[Rule, str], AlertRecord] = {}
        events: list[AlertEvent] = []
        for at in steps:
            findings = {(f.rule, f.scope): f for f in rules.evaluate(history, at, config)}
            # A prior alert without a finding still gets its say (no finding = no change today,
            # but the lifecycle decides that, not this loop).
            for key in sorted(findings.keys() | priors.keys()):
                prior = priors.get(key)
                record, new_events = alerts.advance(user, prior, findings.get(key), at, config)
                if record is not None and record != prior:
                    priors[key] = latest[key] = record
                    events += tx.add_events(user, new_events)
        for record in latest.values():
            tx.save_alert(record)
        tx.mark_evaluated(user, as_of)
    return AlertChanges(user, tuple(r.state() for r in latest.values()), tuple(events))


#: A day's evaluation runs at its last second: the day's windows and reports are all in.
DAY_END_MARGIN = timedelta(seconds=1)


def _first_event(history: History) -> datetime | None:
    """When a user's stored data begins: a first evaluation catches up from there."""
    starts = [datetime.combine(history.days[0].day, time(), tzinfo=UTC)] if history.days else []
    starts += [history.reports[0].t] if history.reports else []
    return min(starts, default=None)


def evaluation_times(last: datetime | None, as_of: datetime, max_days: int) -> list[datetime]:
    """The end of each UTC day from ``last``'s day to the day before ``as_of`` (at most
    ``max_days`` of them), then ``as_of``; just ``as_of`` when there is nothing to catch up on.

    A day's end is its last second, so each step sees that day complete and nothing after it.
    """
    if last is None or last >= as_of:
        return [as_of]
    first_day = max(utc_day(last), utc_day(as_of) - timedelta(days=max_days))
    ends = []
    day = first_day
    while day < utc_day(as_of):
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - DAY_END_MARGIN
        if end > last:
            ends.append(end)
        day += timedelta(days=1)
    return [*ends, as_of]


def acknowledge_alert(
    tx: Tx, user: str, rule: Rule, scope: str, now: datetime
) -> AlertChanges | None:
    """The person has seen an alert (inside the caller's transaction); None if there is none."""
    prior = tx.load_alert(user, rule, scope)
    if prior is None:
        return None
    record, events = alerts.acknowledge(prior, now)
    state, recorded = _persist(tx, prior, record, events)
    return AlertChanges(user, () if state is None else (state,), tuple(recorded))
