"""Unit conversion at the boundary: every source unit becomes the internal unit of its kind."""

from __future__ import annotations

from twitchwatch.contract import Kind, TwitchWatchError

_STANDARD_GRAVITY = 9.80665  # m/s2 per g

# Spellings seen in EDF headers and sensor docs, folded to lower case.
_FACTORS: dict[Kind, dict[str, float]] = {
    Kind.EMG: {"uv": 1.0, "µv": 1.0, "μv": 1.0, "microvolts": 1.0, "mv": 1e3, "v": 1e6},
    Kind.ACC: {
        "g": 1.0,
        "mg": 1e-3,
        "m/s2": 1 / _STANDARD_GRAVITY,
        "m/s^2": 1 / _STANDARD_GRAVITY,
        "m/s²": 1 / _STANDARD_GRAVITY,
        "ms-2": 1 / _STANDARD_GRAVITY,
    },
}


class UnitError(TwitchWatchError):
    def __init__(self, kind: Kind, unit: str) -> None:
        known = ", ".join(sorted({u for u in _FACTORS[kind] if u.isascii()}))
        super().__init__(f"unknown {kind.value} unit {unit!r} (expected one of {known})")
        self.kind, self.unit = kind, unit


def to_internal_factor(kind: Kind, unit: str) -> float:
    """Multiply values in ``unit`` by this to get ``INTERNAL_UNIT[kind]`` (uV for EMG, g for ACC)."""
    try:
        return _FACTORS[kind][unit.strip().lower()]
    except KeyError:
        raise UnitError(kind, unit) from None
