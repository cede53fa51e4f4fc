"""The speed-ups in signal/ and analysis/ give the same numbers as the plain library calls they replace.

Truth here is SciPy itself (``sosfiltfilt``, ``welch``, ``Rotation``, ``least_squares``) run
the straightforward way on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from motorlab.analysis import spiral as spiral_mod
from motorlab.analysis.tremor import tremor_analyze, tremor_stability_index
from motorlab.errors import MotorlabError
from motorlab.signal import STANDARD_GRAVITY, imu_orientation, signal_filter, signal_psd
from motorlab.signal.imu import _tilt_from_acc


@pytest.mark.parametrize("seed", range(6))
def test_signal_filter_equals_sosfiltfilt_run_by_run(seed):
    rng = np.random.default_rng(seed)
    fs = [50.0, 100.0, 200.0][seed % 3]
    x = rng.standard_normal((1500, 3)) + rng.uniform(-5, 5, 3)
    x[700:705] = np.nan  # shared gap: both runs filtered on their own
    if seed % 2:
        x[100, 1] = np.nan  # gaps differ between columns
    lo, hi, order = [(1.0, 12.0, 4), (None, 8.0, 2), (3.0, None, 3)][seed % 3]
    out = signal_filter(x, fs, lo, hi, order)
    btype = "bandpass" if lo and hi else ("lowpass" if hi else "highpass")
    edges = [e for e in (lo, hi) if e]
    sos = sps.butter(order, edges if len(edges) == 2 else edges[0], btype=btype, fs=fs, output="sos")
    for j in range(3):
        col = x[:, j]
        finite = np.isfinite(col)
        assert np.array_equal(np.isfinite(out[:, j]), finite)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.view(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):
            np.testing.assert_allclose(out[a:b, j], sps.sosfiltfilt(sos, col[a:b]), rtol=0, atol=1e-12)


def test_signal_filter_short_run_uses_shorter_pad_like_before():
    x = np.sin(np.arange(12) / 3.0)  # shorter than scipy's default pad (3 x 5 taps)
    sos = sps.butter(4, 10.0, fs=100.0, output="sos")
    np.testing.assert_allclose(
        signal_filter(x, 100.0, highcut=10.0), sps.sosfiltfilt(sos, x, padlen=11), atol=1e-12
    )


@pytest.mark.parametrize(
    "n, window_s, overlap", [(1051, 4.0, 0.5), (5000, 2.0, 0.25), (333, 4.0, 0.5), (60000, 10.0, 0.75)]
)
def test_signal_psd_equals_scipy_welch(n, window_s, overlap):
    fs = 100.0
    x = np.random.default_rng(n).standard_normal((n, 3)) + [0.0, 1.0, 9.8]
    nperseg = min(int(round(window_s * fs)), n)
    f_ref, p_ref = sps.welch(
        x,
        fs=fs,
        window="hann",
        nperseg=nperseg,
        noverlap=int(round(nperseg * overlap)),
        detrend="constant",
        scaling="density",
        axis=0,
    )
    freqs, psd = signal_psd(x, fs, window_s, overlap)
    _, per_column = signal_psd(x, fs, window_s, overlap, sum_columns=False)
    np.testing.assert_array_equal(freqs, f_ref)
    np.testing.assert_allclose(per_column, p_ref, rtol=1e-12, atol=1e-15 * p_ref.max())
    np.testing.assert_allclose(psd, p_ref.sum(axis=1), rtol=1e-12, atol=1e-15 * p_ref.max())


def test_tremor_analyze_shared_spectrum_gives_the_standalone_tsi():
    fs = 100.0
    t = np.arange(int(30 * fs)) / fs
    rng = np.random.default_rng(3)
    phase = 2 * np.pi * np.cumsum(5.5 + 0.4 * rng.standard_normal(t.size).cumsum() / 200) / fs
    x = np.column_stack(
        [0.4 * np.sin(phase), 0.2 * np.sin(phase + 0.3), 9.8 + 0 * t]
    ) + 0.02 * rng.standard_normal((t.size, 3))
    x[900:950] = np.nan
    res = tremor_analyze(x, fs)
    tsi, n_cycles = tremor_stability_index(x, fs, peak_band=(3.0, 12.0))
    assert res.n_cycles == n_cycles > 100
    assert res.tsi_Hz == pytest.approx(tsi, rel=1e-9)


def _orientation_reference(acc, gyro_dps, fs, tilt_gain=0.3, accept_g=0.03):
    """The complementary filter written with one scipy Rotation per sample."""
    gyro = np.deg2rad(gyro_dps)
    q = _tilt_from_acc(acc[0])
    quats = [q.as_quat()]
    for i in range(1, acc.shape[0]):
        omega = 0.5 * (gyro[i - 1] + gyro[i])
        norm = np.linalg.norm(acc[i])
        if abs(norm - STANDARD_GRAVITY) < accept_g * STANDARD_GRAVITY:
            omega = omega + tilt_gain * np.cross(acc[i] / norm, q.inv().apply([0.0, 0.0, 1.0]))
        q = q * Rotation.from_rotvec(omega / fs)
        quats.append(q.as_quat())
    return np.array(quats)


def test_imu_orientation_equals_per_sample_rotation_loop():
    rng = np.random.default_rng(5)
    n, fs = 600, 100.0
    t = np.arange(n) / fs
    gyro = np.column_stack([40 * np.sin(2 * np.pi * 0.7 * t), 25 * np.cos(2 * np.pi * 1.1 * t), 10 + 0 * t])
    gyro += 0.5 * rng.standard_normal(gyro.shape)
    gyro[::50] *= 1e-6  # some near-zero rotations: scipy's small-angle series
    acc = np.array([0.0, 0.0, STANDARD_GRAVITY]) + 0.15 * rng.standard_normal((n, 3))  # some rejected samples
    ours = imu_orientation(acc, gyro, fs).as_quat()
    np.testing.assert_allclose(ours, _orientation_reference(acc, gyro, fs), rtol=0, atol=1e-12)


def test_imu_orientation_rejects_non_finite_samples():
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY], (10, 1))
    gyro = np.zeros((10, 3))
    gyro[4, 0] = np.inf
    with pytest.raises(MotorlabError, match="finite"):
        imu_orientation(acc, gyro, 100.0)


def _noisy_spiral(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(2000) / 100.0
    theta = t / t[-1] * 2 * np.pi * 4.5
    r = 0.4 + 0.3 * theta + 0.05 * np.sin(2 * np.pi * 6.0 * t)
    centre = rng.uniform(-3, 3, 2)
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)]) + centre + 0.01 * rng.standard_normal(
        (t.size, 2)
    ), centre


def test_spiral_residual_jacobian_matches_central_differences():
    pts, centre = _noisy_spiral(1)
    x, y = pts[:, 0].copy(), pts[:, 1].copy()
    c = centre + [0.05, -0.03]
    jac = spiral_mod._radial_jacobian(spiral_mod._radial_fit(x, y, *c))
    h = 1e-6
    for j in range(2):
        up, down = c.copy(), c.copy()
        up[j] += h
        down[j] -= h
        numeric = (spiral_mod._radial_fit(x, y, *up).e - spiral_mod._radial_fit(x, y, *down).e) / (2 * h)
        np.testing.assert_allclose(jac[j], numeric, rtol=0, atol=1e-6 * np.abs(numeric).max())


@pytest.mark.parametrize("seed", range(4))
def test_spiral_centre_fit_matches_scipy_least_squares(seed):
    pts, centre = _noisy_spiral(seed)

    # the fit's objective: the samples outside the innermost half turn (about the algebraic centre)
    outer, _ = spiral_mod._outer_part(pts, spiral_mod.algebraic_center(pts), 0.5)

    def residual(c):
        r, theta, _ = spiral_mod._polar(outer, c, drop_center=False)
        return spiral_mod._fit_line(theta, r)[2]

    span = float(np.ptp(pts, axis=0).max())
    reference = least_squares(residual, pts.mean(axis=0), x_scale=span, method="lm", xtol=1e-14, ftol=1e-14).x
    fitted = spiral_mod._fit_center(pts)
    assert np.max(np.abs(fitted - reference)) < 1e-7 * span
    assert np.max(np.abs(fitted - centre)) < 0.01  # and the drawn centre is found


def test_pen_trajectory_bridges_a_link_gap_with_a_warning():
    from motorlab.signal import pen_trajectory_from_imu

    n, fs = 400, 100.0
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY], (n, 1))
    acc[:, 0] += 0.2 * np.sin(np.arange(n) / 10.0)
    gyro = np.zeros((n, 3))
    tip = np.full(n, 1.0)
    whole = pen_trajectory_from_imu(acc, gyro, tip, fs, 0.05)
    acc_gap = acc.copy()
    acc_gap[200:203] = np.nan  # three lost samples
    with pytest.warns(UserWarning, match="3 accelerometer samples missing"):
        bridged = pen_trajectory_from_imu(acc_gap, gyro, tip, fs, 0.05)
    assert np.isfinite(bridged).all()
    assert np.abs(bridged - whole).max() < 0.05 * np.abs(whole).max()


def test_spiral_unwrap_is_numpy_unwrap_bit_for_bit():
    from motorlab.analysis.spiral import _unwrap

    rng = np.random.default_rng(5)
    for phase in (
        np.arctan2(np.sin(np.linspace(0, 40, 900)), np.cos(np.linspace(0, 40, 900))),
        rng.uniform(-np.pi, np.pi, 500),
        np.array([0.0, np.pi, -np.pi, np.pi, 0.0]),  # steps of exactly pi and 2 pi (tie rule)
        np.zeros(3),
    ):
        assert np.array_equal(_unwrap(phase), np.unwrap(phase))


def test_theil_sen_median_equals_numpy_median():
    from motorlab.signal.spectrum import median_1d as _median

    rng = np.random.default_rng(6)
    for n in (1, 2, 3, 4, 89, 90, 4005):
        a = rng.standard_normal(n)
        assert _median(a) == float(np.median(a))
    assert np.isnan(_median(np.array([1.0, np.nan, 2.0])))
    assert np.isnan(_median(np.empty(0)))


def test_kasa_centre_from_normal_equations_equals_lstsq():
    from motorlab.analysis.spiral import algebraic_center

    rng = np.random.default_rng(7)
    th = np.linspace(0, 6 * np.pi, 900)
    pts = np.column_stack([3 + th * np.cos(th), -2 + th * np.sin(th)]) + 0.02 * rng.standard_normal((900, 2))
    m = pts.mean(axis=0)
    x, y = (pts - m).T
    (d, e, _), *_ = np.linalg.lstsq(np.column_stack([x, y, np.ones_like(x)]), -(x * x + y * y), rcond=None)
    np.testing.assert_allclose(algebraic_center(pts), m - 0.5 * np.array([d, e]), rtol=1e-12, atol=1e-12)
    # collinear samples: rank-deficient, the general least squares answers
    line = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])
    assert np.all(np.isfinite(algebraic_center(line)))


def test_ldlj_segments_equal_per_segment_ldlj():
    from motorlab.analysis.smoothness import ldlj, ldlj_segments

    rng = np.random.default_rng(8)
    vel = np.cumsum(rng.standard_normal((400, 2)), axis=0)
    bounds = [(0, 50), (49, 120), (120, 122), (130, 400), (200, 203)]
    got = ldlj_segments(vel, bounds, 100.0)
    for (a, b), g in zip(bounds, got):
        if b - a < 3:
            assert np.isnan(g)
        else:
            assert g == pytest.approx(ldlj(vel[a:b], 100.0, "vel"), rel=1e-12)
    assert np.isnan(ldlj_segments(np.zeros((50, 2)), [(0, 50)], 100.0)[0])  # no movement


def test_speed_minima_equal_the_nan_filling_recipe():
    from motorlab.signal.segment import speed_minima

    t = np.arange(500) / 100.0
    speed = 2.0 + np.sin(2 * np.pi * 1.3 * t) + 0.3 * np.sin(2 * np.pi * 4.1 * t)
    gappy = speed.copy()
    gappy[[0, 200, 201]] = np.nan  # read as the peak speed
    for v in (speed, gappy):
        vmax = float(np.nanmax(v))
        ref, _ = sps.find_peaks(-np.nan_to_num(v, nan=vmax), prominence=0.1 * vmax)
        np.testing.assert_array_equal(speed_minima(v, 100.0), ref / 100.0)
    assert speed_minima(speed, 100.0).size >= 6
