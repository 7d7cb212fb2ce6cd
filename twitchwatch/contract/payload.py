"""What every payload shares: JSON with a schema version, UTC times, size caps and field checks.

A payload that does not parse raises :class:`~twitchwatch.errors.PayloadError`, one line, naming
the field. The ``*_field`` checks are used by the payload modules (windows, devices, reports,
alerts), not by code outside the contract.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from twitchwatch.contract.sites import is_known_site
from twitchwatch.contract.topics import TopicKind
from twitchwatch.errors import PayloadError

SCHEMA_VERSION = 1

#: Caps checked before parsing: a window for 32 sites is ~5 KB, a report well under 1 KB.
MAX_PAYLOAD_BYTES: dict[TopicKind, int] = {
    TopicKind.WINDOWS: 16_384,
    TopicKind.STATUS: 1_024,
    TopicKind.ACK: 1_024,
    TopicKind.REPORTS: 4_096,
    TopicKind.ALERT_ACKS: 1_024,
    TopicKind.ALERT: 16_384,
    TopicKind.ALERT_EVENTS: 16_384,
    TopicKind.PROFILE: 1_024,
    TopicKind.SERVER_STATUS: 1_024,
}
#: Clocks disagree a little; a time further ahead than this is a wrong clock, not a measurement.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
#: Older data is refused: nothing a person measured is that old, and 1970 is a reset clock.
MAX_AGE = timedelta(days=400)
MAX_SEQ = 2**53 - 1  # exact in a JSON number everywhere


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object naming a key twice is refused: readers disagree on which copy wins, so a
    payload could say one thing to one reader and another to the next."""
    doc = dict(pairs)
    if len(doc) != len(pairs):  # the common case costs one length check
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(f"the key {key[:40]!r} appears twice")
            seen.add(key)
    return doc


def decode_json(payload: bytes, kind: TopicKind) -> dict[str, Any]:
    """Bytes -> JSON object, refusing oversize payloads, NaN/Infinity and non-objects."""
    what = kind.value
    if len(payload) > MAX_PAYLOAD_BYTES[kind]:
        raise PayloadError(
            what, "too_large", f"{len(payload)} bytes, the limit is {MAX_PAYLOAD_BYTES[kind]}"
        )
    try:
        doc = json.loads(
            payload.decode("utf-8"),
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except _DuplicateKeyError as exc:
        raise PayloadError(what, "duplicate_key", str(exc)) from None
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


def int_field(doc: Mapping[str, Any], name: str, what: str, lo: int, hi: int) -> int:
    """``doc[name]`` as an integer in ``[lo, hi]`` (a bool is not one)."""
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(what, "bad_type", f'"{name}" must be an integer, got {value!r}')
    if not lo <= value <= hi:
        raise PayloadError(what, "out_of_range", f'"{name}" = {value} is outside [{lo}, {hi}]')
    return value


def number_field(
    doc: Mapping[str, Any], name: str, what: str, lo: float, hi: float, optional: bool = False
) -> float | None:
    """``doc[name]`` as a finite number in ``[lo, hi]``; None if absent and ``optional``."""
    value = doc.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(what, "bad_type", f'"{name}" must be a number, got {value!r}')
    if not (lo <= value <= hi and math.isfinite(value)):  # 10**400 compares, isfinite overflows
        raise PayloadError(what, "out_of_range", f'"{name}" = {value} is outside [{lo:g}, {hi:g}]')
    return float(value)


def text_field(
    doc: Mapping[str, Any], name: str, what: str, max_chars: int, optional: bool = False
) -> str | None:
    """``doc[name]`` as text of at most ``max_chars``; None if absent and ``optional``."""
    value = doc.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise PayloadError(
            what, "bad_type", f'"{name}" must be a string of at most {max_chars} characters'
        )
    return value


def check_same_id(doc: Mapping[str, Any], name: str, expected: str, what: str) -> None:
    """The id a payload names must be the one its topic names."""
    if doc.get(name) != expected:
        raise PayloadError(
            what,
            "id_mismatch",
            f'"{name}" {doc.get(name)!r} disagrees with the topic ({expected!r})',
        )


def known_site(value: object, what: str) -> str:
    """A site of the taxonomy (payloads carry only those)."""
    if not isinstance(value, str) or not is_known_site(value):
        raise PayloadError(what, "unknown_site", f"unknown body site {value!r}")
    return value


def utc_now() -> datetime:
    """Now, for the checks against clocks that run ahead or were reset."""
    return datetime.now(UTC)


def utc_day(t: datetime) -> date:
    """The UTC calendar day a time falls in."""
    return t.astimezone(UTC).date()
