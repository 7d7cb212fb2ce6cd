"""Detector throughput on one core, against a bare band-pass and NeuroKit2, all in one run.

One site of the ``busy_day`` scenario (EMG 2 kHz + ACC 416 Hz) is generated once, outside every
timed region, and fed to ``SiteDetector`` in 60 s chunks (what ``analyze`` does), streams
interleaved, polling after each chunk. In the same run the same EMG goes through a bare
``sosfilt`` band-pass with carried ``zi`` (the floor no detector beats) and through NeuroKit2
``emg_process`` (timed on an excerpt: it loops per sample). Detector and floor runs alternate
and the best of ``--repeats`` counts, so the ratios hold on a shared, noisy machine. Memory:
``analyze_file`` on a short and a long EDF+ file, each in a fresh process, peak RSS compared.

    .venv/bin/python bench/detector_speed.py [--quick] [--hours 24] [--minutes 60] [--profile 15]

Targets (issue): >= 5,000x real time; <= 4x the bare band-pass; >= 20x faster than NeuroKit2;
50 ms chunks at >= 1,000x real time; peak memory flat in the recording's length.
x real time = signal seconds / CPU seconds of this process (time.process_time).
"""

from __future__ import annotations

import twitchwatch.one_core  # noqa: F401  (one core: before every import of numpy)

# isort: split

import argparse
import cProfile
import gc
import json
import math
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402
from edge.detect import Detections, DetectorConfig, SiteDetector  # noqa: E402
from edge.edf import EdfRecorder  # noqa: E402
from edge.stream import Block, StreamInfo  # noqa: E402
from firmware_sim.scenarios import SCENARIOS  # noqa: E402
from twitchwatch.contract import Kind  # noqa: E402

SCENARIO = SCENARIOS["busy_day"]
SITE = SCENARIO.sites[0].site
EMG_FS, ACC_FS = SCENARIO.emg_fs_hz, SCENARIO.acc_fs_hz
T = TypeVar("T")

#: Run in a fresh interpreter per file, so its peak RSS is analyze's alone.
_ANALYZE_CHILD = """
import twitchwatch.one_core  # as the twitchwatch command: one BLAS thread, freed memory reused
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


def chunk_bounds(duration_s: float, fs: float, chunk_s: float) -> list[int]:
    """Sample boundaries ``round(k * chunk_s * fs)``: the chunks tile the stream exactly."""
    n = round(duration_s * fs)
    n_chunks = max(1, math.ceil(duration_s / chunk_s - 1e-9))
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
    cfg = DetectorConfig()  # (20, 450) Hz, order 4
    sos = butter(cfg.emg_filter_order, cfg.emg_band_hz, "bandpass", fs=EMG_FS, output="sos")
    zi = sosfilt_zi(sos) * signal.emg_uv[0]
    e = chunk_bounds(signal.duration_s, EMG_FS, chunk_s)
    for k in range(len(e) - 1):
        _, zi = sosfilt(sos, signal.emg_uv[e[k] : e[k + 1]], zi=zi)
    return zi


def span(seconds: float) -> str:
    """``10 min``, ``1 h``, ``24 h``: a duration as the tables print it."""
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def xrt(signal_s: float, cpu_s: float) -> float:
    """x real time: signal seconds per CPU second."""
    return signal_s / max(cpu_s, 1e-9)


def throughput_rows(signal: Signal, repeats: int) -> tuple[list[Row], float]:
    """Detector and floor in 60 s chunks, runs alternated so that load hits both alike."""
    print(f"detector vs bare band-pass, {span(signal.duration_s)} in 60 s chunks:")
    det_cpu, floor_cpu, found = [], [], Detections()
    for _ in range(repeats):
        found, cpu, wall = timed(lambda: run_detector(signal, 60.0))
        det_cpu.append(cpu)
        print(f"  detector     CPU {cpu:.3f} s, wall {wall:.3f} s")
        _, cpu, wall = timed(lambda: run_bandpass(signal, 60.0))
        floor_cpu.append(cpu)
        print(f"  bare sosfilt CPU {cpu:.3f} s, wall {wall:.3f} s")
    print(
        f"  found {found.twitch_t_s.size} twitches, {len(found.cramps)} cramps, rest {found.rest_s:.0f} s"
    )
    det_x = xrt(signal.duration_s, min(det_cpu))
    best_median = [
        f"{xrt(signal.duration_s, min(c)):,.0f}x / {xrt(signal.duration_s, statistics.median(c)):,.0f}x"
        for c in (det_cpu, floor_cpu)
    ]
    ratio = min(det_cpu) / min(floor_cpu)
    return [
        Row("detector, 60 s chunks (best / median)", best_median[0], ">= 5,000x", det_x >= 5000),
        Row("bare sosfilt band-pass (best / median)", best_median[1]),
        Row("detector CPU / bare band-pass CPU (best)", f"{ratio:.2f}x", "<= 4x", ratio <= 4.0),
    ], det_x


def neurokit_rows(excerpt: Signal, det_x: float) -> list[Row]:
    """NeuroKit2 ``emg_process`` on an excerpt, per signal second; nothing without neurokit2."""
    print(f"\nNeuroKit2 emg_process on the first {span(excerpt.duration_s)}:")
    try:
        import neurokit2 as nk
    except ImportError:
        print("  neurokit2 is not installed: pip install -e '.[bench]' (figure skipped)")
        return []
    emg = excerpt.emg_uv.astype(np.float64)
    nk.emg_process(emg[: round(10 * EMG_FS)], sampling_rate=round(EMG_FS))  # its lazy imports
    _, cpu, wall = timed(lambda: nk.emg_process(emg, sampling_rate=round(EMG_FS)))
    print(f"  neurokit2 {nk.__version__}: CPU {cpu:.2f} s, wall {wall:.2f} s")
    nk_x = xrt(excerpt.duration_s, cpu)
    return [
        Row(f"NeuroKit2 emg_process ({span(excerpt.duration_s)})", f"{nk_x:,.0f}x"),
        Row(
            "detector speed / NeuroKit2 speed",
            f"{det_x / nk_x:,.0f}x",
            ">= 20x",
            det_x / nk_x >= 20,
        ),
    ]


def streaming_rows(excerpt: Signal, repeats: int) -> list[Row]:
    """50 ms chunks, as a live edge feeds them (best of ``repeats``, like the 60 s figure);
    checked against 60 s chunks."""
    print(f"\n50 ms chunks (EMG 100, ACC 20-21 samples), first {span(excerpt.duration_s)}:")
    runs = [timed(lambda: run_detector(excerpt, 0.05)) for _ in range(max(1, repeats))]
    small, cpu, wall = min(runs, key=lambda run: run[1])
    n_chunks = len(chunk_bounds(excerpt.duration_s, EMG_FS, 0.05)) - 1
    print(
        f"  CPU {cpu:.2f} s, wall {wall:.2f} s: {cpu / n_chunks * 1e6:.0f} µs per chunk (2 feeds + poll)"
    )
    same = np.array_equal(small.twitch_t_s, run_detector(excerpt, 60.0).twitch_t_s)
    print(f"  same twitches as in 60 s chunks: {'yes' if same else 'NO'}")
    stream_x = xrt(excerpt.duration_s, cpu)
    return [Row("detector, 50 ms chunks", f"{stream_x:,.0f}x", ">= 1,000x", stream_x >= 1000)]


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


def memory_rows(short_s: float, long_s: float) -> list[Row]:
    """Write each file to a temp dir and analyze it in its own process; compare peak RSS."""
    print(f"\nanalyze_file, {span(short_s)} vs {span(long_s)} EDF+ (a fresh process each):")
    rows, peaks = [], []
    with tempfile.TemporaryDirectory(prefix="detector_speed_") as tmp:
        for seconds in (short_s, long_s):
            path = Path(tmp) / f"busy_day_{span(seconds).replace(' ', '')}.edf"
            _, cpu, wall = timed(lambda: write_edf(path, seconds))  # noqa: B023 (called at once)
            size_mb = path.stat().st_size / 1e6
            print(f"  wrote {path.name} ({size_mb:.0f} MB): CPU {cpu:.1f} s, wall {wall:.1f} s")
            child = analyze_in_child(path)
            path.unlink()  # a 24 h file is ~0.6 GB: one on disk at a time
            print(
                f"  analyzed it: CPU {child['cpu_s']:.2f} s, wall {child['wall_s']:.2f} s, RSS after "
                f"imports {child['import_kb'] / 1024:.0f} MB, peak {child['peak_kb'] / 1024:.0f} MB, "
                f"{child['twitches']} twitches"
            )
            peaks.append(child["peak_kb"])
            analyze_x = xrt(child["duration_s"], child["cpu_s"])
            rows.append(
                Row(f"analyze {span(seconds)}: peak RSS", f"{child['peak_kb'] / 1024:.0f} MB")
            )
            rows.append(Row(f"analyze {span(seconds)}: EDF read + detect", f"{analyze_x:,.0f}x"))
    growth = peaks[1] / peaks[0]
    name = f"peak RSS {span(long_s)} / {span(short_s)}"
    return [*rows, Row(name, f"{growth:.2f}", "<= 1.10 (flat)", growth <= 1.10)]


def profile_detector(signal: Signal, chunk_s: float, top: int) -> None:
    """cProfile of one detector run: the functions that cost the most."""
    profiler = cProfile.Profile()
    profiler.runcall(run_detector, signal, chunk_s)
    for key in ("tottime", "cumulative"):
        print(f"\nprofile, {span(signal.duration_s)} in {chunk_s:g} s chunks, top {top} by {key}:")
        pstats.Stats(profiler).strip_dirs().sort_stats(key).print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--minutes", type=float, default=60.0, help="recording of the throughput figures")
    add("--hours", type=float, help="long file of the memory figure (24; 1 with --quick)")
    add("--quick", action="store_true", help="memory on 10 min vs 1 h, not 1 h vs 24 h")
    add("--repeats", type=int, default=3, help="runs of detector and floor (best counts)")
    add("--nk-minutes", type=float, default=5.0, help="NeuroKit2 excerpt; 0 skips it")
    add("--stream-minutes", type=float, default=10.0, help="excerpt fed in 50 ms chunks")
    add("--profile", type=int, default=0, metavar="N", help="then print cProfile's top N")
    args = parser.parse_args()
    long_s = 3600.0 * (args.hours if args.hours is not None else 1.0 if args.quick else 24.0)
    short_s = min(args.minutes * 60.0, 600.0 if args.quick else 3600.0, long_s)

    print(machine(f"numpy {np.__version__}", f"scipy {scipy.__version__}"))
    print(f"scenario {SCENARIO.name}, site {SITE}: EMG {EMG_FS:g} Hz + ACC {ACC_FS:g} Hz, one core")
    signal, _, wall = timed(lambda: generate(args.minutes * 60.0))
    print(f"generated {span(signal.duration_s)} in {wall:.1f} s, outside the timed regions\n")
    rows, det_x = throughput_rows(signal, args.repeats)
    if args.nk_minutes > 0:
        rows += neurokit_rows(signal.head(args.nk_minutes * 60.0), det_x)
    rows += streaming_rows(signal.head(args.stream_minutes * 60.0), args.repeats)
    rows += memory_rows(short_s, long_s)
    print_table(rows)
    if args.profile:
        profile_detector(signal, 60.0, args.profile)
        profile_detector(signal.head(args.stream_minutes * 60.0), 0.05, args.profile)


if __name__ == "__main__":
    main()
