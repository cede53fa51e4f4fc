"""The motorlab wire protocol codec against independent test vectors and fuzzing."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorlab.devices.base import (
    Ack,
    BatteryReply,
    DeviceError,
    GetBattery,
    GetInfo,
    InfoReply,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    Tare,
)
from motorlab.devices.codecs.motorlab_protocol import (
    MotorlabCodec,
    cobs_decode,
    cobs_encode,
    crc16,
    encode_frame,
)

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "firmware_notes" / "test_vectors.json").read_text())
BY_NAME = {v["name"]: v for v in VECTORS["vectors"]}
sys.path.insert(0, str(ROOT / "firmware_notes"))
import make_test_vectors as ref

COMMANDS = {
    "getinfo": lambda c: GetInfo(),
    "setrate": lambda c: SetRate(c["rate_hz"]),
    "tare": lambda c: Tare(),
    "start": lambda c: Start(),
    "stop": lambda c: Stop(),
    "getbattery": lambda c: GetBattery(),
}


def test_vectors_file_is_current():
    assert ref.build() == VECTORS, "run firmware_notes/make_test_vectors.py"


def test_crc_check_value():
    assert crc16(b"123456789") == 0x29B1 == ref.crc16_ccitt_false(b"123456789")


@pytest.mark.parametrize(
    "vec", [v for v in VECTORS["vectors"] if v["direction"] == "host->device"], ids=lambda v: v["name"]
)
def test_command_vectors_encode_exactly(vec):
    codec = MotorlabCodec()
    codec.last_token = vec["token"] - 1
    assert codec.encode(COMMANDS[vec["command"]["name"]](vec["command"])).hex() == vec["hex"]


def _as_dict(ev) -> dict:
    if isinstance(ev, SampleBlock):
        return {"type": "samples", "seq": ev.seq, "dropped_before": ev.dropped_before}
    if isinstance(ev, Ack):
        kind = "error" if ev.command == "error" else "ack"
        return {"type": kind, "command": ev.command, "ok": ev.ok, "error": ev.error, "value": ev.value}
    if isinstance(ev, BatteryReply):
        return {"type": "battery", "percent": ev.percent, "volts": ev.volts}
    if isinstance(ev, InfoReply):
        i = ev.info
        return {
            "type": "info",
            "model": i.model,
            "serial": i.serial,
            "firmware": i.firmware,
            "manufacturer": i.manufacturer,
            "rate_hz": i.nominal_rate_hz,
            "channels": [
                {
                    "name": c.name,
                    "type": c.type,
                    "unit": c.units,
                    "tracked_point": c.tracked_point,
                    "scale": s,
                }
                for c, s in zip(i.channels, i.scales)
            ],
        }
    raise AssertionError(f"unexpected event {ev!r}")


@pytest.mark.parametrize(
    "vec", [v for v in VECTORS["vectors"] if v["direction"] == "device->host"], ids=lambda v: v["name"]
)
@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_device_vectors_decode_exactly(vec, chunk):
    codec = MotorlabCodec()
    if "after" in vec:
        assert len(codec.feed(bytes.fromhex(BY_NAME[vec["after"]]["hex"]))) == 1
        codec.stats = type(codec.stats)()
    data = bytes.fromhex(vec["hex"])
    events = []
    if chunk is None:
        events = codec.feed(data)
    else:  # the same bytes split into arbitrary pieces decode the same
        for i in range(0, len(data), chunk):
            events += codec.feed(data[i : i + chunk])
    assert len(events) == len(vec["events"])
    for ev, want in zip(events, vec["events"]):
        got = _as_dict(ev)
        if want["type"] == "samples":
            assert got == {k: want[k] for k in ("type", "seq", "dropped_before")}
            np.testing.assert_allclose(ev.device_time, want["device_time_s"], rtol=0, atol=1e-9)
            np.testing.assert_allclose(ev.values, want["values"], rtol=1e-12)
            assert ev.values.shape == (len(want["raw"]), len(want["raw"][0]))
        elif want["type"] == "error":
            assert got["ok"] is False and got["error"] == want["error"]
        elif want["type"] == "info":
            assert got == want
            assert ev.info.protocol == "motorlab"
        else:
            assert got == want
    for key, value in vec.get("stats", {}).items():
        assert getattr(codec.stats, key) == value, key
    assert codec.stats.bytes_in == len(data)


def test_info_channels_follow_the_contract():
    codec = MotorlabCodec()
    (ev,) = codec.feed(bytes.fromhex(BY_NAME["info_pen"]["hex"]))
    chans = {c.name: c for c in ev.info.channels}
    assert (
        chans["acc_x"].type == "ACCEL" and chans["acc_x"].units == "m/s^2" and chans["acc_x"].component == "x"
    )
    assert (
        chans["gyr_z"].type == "GYRO" and chans["gyr_z"].units == "deg/s" and chans["gyr_z"].component == "z"
    )
    assert chans["tip_force"].type == "MISC" and chans["tip_force"].units == "N"
    (ev,) = MotorlabCodec().feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    assert ev.info.channels[0].tracked_point == "handle"


def test_samples_before_info_are_held_then_scaled():
    codec = MotorlabCodec()
    assert codec.feed(bytes.fromhex(BY_NAME["samples_grip"]["hex"])) == []
    events = codec.feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    assert isinstance(events[0], InfoReply) and isinstance(events[1], SampleBlock)
    np.testing.assert_allclose(events[1].values[:, 0], [0.0, 153_210 * np.float32(0.001)])


def _clock_wrap_stream():
    t0 = 2**32 - 25_000
    frames, times, seq = [], [], 0
    for k in range(6):  # 2 samples per block, 12.5 ms apart; block 3 is "lost"
        rows = [((t0 + (seq + i) * 12_500) % 2**32, [seq + i]) for i in range(2)]
        if k != 3:
            frames.append(ref.frame(0x82, 0, ref.samples_payload(seq, 4, rows)))
            times += [(t0 + (seq + i) * 12_500) / 1e6 for i in range(2)]
        seq += 2
    return frames, times


def test_unwrap_across_blocks_and_gap_counts_frame_by_frame():
    frames, times = _clock_wrap_stream()
    codec = MotorlabCodec()
    codec.feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    blocks = [blk for f in frames for blk in codec.feed(f)]
    np.testing.assert_allclose(np.concatenate([b.device_time for b in blocks]), times, atol=1e-9)
    assert [b.dropped_before for b in blocks] == [0, 0, 0, 2, 0]
    assert [b.seq for b in blocks] == [0, 2, 4, 8, 10]
    assert codec.stats.dropped_samples == 2


def test_one_feed_merges_contiguous_frames_and_splits_at_gaps():
    frames, times = _clock_wrap_stream()
    codec = MotorlabCodec()
    codec.feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    blocks = codec.feed(b"".join(frames))
    assert [(b.seq, b.n, b.dropped_before) for b in blocks] == [(0, 6, 0), (8, 4, 2)]
    np.testing.assert_allclose(np.concatenate([b.device_time for b in blocks]), times, atol=1e-9)
    counts = np.array([0, 1, 2, 3, 4, 5, 8, 9, 10, 11])
    np.testing.assert_allclose(
        np.concatenate([b.values for b in blocks])[:, 0], counts * float(np.float32(0.001))
    )
    assert codec.stats.frames_ok == 1 + 5  # INFO + five sample frames
    # a reply between sample frames keeps its place in the event order
    codec = MotorlabCodec()
    codec.feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    events = codec.feed(frames[0] + _ack_frames[0] + frames[1])
    assert [type(e).__name__ for e in events] == ["SampleBlock", "Ack", "SampleBlock"]


def test_stream_restart_is_not_a_gap():
    codec = MotorlabCodec()
    codec.feed(bytes.fromhex(BY_NAME["info_grip"]["hex"]))
    a = ref.frame(0x82, 0, ref.samples_payload(500, 4, [(1000, [1])]))
    b = ref.frame(0x82, 0, ref.samples_payload(0, 4, [(2000, [1])]))  # START again: seq restarts
    assert [e.dropped_before for e in codec.feed(a + b)] == [0, 0]


@pytest.mark.parametrize(
    "command",
    [GetInfo(), Start(), Stop(), SetRate(80.0), SetRate(1000.0), SetRate(12.5), Tare(), GetBattery()],
    ids=lambda c: repr(c),
)
def test_command_round_trip(command):
    """encode() -> the independent decoder recovers type, payload and a valid CRC."""
    codec = MotorlabCodec()
    wire = codec.encode(command)
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    body = cobs_decode(wire[1:-1])
    assert ref.crc16_ccitt_false(body[:-2]) == struct.unpack("<H", body[-2:])[0]
    assert body[1] == codec.last_token
    expected_type = {"getinfo": 1, "start": 2, "stop": 3, "setrate": 4, "tare": 5, "getbattery": 6}[
        command.name
    ]
    assert body[0] == expected_type
    if isinstance(command, SetRate):
        assert struct.unpack("<I", body[2:-2])[0] == round(command.rate_hz * 1000)
    else:
        assert body[2:-2] == b""


def test_tokens_cycle_and_skip_zero():
    codec = MotorlabCodec()
    tokens = [cobs_decode(codec.encode(Start())[1:-1])[1] for _ in range(600)]
    assert 0 not in tokens and tokens[:3] == [1, 2, 3] and tokens[255] == 1


def test_unknown_command_is_a_device_error():
    from motorlab.devices.base import Command

    class Reboot(Command):
        pass

    with pytest.raises(DeviceError, match="reboot"):
        MotorlabCodec().encode(Reboot())


def test_valid_crc_but_nonsense_payload_is_counted_not_raised():
    codec = MotorlabCodec()
    events = codec.feed(
        encode_frame(0x82, 0, b"\x00" * 9)  # sample header says 0 samples
        + encode_frame(0x81, 0, b"\x01\x09")  # truncated INFO
        + encode_frame(0x55, 0, b"")  # unknown type
    )
    assert events == [] and codec.malformed == 3 and codec.stats.frames_ok == 0


# ---------------------------------------------------------------- fuzzing
_ack_frames = [ref.frame(0x80, k, struct.pack("<BBi", 0x02, 0, k)) for k in range(1, 40)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.binary(max_size=120), st.integers(0, len(_ack_frames) - 1)), max_size=12),
    st.binary(max_size=50),
    st.integers(1, 64),
)
def test_garbage_between_frames_never_hides_a_frame(parts, trailing, chunk):
    """Random garbage between valid frames: every frame comes out, in order, with exact counters."""
    codec = MotorlabCodec()
    stream = b""
    want_values, junk_runs = [], []
    for garbage, k in parts:
        stream += garbage + _ack_frames[k]
        want_values.append(k + 1)
        junk_runs += [r for r in garbage.split(b"\x00") if r]
    stream += trailing
    junk_runs += [r for r in trailing.split(b"\x00")[:-1] if r]  # the last run is still buffered
    events = []
    for i in range(0, len(stream), chunk):
        events += codec.feed(stream[i : i + chunk])
    # a garbage run could by chance be a valid frame; it would then show up as an extra event
    acks = [e.value for e in events if isinstance(e, Ack) and e.command == "start" and e.ok]
    assert acks == want_values
    assert codec.stats.frames_ok == len(want_values)
    assert codec.stats.resyncs == len(junk_runs)
    assert codec.stats.bytes_discarded == sum(len(r) for r in junk_runs)
    assert codec.stats.bytes_in == len(stream)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 512))
def test_any_bytes_never_raise(data, chunk):
    codec = MotorlabCodec()
    codec.feed(bytes.fromhex(BY_NAME["info_pen"]["hex"]))
    for i in range(0, len(data), chunk):
        codec.feed(data[i : i + chunk])
    assert codec.stats.bytes_in == len(bytes.fromhex(BY_NAME["info_pen"]["hex"])) + len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1019))
def test_cobs_round_trip_matches_reference(payload):
    assert cobs_encode(payload) == ref.cobs(payload)
    assert cobs_decode(cobs_encode(payload)) == payload


def test_overlong_frame_is_skipped_and_the_next_one_recovered():
    codec = MotorlabCodec()
    junk = bytes(range(1, 256)) * 20  # 5100 bytes without a delimiter
    events = codec.feed(junk[:3000]) + codec.feed(junk[3000:] + _ack_frames[0])
    assert [e.value for e in events] == [1]
    assert codec.stats.resyncs == 1 and codec.stats.bytes_discarded == len(junk)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.sampled_from([2, 4]), st.integers(1, 7), st.data())
def test_random_sample_blocks_decode_exactly(seq, n, fmt, m, data):
    lim = 2 ** (8 * fmt - 1)
    raw = data.draw(
        st.lists(st.lists(st.integers(-lim, lim - 1), min_size=m, max_size=m), min_size=n, max_size=n)
    )
    t = data.draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    t_us = np.cumsum(t) + 123
    chans = [(f"c{i}", "MISC", "N", "n/a", 0.5 ** (i + 1)) for i in range(m)]
    info = ref.frame(0x81, 1, ref.info_payload(fmt, 100000, 1000, 1000000, "m", "s", "f", "x", chans))
    block = ref.frame(0x82, 0, ref.samples_payload(seq, fmt, [(int(a), r) for a, r in zip(t_us, raw)]))
    codec = MotorlabCodec()
    _, blk = codec.feed(info + block)
    np.testing.assert_array_equal(blk.values, np.array(raw, dtype=float) * [0.5 ** (i + 1) for i in range(m)])
    np.testing.assert_allclose(blk.device_time, t_us / 1e6, atol=1e-12)
    assert blk.seq == seq
