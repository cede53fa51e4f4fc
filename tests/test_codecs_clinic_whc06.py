"""WH-C06 advertisement decoder: manufacturer data of company 0x0100, weight at bytes 10-11 (BE, /100 kg)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import Start, Stop, Tare
from motorlab.devices.codecs.whc06 import (
    COMPANY_ID,
    WhC06Codec,
    manufacturer_data,
    parse_weight_kg,
    split_manufacturer_field,
)

from .clinic_codec_helpers import G, blocks, values_of
from .fast_path_diff import assert_fast_path_matches, fuzz_streams, mixed_streams

# bytes 0-9 other fields, 10-11 = 0x0929 = 2345 -> 23.45 kg, then 4 more bytes
ADV = bytes.fromhex("01 02 03 04 05 06 07 08 09 0A 09 29 00 00 11 00")


def test_weight_from_manufacturer_data():
    c = WhC06Codec()
    (blk,) = c.feed(ADV, host_time=12.0)
    assert blk.values.tolist() == [[pytest.approx(23.45 * G)]]
    assert blk.device_time.tolist() == [0.0] and blk.host_time == 12.0
    assert parse_weight_kg(ADV) == pytest.approx(23.45)
    assert parse_weight_kg(manufacturer_data(23.45)) == pytest.approx(23.45)


def test_raw_ad_field_is_split_at_the_little_endian_company_id():
    assert split_manufacturer_field(b"\x00\x01" + ADV) == (COMPANY_ID, ADV)
    assert split_manufacturer_field(b"\x00") is None


def test_truncated_data_is_refused_never_misread():
    """An advertisement is one datagram (never split or merged); a truncated one must not give a number."""
    for cut in range(len(ADV) + 1):
        c = WhC06Codec()
        got = values_of(c.feed(ADV[:cut], host_time=0.0))
        if cut < 12:
            assert got.size == 0 and c.stats.malformed_frames == 1, cut
        else:
            assert got.tolist() == [[pytest.approx(23.45 * G)]], cut


def test_advertisement_rate_from_receive_times():
    rng = np.random.default_rng(4)
    c = WhC06Codec()
    c.encode(Start())
    out = []
    for k in range(160):  # ~8 advertisements/s, with scan jitter
        out += c.feed(manufacturer_data(10 + k / 100), host_time=k / 8 + rng.uniform(0, 0.02))
    assert c.rate_hz == pytest.approx(8.0, rel=0.02)
    assert values_of(out)[-1, 0] == pytest.approx(11.59 * G)
    assert len(blocks(out)) == 160


def test_nothing_is_sent():
    c = WhC06Codec()
    assert c.encode(Start()) == b"" and c.encode(Stop()) == b""
    with pytest.raises(ValueError):
        c.encode(Tare())


@given(st.lists(st.binary(max_size=32), max_size=20))
def test_feed_never_raises(ads):
    c = WhC06Codec()
    for k, data in enumerate(ads):
        c.feed(data, host_time=k / 8)
    assert c.stats.frames_ok + c.stats.malformed_frames == len(ads)


# ------------------------------------------------------------------ fast path = general path
def test_fast_path_equals_the_general_path():
    ads = [manufacturer_data(kg, n) for kg, n in ((23.45, 16), (0.0, 12), (180.0, 20), (655.35, 16))]
    pieces = [*ads, ads[0][:11], b"", ads[1], bytearray(ads[2]), memoryview(ads[3]), ads[0]]
    times: list[float | None] = [k / 8 for k in range(len(pieces))]
    streams = [
        list(zip(pieces, times)),
        list(zip(pieces, [None, math.nan, *times[2:5], math.inf, *times[6:]])),
        [(p, 3.0 - k / 8) for k, p in enumerate(pieces)],  # a host clock going back
    ]
    assert assert_fast_path_matches("whc06", streams, state=("_index",)) == 3 * len(pieces)
    assert assert_fast_path_matches("whc06", fuzz_streams("whc06", 1, 600), state=("_index",)) > 1000
    usual = [manufacturer_data(k * 3.1, 16) for k in range(50)]
    streams = mixed_streams(usual, [p for p in pieces if len(p) < 12], seed=1)
    assert assert_fast_path_matches("whc06", streams, state=("_index",)) >= 20 * 200
