"""What a person reads of their alerts: the current states first, then each change, one line each.

``twitchwatch alerts`` subscribes to the person's profile and ``twitchwatch/v1/<user>/alerts/#``.
The broker first hands over the retained profile (their time zone) and the retained state of every
alert (the current picture), then each transition as the server publishes it on
``…/alerts/events``. :class:`AlertFeed` turns those messages into lines:

- for a person: ``2026-11-21 11:00 CET  WARNING   firing        spread/all  <message> <advice>
  (<context>)``, times in the person's zone (UTC, written ``10:00Z``, until a profile or
  ``--tz`` sets one), the retained states and then the transitions that notify (a pending alert
  is not a notification, nor is an alert folded into a warning that covers it: the server marks
  those events ``notify: false``); the server publishes a new retained state with every
  transition; the transition says more, so live state updates are not repeated;
- for scripts (``--json``): each state and event payload as one JSON line, plus its ``"topic"``.

Nothing is printed twice: states are kept by their ``version`` (a reconnect hands the retained
states over again), events by their identity (QoS 1 may deliver one twice). A malformed payload
becomes a one-line problem and the feed goes on. Printing is the command line's job (cli.py).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from server.errors import AckTargetError, PublishError
from twitchwatch.contract import (
    ADVICE,
    AckAction,
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    ContractError,
    PayloadError,
    Profile,
    Rule,
    Severity,
    TopicKind,
    Transition,
    alert_acks_topic,
    alerts_filter,
    check_id,
    check_zone,
    parse_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import Message, MqttLink, MqttLinkError

if TYPE_CHECKING:
    from server.homeassistant import HomeAssistantBridge

#: How long a publish may wait for the broker's PUBACK before the command gives up.
PUBLISH_TIMEOUT_S = 10.0
#: Events remembered to drop QoS 1 duplicates; a duplicate arrives within seconds of the original.
RECENT_EVENTS = 1024

#: Transitions after which the alert asks something of the person: the advice is repeated.
_ACTIVE_TRANSITIONS = frozenset(
    {Transition.FIRING, Transition.ESCALATED, Transition.REMINDER, Transition.UNFOLDED}
)
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_STATE_WIDTH = max(len(t.value) for t in Transition)


@dataclass(frozen=True, slots=True)
class FeedLine:
    """One line for a person or a script; ``problem`` lines go to stderr."""

    text: str
    problem: bool = False


# --- wording ---------------------------------------------------------------------------------------


def _when(t: datetime, zone: tzinfo = UTC) -> str:
    """``2026-11-21 10:00Z`` in UTC; ``2026-11-21 11:00 CET`` in the person's zone."""
    local = t.astimezone(zone)
    if zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC"):
        return local.strftime("%Y-%m-%d %H:%MZ")
    return local.strftime("%Y-%m-%d %H:%M %Z")


def _with_advice(message: str, severity: Severity, active: bool) -> str:
    """The message, with the usual advice for its severity when it is not already said."""
    message = message.strip()
    advice = ADVICE[severity]
    if not active or advice in message:
        return message
    return f"{message} {advice}" if message else advice


def _context(context: tuple[str, ...], severity: Severity, message: str) -> str:
    """Factors reported around the alert. Beside a warning or urgent alert they are listed
    neutrally and never called harmless: nothing there explains a red flag away.

    Nothing when the server's message already names them all (RuleUnit.message in
    server/rules/unit.py does).
    """
    if all(factor in message for factor in context):
        return ""
    factors = ", ".join(context)
    if severity.rank >= Severity.WARNING.rank:
        return f" (also reported: {factors}; this does not change the advice)"
    return f" (also noted: {factors}; these often cause harmless twitching)"


def _line(
    when: datetime, severity: Severity, what: str, alert: AlertState, text: str, zone: tzinfo
) -> str:
    return (
        f"{_when(when, zone)}  {severity.value.upper():<{_SEVERITY_WIDTH}}  "
        f"{what:<{_STATE_WIDTH}}  {alert.rule.value}/{alert.scope}  {text}"
    )


def format_state(state: AlertState, zone: tzinfo = UTC) -> str:
    """One line for an alert's current state, dated (in ``zone``) from when it entered it."""
    text = _with_advice(state.message, state.severity, state.state is AlertStatus.FIRING)
    if state.acknowledged and state.state is AlertStatus.FIRING:
        text += " [seen]"
    if state.state is AlertStatus.PENDING:
        text += " [not yet confirmed]"
    if state.folded_into:
        text += f" [part of {state.folded_into}]"
    text += _context(state.context, state.severity, state.message)
    return _line(state.since, state.severity, state.state.value, state, text, zone)


def event_text(event: AlertEvent) -> str:
    """What a transition tells the person: the message, the advice when it asks for action, and
    the context."""
    alert = event.alert
    if event.transition is Transition.ACKNOWLEDGED:
        return "Marked as seen: no more reminders unless it changes."
    if event.transition is Transition.FOLDED:
        return f"Now part of {alert.folded_into}: no separate reminders while that stands."
    text = _with_advice(alert.message, alert.severity, event.transition in _ACTIVE_TRANSITIONS)
    return text + _context(alert.context, alert.severity, alert.message)


def format_event(event: AlertEvent, zone: tzinfo = UTC) -> str:
    """One line for a transition, dated (in ``zone``) when it happened."""
    return _line(
        event.t,
        event.alert.severity,
        event.transition.value,
        event.alert,
        event_text(event),
        zone,
    )


def format_cleared(rule: str, scope: str) -> str:
    """An alert whose retained state was removed from the broker: nothing is current any more."""
    blank = " " * len("2026-11-21 10:00Z")
    return (
        f"{blank}  {'':<{_SEVERITY_WIDTH}}  {'cleared':<{_STATE_WIDTH}}  {rule}/{scope}  "
        "No longer current."
    )


def _json_line(topic: str, payload: bytes) -> str:
    """The payload object as received (validated first), with the topic it came on."""
    return json.dumps({"topic": topic, **json.loads(payload)}, ensure_ascii=False)


# --- the feed --------------------------------------------------------------------------------------


class AlertFeed:
    """Turns the messages of one person's alert topics into lines, each alert change once.

    Parameters
    ----------
    user : str
        Whose alerts (``twitchwatch/v1/<user>/alerts/#``).
    as_json : bool
        One JSON object per state and event (for scripts) instead of a sentence.
    tz : str or None
        Show times in this IANA zone; None: the zone of the person's retained profile (UTC
        until it arrives, or when there is none).
    """

    def __init__(self, user: str, *, as_json: bool = False, tz: str | None = None) -> None:
        self.user = check_id(user, "user")
        self.as_json = as_json
        self.zone: tzinfo = UTC if tz is None else check_zone(tz)
        self._fixed_zone = tz is not None
        self._profile_topic = profile_topic(user)
        # The profile first: the broker hands over retained messages in the order of the
        # subscriptions, so the zone is known before the first alert line is written.
        self.subscriptions: list[tuple[str, int]] = [
            (self._profile_topic, 1),
            (alerts_filter(user), 1),
        ]
        self.malformed = 0  # messages refused, each reported once as a problem line
        self._prefix = alerts_filter(user).removesuffix("#")
        self._state_version: dict[tuple[str, str], int] = {}  # highest state seen per alert
        self._shown_version: dict[tuple[str, str], int] = {}  # highest version printed (person)
        self._recent_events: OrderedDict[tuple[object, ...], None] = OrderedDict()

    def handle(self, message: Message) -> list[FeedLine]:
        """Lines for one message; messages outside this person's alert topics give none."""
        if message.topic == self._profile_topic:
            return self._profile(message)
        if not message.topic.startswith(self._prefix):
            return []
        try:
            topic = parse_topic(message.topic)
            if topic.kind is TopicKind.ALERT_EVENTS:
                return self._event(message)
            if topic.kind is TopicKind.ALERT and topic.rule is not None and topic.scope is not None:
                return self._state(message, topic.rule, topic.scope)
            raise ContractError(f"topic {message.topic!r} is not an alert topic")
        except (ContractError, PayloadError) as exc:
            self.malformed += 1
            return [FeedLine(f"ignored a message on {message.topic}: {exc}", problem=True)]

    def _profile(self, message: Message) -> list[FeedLine]:
        """The person's zone; the times that follow are written in it (unless --tz says)."""
        if self._fixed_zone or not message.payload:
            return []
        try:
            self.zone = Profile.from_payload(message.payload).zone
        except PayloadError as exc:
            self.malformed += 1
            return [FeedLine(f"ignored the profile: {exc}", problem=True)]
        return []

    def _state(self, message: Message, rule: str, scope: str) -> list[FeedLine]:
        key = (rule, scope)
        if not message.payload:  # the retained state was removed from the broker
            self._state_version.pop(key, None)
            self._shown_version.pop(key, None)
            if self.as_json:
                doc = {"topic": message.topic, "rule": rule, "scope": scope, "cleared": True}
                return [FeedLine(json.dumps(doc))]
            return [FeedLine(format_cleared(rule, scope))]
        state = AlertState.from_payload(message.payload)
        if (state.rule.value, state.scope) != key:
            raise PayloadError(
                "alert", "id_mismatch", f"{state.rule.value}/{state.scope} disagrees with the topic"
            )
        if state.version <= self._state_version.get(key, 0):
            return []  # handed over again after a reconnect, or older than what we have
        self._state_version[key] = state.version
        if self.as_json:
            return [FeedLine(_json_line(message.topic, message.payload))]
        if not message.retain:
            return []  # a live change: its event says what happened
        if state.version <= self._shown_version.get(key, 0):
            return []
        self._shown_version[key] = state.version
        return [FeedLine(format_state(state, self.zone))]

    def _event(self, message: Message) -> list[FeedLine]:
        event = AlertEvent.from_payload(message.payload)
        alert = event.alert
        identity = (alert.rule, alert.scope, alert.version, event.transition, event.t)
        if identity in self._recent_events:
            return []
        self._recent_events[identity] = None
        if len(self._recent_events) > RECENT_EVENTS:
            self._recent_events.popitem(last=False)
        if self.as_json:
            return [FeedLine(_json_line(message.topic, message.payload))]
        key = (alert.rule.value, alert.scope)
        if alert.version < self._shown_version.get(key, 0):
            return []  # older than the state already shown
        self._shown_version[key] = alert.version
        if not event.notify and event.transition is not Transition.ACKNOWLEDGED:
            return []  # the record (pending, folded): not something to tell the person
        return [FeedLine(format_event(event, self.zone))]


# --- acknowledging ---------------------------------------------------------------------------------


def parse_ack_target(value: str, action: AckAction = AckAction.SEEN) -> AlertAck:
    """``"persistence/left_calf"`` -> the AlertAck for that alert (seen, or resolved)."""
    rule, sep, scope = value.partition("/")
    if not sep:
        raise AckTargetError(value, "use RULE/SCOPE, e.g. persistence/left_calf")
    try:
        return AlertAck(Rule(rule), check_id(scope, "scope"), action)
    except ValueError:
        raise AckTargetError(
            value, f"unknown rule {rule!r} (rules: {', '.join(r.value for r in Rule)})"
        ) from None
    except ContractError as exc:
        raise AckTargetError(value, str(exc)) from None


async def send_ack(link: MqttLink, user: str, ack: AlertAck) -> None:
    """Publish the acknowledgement and wait for the broker to take it (QoS 1)."""
    await _publish(link, alert_acks_topic(user), ack.to_payload(), retain=False)


# --- running ---------------------------------------------------------------------------------------


async def connect(link: MqttLink, within_s: float) -> None:
    """Start the link and wait for the broker; MqttLinkError (link closed) if it never answers."""
    link.start()
    try:
        await link.wait_connected(within_s)
    except BaseException:
        await link.close()
        raise


async def follow(
    link: MqttLink,
    feed: AlertFeed,
    emit: Callable[[FeedLine], None],
    bridge: HomeAssistantBridge | None = None,
) -> None:
    """Hand every message to the feed (and the Home Assistant bridge) until cancelled."""
    async for message in link.messages_across_reconnects():
        for line in feed.handle(message):
            emit(line)
        if bridge is None:
            continue
        update = bridge.handle(message)
        for problem in update.problems:
            emit(FeedLine(problem, problem=True))
        for discovery in update.publish:
            await _publish(link, discovery.topic, discovery.payload, retain=True)


async def _publish(link: MqttLink, topic: str, payload: bytes, *, retain: bool) -> None:
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT_S):
            await link.publish(topic, payload, qos=1, retain=retain)
    except TimeoutError:
        raise PublishError(
            topic, f"no answer from the broker within {PUBLISH_TIMEOUT_S:g} s"
        ) from None
    except MqttLinkError as exc:
        raise PublishError(topic, str(exc)) from exc
