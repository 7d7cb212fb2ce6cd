"""Which time zone a person's local times are in: theirs if known, else this computer's.

The order (``--at`` reads times in it): the zone of the person's profile on the broker when the
client has seen it, else ``tz`` in person.toml, else the system's zone. The system's zone is
found by name (``$TZ``, the ``/etc/localtime`` link, ``/etc/timezone``) so that "yesterday
20:00" is right across a clock change; a fixed offset is the last resort.
"""

from __future__ import annotations

import contextlib
import os
import zoneinfo
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

_ZONEINFO_DIR = "zoneinfo/"
#: Names in the zone database that are not places: this machine's zone, placeholders.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone ``name`` names; None for anything the zone database does not list."""
    if name not in _NOT_PLACES and name in zoneinfo.available_timezones():
        return ZoneInfo(name)
    return None


def system_zone(etc: Path = Path("/etc")) -> tzinfo:
    """This computer's zone: by name when it can be found, else its current UTC offset."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        link = os.readlink(etc / "localtime")
        candidates.append(link.partition(_ZONEINFO_DIR)[2] if _ZONEINFO_DIR in link else "")
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append((etc / "timezone").read_text().strip())
    for name in candidates:
        if name and (zone := zone_named(name)) is not None:
            return zone
    fixed = datetime.now().astimezone().tzinfo
    assert fixed is not None  # astimezone() always attaches one
    return fixed


def zone_label(zone: tzinfo) -> str:
    """``Europe/Berlin``, or ``UTC+01:00`` for a fixed offset."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = datetime.now(zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"
