"""Force Board codec: u16 count + 3-byte lb samples (hangtime-grip-connect forceboard model)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import BatteryReply, GetInfo, Start, Stop, Tare
from motorlab.devices.codecs import fuzzing
from motorlab.devices.codecs.forceboard import (
    ForceBoardCodec,
    QuickStart,
    battery_reply,
    force_notification,
    parse_notification,
    threshold_bytes,
)

from .clinic_codec_helpers import LBF_N, blocks, every_split, feed_chunks, values_of
from .test_host_timing import ReferenceClock, same

# count 3; samples 10 lb, 500 lb, -1 lb (FF FF FF)
NOTE = bytes.fromhex("0003 00000A 0001F4 FFFFFF")


def test_samples_in_pounds_to_newtons():
    c = ForceBoardCodec()
    (blk,) = c.feed(NOTE, host_time=3.0)
    np.testing.assert_allclose(blk.values[:, 0], np.array([10, 500, -1]) * LBF_N)
    assert blk.device_time.tolist() == [0.0, 0.0, 0.0]  # the first arrival: no earlier one to spread over
    assert blk.host_time == 3.0 and c.stats.frames_ok == 1
    assert force_notification([10, 500, -1]) == NOTE
    assert parse_notification(bytes.fromhex("0000")).size == 0


def test_resolution_is_configurable():
    (blk,) = ForceBoardCodec(lb_per_count=0.1).feed(NOTE, host_time=0.0)
    np.testing.assert_allclose(blk.values[:, 0], np.array([1.0, 50.0, -0.1]) * LBF_N)


def test_a_cut_or_merged_notification_is_dropped_never_misread():
    for cut, chunks in every_split(NOTE):
        c = ForceBoardCodec()
        assert values_of(feed_chunks(c, chunks, host_time=0.0)).size == 0, f"cut at {cut}"
        assert c.stats.malformed_frames == 2
    c = ForceBoardCodec()
    assert c.feed(NOTE + NOTE) == [] and c.stats.malformed_frames == 1
    assert values_of(c.feed(NOTE, host_time=1.0)).shape == (3, 1)  # the next whole one decodes


def test_samples_of_a_notification_are_spread_and_the_rate_estimated():
    c = ForceBoardCodec()
    c.encode(Start())
    out = []
    for k in range(60):  # 10 samples per notification, 10 notifications/s = 100 Hz
        out += c.feed(
            force_notification(list(range(k * 10, k * 10 + 10))), host_time=0.1 * k + 0.003 * (k % 3)
        )
    t = np.concatenate([b.device_time for b in blocks(out)])
    assert (np.diff(t) >= 0).all()
    assert c.rate_hz == pytest.approx(100.0, rel=0.03)
    assert values_of(out)[-1, 0] == pytest.approx(599 * LBF_N)


def test_commands_and_helpers():
    c = ForceBoardCodec()
    assert [c.encode(x) for x in (Start(), QuickStart(), Stop(), Tare())] == [
        b"\x04",
        b"\x06",
        b"\x07",
        b"\x05",
    ]
    with pytest.raises(ValueError):
        c.encode(GetInfo())
    assert threshold_bytes(300) == bytes.fromhex("00012C")
    with pytest.raises(ValueError):
        threshold_bytes(-1)
    assert battery_reply(b"\x55") == BatteryReply(percent=85.0)
    assert battery_reply(b"\xff") is None and battery_reply(b"") is None


@given(st.lists(st.binary(max_size=40), max_size=20))
def test_feed_never_raises(notes):
    c = ForceBoardCodec()
    for k, data in enumerate(notes):
        for blk in blocks(c.feed(data, host_time=k * 0.1)):
            assert blk.values.shape == (blk.n, 1)
    assert c.stats.frames_ok + c.stats.malformed_frames == len(notes)


@given(st.lists(st.integers(-(2**23), 2**23 - 1), max_size=30))
def test_any_valid_notification_round_trips(counts):
    out = ForceBoardCodec().feed(force_notification(counts), host_time=0.0)
    got = values_of(out)[:, 0] if counts else np.zeros(0)
    np.testing.assert_allclose(got, np.array(counts, dtype=float) * LBF_N)


def test_feed_decodes_as_the_numpy_parser_on_fuzz_inputs():
    """feed()'s struct decoding against parse_notification (NumPy) on the fuzzer's inputs: the same
    samples exactly (x N per lb), a notification either decoded whole or counted malformed; the
    samples' times exactly those of the host clock as first written (per-sample index deque)."""
    target = next(t for t in fuzzing.TARGETS if t.name == "forceboard")
    rng = random.Random("forceboard-differential")
    corpus = fuzzing.Corpus.build(target, rng, size=50)
    c, host_time, fed, n_samples = ForceBoardCodec(lb_per_count=0.5), 1000.0, 0, 0
    c.encode(Start())
    clock = ReferenceClock()
    for _ in range(400):
        for piece in fuzzing.fuzz_input(corpus, rng):
            host_time = fuzzing.next_host_time(rng, host_time)
            before = (c.stats.frames_ok, c.stats.malformed_frames, c.stats.bytes_discarded)
            events = c.feed(piece, host_time=host_time)
            ref = parse_notification(piece)
            fed += len(piece)
            if ref is None:
                assert events == [] and c.stats.malformed_frames == before[1] + 1
                assert c.stats.bytes_discarded == before[2] + len(piece)
                continue
            assert c.stats.frames_ok == before[0] + 1 and c.stats.malformed_frames == before[1]
            if ref.size == 0:
                assert events == []
                continue
            (blk,) = events
            np.testing.assert_array_equal(blk.values[:, 0], ref * (0.5 * LBF_N), err_msg=piece.hex())
            assert (blk.seq, blk.host_time, blk.dropped_before) == (n_samples, host_time, 0)
            assert blk.device_time.tolist() == clock.times(ref.size, host_time)
            assert (np.diff(blk.device_time) >= 0).all()
            assert same(c.rate_hz, clock.rate.rate_hz)
            n_samples += ref.size
    assert c.stats.bytes_in == fed and n_samples > 1000
    assert c.clock.rate.n == 256 and c.rate_hz > 0  # (the window filled, the rate was fitted)
