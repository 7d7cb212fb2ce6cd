"""Detector throughput on one core, against a bare band-pass and NeuroKit2, all in one run.

One site of the ``busy_day`` scenario (EMG 2 kHz + ACC 416 Hz) is generated once, outside every
timed region, and fed to ``SiteDetector`` in 60 s chunks (what ``analyze`` does), streams
interleaved, polling after each chunk. In the same run the same EMG goes through a bare
``sosfilt`` band-pass with carried ``zi`` (the floor no detector beats) and through NeuroKit2
``emg_process`` (timed on an excerpt: it loops per sample). Detector and floor runs alternate
and the best of ``--repeats`` counts, so the ratios hold on a shared, noisy machine. Memory:
``analyze_file`` on a short and a long EDF+ file, each in a fresh process, peak RSS compared.

    .venv/bin/python bench/detector_speed.py [--quick] [--hours 24] [--minutes 60] [--profile]

Targets (issue): >= 5,000x real time; <= 4x the bare band-pass; >= 20x faster than NeuroKit2;
50 ms chunks at >= 1,000x real time; peak memory flat in the recording's length.
x real time = signal seconds / CPU seconds of this process (time.process_time).
"""

from __future__ import annotations

import os

# One core: BLAS/OpenMP pools are sized when numpy loads, so this precedes every import of it.
os.environ.update(
    dict.fromkeys(
        ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"), "1"
    )
)

import argparse
import cProfile
import gc
import json
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy
from scipy.signal import butter, sosfilt, sosfilt_zi

from edge.detect import Detections, SiteDetector
from edge.edf import EdfRecorder
from edge.stream import Block, StreamInfo
from firmware_sim.scenarios import SCENARIOS
from twitchwatch.contract import Kind

SCENARIO = SCENARIOS["busy_day"]
SITE = SCENARIO.sites[0].site
EMG_FS, ACC_FS = SCENARIO.emg_fs_hz, SCENARIO.acc_fs_hz
ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

#: Run in a fresh interpreter per file, so its peak RSS is analyze's alone.
_ANALYZE_CHILD = """
import json, sys, time
def status_kb(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
from edge.analyze import analyze_file
rss_kb = status_kb("VmRSS")
cpu0, wall0 = time.process_time(), time.perf_counter()
doc = analyze_file(sys.argv[1])
cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu_s": cpu_s, "wall_s": wall_s, "import_kb": rss_kb,
    "peak_kb": status_kb("VmHWM"), "duration_s": doc["duration_s"],
    "twitches": sum(s["twitches"] for s in doc["summary"].values())}))
"""


@dataclass(frozen=True)
class Signal:
    """One site's recording held in memory: EMG (n,) float32 µV, ACC (3, m) float32 g."""

    emg_uv: np.ndarray
    acc_g: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.emg_uv.size / EMG_FS

    def head(self, seconds: float) -> Signal:
        return Signal(
            self.emg_uv[: round(seconds * EMG_FS)], self.acc_g[:, : round(seconds * ACC_FS)]
        )


@dataclass(frozen=True)
class Row:
    """One line of the result table; ``ok`` is None for a figure without a target."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None


def chunk_bounds(duration_s: float, fs: float, chunk_s: float) -> list[int]:
    """Sample boundaries ``round(k * chunk_s * fs)``: the chunks tile the stream exactly."""
    n = round(duration_s * fs)
    n_chunks = max(1, round(np.ceil(duration_s / chunk_s - 1e-9)))
    return [min(n, round(k * chunk_s * fs)) for k in range(n_chunks)] + [n]


def generate(seconds: float, piece_s: float = 600.0) -> Signal:
    """Render ``seconds`` of the scenario's site piece by piece into float32 arrays."""
    gen = SCENARIO.generator(SITE)
    emg = np.empty(round(seconds * EMG_FS), np.float32)
    acc = np.empty((3, round(seconds * ACC_FS)), np.float32)
    e, a = chunk_bounds(seconds, EMG_FS, piece_s), chunk_bounds(seconds, ACC_FS, piece_s)
    for k in range(len(e) - 1):
        emg[e[k] : e[k + 1]] = gen.emg(e[k], e[k + 1])
        acc[:, a[k] : a[k + 1]] = gen.acc(a[k], a[k + 1])
    return Signal(emg, acc)


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()``, its CPU seconds (this process) and its wall seconds."""
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu0, time.perf_counter() - wall0


def run_detector(signal: Signal, chunk_s: float) -> Detections:
    """Stream the signal through a SiteDetector, EMG and ACC chunks interleaved, poll after each."""
    det = SiteDetector(SITE, emg_fs=EMG_FS, acc_fs=ACC_FS)
    found = Detections()
    e = chunk_bounds(signal.duration_s, EMG_FS, chunk_s)
    a = chunk_bounds(signal.duration_s, ACC_FS, chunk_s)
    for k in range(len(e) - 1):
        det.feed(Kind.EMG, e[k], signal.emg_uv[e[k] : e[k + 1]])
        det.feed(Kind.ACC, a[k], signal.acc_g[:, a[k] : a[k + 1]])
        found.extend(det.poll())
    found.extend(det.finish())
    return found


def run_bandpass(signal: Signal, chunk_s: float) -> np.ndarray:
    """The floor: the detector's band-pass design alone, chunked with carried ``zi``."""
    sos = butter(4, (20.0, 450.0), "bandpass", fs=EMG_FS, output="sos")
    zi = sosfilt_zi(sos) * signal.emg_uv[0]
    e = chunk_bounds(signal.duration_s, EMG_FS, chunk_s)
    for k in range(len(e) - 1):
        _, zi = sosfilt(sos, signal.emg_uv[e[k] : e[k + 1]], zi=zi)
    return zi


def time_interleaved(signal: Signal, repeats: int) -> tuple[list[float], list[float], Detections]:
    """CPU seconds of detector and floor runs, alternated so that load hits both alike."""
    det_cpu, floor_cpu = [], []
    found = Detections()
    for _ in range(repeats):
        found, cpu, wall = timed(lambda: run_detector(signal, 60.0))
        det_cpu.append(cpu)
        print(f"  detector 60 s chunks: CPU {cpu:.3f} s, wall {wall:.3f} s")
        _, cpu, wall = timed(lambda: run_bandpass(signal, 60.0))
        floor_cpu.append(cpu)
        print(f"  bare sosfilt:         CPU {cpu:.3f} s, wall {wall:.3f} s")
    return det_cpu, floor_cpu, found


def neurokit_cpu_per_s(signal: Signal) -> float | None:
    """CPU seconds NeuroKit2 ``emg_process`` spends per signal second, or None without it."""
    try:
        import neurokit2 as nk
    except ImportError:
        print("  neurokit2 is not installed: pip install -e '.[bench]' (figure skipped)")
        return None
    emg = signal.emg_uv.astype(np.float64)
    nk.emg_process(emg[: round(10 * EMG_FS)], sampling_rate=round(EMG_FS))  # lazy imports
    _, cpu, wall = timed(lambda: nk.emg_process(emg, sampling_rate=round(EMG_FS)))
    print(
        f"  neurokit2 {nk.__version__} emg_process, first {signal.duration_s / 60:g} min: CPU {cpu:.2f} s, wall {wall:.2f} s"
    )
    return cpu / signal.duration_s


def write_edf(path: Path, seconds: float, piece_s: float = 60.0) -> None:
    """Generate ``seconds`` of the site straight into an EDF+ file, ``piece_s`` at a time."""
    gen = SCENARIO.generator(SITE)
    start_utc = datetime(2025, 1, 6, 22, 0, tzinfo=UTC)
    emg = StreamInfo("bench", SITE, Kind.EMG, ("emg",), EMG_FS, start_utc)
    acc = StreamInfo("bench", SITE, Kind.ACC, ("x", "y", "z"), ACC_FS, start_utc)
    e, a = chunk_bounds(seconds, EMG_FS, piece_s), chunk_bounds(seconds, ACC_FS, piece_s)
    with EdfRecorder(path, [emg, acc], start_utc, device="bench") as recorder:
        for k in range(len(e) - 1):
            recorder.write(Block(emg, e[k], gen.emg(e[k], e[k + 1])[None].astype(np.float32)))
            recorder.write(Block(acc, a[k], gen.acc(a[k], a[k + 1]).astype(np.float32)))


def analyze_in_child(path: Path) -> dict[str, float]:
    """``analyze_file(path)`` in a fresh interpreter: CPU, wall, RSS after imports, peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", _ANALYZE_CHILD, str(path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_memory(short_s: float, long_s: float) -> list[dict[str, float]]:
    """Write both files to a temp dir, analyze each in its own process."""
    results = []
    with tempfile.TemporaryDirectory(prefix="detector_speed_") as tmp:
        for seconds in (short_s, long_s):
            path = Path(tmp) / f"busy_day_{seconds / 3600:g}h.edf"
            _, cpu, wall = timed(lambda: write_edf(path, seconds))  # noqa: B023 (called at once)
            mb = path.stat().st_size / 1e6
            print(
                f"  wrote {path.name}: {mb:.0f} MB, generate + write CPU {cpu:.1f} s, wall {wall:.1f} s"
            )
            child = analyze_in_child(path)
            path.unlink()  # the 24 h file is ~1 GB: keep one on disk at a time
            print(
                f"  analyze {path.name}: CPU {child['cpu_s']:.2f} s, wall {child['wall_s']:.2f} s, "
                f"RSS after imports {child['import_kb'] / 1024:.0f} MB, peak {child['peak_kb'] / 1024:.0f} MB, "
                f"{child['twitches']} twitches"
            )
            results.append(child)
    return results


def profile_detector(signal: Signal, top: int) -> None:
    """cProfile of one 60 s-chunk detector run: the functions that cost the most."""
    profiler = cProfile.Profile()
    profiler.runcall(run_detector, signal, 60.0)
    for key in ("tottime", "cumulative"):
        print(
            f"\nprofile of one detector run over {signal.duration_s / 60:g} min, top {top} by {key}:"
        )
        pstats.Stats(profiler).strip_dirs().sort_stats(key).print_stats(top)


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?"
        )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} cores usable, load {load}; python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )


def xrt(signal_s: float, cpu_s: float) -> float:
    return signal_s / max(cpu_s, 1e-9)


def print_table(rows: list[Row]) -> None:
    print(f"\n{'figure':<44} {'value':>24}  {'target':<14} verdict")
    for row in rows:
        verdict = "" if row.ok is None else ("PASS" if row.ok else "MISS <<<")
        print(f"{row.name:<44} {row.value:>24}  {row.target:<14} {verdict}")
    misses = [row.name for row in rows if row.ok is False]
    print(f"\n{len(misses)} target(s) missed" + (": " + "; ".join(misses) if misses else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="recording for the throughput figures"
    )
    parser.add_argument(
        "--hours",
        type=float,
        default=None,
        help="long file of the memory figure (24; 1 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="memory on 10 min vs 1 h instead of 1 h vs 24 h"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--nk-minutes", type=float, default=5.0, help="NeuroKit2 excerpt; 0 skips it"
    )
    parser.add_argument(
        "--stream-minutes", type=float, default=10.0, help="excerpt streamed in 50 ms chunks"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print cProfile's top N"
    )
    args = parser.parse_args()
    long_s = 3600.0 * (args.hours if args.hours is not None else 1.0 if args.quick else 24.0)
    short_s = min(args.minutes * 60.0, 600.0 if args.quick else 3600.0, long_s)

    print(machine())
    print(f"scenario {SCENARIO.name}, site {SITE}: EMG {EMG_FS:g} Hz + ACC {ACC_FS:g} Hz")
    signal, _, wall = timed(lambda: generate(args.minutes * 60.0))
    print(f"generated {signal.duration_s / 60:g} min in {wall:.1f} s (not timed below)\n")
    rows: list[Row] = []

    print(
        f"detector vs bare band-pass, {signal.duration_s / 60:g} min in 60 s chunks, {args.repeats} runs each:"
    )
    det_cpu, floor_cpu, found = time_interleaved(signal, args.repeats)
    det_x, floor_x = xrt(signal.duration_s, min(det_cpu)), xrt(signal.duration_s, min(floor_cpu))
    det_med = xrt(signal.duration_s, statistics.median(det_cpu))
    floor_med = xrt(signal.duration_s, statistics.median(floor_cpu))
    print(
        f"  detections: {found.twitch_t_s.size} twitches, {len(found.cramps)} cramps, rest {found.rest_s:.0f} s"
    )
    rows.append(
        Row(
            "detector, 60 s chunks (best / median)",
            f"{det_x:,.0f}x / {det_med:,.0f}x",
            ">= 5,000x",
            det_x >= 5000,
        )
    )
    rows.append(
        Row("bare sosfilt band-pass (best / median)", f"{floor_x:,.0f}x / {floor_med:,.0f}x")
    )
    ratio = min(det_cpu) / min(floor_cpu)
    rows.append(Row("detector CPU / bare band-pass CPU", f"{ratio:.2f}x", "<= 4x", ratio <= 4.0))

    if args.nk_minutes > 0:
        print(f"\nNeuroKit2 on the first {args.nk_minutes:g} min (extrapolated per signal second):")
        nk_per_s = neurokit_cpu_per_s(signal.head(args.nk_minutes * 60.0))
        if nk_per_s is not None:
            speedup = det_x * nk_per_s
            rows.append(
                Row(
                    f"NeuroKit2 emg_process ({args.nk_minutes:g} min excerpt)",
                    f"{1 / nk_per_s:,.0f}x",
                )
            )
            rows.append(
                Row(
                    "detector speed / NeuroKit2 speed",
                    f"{speedup:,.0f}x",
                    ">= 20x",
                    speedup >= 20.0,
                )
            )

    excerpt = signal.head(args.stream_minutes * 60.0)
    print(f"\n50 ms chunks (EMG 100, ACC 20-21 samples), first {excerpt.duration_s / 60:g} min:")
    small, cpu, wall = timed(lambda: run_detector(excerpt, 0.05))
    n_chunks = len(chunk_bounds(excerpt.duration_s, EMG_FS, 0.05)) - 1
    print(
        f"  CPU {cpu:.2f} s, wall {wall:.2f} s: {cpu / n_chunks * 1e6:.0f} µs CPU per 50 ms chunk (2 feeds + poll)"
    )
    same = np.array_equal(small.twitch_t_s, run_detector(excerpt, 60.0).twitch_t_s)
    print(f"  same twitches as 60 s chunks: {'yes' if same else 'NO'}")
    stream_x = xrt(excerpt.duration_s, cpu)
    rows.append(Row("detector, 50 ms chunks", f"{stream_x:,.0f}x", ">= 1,000x", stream_x >= 1000))

    print(
        f"\nanalyze_file peak RSS, {short_s / 3600:g} h vs {long_s / 3600:g} h EDF+ (fresh process each):"
    )
    short, long = measure_memory(short_s, long_s)
    growth = long["peak_kb"] / short["peak_kb"]
    for label, res in ((f"{short_s / 3600:g} h", short), (f"{long_s / 3600:g} h", long)):
        rows.append(Row(f"analyze {label}: peak RSS", f"{res['peak_kb'] / 1024:.0f} MB"))
        rows.append(
            Row(
                f"analyze {label}: throughput (EDF read + detect)",
                f"{xrt(res['duration_s'], res['cpu_s']):,.0f}x",
            )
        )
    rows.append(
        Row(
            f"peak RSS {long_s / 3600:g} h / {short_s / 3600:g} h",
            f"{growth:.2f}",
            "<= 1.10 (flat)",
            growth <= 1.10,
        )
    )

    print_table(rows)
    if args.profile:
        profile_detector(signal, args.profile)


if __name__ == "__main__":
    main()
