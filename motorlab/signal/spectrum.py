"""Welch power spectra, band power and spectral peak frequency.

Settings follow the motorlab tremor recipe (metrics.md §2.2): Hann window of
``window_s`` seconds (default 4 s, i.e. 0.25 Hz bins), 50 % overlap, constant
detrend, density scaling (units^2/Hz).

Speed: the Welch average is computed here with NumPy strides and
``scipy.fft.rfft`` rather than through ``scipy.signal.welch``, whose fixed cost
(~0.2 ms a call) dominated short recordings in batch runs. The arithmetic is
``scipy.signal.welch(x, fs, window="hann", nperseg, noverlap, detrend="constant",
scaling="density", average="mean")`` term for term (the tests compare the two).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import signal as sps

from ._checks import as_2d, finite_runs, require_rate

#: segments transformed at once (bounds the temporary memory of long recordings)
_MAX_CHUNK_VALUES = 1 << 20


@lru_cache(maxsize=64)
def _hann(nperseg: int) -> tuple[np.ndarray, float]:
    """Periodic Hann window (``scipy.signal.get_window``) and the sum of its squares; read-only."""
    win = sps.get_window("hann", nperseg)
    win.flags.writeable = False
    return win, float(np.sum(win * win))


def _welch_columns(
    x: np.ndarray, fs: float, nperseg: int, noverlap: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """One-sided Welch PSD of each column of finite (n, k) ``x``, n >= nperseg.

    Returns ``(freqs, psd (n_freqs, k), n_segments)``: segments of ``nperseg``
    samples every ``nperseg - noverlap``, mean removed, Hann window, |rfft|^2
    averaged over segments, scaled by 1 / (fs * sum(window^2)) and doubled
    except at 0 Hz (and Nyquist for even ``nperseg``).
    """
    win, win_power = _hann(nperseg)
    step = nperseg - noverlap
    segments = np.lib.stride_tricks.sliding_window_view(x, nperseg, axis=0)[::step]  # (n_seg, k, nperseg)
    n_seg = segments.shape[0]
    chunk = max(1, _MAX_CHUNK_VALUES // (nperseg * x.shape[1]))
    total = np.zeros((x.shape[1], nperseg // 2 + 1))
    for start in range(0, n_seg, chunk):
        seg = segments[start : start + chunk]
        seg = seg - seg.mean(axis=-1, keepdims=True)
        spec = sfft.rfft(seg * win, axis=-1)
        total += (spec.real**2 + spec.imag**2).sum(axis=0)
    psd = total / (n_seg * fs * win_power)
    psd[:, 1 : None if nperseg % 2 else -1] *= 2
    return sfft.rfftfreq(nperseg, 1.0 / fs), psd.T, n_seg


def signal_psd(
    x: np.ndarray,
    sampling_rate: float,
    window_s: float = 4.0,
    overlap: float = 0.5,
    sum_columns: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of ``x`` (units^2/Hz).

    ``x`` may be (n,) or (n, k); for (n, k) the PSDs of the columns are summed
    (total power of the vector) unless ``sum_columns=False``, which returns one
    PSD per column, shape (n_freqs, k). NaN gaps split the signal (a row with any
    NaN is a gap): every finite run at least one window long contributes its
    Welch segments (weighted by their number). If no run is that long, the
    longest run is used with a window equal to its length.

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
    freqs, psd, weight = _welch_columns(arr[long_runs[0][0] : long_runs[0][1]], fs, nperseg, noverlap)
    psd = psd * weight
    for a, b in long_runs[1:]:
        _, pxx, n_seg = _welch_columns(arr[a:b], fs, nperseg, noverlap)
        psd = psd + pxx * n_seg
        weight += n_seg
    psd = psd / weight
    return freqs, (psd.sum(axis=1) if sum_columns else psd)


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
