"""Deterministic in-memory recordings of every analysed task (plain NumPy, no simulator package).

Used by tests/test_analysis_results.py: ``tests/data/analysis_rows_golden.json`` holds the rows
that ``analyze_recording`` returned for these recordings before the typed results (motorlab
commit 5f54250); ``RecordingMetrics.to_rows()`` must reproduce them key for key.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial.transform import Rotation

from motorlab import Channel, Event, Metadata, Recording

G = 9.80665
FORCE = Channel("force", "MISC", "N", tracked_point="handle")
PEN_POS = [
    Channel("pos_x", "POS", "cm", "x"),
    Channel("pos_y", "POS", "cm", "y"),
    Channel("tip_force", "MISC", "N"),
]
IMU = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"] + [
    Channel(f"gyr_{a}", "GYRO", "deg/s", a) for a in "xyz"
]


def _effort(t: np.ndarray, onset: float, peak: float, rise: float = 0.3, hold: float = 2.0) -> np.ndarray:
    s = np.clip((t - onset) / rise, 0, 1)
    f = peak * (10 * s**3 - 15 * s**4 + 6 * s**5)
    return np.where(t > onset + rise + hold, 0.0, f)


def grip_both_hands() -> Recording:
    fs, rng = 100.0, np.random.default_rng(1)
    parts, events, t0 = [], [], 0.0
    trials = [("right", 300.0), ("right", 310.0), ("right", 290.0), ("left", 250.0), ("left", 262.0)]
    for k, (hand, peak) in enumerate(trials):
        t = np.arange(int(5 * fs)) / fs
        parts.append(_effort(t, 1.0, peak) + 0.3 * rng.standard_normal(t.size))
        events.append(Event(t0, 5.0, "trial", {"trial": k + 1, "hand": hand, "status": "valid"}))
        t0 += 5.0
    force = np.concatenate(parts)
    md = Metadata("P001", task="grip", hand="n/a", extra={"age": 30, "sex": "M", "dominant_hand": "left"})
    return Recording(np.arange(force.size) / fs, force[:, None], [FORCE], fs, md, events)


def grip_invalid_trial() -> Recording:
    fs = 100.0
    parts, events = [], []
    for k, (peak, status) in enumerate([(300.0, "valid"), (100.0, "invalid"), (290.0, "valid")]):
        t = np.arange(int(4 * fs)) / fs
        parts.append(_effort(t, 1.0, peak, hold=1.5))
        events.append(Event(4.0 * k, 4.0, "trial", {"trial": k + 1, "hand": "right", "status": status}))
    force = np.concatenate(parts)
    md = Metadata("P002", task="grip", hand="right")
    return Recording(np.arange(force.size) / fs, force[:, None], [FORCE], fs, md, events)


def grip_without_events() -> Recording:
    fs = 80.0
    t = np.arange(int(12 * fs)) / fs
    force = _effort(t, 1.0, 200.0) + _effort(t, 6.0, 220.0, rise=0.4)
    jitter = np.random.default_rng(3).uniform(-0.002, 0.002, t.size)
    jitter[0] = 0.0
    md = Metadata("P003", task="grip", hand="left")
    return Recording(t + jitter, force[:, None], [FORCE], fs, md, [])


def sustained() -> Recording:
    fs = 100.0
    t = np.arange(int(14 * fs)) / fs
    s = np.clip((t - 1.0) / 0.4, 0, 1)
    force = 250.0 * s * (1 - 0.02 * np.clip(t - 1.4, 0, None)) * (t < 12.0)
    force = force + 0.2 * np.random.default_rng(4).standard_normal(t.size)
    ev = [Event(0.5, 12.5, "trial", {"trial": 1, "hand": "right", "status": "valid"})]
    md = Metadata("P004", task="gripsustained", hand="right")
    return Recording(t, force[:, None], [FORCE], fs, md, ev)


def _tremor_data(t: np.ndarray, freq: float, amp: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    acc = np.column_stack(
        [amp * np.sin(2 * np.pi * freq * t), 0.5 * amp * np.sin(2 * np.pi * freq * t + 1.0), G + 0 * t]
    ) + 0.01 * rng.standard_normal((t.size, 3))
    gyr = 20 * np.column_stack([np.cos(2 * np.pi * freq * t), 0.3 * np.sin(2 * np.pi * freq * t), 0 * t])
    return np.column_stack([acc, gyr + 0.05 * rng.standard_normal(gyr.shape)])


def tremor_postural() -> Recording:
    fs = 100.0
    t = np.arange(int(40 * fs)) / fs
    ev = [
        Event(2.0, 15.0, "trial", {"trial": 1, "hand": "right", "status": "valid"}),
        Event(20.0, 15.0, "trial", {"trial": 2, "hand": "right", "status": "valid"}),
    ]
    md = Metadata("P005", task="tremorpostural", hand="right")
    return Recording(t, _tremor_data(t, 6.0, 0.4, 5), IMU, fs, md, ev)


def tremor_rest_gyro_only_with_gap() -> Recording:
    fs = 50.0
    t = np.arange(int(30 * fs)) / fs
    data = _tremor_data(t, 4.5, 0.3, 6)[:, 3:]
    data[600:700] = np.nan
    md = Metadata("P006", task="tremorrest", hand="left")
    return Recording(t, data, IMU[3:], fs, md, [Event(12.0, 2.0, "gap")])


def spiral_positions_with_lift() -> Recording:
    fs = 100.0
    t = np.arange(int(12 * fs)) / fs
    theta = t / 12 * 6 * np.pi
    r = 0.4 * theta + 0.02 * np.sin(2 * np.pi * 6.0 * t)
    pos = np.column_stack([r * np.cos(theta) + 1.0, r * np.sin(theta) - 2.0])
    tip = np.where((t > 5.0) & (t < 5.3), 0.0, 1.2)
    tip[:20] = 0.03  # hovering just above the 0.05 N threshold's lower side
    md = Metadata("P007", task="spiral", hand="right")
    return Recording(t, np.column_stack([pos, tip]), PEN_POS, fs, md, [])


def handwriting_positions() -> Recording:
    fs = 120.0
    t = np.arange(int(5 * fs)) / fs
    y = 0.5 * np.sin(2 * np.pi * 2 * t) + 0.1 * np.sin(2 * np.pi * 5 * t)
    x = 2.0 * t
    tip = np.where((t > 1.9) & (t < 2.1), 0.0, 1.0 + 0.2 * np.sin(3 * t))
    md = Metadata("P008", task="handwriting", hand="right")
    return Recording(t, np.column_stack([x, y, tip]), PEN_POS, fs, md, [])


def _imu_pen(pos_m: np.ndarray, tip: np.ndarray, fs: float) -> np.ndarray:
    """Body-frame accelerometer (gravity included) and gyroscope of a pen tilted by a slowly
    varying rotation whose tip follows ``pos_m`` (n, 2) on the page."""
    n = pos_m.shape[0]
    t = np.arange(n) / fs
    acc_w = np.zeros((n, 3))
    acc_w[:, :2] = np.gradient(np.gradient(pos_m, 1 / fs, axis=0), 1 / fs, axis=0)

    def rot(tt: np.ndarray) -> Rotation:
        return Rotation.from_euler(
            "ZYX", np.column_stack([0.2 * np.sin(0.5 * tt), 0.5 + 0.1 * np.sin(0.8 * tt), 0.05 + 0 * tt])
        )

    h = 1e-4
    gyro = np.rad2deg((rot(t - h).inv() * rot(t + h)).as_rotvec() / (2 * h))
    acc_b = rot(t).inv().apply(acc_w + np.array([0.0, 0.0, G]))
    return np.column_stack([acc_b, gyro, tip])


def _mj(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0, 1)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def handwriting_imu() -> Recording:
    fs = 200.0
    t = np.arange(int(4.0 * fs)) / fs
    pos = np.zeros((t.size, 2))
    tip = np.zeros(t.size)
    start, p = 0.3, np.zeros(2)
    for k in range(6):
        d = np.array([0.004 * (k % 3 - 1), 0.012 * (-1) ** k])
        dur = 0.3 + 0.03 * k
        inside = (t >= start) & (t <= start + dur)
        u = (t[inside] - start) / dur
        pos[inside] = p + np.outer(_mj(u), d)
        pos[inside, 1] += 0.004 * (1 - np.cos(4 * np.pi * u)) / 2  # up-down twice: strokes
        pos[t > start + dur] = p + d
        tip[inside] = 1.5
        p, start = p + d, start + dur + 0.15
    chans = [*IMU, Channel("tip_force", "MISC", "N")]
    md = Metadata("P009", task="handwriting", hand="right", tracksys="imupen")
    return Recording(t, _imu_pen(pos, tip, fs), chans, fs, md, [])


def spiral_imu() -> Recording:
    fs = 200.0
    t = np.arange(int(13.0 * fs)) / fs
    s = _mj((t - 0.5) / 12.0)
    theta = 2 * np.pi * 3 * s
    r = 0.004 * theta
    pos = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    tip = np.where((t >= 0.5) & (t <= 12.5), 1.5, 0.0)
    chans = [*IMU, Channel("tip_force", "MISC", "N")]
    md = Metadata("P010", task="spiral", hand="left", tracksys="imupen")
    return Recording(t, _imu_pen(pos, tip, fs), chans, fs, md, [])


CASES: dict[str, Callable[[], Recording]] = {
    f.__name__: f
    for f in (
        grip_both_hands,
        grip_invalid_trial,
        grip_without_events,
        sustained,
        tremor_postural,
        tremor_rest_gyro_only_with_gap,
        spiral_positions_with_lift,
        handwriting_positions,
        handwriting_imu,
        spiral_imu,
    )
}
