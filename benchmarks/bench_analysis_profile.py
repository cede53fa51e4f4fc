"""Where per-recording analysis time goes, task by task, next to the time to read the file.

Run: ``python benchmarks/bench_analysis_profile.py [--top 8]``. Prints, per task of the
synthetic batch dataset (plus handwriting from positions and from the IMU pen), the
best-of-5 read time, analysis time and their ratio, then the functions that take most
of the analysis time (cProfile, own time). Asserts nothing: the goal (batch issue
"Researcher scale") is read + analysis <= 2 x read.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from motorlab import Channel, Metadata, Recording
from motorlab.analysis import analyze_recording
from motorlab.sim.dataset import simulate_recording
from motorlab.storage.bids import read_recording, write_recording

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import _best_of


def handwriting_recordings() -> dict[str, Recording]:
    """Cursive-like pen trace at 200 Hz (10 s): from positions and from a simulated IMU pen."""
    fs = 200.0
    t = np.arange(int(10 * fs)) / fs
    y = np.sin(2 * np.pi * 1.7 * t) + 0.3 * np.sin(2 * np.pi * 4.1 * t)
    x = 1.5 * t + 0.3 * np.cos(2 * np.pi * 1.7 * t)
    tip = (np.sin(2 * np.pi * 0.2 * t) > -0.7) * 1.5
    pen = [
        Channel("pos_x", "POS", "cm", "x", "pentip"),
        Channel("pos_y", "POS", "cm", "y", "pentip"),
        Channel("tip_force", "MISC", "N", tracked_point="pentip"),
    ]
    from_pos = Recording(t, np.column_stack([x, y, tip]), pen, fs, Metadata("H001", task="handwriting"))
    rng = np.random.default_rng(0)
    acc = np.column_stack(
        [0.3 * np.sin(2 * np.pi * 1.7 * t), 0.2 * np.cos(2 * np.pi * 1.1 * t), 9.80665 + 0 * t]
    )
    gyr = 5.0 * rng.standard_normal((t.size, 3))
    imu = [
        *(Channel(f"acc_{a}", "ACCEL", "m/s^2", a, "pen") for a in "xyz"),
        *(Channel(f"gyr_{a}", "GYRO", "deg/s", a, "pen") for a in "xyz"),
        pen[2],
    ]
    from_imu = Recording(t, np.column_stack([acc, gyr, tip]), imu, fs, Metadata("H002", task="handwriting"))
    return {"handwriting (pos)": from_pos, "handwriting (imu)": from_imu}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=8, help="functions listed per task")
    args = ap.parse_args(argv)
    recs = {
        task: simulate_recording(task, "B0001", "01", seed=3).recording
        for task in ("grip", "gripsustained", "tremorrest", "tremorpostural", "spiral")
    }
    recs.update(handwriting_recordings())
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="motorlab-profile-") as tmp:
        for name, rec in recs.items():
            path = write_recording(rec, Path(tmp) / name.split()[0])
            t_read = _best_of(lambda: read_recording(path), 5)
            loaded = read_recording(path)
            t_an = _best_of(lambda: analyze_recording(loaded), 5)
            print(
                f"\n== {name}: {loaded.n_samples} samples; read {t_read * 1e3:.2f} ms, analysis {t_an * 1e3:.2f} ms, "
                f"(read + analysis) / read = {(t_read + t_an) / t_read:.1f}x"
            )
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(20):
                analyze_recording(loaded)
            prof.disable()
            stats = pstats.Stats(prof)
            rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[: args.top]  # own time
            total = sum(v[2] for v in stats.stats.values()) or 1.0
            for (file, line, func), (_, ncalls, own, cum, _) in rows:
                where = f"{Path(file).name}:{line}" if line else file
                print(
                    f"   {own / total * 100:5.1f}% own  {cum / 20 * 1e3:7.3f} ms cum/run  {ncalls / 20:7.0f} calls/run  "
                    f"{func} ({where})"
                )


if __name__ == "__main__":
    main()
