"""The contract shared by the edge agent and the server: sites, regions, MQTT topics, payloads.

This is the one vocabulary both sides import. Words defined here (site ids, ``twitch``/``cramp``,
``voluntary``/``motion``/``artifact``/``gap``, topic levels, payload fields) are spelled the same in
code, JSON, SQL and docs. Every payload is validated here, on the way out and on the way in: a
message that does not parse raises :class:`PayloadError`, one line, naming the field.

Import from here (``from twitchwatch.contract import WindowMessage``); the modules are:

- ``kinds``: Kind (and its internal unit), EventKind, Reason, Rule;
- ``sites``: body sites, regions, limb groups;
- ``topics``: ids, topic builders and filters, ``parse_topic``;
- ``payload``: what every payload shares (JSON, schema version, UTC times, caps, field checks);
- ``windows``, ``devices`` (status, ack), ``reports``, ``alerts``: one payload family each.
"""

from __future__ import annotations

from twitchwatch.contract.alerts import (
    ADVICE,
    AlertAck,
    AlertEvent,
    AlertState,
    AlertStatus,
    Severity,
    Transition,
)
from twitchwatch.contract.devices import (
    DeviceAck,
    DeviceState,
    DeviceStatus,
)
from twitchwatch.contract.kinds import (
    INTERNAL_UNIT,
    EventKind,
    Kind,
    Reason,
    Rule,
)
from twitchwatch.contract.payload import (
    MAX_AGE,
    MAX_CLOCK_AHEAD,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
    SCHEMA_VERSION,
    check_when,
    decode_json,
    encode_json,
    format_utc,
    parse_utc,
    utc_day,
)
from twitchwatch.contract.reports import (
    CONTEXT_REPORTS,
    MAX_NOTE_CHARS,
    MAX_REPORT_VALUE,
    Report,
    ReportKind,
)
from twitchwatch.contract.sites import (
    LIMB_GROUP,
    MIDLINE_PLACES,
    PLACE_REGION,
    SIDES,
    Region,
    is_known_site,
    limb_group_of,
    normalize_site,
    region_of,
    split_site,
)
from twitchwatch.contract.topics import (
    ALL_ALERTS_FILTER,
    SERVER_FILTERS,
    TOPIC_ROOT,
    Topic,
    TopicKind,
    alert_acks_topic,
    alert_events_topic,
    alert_topic,
    alerts_filter,
    check_id,
    device_filter,
    device_topic,
    parse_topic,
    reports_topic,
)
from twitchwatch.contract.windows import (
    AMPLITUDE_UNITS,
    MAX_AMPLITUDE,
    MAX_CRAMPS_PER_S,
    MAX_SITES_PER_WINDOW,
    MAX_TWITCHES_PER_S,
    MAX_WINDOW_S,
    MIN_WINDOW_S,
    SECONDS_SLACK,
    SiteWindow,
    WindowMessage,
)
from twitchwatch.errors import (
    ContractError,
    IdError,
    PayloadError,
    SiteError,
    TopicError,
    TwitchWatchError,
)

__all__ = [
    "ADVICE",
    "ALL_ALERTS_FILTER",
    "AMPLITUDE_UNITS",
    "CONTEXT_REPORTS",
    "INTERNAL_UNIT",
    "LIMB_GROUP",
    "MAX_AGE",
    "MAX_AMPLITUDE",
    "MAX_CLOCK_AHEAD",
    "MAX_CRAMPS_PER_S",
    "MAX_NOTE_CHARS",
    "MAX_PAYLOAD_BYTES",
    "MAX_REPORT_VALUE",
    "MAX_SEQ",
    "MAX_SITES_PER_WINDOW",
    "MAX_TWITCHES_PER_S",
    "MAX_WINDOW_S",
    "MIDLINE_PLACES",
    "MIN_WINDOW_S",
    "PLACE_REGION",
    "SCHEMA_VERSION",
    "SECONDS_SLACK",
    "SERVER_FILTERS",
    "SIDES",
    "TOPIC_ROOT",
    "AlertAck",
    "AlertEvent",
    "AlertState",
    "AlertStatus",
    "ContractError",
    "DeviceAck",
    "DeviceState",
    "DeviceStatus",
    "EventKind",
    "IdError",
    "Kind",
    "PayloadError",
    "Reason",
    "Region",
    "Report",
    "ReportKind",
    "Rule",
    "Severity",
    "SiteError",
    "SiteWindow",
    "Topic",
    "TopicError",
    "TopicKind",
    "Transition",
    "TwitchWatchError",
    "WindowMessage",
    "alert_acks_topic",
    "alert_events_topic",
    "alert_topic",
    "alerts_filter",
    "check_id",
    "check_when",
    "decode_json",
    "device_filter",
    "device_topic",
    "encode_json",
    "format_utc",
    "is_known_site",
    "limb_group_of",
    "normalize_site",
    "parse_topic",
    "parse_utc",
    "region_of",
    "reports_topic",
    "split_site",
    "utc_day",
]
