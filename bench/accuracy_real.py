"""The accuracy bench on real signals: surface EMG quiet stretches, the semi-real condition
(bench/real_semg.py holds the rule and the sources) and the PhysioNet emgdb needle records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import real_semg
from bench.accuracy_table import (
    EMG_TOLERANCE_S,
    F1_TARGET,
    HEADER,
    REAL_PER_MIN_TARGET,
    REST_KEPT_TARGET,
    row,
)
from bench.rest_time import union
from bench.scoring import TwitchScore, combine, score_twitches
from edge.detect import SiteDetector
from twitchwatch.contract import Kind, Reason

#: A recording's own twitches-per-minute is held to the target only over this much judged time;
#: below it one count is several per minute. The pooled figure is always held to it.
MIN_JUDGED_S = 20.0


@dataclass(frozen=True, slots=True)
class RealResults:
    rows: list[real_semg.RealRow]
    semi: list[real_semg.SemiRealResult]

    def semi_scores(self) -> list[tuple[str, TwitchScore, float]]:
        """Per recording with truth: (name, twitch score, rest kept of the scored stretches)."""
        out = []
        for r in self.semi:
            if not any(t.size for t in r.true_s):
                continue
            passes = [
                score_twitches(t, f, np.zeros((0, 2)), tolerance_s=EMG_TOLERANCE_S)
                for t, f in zip(r.true_s, r.found_s, strict=True)
            ]
            scored = r.scored_s * len(r.true_s)
            out.append((r.name, combine(passes), r.kept_s / scored if scored else 1.0))
        return out


def run_real() -> RealResults:
    """The detector on every real recording and on its semi-real versions."""
    rows, semi = [], []
    for i, recording in enumerate(real_semg.real_recordings()):
        quiet = real_semg.quiet_stretches(recording.signal_uv, recording.fs)
        rows.append(real_semg.real_row(recording, quiet))
        semi.append(real_semg.semi_real_result(recording, quiet, i))
    return RealResults(rows, semi)


def report_real(real: RealResults) -> list[str]:
    """Print the real-recording figures; return what misses its target."""
    missed = []
    print(
        "\nReal surface EMG (tests/data/real_semg, SOURCE.md): twitches counted in the quiet"
        " stretches that hold no potential (rule: bench/real_semg.py), target"
        f" <= {REAL_PER_MIN_TARGET:g}/min; potentials of low-level trains at rest counted as"
        " twitches (none should be); exclusions by reason, in those stretches / over the file"
    )
    print(
        f"{'recording':<30} {'s':>6} {'floor uV':>8} {'judged s':>8} {'train counted':>13} {'counted':>7}"
        f" {'per min':>7} {'all':>5}  excluded (judged s / total s)"
    )
    for rec in real.rows:
        excluded = ", ".join(
            f"{reason} {rec.excluded_judged_s.get(reason, 0.0):.1f}/{seconds:.1f}"
            for reason, seconds in sorted(rec.excluded_s.items())
        )
        ok = rec.judged_s < MIN_JUDGED_S or rec.per_min <= REAL_PER_MIN_TARGET
        short = rec.judged_s < MIN_JUDGED_S and rec.judged_s > 0
        print(
            f"{rec.name:<30} {rec.seconds:>6.1f} {rec.floor_uv:>8.2f} {rec.judged_s:>8.1f} {f'{rec.train_counted}/{rec.train_potentials}':>13}"
            f" {rec.counted:>7} {rec.per_min:>7.2f} {rec.counted_total:>5}  {excluded or 'none'}"
            + ("" if ok else "  MISS")
            + (f"  (< {MIN_JUDGED_S:g} s judged: reported only)" if short else "")
        )
        if not ok:
            missed.append(f"real {rec.name}: {rec.per_min:.2f} twitches/min in quiet stretches")
    judged = sum(r.judged_s for r in real.rows)
    counted = sum(r.counted for r in real.rows)
    per_min = counted / (judged / 60) if judged else 0.0
    ok = per_min <= REAL_PER_MIN_TARGET
    trains = (
        f"{sum(r.train_counted for r in real.rows)}/{sum(r.train_potentials for r in real.rows)}"
    )
    print(
        f"{'ALL':<30} {'':>6} {'':>8} {judged:>8.1f} {trains:>13} {counted:>7} {per_min:>7.2f}"
        + ("  ok" if ok else "  MISS")
    )
    if not ok:
        missed.append(f"real quiet stretches: {per_min:.2f} twitches/min (target <= 1)")
    semi = real.semi_scores()
    print(
        f"\nSemi-real: simulated potentials (median 60 uV, {real_semg.SEMI_REAL_PASSES} draws per file)"
        " added onto the judged quiet stretches of the real recordings, scored there"
    )
    print(HEADER)
    for name, score, kept in semi:
        targets = [] if score.f1 >= F1_TARGET else [f"F1<{F1_TARGET}"]
        targets += [] if kept >= REST_KEPT_TARGET else [f"rest<{REST_KEPT_TARGET}"]
        print(
            row(
                f"semi_real / {name}",
                score,
                kept,
                "",
                "ok" if not targets else "MISS " + ",".join(targets),
            )
        )
    if semi:
        pooled = combine([s for _, s, _ in semi])
        print(row("OVERALL semi-real", pooled))
        if pooled.f1 < F1_TARGET:
            missed.append(f"semi-real F1 {pooled.f1:.3f} (target >= {F1_TARGET})")
    return missed


def emgdb_figures() -> list[tuple[str, float, float, float, int, float]]:
    """Per real record: (name, seconds, voluntary share, twitches per min, cramps, NK onsets/min)."""
    from bench.emgdb import emgdb_records

    rows = []
    for record in emgdb_records():
        det = SiteDetector("right_shin", emg_fs=record.fs, acc_fs=None)
        det.feed(Kind.EMG, 0, record.signal_uv)
        found = det.poll()
        found.extend(det.finish())
        seconds = record.signal_uv.size / record.fs
        voluntary = union(
            np.array(
                [(i.start_s, i.end_s) for i in found.excluded if i.reason is Reason.VOLUNTARY]
            ).reshape(-1, 2)
        )
        covered = float(np.sum(np.clip(voluntary, 0, seconds) @ [-1.0, 1.0]))
        nk_per_min = float("nan")
        try:
            from bench.baselines import neurokit_onsets_s

            nk_per_min = neurokit_onsets_s(record.signal_uv, record.fs).size / (seconds / 60)
        except RuntimeError:
            pass
        rows.append(
            (
                record.name,
                seconds,
                covered / seconds,
                found.twitch_t_s.size / (seconds / 60),
                len(found.cramps),
                nk_per_min,
            )
        )
    return rows
