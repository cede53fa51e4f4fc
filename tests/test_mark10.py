"""Mark-10 force gauge: codec on documented reply lines, emulator -> driver over a real pty -> Recording."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.analysis.grip import grip_analyze
from motorlab.devices.base import (
    Ack,
    DeviceError,
    GetInfo,
    InfoReply,
    SampleBlock,
    Tare,
    stack_blocks,
)
from motorlab.devices.codecs import fuzzing
from motorlab.devices.codecs.mark10 import CHANNELS, Mark10Codec, Poll, SetUnit, Sync, parse_decimals
from motorlab.devices.drivers.mark10 import Mark10Driver
from motorlab.devices.registry import open_device
from motorlab.devices.transports.serial_port import SerialTransport
from motorlab.recording import Metadata, Recording
from motorlab.sim.pty_link import PtyLink

from .driver_helpers import protocol_mismatch_message
from .fast_path_diff import assert_same_paths, fuzz_inputs

LBF_N = 0.45359237 * 9.80665  # 1 lbf = 1 lb (0.45359237 kg, exact) x standard gravity


def polls(codec: Mark10Codec, n: int, rate: float = 10.0) -> None:
    for k in range(n):
        assert codec.encode(Poll(k / rate)) == b"?C\r\n"


def samples(events) -> tuple[np.ndarray, np.ndarray]:
    t, v = stack_blocks([e for e in events if isinstance(e, SampleBlock)])
    return t, v.reshape(-1)


# ------------------------------------------------------------------ codec
def test_documented_replies_decode_to_newtons_compression_positive():
    c = Mark10Codec()
    polls(c, 4)
    t, v = samples(c.feed(b"-18.78 lbF\r\n4.285 N\r\n1.50 kgF\r\n250 mN\r\n"))
    # '-18.78 lbF' is 18.78 lbF of tension; grip (compression) is positive
    np.testing.assert_allclose(v, [-18.78 * LBF_N, 4.285, 1.5 * 9.80665, 0.25])
    np.testing.assert_allclose(t, [0.0, 0.1, 0.2, 0.3])  # the polls' scheduled times


def test_inverted_gauge_and_bare_numbers():
    c = Mark10Codec(invert=True, unit="kgF")
    polls(c, 2)
    _, v = samples(c.feed(b"-2.00\r\n+0.5\r"))
    np.testing.assert_allclose(v, [2 * 9.80665, -0.5 * 9.80665])
    assert c.last_unit == ""


def test_any_chunking_gives_the_same_readings():
    text = b"".join(f"{x:.1f} N\r\n".encode() for x in np.linspace(-50, 300, 37))
    ref = Mark10Codec()
    polls(ref, 37)
    expected = samples(ref.feed(text))[1]
    c = Mark10Codec()
    polls(c, 37)
    events = []
    for i in range(len(text)):
        events += c.feed(text[i : i + 1])
    np.testing.assert_array_equal(samples(events)[1], expected)
    np.testing.assert_allclose(expected, np.round(np.linspace(-50, 300, 37), 1))


def test_one_line_per_read_gives_the_events_and_counters_of_one_big_read():
    """The one-reading path of feed() (a line per read) against the general path (all at once)."""
    lines = [b"1.5 N\r\n", b"-2 lbF\r\n", b"*10\r\n", b"3.25\r\n", b"1.2.3 N\r\n", b"7 ozF\r\n"]
    lines += [b"4 N\r\n", b"x5\r\n", b"6 N\r", b"\n8 N\r\n", b"9 N\r\n"]

    def run(pieces):
        c = Mark10Codec(unit="kgF")
        polls(c, 3)
        c.encode(SetUnit("LB"))  # silent setting: succeeds once the next reply arrives
        polls(c, 8)
        events = []
        for piece in pieces:
            events += c.feed(piece)
        return c, events

    c_line, ev_line = run(lines)
    c_all, ev_all = run([b"".join(lines)])
    assert c_line.stats == c_all.stats and c_line.last_unit == c_all.last_unit == "N"
    assert [type(e).__name__ for e in ev_line if not isinstance(e, SampleBlock)] == [
        type(e).__name__ for e in ev_all if not isinstance(e, SampleBlock)
    ]
    t1, v1 = samples(ev_line)
    t2, v2 = samples(ev_all)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(v1, v2)
    assert [b.dropped_before for b in ev_line if isinstance(b, SampleBlock)][-3:] == [1, 0, 0]  # after "x5"
    assert c_line.stats.crc_errors == 2 and c_line.in_flight == 0


def test_errors_and_silent_settings_follow_the_command_order():
    c = Mark10Codec()
    c.encode(SetUnit("LB"))
    c.encode(Poll(0.0))
    c.encode(Tare())
    c.encode(Poll(0.1))
    c.encode(Poll(0.2))
    events = c.feed(b"12.00 lbF\r\n*10\r\n1.00 lbF\r\n")
    acks = [e for e in events if isinstance(e, Ack)]
    assert acks[0] == Ack("setunit", True, "", "lbF") and c.unit == "lbF"
    assert acks[1].command == "tare" and not acks[1].ok and "illegal command" in acks[1].error
    blocks = [e for e in events if isinstance(e, SampleBlock)]
    assert [b.device_time.tolist() for b in blocks] == [[0.0], [0.1]]
    assert blocks[1].values[0, 0] == pytest.approx(LBF_N)


def test_failed_polls_are_reported_as_dropped():
    c = Mark10Codec()
    c.encode(Poll(0.0))
    c.encode(Poll(0.1))
    c.encode(Poll(0.3, skipped=1))
    events = c.feed(b"*11\r\n2.0 N\r\n")  # first poll refused, second answered
    blk = next(e for e in events if isinstance(e, SampleBlock))
    assert blk.dropped_before == 1 and blk.device_time.tolist() == [0.1]
    blk = next(e for e in c.feed(b"3.0 N\r\n") if isinstance(e, SampleBlock))
    assert blk.dropped_before == 1 and c.stats.dropped_samples == 2


def test_series4_info_errors_give_na_fields():
    c = Mark10Codec()
    assert c.encode(GetInfo()) == b"RM\r\nRV\r\nRS\r\n"
    events = c.feed(b"*10\r\n*10\r\n*10\r\n")
    assert isinstance(events[-1], InfoReply)
    assert (events[-1].info.model, events[-1].info.firmware) == ("n/a", "n/a")


_ODD_LINES = (b"*10\r\n", b"*22\r\n", b"M5-100\r\n", b"\r\n", b"5\rN\r\n", b"5\tN\r\n", b"  5 N\r\n",
              b"5 N \r\n", b"5  N\r\n", b"5 xyz\r\n", b"1e5 N\r\n", b"inf\r\n", b"-.\r\n", b"+.5 kgF\r\n",
              b"1.2.3 N\r\n", b"12.5N\r\n", b"7 N\r", b"\n", b"-0.0 lbF\r\n", b"3 N\n\r\n", b"5 \r\n", b"6\r\r\n", b" \r\n")  # fmt: skip


def _line_streams(seed: int) -> list[list[bytes]]:
    """One reply line per read (the usual polled read), and with odd lines, cut lines, lines
    joined in one read, lost replies; units the gauge prints, and bare numbers."""
    rng = np.random.default_rng(seed)
    streams = []
    for n in [60] * 40 + [6000]:  # (the long one outlasts the answered polls the codec keeps)
        units = [" N", " lbF", " kgF", " mN", " gF", " ozF", " kN", ""]
        lines = [
            f"{rng.uniform(-500, 500):.{rng.integers(0, 4)}f}{rng.choice(units)}\r\n".encode()
            for _ in range(n)
        ]
        for _ in range(int(rng.integers(0, 8))):
            at, kind = int(rng.integers(0, len(lines))), int(rng.integers(0, 4))
            if kind == 0:
                lines.insert(at, _ODD_LINES[int(rng.integers(0, len(_ODD_LINES)))])
            elif kind == 1:
                cut = int(rng.integers(0, len(lines[at])))
                lines[at : at + 1] = [lines[at][:cut], lines[at][cut:]]
            elif kind == 2 and at + 1 < len(lines):
                lines[at : at + 2] = [lines[at] + lines[at + 1]]
            else:
                del lines[at]
        streams.append(lines)
    return streams


def _prime(codec: Mark10Codec) -> None:
    """Polls (some after skipped ones), with a unit setting, a sync and an info request among them."""
    for k in range(6100):
        codec.encode(Poll(k * 0.02, skipped=int(k % 7 == 3)))
        if k in (20, 45):
            codec.encode(SetUnit("LB"))
        elif k == 30:
            codec.encode(Sync())
        elif k == 50:
            codec.encode(GetInfo())


def test_thousands_of_polls_in_flight_are_answered_in_order():
    """More polls in flight than the codec keeps answered ones (it drops those now and then):
    each reading still gets its own poll's time and skipped count, and settings sent among the
    polls are still acknowledged in their places."""
    c = Mark10Codec()
    n = 12_000
    for k in range(n):
        c.encode(Poll(k * 0.01, skipped=int(k % 1000 == 999)))
        if k == 9000:
            c.encode(SetUnit("KG"))
        elif k == 10_000:
            c.encode(Tare())
    events = []
    for k in range(n):
        events += c.feed(f"{k} N\r\n".encode() if k <= 9000 else f"{k} kgF\r\n".encode())
    acks = [e for e in events if isinstance(e, Ack)]
    blocks = [e for e in events if isinstance(e, SampleBlock)]
    assert acks == [Ack("setunit", True, "", "kgF"), Ack("tare", True, "", None)]
    assert [events.index(a) for a in acks] == [9001, 10_002]  # (right after the polls before them)
    t, v = stack_blocks(blocks)
    np.testing.assert_array_equal(t, np.arange(n) * 0.01)
    np.testing.assert_array_equal(v[:9001, 0], np.arange(9001.0))
    np.testing.assert_array_equal(v[9001:, 0], np.arange(9001.0, n) * 9.80665)
    assert [k for k, b in enumerate(blocks) if b.dropped_before] == list(range(999, n, 1000))
    assert c.stats.dropped_samples == 12 and c.in_flight == 0


@pytest.mark.parametrize("kind", ["lines", "inverted", "fuzz"])
def test_fast_path_gives_the_events_and_counters_of_the_general_path(kind):
    """feed()'s one-reading path against _feed_general (framer + parse), read by read: clean and
    odd line streams with settings, syncs and info requests in flight, and the fuzzer's inputs."""

    def state(codec):
        return codec.last_unit, codec.unit, codec.in_flight, codec._dropped, codec.framer.buffer, codec._info

    if kind != "fuzz":
        make = Mark10Codec if kind == "lines" else lambda: Mark10Codec(invert=True, unit="kgF")
        assert assert_same_paths(make, _prime, _line_streams(11), state) > 8000
    else:
        target = next(t for t in fuzzing.TARGETS if t.name == "mark10")

        def prime(codec):
            target.prime(codec, 40)

        assert assert_same_paths(Mark10Codec, prime, fuzz_inputs("mark10", 3000), state) > 3000


def _decimals(rng: np.random.Generator, n: int) -> list[str]:
    """Decimals as a gauge (or anything) may print them, 1-8 bytes: any digits, any number of
    them after the dot, no dot, a leading or trailing dot, signs, zeros, -0.0."""
    texts = ["0", "0.0", "-0.0", "+0", "-0", ".5", "5.", "-.5", "+.0", "00000001", "99999999", "-9999999",
             "9999999.", ".9999999", "0.000001", "-0.00001", "1.234567", "4.285", "-18.78"]  # fmt: skip
    while len(texts) < n:
        digits = "".join(rng.choice(list("0123456789"), int(rng.integers(1, 9))))
        kind = int(rng.integers(0, 3))
        if kind and len(digits) < 8:  # a dot somewhere
            at = int(rng.integers(0, len(digits) + 1))
            digits = digits[:at] + "." + digits[at:]
        sign = str(rng.choice(["", "-", "+"])) if len(digits) < 8 else ""
        texts.append(sign + digits)
    return texts


def _lines(texts: list[str], sep: bytes = b"\r\n") -> tuple[bytes, np.ndarray, np.ndarray]:
    buf = sep.join(t.encode() for t in texts) + sep
    lengths = np.array([len(t) for t in texts])
    return buf, np.cumsum(lengths + len(sep)) - len(sep), lengths


def test_vectorised_decimals_are_bit_identical_to_float():
    """parse_decimals (the replay path's NumPy parser) against float() on 300 000 decimals:
    every bit equal, the sign of zero included."""
    texts = _decimals(np.random.default_rng(4), 300_000)
    for prefix in (b"", b"\n", b"12 N\r\n"):  # (the first number at the start or not)
        buf, ends, lengths = _lines(texts)
        values = parse_decimals(prefix + buf, ends + len(prefix), lengths)
        expected = np.array([float(t) for t in texts])
        assert values is not None and values.dtype == np.float64
        np.testing.assert_array_equal(values.view(np.int64), expected.view(np.int64))
    assert parse_decimals(b"-0.0\r\n", np.array([4]), np.array([4])).tobytes() == np.array([-0.0]).tobytes()


@pytest.mark.parametrize(
    "text",
    ["1.2.3", "1-2", "-", "+", ".", "-.", "+-1", "1 2", "1e5", "inf", "nan", "1_0", "12a", "123456789", ""],
)
def test_vectorised_decimals_refuse_what_the_reading_pattern_refuses(text):
    buf, ends, lengths = _lines(["1.5", text, "2"])
    assert parse_decimals(buf, ends, lengths) is None


def test_bulk_replay_parses_the_usual_capture_in_numpy_with_the_events_of_feed(monkeypatch):
    """A capture of reading lines of one unit goes through parse_decimals (never float() per line)
    and gives the events and counters of feed(); a capture it does not take (two units) too."""
    from motorlab.devices.codecs import mark10

    texts = _decimals(np.random.default_rng(8), 5000)
    for unit in (" N", " lbF", ""):
        data = b"".join(f"{t}{unit}\r\n".encode() for t in texts)
        live, bulk = Mark10Codec(unit="kgF"), Mark10Codec(unit="kgF")
        for codec in (live, bulk):
            polls(codec, len(texts) + 5)
        ref = live.feed(data)
        monkeypatch.setattr(mark10.Mark10Codec, "_same_unit_values", None)  # (not used)
        got = bulk.feed_bulk(data)
        monkeypatch.undo()
        t1, v1 = samples(got)
        t2, v2 = samples(ref)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(v1, v2)
        assert bulk.stats == live.stats and bulk.last_unit == live.last_unit == unit.strip()
    mixed = b"1.5 N\r\n2.5 lbF\r\n" * 50
    live, bulk = Mark10Codec(), Mark10Codec()
    for codec in (live, bulk):
        polls(codec, 100)
    np.testing.assert_array_equal(samples(bulk.feed_bulk(mixed))[1], samples(live.feed(mixed))[1])


# ------------------------------------------------------------------ end to end
def build_recording(blocks: list[SampleBlock], rate: float) -> Recording:
    t, v = stack_blocks(blocks)
    md = Metadata(participant="P002", task="grip", tracksys="gauge", device_model="M5-100")
    return Recording(t, v, list(CHANNELS), rate, md)


async def _squeeze(url: str, seconds: float = 1.4) -> tuple[Recording, dict, int]:
    dev = await open_device(url)
    drv = dev.driver
    try:
        n_handshake = len(dev.emulator.readings)
        await drv.start()
        await asyncio.sleep(0.15)
        dev.emulator.cue("squeeze")
        await asyncio.sleep(seconds)
        await drv.stop()
        blocks = drv.pending_blocks()
    finally:
        await dev.close()
    return build_recording(blocks, drv.poll_hz), dev.emulator.truth, n_handshake


@pytest.mark.parametrize(
    "query",
    ["rate=50&seed=3", "rate=50&seed=4&unit=LB&polarity=inverted", "rate=40&seed=5&series=4&show_unit=0"],
)
async def test_grip_peak_end_to_end_within_one_percent(query):
    rec, truth, n_handshake = await _squeeze(f"sim://mark10?{query}")
    assert rec.n_samples >= 40
    spacing = np.diff(rec.timestamps)
    np.testing.assert_allclose(spacing[spacing < 1.5 / rec.sampling_rate], 1 / rec.sampling_rate, atol=1e-12)
    res = grip_analyze(rec.channel("force"), rec.sampling_rate)
    peak_true = truth["efforts"][0]["peak_n"]
    assert res.peak_force_N == pytest.approx(peak_true, rel=0.01)
    assert np.nanmin(rec.channel("force")) > -5  # grip reads positive whatever the gauge polarity
    # every reading the gauge sent reached the recording (nothing polled is lost)
    assert rec.n_samples == len(truth["readings"]) - n_handshake


async def test_tare_zeroes_a_static_load():
    dev = await open_device("sim://mark10?rate=20&noise_n=0")
    drv = dev.driver
    try:
        dev.emulator.participant.set_static_load(49.0)
        await drv.start()
        await asyncio.sleep(0.3)
        await drv.tare()
        drv.pending_blocks()
        await asyncio.sleep(0.3)
        await drv.stop()
        _, after = stack_blocks(drv.pending_blocks())
    finally:
        await dev.close()
    assert dev.emulator.truth["tare_n"] == pytest.approx(49.0)
    assert np.abs(after).max() < 0.15  # one display count (0.1 N)


async def test_silent_port_is_a_one_line_protocol_mismatch():
    link = PtyLink(lambda data: None, name="ttySILENT").start()
    drv = Mark10Driver(
        SerialTransport(link.link_path, 115200), url=f"serial://{link.link_path}?protocol=mark10"
    )
    try:
        msg = await protocol_mismatch_message(drv, reply_timeout_s=0.3)
    finally:
        link.close()
    assert link.link_path in msg and "mark10" in msg


async def test_bad_rate_and_unit_are_one_line_device_errors():
    dev = await open_device("sim://mark10")
    drv = dev.driver
    try:
        with pytest.raises(DeviceError, match="outside"):
            await drv.set_rate(0)
        with pytest.raises(DeviceError, match="not a Mark-10 force unit"):
            await drv.set_unit("Nm")
    finally:
        await dev.close()
