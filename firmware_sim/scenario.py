"""What a scenario is: named, seeded sites over a fixed duration, and the truth they render.

A :class:`Scenario` is one or more body sites, each a :class:`~.physiology.SiteModel` and a
seed derived from the scenario's seed, over a fixed duration. The named ones are in
:mod:`firmware_sim.scenarios`; :mod:`firmware_sim.scenario_truth` exports their ground truth.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_sim.physiology import SiteGenerator, SiteModel, TruthEvent, TruthKind
from twitchwatch.contract import is_known_site, normalize_site

#: The DIY reference sensor's rates (hardware/README.md §3.3); the DIY simulator (firmware_sim.diy)
#: uses the same, and tests/test_scenarios.py pins the two together (importing it pulls in Bumble).
EMG_FS_HZ = 2000.0
ACC_FS_HZ = 416.0
#: Model fields that only exist where there are electrodes: an ACC-only sensor has none to pop.
_ELECTRODE_FIELDS = ("pop_per_hour", "leadoff_per_hour")
#: What a site may override: every SiteModel field but the rates, which are the scenario's.
_OVERRIDABLE = {f.name for f in dataclasses.fields(SiteModel)} - {"emg_fs_hz", "acc_fs_hz"}
#: Units an exported recording may write its accelerometer in (DESIGN.md, EDF+ conventions), and
#: the factor from the simulator's g. Standard gravity, as edge/units.py reads m/s2 back.
ACC_UNITS: dict[str, float] = {"g": 1.0, "mg": 1e3, "m/s2": 9.80665}


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One sensor of a scenario: where it sits, its physiology and which channels it has."""

    site: str  # contract site id, e.g. "left_calf"
    model: dict[str, Any]  # SiteModel overrides (a PRESETS entry merged with extras)
    emg: bool = True  # does the sensor have an EMG channel
    acc: bool = True  # does it have an accelerometer

    def __post_init__(self) -> None:
        if normalize_site(self.site) != self.site or not is_known_site(self.site):
            raise ValueError(f"site must be a normalised contract site id, got {self.site!r}")
        unknown = set(self.model) - _OVERRIDABLE
        if unknown:
            raise ValueError(
                f"{self.site}: unknown SiteModel fields {sorted(unknown)} "
                f"(known: {', '.join(sorted(_OVERRIDABLE))})"
            )
        if not (self.emg or self.acc):
            raise ValueError(f"{self.site}: a sensor needs an EMG or an ACC channel")
        if not self.emg:
            for name in _ELECTRODE_FIELDS:
                if self.model.get(name, 0.0) > 0.0:
                    raise ValueError(f"{self.site}: {name} needs electrodes, but emg is False")


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """A ground-truth event of one site of a scenario (see :class:`~.physiology.TruthEvent`)."""

    site: str
    kind: TruthKind
    start_s: float
    end_s: float
    peak_s: float
    amplitude_uv: float
    unit_id: int
    doublet: bool

    @classmethod
    def of(cls, site: str, event: TruthEvent) -> TruthRecord:
        """The record of ``event`` at ``site``."""
        return cls(site, *(getattr(event, f.name) for f in dataclasses.fields(TruthEvent)))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named, seeded simulation of one or more sites over ``duration_s``.

    The same scenario always renders the same samples and truth: each site's generator is
    seeded from ``(seed, index of the site)``.
    """

    name: str
    summary: str  # what it tests
    duration_s: float
    seed: int
    sites: tuple[SiteSpec, ...]
    emg_fs_hz: float = EMG_FS_HZ
    acc_fs_hz: float = ACC_FS_HZ
    acc_unit: str = "g"  # the unit an export writes the accelerometer in (ACC_UNITS)

    def __post_init__(self) -> None:
        if self.acc_unit not in ACC_UNITS:
            raise ValueError(
                f"{self.name}: acc_unit must be one of {sorted(ACC_UNITS)}, got {self.acc_unit!r}"
            )
        if not (math.isfinite(self.duration_s) and self.duration_s > 0.0):
            raise ValueError(
                f"{self.name}: duration_s must be finite and > 0, got {self.duration_s}"
            )
        if self.seed < 0:
            raise ValueError(f"{self.name}: seed must be >= 0, got {self.seed}")
        names = [s.site for s in self.sites]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{self.name}: sites must be distinct and at least one, got {names}")
        for spec in self.sites:
            self.model(spec.site)  # fail now, not at render time, on a bad override

    def _index(self, site: str) -> int:
        for i, spec in enumerate(self.sites):
            if spec.site == site:
                return i
        known = ", ".join(s.site for s in self.sites)
        raise KeyError(f"scenario {self.name!r} has no site {site!r} (it has: {known})")

    def spec(self, site: str) -> SiteSpec:
        """The :class:`SiteSpec` of ``site``."""
        return self.sites[self._index(site)]

    def model(self, site: str) -> SiteModel:
        """The site's :class:`~.physiology.SiteModel`, at the scenario's sampling rates."""
        overrides = self.spec(site).model
        return SiteModel(**overrides, emg_fs_hz=self.emg_fs_hz, acc_fs_hz=self.acc_fs_hz)

    def site_seed(self, site: str) -> int:
        """The site's generator seed, derived from ``(seed, index of the site)``."""
        sequence = np.random.SeedSequence(self.seed, spawn_key=(self._index(site),))
        return int(sequence.generate_state(1)[0])

    def generator(self, site: str) -> SiteGenerator:
        """A fresh generator of ``site``'s EMG (µV), acceleration (g) and truth."""
        return SiteGenerator(self.model(site), self.site_seed(site))

    def truth(self) -> list[TruthRecord]:
        """Every site's truth events starting before ``duration_s``, sorted by (start_s, site).

        An episode starting near the end may run past ``duration_s``; its ``end_s`` says so.
        """
        records = [
            TruthRecord.of(spec.site, event)
            for spec in self.sites
            for event in self.generator(spec.site).events(0.0, self.duration_s)
        ]
        records.sort(key=lambda r: (r.start_s, r.site))
        return records
