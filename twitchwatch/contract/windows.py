"""``<user>/<device>/windows``: one window of counts and observed seconds for every site of a device.

The ack means "dealt with": the server's retained DeviceAck ``seq`` says every window of the
device with a seq up to it is either stored or refused for good (a window that breaks the
contract, such as one from an edge booted without a clock that starts in 1970, never becomes
valid by being sent again). A refused window is counted by reason and shown to the person, and
it never holds back the ack of the windows after it. :func:`window_seq` is how the server learns
the seq of a window it refuses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from twitchwatch.contract.kinds import INTERNAL_UNIT
from twitchwatch.contract.payload import (
    MAX_SEQ,
    SCHEMA_VERSION,
    check_same_id,
    check_when,
    decode_json,
    encode_json,
    format_utc,
    int_field,
    known_site,
    number_field,
    parse_utc,
    utc_now,
)
from twitchwatch.contract.topics import TopicKind, device_topic
from twitchwatch.errors import PayloadError

MAX_SITES_PER_WINDOW = 32
MIN_WINDOW_S = 1.0
MAX_WINDOW_S = 3600.0
#: Isolated twitches are >= 250 ms apart; 10 per second of window is beyond any real count.
MAX_TWITCHES_PER_S = 10.0
#: A cramp lasts >= 5 s (detector config), so a window holds few.
MAX_CRAMPS_PER_S = 0.25
#: Rest + active + gap may exceed the window by rounding, never by more.
SECONDS_SLACK = 0.5
AMPLITUDE_UNITS = frozenset(INTERNAL_UNIT.values())
MAX_AMPLITUDE = {"uV": 100_000.0, "g": 16.0}


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
    #: Optional (issue 15): "the edge holds nothing below this seq" when it sent the window.
    #: A server that lost its database restarts the device's contiguous ack from there. The
    #: edge's state when it sent, not the window's content: two copies compare equal without it.
    first_held: int | None = field(default=None, compare=False)

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
            | ({} if self.first_held is None else {"first_held": self.first_held})
        )

    @classmethod
    def from_payload(
        cls, payload: bytes, *, user: str, device: str, now: datetime | None = None
    ) -> Self:
        """Validate a windows payload received on ``user``'s ``device`` topic."""
        what = "windows"
        doc = decode_json(payload, TopicKind.WINDOWS)
        check_same_id(doc, "user", user, what)
        check_same_id(doc, "device", device, what)
        seq = int_field(doc, "seq", what, 1, MAX_SEQ)
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
        now = now or utc_now()
        check_when(start, now, what, "start")
        check_when(end, now, what, "end")
        raw_sites = doc.get("sites")
        if not isinstance(raw_sites, dict) or not 1 <= len(raw_sites) <= MAX_SITES_PER_WINDOW:
            raise PayloadError(
                what, "bad_sites", f'"sites" must map 1-{MAX_SITES_PER_WINDOW} sites'
            )
        sites = {
            known_site(site, what): _site_window(entry, f"{what} {site}", length)
            for site, entry in raw_sites.items()
        }
        first_held = None
        if doc.get("first_held") is not None:
            first_held = int_field(doc, "first_held", what, 1, seq)  # this window is held
        return cls(user, device, seq, start, end, sites, first_held)


def window_seq(payload: bytes, *, user: str, device: str) -> int | None:
    """The seq a windows payload on ``user``'s ``device`` topic names, None if it names none.

    For a payload :meth:`WindowMessage.from_payload` refused: when its ids match the topic and
    its seq is valid, the server records that seq as refused for good, so the ack can pass it.
    """
    try:
        doc = decode_json(payload, TopicKind.WINDOWS)
        check_same_id(doc, "user", user, "windows")
        check_same_id(doc, "device", device, "windows")
        return int_field(doc, "seq", "windows", 1, MAX_SEQ)
    except PayloadError:
        return None


def _site_window(entry: object, what: str, length: float) -> SiteWindow:
    if not isinstance(entry, dict):
        raise PayloadError(what, "bad_type", "must be an object")
    seconds = [
        number_field(entry, name, what, 0.0, length + SECONDS_SLACK)
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
        twitches=int_field(entry, "twitches", what, 0, math.ceil(MAX_TWITCHES_PER_S * length)),
        cramps=int_field(entry, "cramps", what, 0, math.ceil(MAX_CRAMPS_PER_S * length)),
        rest_s=seconds[0],  # type: ignore[arg-type]
        active_s=seconds[1],  # type: ignore[arg-type]
        gap_s=seconds[2],  # type: ignore[arg-type]
        amp_median=number_field(entry, "amp_median", what, 0.0, MAX_AMPLITUDE[unit], optional=True),
        unit=unit,
    )
