"""Timestamp quality control: mixed clocks, backwards steps, duplicates, gaps, rates (pure NumPy).

Third-party recordings carry timestamps that a resampler must not trust blindly: a
few rows stamped in Unix-epoch milliseconds among a device's millisecond counter
(a "span" of -1.37e9 s, and a uniform grid of terabytes), clocks that step
backwards (sorting them interleaves two stretches of the trace), duplicated
stamps, pen-lift gaps and rate changes. :func:`timestamp_quality` reports all of
them as named :class:`QualityFlag` s with a one-line message naming the sample
(or file line), plus the contiguous forward segments of the recording;
:func:`timestamp_clean` also drops the rows that sit on another clock (never
silently: the flag says how many and where). Nothing here sorts, interpolates or
allocates a grid: :func:`require_grid` tells whether a uniform grid is justified.

Flag codes (stable strings; severity in brackets):

``nonfinite_timestamp`` [error]    NaN/inf time stamps (rows unusable; removed by cleaning)
``mixed_clock``         [error]    a few rows on another clock (> ``clock_jump_s`` away from the rest);
                                   [warning] once :func:`timestamp_clean` has removed them
``clock_jump``          [error]    a step of more than ``clock_jump_s`` between consecutive samples
                                   that is not a removable minority (the recording is split there)
``backwards_step``      [warning]  time steps back; the recording is split into forward segments
``duplicate_timestamp`` [warning]  consecutive samples with the same time stamp
``gap``                 [info]     intervals longer than ``gap_factor`` x the typical interval
``rate_mismatch``       [warning]  the observed rate differs from the nominal rate by > ``rate_tolerance``
``rate_change``         [warning]  the typical interval changes by > 20 % along the recording
``implausible_span``    [error]    last - first time stamp <= 0 or > ``max_span_s``
``grid_unjustified``    [error]    a uniform grid at the nominal rate would need far more points than
                                   there are samples (see :func:`require_grid`)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import MotorlabError
from ._checks import finite_runs, require_rate

#: longest plausible span of one recording's timestamps, s (7 days). A wider span means rows
#: stamped on different clocks (device counter vs Unix epoch) or in the wrong unit.
MAX_SPAN_S = 7 * 86400.0
#: a step between consecutive samples longer than this (s) means another clock, not a pause
CLOCK_JUMP_S = 3600.0
#: rows on another clock are removable when they are at most this fraction of the samples
MIXED_CLOCK_MAX_FRACTION = 0.1
#: an interval longer than this multiple of the typical interval is a gap (as in signal_resample)
GAP_FACTOR = 2.5
#: relative difference between nominal and observed rate tolerated before ``rate_mismatch``
RATE_TOLERANCE = 0.1
#: relative change of the typical interval between blocks of samples that counts as ``rate_change``
RATE_CHANGE_TOLERANCE = 0.2
#: intervals per block when looking for rate changes
RATE_BLOCK = 50
#: largest uniform grid (points) any function may allocate, and the most grid points per real sample
MAX_GRID_SAMPLES = 50_000_000
MAX_GRID_FILL = 100.0

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class QualityFlag:
    """One named finding about a recording's data.

    Attributes:
        code: stable identifier (see the module docstring), e.g. ``"backwards_step"``.
        severity: ``"error"`` (data unusable as they are), ``"warning"`` or ``"info"``.
        message: one line naming the file/sample, e.g. ``"x.txt line 746 (sample 745): time steps back 1.309 s"``.
        index: first sample index concerned (into the array that was checked), or None.
        count: how many samples/intervals are concerned.
    """

    code: str
    severity: str
    message: str
    index: int | None = None
    count: int = 1

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "index": self.index,
            "count": self.count,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QualityFlag:
        idx = d.get("index")
        return cls(
            str(d["code"]),
            str(d.get("severity", "warning")),
            str(d.get("message", "")),
            None if idx is None else int(idx),
            int(d.get("count", 1)),
        )


@dataclass(frozen=True)
class TimestampReport:
    """What :func:`timestamp_quality` found.

    Attributes:
        n_samples: samples checked.
        nominal_rate_hz: the rate the caller declared.
        observed_rate_hz: 1 / mean of the regular intervals (gaps, steps back and duplicates left out);
            NaN with fewer than two regular intervals.
        median_interval_s: median of the positive intervals (NaN if none).
        span_s: last minus first finite, same-clock time stamp (negative if time ran backwards).
        flags: the findings, in the order of the module docstring.
        segments: ``[start, stop)`` index pairs of the contiguous forward stretches (time never steps
            back inside one; rows on another clock belong to none).
        outlier_indices: rows on another clock or with non-finite stamps (removable, see :meth:`keep_mask`).
    """

    n_samples: int
    nominal_rate_hz: float
    observed_rate_hz: float
    median_interval_s: float
    span_s: float
    flags: tuple[QualityFlag, ...] = ()
    segments: tuple[tuple[int, int], ...] = ()
    outlier_indices: tuple[int, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """No error-severity flag."""
        return not any(f.severity == "error" for f in self.flags)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.flags)

    def has(self, code: str) -> bool:
        return code in self.codes

    def flag(self, code: str) -> QualityFlag | None:
        return next((f for f in self.flags if f.code == code), None)

    def keep_mask(self) -> np.ndarray:
        """Boolean (n,) mask: False for the rows on another clock or with non-finite stamps."""
        keep = np.ones(self.n_samples, dtype=bool)
        keep[list(self.outlier_indices)] = False
        return keep

    def to_metadata(self) -> dict[str, Any]:
        """The entries importers put in ``Metadata.extra``: ``quality_flags`` and ``timestamp_segments``."""
        return {
            "quality_flags": [f.to_dict() for f in self.flags],
            "timestamp_segments": [[int(a), int(b)] for a, b in self.segments],
        }


# --------------------------------------------------------------------------- helpers
def _where(source: str, lines: np.ndarray | None, i: int) -> str:
    at = f"line {int(lines[i])} (sample {i})" if lines is not None else f"sample {i}"
    return f"{source}: {at}" if source else at


def _more(count: int) -> str:
    return f" (+{count - 1} more)" if count > 1 else ""


def _fmt_s(x: float) -> str:
    return f"{x:.4g} s"


def _clock_clusters(values: np.ndarray, clock_jump_s: float) -> np.ndarray:
    """Cluster label per value: values closer than ``clock_jump_s`` (chained) share a clock."""
    order = np.argsort(values, kind="stable")
    sv = values[order]
    breaks = np.concatenate(([0], (np.diff(sv) > clock_jump_s).astype(np.int64)))
    labels = np.empty(values.size, dtype=np.int64)
    labels[order] = np.cumsum(breaks)
    return labels


def _regular_intervals(d: np.ndarray, gap_factor: float) -> tuple[np.ndarray, float]:
    """Positive intervals that are not gaps, and the median positive interval."""
    pos = d[d > 0]
    if pos.size == 0:
        return pos, float("nan")
    med = float(np.median(pos))
    return pos[pos <= gap_factor * med], med


def timestamp_rate(timestamps: np.ndarray, gap_factor: float = GAP_FACTOR) -> float:
    """Observed sampling rate, Hz: 1 / mean of the regular intervals (positive, not gaps).

    The mean (not the median) of the regular intervals, so that a clock alternating
    7 and 8 ms gives 133 Hz, not 143 Hz. NaN with fewer than two regular intervals.
    """
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    t = t[np.isfinite(t)]
    if t.size < 3:
        return float("nan")
    reg, _ = _regular_intervals(np.diff(t), gap_factor)
    return float(1.0 / reg.mean()) if reg.size >= 2 else float("nan")


def _forward_segments(n: int, breaks_before: np.ndarray, excluded: np.ndarray) -> list[tuple[int, int]]:
    """Split ``range(n)`` before the indices in ``breaks_before`` and around excluded rows."""
    cuts = np.unique(np.asarray(breaks_before, dtype=np.int64))
    segs: list[tuple[int, int]] = []
    for a, b in finite_runs(~excluded):
        inner = cuts[(cuts > a) & (cuts < b)].tolist()
        edges = [a, *inner, b]
        segs.extend(itertools.pairwise(edges))
    return segs


# --------------------------------------------------------------------------- main API
def timestamp_quality(
    timestamps: np.ndarray,
    sampling_rate: float,
    *,
    source: str = "",
    lines: Sequence[int] | np.ndarray | None = None,
    clock_jump_s: float = CLOCK_JUMP_S,
    max_span_s: float = MAX_SPAN_S,
    gap_factor: float = GAP_FACTOR,
    rate_tolerance: float = RATE_TOLERANCE,
) -> TimestampReport:
    """Check a time vector (s) against its nominal rate (Hz); nothing is changed or sorted.

    Args:
        timestamps: (n,) sample times in seconds, in the order the samples were recorded.
        sampling_rate: nominal rate in Hz (the rate the device or file declares).
        source: what the messages name (a file, ``"sub-P001 task-spiral"``…).
        lines: optional (n,) file line numbers, so messages say ``line 746 (sample 745)``.
        clock_jump_s: consecutive stamps further apart than this are on different clocks.
        max_span_s: longest plausible recording.
        gap_factor: an interval above ``gap_factor`` x the median interval is a gap.
        rate_tolerance: relative nominal-vs-observed rate difference flagged as ``rate_mismatch``.

    Returns:
        A frozen :class:`TimestampReport` (flags, forward segments, removable outliers).
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    n = t.size
    ln = None if lines is None else np.asarray(lines).reshape(-1)
    if ln is not None and ln.size != n:
        raise MotorlabError(f"{n} timestamps but {ln.size} line numbers")
    flags: list[QualityFlag] = []

    def where(i: int) -> str:
        return _where(source, ln, int(i))

    finite = np.isfinite(t)
    bad = np.flatnonzero(~finite)
    if bad.size:
        flags.append(
            QualityFlag(
                "nonfinite_timestamp",
                "error",
                f"{where(bad[0])}: time stamp is not a number{_more(bad.size)}",
                int(bad[0]),
                int(bad.size),
            )
        )
    excluded = ~finite
    # -- clocks: chains of values closer than clock_jump_s ------------------------------
    fin_idx = np.flatnonzero(finite)
    outliers = np.zeros(n, dtype=bool)
    split_jump = np.zeros(0, dtype=np.int64)
    if fin_idx.size > 1:
        labels = _clock_clusters(t[fin_idx], clock_jump_s)
        if labels.max() > 0:
            counts = np.bincount(labels)
            main = int(np.argmax(counts))
            minority = fin_idx[labels != main]
            if minority.size <= MIXED_CLOCK_MAX_FRACTION * fin_idx.size:
                outliers[minority] = True
                ref = float(np.median(t[fin_idx[labels == main]]))
                flags.append(
                    QualityFlag(
                        "mixed_clock",
                        "error",
                        f"{where(minority[0])}: time stamp {t[minority[0]]:.6g} s is on another clock "
                        f"than the other samples (~{ref:.6g} s){_more(minority.size)}",
                        int(minority[0]),
                        int(minority.size),
                    )
                )
    excluded = excluded | outliers
    keep_idx = np.flatnonzero(~excluded)
    tk = t[keep_idx]
    d = np.diff(tk)
    # a jump of more than clock_jump_s that is not a removable minority splits the recording
    jumps = np.flatnonzero(np.abs(d) > clock_jump_s)
    if jumps.size:
        split_jump = keep_idx[jumps + 1]
        flags.append(
            QualityFlag(
                "clock_jump",
                "error",
                f"{where(split_jump[0])}: time jumps {_fmt_s(float(d[jumps[0]]))} from the previous "
                f"sample (another clock?){_more(jumps.size)}",
                int(split_jump[0]),
                int(jumps.size),
            )
        )
    small = np.abs(d) <= clock_jump_s
    back = np.flatnonzero((d < 0) & small)
    if back.size:
        i0 = keep_idx[back[0] + 1]
        flags.append(
            QualityFlag(
                "backwards_step",
                "warning",
                f"{where(i0)}: time steps back {_fmt_s(float(-d[back[0]]))}{_more(back.size)}; "
                "the recording is split into forward segments there (not sorted)",
                int(i0),
                int(back.size),
            )
        )
    dup = np.flatnonzero(d == 0)
    if dup.size:
        i0 = keep_idx[dup[0] + 1]
        flags.append(
            QualityFlag(
                "duplicate_timestamp",
                "warning",
                f"{where(i0)}: same time stamp as the previous sample{_more(dup.size)}",
                int(i0),
                int(dup.size),
            )
        )
    reg, med = _regular_intervals(d[small], gap_factor)
    observed = float(1.0 / reg.mean()) if reg.size >= 2 else float("nan")
    if np.isfinite(med):
        gaps = np.flatnonzero(small & (d > gap_factor * med))
        if gaps.size:
            i0 = keep_idx[gaps[0] + 1]
            flags.append(
                QualityFlag(
                    "gap",
                    "info",
                    f"{where(i0)}: {_fmt_s(float(d[gaps[0]]))} without samples "
                    f"(typical interval {_fmt_s(med)}){_more(gaps.size)}; "
                    f"longest {_fmt_s(float(d[gaps].max()))}",
                    int(i0),
                    int(gaps.size),
                )
            )
    if np.isfinite(observed) and abs(observed / fs - 1.0) > rate_tolerance:
        flags.append(
            QualityFlag(
                "rate_mismatch",
                "warning",
                f"{source + ': ' if source else ''}observed rate {observed:.4g} Hz differs from the "
                f"nominal {fs:.4g} Hz by {100 * abs(observed / fs - 1):.0f} %",
                None,
                int(reg.size),
            )
        )
    change = _rate_change(d, small, med, gap_factor)
    if change is not None:
        k, block_med = change
        i0 = keep_idx[k + 1]
        flags.append(
            QualityFlag(
                "rate_change",
                "warning",
                f"{where(i0)}: typical interval changes to {_fmt_s(block_med)} "
                f"(recording median {_fmt_s(med)})",
                int(i0),
                1,
            )
        )
    span = float(tk[-1] - tk[0]) if tk.size > 1 else 0.0
    if tk.size > 1 and not (0 < span <= max_span_s):
        flags.append(
            QualityFlag(
                "implausible_span",
                "error",
                f"{source + ': ' if source else ''}time stamps span {_fmt_s(span)} from first to last "
                f"sample (expected 0 < span <= {_fmt_s(max_span_s)})",
                None,
                int(tk.size),
            )
        )
    grid_msg = _grid_problem(tk, fs, source)
    if grid_msg:
        flags.append(QualityFlag("grid_unjustified", "error", grid_msg, None, int(tk.size)))
    breaks = np.concatenate((keep_idx[back + 1], split_jump)).astype(np.int64)
    segments = _forward_segments(n, breaks, excluded)
    outlier_rows = np.flatnonzero(excluded)
    return TimestampReport(
        n_samples=n,
        nominal_rate_hz=fs,
        observed_rate_hz=observed,
        median_interval_s=med,
        span_s=span,
        flags=tuple(flags),
        segments=tuple(segments),
        outlier_indices=tuple(int(i) for i in outlier_rows),
    )


def _rate_change(d: np.ndarray, small: np.ndarray, med: float, gap_factor: float) -> tuple[int, float] | None:
    """First block of ``RATE_BLOCK`` regular intervals whose median differs from ``med`` by
    more than ``RATE_CHANGE_TOLERANCE``: (index into ``d`` of its first interval, block median)."""
    if not np.isfinite(med):
        return None
    regular = np.flatnonzero(small & (d > 0) & (d <= gap_factor * med))
    n_blocks = regular.size // RATE_BLOCK
    if n_blocks < 2:
        return None
    blocks = d[regular[: n_blocks * RATE_BLOCK]].reshape(n_blocks, RATE_BLOCK)
    block_med = np.median(blocks, axis=1)
    off = np.flatnonzero(np.abs(block_med / med - 1.0) > RATE_CHANGE_TOLERANCE)
    if off.size == 0:
        return None
    k = int(off[0])
    return int(regular[k * RATE_BLOCK]), float(block_med[k])


def _grid_problem(t: np.ndarray, fs: float, source: str) -> str:
    """Why a uniform grid at ``fs`` over ``t`` is not justified ('' if it is)."""
    if t.size < 2:
        return ""
    extent = float(t.max() - t.min())
    n_grid = extent * fs + 1.0
    if n_grid <= MAX_GRID_SAMPLES and n_grid <= MAX_GRID_FILL * max(t.size, 1):
        return ""
    return (
        f"{source + ': ' if source else ''}a uniform grid at {fs:.4g} Hz over {_fmt_s(extent)} would need "
        f"{n_grid:.3g} points for {t.size} samples (limits {MAX_GRID_SAMPLES:.0e} points, "
        f"{MAX_GRID_FILL:g} per sample)"
    )


def require_grid(timestamps: np.ndarray, sampling_rate: float, *, source: str = "") -> int:
    """Number of points of a uniform grid at ``sampling_rate`` spanning ``timestamps``.

    Raises :class:`~motorlab.errors.MotorlabError` (one line naming ``source``) when the
    grid is not justified by the data: more than :data:`MAX_GRID_SAMPLES` points, or
    more than :data:`MAX_GRID_FILL` points per finite sample (e.g. mixed clocks).
    Call it before allocating any resampling grid.
    """
    fs = require_rate(sampling_rate)
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    t = t[np.isfinite(t)]
    msg = _grid_problem(t, fs, source)
    if msg:
        raise MotorlabError(msg)
    return int(np.floor((t.max() - t.min()) * fs + 1e-9)) + 1 if t.size else 0


def timestamp_clean(
    timestamps: np.ndarray,
    sampling_rate: float,
    *,
    source: str = "",
    lines: Sequence[int] | np.ndarray | None = None,
    drop_outliers: bool = True,
    **kwargs: Any,
) -> tuple[np.ndarray, TimestampReport]:
    """Check, then drop the rows on another clock and with non-finite stamps.

    Returns ``(keep, report)``: the boolean (n,) mask of rows kept, and the report of
    the kept rows (its indices and segments refer to ``timestamps[keep]``). The removal
    is flagged (``mixed_clock`` / ``nonfinite_timestamp`` with severity ``warning``,
    naming the first removed sample or line); nothing is sorted. With
    ``drop_outliers=False`` nothing is removed and ``keep`` is all True.
    Extra keyword arguments go to :func:`timestamp_quality`.
    """
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    first = timestamp_quality(t, sampling_rate, source=source, lines=lines, **kwargs)
    if not drop_outliers or not first.outlier_indices:
        return np.ones(t.size, dtype=bool), first
    keep = first.keep_mask()
    ln = None if lines is None else np.asarray(lines).reshape(-1)[keep]
    after = timestamp_quality(t[keep], sampling_rate, source=source, lines=ln, **kwargs)
    removed = [
        QualityFlag(f.code, "warning", f"{f.message}; {f.count} row(s) removed", f.index, f.count)
        for f in first.flags
        if f.code in ("mixed_clock", "nonfinite_timestamp")
    ]
    return keep, TimestampReport(
        n_samples=after.n_samples,
        nominal_rate_hz=after.nominal_rate_hz,
        observed_rate_hz=after.observed_rate_hz,
        median_interval_s=after.median_interval_s,
        span_s=after.span_s,
        flags=(*removed, *after.flags),
        segments=after.segments,
        outlier_indices=after.outlier_indices,
    )


def timestamp_segments(timestamps: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` pairs of the stretches in which time never steps back
    (split before every backwards step and every non-finite stamp)."""
    t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
    excluded = ~np.isfinite(t)
    idx = np.flatnonzero(~excluded)
    back = idx[1:][np.diff(t[idx]) < 0]
    return _forward_segments(t.size, back, excluded)
