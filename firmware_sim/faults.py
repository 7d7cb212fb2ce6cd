"""Faults a simulated sensor injects on the air or in its firmware, the same for every driver's
simulator (each says which it supports)."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.errors import FaultRateError


@dataclass(frozen=True, slots=True)
class Faults:
    """Faults injected on the air or in the firmware. Probabilities are per frame, seeded."""

    drop_prob: float = 0.0  # frame built (sequence number used) but never sent
    corrupt_prob: float = 0.0  # frame sent mangled: truncated, wrong version or wrong length
    drift_ppm: float = 0.0  # sensor crystal error: its clock runs this much faster than true time

    def __post_init__(self) -> None:
        for name in ("drop_prob", "corrupt_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise FaultRateError(name, value)
