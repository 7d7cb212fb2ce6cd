"""Folding (Alertmanager's inhibition): while a warning or urgent alert covers a body part, lesser
alerts about that part are folded into it.

A folded alert goes on through its lifecycle and is recorded (its state names the covering
alert in ``folded_into``; its events carry ``notify: false``), but the person is not notified
of it separately: a warning about twitching spreading to the calf, the hand and the tongue is
not followed by three "persistent twitching, usually benign" advisories. When the covering
alert ends while a folded one still fires, the folded one is shown on its own again
(``unfolded``, notified). What an alert covers is its rule's answer (``RuleUnit.covers``: the
regions of its sites, of its reported symptom, or of the spread).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from server.model import AlertRecord, Finding, Verdict
from server.rules import RULES
from twitchwatch.contract import AlertEvent, AlertStatus, Rule, Severity, Transition

Key = tuple[Rule, str]
_RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}


def covering(record: AlertRecord, records: Mapping[Key, AlertRecord]) -> AlertRecord | None:
    """The firing warning or urgent alert that ``record`` folds into, if any.

    Only a more serious alert covers; of several, the most serious, then the first rule in
    registry order, then the first scope.
    """
    if not record.is_open:
        return None
    mine = RULES[record.rule].covers(record.scope, record.evidence)
    best: AlertRecord | None = None
    for other in records.values():
        if (
            other.status is AlertStatus.FIRING
            and other.severity.rank >= Severity.WARNING.rank
            and other.severity.rank > record.severity.rank
            and mine & RULES[other.rule].covers(other.scope, other.evidence)
        ):
            rank = (-other.severity.rank, _RULE_ORDER[other.rule], other.scope)
            if best is None or rank < (-best.severity.rank, _RULE_ORDER[best.rule], best.scope):
                best = other
    return best


def fold(
    records: Mapping[Key, AlertRecord],
    now: datetime,
    findings: Mapping[Key, Finding] | None = None,
) -> tuple[dict[Key, AlertRecord], list[AlertEvent]]:
    """Fold and unfold a user's alerts at ``now``: the records that changed, and their events.

    An alert shown on its own again says what its rule finds now (``findings``: this
    evaluation's, when it raises at the alert's severity), not what it said when it was folded.
    """
    changed: dict[Key, AlertRecord] = {}
    events: list[AlertEvent] = []
    for key in sorted(records):
        record = records[key]
        cover = covering(record, records)
        target = None if cover is None else cover.key
        if target == record.folded_into:
            continue
        if target is not None:
            record = replace(record, version=record.version + 1, folded_into=target)
            events.append(AlertEvent(now, Transition.FOLDED, record.state(), notify=False))
        elif record.status is AlertStatus.FIRING:
            # Shown on its own again: a notification, from which its reminders count again.
            found = (findings or {}).get(key)
            content = {}
            if (
                found is not None
                and found.verdict is Verdict.RAISE
                and (found.severity, found.stage) == (record.severity, record.stage)
            ):
                content = {
                    "message": found.message,
                    "evidence": found.evidence,
                    "context": found.context,
                }
            record = replace(
                record,
                version=record.version + 1,
                folded_into=None,
                last_notified=now,
                **content,  # type: ignore[arg-type]
            )
            events.append(AlertEvent(now, Transition.UNFOLDED, record.state(), notify=True))
        else:  # a pending alert unfolds quietly: nobody was told of it
            record = replace(record, version=record.version + 1, folded_into=None)
        changed[key] = record
    return changed, events


def quiet_folded(events: list[AlertEvent], records: Mapping[Key, AlertRecord]) -> list[AlertEvent]:
    """Events of alerts that ended up folded tell the person nothing (they are the record)."""
    out = []
    for event in events:
        record = records.get((event.alert.rule, event.alert.scope))
        if event.notify and record is not None and record.folded_into is not None:
            event = replace(event, notify=False)
        out.append(event)
    return out
