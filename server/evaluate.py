"""Rule evaluation for one user, as the server runs it: stored data in, alert changes out.

One transaction per user holds the user's row lock from reading the history to writing the
alerts, so two server processes sharing the load never evaluate the same user at once; the second
finds the user clean and does nothing. Transitions are written under a unique key, so even a
replayed evaluation cannot record (or publish) one twice.

The evaluation time is the user's latest stored event time (window end or report time), never
the server's clock: replaying a backlog evaluates the data as of when it was measured, and a
restart re-evaluates at the same time, which changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server import alerts, rules
from server.model import AlertRecord
from server.rules_config import RuleConfig
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
        since_day = utc_day(as_of) - timedelta(days=config.history_days)
        history = tx.load_history(user, since_day, as_of)
        findings = {(f.rule, f.scope): f for f in rules.evaluate(history, as_of, config)}
        priors = {(a.rule, a.scope): a for a in tx.load_alerts(user)}
        states: list[AlertState] = []
        events: list[AlertEvent] = []
        # A prior alert without a finding still gets its say (no finding = no change today,
        # but the lifecycle decides that, not this loop).
        for key in sorted(findings.keys() | priors.keys()):
            prior = priors.get(key)
            record, new_events = alerts.advance(user, prior, findings.get(key), as_of, config)
            state, recorded = _persist(tx, prior, record, new_events)
            if state is not None:
                states.append(state)
            events += recorded
        tx.mark_evaluated(user)
    return AlertChanges(user, tuple(states), tuple(events))


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
