"""Channels of a recording on a uniform time grid (the one resampling step every task uses), and
how messages name a recording."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..recording import Recording
from ..signal.resample import signal_resample

#: consecutive samples further apart than this many nominal intervals leave a gap (NaN) between them
MAX_GAP_SAMPLES = 2.5
#: timestamps within this fraction of an interval of the nominal grid are used as they are
UNIFORM_TOLERANCE = 0.25


def uniform_samples(rec: Recording, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, float]:
    """``(t_s, values (n, k), fs)``: the channels ``names`` on a uniform grid at the nominal rate.

    Timestamps already uniform (every interval within a quarter sample of ``1/fs``) are used
    as they are; otherwise the samples are linearly interpolated onto the grid
    (:func:`motorlab.signal.signal_resample`). Two samples more than 2.5 intervals apart
    leave NaN between them: gaps stay gaps, as do NaN samples.
    """
    fs = float(rec.sampling_rate)
    data = rec.select(list(names))
    t = rec.timestamps
    if t.size > 1:
        dt = np.diff(t)
        if np.all(np.abs(dt - 1.0 / fs) < UNIFORM_TOLERANCE / fs):
            return t, data, fs
    grid, values = signal_resample(t, data, fs, max_gap_s=MAX_GAP_SAMPLES / fs)
    return grid, values, fs


def recording_label(rec: Recording) -> str:
    """``sub-<ID> ses-<N> task-<task>``: how analysis messages name a recording."""
    md = rec.metadata
    return f"sub-{md.participant} ses-{md.session} task-{md.task}"
