"""The accuracy benchmark's quick mode, with floors a little below the targets."""

from __future__ import annotations

import pytest

from bench import accuracy


@pytest.fixture(scope="module")
def results() -> list[accuracy.SiteResult]:
    return accuracy.run(quick=True, baseline=False)


def test_quick_mode_meets_the_floors(results):
    emg = accuracy.overall(results)
    assert emg.n_true > 800  # every EMG scenario contributed
    assert accuracy.misses(emg, accuracy.QUICK_FLOORS) == []


def test_every_scenario_stays_near_its_own_figures(results):
    for r in results:
        if r.acc_only:
            # Visible twitches only: sensitivity is limited, but nothing may be invented.
            assert r.twitches.precision >= 0.95 and r.twitches.sensitivity >= 0.7, r
        else:
            assert r.twitches.f1 >= 0.9, r
        assert r.twitches.false_in_activity == 0, r


def test_cramps_of_known_units_are_reported_once(results):
    (cramps,) = [r for r in results if r.scenario == "cramps"]
    assert cramps.cramps.n_true >= 1
    assert cramps.cramps.found_once == cramps.cramps.n_true
    assert sum(r.cramps.spurious for r in results) == 0
