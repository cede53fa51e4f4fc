"""Peak memory of analysing a long 1-kHz recording (goal: flat, independent of length).

Run: ``python benchmarks/bench_memory.py [--minutes 60] [--analyzer module:function]``.

Writes IMU tremor recordings of 6 min and ``--minutes`` min at 1 kHz (9
channels, 30-s trials, written block by block) and analyses each in a fresh
process with :func:`motorlab.analysis.batch.process_one` in ``by_trial`` mode,
which streams the file once and analyses one 30-s trial window at a time. Prints each child's peak
RSS (``VmHWM`` from ``/proc/self/status``, Linux) and, for comparison, the peak RSS of reading
the whole recording into memory with ``read_recording``, then the peak traced memory (tracemalloc)
of a whole-file read as a multiple of the arrays returned, for ``read_recording``, the plain
baseline ``np.loadtxt(file)`` and the former decode-into-``io.StringIO`` read (goal: <= 2x).
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
elif mode in ("read_traced", "plain_traced", "stringio_traced"):
    # Python-heap and NumPy allocations (tracemalloc) while reading, against the bytes of the
    # arrays returned: read_recording, numpy's own parse of the file (the plain baseline), and the
    # former way (whole text decoded and wrapped in io.StringIO before parsing)
    import io, tracemalloc
    import numpy as np
    if mode == "read_traced":
        from motorlab.storage.bids import read_recording
    t0 = time.perf_counter()
    tracemalloc.start()
    if mode == "read_traced":
        rec = read_recording(path)
        arrays = {id(a.base if a.base is not None else a): a.base if a.base is not None else a
                  for a in (rec.timestamps, rec.data)}
        nbytes = sum(a.nbytes for a in arrays.values())
        n = rec.n_samples
    elif mode == "plain_traced":
        arr = np.loadtxt(path, delimiter="\t", ndmin=2)
        nbytes, n = arr.nbytes, arr.shape[0]
    else:
        text = open(path, "rb").read().decode("ascii").replace("n/a", "nan")
        arr = np.loadtxt(io.StringIO(text), delimiter="\t", ndmin=2)
        del text
        nbytes, n = arr.nbytes, arr.shape[0]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows, err = [], None
    print(json.dumps({"peak_kib": hwm_kib(), "base_kib": base, "seconds": time.perf_counter() - t0,
                      "n": n, "error": err, "traced_peak": peak, "array_bytes": nbytes}))
    sys.exit(0)
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


def whole_file_reads(path: Path, analyzer: str) -> dict[str, dict]:
    """Peak traced memory of reading the whole file three ways, each in a fresh process,
    as a multiple of the bytes of the arrays returned (goal for read_recording: <= 2x)."""
    out = {}
    for label, mode in (
        ("read_recording", "read_traced"),
        ("plain np.loadtxt(file)", "plain_traced"),
        ("former: text in io.StringIO", "stringio_traced"),
    ):
        r = measure(mode, path, analyzer)
        ratio = r["traced_peak"] / r["array_bytes"]
        print(
            f"    {label:30s} arrays {r['array_bytes'] / 2**20:7.1f} MiB, traced peak "
            f"{r['traced_peak'] / 2**20:7.1f} MiB = {ratio:4.2f}x the arrays, RSS peak "
            f"{(r['peak_kib'] - r['base_kib']) / 1024:7.1f} MiB above the interpreter, {r['seconds']:.1f} s"
        )
        out[label] = {**r, "ratio": ratio}
    ours, plain = out["read_recording"]["ratio"], out["plain np.loadtxt(file)"]["ratio"]
    print(f"    read_recording peak ratio / plain baseline ratio: {ours / plain:.2f}")
    return out


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
                results[minutes]["traced"] = whole_file_reads(path, args.analyzer)
    lo, hi = min(results), max(results)
    if lo != hi:
        growth = results[hi]["analyze"]["peak_kib"] / results[lo]["analyze"]["peak_kib"]
        print(
            f"  peak RSS ratio {hi:g} min / {lo:g} min: {growth:.2f}x for {hi / lo:.0f}x the data (flat = 1.0)"
        )
    return results


if __name__ == "__main__":
    main()
