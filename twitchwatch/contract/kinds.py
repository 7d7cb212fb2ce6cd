"""The contract's words: what a stream measures, what an event is, why a span was not counted,
and the rules an alert is named after (alert topics carry the rule, so topics need it too)."""

from __future__ import annotations

from enum import StrEnum


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


class Rule(StrEnum):
    """The rules; with (user, scope) they name an alert. Scopes: a site, a region, a symptom, "all"."""

    PERSISTENCE = "persistence"  # scope: site
    SPREAD = "spread"  # scope: "all" (new limb group, new region or regions, widespread)
    WORSENING = "worsening"  # scope: site
    WEAKNESS = "weakness"  # scope: region or "unplaced" (weakness or atrophy reported)
    NUMBNESS = "numbness"  # scope: region or "unplaced" (numbness or tingling reported)
    RED_FLAG = "red_flag"  # scope: the symptom (speech, swallowing, breathing)
