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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np


class RateEstimator:
    """Running sample-rate estimate (Hz) from sample times (s).

    ``rate_hz`` is ``1 / slope`` of a least-squares line of time against sample
    index over the last ``window`` samples; ``nan`` until three samples with
    distinct times have been seen. It is refitted after every :data:`REFRESH`
    new samples, so reading it per notification stays cheap. Call
    :meth:`reset` when a stream restarts, so a pause between streams does not
    bias the slope.
    """

    #: samples added before the cached estimate is recomputed (keeps a per-notification call cheap)
    REFRESH = 64

    def __init__(self, window: int = 256) -> None:
        self._t: deque[float] = deque(maxlen=window)
        self._i: deque[int] = deque(maxlen=window)
        self._next = 0
        self._cached = math.nan
        self._stale = 0

    def reset(self) -> None:
        self._t.clear()
        self._i.clear()
        self._next = 0
        self._cached = math.nan
        self._stale = 0

    def add(self, times: np.ndarray | Sequence[float], skipped: int = 0) -> None:
        """Record consecutive samples' times; ``skipped`` samples are known missing before them."""
        self._next += skipped
        for t in times.tolist() if isinstance(times, np.ndarray) else times:
            if math.isfinite(t):
                self._t.append(t)
                self._i.append(self._next)
                self._stale += 1
            self._next += 1

    def add_finite(self, times: list[float]) -> None:
        """:meth:`add` for times known to be finite (one call per notification: kept cheap)."""
        k = len(times)
        if k == 1:  # (the usual notification)
            self._t.append(times[0])
            self._i.append(self._next)
        else:
            self._t.extend(times)
            self._i.extend(range(self._next, self._next + k))
        self._next += k
        self._stale += k

    @property
    def n(self) -> int:
        """Samples in the window."""
        return len(self._t)

    @property
    def rate_hz(self) -> float:
        """The estimate, refreshed after every :data:`REFRESH` new samples (sooner while it is ``nan``)."""
        if self._stale >= self.REFRESH or (self._stale and math.isnan(self._cached)):
            self._cached = self._fit()
            self._stale = 0
        return self._cached

    def _fit(self) -> float:
        if len(self._t) < 3:
            return math.nan
        t = np.fromiter(self._t, dtype=np.float64, count=len(self._t))
        i = np.fromiter(self._i, dtype=np.float64, count=len(self._i))
        i -= i.mean()
        denom = float(i @ i)
        if denom <= 0.0:
            return math.nan
        period = float(i @ (t - t.mean())) / denom
        return 1.0 / period if period > 0.0 else math.nan


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

    def times(self, n: int, host_time: float | None) -> list[float]:
        """:meth:`stamp` as a list of floats (for a block of a few samples, cheaper than an array)."""
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
        self.rate.add_finite(times)
        return times
