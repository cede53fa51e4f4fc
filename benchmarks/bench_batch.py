"""Batch analysis speed: recordings/s on 1 and 2 workers, analysis vs read time, time vs length.

Run: ``python benchmarks/bench_batch.py [--n 120] [--analyzer module:function]``.
Prints figures and ratios; asserts nothing (speed targets are goals, not tests):

* parallel efficiency = rate(2 workers) / (2 x rate(1 worker)), goal close to 1
  on a 2-core machine;
* per-recording time / time to merely ``read_recording`` the same file, goal <= 2;
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
from motorlab.analysis.dataset_sim import generate_dataset, simulate_tremor
from motorlab.storage.bids import read_recording, write_recording


def machine() -> str:
    return f"{platform.node()} | {platform.processor() or platform.machine()} | {os.cpu_count()} cores | Python {platform.python_version()}"


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


def bench_read_vs_analyze(paths: list[Path], analyzer: str) -> float:
    ratios = []
    for p in paths:
        t_read = _best_of(lambda: read_recording(p), 3)
        t_all = _best_of(lambda: process_one(p, analyzer=analyzer), 3)
        ratios.append(t_all / t_read)
    med = statistics.median(ratios)
    print(f"  per-recording analysis / read time: median {med:.2f}x (min {min(ratios):.2f}, "
          f"max {max(ratios):.2f}) over {len(paths)} recordings; goal <= 2x")
    return med


def bench_length(root: Path, analyzer: str, lengths_s=(10, 60, 300)) -> list[tuple[float, float, float]]:
    rows = []
    for length in lengths_s:
        sim = simulate_tremor(f"T{int(length):04d}", task="tremorpostural", duration_s=length, fs=1000.0)
        p = write_recording(sim.recording, root / "length")
        t_read = _best_of(lambda: read_recording(p), 2)
        t_all = _best_of(lambda: process_one(p, analyzer=analyzer), 2)
        rows.append((length, t_read, t_all))
        print(f"  {length:5.0f} s at 1 kHz: read {t_read * 1e3:8.1f} ms, read+analyse {t_all * 1e3:8.1f} ms, "
              f"{t_all / length * 1e3:6.2f} ms per recorded second, ratio {t_all / t_read:.2f}x")
    return rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120, help="recordings in the generated dataset")
    ap.add_argument("--analyzer", default=DEFAULT_ANALYZER)
    args = ap.parse_args(argv)
    print(f"== batch benchmark  ({machine()})")
    with tempfile.TemporaryDirectory(prefix="motorlab-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        ds = generate_dataset(root / "ds", n_recordings=args.n, n_corrupt=0)
        print(f"  generated {args.n} recordings in {time.perf_counter() - t0:.1f} s")
        res = bench_workers(root / "ds", args.n, args.analyzer)
        res["analyze_over_read"] = bench_read_vs_analyze(ds.paths[:: max(1, len(ds.paths) // 10)], args.analyzer)
        res["length"] = bench_length(root, args.analyzer)
    return res


if __name__ == "__main__":
    main()
