"""Small input checks shared by the signal and analysis functions (no I/O)."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import MotorlabError, MotorlabWarning


def require_rate(sampling_rate: float) -> float:
    """Return ``sampling_rate`` as float, raising :class:`MotorlabError` unless positive and finite."""
    try:
        fs = float(sampling_rate)
    except (TypeError, ValueError):
        raise MotorlabError(f"sampling rate must be a number in Hz, got {sampling_rate!r}") from None
    if not np.isfinite(fs) or fs <= 0:
        raise MotorlabError(f"sampling rate must be a positive number of Hz, got {sampling_rate!r}")
    return fs


def warn(message: str) -> None:
    """Emit a :class:`MotorlabWarning` pointing at the caller of the public function."""
    warnings.warn(message, MotorlabWarning, stacklevel=3)


def finite_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index pairs of the runs where ``mask`` is true."""
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        return []
    if mask.all():  # the usual case (no gap): one run, without the edge search
        return [(0, int(mask.size))]
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist()))


def as_2d(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """View ``x`` as (n, k) float64; also return whether it was 1-D."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim != 2:
        raise MotorlabError(f"expected a 1-D or 2-D array of samples, got shape {arr.shape}")
    return arr, False
