"""Resampling, filtering, spectra, derivatives and segmentation against analytic truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from motorlab.errors import MotorlabError
from motorlab.signal import (
    band_power,
    peak_frequency,
    segment_force_trials,
    segment_pen_down,
    signal_derivative,
    signal_filter,
    signal_psd,
    signal_resample,
    signal_zero_crossings,
    speed_minima,
    vertical_velocity_crossings,
)


def test_resample_irregular_line_exact_and_gap_stays_nan():
    rng = np.random.default_rng(0)
    t = np.sort(np.concatenate([rng.uniform(0, 4, 400), rng.uniform(5, 8, 300)]))  # 1 s hole
    y = 3.0 * t - 1.0
    grid, out = signal_resample(t, y, 50.0, max_gap_s=0.2)
    assert grid[1] - grid[0] == pytest.approx(0.02)
    inside_hole = (grid > t[t < 4.5].max() + 1e-9) & (grid < t[t > 4.5].min() - 1e-9)
    assert np.all(np.isnan(out[inside_hole])) and inside_hole.sum() > 40
    ok = ~np.isnan(out)
    assert np.allclose(out[ok], 3.0 * grid[ok] - 1.0, atol=1e-12)


def test_resample_2d_keeps_columns_and_nan_samples_are_missing():
    t = np.arange(100) / 10.0
    y = np.column_stack([t, -t])
    y[50, 0] = np.nan
    grid, out = signal_resample(t, y, 10.0)
    assert out.shape == (100, 2)
    assert out[50, 0] == pytest.approx(5.0)  # single missing sample is bridged (gap < 2.5 periods)
    assert np.allclose(out[:, 1], -grid)


def test_filter_zero_phase_and_gain():
    fs = 200.0
    t = np.arange(2000) / fs
    x = np.sin(2 * np.pi * 2 * t) + np.sin(2 * np.pi * 40 * t)
    y = signal_filter(x, fs, highcut=10.0)
    mid = slice(200, 1800)
    assert np.max(np.abs(y[mid] - np.sin(2 * np.pi * 2 * t[mid]))) < 0.01  # no phase lag, 40 Hz gone


def test_filter_respects_gaps_and_rejects_bad_edges():
    x = np.sin(np.arange(500) / 5.0)
    x[200:210] = np.nan
    y = signal_filter(x, 100.0, highcut=5.0)
    assert np.all(np.isnan(y[200:210])) and np.all(np.isfinite(y[:200]))
    with pytest.raises(MotorlabError, match="Nyquist"):
        signal_filter(x, 100.0, highcut=60.0)


def test_psd_band_power_and_peak_of_sinusoid():
    fs, a, f0 = 100.0, 0.8, 6.3
    t = np.arange(int(60 * fs)) / fs
    freqs, pxx = signal_psd(a * np.sin(2 * np.pi * f0 * t), fs)
    assert freqs[1] - freqs[0] == pytest.approx(0.25)
    assert band_power(freqs, pxx, (3, 12)) == pytest.approx(a**2 / 2, rel=0.01)
    assert peak_frequency(freqs, pxx, (3, 12)) == pytest.approx(f0, abs=0.02)
    assert peak_frequency(freqs, pxx, (3, 12), refine=False) in (6.25, 6.5)


def test_derivative_of_polynomial():
    fs = 100.0
    t = np.arange(300) / fs
    x = 2 * t**3
    d1 = signal_derivative(x, fs, 1, window_s=0.11, polyorder=3)
    d2 = signal_derivative(x, fs, 2, window_s=0.11, polyorder=3)
    assert np.allclose(d1, 6 * t**2, atol=1e-9)
    assert np.allclose(d2, 12 * t, atol=1e-8)
    assert np.allclose(signal_derivative(3 * t, fs), 3.0)


def test_force_trials_onset_offset_by_threshold():
    fs = 100.0
    f = np.zeros(1000)
    f[100:300] = 50.0
    f[150] = 2.0  # a dip shorter than merge_gap_s does not split the effort
    f[500:505] = 30.0  # a blip shorter than min_duration_s is ignored
    f[600:800] = 40.0
    assert segment_force_trials(f, fs, 7.5, min_duration_s=0.2) == [(100, 300), (600, 800)]


def test_pen_down_and_zero_crossings():
    tip = np.array([0, 0, 1, 1, 1, 0, 0, 2, 2, 0])
    assert segment_pen_down(tip, 10.0) == [(2, 5), (7, 9)]
    x = np.array([-1.0, 1.0, 3.0, -1.0])
    assert np.allclose(signal_zero_crossings(x, 1.0), [0.5, 2.75])
    assert np.allclose(signal_zero_crossings(x, 1.0, "up"), [0.5])


def test_vertical_velocity_crossings_of_sine():
    fs = 250.0
    t = np.arange(501) / fs
    tc = vertical_velocity_crossings(0.5 * np.sin(2 * np.pi * 2 * t), fs)
    assert np.allclose(tc, 0.125 + 0.25 * np.arange(8), atol=1e-4)


def test_speed_minima_between_submovements():
    fs = 100.0
    t = np.arange(201) / fs
    v = sps.windows.hann(101)
    speed = np.concatenate([v, v[1:]])
    assert np.allclose(speed_minima(speed, fs), [1.0])
    assert speed.size == t.size


def test_band_power_edge_bin_does_not_flip_with_rate_rounding():
    """A bin on a band edge (k * fs / n) stays in the band when fs differs by rounding only."""
    from motorlab.signal.spectrum import band_power, peak_frequency

    n = 400
    powers, peaks = [], []
    for fs in (200.0, 200.0000000000043, 199.9999999):
        freqs = np.arange(n // 2 + 1) * fs / n
        psd = np.where(np.isclose(freqs, 3.0, atol=0.01), 100.0, 1.0)  # power sits on the 3 Hz edge
        powers.append(band_power(freqs, psd, (3.0, 12.0)))
        peaks.append(peak_frequency(freqs, psd, (3.0, 12.0)))
    assert max(powers) - min(powers) < 1e-6 * max(powers)
    assert all(3.0 <= p <= 12.0 for p in peaks)
