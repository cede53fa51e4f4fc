"""Savitzky-Golay smoothing derivatives (``scipy.signal.savgol_filter``)."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ..errors import MotorlabError
from ._checks import as_2d, finite_runs, require_rate


def signal_derivative(
    x: np.ndarray,
    sampling_rate: float,
    deriv: int = 1,
    window_s: float | None = None,
    polyorder: int = 3,
) -> np.ndarray:
    """Derivative of order ``deriv`` (units per s^deriv) along axis 0.

    Without ``window_s`` a plain second-order central difference (``np.gradient``) is
    applied ``deriv`` times. With ``window_s`` a Savitzky-Golay filter of that length
    (rounded to an odd number of samples, at least ``polyorder + 2``) fits a local
    polynomial of ``polyorder`` and differentiates it, which also smooths noise
    (Savitzky & Golay 1964). NaN gaps are respected run by run.
    """
    fs = require_rate(sampling_rate)
    if deriv < 1:
        raise MotorlabError(f"derivative order must be >= 1, got {deriv}")
    arr, was_1d = as_2d(x)
    out = np.full_like(arr, np.nan)
    for j in range(arr.shape[1]):
        for a, b in finite_runs(np.isfinite(arr[:, j])):
            seg = arr[a:b, j]
            if seg.size < 2:
                continue
            if window_s is None:
                d = seg
                for _ in range(deriv):
                    d = np.gradient(d, 1.0 / fs) if d.size >= 2 else d
                out[a:b, j] = d
                continue
            win = int(round(window_s * fs)) | 1
            win = max(win, polyorder + 2 + ((polyorder + 2) % 2 == 0))
            if win > seg.size:
                win = seg.size if seg.size % 2 else seg.size - 1
            if win <= polyorder or deriv > polyorder:
                continue
            out[a:b, j] = sps.savgol_filter(seg, win, polyorder, deriv=deriv, delta=1.0 / fs)
    return out[:, 0] if was_1d else out
