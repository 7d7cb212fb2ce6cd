"""MQTT topics: the ids that name their levels, how each topic is built and parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from twitchwatch.contract.kinds import Rule
from twitchwatch.errors import IdError, TopicError

TOPIC_ROOT = "twitchwatch/v1"

#: User and device ids are topic levels: no ``/``, ``+``, ``#``, no leading ``$``, and short.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Levels under a user that are not devices.
_RESERVED_IDS = frozenset({"reports", "alerts", "acks", "profile"})


class TopicKind(StrEnum):
    STATUS = "status"  # <user>/<device>/status, retained, edge -> anyone; the Last Will too
    WINDOWS = "windows"  # <user>/<device>/windows, QoS 1, edge -> server
    ACK = "ack"  # <user>/<device>/ack, retained, server -> edge: every seq up to this is stored
    REPORTS = "reports"  # <user>/reports, QoS 1, person -> server
    ALERT = "alert"  # <user>/alerts/<rule>/<scope>, retained, server -> person
    ALERT_EVENTS = "events"  # <user>/alerts/events, QoS 1, server -> person
    ALERT_ACKS = "acks"  # <user>/acks, QoS 1, person -> server: "I have seen this alert"
    PROFILE = "profile"  # <user>/profile, retained, person or edge -> server: the time zone
    SERVER_STATUS = "server"  # _server/status, retained, server -> anyone; its Last Will too


#: What an id may be, in the words an IdError gives.
_ID_HINT = f"use 1-64 letters, digits, '_', '-' or '.' (not {', '.join(sorted(_RESERVED_IDS))})"


def check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value) or value in _RESERVED_IDS:
        raise IdError(what, value, _ID_HINT)
    return value


def device_topic(user: str, device: str, kind: TopicKind) -> str:
    if kind not in (TopicKind.STATUS, TopicKind.WINDOWS, TopicKind.ACK):
        raise TopicError(kind.value, "a device topic")
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/{check_id(device, 'device')}/{kind.value}"


def reports_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/reports"


def alert_acks_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/acks"


def profile_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/profile"


#: The server's own retained status (``online``/``offline``, its Last Will says offline). The
#: level ``_server`` can never be a user id (ids start with a letter or digit), so it cannot
#: collide with a person's topics. Home Assistant's alert entities take their availability
#: from it: an alert is only as current as the server that evaluates it.
SERVER_STATUS_TOPIC = f"{TOPIC_ROOT}/_server/status"


def alert_topic(user: str, rule: str, scope: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/alerts/{Rule(rule).value}/{check_id(scope, 'scope')}"


def alert_events_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/alerts/events"


def alerts_filter(user: str) -> str:
    """What a person subscribes to: every alert's state and every transition."""
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/alerts/#"


#: What the server subscribes to (all users); prefix with ``$share/<group>/`` to split the load.
SERVER_FILTERS: dict[TopicKind, str] = {
    TopicKind.WINDOWS: f"{TOPIC_ROOT}/+/+/windows",
    TopicKind.STATUS: f"{TOPIC_ROOT}/+/+/status",
    TopicKind.REPORTS: f"{TOPIC_ROOT}/+/reports",
    TopicKind.ALERT_ACKS: f"{TOPIC_ROOT}/+/acks",
    TopicKind.PROFILE: f"{TOPIC_ROOT}/+/profile",
}

#: Every user's alert states and events (the server writes them; broker ACLs name it).
ALL_ALERTS_FILTER = f"{TOPIC_ROOT}/+/alerts/#"


def device_filter(kind: TopicKind, user: str | None = None) -> str:
    """``<user>/+/<kind>``: one topic kind of every device of a user (of every user if None)."""
    if kind not in (TopicKind.STATUS, TopicKind.WINDOWS, TopicKind.ACK):
        raise TopicError(kind.value, "a device topic")
    owner = "+" if user is None else check_id(user, "user")
    return f"{TOPIC_ROOT}/{owner}/+/{kind.value}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed TwitchWatch topic (``user`` is empty for the server's status)."""

    kind: TopicKind
    user: str
    device: str | None = None
    rule: str | None = None
    scope: str | None = None


def parse_topic(topic: str) -> Topic:
    """Parse any TwitchWatch topic; a topic outside the contract raises ContractError."""
    if topic == SERVER_STATUS_TOPIC:
        return Topic(TopicKind.SERVER_STATUS, "")
    levels = topic.split("/")
    root = TOPIC_ROOT.split("/")
    if levels[: len(root)] != root or len(levels) < len(root) + 2:
        raise TopicError(topic, f"under {TOPIC_ROOT}/<user>/")
    user, rest = levels[len(root)], levels[len(root) + 1 :]
    check_id(user, "user")
    match rest:
        case ["reports"]:
            return Topic(TopicKind.REPORTS, user)
        case ["acks"]:
            return Topic(TopicKind.ALERT_ACKS, user)
        case ["profile"]:
            return Topic(TopicKind.PROFILE, user)
        case ["alerts", "events"]:
            return Topic(TopicKind.ALERT_EVENTS, user)
        case ["alerts", rule, scope] if rule in Rule.__members__.values():
            return Topic(TopicKind.ALERT, user, rule=rule, scope=check_id(scope, "scope"))
        case [device, ("status" | "windows" | "ack") as kind]:
            return Topic(TopicKind(kind), user, device=check_id(device, "device"))
    raise TopicError(topic, "a TwitchWatch topic")
