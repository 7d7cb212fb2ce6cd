"""Exclusions are a partition: one reason per instant, excluded plus rest is the recording."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.detect.partition import RANKS, Claim, partition
from twitchwatch.contract import Reason

_REASONS = [Reason.GAP, Reason.ARTIFACT, Reason.MOTION, Reason.VOLUNTARY, None]

_claims = st.lists(
    st.tuples(
        st.floats(-5.0, 105.0),
        st.floats(0.0, 30.0),
        st.sampled_from(_REASONS),
        st.booleans(),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(_claims, st.floats(0.0, 50.0), st.floats(0.0, 60.0))
def test_pieces_and_rest_tile_the_stretch_without_overlap(raw, lo, length):
    hi = lo + length
    claims = [Claim(a, a + d, r, "", explains and r is Reason.MOTION) for a, d, r, explains in raw]
    pieces, rest = partition(claims, lo, hi)
    spans = sorted([(p.start_s, p.end_s) for p in pieces] + [tuple(r) for r in rest])
    total = sum(b - a for a, b in spans)
    assert total == pytest.approx(max(hi - lo, 0.0), abs=1e-9)
    for (_, b), (c, _) in itertools.pairwise(spans):
        assert b <= c + 1e-12  # disjoint
    for p in pieces:  # each piece has the most certain reason that claims its middle
        mid = 0.5 * (p.start_s + p.end_s)
        covering = [c for c in claims if c.start_s <= mid < c.end_s]
        in_cramp = any(c.reason is None for c in covering)
        covering = [c for c in covering if not (in_cramp and c.cramp_explains)]
        assert RANKS[p.reason] == min(RANKS[c.reason] for c in covering)


def test_priority_gap_artifact_motion_voluntary_cramp():
    claims = [
        Claim(0.0, 10.0, None),
        Claim(1.0, 9.0, Reason.VOLUNTARY),
        Claim(2.0, 8.0, Reason.MOTION),
        Claim(3.0, 7.0, Reason.ARTIFACT),
        Claim(4.0, 6.0, Reason.GAP),
    ]
    pieces, rest = partition(claims, -1.0, 11.0)
    got = [(p.start_s, p.end_s, p.reason) for p in pieces]
    assert got == [
        (0.0, 1.0, None),
        (1.0, 2.0, Reason.VOLUNTARY),
        (2.0, 3.0, Reason.MOTION),
        (3.0, 4.0, Reason.ARTIFACT),
        (4.0, 6.0, Reason.GAP),
        (6.0, 7.0, Reason.ARTIFACT),
        (7.0, 8.0, Reason.MOTION),
        (8.0, 9.0, Reason.VOLUNTARY),
        (9.0, 10.0, None),
    ]
    assert np.allclose(rest, [[-1.0, 0.0], [10.0, 11.0]])


def test_a_cramps_own_tilt_is_not_motion_but_emg_motion_artefacts_still_are():
    claims = [
        Claim(10.0, 30.0, None),
        Claim(12.0, 14.0, Reason.MOTION, "acc", cramp_explains=True),
        Claim(28.0, 33.0, Reason.MOTION, "acc", cramp_explains=True),
        Claim(20.0, 21.0, Reason.MOTION, "emg"),
    ]
    pieces, _ = partition(claims, 0.0, 40.0)
    motion = [(p.start_s, p.end_s, p.evidence) for p in pieces if p.reason is Reason.MOTION]
    assert motion == [(20.0, 21.0, "emg"), (30.0, 33.0, "acc")]


def test_an_active_hour_has_one_reason_per_second_and_no_cramp():
    """The issue's case: an hour of ~120 contractions and ~200 movements (accelerometer and EMG
    both active) once reported 1,609 s voluntary and 1,610 s motion, overlapping."""
    from edge.detect import SiteDetector
    from firmware_sim.scenarios import SCENARIOS
    from twitchwatch.contract import Kind

    scenario = SCENARIOS["active_hour"]
    (spec,) = scenario.sites
    gen = scenario.generator(spec.site)
    fs, fa = scenario.emg_fs_hz, scenario.acc_fs_hz
    seconds = 3600.0
    det = SiteDetector(spec.site, emg_fs=fs, acc_fs=fa)
    found = det.poll()
    for t in np.arange(0.0, seconds, 60.0):
        det.feed(Kind.EMG, round(t * fs), gen.emg(round(t * fs), round((t + 60.0) * fs)))
        det.feed(Kind.ACC, round(t * fa), gen.acc(round(t * fa), round((t + 60.0) * fa)))
        found.extend(det.poll())
    found.extend(det.finish())
    spans = sorted((i.start_s, i.end_s) for i in found.excluded)
    assert all(b <= c + 1e-9 for (_, b), (c, _) in itertools.pairwise(spans))
    excluded = sum(b - a for a, b in spans)
    assert excluded + found.rest_s == pytest.approx(seconds, abs=1e-6)
    assert {i.reason for i in found.excluded} >= {Reason.VOLUNTARY, Reason.MOTION}
    assert found.cramps == []
