"""Fine-motor metrics straight from NumPy arrays (no devices, no files).

python examples/metrics_from_arrays.py
"""

import numpy as np

from motorlab.analysis import gas_tscore, grip_analyze, sparc, tremor_analyze

fs = 100.0  # Hz — always explicit
t = np.arange(int(20 * fs)) / fs

# A 5.5 Hz postural tremor of 0.3 m/s^2 on one axis of an accelerometer, plus sensor noise.
rng = np.random.default_rng(0)
acc = np.column_stack([0.3 * np.sin(2 * np.pi * 5.5 * t), np.zeros_like(t), 9.81 + 0 * t])
acc += rng.normal(0, 0.01, acc.shape)
tremor = tremor_analyze(acc, fs)
print(
    f"tremor: {tremor.peak_freq_Hz:.2f} Hz, RMS {tremor.rms:.3f} m/s^2, detected={tremor.tremor_detected}, "
    f"hints: {'; '.join(tremor.hints)}"
)

# A minimum-jerk reach: SPARC of its speed profile (Balasubramanian et al. 2015).
s = np.clip(t / 1.0, 0, 1)
speed = 30 * s**2 - 60 * s**3 + 30 * s**4
print(f"SPARC of a minimum-jerk reach: {sparc(speed[: int(1.0 * fs) + 1], fs):.4f}")

# A grip squeeze: 0.3 s rise to 250 N, hold, release.
force = np.interp(t, [0, 1.0, 1.3, 4.0, 4.3, 20], [0, 0, 250, 240, 0, 0])
g = grip_analyze(force, fs)
print(
    f"grip: peak {g.peak_force_N:.1f} N, time to peak {g.time_to_peak_s:.2f} s, RFD 0-100 ms {g.rfd_0_100ms_N_per_s:.0f} N/s"
)

# Goal Attainment Scaling: three goals scored -1, 0, +1 (equal weights, rho = 0.3).
print(f"GAS T-score: {gas_tscore([-1, 0, 1]):.1f}")
