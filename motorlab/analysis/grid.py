"""Channels of a recording on a uniform time grid (the one resampling step every task uses), and
how messages name a recording.

Time is never sorted. Where a recording's time stamps step back (a device clock reset,
two interleaved stretches), each forward segment (``Recording.timestamp_segments``) is
put on its own grid and the segments follow each other in recording order, separated by
one NaN sample; a time window (a trial) is looked up in one segment only, and a window
that no segment, or more than one, covers is refused with a message naming the step back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..recording import Recording
from ..signal.resample import join_segments, resample_segments

#: consecutive samples further apart than this many nominal intervals leave a gap (NaN) between them
MAX_GAP_SAMPLES = 2.5
#: timestamps within this fraction of an interval of the nominal grid are used as they are
UNIFORM_TOLERANCE = 0.25


@dataclass(frozen=True, eq=False)
class Grid:
    """Channels on a uniform grid.

    Attributes:
        t_s: (n,) times (s from the recording start); uniform inside each part.
        values: (n, k) samples, NaN in gaps (and in the one separator row between parts).
        fs: the grid's rate (the recording's nominal rate), Hz.
        parts: rows of each forward segment in ``t_s``/``values``, in recording order.
        steps_back: per part after the first: (first input sample of the part, seconds time stepped back).
    """

    t_s: np.ndarray
    values: np.ndarray
    fs: float
    parts: tuple[slice, ...]
    steps_back: tuple[tuple[int, float], ...] = ()

    def window(self, start_s: float, end_s: float) -> slice | str:
        """Rows with ``start_s <= t < end_s``, all from one forward segment; else why not (one line)."""
        hits = []
        for part in self.parts:
            t = self.t_s[part]
            a, b = np.searchsorted(t, [start_s, end_s], side="left")
            if b > a:
                hits.append(slice(part.start + int(a), part.start + int(b)))
        if len(hits) == 1:
            return hits[0]
        where = f"{start_s:.3f}-{end_s:.3f} s"
        if not self.steps_back:
            return f"no samples in {where}"
        i, back = self.steps_back[0]
        reset = (
            f"time stamps step back {back:.4g} s at sample {i}"
            f"{f' (+{len(self.steps_back) - 1} more)' if len(self.steps_back) > 1 else ''}"
            " (device clock reset?)"
        )
        if not hits:
            return f"no samples stamped in {where}: {reset}, so later samples are not on this clock"
        return (
            f"samples of {len(hits)} clock segments are stamped in {where}: {reset}; the window is ambiguous"
        )


def uniform_samples(rec: Recording, names: Sequence[str]) -> Grid:
    """The channels ``names`` on a uniform grid at the nominal rate (see the module docstring).

    Timestamps already uniform (every interval within a quarter sample of ``1/fs``) are used
    as they are; otherwise each forward segment is linearly interpolated onto its grid
    (:func:`motorlab.signal.resample.resample_segments`). Two samples more than 2.5 intervals
    apart leave NaN between them: gaps stay gaps, as do NaN samples. A grid the samples do not
    justify raises a one-line :class:`~motorlab.errors.MotorlabError` naming the recording.
    """
    fs = float(rec.sampling_rate)
    data = rec.select(list(names))
    t = rec.timestamps
    if t.size > 1:
        dt = np.diff(t)
        if np.all(np.abs(dt - 1.0 / fs) < UNIFORM_TOLERANCE / fs):
            return Grid(t, data, fs, (slice(0, t.size),))
    segments = rec.timestamp_segments
    parts = resample_segments(
        t, data, fs, max_gap_s=MAX_GAP_SAMPLES / fs, segments=segments, source=recording_label(rec)
    )
    grid, values = join_segments(parts, fs, data.shape[1])
    slices, steps, row = [], [], 0
    for i, p in enumerate(parts):
        if i:
            row += 1  # the separator
            a = p.rows[0]
            prev = parts[i - 1].rows[1] - 1
            steps.append((int(a), float(t[prev] - t[a])))
        slices.append(slice(row, row + p.t_s.size))
        row += p.t_s.size
    return Grid(grid, values, fs, tuple(slices), tuple(steps))


def recording_label(rec: Recording) -> str:
    """``sub-<ID> ses-<N> task-<task>``: how analysis messages name a recording."""
    md = rec.metadata
    return f"sub-{md.participant} ses-{md.session} task-{md.task}"
