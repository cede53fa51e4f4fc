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

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import signal as sps
from scipy.special import chdtrc

from ._checks import as_2d, finite_runs, require_rate

#: segments transformed at once (bounds the temporary memory of long recordings)
_MAX_CHUNK_VALUES = 1 << 20


@lru_cache(maxsize=64)
def _hann(nperseg: int) -> tuple[np.ndarray, float]:
    """Periodic Hann window (``scipy.signal.get_window``) and the sum of its squares; read-only."""
    win = sps.get_window("hann", nperseg)
    win.flags.writeable = False
    return win, float(np.sum(win * win))


@lru_cache(maxsize=64)
def _hann_spectrum(nperseg: int) -> np.ndarray:
    """rfft of the periodic Hann window (read-only): the window's share of a constant's spectrum."""
    spec = sfft.rfft(_hann(nperseg)[0])
    spec.flags.writeable = False
    return spec


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
    win_spec = _hann_spectrum(nperseg)
    for start in range(0, n_seg, chunk):
        seg = segments[start : start + chunk]
        # (seg - mean) * win transformed = rfft(seg * win) - mean * rfft(win): no centred copy
        spec = sfft.rfft(seg * win, axis=-1)
        spec -= seg.mean(axis=-1, keepdims=True) * win_spec
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


#: a bin whose frequency lies within this fraction of a bin width of a band edge is on the edge:
#: bins at k * fs / n move by rounding when fs does (200 vs 199.9999999 Hz), and an edge bin
#: must not flip in or out of the band with them
EDGE_TOLERANCE_BINS = 1e-6


def band_mask(freqs: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the bins inside ``band`` (Hz, inclusive edges, with a rounding tolerance
    of :data:`EDGE_TOLERANCE_BINS` of a bin width)."""
    tol = EDGE_TOLERANCE_BINS * float(freqs[1] - freqs[0]) if freqs.size >= 2 else 0.0
    return (freqs >= band[0] - tol) & (freqs <= band[1] + tol)


def band_power(freqs: np.ndarray, psd: np.ndarray, band: tuple[float, float]) -> float:
    """Power in ``band`` (inclusive edges, Hz): sum of PSD bins x bin width (units^2)."""
    if freqs.size < 2:
        return float("nan")
    return float(np.sum(psd[band_mask(freqs, band)]) * (freqs[1] - freqs[0]))


def _in_band(freqs: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    return np.flatnonzero(band_mask(freqs, band))


def _refine(freqs: np.ndarray, psd: np.ndarray, k: int) -> float:
    """Peak bin ``k`` (a strict local maximum) located between bins by a parabola through the
    log-PSD of bins k-1, k, k+1 (Gaussian interpolation); the shift stays within half a bin."""
    f = float(freqs[k])
    a, b, c = (np.log(max(float(v), 1e-300)) for v in psd[k - 1 : k + 2])
    denom = a - 2 * b + c
    if denom >= 0:
        return f
    delta = 0.5 * (a - c) / denom
    return f + float(np.clip(delta, -0.5, 0.5)) * float(freqs[1] - freqs[0])


def peak_frequency(
    freqs: np.ndarray,
    psd: np.ndarray,
    band: tuple[float, float],
    refine: bool = True,
) -> float:
    """Frequency (Hz) of the largest PSD bin inside ``band`` (inclusive edges); never outside ``band``.

    With ``refine`` the peak is located between bins by fitting a parabola to the
    log-PSD of the peak bin and its two neighbours (Gaussian interpolation), which
    removes most of the +-half-bin quantisation of a 0.25 Hz grid. Only a genuine local
    maximum with both neighbours inside the band is refined: a spectrum that simply falls
    off from a band edge has its largest bin at that edge, and interpolating there would
    move the "peak" out of the band (use :func:`spectral_peak` to tell a peak from a slope).
    """
    sel = _in_band(freqs, band)
    if sel.size == 0 or not np.any(psd[sel] > 0):
        return float("nan")
    k = int(sel[np.argmax(psd[sel])])
    f = float(np.clip(freqs[k], band[0], band[1]))  # an edge bin rounded just outside is on the edge
    if not refine or k <= sel[0] or k >= sel[-1]:
        return f
    if not (psd[k] > psd[k - 1] and psd[k] >= psd[k + 1]):
        return f
    return float(np.clip(_refine(freqs, psd, k), band[0], band[1]))


# ------------------------------------------------------------------ peak detection
#: correlation of Hann windows overlapping by 50 % (Harris, Proc IEEE 66:51, 1978, Table 1)
HANN_OVERLAP_CORRELATION = 0.167


def welch_segments(finite: np.ndarray, nperseg: int, overlap: float = 0.5) -> int:
    """Number of Welch segments :func:`signal_psd` averages for the finite-sample mask ``finite``."""
    step = max(nperseg - int(round(nperseg * overlap)), 1)
    runs = [b - a for a, b in finite_runs(finite)]
    n = sum((r - nperseg) // step + 1 for r in runs if r >= nperseg)
    return n if n else (1 if runs and max(runs) >= 2 else 0)


def welch_dof(n_segments: int) -> float:
    """Equivalent degrees of freedom of a Welch PSD estimate (Hann window, 50 % overlap).

    nu = 2K / (1 + 2 sum_{m=1}^{K-1} (1 - m/K) rho(m)^2) with rho(1) = 0.167 and rho(m > 1) = 0
    (Percival & Walden, Spectral Analysis for Physical Applications, 1993, eq. 292b; Welch,
    IEEE Trans Audio Electroacoust 15:70, 1967). Each bin of the estimate divided by the true
    spectrum is then ~ chi-square(nu) / nu.
    """
    k = max(int(n_segments), 1)
    return 2.0 * k / (1.0 + 2.0 * (1.0 - 1.0 / k) * HANN_OVERLAP_CORRELATION**2)


@dataclass(frozen=True)
class SpectralPeak:
    """A spectral peak tested against the fitted broadband background (see :func:`spectral_peak`).

    Attributes:
        freq_hz: refined peak frequency (Hz), always strictly inside the band; NaN without a candidate.
        ratio: PSD at the peak bin / fitted background there (NaN without a candidate).
        p_value: chance of a ratio at least this high at any of the band's bins if the spectrum were
            only the background (chi-square with the Welch degrees of freedom, Sidak-corrected).
        background_exponent: slope of the fitted background in log10 PSD per log10 Hz (about -2 for a
            drifting position, 0 for white noise).
        detected: ``ratio >= min_ratio`` and ``p_value < alpha``.
        note: one line saying what was found (or why nothing was).
    """

    freq_hz: float
    ratio: float
    p_value: float
    background_exponent: float
    detected: bool
    note: str


@lru_cache(maxsize=32)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)`` (read-only, cached: the same few fit sizes recur in batch runs)."""
    i, j = np.triu_indices(n, 1)
    i.flags.writeable = False
    j.flags.writeable = False
    return i, j


def median_1d(a: np.ndarray) -> float:
    """``np.median`` of a 1-D array (same value; NaN if empty or any element is NaN) by one
    ``np.partition``, without ``np.median``'s generic axis handling."""
    n = a.size
    if n == 0:
        return float("nan")
    h = n // 2
    if n % 2:
        v = float(np.partition(a, h)[h])
    else:
        p = np.partition(a, (h - 1, h))
        v = float((p[h - 1] + p[h]) / 2)
    return v if not np.isnan(a).any() else float("nan")


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Theil-Sen line (Sen, JASA 63:1379, 1968): slope = median of the pairwise slopes,
    intercept = median(y) - slope * median(x) (as :func:`scipy.stats.theilslopes`)."""
    i, j = _pairs(x.size)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = median_1d((y[j] - y[i])[ok] / dx[ok]) if ok.any() else 0.0
    return slope, median_1d(y) - slope * median_1d(x)


def _background_fit(freqs: np.ndarray, psd: np.ndarray, fit: np.ndarray) -> tuple[float, np.ndarray]:
    """Robust power law psd ~ 10^c f^e (Theil-Sen line in log-log) over the bins ``fit``:
    (exponent e, the law's value at every frequency)."""
    slope, intercept = theil_sen(np.log10(freqs[fit]), np.log10(np.maximum(psd[fit], 1e-300)))
    return slope, 10.0 ** (intercept + slope * np.log10(np.maximum(freqs, 1e-12)))


def spectral_peak(
    freqs: np.ndarray,
    psd: np.ndarray,
    band: tuple[float, float],
    dof: float,
    min_ratio: float,
    alpha: float,
    fit_octaves: float = 1.0,
) -> SpectralPeak:
    """Is there a genuine spectral peak inside ``band``, standing out from the broadband background?

    Rule (every part must hold):

    1. the peak is a strict local maximum of the PSD (above both neighbours) whose bin and
       both neighbours lie inside ``band``: a spectrum that falls off from a band edge, or
       leaks into the band from a slower movement, has no such peak;
    2. the broadband background is a power law fitted robustly (Theil-Sen line through
       log10 PSD vs log10 f; Sen, JASA 63:1379, 1968) over ``band`` widened by ``fit_octaves``
       on both sides (the "aperiodic" fit of Donoghue et al., Nat Neurosci 23:1655, 2020);
       among the candidate maxima the one highest above that background is taken;
    3. PSD / background at the peak is at least ``min_ratio`` (effect size), and
    4. the chance of so high a ratio at any band bin of a background-only spectrum is below
       ``alpha`` (each Welch bin ~ background x chi-square(dof)/dof, :func:`welch_dof`;
       Sidak correction over the band's bins).

    The frequency is refined between bins (:func:`peak_frequency`'s log-parabola) and stays
    strictly inside the band.
    """
    nan = float("nan")
    sel = _in_band(freqs, band)
    if sel.size < 3 or not np.any(psd[sel] > 0):
        return SpectralPeak(nan, nan, nan, nan, False, "no tremor peak: the spectrum is empty or flat")
    lo = band[0] / 2.0**fit_octaves
    hi = band[1] * 2.0**fit_octaves
    fit = np.flatnonzero((freqs >= lo) & (freqs <= hi) & (freqs > 0) & (psd > 0))
    if fit.size < 4:
        fit = sel[psd[sel] > 0]
    exponent, background = _background_fit(freqs, psd, fit)
    inner = sel[1:-1]
    is_max = (psd[inner] > psd[inner - 1]) & (psd[inner] >= psd[inner + 1])
    cand = inner[is_max]
    band_txt = f"{band[0]:g}-{band[1]:g} Hz"
    if cand.size == 0:
        edge = "falls off from" if psd[sel[0]] >= psd[sel[-1]] else "rises towards"
        return SpectralPeak(
            nan,
            nan,
            nan,
            exponent,
            False,
            f"no tremor peak: no local maximum inside {band_txt} (the spectrum {edge} the band edge)",
        )
    ratios = psd[cand] / background[cand]
    best = int(np.argmax(ratios))
    k = int(cand[best])
    ratio = float(ratios[best])
    single = float(chdtrc(dof, ratio * dof))  # chi2.sf(ratio * dof, dof) without the stats wrapper
    p = float(-np.expm1(sel.size * np.log1p(-min(single, 1.0 - 1e-16))))
    f = float(np.clip(_refine(freqs, psd, k), freqs[sel[0]], freqs[sel[-1]]))
    if ratio >= min_ratio and p < alpha:
        note = f"tremor peak at {f:.2f} Hz, {ratio:.3g}x the fitted background (p = {p:.2g})"
        return SpectralPeak(f, ratio, p, exponent, True, note)
    why = []
    if ratio < min_ratio:
        why.append(f"needs {min_ratio:g}x")
    if p >= alpha:
        why.append(f"p = {p:.2g}, needs < {alpha:g}")
    note = (
        f"no tremor peak: the largest local maximum inside {band_txt} ({f:.2f} Hz) is only "
        f"{ratio:.3g}x the fitted background ({'; '.join(why)})"
    )
    return SpectralPeak(f, ratio, p, exponent, False, note)
