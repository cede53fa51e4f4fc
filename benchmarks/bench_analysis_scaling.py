"""Analysis time versus recording length (1 min to 1 h) for tremor and grip recordings.

Prints seconds per recording and the time per sample relative to the 1-min case;
a flat ratio means linear growth, a slowly rising one n log n (Welch/FFT parts).
Run: ``python benchmarks/bench_analysis_scaling.py``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from motorlab import Channel, Event, Metadata, Recording
from motorlab.analysis import analyze_recording

FS = 100.0


def tremor_recording(minutes: float) -> Recording:
    t = np.arange(int(minutes * 60 * FS)) / FS
    rng = np.random.default_rng(1)
    f = 5 + 0.3 * np.sin(2 * np.pi * 0.05 * t)
    phase = 2 * np.pi * np.cumsum(f) / FS
    acc = np.column_stack([0.3 * np.sin(phase), 0.1 * np.cos(phase), 9.80665 + 0 * t])
    acc += 0.02 * rng.standard_normal(acc.shape)
    chans = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"]
    return Recording(t, acc, chans, FS, Metadata("P001", task="tremorrest"))


def grip_recording(minutes: float) -> Recording:
    t = np.arange(int(minutes * 60 * FS)) / FS
    period = 10.0
    phase = np.mod(t, period)
    s = np.clip((phase - 2.0) / 0.3, 0, 1)
    force = np.where(phase < 5.0, 300 * (10 * s**3 - 15 * s**4 + 6 * s**5), 0.0)
    events = [
        Event(k * period, period, "trial", {"trial": k + 1, "hand": "right", "status": "valid"})
        for k in range(int(t[-1] // period))
    ]
    ch = [Channel("force", "MISC", "N", tracked_point="handle")]
    return Recording(t, force[:, None], ch, FS, Metadata("P001", task="grip"), events)


def main() -> None:
    print(
        f"{'task':>10} {'minutes':>8} {'samples':>9} {'seconds':>9} {'us/sample':>10} {'ratio vs 1 min':>15}"
    )
    for make in (tremor_recording, grip_recording):
        base = None
        for minutes in (1, 5, 15, 30, 60):
            rec = make(minutes)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                analyze_recording(rec)
                dt = time.perf_counter() - t0
            per = dt / rec.n_samples
            base = base or per
            print(
                f"{rec.metadata.task:>10} {minutes:8d} {rec.n_samples:9d} {dt:9.3f} {per * 1e6:10.3f} {per / base:15.2f}"
            )


if __name__ == "__main__":
    main()
