"""Metrics against synthetic signals with known ground truth, rate invariance and NaN behaviour."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from motorlab.analysis import (
    gas_tscore,
    grip_analyze,
    grip_norms,
    grip_sustained_analyze,
    grip_trials_summary,
    handwriting_analyze,
    ldlj,
    mdc95,
    progress_series,
    sparc,
    spiral_analyze,
    stroke_smoothness,
    tremor_analyze,
    tremor_stability_index,
)
from motorlab.errors import MotorlabError, MotorlabWarning


# ----------------------------------------------------------------------------- tremor
@pytest.mark.parametrize("seed", range(12))
def test_random_sinusoidal_tremor_frequency_and_rms(seed):
    rng = np.random.default_rng(seed)
    f0, amp = rng.uniform(3.0, 12.0), rng.uniform(0.05, 3.0)
    fs = float(rng.choice([50.0, 100.0, 200.0]))
    t = np.arange(int(30 * fs)) / fs
    acc = 9.80665 + amp * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi))
    r = tremor_analyze(acc, fs)
    assert abs(r.peak_freq_Hz - f0) < 0.05
    assert r.rms == pytest.approx(amp / math.sqrt(2), rel=0.02)
    disp_cm = 100 * amp / (2 * np.pi * f0) ** 2 / math.sqrt(2)
    assert r.displacement_rms_cm == pytest.approx(disp_cm, rel=0.02)
    assert r.band_power == pytest.approx(amp**2 / 2, rel=0.02)


def test_tremor_three_axes_vector_rms_and_hints():
    fs = 100.0
    t = np.arange(6000) / fs
    acc = np.column_stack([0.3 * np.sin(2 * np.pi * 9 * t), 0.4 * np.sin(2 * np.pi * 9 * t + 1), 9.8 + 0 * t])
    r = tremor_analyze(acc, fs)
    assert r.rms == pytest.approx(math.sqrt(0.3**2 / 2 + 0.4**2 / 2), rel=0.02)
    assert any(h.startswith("physiological") for h in r.hints)
    assert not any(h.startswith("parkinsonian") for h in r.hints)


def test_tsi_of_alternating_cycles_after_prefilter_is_positive_and_constant_is_zero():
    fs = 200.0
    t = np.arange(int(100 * fs)) / fs
    steady = np.sin(2 * np.pi * 5 * t)
    tsi, n = tremor_stability_index(steady, fs)
    assert tsi < 1e-3 and n > 450
    # wandering frequency: f(t) = 5 + 1.5 sin(2 pi 0.3 t) => larger cycle-to-cycle change
    phase = 2 * np.pi * (5 * t - 1.5 / (2 * np.pi * 0.3) * np.cos(2 * np.pi * 0.3 * t))
    tsi_w, _ = tremor_stability_index(np.sin(phase), fs)
    assert tsi_w > 0.3


def test_flat_or_short_tremor_input_warns_and_returns_nan():
    with pytest.warns(MotorlabWarning):
        r = tremor_analyze(np.zeros(1000), 100.0)
    assert math.isnan(r.peak_freq_Hz) and math.isnan(r.rms)
    with pytest.warns(MotorlabWarning):
        r = tremor_analyze(np.array([1.0, 2.0]), 100.0)
    assert math.isnan(r.peak_freq_Hz)


# ----------------------------------------------------------------------------- grip
@pytest.mark.parametrize("slope", [250.0, 800.0, 2000.0])
@pytest.mark.parametrize("fs", [80.0, 100.0, 1000.0])
def test_force_ramp_rfd_exact(slope, fs):
    t = np.arange(int(3 * fs)) / fs
    onset = 0.5
    f = np.clip((t - onset) * slope, 0, 300.0)
    r = grip_analyze(f, fs, onset_s=onset)
    ramp_end = onset + 300.0 / slope
    for w, value in (
        (0.05, r.rfd_0_50ms_N_per_s),
        (0.1, r.rfd_0_100ms_N_per_s),
        (0.2, r.rfd_0_200ms_N_per_s),
    ):
        w_eff = round(w * fs) / fs
        expected = min(slope * w_eff, 300.0) / w_eff
        assert value == pytest.approx(expected, rel=1e-9)
    assert r.peak_force_N == pytest.approx(300.0)
    # detected onset on a linear ramp gives the same slope over windows inside the ramp
    d = grip_analyze(f, fs, onset_threshold_n=7.5)
    if d.onset_s + 0.05 < ramp_end:
        assert d.rfd_0_50ms_N_per_s == pytest.approx(slope, rel=1e-9)


def test_grip_flat_input_warns():
    with pytest.warns(MotorlabWarning, match="never exceeds"):
        r = grip_analyze(np.zeros(500), 100.0)
    assert math.isnan(r.peak_force_N)


def test_sustained_hold_excludes_rise_and_release():
    fs = 100.0
    t = np.arange(int(14 * fs)) / fs
    f = np.interp(t, [0, 1, 1.3, 11.3, 11.6, 14], [0, 0, 200, 180, 0, 0])
    r = grip_sustained_analyze(f, fs, hold_frac=0.5)
    assert r.peak_force_N == pytest.approx(200.0, abs=0.1)
    assert 9.9 < r.hold_duration_s < 10.6
    assert r.fatigue_index_pct > 5


def test_trials_summary_skips_invalid():
    s = grip_trials_summary([300, 50, 310, 290], ["valid", "invalid", "valid", "valid"])
    assert s.n_valid == 3 and s.mean_of_3_N == pytest.approx(300.0)
    assert s.cv_pct == pytest.approx(np.std([300, 310, 290], ddof=1) / 300 * 100)


# ----------------------------------------------------------------------------- smoothness
def mjt_pos(t, t0, T, a, b):
    s = np.clip((t - t0) / T, 0, 1)
    return np.outer(1 - (10 * s**3 - 15 * s**4 + 6 * s**5), a) + np.outer(10 * s**3 - 15 * s**4 + 6 * s**5, b)


def test_sparc_rate_invariance_within_reference_spread():
    # Reference code itself gives -1.40583 (100 Hz) and -1.40243 (1 kHz) for one MJT: spread 0.0034
    vals = []
    for fs in (100.0, 1000.0):
        t = np.arange(int(fs) + 1) / fs
        s = np.clip(t, 0, 1)
        vals.append(sparc(30 * s**2 - 60 * s**3 + 30 * s**4, fs))
    assert vals[0] == pytest.approx(-1.40582932, abs=1e-6)
    assert abs(vals[0] - vals[1]) < 0.0035


def test_ldlj_rate_dependence_is_small_for_clean_and_large_for_noisy():
    # Documented exception: LDLJ of noisy speed depends strongly on the sampling rate.
    out = {}
    for fs in (100.0, 1000.0):
        t = np.arange(int(fs) + 1) / fs
        s = np.clip(t, 0, 1)
        v = 30 * s**2 - 60 * s**3 + 30 * s**4
        out[fs] = (ldlj(v, fs), ldlj(v + 0.05 * np.random.default_rng(1).standard_normal(v.size), fs))
    assert abs(out[100.0][0] - out[1000.0][0]) < 0.03
    assert abs(out[100.0][1] - out[1000.0][1]) > 3


@pytest.mark.parametrize("n_strokes", [1, 3, 7])
def test_minimum_jerk_strokes_count_exact(n_strokes):
    """n alternating up/down minimum-jerk strokes between a lead-in and a lead-out stroke."""
    fs = 200.0
    seg = 0.4
    n_seg = n_strokes + 2  # the first and last segments only delimit the strokes in between
    t = np.arange(int(n_seg * seg * fs) + 1) / fs
    y = np.zeros(t.size)
    for k in range(n_seg):
        s = np.clip((t - k * seg) / seg, 0, 1)
        y += (1.2 if k % 2 == 0 else -1.2) * (10 * s**3 - 15 * s**4 + 6 * s**5)
    x = 0.5 * t
    r = handwriting_analyze(np.column_stack([x, y]), None, fs)
    assert r.n_strokes == n_strokes
    assert r.stroke_vertical_size_cm == pytest.approx(1.2, rel=0.02)
    sm = stroke_smoothness(mjt_pos(np.arange(1001) / 1000.0, 0, 1, [0, 0], [3, 4]), 1000.0)
    assert sm.n_velocity_peaks == 1 and sm.path_length == pytest.approx(5.0, rel=1e-6)
    assert sm.normalized_jerk == pytest.approx(math.sqrt(360), rel=0.01)


def test_smoothness_of_flat_input_is_nan_with_warning():
    with pytest.warns(MotorlabWarning):
        assert math.isnan(sparc(np.zeros(50), 100.0))
    with pytest.warns(MotorlabWarning):
        assert math.isnan(ldlj(np.zeros(50), 100.0))


# ----------------------------------------------------------------------------- spiral
def test_spiral_with_known_tremor():
    fs = 100.0
    t = np.arange(int(25 * fs)) / fs
    theta = t / 25 * 8 * np.pi
    r = 0.35 * theta + 0.04 * np.sin(2 * np.pi * 7.0 * t)
    pos = np.column_stack([r * np.cos(theta) + 1.0, r * np.sin(theta) + 2.0])
    res = spiral_analyze(pos, fs)
    assert res.loop_spacing_cm == pytest.approx(2 * np.pi * 0.35, rel=0.01)
    assert res.tremor_peak_freq_Hz == pytest.approx(7.0, abs=0.05)
    assert res.tremor_rms_cm == pytest.approx(0.04 / math.sqrt(2), rel=0.05)
    assert res.n_loops == pytest.approx(4.0, abs=0.02)


def test_spiral_too_short_warns():
    with pytest.warns(MotorlabWarning):
        r = spiral_analyze(np.zeros((5, 2)), 100.0)
    assert math.isnan(r.loop_spacing_cm)


# ----------------------------------------------------------------------------- norms and goals
def test_norms_adult_and_children():
    r = grip_norms(54.884676770000006, 22, "M", "right")
    assert r.z == pytest.approx(0.0, abs=1e-12) and r.percentile == pytest.approx(50.0)
    assert r.age_band == "20-24" and "Mathiowetz" in r.source
    old = grip_norms(20.0, 91, "F", "left")
    assert old.age_band == "75+"
    child = grip_norms(15.0, 9, "F", "right")
    assert math.isnan(child.z) and "no normative table for age 9" in child.note
    with pytest.raises(MotorlabError, match="sex"):
        grip_norms(30.0, 40, "x", "right")


def test_gas_validation_and_progress_flags():
    assert gas_tscore([0, 0, 0]) == 50.0
    with pytest.raises(MotorlabError, match="-2, -1, 0, 1 or 2"):
        gas_tscore([3, 0])
    with pytest.raises(MotorlabError, match="weights"):
        gas_tscore([1, 0], [1, -1])
    series = progress_series([18.0, 20.0, 23.5, 30.0], ["s1", "s2", "s3", "s4"])
    assert [p.beyond_mdc for p in series] == [False, False, True, True]  # MDC 4.9 kg for 18 kg baseline
    assert series[3].direction == "improved" and series[1].direction == "no detectable change"
    down = progress_series([30.0, 24.0], mdc=mdc95(1.8))
    assert down[1].direction == "declined"


def test_no_warning_on_normal_inputs():
    fs = 100.0
    t = np.arange(3000) / fs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tremor_analyze(np.sin(2 * np.pi * 5 * t), fs)
        grip_analyze(np.clip((t - 1) * 500, 0, 250), fs)
