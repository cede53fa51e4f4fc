"""Display decimation: what the browser needs to draw, never what is stored.

Everything a device sends is recorded at full rate by the session; the screen
gets at most one message per frame (≤ 30/s), each carrying the samples since the
previous one thinned to what a screen can show:

* a force trace keeps, per time bucket, its minimum and its maximum sample in
  time order (min/max envelope, as oscilloscopes and plotting libraries such as
  Bokeh's/datashader's "downsample" do), so a peak is never lost to decimation;
* pen ink keeps the first and last point of every pen-down run and the points
  that moved at least ``min_step_mm`` from the last kept one.

Pure NumPy; no clock, no I/O.
"""

from __future__ import annotations

import numpy as np

from ...errors import ParameterError

#: default width of one display bucket of a force trace (s): 50 buckets/s -> ≤ 100 points/s
FORCE_BUCKET_S = 0.02
#: default smallest pen movement drawn as a new ink point (mm)
INK_STEP_MM = 0.25


def decimate_minmax(
    t_s: np.ndarray, values: np.ndarray, bucket_s: float = FORCE_BUCKET_S
) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope of a trace: per bucket of ``bucket_s`` seconds its lowest and highest sample.

    Buckets are aligned to absolute time (``floor(t / bucket_s)``), so decimating a
    trace in consecutive chunks gives at most one extra pair per chunk boundary.
    Samples with a non-finite value are dropped. The kept samples stay in time
    order; a bucket whose min and max are the same sample contributes it once.

    Args:
        t_s: sample times (s), non-decreasing.
        values: sample values (any unit), same length as ``t_s``.
        bucket_s: bucket width (s), > 0.

    Returns:
        ``(t_s, values)`` of the kept samples (at most 2 per bucket).
    """
    if not bucket_s > 0:
        raise ParameterError(f"bucket_s must be > 0 s, got {bucket_s!r}")
    t = np.asarray(t_s, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if t.shape != v.shape:
        raise ParameterError(f"t_s has {t.size} samples but values has {v.size}")
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size <= 2:
        return t, v
    bucket = np.floor(t / bucket_s).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], t.size]
    # argmin/argmax per bucket via reduceat on (value, index) is not available; use a sort trick:
    # order samples by (bucket, value) and take the first and last of each bucket.
    order = np.lexsort((v, bucket))
    lo = order[starts]
    hi = order[ends - 1]
    keep = np.unique(np.concatenate([lo, hi]))  # unique sorts -> time order (t is non-decreasing)
    return t[keep], v[keep]


def thin_ink(
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    down: np.ndarray,
    min_step_mm: float = INK_STEP_MM,
    last: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the pen samples worth drawing, and which of them start a new stroke.

    Only pen-down samples are ink. The first and last sample of every pen-down
    run are kept; in between, a sample is kept when it is at least
    ``min_step_mm`` away from the previously kept one.

    Args:
        x_mm, y_mm: pen tip position (mm).
        down: tip contact (bool or 0/1), same length.
        min_step_mm: smallest drawn movement (mm), >= 0.
        last: the last kept point of the previous chunk if the pen was still down
            at its end (the stroke then continues), else ``None``.

    Returns:
        ``(index, new_stroke)``: indices into the inputs, and for each a bool that
        is True where a stroke starts.
    """
    if min_step_mm < 0:
        raise ParameterError(f"min_step_mm must be >= 0, got {min_step_mm!r}")
    x = np.asarray(x_mm, dtype=float).ravel()
    y = np.asarray(y_mm, dtype=float).ravel()
    d = np.asarray(down).astype(bool).ravel() & np.isfinite(x) & np.isfinite(y)
    if not (x.size == y.size == d.size):
        raise ParameterError(f"x_mm, y_mm and down differ in length ({x.size}, {y.size}, {d.size})")
    keep: list[int] = []
    new: list[bool] = []
    prev = last
    run_start = last is None
    for i in range(x.size):
        if not d[i]:
            prev, run_start = None, True
            continue
        run_end = i + 1 == x.size or not d[i + 1]
        if run_start or run_end or prev is None or np.hypot(x[i] - prev[0], y[i] - prev[1]) >= min_step_mm:
            keep.append(i)
            new.append(run_start)
            prev = (float(x[i]), float(y[i]))
        run_start = False
    return np.asarray(keep, dtype=np.int64), np.asarray(new, dtype=bool)
