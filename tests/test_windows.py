"""Per-site detections -> UTC-aligned windows: the sums equal the detector's totals, every second
of a window is rest, active, cramp or gap, and what a window missed is dropped, never recounted."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from edge.detect import Cramp, Detections, Interval, SiteDetector
from edge.detect.detections import merge_spans
from edge.windows import Window, WindowBuilder, WindowError, check_window_s
from firmware_sim.scenarios import SCENARIOS
from twitchwatch.contract import Kind, Reason, WindowMessage

BASE = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
SECONDS = 150.0  # of each simulated site: the busy calf holds a cramp, voluntary and motion
EMG_FS, ACC_FS = 2000.0, 416.0


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def _signals(scenario: str, site: str) -> tuple[np.ndarray, np.ndarray]:
    gen = SCENARIOS[scenario].generator(site)
    emg = gen.emg(0, int(SECONDS * EMG_FS)).astype(np.float32)
    acc = gen.acc(0, int(SECONDS * ACC_FS)).astype(np.float32)
    return emg, acc


# Two sensors of one device: the busy calf (cramp at ~8 s, motion, voluntary) and a thumb at rest
# whose link drops 12 s of samples. They start at different instants inside a window.
SITES = {
    "left_calf": (_signals("busy_day", "left_calf"), 17.25, None),
    "right_thumb": (_signals("two_sites", "right_thumb"), 43.5, (60.0, 72.0)),
}


def _pieces(n: int, fs: float, rng: np.random.Generator, hole_s):
    """Random chunks [a, b) of n samples, none inside the hole (a link gap)."""
    h0, h1 = (n, n) if hole_s is None else (int(hole_s[0] * fs), int(hole_s[1] * fs))
    a = 0
    while a < n:
        if h0 <= a < h1:
            a = h1
            continue
        b = min(n, a + max(1, int(rng.uniform(0.05, 5.0) * fs)))
        if a < h0 < b:
            b = h0
        yield a, b
        a = b


def run_device(builder: WindowBuilder, seed: int) -> dict[str, Detections]:
    """Stream both sites through their detectors in random chunks, feeding the builder."""
    rng = np.random.default_rng(seed)
    totals = {}
    for site, ((emg, acc), offset_s, hole) in SITES.items():
        builder.start(site, BASE + timedelta(seconds=offset_s))
        det = SiteDetector(site, emg_fs=EMG_FS, acc_fs=ACC_FS)
        total = Detections()
        emg_chunks = list(_pieces(emg.size, EMG_FS, rng, hole))
        acc_chunks = list(_pieces(acc.shape[1], ACC_FS, rng, hole))
        for i in range(max(len(emg_chunks), len(acc_chunks))):
            if i < len(emg_chunks):
                a, b = emg_chunks[i]
                det.feed(Kind.EMG, a, emg[a:b])
            if i < len(acc_chunks):
                a, b = acc_chunks[i]
                det.feed(Kind.ACC, a, acc[:, a:b])
            found = det.poll()
            builder.add(site, found)
            total.extend(found)
        found = det.finish()
        builder.add(site, found)
        total.extend(found)
        totals[site] = total
    return totals


def _active_s(found: Detections) -> float:
    spans = [
        (i.start_s, i.end_s)
        for i in found.excluded
        if i.reason in (Reason.VOLUNTARY, Reason.MOTION)
    ]
    merged = merge_spans(np.array(spans), 0.0, found.decided_until_s)
    return float(np.sum(merged[:, 1] - merged[:, 0]))


@pytest.mark.parametrize("seed", [1, 2])
def test_windows_add_up_to_the_detector_totals(seed):
    clock = Clock(BASE + timedelta(seconds=5))  # the agent started at 10:00:05; time stands still
    builder = WindowBuilder(SITES, now=clock)
    totals = run_device(builder, seed)
    windows = builder.close_due() + builder.flush()

    assert builder.late_dropped == 0 and builder.late_rest_s == 0.0
    # Contiguous, aligned on UTC minutes from the one holding the start, covering every decision.
    assert windows[0].start == BASE
    for before, after in itertools.pairwise(windows):
        assert after.start == before.end
    assert all(w.end - w.start == timedelta(seconds=60) and w.start.second == 0 for w in windows)
    assert windows[-1].end >= BASE + timedelta(seconds=43.5 + SECONDS)
    assert builder.close_due() == [] and builder.flush() == []

    for site, total in totals.items():
        # The detector's rest spans: disjoint, summing to its rest time, holding every twitch.
        spans = total.rest_spans
        assert np.sum(spans[:, 1] - spans[:, 0]) == pytest.approx(total.rest_s, abs=1e-6)
        assert np.all(spans[1:, 0] >= spans[:-1, 1] - 1e-9)
        slot = np.searchsorted(spans[:, 0], total.twitch_t_s, side="right") - 1
        assert np.all(slot >= 0) and np.all(total.twitch_t_s < spans[slot, 1])
        shares = [w.sites[site] for w in windows]
        assert sum(s.twitches for s in shares) == total.twitch_t_s.size > 10
        assert sum(s.cramps for s in shares) == len(total.cramps)
        assert sum(s.rest_s for s in shares) == pytest.approx(total.rest_s, abs=1e-6)
        assert sum(s.active_s for s in shares) == pytest.approx(_active_s(total), abs=1e-6)
        for s in shares:
            assert min(s.rest_s, s.active_s, s.gap_s) >= 0.0
            assert s.rest_s + s.active_s + s.gap_s <= 60.0 + 1e-9
            assert (s.amp_median is None) == (s.twitches == 0)
            assert s.unit == "uV"
    calf = [w.sites["left_calf"] for w in windows]
    assert sum(s.cramps for s in calf) == 1 and calf[0].cramps == 1  # starts at ~17 + 8 s
    assert sum(s.active_s for s in calf) > 5.0  # motion and voluntary are active, not gap
    # The thumb streamed from 10:00:43.5: before that its first window is not observed.
    assert windows[0].sites["right_thumb"].gap_s >= 43.5
    # Every window goes on the wire as a valid contract message.
    for seq, w in enumerate(windows, start=1):
        message = WindowMessage("alice", "kitchen-pi", seq, w.start, w.end, w.sites)
        WindowMessage.from_payload(
            message.to_payload(), user="alice", device="kitchen-pi", now=w.end
        )


def _poll(
    until_s: float,
    twitches=(),
    rest=(),
    excluded=(),
    cramps=(),
) -> Detections:
    return Detections(
        twitch_t_s=np.array([t for t, _ in twitches], dtype=float),
        twitch_amplitude=np.array([a for _, a in twitches], dtype=float),
        twitch_duration_s=np.full(len(twitches), np.nan),
        cramps=[Cramp(a, b, 500.0) for a, b in cramps],
        excluded=[Interval(a, b, r) for a, b, r in excluded],
        rest_spans=np.array(rest, dtype=float).reshape(-1, 2),
        decided_until_s=until_s,
    )


def test_a_window_splits_into_rest_active_cramp_and_gap():
    """Hand-made decisions: each second lands in exactly one bucket; the amplitude is a median."""
    clock = Clock(BASE)
    builder = WindowBuilder(["left_calf"], now=clock)
    builder.start("left_calf", BASE + timedelta(seconds=10))  # window time = site time + 10 s
    builder.add(
        "left_calf",
        _poll(
            75.0,
            twitches=[(1.0, 100.0), (20.0, 300.0), (30.0, 200.0), (49.9, 50.0), (50.0, 60.0)],
            rest=[(0.0, 25.0), (27.0, 35.0), (45.0, 75.0)],
            excluded=[
                (25.0, 27.0, Reason.VOLUNTARY),
                (35.0, 38.0, Reason.MOTION),
                (36.0, 40.0, Reason.VOLUNTARY),  # overlaps the motion: counted once
                (40.0, 42.0, Reason.ARTIFACT),  # not active: gap
            ],
            cramps=[(42.0, 45.0)],
        ),
    )
    (first,) = builder.close_due()  # 10:00:00-10:01:00 is decided; 10:01:00-10:02:00 is not
    share = first.sites["left_calf"]
    assert share.twitches == 4 and share.cramps == 1
    assert share.rest_s == pytest.approx(25.0 + 8.0 + 5.0)  # site [0, 50)
    assert share.active_s == pytest.approx(2.0 + 5.0)
    assert share.gap_s == pytest.approx(60.0 - 38.0 - 7.0 - 3.0)  # 10 s unworn + 2 s artifact
    assert share.amp_median == pytest.approx(150.0)

    # The wall clock passes 10:02:00 + 150 s: the next window closes half decided (gap after).
    clock.t = BASE + timedelta(seconds=120 + 150)
    (second,) = builder.close_due()
    share = second.sites["left_calf"]
    assert share.twitches == 1 and share.rest_s == pytest.approx(25.0)
    assert share.gap_s == pytest.approx(35.0)
    # Decisions for that window arriving now are dropped and counted, never added later.
    builder.add(
        "left_calf", _poll(140.0, twitches=[(80.0, 90.0), (111.0, 80.0)], rest=[(75.0, 130.0)])
    )
    assert builder.late_dropped == 1 and builder.late_rest_s == pytest.approx(35.0)
    clock.t = BASE + timedelta(seconds=180 + 150)
    (third,) = builder.close_due()
    assert third.sites["left_calf"].twitches == 1
    assert third.sites["left_calf"].rest_s == pytest.approx(20.0)  # site [110, 130)


def test_a_site_that_never_streams_is_all_gap_and_windows_still_close():
    clock = Clock(BASE + timedelta(seconds=30))
    builder = WindowBuilder(["left_calf", "right_thumb"], now=clock)
    builder.start("left_calf", BASE + timedelta(seconds=30))
    builder.add("left_calf", _poll(200.0, rest=[(0.0, 200.0)]))
    assert builder.close_due() == []  # the thumb holds them back...
    clock.t = BASE + timedelta(seconds=60 + 150)
    (window,) = builder.close_due()  # ...until the wall clock is 150 s past the end
    thumb = window.sites["right_thumb"]
    assert (thumb.twitches, thumb.rest_s, thumb.active_s, thumb.gap_s) == (0, 0.0, 0.0, 60.0)
    assert window.sites["left_calf"].rest_s == pytest.approx(30.0)


def test_a_restart_resumes_after_the_last_window_sent():
    clock = Clock(BASE + timedelta(seconds=70))
    resumed = WindowBuilder(["left_calf"], now=clock, resume_from_utc=BASE + timedelta(seconds=120))
    assert resumed.next_start_utc == BASE + timedelta(seconds=120)
    old = WindowBuilder(["left_calf"], now=clock, resume_from_utc=BASE)
    assert old.next_start_utc == BASE + timedelta(seconds=60)
    resumed.start("left_calf", BASE + timedelta(seconds=70))
    resumed.add(
        "left_calf", _poll(110.0, twitches=[(20.0, 50.0), (60.0, 40.0)], rest=[(0.0, 110.0)])
    )
    # Before 10:02:00 was reported (as gap, if at all) by the previous run.
    assert resumed.late_dropped == 1 and resumed.late_rest_s == pytest.approx(50.0)
    (window,) = resumed.close_due()
    assert window.start == BASE + timedelta(seconds=120) and window.sites["left_calf"].twitches == 1


def test_window_lengths_and_sites_are_checked():
    assert check_window_s(300) == 300.0
    for bad in (0.5, 7.0, 7200.0, 59.5):
        with pytest.raises(WindowError, match="divide a day"):
            check_window_s(bad)
    builder = WindowBuilder(["left_calf"], now=Clock(BASE))
    with pytest.raises(WindowError, match="not one of this device's sites"):
        builder.start("right_calf", BASE)
    with pytest.raises(WindowError, match="start"):
        builder.add("left_calf", Detections())
    with pytest.raises(WindowError, match="1-32 sites"):
        WindowBuilder([], now=Clock(BASE))


def test_window_is_a_plain_tuple():
    window = Window(BASE, BASE + timedelta(seconds=60), {})
    start, end, sites = window
    assert (start, end, sites) == (BASE, BASE + timedelta(seconds=60), {})
