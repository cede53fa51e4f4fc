"""Tremor from accelerometer (or gyroscope) data: frequency, power, amplitude, stability.

Spectral recipe (metrics.md §2.2): Welch, Hann, 4-s segments (0.25 Hz bins), 50 %
overlap, constant detrend, density scaling; peak frequency = largest PSD bin in
the band (3-12 Hz by default), refined between bins by log-parabolic
interpolation; band power = sum(PSD) x df over the band.

Amplitude: RMS of the zero-phase band-passed signal. By default the 4th-order
Butterworth band-pass edges are placed at ``band[0] * 0.6`` and ``band[1] / 0.6``
so that every frequency inside the analysis band passes with >= 99 % of its
power (a filter with edges exactly at 3 and 12 Hz halves the power of a 3 Hz or
12 Hz tremor after forward-backward filtering). ``rms_band=band`` reproduces the
recipe filter exactly. Displacement RMS (cm) divides the acceleration PSD by
(2 pi f)^4 before integrating over the band (elementary kinematics, a = -(2 pi f)^2 x).

Tremor Stability Index (di Biase et al., Brain 140:1977, 2017): inter-quartile
range of the change in instantaneous frequency between consecutive cycles; the
paper's cut-off 1.05 Hz separates Parkinsonian (higher) from essential tremor.
Implementation = motorlab recipe: remove mean, Welch peak in band, 2nd-order
Butterworth band-pass peak +- 2 Hz (sosfiltfilt), upward zero crossings with
linear interpolation, f_k = 1/period, TSI = IQR(diff f_k) (numpy linear percentiles).

Tremor detection (:func:`motorlab.signal.spectral_peak`): a tremor is reported only
when the summed spectrum has a genuine local maximum strictly inside the band that
stands ``detection_ratio`` times above a robust power-law fit of the broadband
background and is significant (``detection_alpha``, chi-square with the Welch degrees
of freedom, corrected for the number of band bins). Otherwise the peak frequency, TSI
and hints are NaN/empty and ``note`` says what was found ("no tremor peak: ..."); band
power and RMS are still reported (they measure the band's activity, tremor or not).

Classification hints use configurable frequency ranges; defaults from Luft et
al., Sensors 19:4301 (2019): parkinsonian 3-8 Hz, essential 4-12 Hz,
physiological 8-12 Hz. They are hints for the therapist, not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..signal._checks import as_2d, finite_runs, require_rate, warn
from ..signal.filter import signal_filter
from ..signal.segment import signal_zero_crossings
from ..signal.spectrum import (
    band_mask,
    band_power,
    peak_frequency,
    signal_psd,
    spectral_peak,
    welch_dof,
    welch_segments,
)
from .params import ClassBands, TremorParams

NAN = float("nan")
TSI_CUTOFF_HZ = 1.05  # di Biase et al. 2017
FLAT_BAND_FACTOR = 0.6
TSI_HALF_WIDTH_HZ = 2.0  # TSI band-pass: peak +- this (Hz)


@dataclass(frozen=True)
class TremorResult:
    """Tremor of one recording (input units ``u``: m/s^2 for an accelerometer, deg/s for a gyroscope).

    Attributes:
        peak_freq_Hz: frequency of the detected tremor peak, strictly inside ``band``; NaN when
            no tremor peak was detected.
        band_power: power in ``band`` (u^2), summed over axes.
        rms: RMS of the band-passed signal (u); vector RMS over axes.
        displacement_rms_cm: RMS displacement (cm) in ``band`` (acceleration input only, else NaN).
        tsi_Hz: Tremor Stability Index (Hz), NaN without a detected peak or with fewer than 8 cycles.
        n_cycles: tremor cycles found for the TSI.
        duration_s: finite data analysed (s).
        hints: labels of the configured ranges containing the peak, plus a TSI hint;
            ``("no tremor peak above the noise floor",)`` without a detected peak.
        peak_to_background: PSD at the largest in-band local maximum / the fitted broadband
            background there (dimensionless; NaN without any local maximum inside the band).
            A rhythmic tremor stands 10-1000x above it; noise and drift give ~1-2.
        tremor_detected: a genuine in-band peak, ``peak_to_background >= detection_ratio`` and
            ``peak_p_value < detection_alpha`` (see the module docstring).
        peak_p_value: chance of so high a peak in a background-only spectrum (NaN without a candidate).
        background_exponent: slope of the fitted background, log10 PSD per log10 Hz.
        note: one line: the detected peak, or why there is none.
    """

    peak_freq_Hz: float
    band_power: float
    rms: float
    displacement_rms_cm: float
    tsi_Hz: float
    n_cycles: int
    duration_s: float
    hints: tuple[str, ...]
    peak_to_background: float = NAN
    tremor_detected: bool = False
    peak_p_value: float = NAN
    background_exponent: float = NAN
    note: str = ""


def _principal_axis(x: np.ndarray, finite: np.ndarray | None = None) -> np.ndarray:
    """Project (n, k) data (NaN rows allowed) onto its first principal component, mean removed.

    The axis is the leading eigenvector of the k x k covariance (``numpy.linalg.eigh``, from
    X'X and the column sums in one pass, no centred copy), signed so that its largest component
    is positive (a deterministic direction for the zero crossings).
    """
    if x.shape[1] == 1:
        col = x[:, 0]
        ok = np.isfinite(col)
        return col - col[ok].mean() if ok.any() else col
    ok = np.all(np.isfinite(x), axis=1) if finite is None else finite
    n = int(np.count_nonzero(ok))
    if n == 0:
        return np.full(x.shape[0], np.nan)
    used = x if n == x.shape[0] else x[ok]
    mean = used.sum(axis=0) / n
    cov = used.T @ used - n * np.outer(mean, mean)
    _, vecs = np.linalg.eigh(cov)
    v = vecs[:, -1]
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    return x @ v - float(mean @ v)


def _tsi_signal(arr: np.ndarray, finite: np.ndarray | None = None) -> np.ndarray | None:
    """Zero-mean principal-axis signal for the TSI, or None (with a warning) if too few samples."""
    ok = np.all(np.isfinite(arr), axis=1) if finite is None else finite
    if np.count_nonzero(ok) < 4:
        warn("tremor_stability_index: too few samples; result is NaN")
        return None
    return _principal_axis(arr, ok)


def _tsi_at(sig: np.ndarray, fs: float, f0: float | None, half_width_hz: float) -> tuple[float, int]:
    """TSI of a zero-mean signal band-passed at ``f0`` +- ``half_width_hz`` (None: the raw signal)."""
    if f0 is not None:
        lo = max(f0 - half_width_hz, 0.1)
        hi = min(f0 + half_width_hz, 0.45 * fs)
        sig = signal_filter(sig, fs, lowcut=lo, highcut=hi, order=2)
    changes: list[np.ndarray] = []
    n_cycles = 0
    for a, b in finite_runs(np.isfinite(sig)):
        t_up = signal_zero_crossings(sig[a:b], fs, "up")
        if t_up.size < 3:
            continue
        f_k = 1.0 / np.diff(t_up)
        n_cycles += f_k.size
        changes.append(np.diff(f_k))
    if n_cycles < 8:
        warn(f"tremor_stability_index: only {n_cycles} cycles; result is NaN")
        return NAN, n_cycles
    d = np.concatenate(changes)
    q75, q25 = np.percentile(d, [75, 25])
    return float(q75 - q25), n_cycles


def _tsi_from_signal(
    sig: np.ndarray,
    fs: float,
    peak_band: tuple[float, float],
    half_width_hz: float,
    psd: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[float, int]:
    """TSI of a zero-mean signal; ``psd`` = its Welch spectrum (band-pass around the peak), or None (raw)."""
    if psd is None:
        return _tsi_at(sig, fs, None, half_width_hz)
    f0 = peak_frequency(*psd, peak_band, refine=False)
    if not np.isfinite(f0):
        warn("tremor_stability_index: no spectral peak (flat signal); result is NaN")
        return NAN, 0
    return _tsi_at(sig, fs, f0, half_width_hz)


def tremor_stability_index(
    x: np.ndarray,
    sampling_rate: float,
    peak_band: tuple[float, float] = (2.5, 12.0),
    half_width_hz: float = TSI_HALF_WIDTH_HZ,
    prefilter: bool = True,
) -> tuple[float, int]:
    """Tremor Stability Index (Hz) and number of cycles used.

    ``x`` is (n,) or (n, k); several axes are first projected on their principal
    component. With ``prefilter=False`` the zero crossings of the raw signal are used.
    NaN gaps split the signal; cycle-to-cycle changes never span a gap.
    """
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(x)
    sig = _tsi_signal(arr)
    if sig is None:
        return NAN, 0
    return _tsi_from_signal(sig, fs, peak_band, half_width_hz, signal_psd(sig, fs) if prefilter else None)


def tremor_hints(
    peak_freq_hz: float,
    tsi_hz: float = NAN,
    class_bands: Mapping[str, tuple[float, float]] | ClassBands = TremorParams.class_bands_hz,
) -> tuple[str, ...]:
    """Labels of the frequency ranges containing the peak, and a TSI hint (cut-off 1.05 Hz).

    ``class_bands`` maps a label to its (low, high) range in Hz (a mapping or (label, range) pairs).
    """
    bands = dict(class_bands)
    hints = [
        f"{name} range ({lo:g}-{hi:g} Hz)" for name, (lo, hi) in bands.items() if lo <= peak_freq_hz <= hi
    ]
    if np.isfinite(tsi_hz):
        side = "above" if tsi_hz > TSI_CUTOFF_HZ else "at or below"
        kind = "parkinsonian-like" if tsi_hz > TSI_CUTOFF_HZ else "essential-like"
        hints.append(f"TSI {side} {TSI_CUTOFF_HZ} Hz ({kind})")
    return tuple(hints)


def tremor_analyze(
    signal: np.ndarray,
    sampling_rate: float,
    band: tuple[float, float] = TremorParams.band_hz,
    window_s: float = TremorParams.window_s,
    rms_band: tuple[float, float] | None = TremorParams.rms_band_hz,
    is_acceleration: bool = True,
    class_bands: Mapping[str, tuple[float, float]] | ClassBands = TremorParams.class_bands_hz,
    detection_ratio: float = TremorParams.detection_ratio,
    detection_alpha: float = TremorParams.detection_alpha,
) -> TremorResult:
    """Tremor metrics of an (n,) or (n, 3) signal (see the module docstring for the recipe).

    Args:
        signal: accelerometer (m/s^2, gravity may be included: the constant part is removed)
            or gyroscope (deg/s) samples; NaN marks gaps.
        sampling_rate: Hz.
        band: analysis band (Hz) for the peak, band power and displacement.
        window_s: Welch segment length (s).
        rms_band: band-pass edges for the RMS (default: the flat-band design above).
        is_acceleration: compute displacement RMS (cm) when True.
        class_bands: frequency ranges for the hints (default Luft et al. 2019).
        detection_ratio: a tremor peak must stand this many times above the fitted broadband
            background (PSD ratio at the peak bin).
        detection_alpha: ... and be this unlikely in a background-only spectrum.
    """
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(signal)
    finite = np.all(np.isfinite(arr), axis=1)
    n_finite = int(np.count_nonzero(finite))
    duration = n_finite / fs
    freqs, pxx = signal_psd(arr, fs, window_s=window_s)
    in_band = band_mask(freqs, band)
    if freqs.size < 3 or not np.any(pxx[in_band] > 0):
        warn("tremor_analyze: signal too short or flat for a spectrum; results are NaN")
        return TremorResult(NAN, NAN, NAN, NAN, NAN, 0, duration, (), note="signal too short or flat")
    nperseg = max(int(round(window_s * fs)), 2)
    dof = welch_dof(welch_segments(finite, nperseg))
    peak = spectral_peak(freqs, pxx, band, dof, detection_ratio, detection_alpha)
    power = band_power(freqs, pxx, band)
    if rms_band is None:
        rms_band = (band[0] * FLAT_BAND_FACTOR, min(band[1] / FLAT_BAND_FACTOR, 0.45 * fs))
    filtered = signal_filter(arr, fs, lowcut=rms_band[0], highcut=rms_band[1])
    ok = finite if n_finite == finite.size else np.all(np.isfinite(filtered), axis=1)
    sq = filtered * filtered if ok.all() else filtered[ok] ** 2
    rms = float(np.sqrt(sq.sum() / sq.shape[0])) if sq.shape[0] else NAN
    disp = NAN
    if is_acceleration:
        df = freqs[1] - freqs[0]
        sel = (freqs >= band[0] - 2 * df) & (freqs <= band[1] + 2 * df) & (freqs > 0)
        disp = float(np.sqrt(np.sum(pxx[sel] / (2 * np.pi * freqs[sel]) ** 4) * df) * 100.0)
    tsi, n_cycles = NAN, 0
    if peak.detected:
        sig = _tsi_signal(arr, finite)
        if sig is not None:
            k = int(np.argmin(np.abs(freqs - peak.freq_hz)))
            tsi, n_cycles = _tsi_at(sig, fs, float(freqs[k]), TSI_HALF_WIDTH_HZ)
        hints = tremor_hints(peak.freq_hz, tsi, class_bands)
    else:
        hints = ("no tremor peak above the noise floor",)
    return TremorResult(
        peak_freq_Hz=peak.freq_hz if peak.detected else NAN,
        band_power=power,
        rms=rms,
        displacement_rms_cm=disp,
        tsi_Hz=tsi,
        n_cycles=n_cycles,
        duration_s=duration,
        hints=hints,
        peak_to_background=peak.ratio,
        tremor_detected=peak.detected,
        peak_p_value=peak.p_value,
        background_exponent=peak.background_exponent,
        note=peak.note,
    )
