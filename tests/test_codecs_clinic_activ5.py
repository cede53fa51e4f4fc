"""Activ5 codec: ``IS<N>/IS`` readings (Activbody SDK), the duplicate-after-restart fault, commands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import GetInfo, Start, Stop, Tare
from motorlab.devices.codecs.activ5 import Activ5Codec, Handshake, command_bytes, reading_message

from .clinic_codec_helpers import assert_split_invariant, blocks, feed_chunks, values_of
from .fast_path_diff import assert_fast_path_matches, fuzz_streams, mixed_streams


def test_reading_in_newtons_with_and_without_the_wrapper():
    c = Activ5Codec()
    (blk,) = c.feed(b"IS123/IS", host_time=4.0)
    assert blk.values.tolist() == [[123.0]] and blk.device_time.tolist() == [0.0]
    (blk,) = c.feed(b"\x41IS-7/IS\x19", host_time=4.1)  # SDK regex ignores the wrapper bytes
    assert blk.values.tolist() == [[-7.0]] and blk.device_time.tolist() == [pytest.approx(0.1)]
    assert c.stats.unknown_frames == 0 and c.stats.frames_ok == 2
    assert reading_message(123.4) == b"IS123/IS"


def test_copies_within_the_window_are_dropped_but_repeated_readings_kept():
    c = Activ5Codec()
    out = feed_chunks(c, [b"IS50/IS"], host_time=1.000)
    out += feed_chunks(c, [b"IS50/IS"], host_time=1.004)  # the same notification delivered twice
    out += feed_chunks(c, [b"IS50/IS"], host_time=1.100)  # the next reading, same value
    assert values_of(out)[:, 0].tolist() == [50.0, 50.0]
    assert c.stats.duplicates == 1


def test_restart_fault_n_copies_per_reading():
    """After two stop/restart cycles every reading arrives three times (activ5-app README)."""
    rng = np.random.default_rng(5)
    c = Activ5Codec()
    c.encode(Start())
    truth = [int(v) for v in 100 + 40 * np.sin(np.arange(60) / 6)]
    out = []
    for k, v in enumerate(truth):
        t = k / 10 + rng.uniform(0, 0.01)
        for copy in range(3):
            out += c.feed(reading_message(v), host_time=t + copy * 0.0005)
    assert values_of(out)[:, 0].tolist() == [float(v) for v in truth]
    assert c.stats.duplicates == 120
    assert c.rate_hz == pytest.approx(10.0, rel=0.02)


def test_without_host_times_nothing_is_dropped():
    c = Activ5Codec()
    out = feed_chunks(c, [b"IS5/IS", b"IS5/IS"])
    assert values_of(out)[:, 0].tolist() == [5.0, 5.0] and c.stats.duplicates == 0
    assert np.isnan(np.concatenate([b.device_time for b in blocks(out)])).all()


def test_split_at_every_byte_and_merged():
    data = b"\x41IS12/IS\x19\x41IS345/IS\x19IS-6/IS"
    assert_split_invariant(Activ5Codec, data, np.array([[12.0], [345.0], [-6.0]]), host_time=2.0)


def test_unknown_and_malformed_are_counted():
    c = Activ5Codec()
    out = c.feed(b"\x41VERSION 1.2\x19ISabc/ISIS9/IS", host_time=0.0)
    assert values_of(out)[:, 0].tolist() == [9.0]
    assert (c.stats.unknown_frames, c.stats.malformed_frames) == (1, 1)
    assert c.last_message == "VERSION 1.2"


def test_commands_are_wrapped_ascii():
    c = Activ5Codec()
    assert c.encode(Handshake()) == bytes.fromhex("41 54 56 47 54 49 4D 45 19")  # A TVGTIME \x19
    assert c.encode(Start()) == bytes.fromhex("41 49 53 4F 4D 21 19")  # A ISOM! \x19
    assert c.encode(Tare()) == bytes.fromhex("41 54 41 52 45 21 19")  # A TARE! \x19
    assert c.encode(Stop()) == bytes.fromhex("41 53 54 4F 50 21 19")  # A STOP! \x19
    assert command_bytes("X") == b"AX\x19"
    with pytest.raises(ValueError):
        c.encode(GetInfo())


@given(st.lists(st.tuples(st.binary(max_size=30), st.floats(0, 100)), max_size=25))
def test_feed_never_raises(notes):
    c = Activ5Codec()
    for data, t in notes:
        for blk in blocks(c.feed(data, host_time=t)):
            assert blk.values.shape[1] == 1


@given(st.binary(max_size=40), st.lists(st.integers(-500, 500), min_size=1, max_size=5))
def test_readings_after_garbage_decode_exactly(garbage, newtons):
    c = Activ5Codec()
    c.feed(garbage, host_time=0.0)
    out = []
    for k, v in enumerate(newtons):
        out += c.feed(reading_message(v), host_time=1.0 + k / 10)
    assert values_of(out)[:, 0].tolist() == [float(v) for v in newtons]


# ------------------------------------------------------------------ fast path = general path
def test_fast_path_equals_the_general_path():
    pieces = [
        b"IS123/IS", b"IS-7/IS", b"IS-7/IS", b"IS-7/IS", b"IS+2/IS", b"IS1.5/IS", b"IS.5/IS", b"IS5./IS",
        b"IS./IS", b"IS/IS", b"IS 5/IS", b"ISIS5/IS", b"IS5/ISIS6/IS", b"IS5/IS/IS", b"\x41IS12/IS\x19",
        b"IS1", b"2/IS", b"IS12/IS", b"I", b"S3/IS", b"IS4/IS", b"IS4/IS", b"\x41VERSION 1.2\x19", b"",
        b"IS1_0/IS", b"IS\xd9\xa1/IS", b"IS5/IS\n", bytearray(b"IS8/IS"), memoryview(b"IS9/IS"), b"IS9/IS",
    ]  # fmt: skip
    times: list[float | None] = [k * 0.1 for k in range(len(pieces))]
    times[3] = times[2] + 0.004  # a copy of the notification before
    times[21] = times[20] + 0.01
    times[29] = times[28] + 0.0005
    streams = [
        list(zip(pieces, times)),
        list(zip(pieces, [None, math.nan, *times[2:6], math.inf, *times[7:]])),
        [(p, 3.0 - k * 0.001) for k, p in enumerate(pieces)],  # a host clock going back
        [(p, 0.0) for p in pieces],  # all at once
    ]
    state = ("_index", "_carry", "_last_data", "_last_time", "last_message")
    assert assert_fast_path_matches("activ5", streams, state) == 4 * len(pieces)
    assert assert_fast_path_matches("activ5", fuzz_streams("activ5", 1, 600), state) > 1000
    usual = [reading_message(k * 7 - 50) for k in range(50)]
    streams = mixed_streams(usual, pieces, seed=1)
    assert assert_fast_path_matches("activ5", streams, state) >= 20 * 200
