"""Zero-phase Butterworth filtering (``scipy.signal.butter`` + ``sosfiltfilt``).

Forward-backward filtering doubles the order and squares the magnitude response
(so the -3 dB design edge becomes -6 dB) but introduces no phase lag, which
matters for onset times and stroke boundaries. NaN gaps are respected: each
finite run is filtered on its own and gaps stay NaN.

Speed: analyses call the same few filters over and over (batch runs), so the
design (``butter``) and its steady-state initial conditions (``sosfilt_zi``) are
cached per (rate, edges, order), and all columns sharing the same gaps are
filtered in one call along axis 0. The forward-backward pass itself is
:func:`scipy.signal.sosfiltfilt`'s own recipe (odd extension of ``3 x n_taps``
samples, initial state scaled by the first sample) with the cached state.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal as sps

from ..errors import MotorlabError
from ._checks import as_2d, finite_runs, require_rate


@lru_cache(maxsize=256)
def _design(
    fs: float, lowcut: float | None, highcut: float | None, order: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Cached (sos, sosfilt_zi(sos), scipy's default sosfiltfilt pad length); arrays are read-only."""
    if lowcut is not None and highcut is not None:
        sos = sps.butter(order, [lowcut, highcut], btype="bandpass", fs=fs, output="sos")
    elif lowcut is not None:
        sos = sps.butter(order, lowcut, btype="highpass", fs=fs, output="sos")
    else:
        sos = sps.butter(order, highcut, btype="lowpass", fs=fs, output="sos")
    zi = sps.sosfilt_zi(sos)
    n_taps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    sos.flags.writeable = False
    zi.flags.writeable = False
    return sos, zi, 3 * n_taps


def _checked_design(
    sampling_rate: float, lowcut: float | None, highcut: float | None, order: int
) -> tuple[np.ndarray, np.ndarray, int]:
    fs = require_rate(sampling_rate)
    nyq = fs / 2
    for name, edge in (("lowcut", lowcut), ("highcut", highcut)):
        if edge is not None and not (0 < edge < nyq):
            raise MotorlabError(f"filter {name} {edge} Hz must lie between 0 and Nyquist ({nyq:g} Hz)")
    if lowcut is not None and highcut is not None and lowcut >= highcut:
        raise MotorlabError(f"filter band ({lowcut}, {highcut}) Hz is empty")
    if lowcut is None and highcut is None:
        raise MotorlabError("signal_filter needs lowcut and/or highcut")
    return _design(
        fs, None if lowcut is None else float(lowcut), None if highcut is None else float(highcut), int(order)
    )


def butter_sos(
    sampling_rate: float, lowcut: float | None, highcut: float | None, order: int = 4
) -> np.ndarray:
    """Second-order sections of a Butterworth filter.

    ``lowcut`` is the high-pass edge and ``highcut`` the low-pass edge (Hz); give
    both for a band-pass. Raises :class:`MotorlabError` for edges outside (0, Nyquist).
    """
    return _checked_design(sampling_rate, lowcut, highcut, order)[0].copy()


try:  # the C loop behind scipy.signal.sosfilt: (sos, x (k, n) C-contiguous, zi (k, sections, 2)), in place
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_inplace
except ImportError:  # pragma: no cover - a SciPy that moved it: the public sosfilt below
    _sosfilt_inplace = None


def _filtfilt_columns(sos: np.ndarray, zi: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """``sosfiltfilt(sos, x, axis=0, padlen=padlen)`` for (n, k) ``x`` with precomputed ``zi``.

    Runs SciPy's own C loop (``sosfilt``'s) on the columns laid out as rows, skipping the
    public wrapper's checks and axis moves (about 20 us per call on short recordings); the
    arithmetic, and so every value, is that of ``sosfilt``.
    """
    ext = np.concatenate((2 * x[:1] - x[padlen:0:-1], x, 2 * x[-1:] - x[-2 : -(padlen + 2) : -1]))
    sos = sos.copy()  # the cached design is read-only; sosfilt wants a writable buffer
    if _sosfilt_inplace is not None and ext.dtype == np.float64:
        rows = np.ascontiguousarray(ext.T)
        _sosfilt_inplace(sos, rows, np.ascontiguousarray(zi[None] * rows[:, :1, None]))
        back = np.ascontiguousarray(rows[:, ::-1])
        _sosfilt_inplace(sos, back, np.ascontiguousarray(zi[None] * back[:, :1, None]))
        return back[:, ::-1].T[padlen:-padlen]
    zi = zi[:, :, None]
    y, _ = sps.sosfilt(sos, ext, axis=0, zi=zi * ext[:1])
    y, _ = sps.sosfilt(sos, y[::-1], axis=0, zi=zi * y[-1:])
    return y[::-1][padlen:-padlen]


def signal_filter(
    x: np.ndarray,
    sampling_rate: float,
    lowcut: float | None = None,
    highcut: float | None = None,
    order: int = 4,
) -> np.ndarray:
    """Zero-phase Butterworth filter along axis 0.

    Args:
        x: (n,) or (n, k) samples; NaN marks gaps.
        sampling_rate: Hz.
        lowcut: high-pass edge in Hz (None = no high-pass).
        highcut: low-pass edge in Hz (None = no low-pass).
        order: Butterworth design order (the effective order is doubled by filtfilt).

    Returns:
        Filtered array, same shape; gaps stay NaN. Runs shorter than the default
        sosfiltfilt padding are filtered with a shorter pad.
    """
    sos, zi, default_pad = _checked_design(sampling_rate, lowcut, highcut, order)
    arr, was_1d = as_2d(x)
    out = np.full_like(arr, np.nan)
    finite = np.isfinite(arr)
    same_gaps = bool(np.all(finite == finite[:, :1]))
    # columns with identical gaps are filtered together; otherwise one column at a time
    groups = [slice(None)] if same_gaps else [slice(j, j + 1) for j in range(arr.shape[1])]
    for cols in groups:
        for start, stop in finite_runs(finite[:, cols][:, 0]):
            seg = arr[start:stop, cols]
            if seg.shape[0] < 2:
                out[start:stop, cols] = seg
                continue
            pad = default_pad if seg.shape[0] > default_pad else seg.shape[0] - 1
            out[start:stop, cols] = _filtfilt_columns(sos, zi, seg, pad)
    return out[:, 0] if was_1d else out
