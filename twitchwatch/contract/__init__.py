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
- ``windows``, ``devices`` (status, ack, the server's status), ``reports``, ``alerts``,
  ``profile`` (the person's time zone): one payload family each.

Changes to v1 since the design card (all additive: an older reader ignores what it does not
know) are listed in docs/contract.md.
"""

from __future__ import annotations

from twitchwatch.contract.alerts import (
    ADVICE,
    NOTIFYING,
    AckAction,
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
    ServerStatus,
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
from twitchwatch.contract.profile import (
    DEFAULT_TZ,
    MAX_NAME_CHARS,
    MAX_TZ_CHARS,
    Profile,
    check_zone,
)
from twitchwatch.contract.reports import (
    CONTEXT_REPORTS,
    MAX_NOTE_CHARS,
    MAX_REPORT_VALUE,
    Report,
    ReportKind,
    new_report_id,
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
    SERVER_STATUS_TOPIC,
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
    profile_topic,
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
    window_seq,
)
from twitchwatch.errors import (
    ContractError,
    IdError,
    PayloadError,
    SiteError,
    TopicError,
    TwitchWatchError,
    ZoneError,
)

__all__ = [
    "ADVICE",
    "ALL_ALERTS_FILTER",
    "AMPLITUDE_UNITS",
    "CONTEXT_REPORTS",
    "DEFAULT_TZ",
    "INTERNAL_UNIT",
    "LIMB_GROUP",
    "MAX_AGE",
    "MAX_AMPLITUDE",
    "MAX_CLOCK_AHEAD",
    "MAX_CRAMPS_PER_S",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_PAYLOAD_BYTES",
    "MAX_REPORT_VALUE",
    "MAX_SEQ",
    "MAX_SITES_PER_WINDOW",
    "MAX_TWITCHES_PER_S",
    "MAX_TZ_CHARS",
    "MAX_WINDOW_S",
    "MIDLINE_PLACES",
    "MIN_WINDOW_S",
    "NOTIFYING",
    "PLACE_REGION",
    "SCHEMA_VERSION",
    "SECONDS_SLACK",
    "SERVER_FILTERS",
    "SERVER_STATUS_TOPIC",
    "SIDES",
    "TOPIC_ROOT",
    "AckAction",
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
    "Profile",
    "Reason",
    "Region",
    "Report",
    "ReportKind",
    "Rule",
    "ServerStatus",
    "Severity",
    "SiteError",
    "SiteWindow",
    "Topic",
    "TopicError",
    "TopicKind",
    "Transition",
    "TwitchWatchError",
    "WindowMessage",
    "ZoneError",
    "alert_acks_topic",
    "alert_events_topic",
    "alert_topic",
    "alerts_filter",
    "check_id",
    "check_when",
    "check_zone",
    "decode_json",
    "device_filter",
    "device_topic",
    "encode_json",
    "format_utc",
    "is_known_site",
    "limb_group_of",
    "new_report_id",
    "normalize_site",
    "parse_topic",
    "parse_utc",
    "profile_topic",
    "region_of",
    "reports_topic",
    "split_site",
    "utc_day",
    "window_seq",
]
