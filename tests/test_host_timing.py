"""HostClock and RateEstimator keep one array of times (C doubles) and rebuild the sample indices at a
fit: the rate and the times must be exactly those of the straightforward form (a time and an index
stored per sample), for any mix of calls, gaps, non-finite times and resets."""

from __future__ import annotations

import math
import random
from collections import deque

import numpy as np
import pytest

from motorlab.devices.codecs.host_timing import HostClock, RateEstimator


class ReferenceRate:
    """The estimator as first written: every sample's time and index in two deques, fitted the same way."""

    REFRESH = RateEstimator.REFRESH

    def __init__(self, window: int = 256) -> None:
        self.t: deque[float] = deque(maxlen=window)
        self.i: deque[int] = deque(maxlen=window)
        self.next = 0
        self.cached = math.nan
        self.stale = 0

    def reset(self) -> None:
        self.__init__(self.t.maxlen or 0)  # type: ignore[misc]

    def add(self, times, skipped: int = 0) -> None:
        self.next += skipped
        for t in times:
            if math.isfinite(t):
                self.t.append(t)
                self.i.append(self.next)
                self.stale += 1
            self.next += 1

    @property
    def rate_hz(self) -> float:
        if self.stale >= self.REFRESH or (self.stale and math.isnan(self.cached)):
            self.cached = math.nan
            if len(self.t) >= 3:
                t = np.array(self.t, dtype=np.float64)
                i = np.array(self.i, dtype=np.float64)
                i -= i.mean()
                denom = float(i @ i)
                if denom > 0.0:
                    period = float(i @ (t - t.mean())) / denom
                    self.cached = 1.0 / period if period > 0.0 else math.nan
            self.stale = 0
        return self.cached


class ReferenceClock:
    """HostClock.times as first written, on the reference estimator."""

    def __init__(self, window: int = 256) -> None:
        self.rate = ReferenceRate(window)
        self.origin = self.last = math.nan

    def reset(self) -> None:
        self.rate.reset()
        self.origin = self.last = math.nan

    def times(self, n: int, host_time: float | None) -> list[float]:
        if n <= 0:
            return []
        if host_time is None or not math.isfinite(host_time):
            return [math.nan] * n
        if math.isnan(self.origin):
            self.origin = host_time
        t = host_time - self.origin
        if not math.isnan(self.last):
            t = max(t, self.last)
        if n == 1:
            times = [t]
        else:
            spacing = math.inf if math.isnan(self.last) else (t - self.last) / n
            rate = self.rate.rate_hz
            spacing = min(spacing, 1.0 / rate if rate > 0 else (0.0 if math.isinf(spacing) else spacing))
            times = [t - spacing * k for k in range(n - 1, -1, -1)]
        self.last = t
        self.rate.add(times)
        return times


class ShortBuffer(RateEstimator):
    """The estimator dropping its oldest times after a few samples beyond the window (instead of
    1024): the cut happens often, at every phase of the refresh and gap bookkeeping."""

    SLACK = 3


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("seed", range(40))
def test_rate_estimator_equals_the_two_deque_form(seed):
    rng = random.Random(seed)
    window = rng.choice((3, 8, 64, 256))
    new, ref = (RateEstimator if seed % 2 else ShortBuffer)(window), ReferenceRate(window)
    t = rng.uniform(0, 1e4)
    for _ in range(rng.randint(50, 1500)):
        r = rng.random()
        k = rng.choice((1, 1, 1, 2, 5, 30))
        times = []
        for _ in range(k):
            t += rng.choice((0.0, 0.0125, 0.0125, 0.013, 0.0075, 2.0)) + rng.uniform(-1e-3, 1e-3)
            times.append(t)
        if r < 0.5:
            (new.add_one if k == 1 else new.add_finite)(times[0] if k == 1 else times)  # type: ignore[operator]
            ref.add(times)
        elif r < 0.8:
            for j in range(len(times)):  # gaps: samples without a finite time
                if rng.random() < 0.2:
                    times[j] = rng.choice((math.nan, math.inf, -math.inf))
            skipped = rng.choice((0, 0, 1, 3, 400))
            new.add(np.array(times) if rng.random() < 0.5 else times, skipped=skipped)
            ref.add(times, skipped=skipped)
        elif r < 0.81:
            new.reset()
            ref.reset()
        else:
            skipped = rng.choice((0, 2))  # a gap known before the next samples arrive
            new.add([], skipped=skipped)
            ref.add([], skipped=skipped)
        assert new.n == len(ref.t)
        if rng.random() < 0.3:
            assert same(new.rate_hz, ref.rate_hz)
    assert same(new.rate_hz, ref.rate_hz)
    # the gap list stays bounded by the window (one entry per change still inside it, plus one)
    assert len(new._gaps) <= window + 1
    # and so do the times kept (the window plus at most SLACK, and the last call's samples)
    assert len(new._t) <= window + new.SLACK + 30


@pytest.mark.parametrize("seed", range(40))
def test_host_clock_times_and_one_equal_the_first_form(seed):
    rng = random.Random(seed)
    new, ref, via_times = HostClock(), ReferenceClock(), HostClock()
    if seed % 2 == 0:
        new.rate, via_times.rate = ShortBuffer(), ShortBuffer()
    host = rng.uniform(-100, 1e5)
    for _ in range(rng.randint(50, 2000)):
        host += rng.choice((0.0, 0.0, 1e-4, 0.0075, 0.0125, 0.0125, 0.1, 2.0, -0.01))
        arrival: float | None = host
        if rng.random() < 0.03:
            arrival = rng.choice((None, math.nan, math.inf, -math.inf))
        n = rng.choice((1, 1, 1, 1, 0, 2, 3, 8))
        if rng.random() < 0.01:
            for clock in (new, ref, via_times):
                clock.reset()
        expected = ref.times(n, arrival)
        got = [new.one(arrival)] if n == 1 else new.times(n, arrival)
        plain = via_times.times(n, arrival)
        assert len(got) == len(expected) == len(plain)
        assert all(same(a, b) and same(a, c) for a, b, c in zip(got, expected, plain))
        if n == 1:
            assert math.isnan(got[0]) == (arrival is None or not math.isfinite(arrival))
        assert same(new.rate.rate_hz, ref.rate.rate_hz)
        assert same(via_times.rate.rate_hz, ref.rate.rate_hz)


def test_rate_estimate_counts_a_gap_as_missing_samples():
    """The index offset kept per gap is applied: 100 Hz samples with one known lost are still 100 Hz."""
    r = RateEstimator()
    t = list(np.arange(10) * 0.01)
    r.add(t)
    r.add([0.11, 0.12], skipped=1)  # sample 10 (0.10 s) was lost
    r.add([math.nan, 0.14])  # sample 13 came without a time
    r.add_finite([0.15, 0.16])
    r.add_one(0.17)
    assert r.rate_hz == pytest.approx(100.0, rel=1e-9)
    r2 = RateEstimator()  # the same times with the gaps ignored fit a different rate
    r2.add_finite([*t, 0.11, 0.12, 0.14, 0.15, 0.16, 0.17])
    assert abs(r2.rate_hz - 100.0) > 1.0
