"""Batch analysis speed: recordings/s on 1 and 2 workers, analysis vs read time, time vs length.

Run: ``python benchmarks/bench_batch.py [--n 120] [--analyzer module:function]``.
Prints figures and ratios; asserts nothing (speed targets are goals, not tests):

* parallel efficiency = rate(2 workers) / (2 x rate(1 worker)), goal close to 1
  on a 2-core machine;
* per-recording time / time to merely ``read_recording`` the same file, goal <= 2,
  split per task into reading, the analysis itself and the batch runner's overhead; the
  analysis alone over the read time is printed per task too (issue 11: spiral <= 2x);
* analysis time for 1-kHz IMU recordings of growing length (should grow linearly);
* ``tremor_analyze`` against a plain SciPy pipeline doing the same steps (Welch, band power,
  robust background fit and peak test, band-pass RMS, displacement, PCA, TSI band-pass and
  zero crossings) on 1 kHz x 5 min, timed back to back in the same run; goal ratio <= 1.
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
    print(
        "  per recording (median over recordings of the task; goals: analysis <= 2x read, total <= 2x read):"
    )
    for task, vals in sorted(by_task.items()):
        r, a, t = (statistics.median(v[i] for v in vals) for i in range(3))
        an = statistics.median(v[1] / v[0] for v in vals)
        ratios[task] = t / r
        print(
            f"    {task:15s} read {r * 1e3:6.1f} ms  analysis {a * 1e3:6.1f} ms ({an:4.2f}x read)"
            f"  process_one {t * 1e3:6.1f} ms = {t / r:5.2f}x read; batch overhead {max(0.0, t - r - a) * 1e3:4.1f} ms"
        )
    return ratios


def plain_scipy_tremor(x, fs: float, band=(3.0, 12.0)) -> tuple[float, float, float, float]:
    """The steps of ``tremor_analyze`` written directly with SciPy/NumPy (the baseline)."""
    import numpy as np
    from scipy import signal as sps
    from scipy.stats import chi2, theilslopes

    nper = int(4 * fs)
    f, p = sps.welch(x, fs, window="hann", nperseg=nper, noverlap=nper // 2, detrend="constant", axis=0)
    p = p.sum(axis=1)
    sel = (f >= band[0]) & (f <= band[1])
    power = float(np.sum(p[sel]) * (f[1] - f[0]))
    fit = (f >= band[0] / 2) & (f <= band[1] * 2) & (p > 0)
    slope, icpt, *_ = theilslopes(np.log10(p[fit]), np.log10(f[fit]))
    bg = 10 ** (icpt + slope * np.log10(np.maximum(f, 1e-12)))
    idx = np.flatnonzero(sel)[1:-1]
    cand = idx[(p[idx] > p[idx - 1]) & (p[idx] >= p[idx + 1])]
    k = int(cand[np.argmax(p[cand] / bg[cand])])
    k_seg = (x.shape[0] - nper) // (nper // 2) + 1
    dof = 2 * k_seg / (1 + 2 * (1 - 1 / k_seg) * 0.167**2)
    pval = 1 - (1 - chi2.sf(p[k] / bg[k] * dof, dof)) ** int(sel.sum())
    sos = sps.butter(4, [band[0] * 0.6, band[1] / 0.6], btype="bandpass", fs=fs, output="sos")
    rms = float(np.sqrt(np.sum(np.mean(sps.sosfiltfilt(sos, x, axis=0) ** 2, axis=0))))
    s2 = sel & (f > 0)
    _disp = float(np.sqrt(np.sum(p[s2] / (2 * np.pi * f[s2]) ** 4) * (f[1] - f[0])) * 100)
    c = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    sig = c @ vt[0]
    sos2 = sps.butter(2, [f[k] - 2, f[k] + 2], btype="bandpass", fs=fs, output="sos")
    y = sps.sosfiltfilt(sos2, sig)
    up = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    t_up = (up - y[up] / (y[up + 1] - y[up])) / fs
    d = np.diff(1 / np.diff(t_up))
    q75, q25 = np.percentile(d, [75, 25])
    return float(f[k]), power, rms, float(q75 - q25) + 0 * pval


def bench_tremor_vs_scipy(fs: float = 1000.0, minutes: float = 5.0, repeats: int = 5) -> float:
    """tremor_analyze / plain SciPy pipeline on the same samples (median of per-pair ratios)."""
    import numpy as np

    from motorlab.analysis import tremor_analyze

    t = np.arange(int(minutes * 60 * fs)) / fs
    rng = np.random.default_rng(0)
    x = np.column_stack(
        [0.3 * np.sin(2 * np.pi * 5.7 * t), 0.1 * np.sin(2 * np.pi * 5.7 * t + 1), 9.81 + 0 * t]
    )
    x = x + rng.normal(0, 0.02, x.shape)
    ours, base = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = tremor_analyze(x, fs)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = plain_scipy_tremor(x, fs)
        base.append(time.perf_counter() - t0)
    ratio = statistics.median(a / b for a, b in zip(ours, base))
    print(
        f"  tremor_analyze {fs:g} Hz x {minutes:g} min: {min(ours) * 1e3:.0f} ms; plain SciPy pipeline "
        f"{min(base) * 1e3:.0f} ms; ratio {ratio:.2f}x (goal <= 1); same peak {r.peak_freq_Hz:.3f} vs "
        f"{ref[0]:.3f} Hz, RMS {r.rms:.4f} vs {ref[2]:.4f}"
    )
    return ratio


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
    res["tremor_vs_scipy"] = bench_tremor_vs_scipy()
    return res


if __name__ == "__main__":
    main()
