"""The pen path of a recording: uniform pen-tip trajectory, tip force, pen-down mask and gaps.

:func:`pen_path` is the one place where a recording becomes a pen trajectory; the
handwriting and spiral metrics, the report's pen figure and the batch table all use it.

Sources: ``pos_x``/``pos_y`` channels (cm, a tablet) when present ("position"),
otherwise ``acc_x..z`` + ``gyr_x..z`` + ``tip_force`` of an IMU pen ("imu"), integrated
by :func:`motorlab.signal.pen_trajectory_from_imu`.

Gap policy (the only one): the channels are put on a uniform grid at the nominal rate
(:func:`motorlab.analysis.grid.uniform_samples`); a grid sample where any input channel
is missing (NaN sample, or inside a gap of more than 2.5 sample intervals) is a gap
sample. The pen was not observed there, so a gap sample is never pen-down and its
position and tip force are NaN: no metric and no figure uses a position the device did
not measure. For the IMU pen the orientation and double integration must run through the
gap, so the IMU inputs are bridged linearly across it (with a warning, flag
``pen_gaps_bridged``) and the missing tip force counts as pen up; positions after the gap
continue from that bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError
from ..recording import Recording
from ..signal.imu import pen_trajectory_from_imu
from ..signal.segment import segment_pen_down
from .grid import recording_label, uniform_samples
from .params import HandwritingParams

POSITION_CHANNELS = ("pos_x", "pos_y")
IMU_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
TIP_CHANNEL = "tip_force"


@dataclass(frozen=True, eq=False)
class PenPath:
    """A pen-tip trajectory on a uniform grid.

    Attributes:
        t_s: (n,) sample times, s from the recording start.
        pos_cm: (n, 2) pen-tip position in cm (x right, y up the page); NaN at gap samples.
        tip_force_n: (n,) tip force in N (NaN at gap samples), or None when the recording has none.
        pen_down: (n,) True where the tip force is above ``pen_down_threshold_n`` (everywhere
            outside gaps without a tip-force channel).
        gap: (n,) True where an input channel is missing (see the module's gap policy).
        fs: sampling rate of the grid, Hz.
        source: "position" (measured positions) or "imu" (reconstructed from the IMU pen).
        pen_down_threshold_n: the threshold used, N.
    """

    t_s: np.ndarray
    pos_cm: np.ndarray
    tip_force_n: np.ndarray | None
    pen_down: np.ndarray
    gap: np.ndarray
    fs: float
    source: str
    pen_down_threshold_n: float

    @property
    def n_gap_samples(self) -> int:
        return int(np.count_nonzero(self.gap))

    @property
    def gap_s(self) -> float:
        """Total time without data, s."""
        return self.n_gap_samples / self.fs


def pen_path(rec: Recording, pen_down_threshold_n: float = HandwritingParams.pen_down_threshold_n) -> PenPath:
    """The pen path of a pen recording (see the module docstring for sources and gap policy).

    Args:
        rec: a recording with ``pos_x``/``pos_y`` (cm, optional ``tip_force``) or an IMU pen
            (``acc_x..z`` m/s^2, ``gyr_x..z`` deg/s, ``tip_force`` N).
        pen_down_threshold_n: the pen touches the paper while the tip force is strictly above
            this (N); the analysis passes the task's ``pen_down_threshold_n``.

    Raises :class:`~motorlab.errors.AnalysisError` naming the recording when neither set of
    channels is present.
    """
    names = set(rec.channel_names)
    has_tip = TIP_CHANNEL in names
    threshold = float(pen_down_threshold_n)
    if set(POSITION_CHANNELS) <= names:
        cols = [*POSITION_CHANNELS, *([TIP_CHANNEL] if has_tip else [])]
        t, x, fs = uniform_samples(rec, cols)
        gap = ~np.all(np.isfinite(x), axis=1)
        pos = np.where(gap[:, None], np.nan, x[:, :2])
        tip = np.where(gap, np.nan, x[:, 2]) if has_tip else None
        source = "position"
    elif set(IMU_CHANNELS) <= names and has_tip:
        t, x, fs = uniform_samples(rec, [*IMU_CHANNELS, TIP_CHANNEL])
        gap = ~np.all(np.isfinite(x), axis=1)
        tip = np.where(gap, np.nan, x[:, 6])
        pos = pen_trajectory_from_imu(x[:, :3], x[:, 3:6], tip, fs, threshold)
        pos[gap] = np.nan
        source = "imu"
    else:
        raise AnalysisError(
            f"{recording_label(rec)}: needs pos_x/pos_y (cm) or acc_x..z, gyr_x..z and tip_force channels"
        )
    if tip is None:
        down = ~gap
    else:
        down = np.zeros(t.size, bool)
        for a, b in segment_pen_down(tip, fs, threshold):
            down[a:b] = True
    return PenPath(t, pos, tip, down, gap, fs, source, threshold)
