"""Jamar Smart codec: ``::VAL 1,<lb>`` messages (Delsys example) cut anywhere, timed from host arrivals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import Start, Stop, Tare
from motorlab.devices.codecs.jamar import JamarCodec, JamarReading, parse_message, val_message

from .clinic_codec_helpers import LBF_N, G, assert_split_invariant, blocks, feed_chunks, values_of
from .fast_path_diff import assert_fast_path_matches, fuzz_streams, mixed_streams


def test_one_message_in_pounds():
    c = JamarCodec()
    (blk,) = c.feed(b"::VAL 1,12.3\r\n", host_time=2.0)
    assert blk.values.tolist() == [[pytest.approx(12.3 * LBF_N)]]
    assert blk.device_time.tolist() == [0.0] and blk.host_time == 2.0 and blk.seq == 0
    assert c.stats.frames_ok == 1
    assert val_message(12.3) == b"::VAL 1,12.3\r\n"


def test_parse_message_variants():
    assert parse_message(b"::VAL 1,45.0") == JamarReading(1, 45.0, "lb")
    assert parse_message(b"::VAL 1, 45 kg") == JamarReading(1, 45.0, "kg")
    assert parse_message(b"::VAL 2,.5") == JamarReading(2, 0.5, "lb")
    assert parse_message(b"::AVG 1,30.2") == "AVG"
    assert parse_message(b"::VAL 1,abc") is None
    assert parse_message(b"::VAL 1,5 furlongs") is None
    assert JamarReading(1, 50.0, "kg").newtons == pytest.approx(50 * G)


def test_unterminated_messages_wait_for_the_next_start_and_keep_their_arrival_time():
    c = JamarCodec()
    assert c.feed(b"::VAL 1,12.3", host_time=10.0) == []  # could still be 12.34...
    (blk,) = c.feed(b"::VAL 1,12.4", host_time=10.1)
    assert blk.values[:, 0].tolist() == [pytest.approx(12.3 * LBF_N)]
    assert blk.device_time.tolist() == [0.0]  # its bytes arrived at 10.0
    (blk,) = c.flush(host_time=10.5)  # the stream went quiet: the held message is complete
    assert blk.values[:, 0].tolist() == [pytest.approx(12.4 * LBF_N)]
    assert blk.device_time.tolist() == [pytest.approx(0.1)]
    assert c.flush() == []


def test_a_number_cut_in_the_middle_is_never_read_short():
    c = JamarCodec()
    assert c.feed(b"::VAL 1,1", host_time=1.0) == []
    (blk,) = c.feed(b"2.5\r\n", host_time=1.02)
    assert blk.values[:, 0].tolist() == [pytest.approx(12.5 * LBF_N)]
    assert blk.device_time.tolist() == [0.0]  # first sample of the stream


def test_split_at_every_byte_and_merged():
    data = b"::VAL 1,10.0\r\n::VAL 1,20.5\r\n::VAL 1,0.0\r\n"
    expected = np.array([[10.0], [20.5], [0.0]]) * LBF_N
    assert_split_invariant(JamarCodec, data, expected, host_time=3.0)
    no_terminators = b"::VAL 1,10.0::VAL 1,20.5::VAL 1,0.0"
    for cut in range(1, len(no_terminators)):
        c = JamarCodec()
        out = feed_chunks(c, [no_terminators[:cut], no_terminators[cut:]], host_time=3.0) + c.flush(3.1)
        np.testing.assert_allclose(values_of(out), expected, err_msg=f"cut at {cut}")


def test_unknown_malformed_and_junk_are_counted_not_fatal():
    c = JamarCodec()
    out = c.feed(b"hello::AVG 1,30.2\r\n::VAL 1,abc\r\n::VAL 1,7.0\r\n", host_time=0.0)
    assert values_of(out)[:, 0].tolist() == [pytest.approx(7.0 * LBF_N)]
    assert (c.stats.unknown_frames, c.stats.malformed_frames, c.stats.bytes_discarded) == (1, 1, 5)
    assert c.last_unknown == "::AVG 1,30.2"
    # an endless message is dropped once it is longer than any real one
    assert c.feed(b"::" + b"x" * 100, host_time=1.0) == []
    assert c.stats.malformed_frames == 2
    assert values_of(c.feed(b"\r\n::VAL 1,8.0\r\n", host_time=1.1))[:, 0].tolist() == [
        pytest.approx(8.0 * LBF_N)
    ]


def test_rate_is_derived_from_host_arrivals():
    """50 readings/s through a 30 ms connection interval: notifications arrive in bursts."""
    rng = np.random.default_rng(11)
    c = JamarCodec()
    c.encode(Start())
    out = []
    pending = b""
    for k in range(400):
        pending += val_message(20 + 10 * np.sin(k / 20))
        t_made = k / 50.0
        if rng.random() < 0.6:  # sometimes two readings share a notification
            continue
        out += c.feed(pending, host_time=np.ceil(t_made / 0.030) * 0.030 + rng.uniform(0, 0.001))
        pending = b""
    assert c.rate_hz == pytest.approx(50.0, rel=0.02)
    t = np.concatenate([b.device_time for b in blocks(out)])
    assert (np.diff(t) >= 0).all()


def test_commands():
    c = JamarCodec()
    assert c.encode(Start()) == b"" and c.encode(Stop()) == b""
    with pytest.raises(ValueError):
        c.encode(Tare())
    with pytest.raises(ValueError):
        JamarCodec(unit="stone")


@given(st.lists(st.binary(max_size=40), max_size=20))
def test_feed_never_raises(chunks):
    c = JamarCodec()
    for k, chunk in enumerate(chunks):
        c.feed(chunk, host_time=k * 0.01)
    c.flush()
    assert c.stats.bytes_in == sum(map(len, chunks))


@given(st.binary(max_size=80), st.lists(st.integers(0, 2000), min_size=1, max_size=6))
def test_valid_messages_after_garbage_decode_exactly(garbage, tenths):
    c = JamarCodec()
    c.feed(garbage, host_time=0.0)
    out = c.feed(b"\r\n" + b"".join(val_message(v / 10) for v in tenths), host_time=1.0)
    got = values_of(out)[:, 0]
    np.testing.assert_allclose(got[len(got) - len(tenths) :], np.array(tenths) / 10 * LBF_N)


# ------------------------------------------------------------------ fast path = general path
def test_fast_path_equals_the_general_path():
    pieces = [
        val_message(12.3), val_message(0.0), val_message(199.9, channel=2), b"::VAL 12,7\r\n",
        b"::VAL 1,7.\r\n", b"::VAL 1,.5\r\n", b"::VAL 1,.\r\n", b"::VAL 1,1.2.3\r\n", b"::VAL ,5\r\n",
        b"::VAL 1,-2.5\r\n", b"::VAL 1,+2.5\r\n", b"::VAL 1, 45 kg\r\n", b"::VAL 1,45.0N\r\n",
        b"::VAL 1,12.3", b"4\r\n", val_message(50.0), b"::VAL 1,5\r\n::VAL 1,6\r\n", b"::AVG 1,30.2\r\n",
        b"::VAL  1,5\r\n", b"::VAL 1,5 \r\n", b"::VAL 1,5\n", b"::VAL 1,5\r\n\r\n", b"::VAL 1,\xd9\xa1\r\n",
        b"junk" + val_message(3.0), val_message(4.0)[:-1], b"\n", b"::VAL 1,1_0\r\n", b"::VAL 1,5\x00\r\n",
        bytearray(val_message(1.5)), memoryview(val_message(2.5)), b"::VAL 1,8\r\n", b"::VAL\r\n", b"",
    ]  # fmt: skip
    times: list[float | None] = [k * 0.0125 for k in range(len(pieces))]
    streams = [
        list(zip(pieces, times)),
        list(zip(pieces, [None, math.nan, *times[2:6], math.inf, *times[7:]])),
        [(p, 3.0 - k * 0.0125) for k, p in enumerate(pieces)],  # a host clock going back
    ]
    state = ("_index", "_held", "_held_time", "last_unknown")
    assert assert_fast_path_matches("jamar", streams, state) == 3 * len(pieces)
    assert assert_fast_path_matches("jamar", fuzz_streams("jamar", 1, 600), state) > 1000
    usual = [val_message(k * 3.7) for k in range(50)]
    streams = mixed_streams(usual, pieces, seed=1)
    assert assert_fast_path_matches("jamar", streams, state) >= 20 * 200
