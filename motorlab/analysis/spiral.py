"""Archimedean spiral drawing: loop spacing, radial regularity, tremor and smoothness of the trace.

The trace is "unravelled" into radius versus unwrapped angle around the spiral centre
(Pullman Spiral Analysis; centre detection reduces low-frequency artefacts, Wang et
al., J Neurosci Methods 171:264, 2008). An ideal Archimedean spiral is r = a + b*theta:

* centre: a closed-form algebraic circle fit (Kasa, IEEE Trans Instrum Meas 25:8, 1976)
  and the trace's inner end, each refined by Gauss-Newton on the spiral residual (variable
  projection, Golub & Pereyra 1973, exact Jacobian): the centre minimising the RMS of
  r - (a + b*theta);
* ``slope_b_cm_per_rad`` and ``loop_spacing_cm = 2*pi*b`` from the least-squares line;
* ``radial_rms_error_cm``: RMS of the residual r - (a + b*theta) (the innermost half turn,
  where the angle is ill-defined, is left out);
* ``mean_abs_dr_dtheta_cm_per_rad``: mean |dr/dtheta| (Lin et al., BMC Neurol 18:25, 2018)
  over fixed angular steps: the mean radius of the drawn curve over consecutive
  ``angle_step_deg`` bins of the unwrapped angle (integral of r dtheta over the bin, the
  curve piecewise linear between samples), and the mean |delta r| / step between bins. A
  mean of per-sample ratios (the former definition) divides by tiny, quantised angle steps
  and grows with the sampling rate (median 15x the fitted slope on the real UCI spirals);
  fixed angular steps give the same value at any rate and digitiser resolution (and b
  exactly for an ideal spiral). The step (20 degrees) is the smallest that keeps 0.05-cm
  quantisation within 2 % at 50-1000 Hz; tremor still raises the value (it follows the
  radius's oscillation between steps);
* tremor: spectrum of the residual over time; the same detection rule as
  :func:`~motorlab.analysis.tremor_analyze` (a genuine in-band peak above the fitted
  background), ``tremor_detected``, peak frequency (NaN without a peak) and band RMS (cm);
* smoothness per submovement: the trace low-passed at ``smooth_lowpass_hz`` is cut at the
  minima of its speed (ballistic submovements, prominence >= 10 % of the peak speed), and
  SPARC / LDLJ are taken per submovement and summarised by their median, with the number
  of submovements per revolution. Neither SPARC nor LDLJ is defined for a whole
  multi-second drawing (they are defined for discrete movements, Balasubramanian et al.
  2015; whole-drawing LDLJ mostly measures the drawing's duration).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import MotorlabError
from ..signal._checks import finite_runs, require_rate, warn
from ..signal.filter import signal_filter
from ..signal.imu import pen_trajectory_from_imu
from ..signal.segment import speed_minima
from ..signal.spectrum import median_1d
from .params import SmoothnessParams, SpiralParams, TremorParams
from .pen_path import pen_down_rule, pen_grid
from .smoothness import ldlj_segments, sparc_segments
from .tremor import tremor_analyze

NAN = float("nan")
TWO_PI = 2 * np.pi


@dataclass(frozen=True)
class SpiralResult:
    """Spiral metrics (lengths in cm, angles in rad).

    Attributes:
        center_x_cm, center_y_cm: spiral centre used.
        n_loops: revolutions drawn: the angle span of the trace outside the innermost
            ``skip_inner_turns``, plus the inner part counted on the fitted spiral (from its
            smallest radius to the outer part), where the angle is ill-defined.
        slope_b_cm_per_rad: fitted radial growth per radian (absolute value; inward spirals too).
        loop_spacing_cm: 2*pi*b, distance between successive loops.
        mean_abs_dr_dtheta_cm_per_rad: mean |dr/dtheta| over fixed angular steps.
        radial_rms_error_cm: RMS deviation from the fitted spiral.
        tremor_peak_freq_Hz: detected tremor peak of the residual spectrum (NaN without one).
        tremor_rms_cm: RMS of the band-passed residual (the band's activity, tremor or not).
        duration_s: drawing time on the surface (observed pen-down samples / fs).
        mean_speed_cm_per_s: path length of the low-passed trace / duration.
        tremor_detected: a genuine in-band peak stands out of the residual's background.
        tremor_peak_to_background: its PSD / fitted background (NaN without an in-band maximum).
        tremor_note: one line: the peak found, or why there is none.
        n_submovements: submovements (between speed minima) of the low-passed trace.
        submovements_per_loop: n_submovements / n_loops.
        sparc_median: median SPARC over submovements (more negative = less smooth).
        ldlj_median: median LDLJ of the velocity over submovements (more negative = less smooth).
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
    tremor_detected: bool = False
    tremor_peak_to_background: float = NAN
    tremor_note: str = ""
    n_submovements: int = 0
    submovements_per_loop: float = NAN
    sparc_median: float = NAN
    ldlj_median: float = NAN


def _nan_result(note: str) -> SpiralResult:
    nan = NAN
    return SpiralResult(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, tremor_note=note)


def _unwrap(phase: np.ndarray) -> np.ndarray:
    """``np.unwrap(phase)`` (same values, bit for bit) with the correction computed only at the
    steps of at least pi: a spiral trace has a few wraps among hundreds of samples."""
    dd = np.diff(phase)
    big = np.flatnonzero(np.abs(dd) >= np.pi)
    out = np.array(phase, dtype=np.float64, copy=True)
    if big.size:
        d = dd[big]
        ddmod = np.mod(d + np.pi, TWO_PI) - np.pi
        ddmod[(ddmod == -np.pi) & (d > 0)] = np.pi
        corr = np.zeros(dd.size)
        corr[big] = ddmod - d
        out[1:] += np.cumsum(corr)
    return out


def _polar(
    pos: np.ndarray, center: np.ndarray, drop_center: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radius, unwrapped angle (made increasing) and mask of samples used (off the centre)."""
    d = pos - center
    r = np.hypot(d[:, 0], d[:, 1])
    keep = r > 1e-9 if drop_center else np.ones(r.size, bool)
    theta = _unwrap(np.arctan2(d[keep, 1], d[keep, 0]))
    if theta.size > 1 and theta[-1] < theta[0]:
        theta = -theta  # clockwise spiral
    return r[keep], theta, keep


def _fit_line(theta: np.ndarray, r: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Least-squares line r = a + b*theta (centred normal equations): (a, b, residual)."""
    tm, rm = float(theta.mean()), float(r.mean())
    tc = theta - tm
    s_tt = float(tc @ tc)
    b = float(tc @ (r - rm)) / s_tt if s_tt > 0 else 0.0
    a = rm - b * tm
    return a, b, r - (a + b * theta)


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
    if f.r.all():
        inv_r = 1.0 / f.r
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_r = 1.0 / f.r
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


def algebraic_center(pts: np.ndarray) -> np.ndarray:
    """Closed-form centre of the best-fitting circle (Kasa 1976): least squares on
    x^2 + y^2 + D x + E y + F = 0, centre (-D/2, -E/2). Coordinates are centred first."""
    m = pts.mean(axis=0)
    x, y = (pts - m).T
    # x and y are centred, so the constant column is orthogonal to both and (D, E) solve the
    # 2 x 2 normal equations alone (the least-squares solution, without a general lstsq call)
    z = x * x + y * y
    sxx, sxy, syy = float(x @ x), float(x @ y), float(y @ y)
    sxz, syz = float(x @ z), float(y @ z)
    det = sxx * syy - sxy * sxy
    if not det > 1e-12 * max(sxx * syy, 1e-300):  # collinear or single point: rank-deficient
        design = np.column_stack([x, y, np.ones_like(x)])
        (d, e, _), *_ = np.linalg.lstsq(design, -z, rcond=None)
    else:
        d = -(syy * sxz - sxy * syz) / det
        e = -(sxx * syz - sxy * sxz) / det
    c = m + np.array([-d / 2.0, -e / 2.0])
    return c if np.all(np.isfinite(c)) else m


#: Gauss-Newton refinement of the centre (see :func:`_gauss_newton`); tolerances are fractions
#: of the drawing's extent
CENTRE_MAX_STEPS = 30
CENTRE_TOL = 1e-8
CENTRE_KINK_TOL = 1e-4
CENTRE_KINK_HALVINGS = 3
CENTRE_HALVINGS = 12


def _normal_step(jx: np.ndarray, jy: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Gauss-Newton step -(J'J)^-1 J'e for the two-column Jacobian (NaN if singular)."""
    a, b, d = float(jx @ jx), float(jx @ jy), float(jy @ jy)
    gx, gy = float(jx @ e), float(jy @ e)
    det = a * d - b * b
    if not det > 0:
        return np.array([np.nan, np.nan])
    return np.array([-(d * gx - b * gy) / det, -(a * gy - b * gx) / det])


def _gauss_newton(x: np.ndarray, y: np.ndarray, c: np.ndarray, span: float) -> tuple[np.ndarray, float]:
    """Gauss-Newton steps from ``c``: (centre, cost).

    A step that does not lower the cost is halved (at most ``CENTRE_HALVINGS`` times). Where
    the cost is smooth, full steps converge quadratically and the loop ends when a step is
    below ``CENTRE_TOL`` x ``span``. The cost has kinks where a sample passes around the centre
    (its unwrapped angle jumps by 2 pi); once a step had to be halved ``CENTRE_KINK_HALVINGS``
    times, or was halved and moved the centre by less than ``CENTRE_KINK_TOL`` x ``span``, the
    centre sits at such a kink and is kept.
    """
    fit = _radial_fit(x, y, float(c[0]), float(c[1]))
    if not np.isfinite(fit.cost):
        return c, np.inf
    for _ in range(CENTRE_MAX_STEPS):
        jx, jy = _radial_jacobian(fit)
        step = _normal_step(jx, jy, fit.e)
        s0, s1 = abs(float(step[0])), abs(float(step[1]))
        size = max(s0, s1) if math.isfinite(s0) and math.isfinite(s1) else 0.0
        if size < CENTRE_TOL * span:
            break
        halved = 0
        for halved in range(CENTRE_HALVINGS + 1):
            cand = c + step
            trial = _radial_fit(x, y, float(cand[0]), float(cand[1]))
            if math.isfinite(trial.cost) and trial.cost < fit.cost:
                break
            step = step * 0.5
        else:
            break
        moved = max(abs(float(step[0])), abs(float(step[1])))
        c, fit = cand, trial
        if halved >= CENTRE_KINK_HALVINGS or (halved and moved < CENTRE_KINK_TOL * span):
            break
    return c, fit.cost


def _outer_part(pts: np.ndarray, c: np.ndarray, skip_inner_turns: float) -> tuple[np.ndarray, float]:
    """The samples outside the innermost ``skip_inner_turns`` revolutions about ``c`` (radius below
    that many loop spacings, spacing ~ r_max / loops), as one contiguous stretch; and the loops."""
    d = pts - c
    radius = np.hypot(d[:, 0], d[:, 1])
    theta = _unwrap(np.arctan2(d[:, 1], d[:, 0]))
    n_loops = float(np.ptp(theta) / TWO_PI)
    r_inner = skip_inner_turns * float(radius.max()) / max(n_loops, 1.0)
    big = np.flatnonzero(radius >= r_inner)
    if big.size == 0:
        return pts, n_loops
    lo, hi = (int(big[0]), pts.shape[0]) if radius[-1] >= radius[0] else (0, int(big[-1]) + 1)
    return pts[lo:hi], n_loops


def _fit_center(pts: np.ndarray, skip_inner_turns: float = SpiralParams.skip_inner_turns) -> np.ndarray:
    """Centre minimising the radial residual of the samples outside the innermost turns.

    Two closed-form starts: the algebraic circle centre (:func:`algebraic_center`) and the
    trace's inner end (the end nearer that centre: a spiral starts or ends at its centre).
    The samples within ``skip_inner_turns`` of the algebraic centre are left out of the fit
    (as they are of the metrics): near the centre the angle is ill-defined and a sample
    passing around the centre puts a kink in the cost. Each start is refined by Gauss-Newton
    steps on the variable-projection residual with its exact Jacobian (:func:`_gauss_newton`)
    and the centre of lower cost is kept (on the real UCI spirals the inner-end start finds a
    far better centre for 1 of 148 drawings). About 4-8 residual evaluations per start.
    """
    alg = algebraic_center(pts)
    inner = min((pts[0], pts[-1]), key=lambda p: float(np.hypot(*(p - alg))))
    part, _ = _outer_part(pts, alg, skip_inner_turns)
    if part.shape[0] < 10:
        part = pts
    span = float(np.ptp(pts, axis=0).max()) or 1.0
    x, y = np.ascontiguousarray(part[:, 0]), np.ascontiguousarray(part[:, 1])
    with np.errstate(all="ignore"):
        best, best_cost = _gauss_newton(x, y, alg, span)
        c, cost = _gauss_newton(x, y, np.asarray(inner, dtype=np.float64), span)
        if cost < best_cost:
            best = c
    return best


#: weight of the drift coefficients in the IMU drift fit: a drift term of 1 cm costs as much as
#: a radial residual of this RMS (cm); it settles what the spiral alone leaves undecided
DRIFT_RIDGE_CM = 0.0


def remove_imu_drift(
    pos: np.ndarray,
    valid: np.ndarray,
    fs: float,
    degree: int,
    skip_inner_turns: float = SpiralParams.skip_inner_turns,
) -> np.ndarray:
    """Pen positions integrated from an IMU with their integration drift fitted jointly with the spiral.

    Double integration leaves a position error that, within a pen-down stretch, is a smooth
    function of time: accelerometer noise and residual tilt give an integrated random walk,
    and a pen that still moves at touch-down (tremor) breaks the zero-velocity update at the
    ends with a ramp. Its lowest-order polynomial terms hold most of it. The drawing itself is
    a spiral about a fixed centre, drawn from the centre outward (as the protocol asks), and
    the drift is zero at the first sample (integration starts there), so the first pen-down
    sample is the centre. A polynomial drift of ``degree`` in time (no constant term) is
    fitted by least squares on the spiral's radial residual r - (a + b*theta) about that
    centre (a and b eliminated by variable projection, as in :func:`_fit_center`) over the
    samples outside the innermost ``skip_inner_turns`` (MINPACK Levenberg-Marquardt,
    ``scipy.optimize.least_squares``). With a free centre the fit trades drift for the
    intercept a and misplaces the start by up to 0.8 cm. The cost has kinks where a sample
    passes around the centre, so it starts from no drift and from the polynomial part of the
    whole trace, each with all degrees at once and degree by degree, and keeps the lowest
    cost. Returns a copy of ``pos`` with the drift removed from the ``valid`` samples. On the
    emulated IMU pen (200 Hz, 0.02 m/s^2 and 0.1 deg/s white noise) a cubic in time leaves
    about 0.03 cm of a 0.3-0.7 cm RMS error.
    """
    from scipy.optimize import least_squares

    idx = np.flatnonzero(valid)
    out = np.array(pos, dtype=np.float64, copy=True)
    degree = int(degree)
    if degree <= 0 or idx.size < 10 * (degree + 1):
        return out
    pts = out[idx, :2]
    t = (idx - idx[0]) / fs
    powers = np.vander(t / max(float(t[-1]), 1.0 / fs), degree + 1, increasing=True)[:, 1:]  # t, t^2...
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(t.size), powers]), pts, rcond=None)
    # the drawing starts at its centre (drawn outward, as the protocol asks) and the drift is
    # zero at the first sample (integration starts there): the centre is the first sample
    c = pts[0]
    best: tuple[float, np.ndarray] | None = None
    for start in (np.zeros((degree, 2)), coef[1:]):
        q = pts - powers @ start
        d = q - c
        radius = np.hypot(d[:, 0], d[:, 1])
        n_loops = float(np.ptp(np.unwrap(np.arctan2(d[:, 1], d[:, 0])))) / TWO_PI
        outer = radius >= skip_inner_turns * float(radius.max()) / max(n_loops, 1.0)
        if np.count_nonzero(outer) < 10 * (degree + 1):
            continue
        p_o, b_o = pts[outer], powers[outer]
        # all degrees at once, and degree by degree (each from the last one's solution); the
        # cost has kinks where a sample passes around the centre, so the lowest end point is kept
        for first in (degree, 1):
            x = start[: first - 1]
            for k in range(first, degree + 1):

                def residual(
                    params: np.ndarray, k: int = k, p_o: np.ndarray = p_o, b_o: np.ndarray = b_o
                ) -> np.ndarray:
                    q = p_o - b_o[:, :k] @ params.reshape(k, 2)
                    return _radial_fit(q[:, 0], q[:, 1], float(c[0]), float(c[1])).e

                x0 = np.vstack([x, start[len(x) : k]])
                try:
                    with np.errstate(all="ignore"):
                        fit = least_squares(residual, x0.reshape(-1), method="lm")
                except ValueError:  # a residual that is not finite (a degenerate trace): no drift fit
                    break
                x = fit.x.reshape(k, 2)
            else:
                if np.all(np.isfinite(x)) and (best is None or fit.cost < best[0]):
                    best = (float(fit.cost), x)
    if best is not None:
        out[idx, :2] = pts - powers @ best[1]
    return out


def dr_dtheta_fixed_steps(r: np.ndarray, theta: np.ndarray, step_rad: float) -> float:
    """Mean |delta r / delta theta| over fixed angular steps (cm/rad).

    The trace r(theta) is taken as piecewise linear between samples (angle made non-decreasing:
    a stretch where the pen turns back adds no angle); its mean radius over each complete bin of
    ``step_rad`` is the integral of r dtheta over the bin / ``step_rad`` (trapezoids); the result
    is the mean of |mean_{k+1} - mean_k| / ``step_rad``. It depends on the drawn curve only, not
    on how densely it was sampled; for r = a + b*theta it is exactly |b|.
    """
    th = np.maximum.accumulate(theta)
    if th.size < 2 or not th[-1] - th[0] > 2 * step_rad:
        return NAN
    area = np.concatenate(([0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(th))))
    edges = th[0] + step_rad * np.arange(int(np.floor((th[-1] - th[0]) / step_rad)) + 1)
    # exact integral of the piecewise-linear curve up to each bin edge
    k = np.clip(np.searchsorted(th, edges, side="right") - 1, 0, th.size - 1)
    r_edge = np.interp(edges, th, r)
    at = area[k] + (edges - th[k]) * 0.5 * (r[k] + r_edge)
    means = np.diff(at) / step_rad
    return float(np.mean(np.abs(np.diff(means)))) / step_rad


def _lowpassed(pos: np.ndarray, valid: np.ndarray, fs: float, lowpass_hz: float) -> np.ndarray:
    """The pen-down trace low-passed (zero-phase, 4th order) at ``lowpass_hz`` (at most 0.4 fs);
    NaN where the pen was up or not observed."""
    return signal_filter(np.where(valid[:, None], pos, np.nan), fs, highcut=min(lowpass_hz, 0.4 * fs))


def _finite_median(v: np.ndarray) -> float:
    """``np.nanmedian(v)`` if any value of ``v`` is finite, else NaN (one mask, no nan-aware copy)."""
    if not np.isfinite(v).any():
        return NAN
    known = ~np.isnan(v)
    return median_1d(v if known.all() else v[known])


def _submovement_smoothness(
    sm: np.ndarray, fs: float, ps: SmoothnessParams
) -> tuple[int, float, float, float]:
    """(n submovements, median SPARC, median LDLJ, path length) of the low-passed trace ``sm``."""
    ok = np.all(np.isfinite(sm), axis=1)
    # filled per finite run below; outside the runs no segment reads them (finite placeholders)
    vel = np.zeros_like(sm)
    speed = np.zeros(sm.shape[0])
    bounds: list[tuple[int, int]] = []
    path = 0.0
    for a, b in finite_runs(ok):
        if b - a < 4:
            continue
        vel[a:b] = np.gradient(sm[a:b], 1.0 / fs, axis=0)  # one-sided at the run's ends
        speed[a:b] = np.hypot(vel[a:b, 0], vel[a:b, 1])
        path += float(np.sum(np.hypot(*np.diff(sm[a:b], axis=0).T)))
        cuts = np.rint(speed_minima(speed[a:b], fs, ps.peak_prominence_frac) * fs).astype(np.int64)
        edges = [0, *cuts.tolist(), b - a - 1]
        bounds.extend((a + s0, a + s1 + 1) for s0, s1 in itertools.pairwise(edges) if s1 - s0 >= 3)
    if not bounds:
        return 0, NAN, NAN, path
    with np.errstate(all="ignore"):
        sparcs = sparc_segments(speed, bounds, fs, ps.sparc_padlevel, ps.sparc_fc_hz, ps.sparc_amp_th)
        ldljs = ldlj_segments(vel, bounds, fs)
    med_s, med_l = _finite_median(sparcs), _finite_median(ldljs)
    return len(bounds), med_s, med_l, path


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
    *,
    pen_down: np.ndarray | None = None,
    timestamps_s: np.ndarray | None = None,
    angle_step_deg: float = SpiralParams.angle_step_deg,
    smooth_lowpass_hz: float = SpiralParams.smooth_lowpass_hz,
    detection_ratio: float = TremorParams.detection_ratio,
    detection_alpha: float = TremorParams.detection_alpha,
    smoothness: SmoothnessParams | None = None,
    drift_degree: int | None = None,
) -> SpiralResult:
    """Analyse one Archimedean spiral (see the module docstring for every metric).

    Args:
        pos_cm: (n, 2) positions in cm, or None to reconstruct them from the IMU pen
            (``acc_ms2``, ``gyro_dps`` and ``tip_force_n``, uniform samples).
        sampling_rate: Hz (the grid's rate when ``timestamps_s`` is given).
        tip_force_n: optional tip force (N); the pen is down while it is above
            ``pen_down_threshold_n`` (unless ``pen_down`` is given).
        center: ``(x, y)`` in cm, ``"start"`` (first pen-down point) or ``"fit"``.
        band: tremor band (Hz) for the residual spectrum.
        skip_inner_turns: innermost revolutions left out of the fit and the residual metrics.
        pen_down: (n,) pen-on-surface state of each sample (a tip switch, or ``pressure > 0``);
            overrides the tip-force rule.
        timestamps_s: (n,) sample times (s) of irregular samples: they are put on the uniform grid
            exactly as :func:`~motorlab.analysis.pen_path` does (gaps stay gaps, time never sorted),
            so a direct call on a recording's samples equals :func:`~motorlab.analysis.analyze_recording`.
        angle_step_deg: angular step of mean |dr/dtheta| (degrees).
        smooth_lowpass_hz: low-pass before speed, submovements and path length (Hz).
        detection_ratio, detection_alpha: the tremor detection rule (:func:`~motorlab.analysis.tremor_analyze`).
        smoothness: SPARC settings and the submovement prominence (default :class:`SmoothnessParams`).
        drift_degree: positions integrated from an IMU pen: the degree of the integration drift
            (a polynomial in time) fitted jointly with the spiral and removed first
            (:func:`remove_imu_drift`); 0 = none. Default: ``SpiralParams.imu_drift_degree`` when
            the positions are reconstructed here from the IMU (``pos_cm`` None), else 0.
    """
    fs = require_rate(sampling_rate)
    ps = smoothness or SmoothnessParams()
    if pos_cm is None:
        if acc_ms2 is None or gyro_dps is None or tip_force_n is None:
            raise MotorlabError(
                "spiral_analyze needs pen positions, or accelerometer + gyroscope + tip force"
            )
        pos_cm = pen_trajectory_from_imu(acc_ms2, gyro_dps, tip_force_n, fs, max(pen_down_threshold_n, 0.0))
        if drift_degree is None:
            drift_degree = SpiralParams.imu_drift_degree
    pos = np.asarray(pos_cm, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] < 2:
        raise MotorlabError(f"pen positions must be an (n, 2) array, got shape {pos.shape}")
    state, _ = pen_down_rule(pen_down, None, tip_force_n, pen_down_threshold_n)
    if timestamps_s is not None:
        _, pos, _, down, _, _ = pen_grid(timestamps_s, pos, fs, state)
    else:
        pos = pos[:, :2]
        down = np.all(np.isfinite(pos), axis=1)
        if state is not None:
            if state.size != pos.shape[0]:
                raise MotorlabError(f"pen state has {state.size} samples but positions have {pos.shape[0]}")
            down &= state
    # without timestamps ``down`` already excludes non-finite positions
    valid = down if timestamps_s is None else down & np.all(np.isfinite(pos), axis=1)
    if np.count_nonzero(valid) < 10:
        warn("spiral_analyze: fewer than 10 pen-down samples; results are NaN")
        return _nan_result("fewer than 10 pen-down samples")
    if drift_degree:
        pos = remove_imu_drift(pos, valid, fs, drift_degree, skip_inner_turns)
    pts = pos[valid]
    if isinstance(center, str):
        if center == "fit":
            c = _fit_center(pts, skip_inner_turns)
        elif center == "start":
            c = pts[0].copy()
        else:
            raise MotorlabError(f"spiral centre must be 'fit', 'start' or (x, y), got {center!r}")
    else:
        c = np.asarray(center, dtype=np.float64)
    r_all, theta_all, _ = _polar(pts, c)
    if r_all.size < 10 or not np.ptp(theta_all) > 0:
        warn("spiral_analyze: trace does not turn around its centre; results are NaN")
        return _nan_result("the trace does not turn around its centre")
    n_loops = float(np.ptp(theta_all) / TWO_PI)
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
        return _nan_result("too few samples outside the centre")
    keep = np.zeros(pts.shape[0], bool)
    keep[lo:hi] = keep_part
    a_fit, b, resid = _fit_line(theta, r)
    inner = np.ones(pts.shape[0], bool)
    inner[lo:hi] = False
    if inner.any() and abs(b) > 0:
        # revolutions = the outer part's angle span + the inner part counted on the fitted spiral,
        # from its smallest radius to the outer part's start (the angle there is ill-defined)
        r_junction = min(a_fit + b * float(theta.min()), a_fit + b * float(theta.max()))
        n_loops = float(np.ptp(theta)) / TWO_PI + max(r_junction - float(radius[inner].min()), 0.0) / (
            TWO_PI * abs(b)
        )
    sm = _lowpassed(pos, valid, fs, smooth_lowpass_hz)
    dr_dtheta = dr_dtheta_fixed_steps(r, theta, np.deg2rad(angle_step_deg))
    # Residual as a time series (NaN where the pen was up or not observed) for the tremor spectrum.
    idx = np.flatnonzero(valid)[keep]
    series = np.full(idx[-1] - idx[0] + 1, np.nan)
    series[idx - idx[0]] = resid
    trem = tremor_analyze(
        series,
        fs,
        band=band,
        is_acceleration=False,
        detection_ratio=detection_ratio,
        detection_alpha=detection_alpha,
    )
    n_sub, sparc_med, ldlj_med, path = _submovement_smoothness(sm, fs, ps)
    duration = np.count_nonzero(valid) / fs
    return SpiralResult(
        center_x_cm=float(c[0]),
        center_y_cm=float(c[1]),
        n_loops=n_loops,
        slope_b_cm_per_rad=abs(b),
        loop_spacing_cm=TWO_PI * abs(b),
        mean_abs_dr_dtheta_cm_per_rad=dr_dtheta,
        radial_rms_error_cm=float(np.sqrt(np.mean(resid**2))),
        tremor_peak_freq_Hz=trem.peak_freq_Hz,
        tremor_rms_cm=trem.rms,
        duration_s=duration,
        mean_speed_cm_per_s=path / duration if duration > 0 else NAN,
        tremor_detected=trem.tremor_detected,
        tremor_peak_to_background=trem.peak_to_background,
        tremor_note=trem.note,
        n_submovements=n_sub,
        submovements_per_loop=n_sub / n_loops if n_loops > 0 else NAN,
        sparc_median=sparc_med,
        ldlj_median=ldlj_med,
    )
