"""Archimedean spiral drawing: loop spacing, radial regularity, tremor in the trace.

The trace is "unravelled" into radius versus unwrapped angle around the
spiral centre (Pullman Spiral Analysis; centre fitting reduces low-frequency
artefacts, Wang et al., J Neurosci Methods 171:264, 2008). An ideal Archimedean
spiral is r = a + b*theta, so:

* ``slope_b_cm_per_rad`` and ``loop_spacing_cm = 2*pi*b`` from a least-squares fit;
* ``radial_rms_error_cm``: RMS of the fit residual r - (a + b*theta);
  the innermost half turn is left out (angle ill-defined near the centre);
* ``mean_abs_dr_dtheta_cm_per_rad``: mean |diff(r)/diff(theta)| (Lin et al., BMC Neurol 18:25, 2018);
* tremor: spectrum of the residual over time (3-12 Hz), its peak frequency and RMS (cm).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize import least_squares

from ..errors import MotorlabError
from ..signal._checks import require_rate, warn
from ..signal.imu import pen_trajectory_from_imu
from .params import SpiralParams
from .tremor import tremor_analyze

NAN = float("nan")
TWO_PI = 2 * np.pi


@dataclass(frozen=True)
class SpiralResult:
    """Spiral metrics (lengths in cm, angles in rad).

    Attributes:
        center_x_cm, center_y_cm: spiral centre used.
        n_loops: revolutions drawn.
        slope_b_cm_per_rad: fitted radial growth per radian (absolute value; inward spirals too).
        loop_spacing_cm: 2*pi*b, distance between successive loops.
        mean_abs_dr_dtheta_cm_per_rad: mean |dr/dtheta|.
        radial_rms_error_cm: RMS deviation from the fitted spiral.
        tremor_peak_freq_Hz: peak of the residual spectrum in the tremor band.
        tremor_rms_cm: RMS of the band-passed residual.
        duration_s: drawing time on the surface.
        mean_speed_cm_per_s: path length / duration.
    """

    center_x_cm: float
    center_y_cm: float
    n_loops: float
    slope_b_cm_per_rad: float
    loop_spacing_cm: float
    mean_abs_dr_dtheta_cm_per_rad: float
    radial_rms_error_cm: float
    tremor_peak_freq_Hz: float
    tremor_rms_cm: float
    duration_s: float
    mean_speed_cm_per_s: float


def _polar(
    pos: np.ndarray, center: np.ndarray, drop_center: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radius, unwrapped angle (made increasing) and mask of samples used (off the centre)."""
    d = pos - center
    r = np.hypot(d[:, 0], d[:, 1])
    keep = r > 1e-9 if drop_center else np.ones(r.size, bool)
    theta = np.unwrap(np.arctan2(d[keep, 1], d[keep, 0]))
    if theta.size > 1 and theta[-1] < theta[0]:
        theta = -theta  # clockwise spiral
    return r[keep], theta, keep


def _fit_line(theta: np.ndarray, r: np.ndarray) -> tuple[float, float, np.ndarray]:
    design = np.column_stack([np.ones_like(theta), theta])
    (a, b), *_ = np.linalg.lstsq(design, r, rcond=None)
    return float(a), float(b), r - (a + b * theta)


class _RadialFit(NamedTuple):
    """Line fit r = a + b*theta about one trial centre (see :func:`_radial_fit`)."""

    cost: float  # 0.5 * sum(e^2), cm^2
    e: np.ndarray  # residual r - (a + b*theta), cm
    tc: np.ndarray  # theta - mean(theta), rad
    s_tt: float  # sum(tc^2)
    b: float  # slope, cm/rad
    sign: float  # -1 for a clockwise trace (angle negated to increase)
    dx: np.ndarray  # p - c, cm
    dy: np.ndarray
    r: np.ndarray  # |p - c|, cm


def _radial_fit(x: np.ndarray, y: np.ndarray, cx: float, cy: float) -> _RadialFit:
    """Residual of the spiral line fit about centre (cx, cy), i.e. :func:`_fit_line` as a function of c.

    The angle is unwrapped as ``np.unwrap`` does (multiples of 2 pi removed from each
    step, numpy's tie rule included) and negated for a clockwise trace, as in :func:`_polar`.
    """
    dx, dy = x - cx, y - cy
    r = np.sqrt(dx * dx + dy * dy)
    theta = np.arctan2(dy, dx)
    turns = np.rint(np.diff(theta) * (1 / TWO_PI))  # rint: round half to even, like np.unwrap's tie rule
    if turns.any():
        theta[1:] -= np.cumsum(turns) * TWO_PI
    sign = -1.0 if theta[-1] < theta[0] else 1.0
    n = theta.size
    tc = theta - theta.sum() / n
    if sign < 0:
        tc = -tc
    s_tt = float(np.dot(tc, tc))
    b = float(np.dot(tc, r)) / s_tt if s_tt > 0 else 0.0  # every point on one ray: no slope
    e = r - (r.sum() / n)
    e -= b * tc
    return _RadialFit(0.5 * float(np.dot(e, e)), e, tc, s_tt, b, sign, dx, dy, r)


def _radial_jacobian(f: _RadialFit) -> tuple[np.ndarray, np.ndarray]:
    """Exact Jacobian de/dc of the variable-projection residual (Golub & Pereyra, SIAM J Numer Anal 10:413, 1973).

    de/dc = P (dr/dc - b dtheta/dc) - A (A'A)^-1 [0, e . dtheta/dc], with A = [1, theta],
    P the projector off span(A), dr/dc = -u (u the unit radius vector) and
    dtheta/dc = sign * (u_y, -u_x) / r. A sample exactly on the centre gets no gradient.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_r = 1.0 / f.r
    if not f.r.all():
        inv_r[f.r == 0] = 0.0
    n = f.r.size
    ux, uy = f.dx * inv_r, f.dy * inv_r
    s_tt = f.s_tt if f.s_tt > 0 else np.inf
    jac = []
    for dr, dth in ((ux, (f.sign * uy) * inv_r), (uy, (-f.sign * ux) * inv_r)):
        g = -dr
        g -= f.b * dth
        g -= g.sum() / n
        g -= f.tc * ((np.dot(f.tc, g) + np.dot(dth, f.e)) / s_tt)
        jac.append(g)
    return jac[0], jac[1]


class _CentreProblem:
    """Residual and Jacobian of the centre fit for :func:`scipy.optimize.least_squares`.

    Both come from one :func:`_radial_fit` per centre. MINPACK asks for the Jacobian at
    the last accepted point, which is not always the last point tried, so the fits of the
    last few centres are kept.
    """

    KEEP = 4

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y
        self._fits: dict[tuple[float, float], _RadialFit] = {}

    def fit(self, c: np.ndarray) -> _RadialFit:
        key = (float(c[0]), float(c[1]))
        found = self._fits.get(key)
        if found is None:
            if len(self._fits) >= self.KEEP:
                del self._fits[next(iter(self._fits))]  # oldest first (dicts keep insertion order)
            found = self._fits[key] = _radial_fit(self.x, self.y, *key)
        return found

    def residual(self, c: np.ndarray) -> np.ndarray:
        return self.fit(c).e

    def jacobian(self, c: np.ndarray) -> np.ndarray:
        return np.column_stack(_radial_jacobian(self.fit(c)))


def _fit_center(pos: np.ndarray, guesses: list[np.ndarray]) -> np.ndarray:
    """Centre minimising the radial residual: best of MINPACK Levenberg-Marquardt runs from ``guesses``.

    :func:`scipy.optimize.least_squares` (``method="lm"``) with the exact Jacobian of
    :func:`_radial_jacobian`, which halves the residual evaluations of finite differences.
    """
    span = float(np.ptp(pos, axis=0).max()) or 1.0
    problem = _CentreProblem(np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(pos[:, 1]))
    best = None
    with np.errstate(all="ignore"):
        for g in guesses:
            start = np.asarray(g, dtype=np.float64)
            if not np.isfinite(problem.fit(start).cost):
                continue
            sol = least_squares(problem.residual, start, jac=problem.jacobian, x_scale=span, method="lm")
            if np.isfinite(sol.cost) and (best is None or sol.cost < best.cost):
                best = sol
    return best.x if best is not None else np.asarray(guesses[0], dtype=np.float64)


def spiral_analyze(
    pos_cm: np.ndarray | None,
    sampling_rate: float,
    tip_force_n: np.ndarray | None = None,
    center: tuple[float, float] | str = SpiralParams.center,
    acc_ms2: np.ndarray | None = None,
    gyro_dps: np.ndarray | None = None,
    pen_down_threshold_n: float = SpiralParams.pen_down_threshold_n,
    band: tuple[float, float] = SpiralParams.band_hz,
    skip_inner_turns: float = SpiralParams.skip_inner_turns,
) -> SpiralResult:
    """Analyse one Archimedean spiral.

    Args:
        pos_cm: (n, 2) positions in cm, or None to reconstruct them from the IMU pen
            (``acc_ms2``, ``gyro_dps`` and ``tip_force_n``).
        sampling_rate: Hz.
        tip_force_n: optional tip force; samples at or below ``pen_down_threshold_n`` (N) are ignored.
        center: ``(x, y)`` in cm, ``"start"`` (first pen-down point) or ``"fit"`` (least-squares
            centre minimising the radial residual, best of starts at both ends and the centroid).
        band: tremor band (Hz) for the residual spectrum.
        skip_inner_turns: innermost revolutions left out of the fit and the residual metrics
            (the angle is ill-defined close to the centre).
    """
    fs = require_rate(sampling_rate)
    if pos_cm is None:
        if acc_ms2 is None or gyro_dps is None or tip_force_n is None:
            raise MotorlabError(
                "spiral_analyze needs pen positions, or accelerometer + gyroscope + tip force"
            )
        pos_cm = pen_trajectory_from_imu(acc_ms2, gyro_dps, tip_force_n, fs, max(pen_down_threshold_n, 0.0))
    pos = np.asarray(pos_cm, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] < 2:
        raise MotorlabError(f"pen positions must be an (n, 2) array, got shape {pos.shape}")
    pos = pos[:, :2].copy()
    if tip_force_n is not None:
        tip = np.asarray(tip_force_n, dtype=np.float64).reshape(-1)
        pos[~(np.nan_to_num(tip, nan=-np.inf) > pen_down_threshold_n)] = np.nan
    valid = np.all(np.isfinite(pos), axis=1)
    nan_result = SpiralResult(*([NAN] * 11))
    if np.count_nonzero(valid) < 10:
        warn("spiral_analyze: fewer than 10 pen-down samples; results are NaN")
        return nan_result
    pts = pos[valid]
    if isinstance(center, str):
        c = pts[0].copy()
        if center == "fit":
            c = _fit_center(pts, [pts[0], pts[-1], pts.mean(axis=0)])
        elif center != "start":
            raise MotorlabError(f"spiral centre must be 'fit', 'start' or (x, y), got {center!r}")
    else:
        c = np.asarray(center, dtype=np.float64)
    r_all, theta_all, _ = _polar(pts, c)
    if r_all.size < 10 or not np.ptp(theta_all) > 0:
        warn("spiral_analyze: trace does not turn around its centre; results are NaN")
        return nan_result
    n_loops = float(np.ptp(theta_all) / (2 * np.pi))
    # Near the centre a small wobble can pass around the centre point and flip the
    # angle by pi, so the innermost ``skip_inner_turns`` (radius below that many loop
    # spacings, spacing ~ r_max / loops) are left out and the angle is unwrapped afresh.
    radius = np.hypot(*(pts - c).T)
    r_inner = skip_inner_turns * float(radius.max()) / max(n_loops, 1.0)
    big = np.flatnonzero(radius >= r_inner)
    lo, hi = (int(big[0]), pts.shape[0]) if radius[-1] >= radius[0] else (0, int(big[-1]) + 1)
    r, theta, keep_part = _polar(pts[lo:hi], c)
    if r.size < 10:
        warn("spiral_analyze: too few samples outside the centre; results are NaN")
        return nan_result
    keep = np.zeros(pts.shape[0], bool)
    keep[lo:hi] = keep_part
    _a, b, resid = _fit_line(theta, r)
    dtheta = np.diff(theta)
    moving = np.abs(dtheta) > 1e-12
    dr_dtheta = float(np.mean(np.abs(np.diff(r)[moving] / dtheta[moving]))) if moving.any() else NAN
    # Residual as a time series (NaN where the pen was up) for the tremor spectrum.
    series = np.full(pos.shape[0], np.nan)
    idx = np.flatnonzero(valid)[keep]
    series[idx] = resid
    series = series[idx[0] : idx[-1] + 1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trem = tremor_analyze(series, fs, band=band, is_acceleration=False)
    if caught:
        warn("spiral_analyze: residual too short for a tremor spectrum; tremor fields are NaN")
    tremor_freq = trem.peak_freq_Hz if trem.rms > 1e-6 else NAN  # no measurable tremor
    path = float(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))
    duration = (pts.shape[0] - 1) / fs
    return SpiralResult(
        center_x_cm=float(c[0]),
        center_y_cm=float(c[1]),
        n_loops=n_loops,
        slope_b_cm_per_rad=abs(b),
        loop_spacing_cm=2 * np.pi * abs(b),
        mean_abs_dr_dtheta_cm_per_rad=dr_dtheta,
        radial_rms_error_cm=float(np.sqrt(np.mean(resid**2))),
        tremor_peak_freq_Hz=tremor_freq,
        tremor_rms_cm=trem.rms,
        duration_s=duration,
        mean_speed_cm_per_s=path / duration if duration > 0 else NAN,
    )
