"""Batch analysis speed: recordings/s on 1 and 2 workers, analysis vs read time, time vs length.

Run: ``python benchmarks/bench_batch.py [--n 120] [--analyzer module:function]``.
Prints figures and ratios; asserts nothing (speed targets are goals, not tests):

* parallel efficiency = rate(2 workers) / (2 x rate(1 worker)), goal close to 1
  on a 2-core machine;
* per-recording time / time to merely ``read_recording`` the same file, goal <= 2,
  split per task into reading, the analysis itself and the batch runner's overhead;
* analysis time for 1-kHz IMU recordings of growing length (should grow linearly).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from motorlab.analysis.batch import DEFAULT_ANALYZER, analyze_batch, process_one
from motorlab.sim.dataset import generate_dataset, simulate_tremor
from motorlab.storage.bids import read_recording, write_recording


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()} | {platform.processor() or platform.machine()} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()} | load average {load:.1f} at start"
    )


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_workers(root: Path, n: int, analyzer: str) -> dict[str, float]:
    out = {}
    for jobs in (1, 2):
        wall = _best_of(lambda: analyze_batch(root, jobs=jobs, analyzer=analyzer), 2)
        out[jobs] = n / wall
        print(f"  {jobs} worker(s): {wall:6.2f} s for {n} recordings = {n / wall:6.1f} recordings/s")
    eff = out[2] / (2 * out[1])
    print(f"  parallel efficiency (2 workers): {eff:.2f}   speed-up {out[2] / out[1]:.2f}x")
    return {"rate_1": out[1], "rate_2": out[2], "efficiency": eff}


def bench_read_vs_analyze(sims: list, analyzer: str) -> dict[str, float]:
    """Per task: read time, analysis time and batch overhead (process_one - read - analysis)."""
    from motorlab.analysis.batch import _load_callable

    analyze = _load_callable(analyzer)
    by_task: dict[str, list[tuple[float, float, float]]] = {}
    for sim in sims:
        p = sim.path
        rec = read_recording(p)
        t_read = _best_of(lambda: read_recording(p), 3)
        t_an = _best_of(lambda: analyze(rec, None), 3)
        t_all = _best_of(lambda: process_one(p, analyzer=analyzer), 3)
        by_task.setdefault(sim.truth["task"], []).append((t_read, t_an, t_all))
    ratios = {}
    print("  per recording (median over recordings of the task; goal: total <= 2x read):")
    for task, vals in sorted(by_task.items()):
        r, a, t = (statistics.median(v[i] for v in vals) for i in range(3))
        ratios[task] = t / r
        print(
            f"    {task:15s} read {r * 1e3:6.1f} ms  analysis {a * 1e3:6.1f} ms  process_one {t * 1e3:6.1f} ms"
            f"  = {t / r:5.1f}x read; batch overhead {max(0.0, t - r - a) * 1e3:4.1f} ms"
        )
    return ratios


def bench_length(root: Path, analyzer: str, lengths_s=(10, 60, 300)) -> list[tuple[float, float, float]]:
    rows = []
    for length in lengths_s:
        sim = simulate_tremor(f"T{int(length):04d}", task="tremorpostural", duration_s=length, fs=1000.0)
        p = write_recording(sim.recording, root / "length")
        t_read = _best_of(lambda: read_recording(p), 2)
        t_all = _best_of(lambda: process_one(p, analyzer=analyzer), 2)
        rows.append((length, t_read, t_all))
        print(
            f"  {length:5.0f} s at 1 kHz: read {t_read * 1e3:8.1f} ms, read+analyse {t_all * 1e3:8.1f} ms, "
            f"{t_all / length * 1e3:6.2f} ms per recorded second, ratio {t_all / t_read:.2f}x"
        )
    return rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="recordings in the generated dataset")
    ap.add_argument("--analyzer", default=DEFAULT_ANALYZER)
    args = ap.parse_args(argv)
    print(f"== batch benchmark  ({machine()})")
    with tempfile.TemporaryDirectory(prefix="motorlab-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        ds = generate_dataset(root / "ds", n_recordings=args.n, n_corrupt=0)
        print(f"  generated {args.n} recordings in {time.perf_counter() - t0:.1f} s")
        res = bench_workers(root / "ds", args.n, args.analyzer)
        res["analyze_over_read"] = bench_read_vs_analyze(ds.recordings[:20], args.analyzer)
        res["length"] = bench_length(root, args.analyzer)
    return res


if __name__ == "__main__":
    main()
