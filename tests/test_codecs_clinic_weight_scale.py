"""Bluetooth Weight Scale profile: Weight Measurement 0x2A9D (and Weight 0x2A98) per the GATT spec."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import Ack, Start, Stop, Tare
from motorlab.devices.codecs.ble_weight_scale import (
    WeightMeasurement,
    WeightScaleCodec,
    parse_weight,
    parse_weight_measurement,
    weight_measurement,
)

from .clinic_codec_helpers import LBF_N, G, values_of
from .fast_path_diff import assert_fast_path_matches, fuzz_streams, mixed_streams

SI_50KG = bytes.fromhex("00 1027")  # 0x2710 = 10000 x 0.005 kg
IMPERIAL_100LB = bytes.fromhex("01 1027")  # 10000 x 0.01 lb: same raw, another resolution
# flags 0F: imperial, time stamp, user, BMI+height; 8000 x 0.01 lb = 80 lb; 2026-05-17 14:03:09;
# user 3; BMI 245 x 0.1; height 700 x 0.1 in = 70 in
ALL_FIELDS = bytes.fromhex("0F 401F EA07 05 11 0E 03 09 03 F500 BC02")
SI_BMI = bytes.fromhex("08 983A E600 D606")  # 75 kg, BMI 23.0, 1.750 m


def test_si_and_imperial_use_different_resolutions():
    assert parse_weight_measurement(SI_50KG) == WeightMeasurement(50.0, "kg")
    assert parse_weight_measurement(IMPERIAL_100LB) == WeightMeasurement(100.0, "lb")
    c = WeightScaleCodec()
    out = c.feed(SI_50KG, host_time=1.0) + c.feed(IMPERIAL_100LB, host_time=1.1)
    np.testing.assert_allclose(values_of(out)[:, 0], [50.0 * G, 100.0 * LBF_N])


def test_optional_fields():
    m = parse_weight_measurement(ALL_FIELDS)
    assert m is not None
    assert (m.weight, m.unit) == (pytest.approx(80.0), "lb")
    assert m.timestamp == (2026, 5, 17, 14, 3, 9)
    assert m.user_id == 3
    assert m.bmi_kg_m2 == pytest.approx(24.5)
    assert m.height_m == pytest.approx(70 * 0.0254)
    s = parse_weight_measurement(SI_BMI)
    assert s is not None and (s.weight, s.bmi_kg_m2, s.height_m) == (75.0, pytest.approx(23.0), 1.75)
    assert weight_measurement(80.0, True, (2026, 5, 17, 14, 3, 9), 3, (24.5, 70.0)) == ALL_FIELDS
    assert weight_measurement(75.0, bmi_height=(23.0, 1.75)) == SI_BMI
    c = WeightScaleCodec()
    c.feed(ALL_FIELDS, host_time=0.0)
    assert c.last_measurement == m


def test_unsuccessful_measurement_gives_no_sample():
    c = WeightScaleCodec()
    assert c.feed(bytes.fromhex("00 FFFF"), host_time=0.0) == [
        Ack("weight", ok=False, error="measurement unsuccessful")
    ]
    assert c.last_measurement is not None and math.isnan(c.last_measurement.weight)


def test_malformed_and_truncated_values_are_refused():
    c = WeightScaleCodec()
    for bad in (b"", b"\x00", bytes.fromhex("02 1027 EA07"), bytes.fromhex("10 1027"), SI_50KG + b"\x00"):
        assert c.feed(bad) == []
    assert c.stats.malformed_frames == 5
    for cut in range(len(ALL_FIELDS)):  # an ATT value is one datagram: a truncated one never gives a number
        assert parse_weight_measurement(ALL_FIELDS[:cut]) is None, cut


def test_weight_characteristic_2a98():
    assert parse_weight(bytes.fromhex("1027")) == WeightMeasurement(50.0, "kg")
    assert parse_weight(b"\x10") is None
    c = WeightScaleCodec("0x2A98")
    assert values_of(c.feed(bytes.fromhex("1027"), host_time=0.0)).tolist() == [[pytest.approx(50 * G)]]
    with pytest.raises(ValueError):
        WeightScaleCodec("2a9c")


def test_rate_of_a_diy_build_from_arrivals():
    c = WeightScaleCodec()
    c.encode(Start())
    for k in range(100):
        c.feed(weight_measurement(20.0 + k * 0.005), host_time=k * 0.0125 + (k % 4) * 0.001)
    assert c.rate_hz == pytest.approx(80.0, rel=0.02)


def test_nothing_to_write():
    c = WeightScaleCodec()
    assert c.encode(Start()) == b"" and c.encode(Stop()) == b""
    with pytest.raises(ValueError):
        c.encode(Tare())


@given(st.lists(st.binary(max_size=20), max_size=20), st.sampled_from(["2a9d", "2a98"]))
def test_feed_never_raises(values, characteristic):
    c = WeightScaleCodec(characteristic)
    for k, data in enumerate(values):
        c.feed(data, host_time=k * 0.1)
    assert c.stats.frames_ok + c.stats.malformed_frames == len(values)


# ------------------------------------------------------------------ fast path = general path
def test_fast_path_equals_the_general_path():
    unsuccessful = bytes.fromhex("00 FFFF")
    pieces = [
        SI_50KG, weight_measurement(0.0), weight_measurement(327.675), IMPERIAL_100LB, SI_50KG,
        ALL_FIELDS, SI_50KG, unsuccessful, SI_50KG, SI_BMI, b"", b"\x00", SI_50KG + b"\x00",
        bytes.fromhex("10 1027"), bytearray(SI_50KG), memoryview(weight_measurement(1.0)), SI_50KG,
    ]  # fmt: skip
    times: list[float | None] = [k * 0.0125 for k in range(len(pieces))]
    streams = [
        list(zip(pieces, times)),
        list(zip(pieces, [None, math.nan, *times[2:6], math.inf, *times[7:]])),
        [(p, 2.0 - k * 0.0125) for k, p in enumerate(pieces)],  # a host clock going back
    ]
    state = ("_index", "last_measurement")
    assert assert_fast_path_matches("weight_scale", streams, state) == 3 * len(pieces)
    assert assert_fast_path_matches("weight_scale", fuzz_streams("weight_scale", 1, 600), state) > 1000
    usual = [weight_measurement(k * 2.5) for k in range(50)]
    streams = mixed_streams(usual, pieces, seed=1)
    assert assert_fast_path_matches("weight_scale", streams, state) >= 20 * 200
