"""Reconnect timing as pure functions, so the policy is testable without a radio."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter between connection attempts.

    Full jitter (a uniform draw up to the exponential ceiling) spreads the reconnects of several
    sensors that dropped together, e.g. when the person walked away from the laptop.
    """

    first_s: float = 0.5
    cap_s: float = 30.0
    #: Streaming this long without trouble resets the backoff to ``first_s``.
    healthy_after_s: float = 60.0
    #: After this many consecutive failures the sensor is reported unreachable (attempts go on).
    unreachable_after: int = 6


def reconnect_delay(policy: ReconnectPolicy, failures: int, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` consecutive failed attempts (0 -> first retry)."""
    ceiling = min(policy.cap_s, policy.first_s * 2.0 ** max(failures, 0))
    return rng.uniform(policy.first_s / 2, ceiling)


def watchdog_timeout(frame_period_s: float, floor_s: float = 2.0) -> float:
    """Silence after which a link counts as dead although no disconnect was reported."""
    return max(3.0 * frame_period_s, floor_s)
