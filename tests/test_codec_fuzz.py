"""Hypothesis fuzzing of every codec: arbitrary bytes never raise; valid frames after garbage are recovered.

One table row per codec: how to make it, how to build valid device frames
(with the values they must decode to, computed here from the protocol's
documented scaling), what a line protocol needs to resynchronise, and how to
prime a request/response codec. Adding a codec = adding one ``CodecCase``.

Serial codecs get a byte stream cut anywhere. BLE codecs get notifications, as
the real transport delivers them (one ``feed`` per ATT packet): Tindeq
notifications hold whole TLV frames, Vernier frames start a notification and
continue in 20-byte pieces, WT901BLE notifications hold whole 20-byte frames.
For them, garbage notifications are interleaved *between* valid ones, and
every valid notification must decode to exactly its own samples and replies,
whatever came before it. (Garbage notifications may themselves decode to
something: Tindeq and WT901BLE frames have no checksum, so a well-formed
garbage frame is indistinguishable from data; only the valid ones are checked.)
"""

from __future__ import annotations

import os
import random
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorlab.devices.base import Ack, BatteryReply, Command, InfoReply, SampleBlock, Start, stack_blocks
from motorlab.devices.codecs import fuzzing

from .fast_path_diff import assert_same_events

G = 9.80665
LBF_N = 0.45359237 * G

#: frames strategy -> (wire bytes, expected decoded values (n_samples, n_channels))
FrameMaker = Callable[[st.DrawFn], tuple[bytes, np.ndarray]]


@dataclass
class CodecCase:
    name: str
    make: Callable[[], object]
    frames: FrameMaker
    #: bytes a line protocol needs after garbage before frames can be trusted again
    resync: bytes = b""
    #: set up a request/response codec for ``n`` replies (polls in flight, INFO seen...)
    prime: Callable[[object, int], None] = lambda codec, n: None
    rel_tol: float = 1e-9
    #: codec-specific event types besides the shared ones (SampleBlock, InfoReply, Ack, BatteryReply)
    extra_events: Callable[[], tuple[type, ...]] = tuple
    #: a known recovery defect (the test is a strict xfail until the codec is fixed)
    recovery_defect: str = ""
    #: BLE: ``frames`` draws notification groups (see ``Group``) instead of one byte stream
    notifications: bool = False


@dataclass
class Group:
    """Valid notifications that carry whole frames, and what they must decode to."""

    notifications: list[bytes]
    values: list[list[float]]  # samples, one row per sample
    replies: list[object]  # codec-specific reply events, in order
    raw_us: list[int] = field(default_factory=list)  # Tindeq: the device's µs counter per sample


# ------------------------------------------------------------------ witmotion (serial, 11-byte frames)
def _wt_frame(ftype: int, words) -> bytes:
    body = struct.pack("<BB4h", 0x55, ftype, *words)
    return body + bytes([sum(body) & 0xFF])


@st.composite
def witmotion_frames(draw) -> tuple[bytes, np.ndarray]:
    n = draw(st.integers(1, 8))
    i16 = st.integers(-32768, 32767)
    raw = np.array(draw(st.lists(st.lists(i16, min_size=12, max_size=12), min_size=n, max_size=n)))
    data = b"".join(
        _wt_frame(0x51, (*r[0:3], 0)) + _wt_frame(0x52, (*r[3:6], 0)) + _wt_frame(0x53, (*r[6:9], 0))
        + _wt_frame(0x54, (*r[9:12], 0))
        for r in raw
    )  # fmt: skip
    scale = np.repeat([16 / 32768 * G, 2000 / 32768, 180 / 32768, 0.15], 3)
    return data, raw * scale


def _witmotion():
    from motorlab.devices.codecs.witmotion import WitMotionCodec

    return WitMotionCodec(rate_hz=100)


# ------------------------------------------------------------------ mark10 (ASCII lines, polled)
_M10_UNITS = {"N": 1.0, "lbF": LBF_N, "kgF": G, "mN": 1e-3}


@st.composite
def mark10_frames(draw) -> tuple[bytes, np.ndarray]:
    n = draw(st.integers(1, 8))
    values = draw(st.lists(st.integers(-99999, 99999), min_size=n, max_size=n))
    units = draw(st.lists(st.sampled_from(sorted(_M10_UNITS)), min_size=n, max_size=n))
    lines = [f"{v / 100:.2f} {u}\r\n" for v, u in zip(values, units)]
    expected = np.array([v / 100 * _M10_UNITS[u] for v, u in zip(values, units)])[:, None]
    return "".join(lines).encode(), expected


def _mark10():
    from motorlab.devices.codecs.mark10 import Mark10Codec

    return Mark10Codec()


def _mark10_prime(codec, n: int) -> None:
    from motorlab.devices.codecs.mark10 import Poll

    for k in range(n):
        codec.encode(Poll(k * 0.05))


# ------------------------------------------------------------------ motorlab open protocol (COBS + CRC16)
def _ml_info_frame(scale: float) -> bytes:
    from motorlab.devices.codecs import motorlab_protocol as mp

    def s(text: str) -> bytes:
        return bytes([len(text)]) + text.encode()

    payload = struct.pack("<BBBIII", 1, 2, 1, 100_000, 1000, 1_000_000)
    payload += s("fuzz") + s("1") + s("1.0") + s("motorlab")
    payload += s("force") + s("MISC") + s("N") + s("handle") + struct.pack("<f", scale)
    return mp.encode_frame(mp.INFO, 0, payload)


@st.composite
def motorlab_frames(draw) -> tuple[bytes, np.ndarray]:
    from motorlab.devices.codecs import motorlab_protocol as mp

    n_blocks = draw(st.integers(1, 4))
    data, expected, seq = b"", [], draw(st.integers(0, 1000))
    for _ in range(n_blocks):
        vals = draw(st.lists(st.integers(-32768, 32767), min_size=1, max_size=20))
        rec = np.zeros(len(vals), dtype=[("t", "<u4"), ("v", "<i2")])
        rec["t"] = (seq + np.arange(len(vals))) * 10_000
        rec["v"] = vals
        payload = struct.pack("<IBBB", seq, len(vals), 1, 2) + rec.tobytes()
        data += mp.encode_frame(mp.SAMPLES, 0, payload)
        expected.extend(v * 0.5 for v in vals)
        seq += len(vals)
    return data, np.array(expected)[:, None]


def _motorlab():
    from motorlab.devices.codecs.motorlab_protocol import MotorlabCodec

    return MotorlabCodec()


def _motorlab_prime(codec, n: int) -> None:
    codec.feed(_ml_info_frame(0.5))


# ------------------------------------------------------------------ tindeq (BLE TLV)
@st.composite
def tindeq_groups(draw) -> list[Group]:
    """Notifications of 1-3 weight frames; the µs counter may start just before its 2^32 wrap."""
    from motorlab.devices.codecs.tindeq import weight_frame

    t = draw(st.one_of(st.integers(0, 10**6), st.integers(2**32 - 10**6, 2**32 - 1)))
    groups = []
    for _ in range(draw(st.integers(1, 5))):
        frames, values, raw_us = [], [], []
        for _ in range(draw(st.integers(1, 3))):
            kg = (
                np.array(draw(st.lists(st.integers(-2000, 20000), min_size=1, max_size=8)), dtype=np.float32)
                / 100
            )
            us = (t + np.arange(kg.size) * 12_500) % 2**32
            frames.append(weight_frame(kg, us))
            values += [[v * G] for v in kg.astype(np.float64)]
            raw_us += us.tolist()
            t += kg.size * 12_500 * draw(st.integers(1, 3))  # sometimes samples go missing
        groups.append(Group([b"".join(frames)], values, [], raw_us))
    return groups


def _tindeq():
    from motorlab.devices.codecs.tindeq import TindeqCodec

    return TindeqCodec()


# ------------------------------------------------------------------ vernier (BLE, Go Direct frames)
def _split20(frame: bytes) -> list[bytes]:
    return [frame[i : i + 20] for i in range(0, len(frame), 20)]


@st.composite
def vernier_groups(draw) -> list[Group]:
    """Measurement frames of 1-12 samples (up to 3 notifications), status replies, and long
    sensor-info replies (8 notifications) to the command in flight (GET_SENSOR_INFO, counter 0xFE)."""
    from motorlab.devices.codecs import vernier as vd

    groups = []
    for k in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["samples", "samples", "status", "sensor_info"]))
        if kind == "samples":
            vals = (
                np.array(
                    draw(st.lists(st.integers(-50000, 50000), min_size=1, max_size=12)), dtype=np.float32
                )
                / 100
            )
            frame = vd.measurement_frame(vals[:, None], vd.DEFAULT_SENSOR_MASK, k)
            groups.append(Group(_split20(frame), [[v] for v in vals.astype(np.float64)], []))
        elif kind == "status":
            payload = bytes((0, 0, 1, 5, 43, 0, 0, 0, 0, 0, draw(st.integers(0, 100)), 1))
            frame = vd.reply_frame(vd.CMD_GET_STATUS, 0xFD, payload)
            groups.append(Group([frame], [], [vd.GdxReply(vd.CMD_GET_STATUS, 0xFD, payload)]))
        else:
            info = vd.SensorInfo(
                1,
                5720,
                0,
                0,
                draw(st.sampled_from(["Force", "Grip force"])),
                "N",
                -100.0,
                850.0,
                1000,
                draw(st.integers(1000, 10**6)),
            )
            payload = vd.sensor_info_payload(info)
            frame = vd.reply_frame(vd.CMD_GET_SENSOR_INFO, 0xFE, payload)
            groups.append(Group(_split20(frame), [], [vd.GdxReply(vd.CMD_GET_SENSOR_INFO, 0xFE, payload)]))
    return groups


def _vernier():
    from motorlab.devices.codecs.vernier import VernierCodec

    return VernierCodec()


def _vernier_prime(codec, n: int) -> None:
    from motorlab.devices.codecs.vernier import GetSensorInfo

    codec.encode(GetSensorInfo(1))  # INIT not sent: the first command carries counter 0xFE


def _vernier_events():
    from motorlab.devices.codecs.vernier import GdxReply

    return (GdxReply,)


# ------------------------------------------------------------------ witmotion_ble (20-byte 55 61 frames, no checksum)
@st.composite
def witmotion_ble_groups(draw) -> list[Group]:
    """Notifications of 1-3 whole frames: ``55 61`` samples and, now and then, a ``55 71`` register reply."""
    from motorlab.devices.codecs import witmotion_ble as wb

    i16 = st.integers(-32768, 32767)
    groups = []
    for _ in range(draw(st.integers(1, 5))):
        frames, values, replies = [], [], []
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 5)) == 0:
                reg, regs = (
                    draw(st.sampled_from([0x2E, 0x03, 0x3A])),
                    tuple(draw(st.lists(i16, min_size=8, max_size=8))),
                )
                frames.append(wb.register_frame(reg, regs))
                replies.append(wb.RegisterReply(reg, regs))
            else:
                raw = np.array(draw(st.lists(i16, min_size=9, max_size=9)))
                frames.append(wb.data_frame(raw))
                values.append((raw * wb.SCALE).tolist())
        groups.append(Group([b"".join(frames)], values, replies))
    return groups


def _witmotion_ble():
    from motorlab.devices.codecs.witmotion_ble import WitMotionBleCodec

    return WitMotionBleCodec(rate_hz=50)


def _witmotion_ble_events():
    from motorlab.devices.codecs.witmotion_ble import RegisterReply

    return (RegisterReply,)


CASES = [
    CodecCase("witmotion", _witmotion, witmotion_frames()),
    CodecCase("mark10", _mark10, mark10_frames(), resync=b"\r\n", prime=_mark10_prime),
    CodecCase("motorlab", _motorlab, motorlab_frames(), prime=_motorlab_prime),
    CodecCase("tindeq", _tindeq, tindeq_groups(), notifications=True),
    CodecCase(
        "vernier",
        _vernier,
        vernier_groups(),
        prime=_vernier_prime,
        extra_events=_vernier_events,
        notifications=True,
    ),
    CodecCase(
        "witmotion_ble",
        _witmotion_ble,
        witmotion_ble_groups(),
        prime=lambda c, n: c.encode(Start()),
        extra_events=_witmotion_ble_events,
        notifications=True,
    ),
]
IDS = [c.name for c in CASES]
#: bytes that mean something to some protocol (headers, types, delimiters), mixed into the noise
_SPECIAL = [0x00, 0x01, 0x0A, 0x0D, 0x20, 0x2A, 0x2E, 0x51, 0x52, 0x53, 0x54, 0x55, 0x58, 0x5F, 0xAA, 0xFF]


def noise(max_size: int) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, rich in protocol-significant values."""
    byte = st.one_of(st.integers(0, 255), st.sampled_from(_SPECIAL))
    return st.one_of(st.binary(max_size=max_size), st.lists(byte, max_size=max_size).map(bytes))


#: FUZZ_EXAMPLES=3000 for a longer hunt (the default keeps this file to seconds)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check_events(events, case: CodecCase) -> None:
    allowed = (SampleBlock, InfoReply, Ack, BatteryReply, *case.extra_events())
    for ev in events:
        assert isinstance(ev, allowed), f"{case.name}: unexpected event {type(ev).__name__}"
        if isinstance(ev, SampleBlock):
            assert ev.values.ndim == 2 and ev.values.shape[0] == ev.device_time.size


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)]) if b > a]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@FUZZ
@given(data=noise(600), cuts=st.lists(st.integers(0, 600), max_size=8), primed=st.booleans())
def test_arbitrary_bytes_never_raise(case: CodecCase, data: bytes, cuts: list[int], primed: bool):
    codec = case.make()
    if primed:
        case.prime(codec, 5)
    for chunk in _chunks(data, cuts):
        _check_events(codec.feed(chunk), case)
    assert codec.stats.bytes_in >= len(data)


@pytest.mark.parametrize("case", [c for c in CASES if c.notifications], ids=lambda c: c.name)
@FUZZ
@given(st.data())
def test_arbitrary_notifications_never_raise(case: CodecCase, data):
    """Many short notifications: pieces of valid ones with bytes flipped, cut or dropped, and noise."""
    codec = case.make()
    if data.draw(st.booleans(), label="primed"):
        case.prime(codec, 5)
    valid = [n for g in data.draw(case.frames, label="groups") for n in g.notifications]
    for _ in range(data.draw(st.integers(1, 30), label="count")):
        if data.draw(st.booleans()):
            note = bytearray(data.draw(st.sampled_from(valid)))
            for _ in range(data.draw(st.integers(0, 3))):
                note[data.draw(st.integers(0, len(note) - 1))] = data.draw(st.sampled_from(_SPECIAL))
            note = note[: data.draw(st.integers(0, len(note)))]
        else:
            note = data.draw(noise(25))
        _check_events(codec.feed(bytes(note)), case)


STREAM_CASES = [c for c in CASES if not c.notifications]
BLE_CASES = [c for c in CASES if c.notifications]
RECOVERY_CASES = [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.recovery_defect))
    if c.recovery_defect
    else c
    for c in STREAM_CASES
]


@pytest.mark.parametrize("case", RECOVERY_CASES, ids=[c.name for c in STREAM_CASES])
@FUZZ
@given(st.data())
def test_valid_frames_after_garbage_are_recovered(case: CodecCase, data):
    codec = case.make()
    garbage = data.draw(noise(300), label="garbage")
    frames, expected = data.draw(case.frames, label="frames")
    cuts = data.draw(st.lists(st.integers(0, len(frames)), max_size=6), label="cuts")
    _check_events(codec.feed(garbage), case)
    _check_events(codec.feed(case.resync), case)
    case.prime(codec, len(expected))
    events = []
    for chunk in _chunks(frames, cuts):
        events += codec.feed(chunk)
    _check_events(events, case)
    _, values = stack_blocks([e for e in events if isinstance(e, SampleBlock)])
    assert values.shape[0] >= expected.shape[0], (
        f"{case.name}: only {values.shape[0]} of {len(expected)} samples"
    )
    np.testing.assert_allclose(values[-len(expected) :], expected, rtol=case.rel_tol, atol=1e-9)


@pytest.mark.parametrize("case", BLE_CASES, ids=[c.name for c in BLE_CASES])
@FUZZ
@given(st.data())
def test_valid_notifications_between_garbage_notifications_are_recovered(case: CodecCase, data):
    codec = case.make()
    case.prime(codec, 0)
    groups = data.draw(case.frames, label="groups")
    garbage = st.lists(noise(60), max_size=2)
    valid_events = []
    for group in groups:
        for junk in data.draw(garbage, label="garbage before"):
            _check_events(codec.feed(junk), case)
        for note in group.notifications:
            valid_events += codec.feed(note)
    for junk in data.draw(garbage, label="garbage after"):
        _check_events(codec.feed(junk), case)
    _check_events(valid_events, case)

    blocks = [e for e in valid_events if isinstance(e, SampleBlock)]
    expected = np.array([row for g in groups for row in g.values]).reshape(
        -1, 9 if case.name == "witmotion_ble" else 1
    )
    _, values = stack_blocks(blocks)
    assert values.shape[0] == expected.shape[0], (
        f"{case.name}: {values.shape[0]} samples, {len(expected)} sent"
    )
    if len(expected):
        np.testing.assert_allclose(values, expected, rtol=case.rel_tol, atol=1e-9)
    replies = [e for e in valid_events if isinstance(e, case.extra_events())]
    assert replies == [r for g in groups for r in g.replies]
    raw_us = [u for g in groups for u in g.raw_us]
    if raw_us:  # device time is the µs counter, unwrapped (the wrap count itself is not checkable)
        t_us = np.round(np.concatenate([b.device_time for b in blocks]) * 1e6).astype(np.int64)
        np.testing.assert_array_equal(t_us % 2**32, raw_us)


# ------------------------------------------------------------------ the former recovery defects, as examples
def test_tindeq_stray_zero_notification_does_not_swallow_the_next_frame():
    from motorlab.devices.codecs.tindeq import TindeqCodec, weight_frame

    codec = TindeqCodec()
    assert codec.feed(b"\x00") == []
    [blk] = codec.feed(weight_frame(np.array([1.5], np.float32), [12_500]))
    assert blk.values[0, 0] == pytest.approx(1.5 * G) and blk.device_time[0] == pytest.approx(0.0125)


def test_vernier_garbage_with_a_reply_header_does_not_swallow_the_next_frame():
    from motorlab.devices.codecs.vernier import VernierCodec, measurement_frame

    codec = VernierCodec()
    assert codec.feed(bytes.fromhex("0013000010")) == []  # type 00, length 19, byte 4 = GET_STATUS
    [blk] = codec.feed(measurement_frame(np.array([[2.5], [3.0]]), 0x02))
    np.testing.assert_array_equal(blk.values[:, 0], [2.5, 3.0])
    bad = bytearray(measurement_frame(np.array([[7.0]]), 0x02))
    bad[-1] ^= 0x01  # one bit flipped in the value: the checksum catches it
    assert codec.feed(bytes(bad)) == [] and codec.stats.crc_errors >= 1


def test_witmotion_ble_cut_frame_left_by_garbage_is_not_joined_to_a_whole_frame():
    from motorlab.devices.codecs import witmotion_ble as wb

    codec = wb.WitMotionBleCodec(rate_hz=50)
    codec.encode(Start())
    raw = np.arange(9)
    assert codec.feed(b"\x01\x55\x61\x02") == []  # leaves '55 61 02' as a cut frame
    [blk] = codec.feed(wb.data_frame(raw))
    np.testing.assert_allclose(blk.values[0], raw * wb.SCALE)
    assert codec.stats.bytes_discarded == 4


# ------------------------------------------------------------------ the fuzzing registry (motorlab.devices.codecs.fuzzing)
# benchmarks/fuzz_codecs.py runs 10^6 of these inputs per codec; here a quick run keeps every codec honest.
TARGET_IDS = [t.name for t in fuzzing.TARGETS]
#: codecs with a vectorised replay entry point (``feed_bulk``); the clinic codecs have none
BULK_TARGETS = [t for t in fuzzing.TARGETS if hasattr(t.make(), "feed_bulk")]
BULK_IDS = [t.name for t in BULK_TARGETS]


@cache
def _corpus(name: str) -> fuzzing.Corpus:
    target = next(t for t in fuzzing.TARGETS if t.name == name)
    return fuzzing.Corpus.build(target, random.Random(name), size=40)


def test_every_codec_module_has_a_fuzz_target():
    from pathlib import Path

    import motorlab.devices.codecs as pkg

    helpers = {"__init__", "blocks", "bulk_framing", "fuzzing", "host_timing", "integrity", "sync_framer"}
    # JSON messages of the browser page, not device bytes: fuzzed by test_browser_pen_messages_never_raise
    message_codecs = {"browser_pen"}
    modules = {p.stem for p in Path(pkg.__file__).parent.glob("*.py")} - helpers - message_codecs
    covered = {type(t.make()).__module__.rsplit(".", 1)[-1] for t in fuzzing.TARGETS}
    protocols = [t.make().protocol for t in fuzzing.TARGETS]
    assert covered == modules, sorted(modules ^ covered)
    assert len(set(protocols)) == len(protocols) == len(fuzzing.TARGETS)
    assert {"kinvent-kforce", "kinvent-kgrip"} <= set(protocols)  # one module, two codecs


@pytest.mark.parametrize("target", fuzzing.TARGETS, ids=TARGET_IDS)
@FUZZ
@given(seed=st.integers(0, 2**64), prime=st.integers(0, 12))
def test_mutated_captures_never_raise(target, seed, prime):
    rng = random.Random(seed)
    codec = target.make()
    target.prime(codec, prime)
    fed, host_time = codec.stats.bytes_in, 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy overflow / invalid-cast warnings count as failures
        for _ in range(5):
            for piece in fuzzing.fuzz_input(_corpus(target.name), rng):
                host_time = fuzzing.next_host_time(rng, host_time)
                events = fuzzing.feed_piece(target, codec, piece, host_time)
                fed += len(piece)
                assert fuzzing.check_events(target, events, host_time) is None
    assert codec.stats.bytes_in == fed


def test_vernier_short_measurement_frame_with_valid_checksum_is_dropped_not_raised():
    """Issue 12: 5-9-byte measurement frames with a valid checksum raised IndexError (byte 9 read
    for the count of a WIDE_REAL32 frame that has 7 bytes)."""
    from motorlab.devices.codecs.vernier import VernierCodec, checksum, measurement_frame

    frame = bytes.fromhex("20 07 53 1f 07 04 9a")
    assert checksum(frame) == frame[3] == 0x1F  # the checksum is right: only the length check can stop it
    codec = VernierCodec()
    assert codec.feed(frame) == []
    assert (codec.stats.frames_ok, codec.stats.bytes_discarded, codec.stats.crc_errors) == (0, 7, 1)
    for length in range(5, 10):  # every subtype at every short length, checksum made right
        for sub in range(0x06, 0x0F):
            short = bytearray(bytes((0x20, length, 0x53, 0, sub)) + bytes(length - 5))
            short[3] = checksum(short)
            codec.feed(bytes(short))  # must not raise
    [blk] = codec.feed(measurement_frame(np.array([[2.5]]), 0x02))  # and the stream goes on
    assert blk.values[0, 0] == 2.5


#: what encode() raises for a command the device lacks (its documented error)
ENCODE_ERRORS = {"motorlab": "DeviceError"}


@pytest.mark.parametrize("target", fuzzing.TARGETS, ids=TARGET_IDS)
def test_encode_raises_only_its_documented_error(target):
    from motorlab.devices.base import DeviceError

    class Reboot(Command):
        pass

    documented = DeviceError if ENCODE_ERRORS.get(target.name) == "DeviceError" else ValueError
    with pytest.raises(documented, match="reboot"):
        target.make().encode(Reboot())


# ------------------------------------------------------------------ feed_bulk (replay) == feed (live)
def _bulk_same_as_feed(got: list, want: list) -> None:
    assert_same_events(got, want, "bulk vs feed", bitwise=False, any_block_type=True)


@pytest.mark.parametrize("target", BULK_TARGETS, ids=BULK_IDS)
@FUZZ
@given(seed=st.integers(0, 2**64), prime=st.integers(0, 12), mutate=st.booleans(), parts=st.integers(1, 3))
def test_bulk_replay_gives_the_same_events_and_counters_as_feed(target, seed, prime, mutate, parts):
    rng = random.Random(seed)
    corpus = _corpus(target.name)
    captures = [
        fuzzing.fuzz_input(corpus, rng) if mutate else list(rng.choice(corpus.captures)) for _ in range(parts)
    ]
    live, bulk = target.make(), target.make()
    target.prime(live, prime)
    target.prime(bulk, prime)
    for pieces in captures:
        data = b"".join(pieces)
        _bulk_same_as_feed(bulk.feed_bulk(data), live.feed(data))
        assert bulk.stats == live.stats


def _clean_capture(name: str) -> bytes:
    corpus = _corpus(name)
    rng = random.Random(7)
    if name == "motorlab":  # one layout: INFO, then sample frames only
        return b"".join(fuzzing._ml_samples(rng, 20 * k, 20, 3, 2) for k in range(50))
    frames = [p for cap in corpus.captures for p in cap]
    if name == "tindeq":
        from motorlab.devices.codecs import tindeq

        kg = np.arange(400, dtype=np.float32)
        return b"".join(
            tindeq.weight_frame(kg[i : i + 8], np.arange(i, i + 8) * 12_500) for i in range(0, 400, 8)
        )
    if name == "vernier":
        from motorlab.devices.codecs import vernier

        return b"".join(vernier.measurement_frame(np.ones((4, 1)) * k, 0x02, k) for k in range(50))
    if name == "witmotion_ble":
        return b"".join(f for f in frames if f[1] == 0x61)
    if name == "witmotion":
        from motorlab.devices.codecs import witmotion

        period = b"".join(witmotion.encode_frame(t, (t, 1, 2, 3)) for t in (0x51, 0x52, 0x53, 0x54))
        return period * 50
    return b"".join(f"{k / 10:.1f} N\r\n".encode() for k in range(50))  # mark10


@pytest.mark.parametrize("target", BULK_TARGETS, ids=BULK_IDS)
def test_bulk_replay_of_a_clean_capture_is_vectorised(target, monkeypatch):
    """A clean capture goes through no per-frame ``parse`` (else feed_bulk is just feed)."""
    from motorlab.devices.codecs.mark10 import Poll

    def primed():
        codec = target.make()
        if target.name == "motorlab":
            codec.feed(fuzzing._ml_info(random.Random(1), 2, 3))
        elif target.name == "mark10":
            for k in range(50):
                codec.encode(Poll(k * 0.02))
        else:
            target.prime(codec, 1)
        return codec

    codec, reference = primed(), primed()
    data = _clean_capture(target.name)
    calls = []
    parse = codec.parse
    monkeypatch.setattr(codec, "parse", lambda *a: (calls.append(a[0]), parse(*a))[1])
    events = codec.feed_bulk(data)
    assert calls == []
    assert [type(e).__name__ for e in events] == ["SampleBlock"]
    _bulk_same_as_feed(events, reference.feed(data))
    assert codec.stats == reference.stats


@pytest.mark.parametrize("target", fuzzing.TARGETS, ids=TARGET_IDS)
@pytest.mark.parametrize("rate_hz", [80.0, 0.0, -5.0, float("nan"), float("inf"), 1e30])
def test_encode_of_any_shared_command_gives_bytes_or_the_documented_error(target, rate_hz):
    from motorlab.devices.base import DeviceError, GetBattery, GetInfo, SetRate, Stop, Tare

    documented = DeviceError if ENCODE_ERRORS.get(target.name) == "DeviceError" else ValueError
    for command in (GetInfo(), Start(), Stop(), SetRate(rate_hz), Tare(), GetBattery()):
        codec = target.make()
        try:
            wire = codec.encode(command)
        except documented as exc:
            assert "\n" not in str(exc) and str(exc)
        else:
            assert isinstance(wire, bytes)


# ------------------------------------------------------------------ browser pen (JSON Pointer Events batches)
_JSON_ODD = (
    None,
    True,
    "1",
    [],
    {},
    -1,
    0,
    1,
    2,
    3,
    5,
    255,
    2**31,
    10**400,
    -(10**400),
    1e308,
    -1e308,
    0.5,
    -0.0,
)


@FUZZ
@given(seed=st.integers(0, 2**64))
def test_browser_pen_messages_never_raise(seed):
    """Mutated ``samples`` messages (odd JSON values in any field, rows cut or padded, bad seq, broken
    JSON text) give a PenBatch of consistent shapes, counted, with warnings as errors (found: a JSON
    integer too large for a float raised OverflowError; a huge pointer type warned in the int cast)."""
    import json

    from motorlab.devices.codecs.browser_pen import CHANNELS, BrowserPenCodec, PenBatch

    rng = random.Random(seed)
    codec = BrowserPenCodec(t0_ms=1000.0, surface_height_px=600.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(5):
            rows = []
            for i in range(rng.randint(0, 6)):
                row: list = [
                    1000.0 + 5 * i,
                    100.0 + i,
                    200.0,
                    0.5,
                    10,
                    -5,
                    None,
                    None,
                    0,
                    0,
                    1,
                    0,
                    1,
                    rng.randrange(6),
                ]
                for _ in range(rng.randint(0, 3)):
                    row[rng.randrange(len(row))] = rng.choice(_JSON_ODD)
                if rng.random() < 0.1:
                    row = row[: rng.randrange(len(row))] if rng.random() < 0.5 else [*row, 0]
                rows.append(row)
            msg: object = {"type": "samples", "seq": rng.choice((k, k + 2, -1, "x", None)), "samples": rows}
            if rng.random() < 0.1:
                msg = rng.choice(([1, 2], "text", 3, {"samples": "no"}, {"seq": 1}))
            text = json.dumps(msg)
            if rng.random() < 0.1:
                text = text[: rng.randrange(len(text) + 1)]
            batch = codec.feed(text)
            assert isinstance(batch, PenBatch)
            assert batch.values.shape == (batch.t_s.size, len(CHANNELS))
            assert np.isfinite(batch.values[:, :4]).all() and np.isfinite(batch.t_s).all()
