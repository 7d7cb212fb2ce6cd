"""Alerts: their severities and states, the retained state, each transition, a person's ack.

What a person is told: an alert notifies once when it fires, then by reminders, escalations, a
"no measurements since" notice and its resolution (``AlertEvent.notify``). Its pending state is
published (retained and as an event) but is not a notification. While a warning or urgent
alert covers a body part, lesser alerts about that part are *folded* into it: they go on
through their lifecycle and are recorded (``AlertState.folded_into`` names the covering alert,
their events carry ``notify: false``), but they are not notified separately, as Alertmanager's
inhibition does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from twitchwatch.contract.kinds import Rule
from twitchwatch.contract.payload import (
    MAX_SEQ,
    SCHEMA_VERSION,
    decode_json,
    encode_json,
    format_utc,
    int_field,
    parse_utc,
    text_field,
)
from twitchwatch.contract.topics import TopicKind, check_id
from twitchwatch.errors import ContractError, PayloadError


class Severity(StrEnum):
    INFO = "info"
    ADVISORY = "advisory"
    WARNING = "warning"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class AlertStatus(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


#: What the advice level says, in words a worried person reads first.
ADVICE: dict[Severity, str] = {
    Severity.INFO: "No action needed; this is for your information.",
    Severity.ADVISORY: "Consider mentioning it to a doctor at your next visit.",
    Severity.WARNING: "Please consult a doctor.",
    Severity.URGENT: "Seek medical attention promptly.",
}


@dataclass(frozen=True, slots=True)
class AlertState:
    """``<user>/alerts/<rule>/<scope>``, retained: the alert's current state."""

    rule: Rule
    scope: str
    severity: Severity
    state: AlertStatus
    since: datetime  # when it entered this state
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()  # likely benign factors seen around it
    acknowledged: bool = False
    version: int = 1  # +1 per published change; subscribers keep the highest
    #: "<rule>/<scope>" of the warning or urgent alert this one is folded into (None: not folded).
    folded_into: str | None = None

    def to_payload(self) -> bytes:
        return encode_json(
            {
                "v": SCHEMA_VERSION,
                "rule": self.rule.value,
                "scope": self.scope,
                "severity": self.severity.value,
                "state": self.state.value,
                "since": format_utc(self.since),
                "message": self.message,
                "evidence": dict(self.evidence),
                "context": list(self.context),
                "acknowledged": self.acknowledged,
                "version": self.version,
                "folded_into": self.folded_into,
            }
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        what = "alert"
        doc = decode_json(payload, TopicKind.ALERT)
        try:
            rule, severity, state = (
                Rule(doc.get("rule")),
                Severity(doc.get("severity")),
                AlertStatus(doc.get("state")),
            )
        except ValueError as exc:
            raise PayloadError(what, "bad_enum", str(exc)) from None
        evidence, context = doc.get("evidence", {}), doc.get("context", [])
        if not isinstance(evidence, dict) or not isinstance(context, list):
            raise PayloadError(
                what, "bad_type", '"evidence" must be an object and "context" a list'
            )
        return cls(
            rule=rule,
            scope=text_field(doc, "scope", what, 64) or "",
            severity=severity,
            state=state,
            since=parse_utc(doc.get("since"), what, "since"),
            message=text_field(doc, "message", what, 2_000) or "",
            evidence=evidence,
            context=tuple(str(c) for c in context),
            acknowledged=bool(doc.get("acknowledged", False)),
            version=int_field(doc, "version", what, 1, MAX_SEQ) if "version" in doc else 1,
            folded_into=text_field(doc, "folded_into", what, 130, optional=True),
        )


class Transition(StrEnum):
    PENDING = "pending"  # the condition holds, not yet for long enough (not notified)
    FIRING = "firing"  # the alert is raised
    ESCALATED = "escalated"  # raised again at a higher severity or a further stage
    REMINDER = "reminder"  # still firing after the repeat interval; or a question to the person
    ACKNOWLEDGED = "acknowledged"  # the person has seen it (their own action, not notified)
    RESOLVED = "resolved"
    FOLDED = "folded"  # a warning or urgent alert now covers its body part (not notified)
    UNFOLDED = "unfolded"  # the covering alert ended while this one still fires
    NO_DATA = "no_data"  # its sites sent no measurements for a week: said once, not silent


#: Transitions that tell the person something by default; the server may say otherwise per
#: event (a folded alert's, or the end of a pending alert nobody was told about).
NOTIFYING = frozenset(
    {
        Transition.FIRING,
        Transition.ESCALATED,
        Transition.REMINDER,
        Transition.RESOLVED,
        Transition.UNFOLDED,
        Transition.NO_DATA,
    }
)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """``<user>/alerts/events``: one transition of one alert, with the state it left the alert in.

    ``notify`` says whether a person should be told (an app shows or pushes it); events that do
    not notify are the record (pending, folded, acknowledged), for views and reports.
    """

    t: datetime
    transition: Transition
    alert: AlertState
    notify: bool = True

    def to_payload(self) -> bytes:
        doc = json.loads(self.alert.to_payload())
        doc.update(
            {"t": format_utc(self.t), "transition": self.transition.value, "notify": self.notify}
        )
        return encode_json(doc)

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        alert = AlertState.from_payload(payload)
        doc = json.loads(payload)
        try:
            transition = Transition(doc.get("transition"))
        except ValueError:
            raise PayloadError(
                "alert event", "bad_enum", f'unknown "transition" {doc.get("transition")!r}'
            ) from None
        notify = doc.get("notify", transition in NOTIFYING)
        if not isinstance(notify, bool):
            raise PayloadError("alert event", "bad_type", '"notify" must be true or false')
        return cls(parse_utc(doc.get("t"), "alert event", "t"), transition, alert, notify)


class AckAction(StrEnum):
    """What the person says about an alert on ``<user>/acks``."""

    SEEN = "seen"  # I have read it: reminders stop until it changes
    RESOLVED = "resolved"  # a doctor has seen it and it is resolved (reported symptoms only)


@dataclass(frozen=True, slots=True)
class AlertAck:
    """``<user>/acks``: ``{"v": 1, "rule", "scope", "action"?}``; ``action`` defaults to seen.

    ``resolved`` closes an alert raised by a reported symptom (weakness, numbness, speech,
    swallowing, breathing) after the person saw a doctor; a new report raises it again. Alerts
    that follow the sensors' measurements cannot be closed by hand: they clear when the
    measurements settle.
    """

    rule: Rule
    scope: str
    action: AckAction = AckAction.SEEN

    def to_payload(self) -> bytes:
        return encode_json(
            {
                "v": SCHEMA_VERSION,
                "rule": self.rule.value,
                "scope": self.scope,
                "action": self.action.value,
            }
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        doc = decode_json(payload, TopicKind.ALERT_ACKS)
        try:
            rule = Rule(doc.get("rule"))
        except ValueError:
            raise PayloadError(
                "alert ack", "bad_enum", f'unknown "rule" {doc.get("rule")!r}'
            ) from None
        scope = text_field(doc, "scope", "alert ack", 64) or ""
        try:
            check_id(scope, "scope")
        except ContractError as exc:
            raise PayloadError("alert ack", "bad_scope", str(exc)) from None
        try:
            action = AckAction(doc.get("action", AckAction.SEEN.value))
        except ValueError:
            raise PayloadError(
                "alert ack",
                "bad_enum",
                f'"action" must be seen or resolved, got {doc.get("action")!r}',
            ) from None
        return cls(rule, scope, action)
