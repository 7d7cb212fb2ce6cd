"""The one-tap report form: its buttons and site choice, and what a sent form becomes.

Buttons come from the contract's :class:`~twitchwatch.contract.ReportKind` (symptoms, then the
context kinds), so a kind added there shows up here with its value as its label until it gets a
better one below. Sites: the person's own sensors first, then every other site by region, since
weakness or numbness may be felt where no sensor is worn.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from server import wording
from server.errors import FormError
from twitchwatch.contract import (
    CONTEXT_REPORTS,
    MAX_NOTE_CHARS,
    MAX_REPORT_VALUE,
    MIDLINE_PLACES,
    PLACE_REGION,
    SIDES,
    PayloadError,
    Region,
    Report,
    ReportKind,
    is_known_site,
    new_report_id,
)

#: Labels in a person's words; a kind missing here is shown by its contract name.
LABELS: dict[str, str] = {
    "weakness": "Weakness",
    "atrophy": "Wasting",
    "numbness": "Numbness or tingling",
    "speech": "Trouble speaking",
    "swallowing": "Trouble swallowing",
    "breathing": "Trouble breathing",
    "caffeine": "Caffeine",
    "sleep": "Short sleep",
    "stress": "Stress",
    "exercise": "Exercise",
    "medication": "Medication",
    "dehydration": "Dehydration",
    "nicotine": "Nicotine",
    "alcohol": "Alcohol",
}
#: What "how much" means per kind (the contract leaves the value's unit to the kind).
VALUE_HINTS: dict[str, str] = {
    "caffeine": "cups",
    "sleep": "hours slept",
    "stress": "0 to 10",
    "exercise": "hours",
    "alcohol": "drinks",
    "nicotine": "cigarettes or doses",
}


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class SiteGroup:
    label: str
    sites: tuple[Choice, ...]


def label(kind: ReportKind | str) -> str:
    value = ReportKind(kind).value
    return LABELS.get(value, value.replace("_", " ").capitalize())


def symptom_kinds() -> list[Choice]:
    return [Choice(k.value, label(k)) for k in ReportKind if k not in CONTEXT_REPORTS]


def context_kinds() -> list[Choice]:
    return [Choice(k.value, label(k)) for k in ReportKind if k in CONTEXT_REPORTS]


def site_groups(own: list[str]) -> list[SiteGroup]:
    """The person's own sensor sites, then every other site of the taxonomy by region."""
    groups = []
    if own:
        groups.append(SiteGroup("Where you wear sensors", tuple(_choices(own))))
    for region in Region:
        places = [p for p, r in PLACE_REGION.items() if r is region]
        sites = [
            place if place in MIDLINE_PLACES else f"{side}_{place}"
            for place in places
            for side in (SIDES if place not in MIDLINE_PLACES else SIDES[:1])
        ]
        others = [s for s in sites if s not in own]
        if others:
            groups.append(
                SiteGroup(wording.region_name(region).capitalize(), tuple(_choices(others)))
            )
    return groups


def _choices(sites: list[str]) -> list[Choice]:
    return [Choice(s, wording.site_name(s)) for s in sites]


#: The form's hidden ``report_id``: a fresh one with every rendered form, so sending the same
#: form again (the answer was lost, the person pressed again) replaces rather than duplicates.
_FORM_REPORT_ID = re.compile(r"[0-9a-f]{32}")


def parse_report(form: dict[str, Any], zone: tzinfo, now: datetime) -> Report:
    """A sent report form -> the Report to publish; FormError names what is wrong.

    The report carries the form's id (a form from before ids gets a fresh one)."""
    try:
        kind = ReportKind(str(form.get("kind", "")))
    except ValueError:
        raise FormError("kind", "choose one of the buttons") from None
    site = str(form.get("site", "")).strip() or None
    if site is not None and not is_known_site(site):
        raise FormError("where", f"{site!r} is not a body site TwitchWatch knows")
    value = _value(str(form.get("value", "")).strip())
    note = str(form.get("note", "")).strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise FormError("note", f"at most {MAX_NOTE_CHARS} characters")
    t = _when(str(form.get("when", "")).strip(), zone, now)
    report_id = str(form.get("report_id", ""))
    if not _FORM_REPORT_ID.fullmatch(report_id):
        report_id = new_report_id()
    report = Report(t, kind, site, value, note, id=report_id)
    try:
        Report.from_payload(report.to_payload(), now=now)  # as the server will check it
    except PayloadError as exc:
        raise FormError("when", exc.detail) from None
    return report


def _value(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormError("how much", f"{text!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_REPORT_VALUE:
        raise FormError("how much", f"{text!r} is not a number TwitchWatch takes")
    return value


def _when(text: str, zone: tzinfo, now: datetime) -> datetime:
    """A ``datetime-local`` value in the person's zone; empty: now (to the second)."""
    if not text:
        return now.replace(microsecond=0)
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise FormError("when", f"{text!r} is not a date and time") from None
    if local.tzinfo is not None:
        raise FormError("when", "give a local date and time, without a zone")
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:
        raise FormError("when", f"{text} does not exist here (the clocks changed)")
    return moment
