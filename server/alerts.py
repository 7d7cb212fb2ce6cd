"""The alert lifecycle: pure transitions of one alert given a rule's finding (Prometheus-like).

An alert is identified by (user, rule, scope). ``advance`` takes its stored record (or None), the
latest finding for that scope (or None) and the evaluation time, and returns the new record with
the events to publish. Nothing here reads a clock or does I/O.

Semantics:

- RAISE, no alert or a resolved one: PENDING (event ``pending``, not a notification), or FIRING
  at once when the rule's ``for_s`` is 0 (event ``firing``, notified).
- RAISE while PENDING: FIRING once ``now - pending_since >= for_s`` (less an hour: a day the
  clocks change has 23 hours, and "held for a day" must still mean "confirmed by the next
  day's evaluation"). HOLD and NO_DATA in between keep the timer (they are not a clear); a
  higher severity or stage while pending is taken over with another ``pending`` event.
- RAISE while FIRING at a higher severity, or a further stage of the same severity (spread:
  widespread after two regions): ESCALATED (re-notifies, clears the acknowledgement). Severity
  never goes down while firing.
- Otherwise a firing alert stands (RAISE, HOLD or NO_DATA): a notice its finding carries is said
  once (a symptom not reported again is asked about, as a REMINDER with the question, even when
  acknowledged: it asks something; an alert whose sites stopped sending says so, ``no_data``),
  else a REMINDER when unacknowledged and the last notification is older than the severity's
  repeat interval, whether or not new data confirm it: time passes without data too. When
  measurements come back the no-data notice is taken back quietly (a new version, no event).
- CLEAR: FIRING or PENDING -> RESOLVED. Only the end of a firing alert is a notification: a
  pending alert nobody was told about ends quietly. A later RAISE starts over.
- HOLD and NO_DATA never start, clear or weaken an alert; no finding changes nothing.
- An alert the person marked resolved (``resolve``) stays resolved until a report newer than
  that (``Finding.reported``) raises it again.

Folding (a warning covering lesser alerts) is decided over all of a user's alerts at once:
server/folding.py. The retained message and the message of an event are the finding's at the
last change: a firing alert's text is refreshed by reminders, escalations and notices, not by
every evaluation, so re-evaluating stays quiet. ``version`` goes up by one with every change;
the caller publishes the record's state whenever the version changed. Calling ``advance`` again
with its own result and the same finding and time returns no event (idempotent), which makes a
replay after a restart harmless.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from server.model import AlertRecord, Finding, Notice, Verdict
from server.rules import RULES, RuleConfig
from twitchwatch.contract import NOTIFYING, AlertEvent, AlertStatus, Transition

#: "Held for a day" on a day of 23 hours (the clocks went forward) is still a day.
DST_SLACK = timedelta(hours=1)


def advance(
    user: str,
    prior: AlertRecord | None,
    finding: Finding | None,
    now: datetime,
    config: RuleConfig,
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    """The alert after one evaluation, and the events to publish (in order)."""
    if finding is None:
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
    closed_by_person = prior is not None and prior.resolved_by_person and not prior.is_open
    if closed_by_person and (finding.reported is None or finding.reported <= prior.since):  # type: ignore[union-attr]
        return prior, []  # closed by the person: only a newer report opens it again
    if finding.verdict is Verdict.CLEAR:
        return _clear(prior, finding, now)
    if prior is None or not prior.is_open or prior.status is AlertStatus.PENDING:
        if finding.verdict is Verdict.RAISE:
            return _raise(user, prior, finding, now, config)
        return prior, []  # HOLD and NO_DATA keep a pending timer; they never start one
    if finding.verdict is Verdict.RAISE and _rank(finding) > _rank(prior):
        return _change(
            prior,
            Transition.ESCALATED,
            now,
            acknowledged=False,
            last_notified=now,
            severity=finding.severity,
            stage=finding.stage,
            asked=None,
            **_content(finding),
        )
    return _standing(prior, finding, now, config)


def _rank(x: AlertRecord | Finding) -> tuple[int, int]:
    """Severity first, then the stage within it (spread: limb group, regions, widespread)."""
    return x.severity.rank, x.stage


def _content(finding: Finding) -> dict[str, object]:
    return {"message": finding.message, "evidence": finding.evidence, "context": finding.context}


def _standing(
    prior: AlertRecord, finding: Finding, now: datetime, config: RuleConfig
) -> tuple[AlertRecord, list[AlertEvent]]:
    """A firing alert that neither escalates nor clears: a notice once, else a reminder.

    The notices come first: each is a notification of its own, after which the reminder
    interval starts again. A reminder refreshes the text only from a RAISE of the same rank
    (a HOLD's words describe the hysteresis, not the alert); a notice takes the finding's
    words, which say what it is about, when its rank is the alert's.
    """
    same = _rank(finding) == _rank(prior)
    if finding.notice is Notice.ASK and prior.asked is None:
        content = _content(finding) if same else {}
        return _change(prior, Transition.REMINDER, now, asked=now, last_notified=now, **content)
    if finding.notice is Notice.NO_DATA and prior.no_data_noticed is None:
        content = _content(finding) if same else {}
        return _change(
            prior, Transition.NO_DATA, now, no_data_noticed=now, last_notified=now, **content
        )
    raised = finding.verdict is Verdict.RAISE
    changes: dict[str, object] = {}
    if raised and prior.asked is not None:
        changes["asked"] = None  # a new report answers the question; it may be asked again
    if finding.notice is not Notice.NO_DATA and prior.no_data_noticed is not None:
        changes["no_data_noticed"] = None  # measurements again: the notice is taken back
        changes.update(_content(finding) if same and raised else {})
    repeat_s = config.repeat_s(prior.severity)
    last = prior.last_notified or prior.since
    # A folded alert is not repeated: the warning that covers it is (folding.py).
    due = not prior.acknowledged and prior.folded_into is None
    if repeat_s > 0 and due and now - last >= timedelta(seconds=repeat_s):
        content = _content(finding) if same and raised else {}
        return _change(prior, Transition.REMINDER, now, last_notified=now, **content, **changes)
    if changes:
        return _quiet(prior, **changes), []
    return prior, []


def acknowledge(prior: AlertRecord, now: datetime) -> tuple[AlertRecord, list[AlertEvent]]:
    """The person has seen the alert: reminders stop until it escalates or fires again."""
    if not prior.is_open or prior.acknowledged:
        return prior, []
    return _change(prior, Transition.ACKNOWLEDGED, now, notify=False, acknowledged=True)


def resolve(
    prior: AlertRecord, now: datetime, zone: tzinfo
) -> tuple[AlertRecord, list[AlertEvent]]:
    """The person marks a symptom's alert resolved after seeing a doctor.

    Raises ValueError for a rule whose alerts follow the measurements (they cannot be closed
    by hand). The message says what to do if the symptom goes on.
    """
    unit = RULES[prior.rule]
    if not unit.person_can_resolve:
        raise ValueError(f"{prior.rule.value} alerts follow the measurements")
    if not prior.is_open:
        return prior, []
    return _change(
        prior,
        Transition.RESOLVED,
        now,
        notify=not prior.folded_into,
        status=AlertStatus.RESOLVED,
        since=now,
        pending_since=None,
        resolved_by_person=True,
        folded_into=None,
        message=unit.resolved_message(prior.scope, prior.evidence, now, zone),
    )


def _clear(
    prior: AlertRecord | None, finding: Finding, now: datetime
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    if prior is None or not prior.is_open:
        return prior, []
    told = prior.status is AlertStatus.FIRING and prior.folded_into is None
    return _change(
        prior,
        Transition.RESOLVED,
        now,
        notify=told,
        status=AlertStatus.RESOLVED,
        since=now,
        pending_since=None,
        folded_into=None,
        asked=None,
        no_data_noticed=None,
        message=finding.message,
        evidence=finding.evidence,
        context=finding.context,
    )


def _raise(
    user: str, prior: AlertRecord | None, finding: Finding, now: datetime, config: RuleConfig
) -> tuple[AlertRecord | None, list[AlertEvent]]:
    """RAISE for a new alert, a resolved one, or a pending one."""
    for_s = config.for_s(finding.rule)
    if prior is None or not prior.is_open:
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
            stage=finding.stage,
            **_content(finding),  # type: ignore[arg-type]
        )
        transition = Transition.FIRING if fire else Transition.PENDING
        return record, [AlertEvent(now, transition, record.state(), notify=fire)]
    higher = _rank(finding) > _rank(prior)
    # Keep the text that matches the (higher) rank the alert keeps.
    content = _content(finding) if _rank(finding) >= _rank(prior) else {}
    further = {"severity": finding.severity, "stage": finding.stage} if higher else {}
    held_since = prior.pending_since or now
    if now - held_since >= timedelta(seconds=for_s) - DST_SLACK:
        return _change(
            prior,
            Transition.FIRING,
            now,
            status=AlertStatus.FIRING,
            since=now,
            last_notified=now,
            **further,
            **content,
        )
    if higher:
        return _change(prior, Transition.PENDING, now, notify=False, **further, **content)
    return prior, []


def _quiet(prior: AlertRecord, **changes: object) -> AlertRecord:
    """A change of the retained state that tells the person nothing new (no event)."""
    return replace(prior, version=prior.version + 1, **changes)  # type: ignore[arg-type]


def _change(
    prior: AlertRecord,
    transition: Transition,
    now: datetime,
    *,
    notify: bool | None = None,
    **changes: object,
) -> tuple[AlertRecord, list[AlertEvent]]:
    record = replace(prior, version=prior.version + 1, **changes)  # type: ignore[arg-type]
    if notify is None:
        notify = transition in NOTIFYING and record.folded_into is None
    return record, [AlertEvent(now, transition, record.state(), notify=notify)]
