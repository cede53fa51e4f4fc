"""Grip dynamometry: peak force, rate of force development, sustained hold, trial summaries.

Sources: RFD as the average slope over fixed windows from onset (0-50/100/200 ms)
and the need for a strict onset rule, Maffiuletti et al., Eur J Appl Physiol
116:1091 (2016); mean of three trials, Mathiowetz et al. 1985 (ASHT protocol);
intermittent fatigue index FI = (P1 - Plast)/P1 x 100 (PMC3776088).
Forces are in newtons; 1 kgf = 9.80665 N exactly; 1 lb = 0.45359237 kg exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..signal._checks import require_rate, warn
from ..signal.filter import signal_filter
from ..units import KGF_N, LB_KG, kgf_to_newton, lb_to_kg, newton_to_kgf
from .params import GripParams, SustainedGripParams

NAN = float("nan")
RFD_WINDOWS_MS = (50, 100, 200)

__all__ = ["KGF_N", "LB_KG", "kgf_to_newton", "lb_to_kg", "newton_to_kgf"]  # re-exported


@dataclass(frozen=True)
class GripResult:
    """One maximal grip effort. Times are seconds from the first sample given.

    Attributes:
        onset_s: force onset (first sample more than the onset threshold above baseline).
        peak_force_N / peak_force_kgf: maximum force.
        time_to_peak_s: peak time minus onset.
        rfd_0_50ms_N_per_s, rfd_0_100ms_N_per_s, rfd_0_200ms_N_per_s: (F(onset+w) - F(onset)) / w.
        peak_rfd_N_per_s: largest sample-to-sample slope between onset and peak.
        baseline_N: force level subtracted before onset detection (median of the first ``baseline_s``).
    """

    onset_s: float
    peak_force_N: float
    peak_force_kgf: float
    time_to_peak_s: float
    rfd_0_50ms_N_per_s: float
    rfd_0_100ms_N_per_s: float
    rfd_0_200ms_N_per_s: float
    peak_rfd_N_per_s: float
    baseline_N: float


_NAN_GRIP = GripResult(NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN)


def grip_onset_index(force_n: np.ndarray, threshold_n: float, baseline: float = 0.0) -> int | None:
    """Index of the first sample with ``force - baseline > threshold_n`` (None if never)."""
    above = np.flatnonzero(np.nan_to_num(force_n - baseline, nan=-np.inf) > threshold_n)
    return int(above[0]) if above.size else None


def grip_analyze(
    force_n: np.ndarray,
    sampling_rate: float,
    onset_threshold_n: float = GripParams.onset_threshold_n,
    onset_s: float | None = None,
    baseline_s: float = GripParams.baseline_s,
    lowpass_hz: float | None = GripParams.lowpass_hz,
) -> GripResult:
    """Peak, time to peak and rate of force development of one grip effort.

    Args:
        force_n: (n,) force in newtons covering one effort (rest, rise, peak...).
        sampling_rate: Hz.
        onset_threshold_n: onset = first sample exceeding baseline by more than this (N).
        onset_s: known onset time (s from the first sample) instead of detection.
        baseline_s: the baseline is the median of the first ``baseline_s`` seconds.
        lowpass_hz: optional zero-phase low-pass before analysis (e.g. 5-20 Hz for noisy
            sensors; RFD over the first 100 ms with a 5 Hz low-pass was most reliable in one study).

    RFD uses the sample nearest to ``onset + w``: ``(F[i + k] - F[i]) / (k / fs)`` with
    ``k = round(w*fs)`` (equal to the recipe ``/ w`` whenever ``w*fs`` is whole, e.g. at 1 kHz);
    a window that runs past the data is NaN.
    """
    fs = require_rate(sampling_rate)
    f = np.asarray(force_n, dtype=np.float64).reshape(-1)
    if f.size < 3 or not np.any(np.isfinite(f)):
        warn("grip_analyze: fewer than 3 force samples; results are NaN")
        return _NAN_GRIP
    if lowpass_hz is not None:
        f = signal_filter(f, fs, highcut=lowpass_hz)
    n_base = max(1, int(round(baseline_s * fs)))
    baseline = float(np.nanmedian(f[:n_base]))
    if onset_s is not None:
        onset = int(round(onset_s * fs))
        if not 0 <= onset < f.size:
            warn(f"grip_analyze: onset {onset_s} s lies outside the data; results are NaN")
            return _NAN_GRIP
    else:
        found = grip_onset_index(f, onset_threshold_n, baseline)
        if found is None:
            warn(f"grip_analyze: force never exceeds baseline + {onset_threshold_n} N; results are NaN")
            return _NAN_GRIP
        onset = found
    peak_idx = onset + int(np.nanargmax(f[onset:]))
    peak = float(f[peak_idx])
    rfd = []
    for w_ms in RFD_WINDOWS_MS:
        k = max(int(round(w_ms / 1000.0 * fs)), 1)
        j = onset + k
        rfd.append((f[j] - f[onset]) / (k / fs) if j < f.size else NAN)
    rise = f[onset : peak_idx + 1]
    peak_rfd = float(np.nanmax(np.diff(rise)) * fs) if rise.size > 1 else NAN
    return GripResult(
        onset_s=onset / fs,
        peak_force_N=peak,
        peak_force_kgf=peak / KGF_N,
        time_to_peak_s=(peak_idx - onset) / fs,
        rfd_0_50ms_N_per_s=float(rfd[0]),
        rfd_0_100ms_N_per_s=float(rfd[1]),
        rfd_0_200ms_N_per_s=float(rfd[2]),
        peak_rfd_N_per_s=peak_rfd,
        baseline_N=baseline,
    )


@dataclass(frozen=True)
class SustainedGripResult:
    """A sustained (e.g. 10 s) maximal hold.

    Attributes:
        peak_force_N: maximum force.
        mean_force_N: mean force over the hold.
        hold_duration_s: from the first to the last sample at or above ``hold_frac`` x peak.
        hold_cv_pct: SD (ddof=1) / mean x 100 of force in ``[start + cv_window_s[0], start + cv_window_s[1]]``.
        fatigue_index_pct: 100 x (mean of the first ``fatigue_window_s`` - mean of the last) / mean of the first.
    """

    peak_force_N: float
    mean_force_N: float
    hold_duration_s: float
    hold_cv_pct: float
    fatigue_index_pct: float


def grip_sustained_analyze(
    force_n: np.ndarray,
    sampling_rate: float,
    cv_window_s: tuple[float, float] = SustainedGripParams.cv_window_s,
    fatigue_window_s: float = SustainedGripParams.fatigue_window_s,
    hold_frac: float = SustainedGripParams.hold_frac,
) -> SustainedGripResult:
    """Steadiness and fatigue of one sustained grip.

    The hold runs from the first to the last sample whose force is at least
    ``hold_frac`` x peak (so the rise and release are mostly excluded); window
    times are relative to the hold start, edges inclusive (1e-9 s slack). The
    last fatigue window is ``t > t_end - fatigue_window_s`` and the first
    ``t < t_start + fatigue_window_s``.
    """
    fs = require_rate(sampling_rate)
    f = np.asarray(force_n, dtype=np.float64).reshape(-1)
    nan_result = SustainedGripResult(NAN, NAN, NAN, NAN, NAN)
    if f.size < 3 or not np.any(np.isfinite(f)):
        warn("grip_sustained_analyze: fewer than 3 force samples; results are NaN")
        return nan_result
    peak = float(np.nanmax(f))
    if not peak > 0:
        warn("grip_sustained_analyze: no positive force; results are NaN")
        return nan_result
    held = np.flatnonzero(np.nan_to_num(f, nan=-np.inf) >= hold_frac * peak)
    hold = f[held[0] : held[-1] + 1]
    t = np.arange(hold.size) / fs
    eps = 1e-9
    in_cv = (t >= cv_window_s[0] - eps) & (t <= cv_window_s[1] + eps)
    if np.count_nonzero(np.isfinite(hold[in_cv])) >= 2:
        seg = hold[in_cv]
        cv = float(np.nanstd(seg, ddof=1) / np.nanmean(seg) * 100.0)
    else:
        warn(f"grip_sustained_analyze: hold of {t[-1]:.2f} s is shorter than the CV window {cv_window_s} s")
        cv = NAN
    first = hold[t < fatigue_window_s - eps]
    last = hold[t > t[-1] - fatigue_window_s + eps]
    if t[-1] >= 2 * fatigue_window_s and first.size and last.size:
        m1 = float(np.nanmean(first))
        fi = 100.0 * (m1 - float(np.nanmean(last))) / m1
    else:
        warn("grip_sustained_analyze: hold too short for the fatigue index")
        fi = NAN
    return SustainedGripResult(
        peak_force_N=peak,
        mean_force_N=float(np.nanmean(hold)),
        hold_duration_s=(hold.size - 1) / fs,
        hold_cv_pct=cv,
        fatigue_index_pct=fi,
    )


@dataclass(frozen=True)
class GripSummary:
    """Summary of repeated maximal grips of one hand (forces in N; kgf = N / 9.80665).

    Attributes:
        n_trials / n_valid: trials given / trials counted.
        mean_of_3_N, mean_of_3_kgf: mean peak of the first three valid trials (Mathiowetz 1985
            protocol); with fewer valid trials the mean of those (n_used tells).
        n_used: trials in that mean.
        best_N, best_kgf: largest valid peak.
        cv_pct: between-trial coefficient of variation, SD (ddof=1) / mean x 100, of valid peaks.
        fatigue_index_pct: 100 x (first - last) / first over the valid peaks, in order.
    """

    n_trials: int
    n_valid: int
    n_used: int
    mean_of_3_N: float
    mean_of_3_kgf: float
    best_N: float
    best_kgf: float
    cv_pct: float
    fatigue_index_pct: float


def grip_fatigue_index(peaks: Sequence[float]) -> float:
    """Fatigue index (%) of repeated maximal grips: 100 x (P1 - Plast) / P1."""
    p = [float(v) for v in peaks if np.isfinite(v)]
    if len(p) < 2 or p[0] == 0:
        warn("grip_fatigue_index: need at least two finite peaks; result is NaN")
        return NAN
    return 100.0 * (p[0] - p[-1]) / p[0]


def grip_trials_summary(
    peaks_n: Sequence[float],
    statuses: Sequence[str] | None = None,
) -> GripSummary:
    """Summarise trial peaks (N). Trials whose status is not ``"valid"`` are skipped."""
    peaks = [float(p) for p in peaks_n]
    stat = list(statuses) if statuses is not None else ["valid"] * len(peaks)
    valid = [p for p, s in zip(peaks, stat) if s == "valid" and np.isfinite(p)]
    if not valid:
        warn("grip_trials_summary: no valid trial; results are NaN")
        return GripSummary(len(peaks), 0, 0, NAN, NAN, NAN, NAN, NAN, NAN)
    used = valid[:3]
    mean3 = float(np.mean(used))
    best = float(np.max(valid))
    cv = float(np.std(valid, ddof=1) / np.mean(valid) * 100.0) if len(valid) >= 2 else NAN
    fi = 100.0 * (valid[0] - valid[-1]) / valid[0] if len(valid) >= 2 and valid[0] != 0 else NAN
    return GripSummary(
        n_trials=len(peaks),
        n_valid=len(valid),
        n_used=len(used),
        mean_of_3_N=mean3,
        mean_of_3_kgf=mean3 / KGF_N,
        best_N=best,
        best_kgf=best / KGF_N,
        cv_pct=cv,
        fatigue_index_pct=fi,
    )


def grip_bilateral_ratio(dominant: float, non_dominant: float) -> float:
    """Dominant / non-dominant grip ratio (about 1.1 in healthy right-handers, the '10 % rule')."""
    if not (np.isfinite(dominant) and np.isfinite(non_dominant)) or non_dominant <= 0:
        warn("grip_bilateral_ratio: needs finite forces and a positive non-dominant value; result is NaN")
        return NAN
    return float(dominant) / float(non_dominant)
