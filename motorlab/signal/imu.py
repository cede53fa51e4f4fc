"""Orientation, gravity removal and pen-tip trajectory from an IMU.

Orientation comes from a complementary filter (Mahony-style tilt correction):
the gyroscope is integrated with ``scipy.spatial.transform.Rotation`` and the
estimate is pulled towards the tilt implied by the accelerometer whenever the
measured magnitude is close to 1 g. Heading (yaw) is not observable without a
magnetometer: the world frame is the device's heading at the first sample.

World frame: z up; gravity in the world frame is ``(0, 0, -g)``; an
accelerometer at rest measures ``+g`` along the axis pointing up.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.spatial.transform import Rotation

from ..errors import MotorlabError
from ..units import STANDARD_GRAVITY
from ._checks import require_rate, warn
from .segment import segment_pen_down

#: complementary-filter tilt correction gain, rad/s per rad of tilt error (time constant ~3 s)
TILT_GAIN = 0.3


def _tilt_from_acc(acc: np.ndarray) -> Rotation:
    """Rotation device->world that maps the measured specific force onto +z (yaw 0)."""
    up = acc / np.linalg.norm(acc)
    rot, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [up])
    # Remove the yaw that align_vectors may introduce: keep heading of device x-axis.
    x_world = rot.apply([1.0, 0.0, 0.0])
    yaw = np.arctan2(x_world[1], x_world[0])
    return Rotation.from_euler("z", -yaw) * rot


def imu_orientation(
    acc_ms2: np.ndarray,
    gyro_dps: np.ndarray,
    sampling_rate: float,
    tilt_gain: float = TILT_GAIN,
    accept_g: float = 0.03,
    trust_acc: np.ndarray | None = None,
) -> Rotation:
    """Device-to-world orientation per sample (complementary filter).

    Args:
        acc_ms2: (n, 3) accelerometer, m/s^2, gravity included.
        gyro_dps: (n, 3) gyroscope, deg/s, device frame.
        sampling_rate: Hz.
        tilt_gain: correction gain in rad/s per rad of tilt error (time constant 1/gain s).
        accept_g: accelerometer samples are used for correction only when | |a| - g | < accept_g * g.
        trust_acc: optional (n,) mask of the samples whose accelerometer may correct the tilt at
            all (e.g. the pen is off the paper). The magnitude test cannot see a horizontal
            acceleration (0.3 m/s^2 changes |a| by 0.005 m/s^2), and pulling the tilt towards a
            moving pen's specific force bends the integrated path.

    Returns:
        A :class:`scipy.spatial.transform.Rotation` holding n rotations.
    """
    fs = require_rate(sampling_rate)
    acc = np.asarray(acc_ms2, dtype=np.float64)
    gyro = np.deg2rad(np.asarray(gyro_dps, dtype=np.float64))
    if acc.ndim != 2 or acc.shape[1] != 3 or gyro.shape != acc.shape:
        raise MotorlabError(
            f"IMU data must be (n, 3) accelerometer and gyroscope arrays, got {acc.shape} and {gyro.shape}"
        )
    n = acc.shape[0]
    if n == 0:
        return Rotation.identity(0)
    if not (np.isfinite(gyro).all() and np.isfinite(acc).all()):
        raise MotorlabError(
            "IMU orientation needs finite accelerometer and gyroscope samples (fill gaps first)"
        )
    dt = 1.0 / fs
    omega = 0.5 * (gyro[:-1] + gyro[1:])  # rad/s, mean rate over each sample interval
    norm = np.linalg.norm(acc[1:], axis=1)
    use_acc = np.abs(norm - STANDARD_GRAVITY) < accept_g * STANDARD_GRAVITY
    if trust_acc is not None:
        use_acc &= np.asarray(trust_acc, dtype=bool).reshape(-1)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_acc = acc[1:] / norm[:, None]
    quats = np.empty((n, 4))
    quats[0] = _tilt_from_acc(acc[0]).as_quat()
    quats[1:] = _integrate_orientation(
        tuple(quats[0]), omega.tolist(), unit_acc.tolist(), use_acc.tolist(), dt, tilt_gain
    )
    return Rotation.from_quat(quats)


def _integrate_orientation(
    q0: tuple[float, float, float, float],
    omega: list[list[float]],
    unit_acc: list[list[float]],
    use_acc: list[bool],
    dt: float,
    tilt_gain: float,
) -> list[tuple[float, float, float, float]]:
    """The complementary-filter recursion of :func:`imu_orientation` on plain floats.

    Quaternions are scalar-last (x, y, z, w) like scipy's. Each step: the predicted
    'up' in the device frame is the third row of the rotation matrix of q; when the
    accelerometer is trusted, ``tilt_gain * cross(a/|a|, up)`` is added to the rate;
    then q <- q * exp(omega * dt / 2) (Hamilton product, the same composition as
    ``q * Rotation.from_rotvec(omega * dt)``; scipy's small-angle series below 1e-3 rad).
    Written out on floats because the recursion cannot be vectorised and scipy's
    per-sample Rotation objects cost ~50 us each.
    """
    x, y, z, w = q0
    out: list[tuple[float, float, float, float]] = []
    append = out.append
    for (ox, oy, oz), (ax, ay, az), trusted in zip(omega, unit_acc, use_acc):
        if trusted:
            ux = 2.0 * (x * z - w * y)
            uy = 2.0 * (y * z + w * x)
            uz = 1.0 - 2.0 * (x * x + y * y)
            ox += tilt_gain * (ay * uz - az * uy)
            oy += tilt_gain * (az * ux - ax * uz)
            oz += tilt_gain * (ax * uy - ay * ux)
        vx, vy, vz = ox * dt, oy * dt, oz * dt
        angle = math.sqrt(vx * vx + vy * vy + vz * vz)
        if angle <= 1e-3:
            a2 = angle * angle
            scale = 0.5 - a2 / 48.0 + a2 * a2 / 3840.0
        else:
            scale = math.sin(0.5 * angle) / angle
        bx, by, bz, bw = vx * scale, vy * scale, vz * scale, math.cos(0.5 * angle)
        x, y, z, w = (
            w * bx + x * bw + y * bz - z * by,
            w * by - x * bz + y * bw + z * bx,
            w * bz + x * by - y * bx + z * bw,
            w * bw - x * bx - y * by - z * bz,
        )
        append((x, y, z, w))
    return out


def imu_linear_acceleration(
    acc_ms2: np.ndarray,
    gyro_dps: np.ndarray,
    sampling_rate: float,
    tilt_gain: float = TILT_GAIN,
    gravity: float = STANDARD_GRAVITY,
    trust_acc: np.ndarray | None = None,
) -> np.ndarray:
    """World-frame acceleration without gravity (m/s^2), (n, 3); ``trust_acc`` as in :func:`imu_orientation`."""
    rot = imu_orientation(acc_ms2, gyro_dps, sampling_rate, tilt_gain, trust_acc=trust_acc)
    world = rot.apply(np.asarray(acc_ms2, dtype=np.float64))
    world[:, 2] -= gravity
    return world


def _integrate_zero_velocity(acc: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Velocity and displacement of one segment that starts and ends at rest.

    Velocity is integrated with the trapezoid rule and its linear drift is removed
    so that it is zero at both ends (zero-velocity update); displacement is the
    integral of the corrected velocity, starting at zero.
    """
    vel = cumulative_trapezoid(acc, dx=dt, axis=0, initial=0.0)
    if acc.shape[0] > 1:
        ramp = np.linspace(0.0, 1.0, acc.shape[0])[:, None]
        vel = vel - ramp * vel[-1]
    pos = cumulative_trapezoid(vel, dx=dt, axis=0, initial=0.0)
    return vel, pos


def _bridge_gaps(x: np.ndarray, what: str) -> np.ndarray:
    """Linear interpolation over rows with a non-finite value (a link gap) of (n, 3) ``x``,
    with a warning: the orientation recursion cannot run through them. Raises if no row is finite."""
    ok = np.all(np.isfinite(x), axis=1)
    if ok.all():
        return x
    if not ok.any():
        raise MotorlabError(f"{what} has no finite sample")
    warn(f"pen trajectory: {int(np.count_nonzero(~ok))} {what} samples missing; bridged linearly")
    idx = np.arange(x.shape[0])
    out = x.copy()
    for col in out.T:
        col[~ok] = np.interp(idx[~ok], idx[ok], col[ok])
    return out


def pen_trajectory_from_imu(
    acc_ms2: np.ndarray,
    gyro_dps: np.ndarray,
    tip_force_n: np.ndarray,
    sampling_rate: float,
    pen_down_threshold_n: float,
    tilt_gain: float = TILT_GAIN,
) -> np.ndarray:
    """Pen-tip trajectory in the writing plane (cm), (n, 2), from IMU and tip force.

    ``pen_down_threshold_n`` (N): the pen touches the paper while the tip force is strictly
    above it (the analysis passes ``HandwritingParams``/``SpiralParams.pen_down_threshold_n``).
    Gap policy: missing IMU samples (NaN rows, e.g. a link gap) are bridged linearly with a
    warning, because the orientation recursion must run through them; missing tip force
    counts as pen up (a gap inside a stroke splits it into two integration pieces).

    Steps: orientation by complementary filter (:func:`imu_orientation`; the accelerometer
    corrects the tilt only while the pen is off the paper, see ``trust_acc``), gravity
    removed in the world frame, then double integration piecewise between pen
    contacts and lifts, assuming the pen is momentarily at rest at each touch-down
    and lift-off (zero-velocity update with linear velocity-drift removal). The
    pieces are chained so the trajectory is continuous; the first sample is (0, 0).
    The IMU is assumed to sit at the tip (lever-arm effects are ignored).
    """
    fs = require_rate(sampling_rate)
    acc = _bridge_gaps(np.asarray(acc_ms2, dtype=np.float64), "accelerometer")
    gyro = _bridge_gaps(np.asarray(gyro_dps, dtype=np.float64), "gyroscope")
    tip = np.nan_to_num(np.asarray(tip_force_n, dtype=np.float64), nan=0.0)
    n = acc.shape[0]
    if tip.shape != (n,):
        raise MotorlabError(f"tip force has shape {tip.shape}, expected ({n},)")
    # the tilt is corrected from the accelerometer only while the pen is off the paper: on the
    # paper it moves, and its horizontal acceleration would be taken for tilt
    lin = imu_linear_acceleration(acc, gyro, fs, tilt_gain, trust_acc=~(tip > pen_down_threshold_n))
    bounds = {0, n}
    for a, b in segment_pen_down(tip, fs, pen_down_threshold_n):
        bounds.update((a, b))
    edges = sorted(bounds)
    pos = np.zeros((n, 3))
    dt = 1.0 / fs
    origin = np.zeros(3)
    for a, b in itertools.pairwise(edges):
        # include the boundary sample so consecutive pieces join
        stop = min(b + 1, n)
        _, p = _integrate_zero_velocity(lin[a:stop], dt)
        pos[a:stop] = origin + p
        origin = pos[stop - 1].copy()
    return pos[:, :2] * 100.0
