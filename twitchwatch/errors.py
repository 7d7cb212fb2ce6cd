"""The ground floor's typed errors, under the one root every TwitchWatch error shares.

Each error carries fields (``site``, ``problem``, …) and composes its one-line message in
``__init__``; only the command line catches :class:`TwitchWatchError`, prints that line and exits
with the code of the error's :class:`Category`: 2 for input a person can fix (the command line, a
config, a file), 1 for a runtime failure (a broker or database that refuses or does not answer).
Each floor above adds its own errors, all under this root. No message ever holds a password:
URLs go through :func:`redact_url`, and values a person typed are shortened by :func:`shown`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: A value echoed in a message is cut to this many characters: a 10 MB config string must not
#: become a 10 MB error line.
SHOWN_CHARS = 80
#: What replaces a password in a URL shown to a person or written to a log.
HIDDEN = "***"


class Category(StrEnum):
    """What kind of failure an error is; the command line turns it into the exit code."""

    INPUT = "input"  # the command line, a config or a file says something unusable: exit 2
    RUNTIME = "runtime"  # something did not answer, refused, or failed while running: exit 1


class TwitchWatchError(Exception):
    """Root of every error the command line reports as one line (exit code by ``category``)."""

    #: Runtime unless a class says its cause is input a person can fix.
    category: ClassVar[Category] = Category.RUNTIME


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters with the full length said, for messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    length = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[: limit - 1]}… ({length:,} characters)"


def redact_url(url: str) -> str:
    """The URL with any password hidden (``user:***@host``, ``?password=***``), for messages and
    logs. Never raises: text that is not a URL comes back with everything after ``//`` up to the
    last ``@`` hidden."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}:{HIDDEN}@{host}"
        query = parts.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() == "password" for key, _ in pairs):
            query = urlencode(
                [(k, HIDDEN if k.lower() == "password" else v) for k, v in pairs], safe="*/:"
            )
        if (netloc, query) == (parts.netloc, parts.query):
            return url  # nothing hidden: as given (urlunsplit would drop sqlite:///'s slashes)
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # an unparseable URL (mqtt://[::1): hide what could be credentials
        scheme, sep, rest = url.partition("//")
        if "@" in rest:
            rest = f"{HIDDEN}@{rest.rpartition('@')[2]}"
        return f"{scheme}{sep}{rest}"


class SiteError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, site: str, problem: str) -> None:
        super().__init__(f"body site {site!r}: {problem}")
        self.site, self.problem = site, problem


class ContractError(TwitchWatchError):
    """A topic or an id that the contract does not allow: an :class:`IdError` or a :class:`TopicError`."""

    #: The short code counters use, as :attr:`PayloadError.problem` is for payloads: whatever is
    #: wrong with a topic (a bad id in it too) makes it a topic no one can consume.
    problem: str = "bad_topic"
    category = Category.INPUT


class IdError(ContractError):
    """A user, device or scope id that cannot be a topic level."""

    def __init__(self, what: str, value: object, hint: str) -> None:
        super().__init__(f"{what} id {shown(value)}: {hint}")
        self.what, self.value, self.hint = what, value, hint


class TopicError(ContractError):
    """A topic (or topic kind) that is not the kind expected."""

    def __init__(self, topic: str, expected: str) -> None:
        super().__init__(f"topic {topic!r} is not {expected}")
        self.topic, self.expected = topic, expected


class ZoneError(TwitchWatchError):
    """A time zone name that is not an IANA zone this machine knows (``Europe/Berlin``)."""

    category = Category.INPUT

    def __init__(self, name: object, problem: str) -> None:
        super().__init__(f"time zone {shown(name)}: {problem}")
        self.name, self.problem = name, problem


class PayloadError(TwitchWatchError):
    """A payload that breaks the contract. ``problem`` is a short code for counters."""

    category = Category.INPUT

    def __init__(self, what: str, problem: str, detail: str) -> None:
        super().__init__(f"{what} payload: {detail}")
        self.what, self.problem, self.detail = what, problem, detail


# --- the MQTT link (twitchwatch.mqtt_link) ------------------------------------------------------
# ``broker`` is the URL as printed (``mqtt://user@host:port``, never the password).


class MqttLinkError(TwitchWatchError):
    """The broker refused, could not be reached, or rejected a publish or subscription."""


class BrokerUrlError(MqttLinkError):
    """A broker URL (or the CA file it names) that cannot be used; ``url`` has no password."""

    category = Category.INPUT

    def __init__(self, url: str, problem: str) -> None:
        url = redact_url(url)
        super().__init__(f"broker URL {shown(url, 200)}: {problem}")
        self.url, self.problem = url, problem


class CredentialError(MqttLinkError):
    """A password file or variable that cannot be read or holds no usable password."""

    category = Category.INPUT

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"broker password from {source}: {problem}")
        self.source, self.problem = source, problem


class BrokerUnreachableError(MqttLinkError):
    def __init__(self, broker: str, within_s: float) -> None:
        super().__init__(f"broker {broker} not reachable within {within_s:g} s (is it running?)")
        self.broker, self.within_s = broker, within_s


class BrokerHandshakeError(MqttLinkError):
    """The broker's port took the connection, but no MQTT answer (CONNACK) came back."""

    def __init__(self, broker: str, within_s: float) -> None:
        super().__init__(
            f"broker {broker} took the connection but did not answer the MQTT handshake within "
            f"{within_s:g} s (is this port an MQTT broker, and does it want TLS, mqtts://?)"
        )
        self.broker, self.within_s = broker, within_s


class SessionTakenOverError(MqttLinkError):
    """Another connection logged in with our client id (the same account, where the broker binds
    client ids to accounts) and the broker gave it our session."""

    def __init__(self, broker: str, client_id: str) -> None:
        super().__init__(
            f"broker {broker}: another connection took over the session of client id "
            f"{client_id!r} (the same account logged in elsewhere?): run one client per account"
        )
        self.broker, self.client_id = broker, client_id


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
