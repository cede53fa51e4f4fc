"""The pen path of a recording: uniform pen-tip trajectory, tip force, pen-down mask and gaps.

:func:`pen_path` is the one place where a recording becomes a pen trajectory; the
handwriting and spiral metrics, the report's pen figure and the batch table all use it,
and :func:`pen_grid` is the pure step behind it (``spiral_analyze(..., timestamps_s=t)``
calls the same function, so a direct call on a recording's samples and
:func:`~motorlab.analysis.analyze_recording` give identical numbers).

Sources: ``pos_x``/``pos_y`` channels (cm, a tablet) when present ("position"),
otherwise ``acc_x..z`` + ``gyr_x..z`` + ``tip_force`` of an IMU pen ("imu"), integrated
by :func:`motorlab.signal.pen_trajectory_from_imu`.

Pen-down rule (the only one), decided on the recorded samples: the ``pen_down`` channel
(tip switch, 0/1) when the recording has one; else ``pressure`` > 0 (a tablet's normalised
pressure); else ``tip_force`` > ``pen_down_threshold_n`` (N, a force-sensing pen); a
recording with none of them is pen-down wherever a position was measured. On the grid
a sample takes the state of the nearer recorded sample (the 0/1 state interpolated, >= 0.5).

Gap policy (the only one): the channels are put on a uniform grid at the nominal rate
(:func:`motorlab.analysis.grid.uniform_samples`; time never sorted, each forward segment on
its own grid); a grid sample where any input channel is missing (NaN sample, or inside a gap
of more than 2.5 sample intervals) is a gap sample. The pen was not observed there, so a gap
sample is never pen-down and its position and tip force are NaN: no metric and no figure
uses a position the device did not measure. For the IMU pen the orientation and double
integration must run through the gap, so the IMU inputs are bridged linearly across it
(with a warning, flag ``pen_gaps_bridged``) and the missing tip force counts as pen up;
positions after the gap continue from that bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError, MotorlabError
from ..recording import Recording
from ..signal._checks import require_rate
from ..signal.imu import pen_trajectory_from_imu
from ..signal.resample import join_segments, resample_segments
from .grid import MAX_GAP_SAMPLES, UNIFORM_TOLERANCE, Grid, recording_label, uniform_samples
from .params import HandwritingParams

POSITION_CHANNELS = ("pos_x", "pos_y")
IMU_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
TIP_CHANNEL = "tip_force"
PEN_DOWN_CHANNEL = "pen_down"
PRESSURE_CHANNEL = "pressure"


@dataclass(frozen=True, eq=False)
class PenPath:
    """A pen-tip trajectory on a uniform grid.

    Attributes:
        t_s: (n,) sample times, s from the recording start.
        pos_cm: (n, 2) pen-tip position in cm (x right, y up the page); NaN at gap samples.
        tip_force_n: (n,) tip force in N (NaN at gap samples), or None when the recording has none.
        pen_down: (n,) pen on the surface (see the module's pen-down rule); never at gap samples.
        gap: (n,) True where an input channel is missing (see the module's gap policy).
        fs: sampling rate of the grid, Hz.
        source: "position" (measured positions) or "imu" (reconstructed from the IMU pen).
        pen_down_threshold_n: the tip-force threshold (N), used only with the tip-force rule.
        pen_down_source: which rule decided pen-down: "pen_down", "pressure", "tip_force" or "position".
        parts: rows of each forward time segment (see :class:`~motorlab.analysis.grid.Grid`).
    """

    t_s: np.ndarray
    pos_cm: np.ndarray
    tip_force_n: np.ndarray | None
    pen_down: np.ndarray
    gap: np.ndarray
    fs: float
    source: str
    pen_down_threshold_n: float
    pen_down_source: str = "tip_force"
    parts: tuple[slice, ...] = ()

    @property
    def n_gap_samples(self) -> int:
        return int(np.count_nonzero(self.gap))

    @property
    def gap_s(self) -> float:
        """Total time without data, s."""
        return self.n_gap_samples / self.fs

    def grid(self) -> Grid:
        """The path as a :class:`~motorlab.analysis.grid.Grid` of (x, y), for time-window look-ups."""
        return Grid(self.t_s, self.pos_cm, self.fs, self.parts or (slice(0, self.t_s.size),))


def pen_down_rule(
    pen_down: np.ndarray | None = None,
    pressure: np.ndarray | None = None,
    tip_force_n: np.ndarray | None = None,
    pen_down_threshold_n: float = HandwritingParams.pen_down_threshold_n,
) -> tuple[np.ndarray | None, str]:
    """Pen-down state of recorded samples by the module's rule; ``(None, "position")`` without any input.

    NaN counts as pen up.
    """
    if pen_down is not None:
        return np.nan_to_num(np.asarray(pen_down, dtype=np.float64), nan=0.0) > 0.5, "pen_down"
    if pressure is not None:
        return np.nan_to_num(np.asarray(pressure, dtype=np.float64), nan=0.0) > 0.0, "pressure"
    if tip_force_n is not None:
        tip = np.nan_to_num(np.asarray(tip_force_n, dtype=np.float64), nan=-np.inf)
        return tip > float(pen_down_threshold_n), "tip_force"
    return None, "position"


def pen_grid(
    timestamps_s: np.ndarray,
    pos_cm: np.ndarray,
    sampling_rate: float,
    pen_down: np.ndarray | None = None,
    tip_force_n: np.ndarray | None = None,
    *,
    segments: list[tuple[int, int]] | None = None,
    source: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, tuple[slice, ...]]:
    """Recorded pen samples onto the uniform grid: ``(t, pos, tip, down, gap, parts)``.

    ``pen_down`` is the recorded samples' state (see :func:`pen_down_rule`; None = down wherever
    observed). Gap samples have NaN position and tip force and are never down.
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps_s, dtype=np.float64).reshape(-1)
    pos = np.asarray(pos_cm, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[0] != t.size or pos.shape[1] < 2:
        raise MotorlabError(
            f"{source + ': ' if source else ''}positions must be ({t.size}, 2), got {pos.shape}"
        )
    cols = [pos[:, :2]]
    if pen_down is not None:
        cols.append(np.asarray(pen_down, dtype=np.float64).reshape(-1, 1))
    if tip_force_n is not None:
        cols.append(np.asarray(tip_force_n, dtype=np.float64).reshape(-1, 1))
    data = np.column_stack(cols)
    dt = np.diff(t)
    if t.size > 1 and np.all(np.abs(dt - 1.0 / fs) < UNIFORM_TOLERANCE / fs):
        grid_t, x = t, data
        parts: tuple[slice, ...] = (slice(0, t.size),)
    else:
        pieces = resample_segments(t, data, fs, MAX_GAP_SAMPLES / fs, segments=segments, source=source)
        grid_t, x = join_segments(pieces, fs, data.shape[1])
        bounds, row = [], 0
        for i, p in enumerate(pieces):
            row += 1 if i else 0
            bounds.append(slice(row, row + p.t_s.size))
            row += p.t_s.size
        parts = tuple(bounds)
    gap = ~np.all(np.isfinite(x), axis=1)
    pos_g = np.where(gap[:, None], np.nan, x[:, :2])
    k = 2
    down = ~gap
    if pen_down is not None:
        down = down & (np.nan_to_num(x[:, k], nan=0.0) >= 0.5)
        k += 1
    tip = np.where(gap, np.nan, x[:, k]) if tip_force_n is not None else None
    return grid_t, pos_g, tip, down, gap, parts


def pen_path(rec: Recording, pen_down_threshold_n: float = HandwritingParams.pen_down_threshold_n) -> PenPath:
    """The pen path of a pen recording (see the module docstring for sources and policies).

    Args:
        rec: a recording with ``pos_x``/``pos_y`` (cm; optional ``pen_down``, ``pressure``,
            ``tip_force``) or an IMU pen (``acc_x..z`` m/s^2, ``gyr_x..z`` deg/s, ``tip_force`` N).
        pen_down_threshold_n: tip-force threshold (N) of the tip-force rule.

    Raises :class:`~motorlab.errors.AnalysisError` naming the recording when neither set of
    channels is present.
    """
    names = set(rec.channel_names)
    has_tip = TIP_CHANNEL in names
    threshold = float(pen_down_threshold_n)
    if set(POSITION_CHANNELS) <= names:
        state, rule = pen_down_rule(
            rec.channel(PEN_DOWN_CHANNEL) if PEN_DOWN_CHANNEL in names else None,
            rec.channel(PRESSURE_CHANNEL) if PRESSURE_CHANNEL in names else None,
            rec.channel(TIP_CHANNEL) if has_tip else None,
            threshold,
        )
        t, pos, tip, down, gap, parts = pen_grid(
            rec.timestamps,
            rec.select(list(POSITION_CHANNELS)),
            rec.sampling_rate,
            state,
            rec.channel(TIP_CHANNEL) if has_tip else None,
            segments=rec.timestamp_segments,
            source=recording_label(rec),
        )
        return PenPath(t, pos, tip, down, gap, float(rec.sampling_rate), "position", threshold, rule, parts)
    if set(IMU_CHANNELS) <= names and has_tip:
        g = uniform_samples(rec, [*IMU_CHANNELS, TIP_CHANNEL])
        x, fs = g.values, g.fs
        gap = ~np.all(np.isfinite(x), axis=1)
        tip = np.where(gap, np.nan, x[:, 6])
        pos = pen_trajectory_from_imu(x[:, :3], x[:, 3:6], tip, fs, threshold)
        pos[gap] = np.nan
        state, _ = pen_down_rule(tip_force_n=tip, pen_down_threshold_n=threshold)
        assert state is not None
        return PenPath(g.t_s, pos, tip, state & ~gap, gap, fs, "imu", threshold, "tip_force", g.parts)
    raise AnalysisError(
        f"{recording_label(rec)}: needs pos_x/pos_y (cm) or acc_x..z, gyr_x..z and tip_force channels"
    )
