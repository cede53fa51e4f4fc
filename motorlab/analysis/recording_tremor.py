"""Tremor recordings (``tremorrest``/``tremorpostural``) -> :class:`TremorMetrics`.

The hold is the valid ``trial`` events' windows (instructions, countdown and invalid or
incomplete trials left out; :mod:`motorlab.analysis.trials`), joined with a gap between
trials so no filter or spectrum spans two of them; the whole recording without trial
events; nothing (NaN, flag ``no_valid_trial``) when every trial is invalid. Accelerometer
(ACCEL) and gyroscope (GYRO) channels are analysed separately with
:func:`~motorlab.analysis.tremor_analyze`.
"""

from __future__ import annotations

import numpy as np

from ..errors import AnalysisError
from ..recording import Recording
from .grid import recording_label as where
from .grid import uniform_samples
from .params import TremorParams
from .quality import QualityLog
from .results import TremorMetrics
from .tremor import TremorResult, tremor_analyze
from .trials import analysis_window, window_samples


def tremor_metrics(rec: Recording, p: TremorParams, log: QualityLog) -> TremorMetrics:
    """Tremor of the accelerometer and/or gyroscope during the valid holds."""
    acc = [c.name for c in rec.channels_of_type("ACCEL")]
    gyr = [c.name for c in rec.channels_of_type("GYRO")]
    if not acc and not gyr:
        raise AnalysisError(f"{where(rec)}: no ACCEL or GYRO channels for tremor analysis")
    grid = uniform_samples(rec, [*acc, *gyr])
    win = analysis_window(rec, grid)
    if not win.analysed:
        log.add("no_valid_trial", win.note)
    t = window_samples(grid.t_s, win.rows)
    x_all = window_samples(grid.values, win.rows)
    fs = grid.fs

    def analyse(cols: slice, is_acc: bool) -> tuple[TremorResult | None, np.ndarray]:
        x = x_all[:, cols]
        sensor = "accelerometer" if is_acc else "gyroscope"
        if not win.analysed:
            return None, x
        finite = np.all(np.isfinite(x), axis=1)
        missing = int(np.count_nonzero(~finite)) - int(np.count_nonzero(np.diff(win.rows) != 1))
        if missing > 0:
            log.add("data_gaps", f"{missing} {sensor} samples ({missing / fs:.3g} s) missing")
        with log.step("tremor", sensor):
            r = tremor_analyze(
                x,
                fs,
                band=p.band_hz,
                window_s=p.window_s,
                rms_band=p.rms_band_hz,
                is_acceleration=is_acc,
                class_bands=p.class_bands_hz,
                detection_ratio=p.detection_ratio,
                detection_alpha=p.detection_alpha,
            )
        return r, x

    acc_res = gyr_res = None
    acc_x = gyr_x = None
    if acc:
        acc_res, acc_x = analyse(slice(0, len(acc)), True)
    if gyr:
        gyr_res, gyr_x = analyse(slice(len(acc), len(acc) + len(gyr)), False)
    return TremorMetrics(
        acc_res, gyr_res, t, acc_x, gyr_x, tuple(acc), tuple(gyr), hand=win.hand, status=win.status
    )
