"""Rule evaluation for one user, as the server runs it: stored data in, alert changes out.

One transaction per user holds the user's row lock from reading the history to writing the
alerts, so two server processes sharing the load never evaluate the same user at once; the second
finds the user clean and does nothing. Transitions are written under a unique key, so even a
replayed evaluation cannot record (or publish) one twice.

The evaluation time is the latest of: the user's latest stored event time (window end or report
time), the time the rules last ran at, and, when the server's wall clock asks (``now``: users
with open alerts are evaluated at least hourly even without data), the wall clock. Replaying a
backlog therefore evaluates the data as of when it was measured, a restart re-evaluates at the
same time (which changes nothing), and a sensor that is never worn again no longer stops time:
reminders go out and the alert says that its measurements stopped. Whenever time has moved over
one or more of the person's midnights since the last evaluation, the rules also run at the end
of each of those days, in order: "held for a day" and "for three weeks" then mean the same
whether the data arrived live, all at once, or not at all.

:func:`run_steps` is that sequence as a pure function; the pure replay (support/histories.py)
drives it with the same clock, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from server import alerts, rules
from server.folding import fold, quiet_folded
from server.localdays import day_end, day_start, local_day
from server.model import AlertRecord, Finding, History
from server.rules import RuleConfig
from server.store import Store, Tx
from twitchwatch.contract import AckAction, AlertEvent, AlertState, Rule

Key = tuple[Rule, str]


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What one user's alerts need published after a commit."""

    user: str
    states: tuple[AlertState, ...] = ()  # alerts whose retained state changed
    events: tuple[AlertEvent, ...] = ()  # transitions recorded for the first time


def run_steps(
    user: str,
    history: History,
    priors: Mapping[Key, AlertRecord],
    times: Sequence[datetime],
    config: RuleConfig,
    seen: Callable[[datetime, Sequence[Finding]], None] | None = None,
) -> tuple[dict[Key, AlertRecord], list[AlertEvent]]:
    """Evaluate the rules at each of ``times`` and take every alert through its lifecycle.

    At each time: every rule's findings, each alert advanced by its finding (an alert without
    one still gets its say: no finding is no change, but the lifecycle decides that), then the
    user's alerts folded under the warnings that cover them. Returns the records that changed
    (latest version) and the events, in order; pure, so replaying the same times changes
    nothing more. ``seen`` is handed each time's findings (the replay keeps them for tests).
    """
    records = dict(priors)
    changed: dict[Key, AlertRecord] = {}
    events: list[AlertEvent] = []
    for at in times:
        found = rules.evaluate(history, at, config)
        if seen is not None:
            seen(at, found)
        findings = {(f.rule, f.scope): f for f in found}
        step: list[AlertEvent] = []
        for key in sorted(findings.keys() | records.keys()):
            prior = records.get(key)
            record, new = alerts.advance(user, prior, findings.get(key), at, config)
            if record is not None and record != prior:
                records[key] = changed[key] = record
                step += new
        folded, fold_events = fold(records, at, findings)
        records.update(folded)
        changed.update(folded)
        events += quiet_folded(step + fold_events, records)
    return changed, events


def evaluate_user(
    store: Store, user: str, config: RuleConfig, now: datetime | None = None
) -> AlertChanges:
    """Evaluate every rule for ``user`` if its data changed since the last evaluation, or if
    ``now`` (the server's wall clock) has moved past it."""
    with store.transaction(users=[user]) as tx:
        latest, dirty = tx.user_state(user)
        last = tx.evaluated_at(user)
        moments = [t for t in (latest, last, now) if t is not None]
        ticked = now is not None and (last is None or now > last)
        if not moments or not (dirty or ticked):
            return AlertChanges(user)
        as_of = max(moments)
        zone = _zone(tx, user)
        # Enough history for the earliest catch-up step; the rules ignore rows after a step.
        since_day = local_day(as_of, zone) - timedelta(days=2 * config.history_days)
        history = tx.load_history(user, since_day, as_of)
        start = last or _first_event(history)
        steps = evaluation_times(start, as_of, history.zone, config.history_days)
        priors = {(a.rule, a.scope): a for a in tx.load_alerts(user)}
        changed, events = run_steps(user, history, priors, steps, config)
        for record in changed.values():
            tx.save_alert(record)
        recorded = tx.add_events(user, events)
        tx.mark_evaluated(user, as_of)
    return AlertChanges(user, tuple(r.state() for r in changed.values()), tuple(recorded))


def _zone(tx: Tx, user: str) -> tzinfo:
    return ZoneInfo(tx.profile_tz(user))


def _first_event(history: History) -> datetime | None:
    """When a user's stored data begins: a first evaluation catches up from there."""
    starts = [day_start(history.days[0].day, history.zone)] if history.days else []
    starts += [history.reports[0].t] if history.reports else []
    return min(starts, default=None)


def evaluation_times(
    last: datetime | None, as_of: datetime, zone: tzinfo, max_days: int
) -> list[datetime]:
    """The end of each of the person's days from ``last``'s day to the day before ``as_of``'s
    (at most ``max_days`` of them), then ``as_of``; just ``as_of`` when there is nothing to
    catch up on.

    A day's end is its last second in the person's zone (a day of 23 or 25 hours when the
    clocks change), so each step sees that day complete and nothing after it.
    """
    if last is None or last >= as_of:
        return [as_of]
    final_day = local_day(as_of, zone)
    day: date = max(local_day(last, zone), final_day - timedelta(days=max_days))
    ends = []
    while day < final_day:
        end = day_end(day, zone)
        if end > last:
            ends.append(end)
        day += timedelta(days=1)
    return [*ends, as_of]


def answer_alert(
    tx: Tx, user: str, rule: Rule, scope: str, action: AckAction, now: datetime
) -> AlertChanges | None:
    """The person says "seen" or "resolved" about an alert (inside the caller's transaction).

    None if the user has no such alert. ``resolved`` on an alert that follows the measurements
    raises ValueError (only reported symptoms can be closed by hand). Resolving a warning that
    covered lesser alerts shows those on their own again (folding).
    """
    prior = tx.load_alert(user, rule, scope)
    if prior is None:
        return None
    if action is AckAction.RESOLVED:
        record, events = alerts.resolve(prior, now, _zone(tx, user))
    else:
        record, events = alerts.acknowledge(prior, now)
    if record == prior:
        return AlertChanges(user)
    records = {(a.rule, a.scope): a for a in tx.load_alerts(user)}
    records[(rule, scope)] = record
    folded, fold_events = fold(records, now)
    records.update(folded)
    changed = {(rule, scope): record, **folded}
    for changed_record in changed.values():
        tx.save_alert(changed_record)
    recorded = tx.add_events(user, quiet_folded(events + fold_events, records))
    return AlertChanges(user, tuple(r.state() for r in changed.values()), tuple(recorded))
