"""Orientation, gravity removal and IMU pen trajectory against a synthetic pen with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

G = 9.80665


def mj(s):
    s = np.clip(s, 0, 1)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def mj_acc(s, T):
    s = np.clip(s, 0, 1)
    return (60 * s - 180 * s**2 + 120 * s**3) / T**2


def synthetic_pen(fs=200.0, seed=0, acc_noise=0.0, gyro_noise=0.0, gyro_bias=(0, 0, 0)):
    """Handwriting-like trajectory: strokes (pen down) and in-air moves, each a minimum-jerk
    straight segment between rest points. Returns dict with truth pos (m), acc, gyro, tip."""
    rng = np.random.default_rng(seed)
    segs = []  # (start_xy, end_xy, duration, down)
    p = np.zeros(2)
    t_rest = 0.3
    for k in range(8):
        d = rng.uniform(-0.02, 0.02, 2)
        d[1] = rng.choice([-1, 1]) * rng.uniform(0.008, 0.02)
        segs.append((p.copy(), p + d, rng.uniform(0.25, 0.45), True))
        p = p + d
        d = rng.uniform(-0.01, 0.01, 2) + np.array([0.012, 0])
        segs.append((p.copy(), p + d, rng.uniform(0.2, 0.35), False))
        p = p + d
    total = t_rest + sum(s[2] for s in segs) + t_rest
    n = int(round(total * fs)) + 1
    t = np.arange(n) / fs
    pos = np.zeros((n, 2))
    acc_w = np.zeros((n, 3))
    tip = np.zeros(n)
    t0 = t_rest
    pos[:] = 0
    for a, b, T, down in segs:
        s = (t - t0) / T
        inside = (t >= t0) & (t <= t0 + T)
        after = t > t0 + T
        pos[inside] = a + np.outer(mj(s[inside]), b - a)
        pos[after] = b
        acc_w[inside, :2] = np.outer(mj_acc(s[inside], T), b - a)
        if down:
            tip[inside] = 1.5
        t0 += T

    # orientation: pen tilted ~35 deg, slowly varying tilt and yaw; yaw(0) = 0
    def rot(tt):
        return R.from_euler(
            "ZYX",
            np.column_stack(
                [
                    0.3 * np.sin(0.7 * tt),
                    np.deg2rad(35) + 0.15 * np.sin(1.1 * tt),
                    0.1 * np.sin(0.9 * tt + 0.5),
                ]
            ),
        )

    Rt = rot(t)
    h = 1e-4
    gyro = (rot(t - h).inv() * rot(t + h)).as_rotvec() / (2 * h)
    acc_b = Rt.inv().apply(acc_w + np.array([0, 0, G]))
    acc_b += acc_noise * rng.standard_normal(acc_b.shape)
    gyro_dps = np.rad2deg(gyro) + np.asarray(gyro_bias) + gyro_noise * rng.standard_normal(gyro.shape)
    return {
        "t": t,
        "pos_m": pos,
        "acc": acc_b,
        "gyro_dps": gyro_dps,
        "tip": tip,
        "fs": fs,
        "n_strokes_down": 8,
    }


from motorlab.analysis import handwriting_analyze
from motorlab.signal import (
    STANDARD_GRAVITY,
    imu_linear_acceleration,
    imu_orientation,
    pen_trajectory_from_imu,
    segment_pen_down,
)

NOISY = {"acc_noise": 0.02, "gyro_noise": 0.1, "gyro_bias": (0.2, -0.1, 0.1)}


def test_static_tilt_is_recovered_and_gravity_removed():
    true = R.from_euler("xy", [30, -20], degrees=True)
    acc = np.tile(true.inv().apply([0, 0, STANDARD_GRAVITY]), (2000, 1))
    gyro = np.tile([0.3, -0.2, 0.1], (2000, 1))  # deg/s bias only
    rot = imu_orientation(acc, gyro, 100.0)
    up = rot.apply(acc)
    assert np.allclose(up[0], [0, 0, STANDARD_GRAVITY], atol=1e-9)
    # The accelerometer correction holds a gyro bias off: steady-state tilt error is
    # |bias| / gain (rad), so the gravity leak is at most g * |bias| / gain.
    lin = imu_linear_acceleration(acc, gyro, 100.0, tilt_gain=0.3)
    bound = STANDARD_GRAVITY * np.deg2rad(np.hypot(0.3, 0.2) + 0.1) / 0.3
    assert np.max(np.linalg.norm(lin, axis=1)) < bound
    drift_free = imu_linear_acceleration(acc, gyro, 100.0, tilt_gain=0.0)  # pure integration drifts
    assert np.linalg.norm(drift_free[-1]) > 2 * bound


@pytest.mark.parametrize("noise", [{}, NOISY], ids=["clean", "noisy"])
def test_pen_trajectory_matches_truth(noise):
    d = synthetic_pen(**noise)
    est = pen_trajectory_from_imu(d["acc"], d["gyro_dps"], d["tip"], d["fs"], 0.05)
    truth = d["pos_m"] * 100.0
    err = np.linalg.norm(est - truth, axis=1)
    # whole 14 cm path: RMS error 0.06 cm clean, 0.15 cm with noise and gyro bias
    assert np.sqrt(np.mean(err**2)) < (0.1 if not noise else 0.25)
    rel = []
    for a, b in segment_pen_down(d["tip"], d["fs"]):
        true_disp = truth[b - 1] - truth[a]
        rel.append(np.linalg.norm((est[b - 1] - est[a]) - true_disp) / np.linalg.norm(true_disp))
    # each stroke's displacement within 1.5 % (clean) / 5 % (noisy); measured 0.9 % / 3.0 % max
    assert max(rel) < (0.015 if not noise else 0.05)


def test_handwriting_from_imu_counts_the_strokes():
    d = synthetic_pen(**NOISY)
    r = handwriting_analyze(None, d["tip"], d["fs"], acc_ms2=d["acc"], gyro_dps=d["gyro_dps"])
    assert r.n_pen_lifts == d["n_strokes_down"] - 1
    assert r.on_surface_time_s == pytest.approx(np.count_nonzero(d["tip"] > 0) / d["fs"])


def test_bad_shapes_raise_one_line_errors():
    from motorlab.errors import MotorlabError

    with pytest.raises(MotorlabError, match="IMU data must be"):
        imu_orientation(np.zeros((10, 2)), np.zeros((10, 2)), 100.0)
    with pytest.raises(MotorlabError, match="tip force"):
        pen_trajectory_from_imu(np.tile([0, 0, 9.8], (10, 1)), np.zeros((10, 3)), np.zeros(5), 100.0, 0.05)
