"""Timing for devices without a clock: per-sample host times and a running rate estimate.

Several clinic devices (Jamar Smart, Activ5, K-Grip over USB, CTS500, Force
Board, WH-C06 scales, DIY Weight Scale builds) send no timestamp and no
documented sample rate. Their codecs are given the host arrival time of each
notification (``feed(data, host_time=...)``; the codec reads no clock itself)
and time their samples with a :class:`HostClock`:

* a sample gets the arrival time of the bytes that completed it; when several
  samples complete in one arrival they end at the arrival and are spread
  evenly back towards the previous arrival (they were produced in between),
  at most one estimated period apart (after a pause they were made just
  before they arrived), so times never go back;
* :class:`RateEstimator` fits time against sample index by least squares over
  the last ``window`` samples. BLE delivers notifications in bursts at the
  connection interval, so single inter-arrival times are useless, but the
  slope over a few hundred samples is the device's real rate (jitter of
  +-J s shifts it by about J / window_duration).

Without a host time (``host_time=None``) samples get ``nan`` times: a driver
must always pass one (``time.monotonic()`` at the notification callback).

The usual notification completes one sample: :meth:`HostClock.one` times it
in a few float operations and one append (a codec's per-notification fast
path calls it); :meth:`HostClock.times` is the general form.
"""

from __future__ import annotations

import functools
import math
from array import array
from collections.abc import Sequence

import numpy as np

_INF = math.inf


class RateEstimator:
    """Running sample-rate estimate (Hz) from sample times (s).

    ``rate_hz`` is ``1 / slope`` of a least-squares line of time against sample
    index over the last ``window`` samples; ``nan`` until three samples with
    distinct times have been seen. It is refitted after every :data:`REFRESH`
    new samples, so reading it per notification stays cheap. Call
    :meth:`reset` when a stream restarts, so a pause between streams does not
    bias the slope.

    Only the times are kept per sample, as C doubles in an ``array('d')`` (one
    append per sample; the fit reads the window through a NumPy view of that
    buffer, no conversion of Python floats). The array holds up to
    :data:`SLACK` samples more than the window; the oldest are dropped in one
    cut when it gets there. The index of the k-th finite time added is ``k``
    plus the samples skipped or without a finite time before it, and that
    offset changes only at a gap, so it is kept once per gap (``_gaps``) and
    the indices are rebuilt, exactly, when the line is fitted.
    """

    #: samples added before the cached estimate is recomputed (keeps a per-notification call cheap)
    REFRESH = 64
    #: samples kept beyond the window before the oldest are dropped (one cut per SLACK samples)
    SLACK = 1024

    def __init__(self, window: int = 256) -> None:
        self._window = window
        self._t = array("d")  # the finite times since the reset; the last ``window`` are the window
        self._count = 0  # finite times added since the reset
        self._trim_at = window + self.SLACK  # ``_count`` at which the oldest times are dropped
        self._offset = 0  # samples skipped or without a finite time since the reset
        #: (count, offset): from the count-th finite time on, index = count + offset (when it changed)
        self._gaps: list[tuple[int, int]] = []
        self._cached = math.nan
        self._period = math.inf  # 1 / _cached (s), inf while there is no estimate
        self._due = 1  # ``_count`` at which the estimate is refitted (after REFRESH, or 1 while nan)

    def reset(self) -> None:
        del self._t[:]
        self._count = self._offset = 0
        self._trim_at = self._window + self.SLACK
        self._gaps.clear()
        self._cached = math.nan
        self._period = math.inf
        self._due = 1

    def add(self, times: np.ndarray | Sequence[float], skipped: int = 0) -> None:
        """Record consecutive samples' times; ``skipped`` samples are known missing before them."""
        offset = self._offset + skipped
        for t in times.tolist() if isinstance(times, np.ndarray) else times:
            if math.isfinite(t):
                if offset != self._offset:
                    self._gap(offset)
                self._t.append(t)
                self._count += 1
            else:
                offset += 1
        if offset != self._offset:
            self._gap(offset)
        if self._count >= self._trim_at:
            self._trim()

    def add_finite(self, times: list[float]) -> None:
        """:meth:`add` for times known to be finite (one call per notification: kept cheap)."""
        self._t.fromlist(times)
        self._count += len(times)
        if self._count >= self._trim_at:
            self._trim()

    def add_one(self, t: float) -> None:
        """:meth:`add_finite` of one time (the usual notification)."""
        self._t.append(t)
        self._count += 1
        if self._count >= self._trim_at:
            self._trim()

    def _trim(self) -> None:
        """Drop the times older than the window (never while :meth:`_fit` holds a view of them)."""
        del self._t[: len(self._t) - self._window]
        self._trim_at = self._count + self.SLACK

    def _gap(self, offset: int) -> None:
        """The index offset changes to ``offset`` from the next finite time on."""
        self._offset = offset
        gaps = self._gaps
        if gaps and gaps[-1][0] == self._count:
            gaps.pop()  # (no time between two changes: the later one holds)
        gaps.append((self._count, offset))
        first = self._count - self.n  # count of the oldest time in the window
        while len(gaps) > 1 and gaps[1][0] <= first:
            del gaps[0]  # (no time in the window before the next change any more)

    @property
    def n(self) -> int:
        """Samples in the window."""
        return min(len(self._t), self._window)

    @property
    def rate_hz(self) -> float:
        """The estimate, refreshed after every :data:`REFRESH` new samples (sooner while it is ``nan``)."""
        if self._count >= self._due:
            self._refit()
        return self._cached

    def _refit(self) -> None:
        rate = self._fit()
        self._cached = rate
        if rate > 0:  # (a fit is either nan or positive)
            self._period = 1.0 / rate
            self._due = self._count + self.REFRESH
        else:
            self._period = math.inf
            self._due = self._count + 1

    def _fit(self) -> float:
        size = len(self._t)
        n = min(size, self._window)
        if n < 3:
            return math.nan
        # the window as a view of the array's buffer (released on return, before the next append)
        t = np.frombuffer(self._t, np.float64, n, 8 * (size - n))  # (positional: keywords cost 0.3 µs)
        first = self._count - n
        if self._gaps and any(first < count < self._count for count, _ in self._gaps):
            offsets = np.zeros(n)
            for count, offset in self._gaps:  # (oldest first: a later change holds from its count on)
                offsets[max(count - first, 0) :] = offset
            i = np.arange(first, self._count, dtype=np.float64) + offsets  # exact integers
            i -= i.mean()
            denom = float(i @ i)
        else:  # no gap inside the window (the usual case): consecutive indices
            i, denom = _centred(n)
        if denom <= 0.0:
            return math.nan
        # (np.add.reduce(t) / n is t.mean(): the same pairwise sum; i.dot is i @ x: the same BLAS dot)
        period = float(i.dot(t - np.add.reduce(t) / n)) / denom
        return 1.0 / period if period > 0.0 else math.nan


@functools.cache
def _descending(n: int) -> tuple[float, ...]:
    """``n - 1, ..., 1, 0`` (as floats: a float product is what the interpreter multiplies fastest,
    and the same as with the integer): sample k of an arrival of ``n`` is ``n - 1 - k`` spacings
    before it."""
    return tuple(float(k) for k in range(n - 1, -1, -1))


@functools.cache
def _centred(n: int) -> tuple[np.ndarray, float]:
    """``n`` consecutive sample indices minus their mean, and their sum of squares. Exactly what
    the general fit computes for any run of consecutive indices (whole numbers below 2**52: their
    sum, mean and squares are exact), so the fit is the same to the last bit."""
    i = np.arange(n, dtype=np.float64)
    i -= i.mean()
    i.flags.writeable = False
    return i, float(i @ i)


class HostClock:
    """Sample times (s since the first sample of the stream) from host arrival times.

    Attributes:
        origin: host time (s, the driver's clock) of the stream's first arrival, ``nan`` before.
        rate: the running :class:`RateEstimator` over the stamped samples.
    """

    def __init__(self, window: int = 256) -> None:
        self.rate = RateEstimator(window)
        self.origin = math.nan
        self._last = math.nan  # time of the last stamped arrival, relative to origin

    def reset(self) -> None:
        """A new stream: times start again at 0 with the next arrival."""
        self.rate.reset()
        self.origin = math.nan
        self._last = math.nan

    def stamp(self, n: int, host_time: float | None) -> np.ndarray:
        """Times (s) of ``n`` samples completed by bytes that arrived at ``host_time``."""
        return np.array(self.times(n, host_time), dtype=np.float64)

    def one(self, host_time: float | None) -> float:
        """``times(1, host_time)[0]``: the time (s) of one sample completed at ``host_time``, the
        usual notification, in a few float operations. It is ``nan`` exactly when ``host_time`` is
        ``None`` or not finite (so a caller can tell from it whether the arrival time is usable)."""
        if host_time is not None:
            t = host_time - self.origin  # (nan before the first arrival: origin is nan)
            if self._last <= t < _INF:  # (False while _last is nan: the first arrival)
                self._last = t
                est = self.rate  # (est.add_one inlined: one call per notification)
                est._t.append(t)
                est._count = count = est._count + 1
                if count >= est._trim_at:
                    est._trim()
                return t
        return self._times(1, host_time)[0]  # first arrival, no or a bad host time, a clock going back

    def times(self, n: int, host_time: float | None) -> list[float]:
        """:meth:`stamp` as a list of floats (for a block of a few samples, cheaper than an array)."""
        if host_time is not None and n > 0:
            t = host_time - self.origin
            last = self._last
            if last <= t < _INF:  # the usual arrival (see one()); else the general form below
                est = self.rate
                count = est._count
                if n == 1:  # (as in one())
                    self._last = t
                    est._t.append(t)
                    est._count = count = count + 1
                    if count >= est._trim_at:
                        est._trim()
                    return [t]
                if count >= est._due:  # (est.rate_hz without the property call: refit due)
                    est._refit()
                spacing = (t - last) / n  # (as in _times, with a finite last)
                if est._period < spacing:  # noqa: PLR1730 - min(spacing, 1 / rate) without a call
                    spacing = est._period  # (inf while there is no rate: spacing is kept)
                # (a loop, not a comprehension: on Python 3.11 that is a nested function, with t and
                # spacing in closure cells, and costs more than the few appends of a notification)
                times = []
                for k in _descending(n):
                    times.append(t - spacing * k)
                self._last = t
                est._t.fromlist(times)  # (est.add_finite inlined: one call per notification)
                est._count = count = count + n
                if count >= est._trim_at:
                    est._trim()
                return times
        return self._times(n, host_time)

    def _times(self, n: int, host_time: float | None) -> list[float]:
        """:meth:`times` for any arrival (the first, a missing or bad host time, a clock going back)."""
        if n <= 0:
            return []
        if host_time is None or not math.isfinite(host_time):
            return [math.nan] * n
        if math.isnan(self.origin):
            self.origin = host_time
        t = host_time - self.origin
        last = self._last
        if not math.isnan(last):
            t = max(t, last)  # a host clock never goes back; guard against a caller's mistake
        if n == 1:
            times = [t]
        else:
            # spread evenly since the last arrival, but never wider than the estimated period
            # (after a pause the samples were made just before they arrived)
            spacing = math.inf if math.isnan(last) else (t - last) / n
            rate = self.rate.rate_hz
            spacing = min(spacing, 1.0 / rate if rate > 0 else (0.0 if math.isinf(spacing) else spacing))
            times = [t - spacing * k for k in range(n - 1, -1, -1)]
        self._last = t
        if n == 1:
            self.rate.add_one(t)
        else:
            self.rate.add_finite(times)
        return times
