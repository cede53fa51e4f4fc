"""Handwriting kinematics from pen-tip positions (tablet) or an IMU pen.

Segmentation follows MovAlyzeR's default: strokes are delimited by zero
crossings of the vertical velocity (``np.gradient(y, 1/fs)``), located by
linear interpolation, inside each pen-down interval; complete strokes lie between two
crossings (neuroscript.net/help/segmentation.html). A touch-down or lift-off where the pen
is at rest (speed at most ``REST_SPEED_FRAC`` of the piece's peak speed) also bounds a stroke:
MovAlyzeR keeps the first and last segment of a trial when the velocity there is close to
zero (neuroscript.net/help/experimentsettings_processing_segmentation.html), so a stroke
from a touch-down to the first turning point counts, while a piece cut mid-movement does not.
NIV (number of inversions in velocity) per stroke counts sign changes of the
derivative of absolute speed within the stroke, samples ``ceil(t_start*fs) ..
floor(t_end*fs)``; an ideal single-peaked stroke has NIV 1 (CSWin "automation").
In-air time is the time the tip force is at or below the pen-down threshold
(ComPET, Rosenblum 2004).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import MotorlabError
from ..signal._checks import finite_runs, require_rate, warn
from ..signal.filter import signal_filter
from ..signal.imu import pen_trajectory_from_imu
from ..signal.segment import segment_pen_down, vertical_velocity_crossings
from .params import HandwritingParams

NAN = float("nan")
#: a piece's start/end bounds a stroke when the speed there is at most this fraction of its peak speed
REST_SPEED_FRAC = 0.2


@dataclass(frozen=True)
class Stroke:
    """One stroke between two vertical-velocity zero crossings (times in s, lengths in cm)."""

    start_s: float
    end_s: float
    duration_s: float
    length_cm: float
    vertical_size_cm: float
    niv: int


@dataclass(frozen=True)
class HandwritingResult:
    """Handwriting metrics (means are over complete strokes).

    Attributes:
        n_strokes: complete strokes.
        n_segmentation_points: vertical-velocity zero crossings found on the surface.
        stroke_duration_s, stroke_length_cm, stroke_vertical_size_cm: means per stroke.
        niv_per_stroke: mean number of velocity inversions per stroke.
        writing_speed_cm_per_s: on-surface path length / on-surface time.
        n_pen_lifts: lifts between pen-down intervals.
        on_surface_time_s, in_air_time_s: time with tip force above / at or below the threshold.
        in_air_ratio: in-air samples / all samples.
        tip_force_mean_N, tip_force_cv_pct: tip force over pen-down samples (mean, SD/mean x 100).
        strokes: per-stroke details.
    """

    n_strokes: int
    n_segmentation_points: int
    stroke_duration_s: float
    stroke_length_cm: float
    stroke_vertical_size_cm: float
    niv_per_stroke: float
    writing_speed_cm_per_s: float
    n_pen_lifts: int
    on_surface_time_s: float
    in_air_time_s: float
    in_air_ratio: float
    tip_force_mean_N: float
    tip_force_cv_pct: float
    strokes: tuple[Stroke, ...]


def _interp_pos(pos: np.ndarray, fs: float, t: float) -> np.ndarray:
    i = t * fs
    k = int(np.clip(np.floor(i), 0, pos.shape[0] - 2))
    w = i - k
    return pos[k] * (1 - w) + pos[k + 1] * w


def _niv(speed: np.ndarray) -> int:
    """Sign changes of the first difference of speed (zero differences are skipped)."""
    d = np.sign(np.diff(speed))
    d = d[d != 0]
    return int(np.count_nonzero(d[1:] != d[:-1])) if d.size > 1 else 0


def segment_strokes(
    pos_cm: np.ndarray, sampling_rate: float, start_index: int = 0, rest_ends: bool = False
) -> tuple[list[Stroke], int]:
    """Complete strokes of one continuous pen-down piece of (n, 2) positions (cm).

    Returns the strokes (times relative to sample 0 of the whole recording, i.e.
    ``start_index`` is added) and the number of zero crossings found. With ``rest_ends``
    the piece's first and last samples are stroke boundaries too when the pen is at rest
    there (a touch-down and a lift-off; see the module docstring).
    """
    fs = require_rate(sampling_rate)
    pos = np.asarray(pos_cm, dtype=np.float64)
    if pos.shape[0] < 3:
        return [], 0
    crossings = vertical_velocity_crossings(pos[:, 1], fs)
    speed = np.hypot(np.gradient(pos[:, 0]), np.gradient(pos[:, 1]))
    bounds = crossings
    if rest_ends and speed.max() > 0:
        still = REST_SPEED_FRAC * float(speed.max())
        last = (pos.shape[0] - 1) / fs
        # the pen at rest after touch-down and before lift-off makes no stroke: vertical-velocity
        # crossings there are noise (of an IMU pen's integration above all), not stroke ends
        moving = np.flatnonzero(speed > still)
        crossings = crossings[(crossings >= moving[0] / fs) & (crossings <= moving[-1] / fs)]
        head = [0.0] if speed[0] <= still and (crossings.size == 0 or crossings[0] > 0) else []
        tail = [last] if speed[-1] <= still and (crossings.size == 0 or crossings[-1] < last) else []
        bounds = np.concatenate([head, crossings, tail])
    strokes = []
    for t0, t1 in itertools.pairwise(bounds):
        i0, i1 = int(np.ceil(t0 * fs - 1e-9)), int(np.floor(t1 * fs + 1e-9))
        p0, p1 = _interp_pos(pos, fs, t0), _interp_pos(pos, fs, t1)
        path = np.vstack([p0, pos[i0 : i1 + 1], p1])
        strokes.append(
            Stroke(
                start_s=t0 + start_index / fs,
                end_s=t1 + start_index / fs,
                duration_s=t1 - t0,
                length_cm=float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1))),
                vertical_size_cm=float(abs(p1[1] - p0[1])),
                niv=_niv(speed[i0 : i1 + 1]),
            )
        )
    return strokes, int(crossings.size)


def handwriting_analyze(
    pos_cm: np.ndarray | None,
    tip_force_n: np.ndarray | None,
    sampling_rate: float,
    acc_ms2: np.ndarray | None = None,
    gyro_dps: np.ndarray | None = None,
    pen_down_threshold_n: float = HandwritingParams.pen_down_threshold_n,
    lowpass_hz: float | None = HandwritingParams.lowpass_hz,
    *,
    pen_down: np.ndarray | None = None,
) -> HandwritingResult:
    """Stroke, speed, pen-lift and pressure metrics of a handwriting sample.

    Args:
        pos_cm: (n, 2) pen-tip positions in cm (x to the right, y up the page), or None
            to reconstruct them from ``acc_ms2``/``gyro_dps`` with
            :func:`motorlab.signal.pen_trajectory_from_imu`.
        tip_force_n: (n,) tip force in N (or any pressure scale); None = always on the surface.
        sampling_rate: Hz.
        pen_down_threshold_n: the pen is down while tip force is strictly above this.
        lowpass_hz: optional zero-phase low-pass of positions before segmentation.
        pen_down: (n,) pen-on-surface state (tip switch, or tablet ``pressure > 0``); overrides the
            tip-force rule. Touch-downs and lift-offs (from either) bound strokes where the pen is
            at rest; without any pen state the samples are one piece cut anywhere.
    """
    fs = require_rate(sampling_rate)
    if pos_cm is None:
        if acc_ms2 is None or gyro_dps is None or tip_force_n is None:
            raise MotorlabError(
                "handwriting_analyze needs pen positions, or accelerometer + gyroscope + tip force"
            )
        pos_cm = pen_trajectory_from_imu(acc_ms2, gyro_dps, tip_force_n, fs, max(pen_down_threshold_n, 0.0))
    pos = np.asarray(pos_cm, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] < 2:
        raise MotorlabError(f"pen positions must be an (n, 2) array, got shape {pos.shape}")
    pos = pos[:, :2]
    n = pos.shape[0]
    tip = None if tip_force_n is None else np.asarray(tip_force_n, dtype=np.float64).reshape(-1)
    if tip is not None and tip.size != n:
        raise MotorlabError(f"tip force has {tip.size} samples but positions have {n}")
    if lowpass_hz is not None:
        pos = signal_filter(pos, fs, highcut=lowpass_hz)
    has_state = pen_down is not None or tip is not None
    if pen_down is not None:
        down = np.nan_to_num(np.asarray(pen_down, dtype=np.float64).reshape(-1), nan=0.0) > 0.5
        if down.size != n:
            raise MotorlabError(f"pen state has {down.size} samples but positions have {n}")
    elif tip is not None:
        down = np.zeros(n, bool)
        for a, b in segment_pen_down(tip, fs, pen_down_threshold_n):
            down[a:b] = True
    else:
        down = np.ones(n, bool)
    pieces = finite_runs(down & np.all(np.isfinite(pos), axis=1))
    strokes: list[Stroke] = []
    n_points = 0
    path_on_surface = 0.0
    for a, b in pieces:
        s, k = segment_strokes(pos[a:b], fs, a, rest_ends=has_state)
        strokes.extend(s)
        n_points += k
        path_on_surface += float(np.sum(np.linalg.norm(np.diff(pos[a:b], axis=0), axis=1)))
    on_time = np.count_nonzero(down) / fs
    in_air = n - np.count_nonzero(down)
    if tip is not None and np.any(down):
        tf = tip[down]
        tip_mean = float(np.nanmean(tf))
        tip_cv = float(np.nanstd(tf, ddof=1) / tip_mean * 100.0) if tf.size > 1 and tip_mean != 0 else NAN
    else:
        tip_mean = tip_cv = NAN
    if not strokes:
        warn("handwriting_analyze: no complete stroke found; stroke metrics are NaN")

    def mean_of(attr: str) -> float:
        return float(np.mean([getattr(s, attr) for s in strokes])) if strokes else NAN

    return HandwritingResult(
        n_strokes=len(strokes),
        n_segmentation_points=n_points,
        stroke_duration_s=mean_of("duration_s"),
        stroke_length_cm=mean_of("length_cm"),
        stroke_vertical_size_cm=mean_of("vertical_size_cm"),
        niv_per_stroke=mean_of("niv"),
        writing_speed_cm_per_s=path_on_surface / on_time if on_time > 0 else NAN,
        n_pen_lifts=max(len(finite_runs(down)) - 1, 0),
        on_surface_time_s=on_time,
        in_air_time_s=in_air / fs,
        in_air_ratio=in_air / n if n else NAN,
        tip_force_mean_N=tip_mean,
        tip_force_cv_pct=tip_cv,
        strokes=tuple(strokes),
    )
