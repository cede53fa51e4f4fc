"""Every acceptance and recipe case of tests/data/metric_cases.json, computed with motorlab.

Each case's input is generated exactly as described in the case (and checked
against its ``input_check`` first), the metric is computed with motorlab's public
functions and compared with the reference value within the case's tolerance.
``compat`` (pdkit) and ``informational`` (opensesame) cases are not motorlab rules
and are only counted. docs/metrics.md lists which recipe rules motorlab adopts.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial import Polynomial as P

from motorlab.analysis import (
    dimensionless_jerk,
    gas_tscore,
    grip_analyze,
    grip_fatigue_index,
    grip_norms,
    grip_sustained_analyze,
    grip_trials_summary,
    handwriting_analyze,
    kgf_to_newton,
    lb_to_kg,
    ldlj,
    ldlj_imu,
    mdc95,
    normalized_jerk,
    sem,
    sparc,
    spiral_analyze,
    tremor_analyze,
    tremor_stability_index,
    velocity_peaks,
)
from motorlab.analysis.grip import LB_KG
from motorlab.signal import band_power, peak_frequency, signal_psd

CASES = json.loads((Path(__file__).parent / "data" / "metric_cases.json").read_text())["cases"]
BY_NAME = {c["name"]: c for c in CASES}
TESTED = [c for c in CASES if c["role"] in ("acceptance", "recipe")]


# ----------------------------------------------------------------------------- generators
def tvec(fs: float, total: float) -> np.ndarray:
    return np.arange(int(round(total * fs)) + 1) / fs


def mjt(t, D=1.0, T=1.0, t0=0.0):
    s = np.clip((t - t0) / T, 0, 1)
    return (D / T) * (30 * s**2 - 60 * s**3 + 30 * s**4)


def noise(seed, n):
    return np.random.default_rng(seed).standard_normal(n)


def speed_input(case: dict) -> tuple[np.ndarray, float]:
    """The 1-D speed (or 2-D velocity) profile of a smoothness case."""
    name = case["name"].split("__")[0]
    inp = case["input"]
    if "same_input_as" in inp:
        return speed_input(BY_NAME[inp["same_input_as"]])
    fs = inp.get("sample_rate_hz", 100.0)
    if name == "gauss_doctest_fs100":
        t = np.arange(-1, 1, 0.01)
        return np.exp(-5 * t**2), 100.0
    if name.startswith("two_mjt_equal_shift"):
        shift = inp["parameters"]["shift_s"]
        t = tvec(fs, inp["T_total_s"])
        return mjt(t) + mjt(t, 1, 1, shift), fs
    if name.startswith("two_mjt_shift0.7_fs100_noise"):
        t = tvec(fs, inp["T_total_s"])
        return mjt(t) + mjt(t, 1, 1, 0.7) + inp["sigma"] * noise(inp["seed"], t.size), fs
    if name.startswith("mjt_plus_corrective"):
        t = tvec(fs, inp["T_total_s"])
        return mjt(t) + mjt(t, 0.5, 0.6, 0.7), fs
    if name.startswith("mjt_T1_D1"):
        return mjt(tvec(fs, inp["T_total_s"])), fs
    if name.startswith("mjt_T1_fs") and "noise" in name:
        t = tvec(fs, inp["T_total_s"])
        return mjt(t) + inp["sigma"] * noise(inp["seed"], t.size), fs
    if name.startswith("mjt_plus_") and "Hz_ripple" in name:
        f = float(name.split("_plus_")[1].split("Hz")[0])
        t = tvec(fs, 1.0)
        return mjt(t) + 0.2 * np.sin(2 * np.pi * f * t), fs
    if name.startswith("vel2d_corrective"):
        t = tvec(fs, inp["T_total_s"])
        return np.column_stack([mjt(t), mjt(t, 0.5, 0.6, 0.7)]), fs
    raise KeyError(name)


def tremor_input(case: dict) -> tuple[np.ndarray, float]:
    inp = case["input"]
    fs, n = inp["sample_rate_hz"], inp["n_samples"]
    t = np.arange(n) / fs
    z = inp["sigma"] * noise(inp["seed"], n)
    if case["name"].startswith("tremor_5Hz_A0.5"):
        return 9.81 + 0.5 * np.sin(2 * np.pi * 5.0 * t + 0.0) + z, fs
    return 9.81 + 0.3 * np.sin(2 * np.pi * 4.5 * t) + 0.1 * np.sin(2 * np.pi * 9.0 * t + 1.0) + z, fs


def fm_tremor(fs: float = 100.0, n: int = 10000) -> np.ndarray:
    t = np.arange(n) / fs
    phase = 2 * np.pi * (5 * t - (0.5 / (2 * np.pi * 0.2)) * np.cos(2 * np.pi * 0.2 * t))
    rows = np.vstack([0.5 * np.sin(phase), 0.3 * np.sin(phase + 0.5), 0.1 * np.sin(phase + 1.0)])
    return rows + 0.02 * np.random.default_rng(2017).standard_normal((3, n))


def cycles_signal(freqs: list[float], fs: float) -> np.ndarray:
    g = np.array([5.0] + list(freqs) + [5.0])
    e = np.concatenate([[0.0], np.cumsum(1 / g)])
    n = np.arange(int(np.floor((e[-1] - 0.10) * fs)) + 1)
    t = 0.05 + n / fs
    k = np.searchsorted(e, t, "right") - 1
    return np.sin(2 * np.pi * (k + (t - e[k]) * g[k]))


def grip_rise(fs=1000.0, total=3.5) -> np.ndarray:
    t = tvec(fs, total)
    s = (t - 0.5) / 0.3
    f = np.where(t < 0.5, 0.0, 300 * (10 * s**3 - 15 * s**4 + 6 * s**5))
    return np.where(t > 0.8, 300 - 10 * (t - 0.8), f)


def hw_sine(tremor: bool = False) -> tuple[np.ndarray, float]:
    fs = 250.0
    t = tvec(fs, 2.0)
    y = 0.5 * np.sin(2 * np.pi * 2 * t) + (0.02 * np.sin(2 * np.pi * 9 * t) if tremor else 0)
    return np.column_stack([2.0 * t, y]), fs


def hw_pressure() -> np.ndarray:
    t = np.arange(301) / 100.0
    return np.where(((t >= 0.8) & (t < 1.0)) | ((t >= 1.6) & (t < 1.9)), 0.0, 512.0)


def spiral_ideal() -> np.ndarray:
    theta = np.linspace(0, 6 * np.pi, 3001)
    r = 0.5 * theta
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


# ----------------------------------------------------------------------------- helpers
def check_input(case: dict, arr: np.ndarray) -> None:
    chk = case.get("input_check")
    if not chk:
        return
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 2 and a.shape[0] == chk["n"]:
        a = np.hypot(a[:, 0], a[:, 1])  # 2-D velocity cases check the speed
    a = a.ravel()
    assert a.size == chk["n"], "input generator drifted (n)"
    for key, value in (
        ("sum", a.sum()),
        ("first", a[0]),
        ("last", a[-1]),
        ("max", a.max()),
        ("min", a.min()),
    ):
        assert math.isclose(value, chk[key], rel_tol=1e-9, abs_tol=1e-9), f"input generator drifted ({key})"


def assert_within(value, case: dict) -> None:
    ref, tol = case["reference_value"], case["tolerance"]
    if isinstance(ref, list):
        assert list(value) == ref
        return
    rel, abs_ = tol.get("rel", 0.0), tol.get("abs", 0.0)
    assert math.isclose(value, ref, rel_tol=rel, abs_tol=abs_), (
        f"{case['name']}: {value!r} vs {ref!r} (tol {tol})"
    )


def sparc_params(case: dict) -> dict:
    mp = case["metric_parameters"]
    return {"padlevel": mp.get("padlevel", 4), "fc": mp.get("fc_hz", 10.0), "amp_th": mp.get("amp_th", 0.05)}


# ----------------------------------------------------------------------------- computation
def compute(case: dict):
    name = case["name"]
    metric = name.split("__")[-1]
    domain = case["domain"]
    if domain == "smoothness" and not name.startswith(("analytic_", "mjt_acc", "imu_acc", "mjt_pos")):
        v, fs = speed_input(case)
        check_input(case, v)
        if metric.startswith(("sparc", "sal2012")):
            speed = np.hypot(v[:, 0], v[:, 1]) if v.ndim == 2 else v
            return sparc(speed, fs, **sparc_params(case))
        if metric == "ldlj_vector":
            return ldlj(v, fs, "vel")
        if metric in ("ldlj_speed",):
            speed = np.hypot(v[:, 0], v[:, 1]) if v.ndim == 2 else v
            return ldlj(speed, fs, "vel")
        if metric == "dlj_speed":
            return dimensionless_jerk(v, fs, "vel")
        if metric == "n_peaks_raw":
            return velocity_peaks(v, prominence_frac=None)
        if metric == "n_peaks_prom10":
            return velocity_peaks(v, prominence_frac=0.1)
    if name == "mjt_acc_T1_fs100__ldlj_accl":
        fs = 100.0
        s = np.clip(tvec(fs, 1.0), 0, 1)
        a = 60 * s - 180 * s**2 + 120 * s**3
        check_input(case, a)
        return ldlj(a, fs, "accl")
    if name == "imu_acc_mjt_D0.3_T1_fs100__ldlj_imu":
        fs = 100.0
        s = np.clip(tvec(fs, 1.0), 0, 1)
        ax = 0.3 * (60 * s - 180 * s**2 + 120 * s**3)
        acc = np.column_stack([ax, np.zeros_like(ax), np.full_like(ax, 9.81)])
        check_input(case, acc)
        return ldlj_imu(acc, np.zeros_like(acc), fs, gravity=np.array([0.0, 0.0, 9.81]))
    if name == "mjt_pos_D0.05_T1_fs1000__normalized_jerk_recipe":
        fs = 1000.0
        s = np.clip(tvec(fs, 1.0), 0, 1)
        x = 0.05 * (10 * s**3 - 15 * s**4 + 6 * s**5)
        check_input(case, x)
        return normalized_jerk(x, fs)
    if name.startswith("analytic_mjt"):
        # Closed form from the exact polynomial of the minimum-jerk movement (D = T = 1).
        pos = P([0, 0, 0, 10, -15, 6])
        vel, jerk = pos.deriv(1), pos.deriv(3)
        v_peak = vel(0.5)
        if metric == "dlj_speed":
            return (vel.deriv(2) ** 2).integ()(1.0) / v_peak**2
        if metric == "ldlj_speed":
            return -math.log((vel.deriv(2) ** 2).integ()(1.0) / v_peak**2)
        if metric == "normalized_jerk":
            return math.sqrt(0.5 * (jerk**2).integ()(1.0))
        if metric == "dimensionless_squared_jerk_position":
            return (jerk**2).integ()(1.0)
    if domain == "tremor":
        if name.startswith("tremor_"):
            x, fs = tremor_input(case)
            check_input(case, x)
            if metric == "peak_freq_3_12":
                return peak_frequency(*signal_psd(x, fs), (3.0, 12.0), refine=False)
            if metric == "band_power_3_12":
                return band_power(*signal_psd(x, fs), (3.0, 12.0))
            if metric == "rms_bandpassed_3_12":
                return tremor_analyze(x, fs, band=(3.0, 12.0), rms_band=(3.0, 12.0)).rms
        if name == "tsi_fm_5Hz_axis0__recipe":
            x = fm_tremor()[0]
            return tremor_stability_index(x, 100.0)[0]
        if name == "tsi_alternating_cycles__analytic":
            x = cycles_signal([5 + 0.2 * (-1) ** k for k in range(200)], 10000.0)
            return tremor_stability_index(x, 10000.0, prefilter=False)[0]
        if name == "tsi_constant_5Hz__analytic":
            x = cycles_signal([5.0] * 100, 10000.0)
            return tremor_stability_index(x, 10000.0, prefilter=False)[0]
    if name.startswith("grip_mjt_rise"):
        f = grip_rise()
        check_input(case, f)
        known = grip_analyze(f, 1000.0, onset_s=0.5)
        detected = grip_analyze(f, 1000.0, onset_threshold_n=7.5)
        return {
            "peak_force": known.peak_force_N,
            "time_to_peak_from_true_onset": known.time_to_peak_s,
            "rfd_0_50ms_true_onset": known.rfd_0_50ms_N_per_s,
            "rfd_0_100ms_true_onset": known.rfd_0_100ms_N_per_s,
            "rfd_0_200ms_true_onset": known.rfd_0_200ms_N_per_s,
            "rfd_0_100ms_detected_onset": detected.rfd_0_100ms_N_per_s,
            "rfd_0_200ms_detected_onset": detected.rfd_0_200ms_N_per_s,
            "peak_rfd": detected.peak_rfd_N_per_s,
        }[metric]
    if name.startswith("grip_hold"):
        t = tvec(100.0, 10.0)
        f = 200 - 3 * t + 4 * np.sin(2 * np.pi * 2 * t)
        check_input(case, f)
        res = grip_sustained_analyze(f, 100.0, cv_window_s=(2.0, 8.0), fatigue_window_s=1.0)
        return res.hold_cv_pct if metric == "cv_2_8s" else res.fatigue_index_pct
    if name == "grip_repeated12__fatigue_index":
        return grip_fatigue_index(case["input"]["values_kg"])
    if name.startswith("grip_trials__"):
        s = grip_trials_summary(case["input"]["trials_kg"])
        return s.mean_of_3_N if metric == "mean_of_3" else s.best_N
    if name == "units__lb_to_kg_121.0":
        return lb_to_kg(case["input"]["value_lb"])
    if name == "units__kgf_to_N_30.5":
        return kgf_to_newton(case["input"]["value_kgf"])
    if name == "norms__z_male_20_24_right_100lb":
        return grip_norms(100.0 * LB_KG, 22, "M", "right").z
    if name == "norms__pct_of_norm_female_70_74_left_35lb":
        return grip_norms(35.0 * LB_KG, 72, "F", "left").pct_of_norm
    if name == "reliability__sem_mdc95":
        return sem(case["input"]["sd_kg"], case["input"]["icc"])
    if name == "reliability__mdc95":
        return mdc95(sd=case["input"]["sd_kg"], icc=case["input"]["icc"])
    if domain == "handwriting":
        if name.startswith("hw_pressure"):
            p = hw_pressure()
            t = np.arange(p.size) / 100.0  # positions are not part of the case; any strokes will do
            pos = np.column_stack([t, 0.5 * np.sin(2 * np.pi * 2 * t)])
            r = handwriting_analyze(pos, p, 100.0, pen_down_threshold_n=0.0)
            return r.in_air_time_s if metric == "in_air_time" else r.in_air_ratio
        pos, fs = hw_sine(tremor="tremor9Hz" in name)
        check_input(case, pos[:, 1])
        r = handwriting_analyze(pos, None, fs)
        return {
            "n_segmentation_points": r.n_segmentation_points,
            "n_complete_strokes": r.n_strokes,
            "mean_stroke_duration": r.stroke_duration_s,
            "vertical_size": r.stroke_vertical_size_cm,
            "niv_per_stroke": [s.niv for s in r.strokes],
            "niv_mean": r.niv_per_stroke,
        }[metric]
    if domain == "spiral":
        r = spiral_analyze(spiral_ideal(), 100.0, center=(0.0, 0.0), skip_inner_turns=0.0)
        return {
            "mean_abs_dr_dtheta": r.mean_abs_dr_dtheta_cm_per_rad,
            "radial_rms_error_vs_linear_fit": r.radial_rms_error_cm,
            "fitted_tightness_b": r.slope_b_cm_per_rad,
        }[metric]
    if domain == "gas":
        inp = case["input"]
        return gas_tscore(inp["attainment_x"], inp["weights_w"], rho=inp["rho"])
    raise KeyError(f"no computation for case {name}")


@pytest.mark.parametrize("case", TESTED, ids=[c["name"] for c in TESTED])
def test_reference_case(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference input must not trigger a NaN warning
        value = compute(case)
    assert_within(value, case)


def test_every_case_is_accounted_for():
    roles = {c["role"] for c in CASES}
    assert roles <= {"acceptance", "recipe", "compat", "informational"}
    untested = [c["name"] for c in CASES if c["role"] in ("compat", "informational")]
    assert len(TESTED) + len(untested) == len(CASES)
    assert sum(c["role"] == "acceptance" for c in TESTED) >= 60


def test_spiral_default_inner_turn_rule_keeps_reference_values():
    """The default (inner half turn left out, fitted centre) gives the same ideal-spiral values."""
    r = spiral_analyze(spiral_ideal(), 100.0)
    assert r.slope_b_cm_per_rad == pytest.approx(0.5, rel=1e-9)
    assert r.mean_abs_dr_dtheta_cm_per_rad == pytest.approx(0.5, rel=1e-9)
    assert r.radial_rms_error_cm < 1e-9


def test_tremor_default_peak_refinement_stays_close_to_recipe_bin():
    for case in (
        BY_NAME["tremor_5Hz_A0.5__peak_freq_3_12"],
        BY_NAME["tremor_4.5Hz_A0.3_plus_9Hz_A0.1__peak_freq_3_12"],
    ):
        x, fs = tremor_input(case)
        assert abs(tremor_analyze(x, fs).peak_freq_Hz - case["reference_value"]) < 0.02
