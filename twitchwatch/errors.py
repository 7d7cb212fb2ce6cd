"""The ground floor's typed errors, under the one root every TwitchWatch error shares.

Each error carries fields (``site``, ``problem``, …) and composes its one-line message in
``__init__``; only the command line catches :class:`TwitchWatchError`, prints that line and exits
with code 2. Each floor above adds its own errors, all under this root.
"""

from __future__ import annotations


class TwitchWatchError(Exception):
    """Root of every error the command line reports as one line (exit code 2)."""


class SiteError(TwitchWatchError):
    def __init__(self, site: str, problem: str) -> None:
        super().__init__(f"body site {site!r}: {problem}")
        self.site, self.problem = site, problem


class ContractError(TwitchWatchError):
    """A topic or an id that the contract does not allow: an :class:`IdError` or a :class:`TopicError`."""

    #: The short code counters use, as :attr:`PayloadError.problem` is for payloads: whatever is
    #: wrong with a topic (a bad id in it too) makes it a topic no one can consume.
    problem: str = "bad_topic"


class IdError(ContractError):
    """A user, device or scope id that cannot be a topic level."""

    def __init__(self, what: str, value: object, hint: str) -> None:
        super().__init__(f"{what} id {value!r}: {hint}")
        self.what, self.value, self.hint = what, value, hint


class TopicError(ContractError):
    """A topic (or topic kind) that is not the kind expected."""

    def __init__(self, topic: str, expected: str) -> None:
        super().__init__(f"topic {topic!r} is not {expected}")
        self.topic, self.expected = topic, expected


class ZoneError(TwitchWatchError):
    """A time zone name that is not an IANA zone this machine knows (``Europe/Berlin``)."""

    def __init__(self, name: object, problem: str) -> None:
        super().__init__(f"time zone {name!r}: {problem}")
        self.name, self.problem = name, problem


class PayloadError(TwitchWatchError):
    """A payload that breaks the contract. ``problem`` is a short code for counters."""

    def __init__(self, what: str, problem: str, detail: str) -> None:
        super().__init__(f"{what} payload: {detail}")
        self.what, self.problem, self.detail = what, problem, detail


# --- the MQTT link (twitchwatch.mqtt_link) ------------------------------------------------------
# ``broker`` is the URL as printed (``mqtt://user@host:port``, never the password).


class MqttLinkError(TwitchWatchError):
    """The broker refused, could not be reached, or rejected a publish or subscription."""


class BrokerUrlError(MqttLinkError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"broker URL {url!r}: {problem}")
        self.url, self.problem = url, problem


class BrokerUnreachableError(MqttLinkError):
    def __init__(self, broker: str, within_s: float) -> None:
        super().__init__(f"broker {broker} not reachable within {within_s:g} s (is it running?)")
        self.broker, self.within_s = broker, within_s


class ConnectRefusedError(MqttLinkError):
    """The broker answered CONNECT with a refusal (``code``: MQTT 5 reason code)."""

    def __init__(self, broker: str, code: int, reason: str) -> None:
        super().__init__(f"broker {broker} refused the connection: {reason}")
        self.broker, self.code, self.reason = broker, code, reason


class PublishNotQueuedError(MqttLinkError):
    """paho could not queue a publish (QoS 0 while disconnected, its queue full, …)."""

    def __init__(self, topic: str, problem: str) -> None:
        super().__init__(f"publish to {topic}: {problem}")
        self.topic, self.problem = topic, problem


class PublishRefusedError(MqttLinkError):
    """The broker answered a QoS 1 publish with a failure reason code (MQTT 5)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"broker refused the message: {reason}")
        self.code, self.reason = code, reason


class LinkLost(MqttLinkError):
    """The connection a message iterator or a pending publish relied on is gone.

    ``closed``: the link was closed, nothing more will come. Otherwise the connection dropped
    (``reason``: the broker's or paho's words for it) and paho is reconnecting: wait until the
    link is connected again and iterate again.
    """

    def __init__(self, broker: str, reason: str, *, closed: bool) -> None:
        super().__init__(f"link to {broker} {'closed' if closed else 'lost'} ({reason})")
        self.broker, self.reason, self.closed = broker, reason, closed
