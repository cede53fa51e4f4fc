"""Welch power spectra, band power and spectral peak frequency.

Settings follow the motorlab tremor recipe (metrics.md §2.2): Hann window of
``window_s`` seconds (default 4 s, i.e. 0.25 Hz bins), 50 % overlap, constant
detrend, density scaling (units^2/Hz).
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from ._checks import as_2d, finite_runs, require_rate


def signal_psd(
    x: np.ndarray,
    sampling_rate: float,
    window_s: float = 4.0,
    overlap: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of ``x`` (units^2/Hz).

    ``x`` may be (n,) or (n, k); for (n, k) the PSDs of the columns are summed
    (total power of the vector). NaN gaps split the signal: every finite run at
    least one window long contributes its Welch segments (weighted by their
    number). If no run is that long, the longest run is used with a window equal
    to its length.

    Returns:
        ``(freqs_Hz, psd)``; empty arrays when there is no finite sample.
    """
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(x)
    finite = np.all(np.isfinite(arr), axis=1)
    runs = finite_runs(finite)
    if not runs:
        return np.empty(0), np.empty(0)
    nperseg = max(int(round(window_s * fs)), 2)
    long_runs = [(a, b) for a, b in runs if b - a >= nperseg]
    if not long_runs:
        a, b = max(runs, key=lambda r: r[1] - r[0])
        if b - a < 2:
            return np.empty(0), np.empty(0)
        long_runs, nperseg = [(a, b)], b - a
    noverlap = int(round(nperseg * overlap))
    total, weight, freqs = None, 0.0, None
    for a, b in long_runs:
        freqs, pxx = sps.welch(
            arr[a:b], fs=fs, window="hann", nperseg=nperseg, noverlap=noverlap,
            detrend="constant", scaling="density", axis=0,
        )
        n_seg = 1 + (b - a - nperseg) // (nperseg - noverlap)
        pxx = pxx.sum(axis=1)
        total = pxx * n_seg if total is None else total + pxx * n_seg
        weight += n_seg
    return freqs, total / weight


def band_power(freqs: np.ndarray, psd: np.ndarray, band: tuple[float, float]) -> float:
    """Power in ``band`` (inclusive edges, Hz): sum of PSD bins x bin width (units^2)."""
    if freqs.size < 2:
        return float("nan")
    sel = (freqs >= band[0]) & (freqs <= band[1])
    return float(np.sum(psd[sel]) * (freqs[1] - freqs[0]))


def peak_frequency(
    freqs: np.ndarray,
    psd: np.ndarray,
    band: tuple[float, float],
    refine: bool = True,
) -> float:
    """Frequency (Hz) of the largest PSD bin inside ``band`` (inclusive edges).

    With ``refine`` the peak is located between bins by fitting a parabola to the
    log-PSD of the peak bin and its two neighbours (Gaussian interpolation), which
    removes most of the +-half-bin quantisation of a 0.25 Hz grid.
    """
    sel = np.flatnonzero((freqs >= band[0]) & (freqs <= band[1]))
    if sel.size == 0 or not np.any(psd[sel] > 0):
        return float("nan")
    k = int(sel[np.argmax(psd[sel])])
    f = float(freqs[k])
    if not refine or k == 0 or k == freqs.size - 1:
        return f
    a, b, c = (np.log(max(float(v), 1e-300)) for v in psd[k - 1 : k + 2])
    denom = a - 2 * b + c
    if denom >= 0:
        return f
    delta = 0.5 * (a - c) / denom
    return f + float(np.clip(delta, -0.5, 0.5)) * float(freqs[1] - freqs[0])
