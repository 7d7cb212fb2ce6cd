"""The contract shared by the edge agent and the server: sites, regions, MQTT topics, payloads.

This is the one module both sides import. Words defined here (site ids, ``twitch``/``cramp``,
``voluntary``/``motion``/``artifact``/``gap``, topic levels, payload fields) are spelled the same in
code, JSON, SQL and docs. Every payload is validated here, on the way out and on the way in: a
message that does not parse raises :class:`PayloadError`, one line, naming the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from twitchwatch.errors import (
    ContractError,
    PayloadError,
    SiteError,
    TwitchWatchError,  # noqa: F401  (re-exported: many import it here)
)

SCHEMA_VERSION = 1


class Kind(StrEnum):
    """What a sensor stream measures. Each kind has one internal unit."""

    EMG = "emg"
    ACC = "acc"


#: The one unit each kind is held in inside TwitchWatch; drivers and readers convert at the boundary.
INTERNAL_UNIT: dict[Kind, str] = {Kind.EMG: "uV", Kind.ACC: "g"}


class EventKind(StrEnum):
    TWITCH = "twitch"
    CRAMP = "cramp"


class Reason(StrEnum):
    """Why a stretch of signal was not counted."""

    VOLUNTARY = "voluntary"
    MOTION = "motion"
    ARTIFACT = "artifact"
    GAP = "gap"


class Region(StrEnum):
    """Regions as in the Awaji / Gold Coast criteria; left and right count as one region."""

    BULBAR = "bulbar"
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBOSACRAL = "lumbosacral"


#: Every body place TwitchWatch knows, with its region.
PLACE_REGION: dict[str, Region] = {
    **dict.fromkeys(("eyelid", "face", "jaw", "tongue"), Region.BULBAR),
    **dict.fromkeys(("neck", "shoulder", "upper_arm", "forearm", "hand", "thumb"), Region.CERVICAL),
    **dict.fromkeys(("chest", "abdomen", "upper_back"), Region.THORACIC),
    **dict.fromkeys(("lower_back", "glute", "thigh", "calf", "shin", "foot"), Region.LUMBOSACRAL),
}

#: Places on the midline: they take no side.
MIDLINE_PLACES = frozenset({"tongue", "neck", "chest", "abdomen", "upper_back", "lower_back"})

SIDES = ("left", "right")

#: Limb places grouped as in Howard & Murray 1992 ("widespread" = >= 5 of the 8 side x group).
LIMB_GROUP: dict[str, str] = {
    "upper_arm": "upper_arm",
    "forearm": "forearm_hand",
    "hand": "forearm_hand",
    "thumb": "forearm_hand",
    "thigh": "thigh",
    "calf": "leg_foot",
    "shin": "leg_foot",
    "foot": "leg_foot",
}

_SIDE_ABBREVIATION = re.compile(r"^(l|r)_")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_site(site: str) -> str:
    """Lower-case a site id, expand ``l_``/``r_`` and turn spaces or hyphens into ``_``.

    Any name is accepted (files from elsewhere may say ``left_arm``); only an empty one is not.
    """
    name = _SEPARATORS.sub("_", site.strip().lower())
    name = _SIDE_ABBREVIATION.sub(lambda m: "left_" if m.group(1) == "l" else "right_", name)
    if not name:
        raise SiteError(site, "empty site name")
    return name


def split_site(site: str) -> tuple[str | None, str]:
    """``"left_calf"`` -> ``("left", "calf")``; ``"tongue"`` -> ``(None, "tongue")``."""
    side, _, place = site.partition("_")
    if side in SIDES and place:
        return side, place
    return None, site


def is_known_site(site: str) -> bool:
    """True for a site of the taxonomy: a sided place, or a midline place without a side."""
    side, place = split_site(site)
    if place not in PLACE_REGION:
        return False
    return (side is None) == (place in MIDLINE_PLACES)


def region_of(site: str) -> Region | None:
    """The region of a known site, None for a site outside the taxonomy."""
    _, place = split_site(site)
    return PLACE_REGION.get(place)


def limb_group_of(site: str) -> str | None:
    """``"left_hand"`` -> ``"left_forearm_hand"``; None for non-limb or unsided sites."""
    side, place = split_site(site)
    group = LIMB_GROUP.get(place)
    if side is None or group is None:
        return None
    return f"{side}_{group}"


# --- MQTT topics -----------------------------------------------------------------------------------

TOPIC_ROOT = "twitchwatch/v1"

#: User and device ids are topic levels: no ``/``, ``+``, ``#``, no leading ``$``, and short.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Levels under a user that are not devices.
_RESERVED_IDS = frozenset({"reports", "alerts", "acks"})


class TopicKind(StrEnum):
    STATUS = "status"  # <user>/<device>/status, retained, edge -> anyone; the Last Will too
    WINDOWS = "windows"  # <user>/<device>/windows, QoS 1, edge -> server
    ACK = "ack"  # <user>/<device>/ack, retained, server -> edge: every seq up to this is stored
    REPORTS = "reports"  # <user>/reports, QoS 1, person -> server
    ALERT = "alert"  # <user>/alerts/<rule>/<scope>, retained, server -> person
    ALERT_EVENTS = "events"  # <user>/alerts/events, QoS 1, server -> person
    ALERT_ACKS = "acks"  # <user>/acks, QoS 1, person -> server: "I have seen this alert"


def check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value) or value in _RESERVED_IDS:
        raise ContractError(
            f"{what} id {value!r}: use 1-64 letters, digits, '_', '-' or '.' "
            f"(not {', '.join(sorted(_RESERVED_IDS))})"
        )
    return value


def device_topic(user: str, device: str, kind: TopicKind) -> str:
    if kind not in (TopicKind.STATUS, TopicKind.WINDOWS, TopicKind.ACK):
        raise ContractError(f"{kind.value} is not a device topic")
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/{check_id(device, 'device')}/{kind.value}"


def reports_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/reports"


def alert_acks_topic(user: str) -> str:
    return f"{TOPIC_ROOT}/{check_id(user, 'user')}/acks"


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
}

#: Every user's alert states and events (the server writes them; broker ACLs name it).
ALL_ALERTS_FILTER = f"{TOPIC_ROOT}/+/alerts/#"


def device_filter(kind: TopicKind, user: str | None = None) -> str:
    """``<user>/+/<kind>``: one topic kind of every device of a user (of every user if None)."""
    if kind not in (TopicKind.STATUS, TopicKind.WINDOWS, TopicKind.ACK):
        raise ContractError(f"{kind.value} is not a device topic")
    owner = "+" if user is None else check_id(user, "user")
    return f"{TOPIC_ROOT}/{owner}/+/{kind.value}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed TwitchWatch topic."""

    kind: TopicKind
    user: str
    device: str | None = None
    rule: str | None = None
    scope: str | None = None


def parse_topic(topic: str) -> Topic:
    """Parse any TwitchWatch topic; a topic outside the contract raises ContractError."""
    levels = topic.split("/")
    root = TOPIC_ROOT.split("/")
    if levels[: len(root)] != root or len(levels) < len(root) + 2:
        raise ContractError(f"topic {topic!r} is not under {TOPIC_ROOT}/<user>/")
    user, rest = levels[len(root)], levels[len(root) + 1 :]
    check_id(user, "user")
    match rest:
        case ["reports"]:
            return Topic(TopicKind.REPORTS, user)
        case ["acks"]:
            return Topic(TopicKind.ALERT_ACKS, user)
        case ["alerts", "events"]:
            return Topic(TopicKind.ALERT_EVENTS, user)
        case ["alerts", rule, scope] if rule in Rule.__members__.values():
            return Topic(TopicKind.ALERT, user, rule=rule, scope=check_id(scope, "scope"))
        case [device, ("status" | "windows" | "ack") as kind]:
            return Topic(TopicKind(kind), user, device=check_id(device, "device"))
    raise ContractError(f"topic {topic!r} is not a TwitchWatch topic")


# --- payloads: common rules ----------------------------------------------------------------------

#: Caps checked before parsing: a window for 32 sites is ~5 KB, a report well under 1 KB.
MAX_PAYLOAD_BYTES: dict[TopicKind, int] = {
    TopicKind.WINDOWS: 16_384,
    TopicKind.STATUS: 1_024,
    TopicKind.ACK: 1_024,
    TopicKind.REPORTS: 4_096,
    TopicKind.ALERT_ACKS: 1_024,
    TopicKind.ALERT: 16_384,
    TopicKind.ALERT_EVENTS: 16_384,
}
MAX_SITES_PER_WINDOW = 32
MIN_WINDOW_S = 1.0
MAX_WINDOW_S = 3600.0
#: Clocks disagree a little; a time further ahead than this is a wrong clock, not a measurement.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
#: Older data is refused: nothing a person measured is that old, and 1970 is a reset clock.
MAX_AGE = timedelta(days=400)
#: Isolated twitches are >= 250 ms apart; 10 per second of window is beyond any real count.
MAX_TWITCHES_PER_S = 10.0
#: A cramp lasts >= 5 s (detector config), so a window holds few.
MAX_CRAMPS_PER_S = 0.25
#: Rest + active + gap may exceed the window by rounding, never by more.
SECONDS_SLACK = 0.5
MAX_SEQ = 2**53 - 1  # exact in a JSON number everywhere
MAX_NOTE_CHARS = 500
AMPLITUDE_UNITS = frozenset(INTERNAL_UNIT.values())
MAX_AMPLITUDE = {"uV": 100_000.0, "g": 16.0}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def decode_json(payload: bytes, kind: TopicKind) -> dict[str, Any]:
    """Bytes -> JSON object, refusing oversize payloads, NaN/Infinity and non-objects."""
    what = kind.value
    if len(payload) > MAX_PAYLOAD_BYTES[kind]:
        raise PayloadError(
            what, "too_large", f"{len(payload)} bytes, the limit is {MAX_PAYLOAD_BYTES[kind]}"
        )
    try:
        doc = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(what, "not_json", f"not JSON ({exc})") from None
    except RecursionError:  # "[[[[…" nested deeper than the parser's stack
        raise PayloadError(what, "not_json", "nested too deeply") from None
    if not isinstance(doc, dict):
        raise PayloadError(what, "not_object", f"must be a JSON object, got {type(doc).__name__}")
    if doc.get("v") != SCHEMA_VERSION or isinstance(doc.get("v"), bool):
        raise PayloadError(what, "version", f'"v" must be {SCHEMA_VERSION}, got {doc.get("v")!r}')
    return doc


def encode_json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()


def format_utc(t: datetime) -> str:
    """``2026-11-21T10:00:00Z``; milliseconds only when the time has them."""
    t = t.astimezone(UTC)
    text = t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_utc(value: object, what: str, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise PayloadError(what, "bad_time", f'"{name}" must be a UTC ISO 8601 string')
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(what, "bad_time", f'"{name}" is not ISO 8601: {value!r}') from None
    if t.utcoffset() != timedelta(0):
        raise PayloadError(what, "bad_time", f'"{name}" must be UTC ("Z"), got {value!r}')
    return t.astimezone(UTC)


def check_when(t: datetime, now: datetime, what: str, name: str) -> None:
    if t > now + MAX_CLOCK_AHEAD:
        raise PayloadError(what, "future", f'"{name}" {format_utc(t)} is in the future')
    if t < now - MAX_AGE:
        raise PayloadError(
            what, "too_old", f'"{name}" {format_utc(t)} is older than {MAX_AGE.days} days'
        )


def _int(doc: Mapping[str, Any], name: str, what: str, lo: int, hi: int) -> int:
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(what, "bad_type", f'"{name}" must be an integer, got {value!r}')
    if not lo <= value <= hi:
        raise PayloadError(what, "out_of_range", f'"{name}" = {value} is outside [{lo}, {hi}]')
    return value


def _number(
    doc: Mapping[str, Any], name: str, what: str, lo: float, hi: float, optional: bool = False
) -> float | None:
    value = doc.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(what, "bad_type", f'"{name}" must be a number, got {value!r}')
    if not (lo <= value <= hi and math.isfinite(value)):  # 10**400 compares, isfinite overflows
        raise PayloadError(what, "out_of_range", f'"{name}" = {value} is outside [{lo:g}, {hi:g}]')
    return float(value)


def _text(
    doc: Mapping[str, Any], name: str, what: str, max_chars: int, optional: bool = False
) -> str | None:
    value = doc.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise PayloadError(
            what, "bad_type", f'"{name}" must be a string of at most {max_chars} characters'
        )
    return value


def _same_id(doc: Mapping[str, Any], name: str, expected: str, what: str) -> None:
    if doc.get(name) != expected:
        raise PayloadError(
            what,
            "id_mismatch",
            f'"{name}" {doc.get(name)!r} disagrees with the topic ({expected!r})',
        )


def _known_site(value: object, what: str) -> str:
    if not isinstance(value, str) or not is_known_site(value):
        raise PayloadError(what, "unknown_site", f"unknown body site {value!r}")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


# --- windows -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteWindow:
    """One site's share of a window. rest + active + gap <= window length (cramps are none)."""

    twitches: int
    cramps: int
    rest_s: float  # observed rest in which twitches could be counted
    active_s: float  # voluntary contraction or motion
    gap_s: float  # not observed: no signal, artifact, not yet decided when the window closed
    amp_median: float | None  # median twitch amplitude, None without twitches
    unit: str  # of amp_median: "uV" (EMG) or "g" (accelerometer-only site)

    def to_doc(self) -> dict[str, Any]:
        return {
            "twitches": self.twitches,
            "cramps": self.cramps,
            "rest_s": round(self.rest_s, 3),
            "active_s": round(self.active_s, 3),
            "gap_s": round(self.gap_s, 3),
            "amp_median": None if self.amp_median is None else round(self.amp_median, 3),
            "unit": self.unit,
        }


@dataclass(frozen=True, slots=True)
class WindowMessage:
    """``twitchwatch/v1/<user>/<device>/windows``: one window of every site of a device."""

    user: str
    device: str
    seq: int  # per device, from 1, +1 per window, never reused
    start: datetime
    end: datetime
    sites: Mapping[str, SiteWindow]

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def topic(self) -> str:
        return device_topic(self.user, self.device, TopicKind.WINDOWS)

    def to_payload(self) -> bytes:
        return encode_json(
            {
                "v": SCHEMA_VERSION,
                "user": self.user,
                "device": self.device,
                "seq": self.seq,
                "start": format_utc(self.start),
                "end": format_utc(self.end),
                "sites": {site: w.to_doc() for site, w in self.sites.items()},
            }
        )

    @classmethod
    def from_payload(
        cls, payload: bytes, *, user: str, device: str, now: datetime | None = None
    ) -> Self:
        """Validate a windows payload received on ``user``'s ``device`` topic."""
        what = "windows"
        doc = decode_json(payload, TopicKind.WINDOWS)
        _same_id(doc, "user", user, what)
        _same_id(doc, "device", device, what)
        seq = _int(doc, "seq", what, 1, MAX_SEQ)
        start, end = (
            parse_utc(doc.get("start"), what, "start"),
            parse_utc(doc.get("end"), what, "end"),
        )
        length = (end - start).total_seconds()
        if not MIN_WINDOW_S <= length <= MAX_WINDOW_S:
            raise PayloadError(
                what,
                "bad_window",
                f"window of {length:g} s (must be {MIN_WINDOW_S:g}-{MAX_WINDOW_S:g} s)",
            )
        now = now or _now()
        check_when(start, now, what, "start")
        check_when(end, now, what, "end")
        raw_sites = doc.get("sites")
        if not isinstance(raw_sites, dict) or not 1 <= len(raw_sites) <= MAX_SITES_PER_WINDOW:
            raise PayloadError(
                what, "bad_sites", f'"sites" must map 1-{MAX_SITES_PER_WINDOW} sites'
            )
        sites = {
            _known_site(site, what): _site_window(entry, f"{what} {site}", length)
            for site, entry in raw_sites.items()
        }
        return cls(user, device, seq, start, end, sites)


def _site_window(entry: object, what: str, length: float) -> SiteWindow:
    if not isinstance(entry, dict):
        raise PayloadError(what, "bad_type", "must be an object")
    seconds = [
        _number(entry, name, what, 0.0, length + SECONDS_SLACK)
        for name in ("rest_s", "active_s", "gap_s")
    ]
    if sum(seconds) > length + SECONDS_SLACK:  # type: ignore[arg-type]
        raise PayloadError(
            what, "out_of_range", f"rest + active + gap exceed the {length:g} s window"
        )
    unit = entry.get("unit")
    if not isinstance(unit, str) or unit not in AMPLITUDE_UNITS:
        raise PayloadError(
            what, "bad_unit", f'"unit" must be one of {sorted(AMPLITUDE_UNITS)}, got {unit!r}'
        )
    return SiteWindow(
        twitches=_int(entry, "twitches", what, 0, math.ceil(MAX_TWITCHES_PER_S * length)),
        cramps=_int(entry, "cramps", what, 0, math.ceil(MAX_CRAMPS_PER_S * length)),
        rest_s=seconds[0],  # type: ignore[arg-type]
        active_s=seconds[1],  # type: ignore[arg-type]
        gap_s=seconds[2],  # type: ignore[arg-type]
        amp_median=_number(entry, "amp_median", what, 0.0, MAX_AMPLITUDE[unit], optional=True),
        unit=unit,
    )


# --- device status and the server's ack -----------------------------------------------------------


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """``<user>/<device>/status``, retained: online on connect, offline from the Last Will."""

    device: str
    state: DeviceState

    def to_payload(self) -> bytes:
        return encode_json({"v": SCHEMA_VERSION, "device": self.device, "state": self.state.value})

    @classmethod
    def from_payload(cls, payload: bytes, *, device: str) -> Self:
        doc = decode_json(payload, TopicKind.STATUS)
        _same_id(doc, "device", device, "status")
        try:
            return cls(device, DeviceState(doc.get("state")))
        except ValueError:
            raise PayloadError(
                "status",
                "bad_state",
                f'"state" must be online or offline, got {doc.get("state")!r}',
            ) from None


@dataclass(frozen=True, slots=True)
class DeviceAck:
    """``<user>/<device>/ack``, retained: the server has stored every window with seq <= ``seq``."""

    device: str
    seq: int  # 0: nothing yet

    def to_payload(self) -> bytes:
        return encode_json({"v": SCHEMA_VERSION, "device": self.device, "seq": self.seq})

    @classmethod
    def from_payload(cls, payload: bytes, *, device: str) -> Self:
        doc = decode_json(payload, TopicKind.ACK)
        _same_id(doc, "device", device, "ack")
        return cls(device, _int(doc, "seq", "ack", 0, MAX_SEQ))


# --- reports -------------------------------------------------------------------------------------


class ReportKind(StrEnum):
    """What a person reports. Symptoms first, then context that makes twitching more likely."""

    WEAKNESS = "weakness"
    ATROPHY = "atrophy"
    NUMBNESS = "numbness"
    SPEECH = "speech"
    SWALLOWING = "swallowing"
    BREATHING = "breathing"
    CAFFEINE = "caffeine"
    SLEEP = "sleep"
    STRESS = "stress"
    EXERCISE = "exercise"
    MEDICATION = "medication"


#: Reports that are context (likely benign factors), not symptoms.
CONTEXT_REPORTS = frozenset(
    {
        ReportKind.CAFFEINE,
        ReportKind.SLEEP,
        ReportKind.STRESS,
        ReportKind.EXERCISE,
        ReportKind.MEDICATION,
    }
)
MAX_REPORT_VALUE = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Report:
    """``<user>/reports``: ``value`` is free (cups, hours of sleep, a 0-10 score), ``note`` is text."""

    t: datetime
    kind: ReportKind
    site: str | None = None
    value: float | None = None
    note: str | None = None

    def to_payload(self) -> bytes:
        doc: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "t": format_utc(self.t),
            "kind": self.kind.value,
        }
        for name in ("site", "value", "note"):
            if getattr(self, name) is not None:
                doc[name] = getattr(self, name)
        return encode_json(doc)

    @classmethod
    def from_payload(cls, payload: bytes, *, now: datetime | None = None) -> Self:
        what = "report"
        doc = decode_json(payload, TopicKind.REPORTS)
        t = parse_utc(doc.get("t"), what, "t")
        check_when(t, now or _now(), what, "t")
        try:
            kind = ReportKind(doc.get("kind"))
        except ValueError:
            raise PayloadError(what, "bad_kind", f'unknown "kind" {doc.get("kind")!r}') from None
        site = doc.get("site")
        return cls(
            t=t,
            kind=kind,
            site=None if site is None else _known_site(site, what),
            value=_number(doc, "value", what, -MAX_REPORT_VALUE, MAX_REPORT_VALUE, optional=True),
            note=_text(doc, "note", what, MAX_NOTE_CHARS, optional=True),
        )


# --- alerts --------------------------------------------------------------------------------------


class Rule(StrEnum):
    """The rules; with (user, scope) they name an alert. Scopes: a site, a region, a symptom, "all"."""

    PERSISTENCE = "persistence"  # scope: site
    SPREAD = "spread"  # scope: "all"
    WIDESPREAD = "widespread"  # scope: "all"
    WORSENING = "worsening"  # scope: site
    WEAKNESS = "weakness"  # scope: region (weakness or atrophy reported where it twitches)
    RED_FLAG = "red_flag"  # scope: the symptom (speech, swallowing, breathing)


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
            scope=_text(doc, "scope", what, 64) or "",
            severity=severity,
            state=state,
            since=parse_utc(doc.get("since"), what, "since"),
            message=_text(doc, "message", what, 2_000) or "",
            evidence=evidence,
            context=tuple(str(c) for c in context),
            acknowledged=bool(doc.get("acknowledged", False)),
            version=_int(doc, "version", what, 1, MAX_SEQ) if "version" in doc else 1,
        )


class Transition(StrEnum):
    PENDING = "pending"  # the condition holds, not yet for long enough
    FIRING = "firing"  # the alert is raised
    ESCALATED = "escalated"  # raised again at a higher severity
    REMINDER = "reminder"  # still firing, unacknowledged, after the repeat interval
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """``<user>/alerts/events``: one transition of one alert, with the state it left the alert in."""

    t: datetime
    transition: Transition
    alert: AlertState

    def to_payload(self) -> bytes:
        doc = json.loads(self.alert.to_payload())
        doc.update({"t": format_utc(self.t), "transition": self.transition.value})
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
        return cls(parse_utc(doc.get("t"), "alert event", "t"), transition, alert)


@dataclass(frozen=True, slots=True)
class AlertAck:
    """``<user>/acks``: the person has seen an alert (reminders stop until it escalates)."""

    rule: Rule
    scope: str

    def to_payload(self) -> bytes:
        return encode_json({"v": SCHEMA_VERSION, "rule": self.rule.value, "scope": self.scope})

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        doc = decode_json(payload, TopicKind.ALERT_ACKS)
        try:
            rule = Rule(doc.get("rule"))
        except ValueError:
            raise PayloadError(
                "alert ack", "bad_enum", f'unknown "rule" {doc.get("rule")!r}'
            ) from None
        scope = _text(doc, "scope", "alert ack", 64) or ""
        try:
            check_id(scope, "scope")
        except ContractError as exc:
            raise PayloadError("alert ack", "bad_scope", str(exc)) from None
        return cls(rule, scope)


def utc_day(t: datetime) -> date:
    """The UTC calendar day a time falls in (daily aggregates use UTC days)."""
    return t.astimezone(UTC).date()
