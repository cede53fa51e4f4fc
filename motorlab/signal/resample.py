"""Resampling irregular timestamps onto a uniform grid; gaps stay gaps (NaN), time is never sorted.

Time stamps are taken in the order the samples were recorded. Where time steps back
(a clock reset, two interleaved stretches), sorting would interleave two stretches of
the signal, so the samples are split into forward segments instead
(:func:`motorlab.signal.timestamps.timestamp_segments`) and each segment is resampled
on its own grid. Before any grid is allocated, :func:`~motorlab.signal.timestamps.require_grid`
checks that the data justify it (a few rows on another clock would otherwise ask for
terabytes); an unjustified grid is a one-line :class:`~motorlab.errors.MotorlabError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MotorlabError
from ._checks import as_2d, require_rate, warn
from .timestamps import require_grid, timestamp_segments

#: consecutive valid samples further apart than this many median intervals leave a gap (default)
GAP_INTERVALS = 2.5


@dataclass(frozen=True)
class ResampledSegment:
    """One forward segment on its uniform grid.

    Attributes:
        t_s: (m,) uniform times (s) on the input's clock, starting at the segment's first sample.
        values: (m, k) resampled values; NaN inside gaps and where inputs were NaN.
        rows: ``[start, stop)`` of the input rows the segment came from.
    """

    t_s: np.ndarray
    values: np.ndarray
    rows: tuple[int, int]


def _gap_mask(grid: np.ndarray, tj: np.ndarray, gap_s: float, fs: float) -> np.ndarray:
    """Grid points not covered by the valid samples ``tj``: between two samples more than
    ``gap_s`` apart (unless on a sample), or away from a lone sample."""
    if tj.size == 1:
        return ~np.isclose(grid, tj[0], rtol=0, atol=0.5 / fs)
    right = np.searchsorted(tj, grid, side="left")
    inside = (right > 0) & (right < tj.size)
    span = np.zeros(grid.size)
    span[inside] = tj[right[inside]] - tj[right[inside] - 1]
    on_sample = np.abs(grid - tj[np.clip(right, 0, tj.size - 1)]) <= 1e-9
    return (span > gap_s) & ~on_sample


def _resample_forward(
    t: np.ndarray, y: np.ndarray, fs: float, max_gap_s: float | None, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform grid over forward (non-decreasing) ``t``; repeated stamps keep their first sample."""
    keep = np.isfinite(t)
    keep[1:] &= np.diff(t) > 0
    if not keep.all():
        t, y = t[keep], y[keep]
    if t.size == 0:
        return np.empty(0), np.empty((0, y.shape[1]))
    grid = t[0] + np.arange(require_grid(t, fs, source=source)) / fs
    out = np.full((grid.size, y.shape[1]), np.nan)
    if max_gap_s is not None:
        gap_s = float(max_gap_s)
    else:
        gap_s = GAP_INTERVALS * float(np.median(np.diff(t))) if t.size > 1 else 0.0
    finite = np.isfinite(y)
    shared_mask: np.ndarray | None = None
    same_gaps = bool(np.all(finite == finite[:, :1]))
    for j in range(y.shape[1]):
        ok = finite[:, j]
        tj, yj = (t, y[:, j]) if ok.all() else (t[ok], y[ok, j])
        if tj.size == 0:
            continue
        if shared_mask is None or not same_gaps:
            shared_mask = _gap_mask(grid, tj, gap_s, fs)
        if tj.size == 1:
            out[~shared_mask, j] = yj[0]
            continue
        col = np.interp(grid, tj, yj, left=np.nan, right=np.nan)
        col[shared_mask] = np.nan
        out[:, j] = col
    return grid, out


def resample_segments(
    timestamps: np.ndarray,
    values: np.ndarray,
    sampling_rate: float,
    max_gap_s: float | None = None,
    *,
    segments: list[tuple[int, int]] | None = None,
    source: str = "",
) -> list[ResampledSegment]:
    """Each forward segment of ``timestamps`` resampled onto its own uniform grid (in recording order).

    Args:
        timestamps: (n,) sample times (s) in recording order.
        values: (n,) or (n, k) samples; NaN marks a missing sample.
        sampling_rate: Hz of the output grids.
        max_gap_s: two valid samples further apart leave NaN between them (default 2.5 x the
            segment's median interval).
        segments: ``[start, stop)`` forward segments (default: split before every backwards step,
            :func:`~motorlab.signal.timestamps.timestamp_segments`).
        source: what error messages name (file, recording).

    Raises :class:`~motorlab.errors.MotorlabError` (one line) when a segment's grid is not
    justified by its samples (:func:`~motorlab.signal.timestamps.require_grid`).
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    y, _ = as_2d(values)
    if y.shape[0] != t.size:
        raise MotorlabError(f"{source + ': ' if source else ''}{t.size} timestamps but {y.shape[0]} samples")
    segs = timestamp_segments(t) if segments is None else segments
    out = []
    for a, b in segs:
        grid, vals = _resample_forward(t[a:b], y[a:b], fs, max_gap_s, source)
        if grid.size:
            out.append(ResampledSegment(grid, vals, (int(a), int(b))))
    return out


def join_segments(parts: list[ResampledSegment], fs: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The segments one after another, separated by one NaN row stamped one interval after the
    previous segment's end (so time steps back only at a separator)."""
    if not parts:
        return np.empty(0), np.empty((0, k))
    if len(parts) == 1:
        return parts[0].t_s, parts[0].values
    ts: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    for i, p in enumerate(parts):
        if i:
            ts.append(np.array([ts[-1][-1] + 1.0 / fs]))
            vs.append(np.full((1, k), np.nan))
        ts.append(p.t_s)
        vs.append(p.values)
    return np.concatenate(ts), np.concatenate(vs)


def signal_resample(
    timestamps: np.ndarray,
    values: np.ndarray,
    sampling_rate: float,
    max_gap_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate samples taken at irregular times onto a uniform grid.

    Args:
        timestamps: (n,) sample times in seconds, in recording order. They are never sorted:
            where time steps back, each forward stretch is resampled on its own grid and the
            stretches follow each other in recording order, separated by one NaN sample (a
            :class:`~motorlab.errors.MotorlabWarning` names the first step back). Repeated stamps
            keep their first sample.
        values: (n,) or (n, k) samples; NaN marks a missing sample.
        sampling_rate: rate of the output grid in Hz; a grid starts at each stretch's first sample.
        max_gap_s: two consecutive valid samples further apart than this are a gap: grid
            points inside it are NaN instead of being bridged by a straight line. Default
            2.5 x the median sampling interval of the input.

    Returns:
        ``(t, y)``: uniform times (s) and the resampled values (same dimensionality as ``values``).

    Raises :class:`~motorlab.errors.MotorlabError` when the grid would need far more points than
    the samples justify (e.g. rows stamped on two clocks), instead of trying to allocate it.
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    y, was_1d = as_2d(values)
    segs = timestamp_segments(t)
    if len(segs) > 1:
        d = np.diff(t[np.isfinite(t)])
        back = np.flatnonzero(d < 0)
        if back.size:
            i = int(segs[1][0])
            warn(
                f"signal_resample: time steps back {-float(d[back[0]]):.4g} s at sample {i}"
                f"{f' (+{back.size - 1} more)' if back.size > 1 else ''}; "
                "resampled as separate forward stretches (not sorted)"
            )
    parts = resample_segments(t, y, fs, max_gap_s, segments=segs)
    grid, out = join_segments(parts, fs, y.shape[1])
    return grid, (out[:, 0] if was_1d else out)
