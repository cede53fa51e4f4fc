"""Resampling irregular timestamps onto a uniform grid; gaps stay gaps (NaN)."""

from __future__ import annotations

import numpy as np

from ..errors import MotorlabError
from ._checks import as_2d, require_rate


def signal_resample(
    timestamps: np.ndarray,
    values: np.ndarray,
    sampling_rate: float,
    max_gap_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate samples taken at irregular times onto a uniform grid.

    Args:
        timestamps: (n,) sample times in seconds (sorted or not; duplicates are averaged out
            by keeping the first).
        values: (n,) or (n, k) samples; NaN marks a missing sample.
        sampling_rate: rate of the output grid in Hz; the grid starts at the first finite sample.
        max_gap_s: two consecutive valid samples further apart than this are a gap: grid
            points inside it are NaN instead of being bridged by a straight line. Default
            2.5 x the median sampling interval of the input.

    Returns:
        ``(t, y)``: uniform times (s) and the resampled values (same dimensionality as ``values``).
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    y, was_1d = as_2d(values)
    if y.shape[0] != t.size:
        raise MotorlabError(f"{t.size} timestamps but {y.shape[0]} samples")
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    keep = np.isfinite(t)
    keep[1:] &= np.diff(t) > 0
    t, y = t[keep], y[keep]
    if t.size == 0:
        empty = np.empty((0, y.shape[1]))
        return np.empty(0), (empty[:, 0] if was_1d else empty)
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * fs + 1e-9)) + 1) / fs
    out = np.full((grid.size, y.shape[1]), np.nan)
    for j in range(y.shape[1]):
        ok = np.isfinite(y[:, j])
        tj, yj = t[ok], y[ok, j]
        if tj.size == 0:
            continue
        if tj.size == 1:
            out[np.isclose(grid, tj[0], atol=0.5 / fs), j] = yj[0]
            continue
        gap = max_gap_s if max_gap_s is not None else 2.5 * float(np.median(np.diff(t)))
        col = np.interp(grid, tj, yj, left=np.nan, right=np.nan)
        # Grid points between two valid samples that are too far apart are missing.
        right = np.searchsorted(tj, grid, side="left")
        inside = (right > 0) & (right < tj.size)
        span = np.zeros(grid.size)
        span[inside] = tj[right[inside]] - tj[right[inside] - 1]
        on_sample = np.isclose(grid, tj[np.clip(right, 0, tj.size - 1)], rtol=0, atol=1e-9)
        col[(span > gap) & ~on_sample] = np.nan
        out[:, j] = col
    return grid, (out[:, 0] if was_1d else out)
