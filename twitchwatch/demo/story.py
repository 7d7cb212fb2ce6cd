"""The demo's seeded six-week story: who wears what, how each site twitches each day, what is reported.

A story is data only. :mod:`twitchwatch.demo.history` turns each past day into a short rest
recording per worn site (the simulator's physiology, then the real detector and window cutter);
today is streamed live by simulated sensors over Bluetooth. Nothing here decides an alert: the
server's rules do, and the demo only checks that they fired in the order the story implies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from edge.drivers.bitalino import DRIVER as BITALINO
from edge.drivers.bitalino.driver import FS_HZ as BITALINO_FS_HZ
from edge.drivers.diy import DRIVER as DIY
from edge.drivers.polar_pmd import DRIVER as POLAR_PMD
from edge.drivers.polar_pmd.driver import MAX_RATE_HZ
from twitchwatch.contract import ReportKind, Rule

#: The DIY reference sensor (EMG and accelerometer) and the Polar Verity Sense's accelerometer
#: at the rate the Polar driver asks for.
DIY_EMG_FS_HZ = 2000.0
DIY_ACC_FS_HZ = 416.0
POLAR_ACC_FS_HZ = float(MAX_RATE_HZ)


@dataclass(frozen=True, slots=True)
class StorySensor:
    """A worn sensor: its body site and its driver's registry name (diy: EMG + accelerometer;
    bitalino: EMG at 1 kHz + one accelerometer axis; polar_pmd: accelerometer only)."""

    site: str
    driver: str = DIY.name

    @property
    def emg_fs(self) -> float | None:
        return {DIY.name: DIY_EMG_FS_HZ, BITALINO.name: BITALINO_FS_HZ}.get(self.driver)

    @property
    def acc_fs(self) -> float:
        return {DIY.name: DIY_ACC_FS_HZ, BITALINO.name: BITALINO_FS_HZ}.get(
            self.driver, POLAR_ACC_FS_HZ
        )

    @property
    def acc_axes(self) -> int:
        """How many accelerometer axes the sensor sends: the BITalino's board has one."""
        return 1 if self.driver == BITALINO.name else 3


@dataclass(frozen=True, slots=True)
class StoryReport:
    """Something the person reports: symptom or context, at an hour of its day (UTC)."""

    hour: float
    kind: ReportKind
    site: str | None = None
    value: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StoryDay:
    """One past day. ``rates``: twitches per minute of rest per worn site (0 = still); a site
    missing from it was not worn that day."""

    rates: dict[str, float]
    reports: tuple[StoryReport, ...] = ()
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    """An alert the story should raise, in order: rule, and the scope it should carry."""

    rule: Rule
    scope: str


@dataclass(frozen=True)
class Story:
    """A person's weeks: the past day by day, then today live."""

    user: str
    device: str
    sensors: tuple[StorySensor, ...]
    days: tuple[StoryDay, ...]
    today: dict[str, float]  # live rates per site
    expected: tuple[ExpectedAlert, ...]
    recording_s: float = 1920.0  # each past day's rest recording: 32 min (the rules need 30)
    recording_hour_utc: float = 20.0
    seed: int = 7
    #: Rule overrides (TOML) for stories shorter than the defaults allow; None keeps them all.
    rules_toml: str | None = None
    today_date: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def sites(self) -> list[str]:
        return [s.site for s in self.sensors]

    def day_date(self, index: int) -> date:
        """Past day ``index`` (0 = the first); the last past day is yesterday."""
        return self.today_date - timedelta(days=len(self.days) - index)

    def recording_start(self, index: int) -> datetime:
        midnight = datetime.combine(self.day_date(index), time(), tzinfo=UTC)
        return midnight + timedelta(hours=self.recording_hour_utc)

    def report_time(self, index: int, report: StoryReport) -> datetime:
        midnight = datetime.combine(self.day_date(index), time(), tzinfo=UTC)
        return midnight + timedelta(hours=report.hour)


def calf_then_hand(
    *, seed: int = 7, today: date | None = None, recording_s: float = 1920.0
) -> Story:
    """Six weeks: calf twitching after running that stays benign, then the hand, then weakness.

    - Days 0-41: the left calf twitches most evenings, more after a run (exercise reported). It
      persists for three weeks: a persistence *advisory*, shown with its post-exercise context.
    - From day 25 the right hand, still until then, twitches too: a second region (cervical
      after lumbosacral) that stays twitching for two weeks is a spread *warning*.
    - Day 40 the person reports weakness in the right hand: a weakness *warning*.
    - The right hand wears a BITalino (EMG at 1 kHz, one accelerometer axis), the left calf the
      DIY sensor; the right calf, under a Polar Verity Sense (accelerometer only), stays still.
    - A few days the sensors were not worn: no data, never zero.
    """
    rng = np.random.default_rng(seed)
    n_days = 42
    hand_from, weakness_day = 25, 40
    unworn = {6, 15, 31}
    run_days = {d for d in range(n_days) if d % 7 in (1, 3, 5)}
    days = []
    for d in range(n_days):
        if d in unworn:
            days.append(StoryDay({}, caption="sensors not worn"))
            continue
        ran = d in run_days
        calf = float(rng.uniform(8.0, 12.0) * (1.5 if ran else 1.0))
        hand = float(rng.uniform(6.0, 10.0)) if d >= hand_from else 0.0
        reports: list[StoryReport] = []
        if ran:
            reports.append(StoryReport(18.0, ReportKind.EXERCISE, note="evening run, 8 km"))
        if rng.random() < 0.2:
            reports.append(StoryReport(9.0, ReportKind.CAFFEINE, value=4.0, note="cups"))
        if rng.random() < 0.15:
            reports.append(StoryReport(8.0, ReportKind.SLEEP, value=5.0, note="hours"))
        caption = "calf twitching after a run" if ran else "calf twitching"
        if d == hand_from:
            caption = "the right hand starts twitching"
        if d == weakness_day:
            reports.append(
                StoryReport(
                    21.0,
                    ReportKind.WEAKNESS,
                    site="right_hand",
                    note="hard to open a jar with the right hand",
                )
            )
            caption = "weakness reported in the right hand"
        days.append(
            StoryDay(
                {"left_calf": calf, "right_hand": hand, "right_calf": 0.0},
                tuple(reports),
                caption,
            )
        )
    return Story(
        user="demo",
        device="demo-pi",
        sensors=(
            StorySensor("left_calf"),
            StorySensor("right_hand", BITALINO.name),
            StorySensor("right_calf", POLAR_PMD.name),
        ),
        days=tuple(days),
        today={"left_calf": 10.0, "right_hand": 8.0, "right_calf": 0.0},
        expected=(
            ExpectedAlert(Rule.PERSISTENCE, "left_calf"),
            ExpectedAlert(Rule.SPREAD, "all"),
            ExpectedAlert(Rule.WEAKNESS, "cervical"),
        ),
        recording_s=recording_s,
        seed=seed,
        today_date=today or datetime.now(UTC).date(),
    )


#: The short story's recordings are 5 min, so a day counts with 4.5 min of rest, and a day is
#: "twitching" from 0.5 per minute: in 4.5 min the detector's stray counts on a still muscle
#: (~0.1 per minute) almost never reach the 3 twitches that takes, as they never reach 6 in the
#: full story's 30 min. Only the quick demo and its test use it; every other threshold is kept.
SHORT_RULES_TOML = """\
[observation]
min_rest_s_per_day = 270
active_rate_per_min = 0.5
"""


def short_calf_then_hand(*, seed: int = 7, today: date | None = None) -> Story:
    """The same six weeks with 5-minute recordings: the whole chain in seconds (tests)."""
    story = calf_then_hand(seed=seed, today=today, recording_s=300.0)
    return Story(
        user=story.user,
        device=story.device,
        sensors=story.sensors,
        days=story.days,
        today=story.today,
        expected=story.expected,
        recording_s=story.recording_s,
        recording_hour_utc=story.recording_hour_utc,
        seed=story.seed,
        rules_toml=SHORT_RULES_TOML,
        today_date=story.today_date,
    )
