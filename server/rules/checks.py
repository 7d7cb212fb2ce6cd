"""Range checks that config tables run in ``__post_init__``: each failure is one RuleConfigError.

Types and ranges common to every key (integers >= 1, finite numbers >= 0, fractions <= 1, lists
of strings) are checked by the loader (config.py) before a table is built; these are the checks
that only a table knows.
"""

from __future__ import annotations

from server.errors import RuleConfigError
from twitchwatch.contract import PLACE_REGION


def require(ok: bool, problem: str) -> None:
    """Raise ``RuleConfigError(problem)`` unless ``ok``; the loader adds the file's name."""
    if not ok:
        raise RuleConfigError(problem)


def within(table: str, config: object, window: str, *names: str) -> None:
    """Day counts that must fit in their window (a 10-of-7-days rule could never hold)."""
    for name in names:
        require(
            getattr(config, name) <= getattr(config, window),
            f"{table}.{name} must be <= {table}.{window}",
        )


def check_places(table: str, name: str, places: tuple[str, ...]) -> None:
    """Body places (``calf``, ``eyelid``) must be the contract's."""
    unknown = [p for p in places if p not in PLACE_REGION]
    require(not unknown, f"{table}.{name}: unknown body places {unknown}")
