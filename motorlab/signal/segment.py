"""Segmentation: force trials, pen-down intervals, stroke boundaries.

Index pairs are ``[start, stop)`` sample indices; times are seconds from the
first sample (``index / sampling_rate``).
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ._checks import finite_runs, require_rate


def _merge_runs(runs: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def segment_threshold(
    x: np.ndarray,
    sampling_rate: float,
    threshold: float,
    min_duration_s: float = 0.0,
    merge_gap_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Runs where ``x > threshold``: ``[start, stop)`` index pairs.

    Runs separated by at most ``merge_gap_s`` are merged; runs shorter than
    ``min_duration_s`` (after merging) are dropped. NaN counts as below threshold.
    """
    fs = require_rate(sampling_rate)
    above = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=-np.inf) > threshold
    runs = _merge_runs(finite_runs(above), int(round(merge_gap_s * fs)))
    min_len = int(round(min_duration_s * fs))
    return [(a, b) for a, b in runs if b - a >= max(min_len, 1)]


def segment_force_trials(
    force_n: np.ndarray,
    sampling_rate: float,
    threshold_n: float,
    min_duration_s: float,
    merge_gap_s: float = 0.1,
) -> list[tuple[int, int]]:
    """Force efforts: onset = first sample above ``threshold_n`` (N), offset = first sample back below.

    The analysis passes ``GripParams.onset_threshold_n`` (the motorlab onset rule, metrics.md
    §3.2 recipe) and ``GripParams.min_trial_s``.
    Brief dips shorter than ``merge_gap_s`` do not split an effort; blips shorter
    than ``min_duration_s`` are ignored.
    """
    return segment_threshold(force_n, sampling_rate, threshold_n, min_duration_s, merge_gap_s)


def segment_pen_down(
    tip_force_n: np.ndarray,
    sampling_rate: float,
    threshold_n: float = 0.0,
    min_duration_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Pen-down intervals: tip force (or pressure) strictly above ``threshold_n``."""
    return segment_threshold(tip_force_n, sampling_rate, threshold_n, min_duration_s, 0.0)


def signal_zero_crossings(x: np.ndarray, sampling_rate: float, direction: str = "both") -> np.ndarray:
    """Times (s) where ``x`` crosses zero, located by linear interpolation between samples.

    A crossing is a change of ``x >= 0`` between consecutive samples, so an upward
    crossing is ``x[i] < 0 <= x[i+1]``. ``direction`` is ``"up"``, ``"down"`` or ``"both"``.
    Samples that are NaN never form a crossing.
    """
    fs = require_rate(sampling_rate)
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return np.empty(0)
    nonneg = x >= 0
    a, b = x[:-1], x[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    up = ~nonneg[:-1] & nonneg[1:] & ok
    down = nonneg[:-1] & ~nonneg[1:] & ok
    sel = {"up": up, "down": down, "both": up | down}[direction]
    i = np.flatnonzero(sel)
    frac = a[i] / (a[i] - b[i])
    return (i + frac) / fs


def vertical_velocity_crossings(y: np.ndarray, sampling_rate: float) -> np.ndarray:
    """Stroke boundaries at zero crossings of vertical velocity (MovAlyzeR default).

    ``vy = np.gradient(y, 1/fs)``; crossing times (s) by linear interpolation.
    """
    fs = require_rate(sampling_rate)
    y = np.asarray(y, dtype=np.float64)
    if y.size < 2:
        return np.empty(0)
    return signal_zero_crossings(np.gradient(y, 1.0 / fs), fs, "both")


def speed_minima(speed: np.ndarray, sampling_rate: float, prominence_frac: float = 0.1) -> np.ndarray:
    """Stroke boundaries at minima of absolute speed ("ballistic strokes"), in seconds.

    A minimum counts when its prominence is at least ``prominence_frac`` x the maximum speed.
    """
    fs = require_rate(sampling_rate)
    v = np.asarray(speed, dtype=np.float64)
    if v.size < 3 or not np.any(np.isfinite(v)):
        return np.empty(0)
    if np.isfinite(v).all():  # no NaN to fill (nan_to_num would return v unchanged)
        vmax = float(v.max())
        neg = -v
    else:
        vmax = float(np.nanmax(v))
        neg = -np.nan_to_num(v, nan=vmax)
    idx, _ = sps.find_peaks(neg, prominence=prominence_frac * vmax)
    return idx / fs
