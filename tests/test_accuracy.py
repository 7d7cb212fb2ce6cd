"""The accuracy benchmark's quick mode: floors a little below the targets for the first
benchmark's scenarios; the issue-13 conditions are reported, and asserted where the current
detector already meets their targets (so what is met cannot silently regress)."""

from __future__ import annotations

import pytest

from bench import accuracy
from bench.accuracy_real import MIN_JUDGED_S, RealResults
from bench.scoring import combine

#: Issue-13 conditions whose targets the detector already meets (F1 and rest kept).
MET_NEW = ("pink_noise_12bit",)
#: Issue-13 conditions without motion where rest is already kept (>= 0.95).
REST_KEPT_NEW = ("cramps_unseen_units", "low_snr_3_5x", "pink_noise_12bit", "acc_visible_200hz",
                 "acc_visible_416hz_ms2")  # fmt: skip


@pytest.fixture(scope="module")
def results() -> list[accuracy.SiteResult]:
    return accuracy.run(quick=True, baseline=False)


@pytest.fixture(scope="module")
def real() -> RealResults:
    return accuracy.run_real()


def test_quick_mode_meets_the_floors(results):
    emg = accuracy.overall(results)
    assert emg.n_true > 800  # every v1 EMG scenario contributed
    assert accuracy.misses(emg, accuracy.QUICK_FLOORS) == []


def test_every_v1_scenario_stays_near_its_own_figures(results):
    for r in results:
        if r.scenario not in accuracy.V1_SCENARIOS:
            continue
        if r.acc_only:
            # Visible twitches only: sensitivity is limited, but nothing may be invented.
            assert r.twitches.precision >= 0.95 and r.twitches.sensitivity >= 0.7, r
        else:
            assert r.twitches.f1 >= 0.9, r
        assert r.rest_kept >= 0.94, r


def test_no_condition_counts_twitches_in_activity(results):
    assert {r.scenario for r in results} == set(accuracy.SCENARIOS)
    for r in results:
        assert r.twitches.false_in_activity == 0, r


def test_cramps_of_known_units_are_reported_once(results):
    (cramps,) = [r for r in results if r.scenario == "cramps"]
    assert cramps.cramps.n_true >= 1
    assert cramps.cramps.found_once == cramps.cramps.n_true
    assert sum(r.cramps.spurious for r in results) == 0


def test_issue_13_conditions_keep_what_they_already_meet(results):
    by_name = {r.scenario: r for r in results}
    for name in MET_NEW:
        assert by_name[name].missed() == [], by_name[name]
    for name in REST_KEPT_NEW:
        assert by_name[name].rest_kept >= accuracy.REST_KEPT_TARGET, by_name[name]
        assert by_name[name].twitches.precision >= 0.95, by_name[name]


def test_rest_kept_is_a_share_of_true_rest(results):
    for r in results:
        assert 0.0 < r.true_rest_s <= r.seconds + 1e-9, r
        assert 0.0 <= r.rest_kept_s <= r.true_rest_s + 1e-9, r
    walking = next(r for r in results if r.scenario == "drift_walking")
    assert walking.moving and walking.true_rest_s < 0.8 * walking.seconds


def test_real_recordings_are_judged_and_semi_real_is_scored(real):
    assert len(real.rows) == 5
    judged = sum(r.judged_s for r in real.rows)
    assert judged > 100.0  # the rule leaves minutes of quiet to judge
    assert sum(r.judged_s >= MIN_JUDGED_S for r in real.rows) >= 2  # plux_solo: ~20 s
    for r in real.rows:
        assert 0.0 <= r.judged_s <= r.seconds and r.counted <= r.counted_total
    semi = real.semi_scores()
    pooled = combine([s for _, s, _ in semi])
    assert pooled.n_true > 150
    assert pooled.f1 >= 0.93  # target 0.95; the current detector scores 0.955
