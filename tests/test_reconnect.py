"""Reconnect timing is a pure function: testable without a radio."""

from __future__ import annotations

import random

from edge.ble.reconnect import ReconnectPolicy, reconnect_delay, watchdog_timeout


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    policy = ReconnectPolicy(first_s=0.5, cap_s=30.0)
    rng = random.Random(7)
    for failures in range(12):
        ceiling = min(30.0, 0.5 * 2**failures)
        delays = [reconnect_delay(policy, failures, rng) for _ in range(200)]
        assert all(0.25 <= d <= ceiling for d in delays)
        if ceiling > 2:
            assert (
                max(delays) - min(delays) > ceiling / 4
            )  # jittered: sensors don't retry in lockstep


def test_watchdog_waits_three_frame_periods_but_never_less_than_the_floor() -> None:
    assert watchdog_timeout(0.06) == 2.0
    assert watchdog_timeout(1.5) == 4.5
