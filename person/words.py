"""Report kinds and body sites as a person types them, checked against the contract's words.

Kinds are the contract's :class:`~twitchwatch.contract.ReportKind` values, plus the everyday
words the web view shows for two of them ("wasting" is ``atrophy``, "tingling" is
``numbness``). Sites are the contract's, typed loosely: ``right hand``, ``r_hand`` and
``right-hand`` all mean ``right_hand``. Anything else is one line with the known words.
"""

from __future__ import annotations

import difflib

from person.errors import UnknownWordError
from twitchwatch.contract import (
    MIDLINE_PLACES,
    PLACE_REGION,
    SIDES,
    ReportKind,
    SiteError,
    is_known_site,
    normalize_site,
)

#: Everyday words for two kinds whose contract names a person may not think of.
KIND_WORDS: dict[str, ReportKind] = {
    "wasting": ReportKind.ATROPHY,
    "tingling": ReportKind.NUMBNESS,
}


def known_sites() -> list[str]:
    """Every site of the taxonomy: each sided place on both sides, each midline place once."""
    return sorted(
        place if place in MIDLINE_PLACES else f"{side}_{place}"
        for place in PLACE_REGION
        for side in (SIDES if place not in MIDLINE_PLACES else SIDES[:1])
    )


def report_kind(text: str) -> ReportKind:
    """The report kind ``text`` names; UnknownWordError lists the known ones."""
    word = text.strip().lower()
    if word in KIND_WORDS:
        return KIND_WORDS[word]
    try:
        return ReportKind(word)
    except ValueError:
        known = [k.value for k in ReportKind]
        guess = _guess(word, [*known, *KIND_WORDS])
        raise UnknownWordError("report kind", text, known, guess) from None


def report_site(text: str) -> str:
    """The contract site ``text`` names; UnknownWordError lists the known ones."""
    try:
        site = normalize_site(text)
    except SiteError:
        site = ""
    if is_known_site(site):
        return site
    known = known_sites()
    raise UnknownWordError("body site", text, known, _guess(site, known))


def _guess(word: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return close[0] if close else None
