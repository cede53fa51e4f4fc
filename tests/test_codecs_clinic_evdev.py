"""evdev tablet codec: ``struct input_event`` bytes -> pen samples in mm, rad and 0-1, with kernel times.

Axes of an Intuos Pro M pen node (linuxwacom/input-wacom wiki): X 0-44800 and Y 0-29600 at
200 units/mm, pressure 0-8191, tilt -64..63 at 57 units/rad, distance 0-63.
"""

from __future__ import annotations

import dataclasses
import math
import random
import struct
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorlab.devices.base import GetInfo, Start, Stop
from motorlab.devices.codecs.evdev_tablet import AbsAxis, EvdevTabletCodec, pack_events
from motorlab.errors import DeviceError

from .clinic_codec_helpers import assert_split_invariant, blocks, values_of
from .fast_path_diff import assert_same_events

EV_SYN, EV_KEY, EV_ABS, EV_MSC = 0, 1, 3, 4
SYN_REPORT, SYN_DROPPED = 0, 3
ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE, ABS_TILT_X, ABS_TILT_Y = 0, 1, 0x18, 0x19, 0x1A, 0x1B
BTN_TOOL_PEN, BTN_TOUCH, BTN_STYLUS = 0x140, 0x14A, 0x14B
MSC_SERIAL = 0

# python-evdev's AbsInfo is a namedtuple with these fields
AbsInfo = namedtuple("AbsInfo", "value min max fuzz flat resolution")
INTUOS = {
    ABS_X: AbsInfo(0, 0, 44800, 4, 0, 200),
    ABS_Y: AbsInfo(0, 0, 29600, 4, 0, 200),
    ABS_PRESSURE: AbsInfo(0, 0, 8191, 0, 0, 0),
    ABS_DISTANCE: AbsInfo(63, 0, 63, 0, 0, 0),
    ABS_TILT_X: AbsInfo(0, -64, 63, 0, 0, 57),
    ABS_TILT_Y: AbsInfo(0, -64, 63, 0, 0, 57),
}
CHANNELS = [
    "pos_x",
    "pos_y",
    "pressure",
    "distance",
    "tilt_x",
    "tilt_y",
    "in_range",
    "tip_contact",
    "barrel_button",
]


def ev(t: float, etype: int, code: int, value: int) -> bytes:
    """One 64-bit ``struct input_event`` built by hand: timeval (2 longs), u16, u16, s32."""
    sec = int(t)
    return struct.pack("=qqHHi", sec, round((t - sec) * 1e6), etype, code, value)


def syn(t: float) -> bytes:
    return ev(t, EV_SYN, SYN_REPORT, 0)


HOVER_THEN_TOUCH = (
    ev(100.0, EV_KEY, BTN_TOOL_PEN, 1)
    + ev(100.0, EV_ABS, ABS_X, 20000)
    + ev(100.0, EV_ABS, ABS_Y, 10000)
    + ev(100.0, EV_ABS, ABS_DISTANCE, 10)
    + ev(100.0, EV_ABS, ABS_TILT_X, 57)
    + ev(100.0, EV_ABS, ABS_TILT_Y, -28)
    + ev(100.0, EV_MSC, MSC_SERIAL, 0x1234)
    + syn(100.0)
    + ev(100.005, EV_KEY, BTN_TOUCH, 1)
    + ev(100.005, EV_ABS, ABS_PRESSURE, 4095)
    + ev(100.005, EV_ABS, ABS_X, 20200)
    + ev(100.005, EV_ABS, ABS_DISTANCE, 0)
    + syn(100.005)
)
EXPECTED = np.array(
    [
        [100.0, 50.0, 0.0, 10 / 63, 1.0, -28 / 57, 1.0, 0.0, 0.0],
        [101.0, 50.0, 4095 / 8191, 0.0, 1.0, -28 / 57, 1.0, 1.0, 0.0],
    ]
)


def test_reports_in_physical_units_with_kernel_times():
    c = EvdevTabletCodec(INTUOS, name="/dev/input/event7")
    assert [ch.name for ch in c.channels] == CHANNELS
    assert [ch.units for ch in c.channels[:6]] == ["mm", "mm", "1", "1", "rad", "rad"]
    (blk,) = c.feed(HOVER_THEN_TOUCH)
    np.testing.assert_allclose(blk.values, EXPECTED, rtol=1e-12)
    np.testing.assert_allclose(blk.device_time, [0.0, 0.005], atol=1e-9)
    assert c.time_origin_s == 100.0 and c.stats.frames_ok == 2 and c.assumptions == ()


def test_split_at_every_byte_and_feeding_event_tuples():
    assert_split_invariant(lambda: EvdevTabletCodec(INTUOS), HOVER_THEN_TOUCH, EXPECTED)
    rows = np.frombuffer(
        HOVER_THEN_TOUCH, dtype=[("s", "=i8"), ("u", "=i8"), ("t", "=u2"), ("c", "=u2"), ("v", "=i4")]
    )
    (blk,) = EvdevTabletCodec(INTUOS).feed_events(
        rows.tolist()
    )  # python-evdev's (sec, usec, type, code, value)
    np.testing.assert_allclose(blk.values, EXPECTED, rtol=1e-12)


def test_32_bit_event_layout():
    data = struct.pack("=iiHHi", 5, 0, EV_ABS, ABS_X, 400) + struct.pack(
        "=iiHHi", 5, 0, EV_SYN, SYN_REPORT, 0
    )
    (blk,) = EvdevTabletCodec(
        {ABS_X: AbsAxis(0, 1000, 200), ABS_Y: AbsAxis(0, 1000, 200, 0)}, long_bytes=4
    ).feed(data)
    assert blk.values[0, :2].tolist() == [2.0, 0.0]
    assert pack_events([(5, 0, EV_ABS, ABS_X, 400)], long_bytes=4) == data[:16]


def test_a_tablet_without_resolution_is_refused_in_one_line():
    no_res = {**INTUOS, ABS_X: AbsInfo(0, 0, 44800, 4, 0, 0)}
    with pytest.raises(DeviceError) as err:
        EvdevTabletCodec(no_res, name="/dev/input/event9")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("/dev/input/event9: ") and "ABS_X" in msg and "mm" in msg
    with pytest.raises(DeviceError, match="ABS_Y"):
        EvdevTabletCodec({ABS_X: INTUOS[ABS_X]})
    with pytest.raises(DeviceError, match="maximum"):
        EvdevTabletCodec({**INTUOS, ABS_PRESSURE: AbsInfo(0, 5, 5, 0, 0, 0)})


def test_tilt_without_resolution_follows_libinput():
    """libinput adjust_tilt(): resolution 0 -> the declared range maps linearly onto -64..+64 degrees."""
    axes = {**INTUOS, ABS_TILT_X: AbsInfo(0, 0, 127, 0, 0, 0), ABS_TILT_Y: AbsInfo(0, 0, 127, 0, 0, 0)}
    c = EvdevTabletCodec(axes)
    assert c.assumptions == ("tilt_range_assumed",)
    data = ev(1, EV_ABS, ABS_TILT_X, 127) + ev(1, EV_ABS, ABS_TILT_Y, 0) + syn(1)
    (blk,) = c.feed(data)
    np.testing.assert_allclose(blk.values[0, 4:6], [math.radians(64), -math.radians(64)])
    c2 = EvdevTabletCodec(axes, tilt_fallback_deg=None)
    assert "tilt_x" not in [ch.name for ch in c2.channels] and c2.assumptions == ()


def _reports(t0: float, n: int, period: float) -> bytes:
    return b"".join(ev(t0 + k * period, EV_ABS, ABS_X, 1000 + k) + syn(t0 + k * period) for k in range(n))


def test_syn_dropped_skips_to_the_next_report_and_estimates_the_loss():
    c = EvdevTabletCodec(INTUOS)
    c.feed(ev(10.0, EV_KEY, BTN_TOOL_PEN, 1) + ev(10.0, EV_KEY, BTN_TOUCH, 1) + _reports(10.0, 20, 0.005))
    assert c.rate_hz == pytest.approx(200.0)
    after = (
        ev(10.097, EV_SYN, SYN_DROPPED, 0)
        + ev(10.100, EV_ABS, ABS_X, 9999)  # part of a report the kernel could not deliver whole: ignored
        + syn(10.100)
        + ev(10.115, EV_ABS, ABS_X, 2000)
        + syn(10.115)
    )
    (blk,) = c.feed(after)
    assert blk.dropped_before == 3  # the reports of 10.100, 10.105 and 10.110
    assert blk.values[0, 0] == pytest.approx(10.0) and blk.device_time[0] == pytest.approx(0.115)
    assert c.stats.dropped_samples == 3 and c.needs_resync
    assert blk.values[0, 7] == 1.0  # tip still "down": stale until the driver resyncs
    c.resync({ABS_X: 2000, ABS_PRESSURE: 0}, keys=[BTN_TOOL_PEN])
    assert not c.needs_resync
    (blk,) = c.feed(syn(10.120))
    assert blk.values[0, 6:].tolist() == [1.0, 0.0, 0.0]


def test_report_rate_is_derived_from_kernel_timestamps():
    rng = np.random.default_rng(9)
    t = np.cumsum(rng.uniform(0.0070, 0.0080, 300))  # ~133 reports/s with jitter
    data = b"".join(ev(1000 + tk, EV_ABS, ABS_Y, k) + syn(1000 + tk) for k, tk in enumerate(t))
    c = EvdevTabletCodec(INTUOS)
    for k in range(0, len(data), 1000):
        c.feed(data[k : k + 1000])
    assert c.rate_hz == pytest.approx(1 / 0.0075, rel=0.01)


def test_clock_step_back_is_reanchored_and_duplicates_dropped():
    c = EvdevTabletCodec(INTUOS)
    out = c.feed(_reports(50.0, 10, 0.01) + syn(50.09) + ev(49.0, EV_ABS, ABS_X, 5) + syn(49.0))
    t = np.concatenate([b.device_time for b in blocks(out)])
    assert (np.diff(t) > 0).all() and t.size == 11
    assert c.stats.out_of_order == 1 and c.stats.duplicates == 1


def test_malformed_events_are_counted():
    c = EvdevTabletCodec(INTUOS)
    bad = struct.pack("=qqHHi", 1, 0, 0x40, 0, 0) + struct.pack("=qqHHi", 1, 2_000_000, EV_ABS, ABS_X, 1)
    assert c.feed(bad) == [] and c.stats.malformed_frames == 2


def test_no_commands():
    c = EvdevTabletCodec(INTUOS)
    assert c.encode(Start()) == b"" and c.encode(Stop()) == b""
    with pytest.raises(ValueError):
        c.encode(GetInfo())


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_feed_never_raises(chunks):
    c = EvdevTabletCodec(INTUOS)
    for chunk in chunks:
        for blk in blocks(c.feed(chunk)):
            assert blk.values.shape[1] == len(CHANNELS)
    assert len(c._carry) < 24


@given(
    st.lists(
        st.tuples(
            st.sampled_from([EV_ABS, EV_KEY, EV_SYN]),
            st.sampled_from([ABS_X, ABS_Y, ABS_PRESSURE, ABS_TILT_X, BTN_TOUCH, BTN_TOOL_PEN, SYN_DROPPED]),
            st.integers(-(2**31), 2**31 - 1),
        ),
        max_size=40,
    )
)
def test_any_event_sequence_keeps_fractions_in_range(events):
    c = EvdevTabletCodec(INTUOS)
    stream = [(1, k * 1000, t, code, v) for k, (t, code, v) in enumerate(events)] + [
        (2, 0, EV_SYN, SYN_REPORT, 0)
    ]
    v = values_of(c.feed(pack_events(stream)))
    if v.size:
        assert np.all((v[:, 2] >= 0) & (v[:, 2] <= 1))  # pressure stays a fraction even for wild values


# ------------------------------------------------------------------ feed's fast path == the general path
def _assert_same_codec_state(fast: EvdevTabletCodec, general: EvdevTabletCodec, where: str) -> None:
    assert dataclasses.asdict(fast.stats) == dataclasses.asdict(general.stats), where
    assert repr((fast.rate_hz, fast.time_origin_s, fast.needs_resync)) == repr(
        (general.rate_hz, general.time_origin_s, general.needs_resync)
    ), where


def _feed_both(pieces: list[bytes], make=lambda: EvdevTabletCodec(INTUOS), between=None) -> int:
    """Feed ``pieces`` one per call to a codec through ``feed`` and to another through the general
    path only; assert the same events and state after every call. Returns the samples decoded."""
    fast, general = make(), make()
    samples = 0
    for k, piece in enumerate(pieces):
        if between is not None:
            between(k, fast)
            between(k, general)
        got, want = fast.feed(piece), general._feed_general(piece)
        assert_same_events(got, want, f"piece {k}: {piece.hex()}")
        _assert_same_codec_state(fast, general, f"after piece {k}")
        samples += sum(e.n for e in got)
    return samples


def _one_report_reads(n: int, seed: int) -> list[bytes]:
    """A pen stroke as the kernel delivers it: one read = one report of changed axes and SYN_REPORT,
    with the odd key change, repeated report, clock step back, SYN_DROPPED, unknown or wild values."""
    rng = np.random.default_rng(seed)
    reads, t = [ev(100.0, EV_KEY, BTN_TOOL_PEN, 1) + syn(100.0)], 100.0
    for k in range(n):
        t += float(rng.choice([0.005, 0.0075, 0.0, -0.02, 0.005]))
        codes = rng.permutation([ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE, ABS_TILT_X, 0x30])[
            : rng.integers(0, 5)
        ]
        read = b"".join(ev(t, EV_ABS, int(c), int(rng.integers(-9000, 50000))) for c in codes) + syn(t)
        r = rng.random()
        if r < 0.05:
            read = ev(t, EV_KEY, BTN_TOUCH, int(rng.integers(0, 2))) + read
        elif r < 0.08:
            read = ev(t, EV_SYN, SYN_DROPPED, 0) + read
        elif r < 0.10:  # a read cut anywhere (the rest comes with the next one)
            cut = int(rng.integers(1, len(read)))
            reads.append(read[:cut])
            read = read[cut:]
        elif r < 0.12:
            read = struct.pack("=qqHHi", int(t), 1_000_000, EV_ABS, ABS_X, 5) + read  # usec no kernel sends
        elif r < 0.14:
            read += read  # two reports in one read
        reads.append(read)
        if rng.random() < 0.05:
            reads.append(read)  # the same read again (a duplicate report)
    return reads


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_gives_the_general_paths_events_and_stats(seed):
    assert _feed_both(_one_report_reads(400, seed)) > 300
    # a clean stroke (nearly every read takes the fast path), and the 32-bit layout
    clean = [ev(5 + k * 0.005, EV_ABS, ABS_X, k) + ev(5 + k * 0.005, EV_ABS, ABS_PRESSURE, 9000 - 40 * k)
             + syn(5 + k * 0.005) for k in range(300)]  # fmt: skip
    assert _feed_both(clean) == 300
    axes = {ABS_X: AbsAxis(0, 1000, 200), ABS_Y: AbsAxis(0, 1000, 200, 0), ABS_PRESSURE: AbsAxis(-5, 100)}
    thin = [struct.pack("=iiHHi", 5, 1000 * k, EV_ABS, ABS_PRESSURE, k - 10) + struct.pack("=iiHHi", 5, 1000 * k, 0, 0, 0)
            for k in range(200)]  # fmt: skip
    assert _feed_both(thin, lambda: EvdevTabletCodec(axes, long_bytes=4)) == 200


def test_fast_path_equals_the_general_path_after_resync_and_restart():
    def between(k: int, codec: EvdevTabletCodec) -> None:
        if k % 97 == 50:
            codec.resync({ABS_X: 7 * k, ABS_PRESSURE: -3}, keys=[BTN_TOOL_PEN, BTN_STYLUS])
        if k % 131 == 70:
            codec.encode(Start())

    assert _feed_both(_one_report_reads(500, 99), between=between) > 400


def test_fast_path_equals_the_general_path_on_fuzz_inputs():
    from motorlab.devices.codecs.fuzzing import TARGETS, Corpus, fuzz_input

    target = next(t for t in TARGETS if t.name == "evdev_tablet")
    rng = random.Random(10)
    corpus = Corpus.build(target, rng, size=60)
    for _ in range(400):
        pieces = fuzz_input(corpus, rng)
        if rng.random() < 0.5:  # whole pieces as well as pieces cut anywhere
            pieces = list(rng.choice(corpus.captures))
        _feed_both(pieces, target.make)
