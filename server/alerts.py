"""The alert lifecycle: pure transitions of one alert given a rule's finding (Prometheus-like).

An alert is identified by (user, rule, scope). ``advance`` takes its stored record (or None), the
latest finding for that scope (or None) and the evaluation time, and returns the new record with
the events to publish. Nothing here reads a clock or does I/O.

Semantics:

- RAISE, no alert or a resolved one: PENDING (event ``pending``), or FIRING at once when the
  rule's ``for_s`` is 0 (event ``firing``).
- RAISE while PENDING: FIRING (event ``firing``) once ``now - pending_since >= for_s``. HOLD and
  NO_DATA in between keep the timer (they are not a clear); a higher severity while pending is
  taken over with another ``pending`` event, since the pending state is published too.
- RAISE while FIRING: at a higher severity, ESCALATED (re-notifies, clears the acknowledgement);
  otherwise a REMINDER when unacknowledged and the last notification is older than the
  severity's repeat interval; else nothing. Severity never goes down while firing.
- CLEAR: FIRING or PENDING -> RESOLVED (event ``resolved``). A pending alert's end is published
  too, because its pending state was; the resolved record keeps its severity, and a later RAISE
  starts over at the finding's severity.
- HOLD, NO_DATA, no finding: no change. No data never resolves or weakens an alert.

The retained message and the message of an event are the finding's at the last change: a firing
alert's text is refreshed by reminders and escalations, not by every evaluation, so re-evaluating
stays quiet. ``version`` goes up by one with every returned event; the caller publishes the
record's state whenever the version changed. Calling ``advance`` again with its own result and
the same finding and time returns no event (idempotent), which makes a replay after a restart
harmless.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from server.model import AlertRecord, Finding, Verdict
from server.rules import RuleConfig
from twitchwatch.contract import AlertEvent, AlertStatus, Transition


def advance(
    user: str,
    prior: AlertRecord | None,
    finding: Finding | None,
    now: datetime,
    config: RuleConfig,
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    """The alert after one evaluation, and the events to publish (in order)."""
    if finding is None or finding.verdict in (Verdict.HOLD, Verdict.NO_DATA):
        return prior, []
    if prior is not None and (prior.user, prior.rule, prior.scope) != (
        user,
        finding.rule,
        finding.scope,
    ):
        raise ValueError(
            f"finding {finding.rule.value}/{finding.scope} does not belong to alert "
            f"{prior.user}/{prior.rule.value}/{prior.scope}"
        )
    if finding.verdict is Verdict.CLEAR:
        if prior is None or prior.status is AlertStatus.RESOLVED:
            return prior, []
        return _change(
            prior,
            Transition.RESOLVED,
            now,
            status=AlertStatus.RESOLVED,
            since=now,
            pending_since=None,
            message=finding.message,
            evidence=finding.evidence,
            context=finding.context,
        )
    return _raise(user, prior, finding, now, config)


def acknowledge(prior: AlertRecord, now: datetime) -> tuple[AlertRecord, list[AlertEvent]]:
    """The person has seen the alert: reminders stop until it escalates or fires again."""
    if prior.status is AlertStatus.RESOLVED or prior.acknowledged:
        return prior, []
    return _change(prior, Transition.ACKNOWLEDGED, now, acknowledged=True)


def _raise(
    user: str, prior: AlertRecord | None, finding: Finding, now: datetime, config: RuleConfig
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    for_s = config.for_s(finding.rule)
    content: dict[str, object] = {
        "message": finding.message,
        "evidence": finding.evidence,
        "context": finding.context,
    }
    if prior is None or prior.status is AlertStatus.RESOLVED:
        fire = for_s <= 0
        record = AlertRecord(
            user=user,
            rule=finding.rule,
            scope=finding.scope,
            severity=finding.severity,
            status=AlertStatus.FIRING if fire else AlertStatus.PENDING,
            since=now,
            pending_since=now,
            last_notified=now if fire else None,
            acknowledged=False,
            version=(prior.version if prior else 0) + 1,
            **content,
        )
        return record, [
            AlertEvent(now, Transition.FIRING if fire else Transition.PENDING, record.state())
        ]

    higher = finding.severity.rank > prior.severity.rank
    if finding.severity.rank < prior.severity.rank:
        content = {}  # keep the text that matches the (higher) severity the alert keeps
    if prior.status is AlertStatus.PENDING:
        held_since = prior.pending_since or now
        if now - held_since >= timedelta(seconds=for_s):
            return _change(
                prior,
                Transition.FIRING,
                now,
                status=AlertStatus.FIRING,
                since=now,
                last_notified=now,
                severity=finding.severity if higher else prior.severity,
                **content,
            )
        if higher:
            return _change(prior, Transition.PENDING, now, severity=finding.severity, **content)
        return prior, []

    # FIRING
    if higher:
        return _change(
            prior,
            Transition.ESCALATED,
            now,
            severity=finding.severity,
            acknowledged=False,
            last_notified=now,
            **content,
        )
    repeat_s = config.repeat_s(prior.severity)
    last = prior.last_notified or prior.since
    if repeat_s > 0 and not prior.acknowledged and now - last >= timedelta(seconds=repeat_s):
        return _change(prior, Transition.REMINDER, now, last_notified=now, **content)
    return prior, []


def _change(
    prior: AlertRecord, transition: Transition, now: datetime, **changes: object
) -> tuple[AlertRecord, list[AlertEvent]]:
    record = replace(prior, version=prior.version + 1, **changes)  # type: ignore[arg-type]
    return record, [AlertEvent(now, transition, record.state())]
