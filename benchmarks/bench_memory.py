"""Peak memory of analysing a long 1-kHz recording (goal: flat, independent of length).

Run: ``python benchmarks/bench_memory.py [--minutes 60] [--analyzer module:function]``.

Writes IMU tremor recordings of 6 min and ``--minutes`` min at 1 kHz (9
channels, 30-s trials, written block by block) and analyses each in a fresh
process with :func:`motorlab.analysis.batch.process_one` in ``by_trial`` mode,
which streams the file once and analyses one 30-s trial window at a time. Prints each child's peak
RSS (``VmHWM`` from ``/proc/self/status``, Linux) and, for comparison, the peak RSS of reading
the whole recording into memory with ``read_recording``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from motorlab.analysis.batch import DEFAULT_ANALYZER
from motorlab.sim.dataset import write_long_tremor

_CHILD = r"""
import json, sys, time
mode, path, analyzer = sys.argv[1], sys.argv[2], sys.argv[3]

def hwm_kib():  # this process's own peak RSS (VmHWM; ru_maxrss would include the parent before exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import numpy, scipy.signal  # counted in the baseline
base = hwm_kib()
t0 = time.perf_counter()
if mode == "analyze":
    from motorlab.analysis.batch import process_one
    rows, err = process_one(path, analyzer=analyzer, by_trial=True)
    n = len(rows)
elif mode == "read":
    from motorlab.storage.bids import read_recording
    rec = read_recording(path)
    rows, err, n = [], None, rec.n_samples
else:
    rows, err, n = [], None, 0
print(json.dumps({"peak_kib": hwm_kib(), "base_kib": base,
                  "seconds": time.perf_counter() - t0, "n": n, "error": err}))
"""


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()} | {platform.processor() or platform.machine()} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()} | load average {load:.1f} at start"
    )


def measure(mode: str, path: Path, analyzer: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path), analyzer], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long recording")
    ap.add_argument("--analyzer", default=DEFAULT_ANALYZER)
    ap.add_argument("--skip-read", action="store_true", help="do not measure the whole-file read")
    args = ap.parse_args(argv)
    print(f"== memory benchmark  ({machine()})")
    results = {}
    with tempfile.TemporaryDirectory(prefix="motorlab-mem-") as tmp:
        for minutes in sorted({6.0, args.minutes}):
            t0 = time.perf_counter()
            path = write_long_tremor(
                Path(tmp) / f"m{minutes:g}", minutes * 60, fs=1000.0, participant=f"L{int(minutes):03d}"
            )
            size_mb = path.stat().st_size / 2**20
            print(f"  {minutes:g} min at 1 kHz: {size_mb:.0f} MB written in {time.perf_counter() - t0:.1f} s")
            r = measure("analyze", path, args.analyzer)
            if r["error"]:
                print(f"    analysis failed: {r['error']}")
            print(
                f"    analyse: peak RSS {r['peak_kib'] / 1024:7.1f} MiB (interpreter+numpy+scipy "
                f"{r['base_kib'] / 1024:.1f} MiB), {r['seconds']:.1f} s, {r['n']} trial rows"
            )
            results[minutes] = {"analyze": r, "size_mb": size_mb}
            if not args.skip_read:
                rr = measure("read", path, args.analyzer)
                print(
                    f"    whole-file read_recording for comparison: peak RSS {rr['peak_kib'] / 1024:7.1f} MiB"
                )
                results[minutes]["read"] = rr
    lo, hi = min(results), max(results)
    if lo != hi:
        growth = results[hi]["analyze"]["peak_kib"] / results[lo]["analyze"]["peak_kib"]
        print(
            f"  peak RSS ratio {hi:g} min / {lo:g} min: {growth:.2f}x for {hi / lo:.0f}x the data (flat = 1.0)"
        )
    return results


if __name__ == "__main__":
    main()
