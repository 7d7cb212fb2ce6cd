"""Unit conversion at the boundary: every source unit becomes the internal unit of its kind."""

from __future__ import annotations

from edge.errors import UnitError
from twitchwatch.contract import Kind

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


def to_internal_factor(kind: Kind, unit: str) -> float:
    """Multiply values in ``unit`` by this to get ``INTERNAL_UNIT[kind]`` (uV for EMG, g for ACC)."""
    try:
        return _FACTORS[kind][unit.strip().lower()]
    except KeyError:
        known = sorted({u for u in _FACTORS[kind] if u.isascii()})
        raise UnitError(kind, unit, known) from None
