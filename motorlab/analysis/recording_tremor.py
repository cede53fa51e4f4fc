"""Tremor recordings (``tremorrest``/``tremorpostural``) -> :class:`TremorMetrics`.

The hold is the span of the valid ``trial`` events (instructions and countdown left
out), or the whole recording without them; accelerometer (ACCEL) and gyroscope (GYRO)
channels are analysed separately with :func:`~motorlab.analysis.tremor_analyze`.
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


def hold_window(rec: Recording) -> Recording:
    """The part of a recording inside its valid ``trial`` events (the hold itself,
    without instructions and countdown); the whole recording when it has none."""
    holds = [e for e in rec.events_of("trial") if e.extra.get("status", "valid") == "valid"]
    if not holds:
        return rec
    start = min(e.onset for e in holds)
    end = max(e.onset + e.duration for e in holds)
    return rec.crop(start, end)


def tremor_metrics(rec: Recording, p: TremorParams, log: QualityLog) -> TremorMetrics:
    """Tremor of the accelerometer and/or gyroscope during the hold."""
    acc = [c.name for c in rec.channels_of_type("ACCEL")]
    gyr = [c.name for c in rec.channels_of_type("GYRO")]
    if not acc and not gyr:
        raise AnalysisError(f"{where(rec)}: no ACCEL or GYRO channels for tremor analysis")
    hold = hold_window(rec)
    t = np.empty(0)

    def analyse(names: list[str], is_acc: bool) -> tuple[TremorResult, np.ndarray, np.ndarray]:
        t, x, fs = uniform_samples(hold, names)
        missing = int(np.count_nonzero(~np.all(np.isfinite(x), axis=1)))
        if missing:
            sensor = "accelerometer" if is_acc else "gyroscope"
            log.add("data_gaps", f"{missing} {sensor} samples ({missing / fs:.3g} s) missing")
        with log.step("tremor", "accelerometer" if is_acc else "gyroscope"):
            r = tremor_analyze(
                x,
                fs,
                band=p.band_hz,
                window_s=p.window_s,
                rms_band=p.rms_band_hz,
                is_acceleration=is_acc,
                class_bands=p.class_bands_hz,
                detection_ratio=p.detection_ratio,
            )
        return r, t, x

    acc_res = gyr_res = None
    acc_x = gyr_x = None
    if acc:
        acc_res, t, acc_x = analyse(acc, True)
    if gyr:
        gyr_res, t, gyr_x = analyse(gyr, False)
    return TremorMetrics(acc_res, gyr_res, t, acc_x, gyr_x, tuple(acc), tuple(gyr))
