"""Kinvent codecs against hand-built byte vectors (kine-capteurs and itsmaxxst/KGrip layouts)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import Ack, GetInfo, Start, Stop, Tare
from motorlab.devices.codecs import fuzzing
from motorlab.devices.codecs.kinvent import (
    HEADER,
    KFORCE_INIT_WRITES,
    GetCoefficient,
    KeepAlive,
    KForceCodec,
    KGripUsbCodec,
    PowerOff,
    kforce_frame,
    kgrip_frame,
)

from .clinic_codec_helpers import assert_split_invariant, blocks, feed_chunks, others, values_of
from .fast_path_diff import assert_same_events

# counter 42; channels 9720, -2 (its bytes FF FF FE look like a header), -8388608, 8388607
KF_42 = bytes.fromhex("fffffe 002a 0025f8 fffffe 800000 7fffff")
KF_ROW = [9720.0, -2.0, -8388608.0, 8388607.0]


def kf(counter: int, ch1: int) -> bytes:
    """A K-Force frame built by hand: header, u16 BE counter, four int24 BE channels."""
    return b"\xff\xff\xfe" + counter.to_bytes(2, "big") + ch1.to_bytes(3, "big", signed=True) + bytes(9)


# ------------------------------------------------------------------ K-Force (BLE)
def test_kforce_frame_layout():
    c = KForceCodec()
    (blk,) = c.feed(KF_42)
    assert blk.values.tolist() == [KF_ROW]
    assert blk.device_time.tolist() == [pytest.approx(0.042)]  # u16 field x 1 ms (kine-capteurs)
    assert (blk.seq, blk.dropped_before) == (42, 0)
    assert kforce_frame(42, (9720, -2, -8388608, 8388607)) == KF_42
    assert c.stats.frames_ok == 1 and c.stats.bytes_discarded == 0


def test_kforce_counter_tick_is_configurable():
    c = KForceCodec(counter_tick_s=0.01)  # a unit whose field counts 100 Hz samples
    (blk,) = c.feed(kf(7, 1))
    assert blk.device_time.tolist() == [pytest.approx(0.07)]


def test_kforce_gap_starts_a_block_and_duplicates_are_dropped():
    c = KForceCodec()
    events = feed_chunks(c, [kf(100, 1), kf(110, 2), kf(120, 3), kf(120, 3), kf(150, 4)])
    bl = blocks(events)
    assert [b.values[:, 0].tolist() for b in bl] == [[1.0], [2.0], [3.0], [4.0]]
    assert bl[-1].dropped_before == 2  # 130 and 140 never arrived (learned step: 10 ticks)
    assert bl[-1].device_time.tolist() == [pytest.approx(0.150)]
    assert (c.stats.dropped_samples, c.stats.duplicates, c.stats.frames_ok) == (2, 1, 5)


def test_kforce_several_frames_per_notification_and_wrap():
    c = KForceCodec()
    (blk,) = c.feed(kf(65520, 1) + kf(65530, 2) + kf(4, 3))
    np.testing.assert_allclose(blk.device_time, [65.520, 65.530, 65.540])  # unwrapped past 65535
    assert blk.values[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_kforce_split_at_every_byte_and_merged():
    data = KF_42 + kf(52, -5) + kf(62, 77)
    expected = np.array([KF_ROW, [-5, 0, 0, 0], [77, 0, 0, 0]], dtype=float)
    assert_split_invariant(KForceCodec, data, expected)
    np.testing.assert_array_equal(values_of(KForceCodec().feed(data)), expected)


def test_kforce_garbage_notifications_never_cost_a_valid_one():
    c = KForceCodec()
    out = feed_chunks(c, [b"\xff\xff\xfe\x00", kf(1, 11), b"\x13\x37", kf(2, 12), b"\xff\xff", kf(3, 13)])
    assert values_of(out)[:, 0].tolist() == [11.0, 12.0, 13.0]
    assert c.stats.bytes_discarded == 8 and c.stats.unknown_frames >= 1


def test_kforce_coefficient_reply_and_commands():
    c = KForceCodec()
    assert c.encode(GetCoefficient()) == b"\x21"
    (ack,) = others(c.feed(b"000254"))
    assert ack == Ack("coefficient", value=pytest.approx(0.000254))
    assert c.kg_per_count == pytest.approx(0.000254)
    assert c.encode(Start()) == b"\x11"
    assert c.encode(Stop()) == b"\x10"
    assert c.encode(KeepAlive()) == b"\xff"
    with pytest.raises(ValueError):
        c.encode(Tare())
    assert KFORCE_INIT_WRITES == (
        b"\x10",
        b"\x09",
        b"\x21",
        b"\x76",
        b"\x11",
        b"\x10",
        b"\x10",
        b"\x56",
        b"\xac\x00\x54\xf8",
        b"\x11",
    )


@given(st.lists(st.binary(max_size=60), max_size=20))
def test_kforce_feed_never_raises(chunks):
    c = KForceCodec()
    for chunk in chunks:
        for ev in c.feed(chunk):
            assert not hasattr(ev, "values") or ev.values.shape[1] == 4


@given(st.binary(max_size=40), st.lists(st.integers(-(2**23), 2**23 - 1), min_size=1, max_size=5))
def test_kforce_recovers_after_garbage(garbage, ch1):
    c = KForceCodec()
    c.feed(garbage)
    out = feed_chunks(c, [kf(1000 + 10 * k, v) for k, v in enumerate(ch1)])
    assert values_of(out)[:, 0].tolist() == [float(v) for v in ch1]


# ------------------------------------------------------------------ K-Grip (USB serial)
def test_kgrip_frame_from_the_source_example():
    c = KGripUsbCodec()
    # itsmaxxst/KGrip main.js: "FF FF FE 0D AC 00 00 00 00 00 40" -> 0x0DAC = 3500
    (blk,) = c.feed(bytes.fromhex("FF FF FE 0D AC 00 00 00 00 00 40"), host_time=5.0)
    assert blk.values.tolist() == [[3500.0]]
    assert blk.device_time.tolist() == [0.0] and blk.host_time == 5.0
    assert kgrip_frame(3500, bytes.fromhex("000000000040")) == bytes.fromhex("fffffe0dac000000000040")


def test_kgrip_times_from_host_arrivals_and_rate_estimate():
    rng = np.random.default_rng(3)
    stream = b"".join(kgrip_frame(20000 + k) for k in range(600))
    c = KGripUsbCodec()
    c.encode(Start())
    out, pos = [], 0
    while pos < len(stream):  # serial reads of random size; a frame leaves the device every 10 ms
        n = int(rng.integers(1, 60))
        chunk = stream[pos : pos + n]
        pos += len(chunk)
        out += c.feed(chunk, host_time=pos // 11 * 0.010 + rng.uniform(0, 0.002))
    v = values_of(out)[:, 0]
    assert v.tolist() == [20000.0 + k for k in range(600)]
    t = np.concatenate([b.device_time for b in blocks(out)])
    assert (np.diff(t) >= 0).all()
    assert c.rate_hz == pytest.approx(100.0, rel=0.02)


def test_kgrip_coefficient_cut_across_reads():
    c = KGripUsbCodec()
    assert c.encode(GetCoefficient()) == b"\x21"
    assert c.feed(b"00") == []
    (ack,) = c.feed(b"0254" + kgrip_frame(1)[:4])
    assert ack == Ack("coefficient", value=pytest.approx(0.000254))
    assert values_of(c.feed(kgrip_frame(1)[4:])).tolist() == [[1.0]]
    assert c.feed(b"123456") == [] and c.stats.unknown_frames == 1  # not awaited: unknown


def test_kgrip_split_at_every_byte():
    data = kgrip_frame(100) + kgrip_frame(0xFFFE) + kgrip_frame(65535)
    assert_split_invariant(KGripUsbCodec, data, np.array([[100.0], [65534.0], [65535.0]]), host_time=1.0)


def test_kgrip_commands():
    c = KGripUsbCodec()
    assert [c.encode(x) for x in (Start(), Stop(), GetCoefficient(), PowerOff())] == [
        b"\x11",
        b"\x10",
        b"\x21",
        b"\x7a",
    ]
    with pytest.raises(ValueError):
        c.encode(GetInfo())


@given(st.lists(st.binary(max_size=50), max_size=20), st.booleans())
def test_kgrip_feed_never_raises(chunks, awaiting):
    c = KGripUsbCodec()
    if awaiting:
        c.encode(GetCoefficient())
    for k, chunk in enumerate(chunks):
        c.feed(chunk, host_time=float(k))
    assert c.stats.bytes_in == sum(map(len, chunks))


# ------------------------------------------------------------------ fast path vs general path
def _same_events(got: list, want: list, where: str) -> None:
    assert_same_events(got, want, where, bitwise=False)


def assert_feed_equals_general(make, streams, prime=None, timed=False, seed=0) -> None:
    """Each stream fed piece by piece to one codec's ``feed`` and to another's ``_feed_general``:
    the same events per call and the same stats (and codec state) after every call."""
    rng = random.Random(seed)
    for s, pieces in enumerate(streams):
        fast, general = make(), make()
        if prime is not None:
            n = rng.randint(0, 40)
            prime(fast, n)
            prime(general, n)
        host_time = 1000.0
        for k, piece in enumerate(pieces):
            where = f"stream {s}, piece {k}: {bytes(piece).hex()}"
            if timed:
                host_time = fuzzing.next_host_time(rng, host_time)
                ht = None if k % 17 == 16 else host_time  # (a caller without a clock, now and then)
                got, want = fast.feed(piece, host_time=ht), general._feed_general(piece, ht)
            else:
                got, want = fast.feed(piece), general._feed_general(piece)
            _same_events(got, want, where)
            assert fast.stats == general.stats, where
            assert fast.kg_per_count == general.kg_per_count, where
            if timed:  # the host clock saw the same arrivals (nan == nan here)
                np.testing.assert_array_equal(
                    [fast._index, fast.clock.origin, fast.rate_hz],
                    [general._index, general.clock.origin, general.rate_hz],
                    err_msg=where,
                )


def fuzz_streams(name: str, n: int, seed: int) -> list[list[bytes]]:
    """``n`` inputs drawn as benchmarks/fuzz_codecs.py draws them (mutated captures, lies, noise)."""
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    rng = random.Random(f"{seed}:{name}")
    corpus = fuzzing.Corpus.build(target, rng, size=50)
    return [fuzzing.fuzz_input(corpus, rng) for _ in range(n)]


def kforce_streams(seed: int) -> list[list[bytes]]:
    """K-Force notification streams: steady, and with gaps, duplicates, steps back, wraps, several
    frames per notification, frames cut across notifications, replies, junk and header bytes in data."""
    rng = random.Random(seed)

    def frame(counter: int) -> bytes:
        ch = tuple(rng.randint(-(2**23), 2**23 - 1) for _ in range(4))
        return kforce_frame(counter, ch)  # type: ignore[arg-type]

    steady = [frame((65000 + 10 * k) % 2**16) for k in range(300)]  # wraps past 65535
    mixed, counter = [], rng.randrange(2**16)
    for _ in range(600):
        r = rng.random()
        frames = []
        for _ in range(rng.choice((1, 1, 1, 1, 2, 3))):
            frames.append(frame(counter))
            counter = (counter + rng.choice((10, 10, 10, 10, 10, 9, 11, 0, 20, 50, -30, 3000))) % 2**16
        note = b"".join(frames)
        if r < 0.05:
            mixed.append(b"000254" if rng.random() < 0.5 else b"12345x")
        elif r < 0.12:  # one frame cut across two notifications
            cut = rng.randint(1, len(note) - 1)
            mixed += [note[:cut], note[cut:]]
        elif r < 0.16:  # a notification that is not a frame, then the next one
            mixed += [rng.randbytes(rng.randint(0, 20)) + HEADER * rng.randint(0, 2), note]
        elif r < 0.2:  # a frame whose header is wrong
            mixed.append(b"\xff\xff\xfd" + note[3:])
        elif r < 0.23:  # the same frame in another buffer type
            mixed.append(bytearray(note) if rng.random() < 0.5 else memoryview(note))
        else:
            mixed.append(note)
    return [steady, mixed]


def test_kforce_fast_path_gives_the_events_and_stats_of_the_general_path():
    def prime(codec, n):  # a coefficient asked for, or a new stream started, as a session does
        codec.encode(GetCoefficient() if n % 2 else Start())

    assert_feed_equals_general(KForceCodec, kforce_streams(1))
    assert_feed_equals_general(KForceCodec, kforce_streams(2), prime=prime)
    target = next(t for t in fuzzing.TARGETS if t.name == "kforce")
    assert_feed_equals_general(KForceCodec, fuzz_streams("kforce", 400, 3), prime=target.prime)


def kgrip_streams(seed: int) -> list[list[bytes]]:
    """K-Grip serial reads: one frame per read, and reads cut anywhere, merged, with coefficient
    digits (awaited or not), junk and header bytes in data."""
    rng = random.Random(seed)
    frames = [kgrip_frame(rng.randrange(2**16), rng.randbytes(6)) for _ in range(400)]
    one_per_read = frames[:200]
    mixed: list[bytes] = []
    for f in frames:
        r = rng.random()
        if r < 0.05:
            mixed.append(b"000254"[: rng.randint(1, 6)])
        elif r < 0.1:
            cut = rng.randint(1, len(f) - 1)
            mixed += [f[:cut], f[cut:]]
        elif r < 0.15:
            mixed.append(rng.randbytes(rng.randint(0, 12)) + f)
        elif r < 0.2:
            mixed.append(f + frames[0])
        elif r < 0.23:
            mixed.append(bytearray(f) if rng.random() < 0.5 else memoryview(f))
        else:
            mixed.append(f)
    return [one_per_read, mixed]


def test_kgrip_fast_path_gives_the_events_and_stats_of_the_general_path():
    def prime(codec, n):  # a coefficient awaited now and then, as a session asks for it
        codec.encode(GetCoefficient() if n % 2 else Start())

    assert_feed_equals_general(KGripUsbCodec, kgrip_streams(4), prime=prime, timed=True)
    target = next(t for t in fuzzing.TARGETS if t.name == "kgrip")
    assert_feed_equals_general(
        KGripUsbCodec, fuzz_streams("kgrip", 400, 5), prime=target.prime, timed=True, seed=5
    )
