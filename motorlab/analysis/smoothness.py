"""Movement smoothness: SPARC, (log) dimensionless jerk, normalised jerk, velocity peaks.

Conventions follow the published reference code so that values are comparable:

* SPARC - Balasubramanian et al., JNER 12:112 (2015); reference code
  github.com/siva82kb/SPARC ``scripts/smoothness.py`` (padlevel 4, fc 10 Hz, amp_th 0.05).
* DLJ/LDLJ - same reference: jerk from the 2nd difference of velocity (or 1st of
  acceleration), duration ``N*dt``, amplitude ``max |v|``; LDLJ = -ln|DLJ|.
  Vector input uses the norm of the vector jerk (siva82kb/smoothness_from_imu).
* IMU LDLJ - Melendez-Calderon, Shirota & Balasubramanian, Front. Bioeng. Biotechnol. (2021).
* Normalised jerk - Teulings et al., Exp Neurol 146:159 (1997): sqrt(0.5 * int |jerk|^2 dt * T^5 / L^2).

More negative SPARC/LDLJ means a less smooth movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import signal as sps
from scipy.integrate import trapezoid

from ..signal._checks import as_2d, require_rate, warn
from ..units import STANDARD_GRAVITY
from .params import SmoothnessParams

NAN = float("nan")


def sparc(
    speed: np.ndarray,
    sampling_rate: float,
    padlevel: int = SmoothnessParams.sparc_padlevel,
    fc: float = SmoothnessParams.sparc_fc_hz,
    amp_th: float = SmoothnessParams.sparc_amp_th,
) -> float:
    """Spectral arc length (SPARC) of a speed profile (dimensionless, <= 0).

    Steps (Balasubramanian 2015): zero-pad to ``2**(ceil(log2 N) + padlevel)``; magnitude
    spectrum normalised by its maximum; keep bins with f <= ``fc`` Hz; within them keep
    the span from the first to the last bin with magnitude >= ``amp_th``; SPARC is minus
    the arc length of that curve with frequency normalised by the span width.
    Identical output to the reference code; only the real-input half spectrum is computed.
    """
    fs = require_rate(sampling_rate)
    v = np.asarray(speed, dtype=np.float64).reshape(-1)
    if v.size < 2 or not np.all(np.isfinite(v)):
        warn("sparc: need at least 2 finite speed samples; result is NaN")
        return NAN
    nfft = int(2 ** (np.ceil(np.log2(v.size)) + padlevel))
    mag = np.abs(sfft.rfft(v, nfft))
    peak = mag.max()
    if not peak > 0:
        warn("sparc: speed profile is all zero; result is NaN")
        return NAN
    # bin frequencies as the reference builds them (np.arange(0, fs, fs/nfft) == k*fs/nfft);
    # only bins up to Nyquist exist in the real-input spectrum, so fc is capped at fs/2.
    f = np.arange(mag.size) * (fs / nfft)
    n_keep = int(np.count_nonzero(f <= fc))
    f_sel = f[:n_keep]
    m_sel = mag[:n_keep] / peak
    above = np.flatnonzero(m_sel >= amp_th)
    if above.size == 0:
        warn("sparc: no spectral bin above the amplitude threshold; result is NaN")
        return NAN
    f_sel = f_sel[above[0] : above[-1] + 1]
    m_sel = m_sel[above[0] : above[-1] + 1]
    if f_sel.size < 2:
        return -0.0
    df = np.diff(f_sel) / (f_sel[-1] - f_sel[0])
    return float(-np.sum(np.sqrt(df**2 + np.diff(m_sel) ** 2)))


def dimensionless_jerk(
    movement: np.ndarray,
    sampling_rate: float,
    data_type: str = "vel",
) -> float:
    """Dimensionless jerk (negative; reference sign convention).

    ``movement`` is a speed profile (n,), a velocity vector (n, d) (``data_type="vel"``),
    or an acceleration (n,) / (n, d) (``data_type="accl"``). Jerk is the norm of the
    2nd (vel) or 1st (accl) difference scaled by ``fs**order``; DLJ =
    -(N*dt)**p / max|movement|**2 * sum(jerk**2) * dt with p = 3 (vel) or 1 (accl).
    """
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(movement)
    order, power = {"vel": (2, 3), "accl": (1, 1)}.get(data_type, (None, None))
    if order is None:
        raise ValueError(f"data_type must be 'vel' or 'accl', got {data_type!r}")
    if arr.shape[0] < 3 or not np.all(np.isfinite(arr)):
        warn("dimensionless_jerk: need at least 3 finite samples; result is NaN")
        return NAN
    dt = 1.0 / fs
    amp = np.max(np.linalg.norm(arr, axis=1))
    if not amp > 0:
        warn("dimensionless_jerk: movement is all zero; result is NaN")
        return NAN
    jerk = np.linalg.norm(np.diff(arr, n=order, axis=0), axis=1) / dt**order
    scale = (arr.shape[0] * dt) ** power / amp**2
    return float(-scale * np.sum(jerk**2) * dt)


def ldlj(movement: np.ndarray, sampling_rate: float, data_type: str = "vel") -> float:
    """Log dimensionless jerk, -ln|DLJ| (see :func:`dimensionless_jerk`)."""
    d = dimensionless_jerk(movement, sampling_rate, data_type)
    if not np.isfinite(d) or d == 0:
        return NAN
    return float(-np.log(abs(d)))


def ldlj_imu(
    acc_ms2: np.ndarray,
    gyro_dps: np.ndarray | None,
    sampling_rate: float,
    gravity: np.ndarray | float = STANDARD_GRAVITY,
) -> float:
    """LDLJ from accelerometer (+ gyroscope) data (Melendez-Calderon et al. 2021).

    LDLJ-A = -ln(T) + ln(mean ||a||^2 - ||g||^2) - ln(int ||da/dt - a x w||^2 dt), with
    T = N*dt, the first jerk sample set to zero and w the angular velocity in rad/s
    (``gyro_dps`` is converted from deg/s). As in the reference code, gravity is
    subtracted from the amplitude term only when gyroscope data are given.
    """
    fs = require_rate(sampling_rate)
    acc = np.asarray(acc_ms2, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[0] < 3 or not np.all(np.isfinite(acc)):
        warn("ldlj_imu: need at least 3 finite (n, 3) accelerometer samples; result is NaN")
        return NAN
    n = acc.shape[0]
    dt = 1.0 / fs
    amp = np.linalg.norm(acc) ** 2 / n
    jerk = np.vstack((np.zeros((1, acc.shape[1])), np.diff(acc, axis=0) * fs))
    if gyro_dps is not None:
        g = np.atleast_1d(np.asarray(gravity, dtype=np.float64))
        g_norm2 = float(g @ g) if g.size > 1 else float(g[0] ** 2)
        amp -= g_norm2
        jerk = jerk - np.cross(acc, np.deg2rad(np.asarray(gyro_dps, dtype=np.float64)))
    cost = np.sum(np.linalg.norm(jerk, axis=1) ** 2) * dt
    if not (amp > 0 and cost > 0):
        warn("ldlj_imu: movement amplitude or jerk is zero; result is NaN")
        return NAN
    return float(-np.log(n * dt) + np.log(amp) - np.log(cost))


def normalized_jerk(position: np.ndarray, sampling_rate: float) -> float:
    """Normalised jerk (Teulings 1997), dimensionless: sqrt(0.5 * int |jerk|^2 dt * T^5 / L^2).

    Jerk by ``np.gradient`` applied three times, integral by the trapezoid rule,
    T = (N-1)*dt, L = path length (sum of |step|). Valid for a single stroke (MovAlyzeR).
    The continuous minimum-jerk value is sqrt(360) = 18.97.
    """
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(position)
    if arr.shape[0] < 4 or not np.all(np.isfinite(arr)):
        warn("normalized_jerk: need at least 4 finite position samples; result is NaN")
        return NAN
    dt = 1.0 / fs
    jerk = arr
    for _ in range(3):
        jerk = np.gradient(jerk, dt, axis=0)
    j2 = np.sum(jerk**2, axis=1)
    length = float(np.sum(np.linalg.norm(np.diff(arr, axis=0), axis=1)))
    if not length > 0:
        warn("normalized_jerk: no movement (zero path length); result is NaN")
        return NAN
    duration = (arr.shape[0] - 1) * dt
    return float(np.sqrt(0.5 * trapezoid(j2, dx=dt) * duration**5 / length**2))


def velocity_peaks(
    speed: np.ndarray, prominence_frac: float | None = SmoothnessParams.peak_prominence_frac
) -> int:
    """Number of speed peaks: ``scipy.signal.find_peaks`` with prominence >= ``prominence_frac`` x max.

    ``prominence_frac=None`` counts every strict local maximum (very noise sensitive).
    """
    v = np.asarray(speed, dtype=np.float64).reshape(-1)
    if v.size < 3 or not np.all(np.isfinite(v)):
        warn("velocity_peaks: need at least 3 finite speed samples; result is 0")
        return 0
    if prominence_frac is None:
        return len(sps.find_peaks(v)[0])
    return len(sps.find_peaks(v, prominence=prominence_frac * float(np.max(v)))[0])


@dataclass(frozen=True)
class SmoothnessResult:
    """Smoothness of one movement (all dimensionless except where a unit is named).

    Attributes:
        sparc: spectral arc length of the speed (Balasubramanian 2015).
        ldlj_v: log dimensionless jerk of the velocity vector.
        ldlj_speed: log dimensionless jerk of the scalar speed.
        normalized_jerk: Teulings 1997 normalised jerk.
        n_velocity_peaks: speed peaks with prominence >= ``peak_prominence_frac`` x the maximum.
        duration_s: movement duration (s).
        path_length: path length in the position's units.
        peak_speed: maximum speed, position units per second.
    """

    sparc: float
    ldlj_v: float
    ldlj_speed: float
    normalized_jerk: float
    n_velocity_peaks: int
    duration_s: float
    path_length: float
    peak_speed: float


def stroke_smoothness(
    position: np.ndarray,
    sampling_rate: float,
    lowpass_hz: float | None = None,
    sparc_fc: float = SmoothnessParams.sparc_fc_hz,
    sparc_amp_th: float = SmoothnessParams.sparc_amp_th,
    sparc_padlevel: int = SmoothnessParams.sparc_padlevel,
    peak_prominence_frac: float = SmoothnessParams.peak_prominence_frac,
) -> SmoothnessResult:
    """All smoothness metrics of one movement from its positions ((n,) or (n, d), any length unit).

    Velocity by central differences (``np.gradient``); ``lowpass_hz`` optionally
    low-passes positions first (zero-phase Butterworth, recommended before any
    jerk metric on measured data, metrics.md §1.3).
    """
    from ..signal.filter import signal_filter

    fs = require_rate(sampling_rate)
    pos, _ = as_2d(position)
    if pos.shape[0] < 4 or not np.all(np.isfinite(pos)):
        warn("stroke_smoothness: need at least 4 finite position samples; results are NaN")
        return SmoothnessResult(NAN, NAN, NAN, NAN, 0, NAN, NAN, NAN)
    if lowpass_hz is not None:
        pos = signal_filter(pos, fs, highcut=lowpass_hz)
        pos = pos if pos.ndim == 2 else pos[:, None]
    vel = np.gradient(pos, 1.0 / fs, axis=0)
    speed = np.linalg.norm(vel, axis=1)
    return SmoothnessResult(
        sparc=sparc(speed, fs, sparc_padlevel, sparc_fc, sparc_amp_th),
        ldlj_v=ldlj(vel, fs, "vel"),
        ldlj_speed=ldlj(speed, fs, "vel"),
        normalized_jerk=normalized_jerk(pos, fs),
        n_velocity_peaks=velocity_peaks(speed, peak_prominence_frac),
        duration_s=(pos.shape[0] - 1) / fs,
        path_length=float(np.sum(np.linalg.norm(np.diff(pos, axis=0), axis=1))),
        peak_speed=float(np.max(speed)),
    )


@lru_cache(maxsize=64)
def _bins_up_to(nfft: int, fs: float, fc: float) -> int:
    """Number of rfft bins k (of ``nfft``) with k * fs / nfft <= ``fc`` Hz (cached per length)."""
    return int(np.count_nonzero(np.arange(nfft // 2 + 1) * (fs / nfft) <= fc))


def sparc_segments(
    speed: np.ndarray,
    bounds: list[tuple[int, int]],
    sampling_rate: float,
    padlevel: int = SmoothnessParams.sparc_padlevel,
    fc: float = SmoothnessParams.sparc_fc_hz,
    amp_th: float = SmoothnessParams.sparc_amp_th,
) -> np.ndarray:
    """:func:`sparc` of ``speed[a:b]`` for every ``(a, b)`` in ``bounds`` (NaN for < 2 samples or
    a zero profile), the segments sharing an FFT length transformed together (same values,
    one call instead of one per segment)."""
    fs = require_rate(sampling_rate)
    v = np.asarray(speed, dtype=np.float64).reshape(-1)
    out = np.full(len(bounds), NAN)
    lengths = np.array([b - a for a, b in bounds], dtype=np.int64)
    groups: dict[int, list[int]] = {}
    for i, m in enumerate(lengths):
        if m >= 2:
            groups.setdefault(int(2 ** (np.ceil(np.log2(m)) + padlevel)), []).append(i)
    for nfft, idx in groups.items():
        if len(idx) == 1:  # one segment of this FFT length: rfft zero-pads it (no padded copy)
            a, b = bounds[idx[0]]
            block = v[None, a:b]
        else:
            block = np.zeros((len(idx), int(lengths[idx].max())))
            for row, i in enumerate(idx):
                a, b = bounds[i]
                block[row, : b - a] = v[a:b]
        mag = np.abs(sfft.rfft(block, n=nfft, axis=1))
        peak = mag.max(axis=1)
        n_keep = _bins_up_to(nfft, fs, fc)
        with np.errstate(invalid="ignore", divide="ignore"):
            m_sel = mag[:, :n_keep] / peak[:, None]
        above = m_sel >= amp_th
        has = above.any(axis=1) & (peak > 0)
        first = np.argmax(above, axis=1)
        last = n_keep - 1 - np.argmax(above[:, ::-1], axis=1)
        width = (last - first).astype(np.float64)
        k = np.arange(n_keep - 1)
        inside = (k[None, :] >= first[:, None]) & (k[None, :] < last[:, None])
        with np.errstate(invalid="ignore", divide="ignore"):
            steps = np.sqrt((1.0 / width)[:, None] ** 2 + np.diff(m_sel, axis=1) ** 2)
        arc = -np.sum(np.where(inside, steps, 0.0), axis=1)
        arc = np.where(width > 0, arc, -0.0)
        out[np.asarray(idx)] = np.where(has, arc, NAN)
    return out


def ldlj_segments(vel: np.ndarray, bounds: list[tuple[int, int]], sampling_rate: float) -> np.ndarray:
    """:func:`ldlj` (``data_type="vel"``) of ``vel[a:b]`` for every ``(a, b)`` in ``bounds``, from
    running sums (NaN for fewer than 3 samples or a zero movement)."""
    fs = require_rate(sampling_rate)
    arr, _ = as_2d(vel)
    dt = 1.0 / fs
    out = np.full(len(bounds), NAN)
    if arr.shape[0] < 3:
        return out
    j2 = np.sum(np.diff(arr, n=2, axis=0) ** 2, axis=1) / dt**4  # |jerk|^2 at i uses rows i..i+2
    csum = np.concatenate(([0.0], np.cumsum(j2)))
    ab = np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
    use = np.flatnonzero(ab[:, 1] - ab[:, 0] >= 3)
    if use.size == 0:
        return out
    a, b = ab[use, 0], ab[use, 1]
    speed = np.linalg.norm(arr, axis=1)
    # peak speed of every segment in one call: reduceat over (a0, b0, a1, b1, ...), the even
    # entries are max(speed[a:b]) (a sentinel makes b = n a valid index)
    amp = np.maximum.reduceat(np.append(speed, 0.0), np.column_stack([a, b]).reshape(-1))[::2]
    m = (b - a).astype(np.float64)
    cost = (csum[b - 2] - csum[a]) * dt
    with np.errstate(divide="ignore", invalid="ignore"):
        dlj = -((m * dt) ** 3) / amp**2 * cost
        val = -np.log(np.abs(dlj))
    out[use] = np.where((amp > 0) & (dlj != 0), val, NAN)
    return out
