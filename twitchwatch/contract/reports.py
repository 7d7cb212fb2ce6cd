"""``<user>/reports``: what a person reports, symptoms and the context that makes twitching likelier."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from twitchwatch.contract.payload import (
    SCHEMA_VERSION,
    check_when,
    decode_json,
    encode_json,
    format_utc,
    known_site,
    number_field,
    parse_utc,
    text_field,
    utc_now,
)
from twitchwatch.contract.topics import TopicKind
from twitchwatch.errors import PayloadError

MAX_NOTE_CHARS = 500
#: A report's optional id (issue 15): a UUID, or any 1-64 letters, digits and ``._:-``.
_REPORT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_report_id() -> str:
    """A fresh report id: a report sent again under it (a lost PUBACK, a form sent twice)
    replaces the stored one rather than counting twice."""
    return uuid.uuid4().hex


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
    DEHYDRATION = "dehydration"
    NICOTINE = "nicotine"
    ALCOHOL = "alcohol"


#: Reports that are context (factors that make twitching likelier), not symptoms. ``value`` is
#: free but read as: caffeine cups, sleep hours, stress 0-10, exercise hours, alcohol drinks,
#: nicotine cigarettes (or doses); dehydration and medication take none.
CONTEXT_REPORTS = frozenset(
    {
        ReportKind.CAFFEINE,
        ReportKind.SLEEP,
        ReportKind.STRESS,
        ReportKind.EXERCISE,
        ReportKind.MEDICATION,
        ReportKind.DEHYDRATION,
        ReportKind.NICOTINE,
        ReportKind.ALCOHOL,
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
    #: Optional (issue 15): the sender's id for this report. A report with the id of one stored
    #: before is a correction: it replaces it (its time, kind, site, value or note may differ).
    id: str | None = None

    def to_payload(self) -> bytes:
        doc: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "t": format_utc(self.t),
            "kind": self.kind.value,
        }
        for name in ("site", "value", "note", "id"):
            if getattr(self, name) is not None:
                doc[name] = getattr(self, name)
        return encode_json(doc)

    @classmethod
    def from_payload(cls, payload: bytes, *, now: datetime | None = None) -> Self:
        what = "report"
        doc = decode_json(payload, TopicKind.REPORTS)
        t = parse_utc(doc.get("t"), what, "t")
        check_when(t, now or utc_now(), what, "t")
        try:
            kind = ReportKind(doc.get("kind"))
        except ValueError:
            raise PayloadError(what, "bad_kind", f'unknown "kind" {doc.get("kind")!r}') from None
        site = doc.get("site")
        return cls(
            t=t,
            kind=kind,
            site=None if site is None else known_site(site, what),
            value=number_field(
                doc, "value", what, -MAX_REPORT_VALUE, MAX_REPORT_VALUE, optional=True
            ),
            note=text_field(doc, "note", what, MAX_NOTE_CHARS, optional=True),
            id=_report_id(doc.get("id"), what),
        )


def _report_id(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _REPORT_ID.fullmatch(value):
        raise PayloadError(
            what, "bad_id", f'"id" must be 1-64 letters, digits or ._:- (got {value!r:.80})'
        )
    return value
