"""The rules at one evaluation time (server/rules), their TOML config and their wording."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ttest_ind

from server.errors import RuleConfigError
from server.model import DaySite, Finding, History, Notice, Verdict
from server.rules import (
    DEFAULT_RULES_TOML,
    RULES,
    RuleConfig,
    evaluate,
    load_rule_config,
    rise_test,
)
from server.rules.facts import build_facts
from support.histories import (
    HistoryBuilder,
    Scenario,
    benign_calf,
    eyelid_only,
    spreading,
    worsening_calf,
)
from twitchwatch.contract import Region, ReportKind, Rule, Severity


@pytest.fixture(scope="module")
def config() -> RuleConfig:
    return load_rule_config(None)


def at(scenario: Scenario, day: int, config: RuleConfig) -> dict[tuple[Rule, str], Finding]:
    as_of = scenario.as_of(day)
    return {(f.rule, f.scope): f for f in evaluate(scenario.history(as_of), as_of, config)}


def raised(findings: dict[tuple[Rule, str], Finding]) -> set[tuple[Rule, str]]:
    return {k for k, f in findings.items() if f.verdict is Verdict.RAISE}


# --- observation ----------------------------------------------------------------------------------


def test_a_day_counts_only_with_enough_rest_and_is_active_from_the_rate_threshold(
    config: RuleConfig,
) -> None:
    day = date(2026, 11, 2)

    def row(site: str, twitches: int, rest_min: float) -> DaySite:
        return DaySite(day, site, twitches, 0, rest_min * 60, 0.0, 0.0, 10)

    history = History(
        "ada",
        (
            row("left_calf", 100, 29.0),  # lots of twitches, too little rest: NO DATA
            row("left_foot", 11, 60.0),  # 0.183/min: observed, not active
            row("left_hand", 12, 60.0),  # 0.2/min: active
            row("left_thigh", 0, 30.0),  # observed, still
        ),
        (),
    )
    facts = build_facts(history, datetime(2026, 11, 2, 23, tzinfo=UTC), config)
    got = {
        s: (bool(facts.observed[i, -1]), bool(facts.active[i, -1]))
        for i, s in enumerate(facts.sites)
    }
    assert got == {
        "left_calf": (False, False),
        "left_foot": (True, False),
        "left_hand": (True, True),
        "left_thigh": (True, False),
    }


def test_rows_and_reports_after_as_of_are_ignored(config: RuleConfig) -> None:
    scenario = spreading()
    as_of = scenario.as_of(45)
    whole = evaluate(scenario.history(), as_of, config)
    assert whole == evaluate(scenario.history(as_of), as_of, config)
    # Re-evaluating the same time gives the same findings.
    assert whole == evaluate(scenario.history(), as_of, config)


# --- persistence ----------------------------------------------------------------------------------


def test_persistence_needs_three_weeks(config: RuleConfig) -> None:
    scenario = benign_calf()
    key = (Rule.PERSISTENCE, "left_calf")
    assert at(scenario, 19, config)[key].verdict is Verdict.HOLD  # span 20 days
    f = at(scenario, 20, config)[key]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.ADVISORY
    assert f.evidence["span_days"] == 21 and f.evidence["active_days"] == 21
    assert f.message.startswith(
        "Twitching recorded at the left calf on 21 of the 21 days it was observed in the last 4 weeks"
    )
    assert "Consider mentioning it to a doctor" in f.message


def test_persistence_without_enough_observed_days_is_no_data(config: RuleConfig) -> None:
    # Twitching on every worn day, but only worn on 9 days of the four weeks.
    b = HistoryBuilder(28).wear("left_calf", rate_per_min=2.0)
    b.barely_worn("left_calf", 0, 19)
    f = at(b.build(), 27, config)[(Rule.PERSISTENCE, "left_calf")]
    assert f.verdict is Verdict.NO_DATA and f.evidence["observed_days"] == 9
    assert "not enough to tell" in f.message


def test_eyelid_only_is_information_and_involves_no_region(config: RuleConfig) -> None:
    findings = at(eyelid_only(), 41, config)
    assert raised(findings) == {
        (Rule.PERSISTENCE, "left_eyelid"),
        (Rule.PERSISTENCE, "right_eyelid"),
    }
    assert {findings[k].severity for k in raised(findings)} == {Severity.INFO}
    assert "No action needed" in findings[(Rule.PERSISTENCE, "left_eyelid")].message
    assert findings[(Rule.SPREAD, "all")].evidence["regions"] == []


# --- worsening -------------------------------------------------------------------------------------


def test_worsening_doubled_rate_is_an_advisory_said_in_words(config: RuleConfig) -> None:
    f = at(worsening_calf(factor=2.0), 41, config)[(Rule.WORSENING, "left_calf")]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.ADVISORY
    assert 1.7 < f.evidence["rate_ratio"] < 2.4 and f.evidence["p_value"] < 1e-6
    assert "about twice as many per minute of rest as in the 8 weeks before" in f.message
    assert "p <" not in f.message and "p =" not in f.message  # never a p-value in words


@pytest.mark.parametrize("seed", range(12))
def test_worsening_same_rate_with_day_to_day_noise_is_nothing(
    config: RuleConfig, seed: int
) -> None:
    # Day-to-day variation far beyond Poisson (sd 60 % in log, CV ~0.65), 10 weeks: no rise.
    b = HistoryBuilder(70, seed=seed).wear("left_calf", rate_per_min=1.2, variability=0.6)
    for day in range(56, 70):
        f = at(b.build(), day, config)[(Rule.WORSENING, "left_calf")]
        assert f.verdict is not Verdict.RAISE, (day, f.evidence)


def test_worsening_with_too_few_measured_days_is_no_data(config: RuleConfig) -> None:
    # Worn on 2 days per week, at rest long enough: too few days to compare.
    b = HistoryBuilder(42)
    for first in range(0, 42, 7):
        b.wear("left_calf", first, first + 2, rate_per_min=1.0 if first < 28 else 4.0)
    f = at(b.build(), 41, config)[(Rule.WORSENING, "left_calf")]
    assert f.verdict is Verdict.NO_DATA
    assert "Not enough measured days at the left calf" in f.message


def test_worsening_is_not_raised_by_the_onset_of_twitching(config: RuleConfig) -> None:
    # The right hand starts twitching on day 28 after four still weeks: a tenfold "rise" that is
    # onset, not worsening.
    scenario = spreading()
    for day in range(30, 60):
        f = at(scenario, day, config)[(Rule.WORSENING, "right_hand")]
        assert f.verdict is not Verdict.RAISE, (day, f.evidence)


def test_rise_test_is_a_pooled_t_test_on_the_log_rates_of_twitching_days(
    config: RuleConfig,
) -> None:
    cfg = config.worsening
    rng = np.random.default_rng(7)
    n_rows, n_days = 30, cfg.recent_days + cfg.baseline_days
    rest_s = rng.uniform(1800, 30_000, (n_rows, n_days))
    rate = rng.lognormal(0.0, 0.5, (n_rows, n_days)) * np.where(
        np.arange(n_days) >= cfg.baseline_days, rng.uniform(1, 3, (n_rows, 1)), 1.0
    )
    twitches = rng.poisson(rate * rest_s / 60)
    observed = rng.random((n_rows, n_days)) < 0.8
    active = observed & (rng.random((n_rows, n_days)) < 0.7)
    test = rise_test(twitches, rest_s, observed, active, cfg)
    log_rate = np.log((twitches + 0.5) / (rest_s / 60))
    for i in range(n_rows):
        recent = log_rate[i, cfg.baseline_days :][active[i, cfg.baseline_days :]]
        before = log_rate[i, : cfg.baseline_days][active[i, : cfg.baseline_days]]
        expected = ttest_ind(recent, before, alternative="greater").pvalue
        if test.enough[i]:
            assert test.p_value[i] == pytest.approx(expected, rel=1e-9)
        assert test.ratio[i] == pytest.approx(np.exp(recent.mean() - before.mean()))


# --- symptoms: weakness, numbness, red flags; context ---------------------------------------------


def _calf_with(*reports: tuple[int, ReportKind, str | None]) -> Scenario:
    b = HistoryBuilder(35, seed=11).wear("left_calf", rate_per_min=1.5).wear("right_hand")
    for day, kind, site in reports:
        b.report(day, kind, site=site)
    return b.build()


def test_weakness_where_twitching_is_recorded_is_a_warning_that_says_so(
    config: RuleConfig,
) -> None:
    findings = at(_calf_with((30, ReportKind.WEAKNESS, "left_foot")), 30, config)
    f = findings[(Rule.WEAKNESS, Region.LUMBOSACRAL.value)]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.WARNING
    assert [s["site"] for s in f.evidence["sites"]] == ["left_calf"]
    assert f.message.startswith(
        "Weakness reported on Wed 7 Oct at 20:00 at the left foot (the lower back and legs). "
        "Twitching was recorded at the left calf on 28 of the 28 days it was observed"
    )
    assert "Please consult a doctor" in f.message


def test_weakness_where_nothing_twitches_is_still_a_warning(config: RuleConfig) -> None:
    findings = at(_calf_with((30, ReportKind.ATROPHY, "right_hand")), 30, config)
    f = findings[(Rule.WEAKNESS, Region.CERVICAL.value)]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.WARNING
    assert "Wasting reported on" in f.message
    assert "No twitching was recorded at the right hand in the last 4 weeks" in f.message


def test_weakness_where_no_sensor_is_worn_is_a_warning(config: RuleConfig) -> None:
    findings = at(_calf_with((4, ReportKind.WEAKNESS, "right_thumb")), 4, config)
    f = findings[(Rule.WEAKNESS, Region.CERVICAL.value)]
    assert f.verdict is Verdict.RAISE
    # right_hand is worn (cervical), so it is measured; the thumb itself is not a site here.
    b = HistoryBuilder(10).wear("left_calf", rate_per_min=1.5)
    b.report(4, ReportKind.WEAKNESS, site="right_hand")
    f = at(b.build(), 4, config)[(Rule.WEAKNESS, Region.CERVICAL.value)]
    assert f.verdict is Verdict.RAISE and "No sensor is worn in the neck and arms" in f.message


def test_weakness_without_a_place_is_its_own_alert(config: RuleConfig) -> None:
    findings = at(_calf_with((30, ReportKind.WEAKNESS, None)), 30, config)
    assert {scope for rule, scope in raised(findings) if rule is Rule.WEAKNESS} == {"unplaced"}
    assert "(no place given)" in findings[(Rule.WEAKNESS, "unplaced")].message


def test_numbness_is_a_warning_on_the_day_it_is_reported(config: RuleConfig) -> None:
    findings = at(_calf_with((12, ReportKind.NUMBNESS, "left_calf")), 12, config)
    f = findings[(Rule.NUMBNESS, Region.LUMBOSACRAL.value)]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.WARNING
    assert f.message.startswith("Numbness or tingling reported on Sat 19 Sep at 20:00")


def test_a_symptom_asks_after_two_weeks_and_closes_after_thirty_days(config: RuleConfig) -> None:
    b = HistoryBuilder(50).report(2, ReportKind.SPEECH)
    scenario = b.build()
    key = (Rule.RED_FLAG, "speech")
    assert at(scenario, 15, config)[key].verdict is Verdict.RAISE  # 13 days and 4 hours
    asked = at(scenario, 16, config)[key]
    assert asked.verdict is Verdict.HOLD and asked.notice is Notice.ASK
    assert "mark this alert resolved (red_flag/speech)" in asked.message
    closed = at(scenario, 32, config)[key]
    assert closed.verdict is Verdict.CLEAR
    assert closed.message == (
        "No new report of difficulty speaking since Wed 9 Sep at 20:00 (30 days), so this "
        "alert is closed. If it goes on or comes back, report it again and seek medical "
        "attention promptly."
    )


def test_red_flag_is_urgent_with_no_sensor_data_at_all(config: RuleConfig) -> None:
    b = HistoryBuilder(5).report(2, ReportKind.BREATHING)
    findings = at(b.build(), 2, config)
    assert raised(findings) == {(Rule.RED_FLAG, "breathing")}
    f = findings[(Rule.RED_FLAG, "breathing")]
    assert f.severity is Severity.URGENT and "Seek medical attention promptly" in f.message
    assert "emergency" in f.message
    assert findings[(Rule.RED_FLAG, "speech")].verdict is Verdict.CLEAR


def test_a_report_is_dated_in_the_persons_zone(config: RuleConfig) -> None:
    """20:00 in Los Angeles is 04:00 UTC the next day: the message says the person's date."""
    b = HistoryBuilder(5, tz="America/Los_Angeles").report(2, ReportKind.SWALLOWING, hour=20)
    scenario = b.build()
    f = at(scenario, 2, config)[(Rule.RED_FLAG, "swallowing")]
    assert f.verdict is Verdict.RAISE
    assert "Difficulty swallowing reported on Wed 9 Sep at 20:00" in f.message


def test_context_lists_exercise_at_the_site_caffeine_sleep_and_stress(config: RuleConfig) -> None:
    b = HistoryBuilder(28, seed=12).wear("left_calf", rate_per_min=1.5)
    b.activity(25, 1.6)
    b.report(26, ReportKind.CAFFEINE, value=2).report(26, ReportKind.CAFFEINE, value=2)
    b.report(24, ReportKind.CAFFEINE, value=1)  # one cup: not notable
    b.report(25, ReportKind.SLEEP, value=4.5).report(27, ReportKind.SLEEP, value=8)
    b.report(23, ReportKind.STRESS, value=8).report(22, ReportKind.EXERCISE)
    b.report(21, ReportKind.ALCOHOL, value=4).report(20, ReportKind.DEHYDRATION)
    f = at(b.build(), 27, config)[(Rule.PERSISTENCE, "left_calf")]
    assert f.context == (  # the latest first
        "caffeine: 4 cups reported on Sat 3 Oct",
        "post-exercise: 1.6 h of activity recorded at the left calf on Fri 2 Oct "
        "(2 of 14 twitching days in the last 2 weeks were on or after a day with 45 min or "
        "more at the site)",
        "poor sleep: 4.5 h reported on Fri 2 Oct",
        "stress: 8/10 reported on Wed 30 Sep",
        "exercise reported on Tue 29 Sep",
        "alcohol: 4 drinks reported on Mon 28 Sep",
        "dehydration reported on Sun 27 Sep",
    )
    assert "Possibly related and usually harmless: caffeine: 4 cups" in f.message
    # One practical suggestion, for what was seen last, and when to see a doctor.
    assert "Cutting down on caffeine (coffee, tea, energy drinks) often helps." in f.message
    assert "If the twitching goes on for several weeks after that" in f.message
    assert f.message.count("often help") == 1


def test_exercise_is_what_the_site_itself_did(config: RuleConfig) -> None:
    """Five sensors with ordinary movement each: no site exercised, whatever their sum."""
    b = HistoryBuilder(28, seed=14)
    for site in ("left_calf", "right_calf", "left_thigh", "right_thigh", "left_hand"):
        b.wear(site, rate_per_min=1.5, active_h=0.2)  # 12 min each, 1 h summed
    findings = at(b.build(), 27, config)
    assert not any("post-exercise" in c for f in findings.values() for c in f.context)


def test_context_never_suppresses_a_red_flag_nor_softens_it(config: RuleConfig) -> None:
    b = HistoryBuilder(28, seed=13).wear("left_calf", rate_per_min=1.5)
    for day in range(14, 28):
        b.activity(day, 2.0).report(day, ReportKind.CAFFEINE, value=6)
        b.report(day, ReportKind.SLEEP, value=4).report(day, ReportKind.STRESS, value=9)
    b.report(27, ReportKind.SWALLOWING)
    f = at(b.build(), 27, config)[(Rule.RED_FLAG, "swallowing")]
    assert f.verdict is Verdict.RAISE and f.severity is Severity.URGENT
    assert len(f.context) == 4
    assert "Also reported or recorded: post-exercise" in f.message
    assert "caffeine: 6 cups reported on Sun 4 Oct" in f.message
    assert "This does not change the advice." in f.message
    assert not any(word in f.message for word in ("harmless", "benign", "often help"))
    assert f.message.endswith("Seek medical attention promptly.")


# --- config ---------------------------------------------------------------------------------------


def test_every_rule_is_one_unit_with_its_table_words_and_title(config: RuleConfig) -> None:
    assert list(RULES) == list(Rule)  # the registry finds each rule's module by its name
    for rule, unit in RULES.items():
        assert unit.rule is rule and unit.title
        assert unit.toml.startswith(f"[{rule.value}]\n") and unit.toml in DEFAULT_RULES_TOML
        assert isinstance(config.table(rule), unit.table)
        assert config.for_s(rule) == config.table(rule).for_s


def test_defaults_come_from_the_documented_toml(config: RuleConfig) -> None:
    assert config.history_days == 90 and config.observation.min_rest_s_per_day == 1800.0
    assert config.for_s(Rule.RED_FLAG) == 0 and config.for_s(Rule.SPREAD) == 86400
    assert config.for_s(Rule.NUMBNESS) == 0 and config.worsening.baseline_days == 56
    assert config.repeat_s(Severity.URGENT) == 86400 and config.repeat_s(Severity.INFO) == 0
    # Every key of every table has a comment in its table: the reasons ship with the numbers.
    assert DEFAULT_RULES_TOML.count("#") > 60


def test_a_toml_file_overrides_only_what_it_names(tmp_path: Path, config: RuleConfig) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        "[persistence]\nmin_span_days = 14\nfor_s = 0\n\n[reminders]\nadvisory_s = 86400\n"
    )
    mine = load_rule_config(path)
    assert mine.persistence.min_span_days == 14 and mine.persistence.for_s == 0.0
    assert mine.repeat_s(Severity.ADVISORY) == 86400
    assert mine == replace(
        config,
        persistence=replace(config.persistence, min_span_days=14, for_s=0.0),
        reminders=replace(config.reminders, advisory_s=86400.0),
    )
    # ... and the rules follow: two weeks now suffice.
    scenario = benign_calf()
    assert at(scenario, 13, mine)[(Rule.PERSISTENCE, "left_calf")].verdict is Verdict.RAISE
    assert at(scenario, 13, config)[(Rule.PERSISTENCE, "left_calf")].verdict is Verdict.HOLD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[persistence]\nwindow_dayz = 28\n", "unknown key 'persistence.window_dayz'"),
        ("[persistance]\nwindow_days = 28\n", "unknown key 'persistance'"),
        ("[persistence]\nwindow_days = '28'\n", "persistence.window_days must be an integer"),
        ("[persistence]\nwindow_days = 28.5\n", "persistence.window_days must be an integer"),
        ("[quiet]\nmin_observed_days = true\n", "quiet.min_observed_days must be an integer"),
        (
            "[observation]\nactive_rate_per_min = -1\n",
            "observation.active_rate_per_min must be a finite",
        ),
        (
            "[observation]\nactive_rate_per_min = nan\n",
            "observation.active_rate_per_min must be a finite",
        ),
        (
            "[persistence]\nmin_active_fraction = 1.5\n",
            "persistence.min_active_fraction must be between",
        ),
        ("[persistence]\ninfo_places = 'eyelid'\n", "persistence.info_places must be a list"),
        ("[persistence]\ninfo_places = ['eyebrow']\n", "unknown body places ['eyebrow']"),
        ("[quiet]\nmax_active_fraction = 0.7\n", "hysteresis"),
        (
            "[quiet]\nmin_observed_days = 15\n",
            "quiet.min_observed_days must be <= quiet.window_days",
        ),
        ("[worsening]\nclear_alpha = 0.001\n", "weaker than the raise"),
        ("[weakness]\nkinds = ['caffeine']\n", "weakness.kinds must be symptoms"),
        ("history_days = 20\n", "history_days must be >= 70"),
        ("persistence = 3\n", "persistence must be a table"),
        ("[history_days]\nx = 1\n", "history_days must be a value"),
        ("[persistence\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RuleConfigError) as info:
        load_rule_config(path)
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_a_missing_config_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(RuleConfigError, match=r"rules config .*nope.toml: cannot read it"):
        load_rule_config(tmp_path / "nope.toml")
