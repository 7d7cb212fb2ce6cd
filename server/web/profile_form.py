"""The profile page's form: the person's time zone and display name, and what a sent form becomes.

The zone picker offers the zone database's places (``Europe/Berlin``, ``America/Los_Angeles``)
grouped by their area, and UTC; whatever is sent is checked by the contract's own ``check_zone``.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from typing import Any

from server.errors import FormError
from twitchwatch.contract import (
    DEFAULT_TZ,
    MAX_NAME_CHARS,
    PayloadError,
    Profile,
    ZoneError,
    check_zone,
)


@dataclass(frozen=True, slots=True)
class ZoneGroup:
    area: str
    zones: tuple[str, ...]


@functools.cache
def zone_groups() -> tuple[ZoneGroup, ...]:
    """UTC, then every ``Area/Place`` zone by area (the database's ``Etc/`` offsets left out)."""
    places = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith("Etc/")
    )
    areas: dict[str, list[str]] = {}
    for name in places:
        areas.setdefault(name.split("/", 1)[0], []).append(name)
    return (
        ZoneGroup("UTC", (DEFAULT_TZ,)),
        *(ZoneGroup(area, tuple(names)) for area, names in areas.items()),
    )


def parse_profile(form: dict[str, Any]) -> Profile:
    """A sent profile form -> the Profile to publish; FormError names what is wrong."""
    tz = str(form.get("tz", "")).strip()
    try:
        check_zone(tz)
    except ZoneError as exc:
        raise FormError("time zone", str(exc)) from None
    name = str(form.get("name", "")).strip() or None
    if name is not None and len(name) > MAX_NAME_CHARS:
        raise FormError("name", f"at most {MAX_NAME_CHARS} characters")
    try:
        return Profile(tz, name)
    except PayloadError as exc:
        raise FormError("name", exc.detail) from None
