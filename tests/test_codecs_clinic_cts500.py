"""CTS500 codec: ``05 …`` frames with an additive checksum (hangtime-grip-connect cts500 model and docs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import (
    Ack,
    BatteryReply,
    GetBattery,
    GetInfo,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    Tare,
)
from motorlab.devices.codecs.cts500 import (
    Cts500Codec,
    GetTemperature,
    ReadWeight,
    Zero,
    response_frame,
    weight_frame,
)

from .clinic_codec_helpers import G, assert_split_invariant, blocks, feed_chunks, others, values_of
from .fast_path_diff import assert_fast_path_matches, fuzz_streams, mixed_streams

W_1234 = bytes.fromhex("05 00 00 00 04 D2 DB")  # 12.34 kg; checksum = sum of the first six bytes
W_NEG = bytes.fromhex("05 00 FF FF FF 6A 6C")  # -1.50 kg (two's complement)
STOP_ANSWER = bytes.fromhex("05 80 AB 00 00 00 30")  # the typed answer quoted in cts500.md
BATTERY_371 = bytes.fromhex("05 80 C4 00 01 73 BD")  # 0x0173 / 100 = 3.71 V
TEMP_M23 = bytes.fromhex("05 80 C5 00 00 97 E1")  # 0x97 = sign bit + 23
FIRMWARE = bytes.fromhex("05 80 A4 20 3A 96 19")  # the MCU answer quoted in cts500.md
TARE_ECHO = bytes.fromhex("05 A6 00 00 00 AB")


def test_weight_frames_in_newtons():
    c = Cts500Codec()
    (blk,) = c.feed(W_1234 + W_NEG, host_time=7.0)
    np.testing.assert_allclose(blk.values[:, 0], [12.34 * G, -1.50 * G])
    assert blk.host_time == 7.0 and c.stats.frames_ok == 2
    assert weight_frame(12.34) == W_1234 and weight_frame(-1.5) == W_NEG


def test_replies():
    c = Cts500Codec()
    out = c.feed(STOP_ANSWER + BATTERY_371 + TEMP_M23 + FIRMWARE + TARE_ECHO)
    assert out == [
        Ack("stop"),
        BatteryReply(volts=pytest.approx(3.71)),
        Ack("temperature", value=-23.0),
        Ack("firmware", value="20 3A 96"),
        Ack("tare"),
    ]
    assert response_frame(0xAB, b"") == STOP_ANSWER


def test_replies_and_samples_keep_their_order():
    c = Cts500Codec()
    out = c.feed(W_1234 + TARE_ECHO + W_NEG, host_time=1.0)
    kinds = ["SampleBlock" if isinstance(e, SampleBlock) else type(e).__name__ for e in out]
    assert kinds == ["SampleBlock", "Ack", "SampleBlock"]


def test_split_at_every_byte_and_replies_survive_too():
    data = W_1234 + STOP_ANSWER + W_NEG + TARE_ECHO + weight_frame(80.0)
    expected = np.array([[12.34], [-1.5], [80.0]]) * G
    assert_split_invariant(Cts500Codec, data, expected, host_time=0.0)
    for cut in range(1, len(data)):
        out = feed_chunks(Cts500Codec(), [data[:cut], data[cut:]])
        assert others(out) == [Ack("stop"), Ack("tare")], f"cut at {cut}"


def test_bad_checksum_and_unknown_frames_are_counted():
    c = Cts500Codec()
    bad = W_1234[:-1] + b"\x00"
    unknown_typed = bytes.fromhex("05 80 77 00 00 00 FC")
    opcode_but_7 = bytes.fromhex("05 AA 01 02 03 04 B9")  # byte 1 is an opcode: not a weight frame
    out = c.feed(bad + unknown_typed + opcode_but_7 + W_NEG, host_time=0.0)
    assert values_of(out)[:, 0].tolist() == [pytest.approx(-1.5 * G)]
    assert c.stats.crc_errors >= 1 and c.stats.unknown_frames == 2


def test_commands():
    c = Cts500Codec()
    assert c.encode(Start()) == bytes.fromhex("05 AA 00 00 00 AF")
    assert c.encode(Stop()) == bytes.fromhex("05 AB 00 00 00 B0")
    assert c.encode(Tare()) == bytes.fromhex("05 A6 00 00 00 AB")
    assert c.encode(GetBattery()) == bytes.fromhex("05 C4 00 00 00 C9")
    assert c.encode(GetInfo()) == bytes.fromhex("05 A4 00 00 00 A9")
    assert c.encode(GetTemperature()) == bytes.fromhex("05 C5 00 00 00 CA")
    assert c.encode(Zero()) == bytes.fromhex("05 86 00 00 00 8B")
    assert c.encode(ReadWeight()) == bytes.fromhex("05 A9 00 00 00 AE")
    assert c.encode(SetRate(80)) == bytes.fromhex("05 C1 00 00 03 C9")
    with pytest.raises(ValueError):
        c.encode(SetRate(100))


def test_rate_from_host_arrivals():
    """80 Hz uploads through a UART bridge: notifications of random size."""
    rng = np.random.default_rng(2)
    stream = b"".join(weight_frame(20 + k % 7) for k in range(640))
    c = Cts500Codec()
    c.encode(Start())
    out, pos = [], 0
    while pos < len(stream):
        n = int(rng.integers(3, 20))
        chunk = stream[pos : pos + n]
        pos += len(chunk)
        out += c.feed(chunk, host_time=(pos // 7) / 80 + rng.uniform(0, 0.003))
    assert len(values_of(out)) == 640
    assert c.rate_hz == pytest.approx(80.0, rel=0.02)
    t = np.concatenate([b.device_time for b in blocks(out)])
    assert (np.diff(t) >= 0).all()


@given(st.lists(st.binary(max_size=30), max_size=25))
def test_feed_never_raises(chunks):
    c = Cts500Codec()
    for k, chunk in enumerate(chunks):
        c.feed(chunk, host_time=k / 80)
    assert len(c._carry) < 7


@given(
    st.lists(st.binary(max_size=12), min_size=1, max_size=4),
    st.lists(st.integers(-100000, 100000), min_size=1, max_size=5),
)
def test_whole_frame_notifications_after_garbage_decode_exactly(garbage, centi_kg):
    c = Cts500Codec()
    out = []
    for junk, v in zip(garbage * len(centi_kg), centi_kg):
        c.feed(junk)  # garbage notifications interleaved with valid ones
        out += c.feed(weight_frame(v / 100))
    np.testing.assert_allclose(values_of(out)[:, 0], np.array(centi_kg) / 100 * G)


# ------------------------------------------------------------------ fast path = general path
def _hand_streams() -> list[list[tuple[bytes, float | None]]]:
    """Weight frames one per notification, with cut frames, junk, replies, echoes, kinds 80/opcodes,
    a bad checksum, two frames in one notification, bytearrays, and missing host times."""
    w = [weight_frame(v) for v in (12.34, -1.5, 0.0, 300.0, 20.01)]
    bad = w[0][:6] + bytes(((w[0][6] + 1) & 0xFF,))
    pieces = [
        w[0], w[1], w[2][:3], w[2][3:], w[3], w[4][:5], w[0], bad, w[1], STOP_ANSWER, w[2],
        TARE_ECHO, w[3], w[4] + w[0], b"\x00\x05", w[1], weight_frame(1.0, kind=0x80), w[2],
        weight_frame(2.0, kind=0xA6), bytearray(w[3]), memoryview(w[4]), w[0][:6], w[0][6:], w[1],
    ]  # fmt: skip
    times: list[float | None] = [0.0125 * k for k in range(len(pieces))]
    return [
        list(zip(pieces, times)),
        list(zip(pieces, [None, *times[1:5], math.nan, *times[6:10], None, *times[11:]])),
        [(p, 5.0 - 0.01 * k) for k, p in enumerate(pieces)],  # a host clock going back
    ]


def test_fast_path_equals_the_general_path_on_hand_made_streams():
    assert assert_fast_path_matches("cts500", _hand_streams(), state=("_carry", "_index")) > 60


def test_fast_path_equals_the_general_path_on_fuzz_inputs():
    assert assert_fast_path_matches("cts500", fuzz_streams("cts500", 1, 600), ("_carry", "_index")) > 1000


def test_fast_path_equals_the_general_path_on_mixed_streams():
    usual = [weight_frame(k * 1.37 - 20) for k in range(50)]
    odd = [p for p, _ in _hand_streams()[0]]
    streams = mixed_streams(usual, odd, seed=1)
    assert assert_fast_path_matches("cts500", streams, ("_carry", "_index")) >= 20 * 200
