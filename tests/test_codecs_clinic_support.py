"""Shared pieces of the clinic-device codecs: counter tracking, host timing, rate estimate, sync framer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.codecs.host_timing import HostClock, RateEstimator
from motorlab.devices.codecs.integrity import CounterTracker, IntegrityStats, Step
from motorlab.devices.codecs.sync_framer import SyncFramer


# ------------------------------------------------------------------ CounterTracker
def test_counter_steps_gaps_duplicates_and_wrap():
    c = CounterTracker(bits=16, step=1)
    assert c.advance(65533) == (Step.FIRST, 65533, 0)
    assert c.advance(65534) == (Step.NEXT, 65534, 0)
    assert c.advance(65535) == (Step.NEXT, 65535, 0)
    assert c.advance(0) == (Step.NEXT, 65536, 0)  # wrap: unwrapped keeps counting
    assert c.advance(0) == (Step.DUPLICATE, 65536, 0)
    assert c.advance(4) == (Step.GAP, 65540, 3)  # 1, 2, 3 missing
    assert c.advance(2) == (Step.BACK, 65541, 0)  # re-anchored one step later
    assert c.advance(3) == (Step.NEXT, 65542, 0)


def test_counter_learns_a_tick_step_and_relearns_when_the_rate_drops():
    c = CounterTracker(bits=16)
    t = 1000
    c.advance(t)
    for jitter in [0, 1, -1, 0, 1, 0, -1, 0]:  # 10 ms ticks with +-1 ms jitter
        t += 10 + jitter
        kind, _, missing = c.advance(t)
        assert (kind, missing) == (Step.NEXT, 0)
    assert c.step == 10
    t += 31  # three periods: two samples missing
    assert c.advance(t)[::2] == (Step.GAP, 2)
    for _ in range(CounterTracker.RELEARN):  # the device now sends every 20 ms
        t += 20
        c.advance(t)
    assert c.step == 20
    t += 20
    assert c.advance(t)[::2] == (Step.NEXT, 0)


def test_integrity_stats_extend_codec_stats():
    s = IntegrityStats()
    assert (s.bytes_in, s.unknown_frames, s.malformed_frames, s.duplicates, s.out_of_order) == (0, 0, 0, 0, 0)


# ------------------------------------------------------------------ RateEstimator / HostClock
def test_rate_estimate_survives_jitter_and_ble_bursts():
    rng = np.random.default_rng(7)
    true = np.arange(400) / 97.0
    jittered = true + rng.uniform(-0.004, 0.004, true.size)
    r = RateEstimator(window=256)
    r.add(jittered)
    assert r.rate_hz == pytest.approx(97.0, rel=0.01)
    # notifications delivered only at 7.5 ms connection events: several samples share an arrival
    bursts = np.ceil(true / 0.0075) * 0.0075
    r2 = RateEstimator(window=256)
    r2.add(bursts)
    assert r2.rate_hz == pytest.approx(97.0, rel=0.01)


def test_rate_estimate_needs_three_distinct_times():
    r = RateEstimator()
    assert math.isnan(r.rate_hz)
    r.add(np.array([1.0, 1.0, 1.0]))
    assert math.isnan(r.rate_hz)
    r.add(np.array([1.1]), skipped=0)
    assert r.rate_hz > 0


def test_host_clock_spreads_samples_of_one_arrival_and_respects_pauses():
    c = HostClock()
    assert c.stamp(1, 100.0).tolist() == [0.0]
    assert c.origin == 100.0
    np.testing.assert_allclose(c.stamp(3, 100.3), [0.1, 0.2, 0.3])  # made since the last arrival
    assert c.rate.rate_hz == pytest.approx(10.0)
    # after a 10 s pause two samples arrive: they were made one period apart, just before arriving
    np.testing.assert_allclose(c.stamp(2, 110.3), [10.2, 10.3])
    assert c.stamp(0, 111.0).size == 0
    assert np.isnan(c.stamp(2, None)).all()
    c.reset()
    assert c.stamp(1, 500.0).tolist() == [0.0]


# ------------------------------------------------------------------ SyncFramer
H = b"\xff\xff\xfe"


def test_sync_framer_joins_frames_and_reports_junk():
    f = SyncFramer(H, 6)
    frames, junk = f.push(b"ab" + H + b"\x01\x02" + b"\x03" + H[:2])
    assert frames == [H + b"\x01\x02\x03"] and junk == [b"ab"]
    frames, junk = f.push(H[2:] + b"\x04\x05\x06")  # the header itself was cut
    assert frames == [H + b"\x04\x05\x06"] and junk == []
    assert (f.bytes_discarded, f.resyncs) == (2, 1)


def test_sync_framer_datagram_mode_drops_a_stale_partial_frame():
    f = SyncFramer(H, 6, datagrams=True)
    assert f.push(H + b"\x01") == ([], [])  # a cut frame, carried
    frames, _ = f.push(H + b"\x07\x08\x09")  # a whole frame on its own: starts afresh
    assert frames == [H + b"\x07\x08\x09"]
    assert f.bytes_discarded == 4


@given(st.lists(st.binary(max_size=40), max_size=12))
def test_sync_framer_never_raises_and_accounts_for_every_byte(chunks):
    f = SyncFramer(H, 7)
    total = framed = 0
    for c in chunks:
        frames, junk = f.push(c)
        total += len(c)
        framed += sum(map(len, frames))
        assert all(fr.startswith(H) and len(fr) == 7 for fr in frames)
        assert sum(map(len, junk)) <= f.bytes_discarded
    assert framed + f.bytes_discarded + len(f.carry) == total
    assert len(f.carry) < 7


@given(
    st.sampled_from([(16, None), (16, 10), (8, None), (8, 1), (16, 200)]),
    st.integers(0, 2**16 - 1),
    st.lists(st.sampled_from([10, 10, 10, 10, 1, 9, 11, 0, 20, 30, 200, -3, -500, 33000]), max_size=80),
)
def test_counter_fast_branch_matches_the_general_path(setup, start, steps):
    """advance() (expected-step fast branch first) against _advance_general() alone, step by step."""
    bits, step = setup
    fast, general = CounterTracker(bits, step), CounterTracker(bits, step)
    raw = start % (1 << bits)
    for k, delta in enumerate([0, *steps]):
        raw = (raw + delta) % (1 << bits)
        if k == 40:  # a stream restart half-way
            fast.reset()
            general.reset()
        assert fast.advance(raw) == general._advance_general(raw), f"value {k}: {raw}"
        assert fast.step == general.step
        assert (list(fast._recent), fast._gaps_in_a_row) == (list(general._recent), general._gaps_in_a_row)
