"""Body sites and the regions and limb groups the rules count them in."""

from __future__ import annotations

import re
from enum import StrEnum

from twitchwatch.errors import SiteError


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
