"""``<user>/profile``: what the server needs to know about the person; for now their time zone.

Retained, from the person or their edge agent (``[mqtt] tz`` in the edge config): ``{"v": 1, "tz":
"Europe/Berlin"}``. Days (the rules' daily thresholds), and every date and time a person reads,
follow ``tz``; UTC until a profile sets one. More fields may follow in v1: unknown fields are
ignored, so an older server keeps working with a newer profile.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Any, Self
from zoneinfo import ZoneInfo

from twitchwatch.contract.payload import SCHEMA_VERSION, decode_json, encode_json, text_field
from twitchwatch.contract.topics import TopicKind
from twitchwatch.errors import PayloadError, ZoneError

#: The zone of a person who has not set one.
DEFAULT_TZ = "UTC"
MAX_TZ_CHARS = 64
#: Names in the zone database that are not places: the machine's own zone, a placeholder, a
#: compatibility link. A person's zone must mean the same on the edge and on the server.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
_HINT = 'use an IANA time zone name such as "Europe/Berlin" or "America/Los_Angeles"'


def check_zone(name: object) -> ZoneInfo:
    """The zone an IANA name names; ZoneError (one line) for anything else.

    Only names of the zone database count (``Europe/Berlin``, ``UTC``), never a file path,
    ``localtime`` or an abbreviation such as ``PST`` that means different offsets in
    different places.
    """
    if not isinstance(name, str) or not name:
        raise ZoneError(name, f"must be a non-empty string; {_HINT}")
    if len(name) > MAX_TZ_CHARS or not _ZONE_NAME.match(name) or name in _NOT_PLACES:
        raise ZoneError(name, _HINT)
    # The database's own list, not ZoneInfo(name) alone: that would also open files the name
    # happens to match (the machine's "localtime", a stray file in the zone directory).
    if name not in zoneinfo.available_timezones():
        raise ZoneError(name, f"not in the time zone database; {_HINT}")
    return ZoneInfo(name)


#: A display name is a few words a person picks to be greeted by ("Alice", "Dr. Ng's patient").
MAX_NAME_CHARS = 64


@dataclass(frozen=True, slots=True)
class Profile:
    """``<user>/profile``, retained: ``tz`` is an IANA zone name, checked on the way in and out;
    ``name`` (optional) is how the person's own pages greet them."""

    tz: str = DEFAULT_TZ
    name: str | None = None

    def __post_init__(self) -> None:
        check_zone(self.tz)
        if self.name is not None and not 0 < len(self.name) <= MAX_NAME_CHARS:
            raise PayloadError(
                "profile", "bad_name", f'"name" must be 1 to {MAX_NAME_CHARS} characters'
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def to_payload(self) -> bytes:
        doc: dict[str, Any] = {"v": SCHEMA_VERSION, "tz": self.tz}
        if self.name is not None:
            doc["name"] = self.name
        return encode_json(doc)

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        doc: dict[str, Any] = decode_json(payload, TopicKind.PROFILE)
        tz = doc.get("tz", DEFAULT_TZ)
        name = text_field(doc, "name", "profile", MAX_NAME_CHARS, optional=True)
        try:
            return cls(tz, name or None)
        except ZoneError as exc:
            raise PayloadError("profile", "bad_tz", f'"tz": {exc}') from None
