"""Vernier GDX-HD: codec vectors, and emulator -> bleak -> emulated BlueZ -> driver -> Recording."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest

from motorlab.devices.base import BatteryReply, SampleBlock, SetRate, Start, Stop
from motorlab.devices.codecs import vernier as vd
from motorlab.devices.registry import open_device

from .ble_helpers import record, wait_until
from .fast_path_diff import assert_same_events


# ------------------------------------------------------------------ codec
def test_init_frame_matches_the_documented_bytes():
    frame = vd.VernierCodec().encode(vd.Init())
    assert frame == bytes.fromhex("5819FE3F1AA54A06490748084709460A450B440C430D420E41")


def test_rolling_counter_and_checksums_of_commands():
    codec = vd.VernierCodec()
    frames = [codec.encode(c) for c in (vd.Init(), vd.GetStatus(), SetRate(100.0), Start(), Stop())]
    assert [f[2] for f in frames] == [0xFE, 0xFD, 0xFC, 0xFB, 0xFA]
    for f in frames:
        assert f[0] == 0x58 and f[1] == len(f) and f[3] == (sum(f) - f[3]) & 0xFF
    assert struct.unpack_from("<I", frames[2], 7)[0] == 10_000  # period in µs
    assert frames[3][4] == 0x18 and struct.unpack_from("<I", frames[3], 7)[0] == 0x02  # sensor 1 mask
    assert codec.period_us == 10_000


def test_measurements_split_into_20_byte_notifications_are_joined_and_timed_by_period():
    codec = vd.VernierCodec()
    codec.encode(SetRate(50.0))
    codec.encode(Start())
    values = np.array([1.5, 2.25, 100.0, -3.0, 7.75, 8.0, 9.0], dtype=np.float32)
    frames = [vd.measurement_frame(values[:5, None], 0x02), vd.measurement_frame(values[5:, None], 0x02)]
    events = []
    for frame in frames:  # each frame starts a notification (as godirect-js reads them)
        for i in range(0, len(frame), 20):
            events += codec.feed(frame[i : i + 20])
    assert len(events) == 2 and all(isinstance(e, SampleBlock) for e in events)
    t = np.concatenate([e.device_time for e in events])
    np.testing.assert_allclose(t, np.arange(7) * 0.02)
    np.testing.assert_array_equal(np.concatenate([e.values[:, 0] for e in events]), values)
    codec.zero = np.array([1.5])  # host zero
    codec.encode(Start())
    [blk] = codec.feed(vd.measurement_frame(values[:2, None], 0x02))
    np.testing.assert_allclose(blk.values[:, 0], [0.0, 0.75])
    assert blk.device_time[0] == 0.0


def test_wide_and_single_channel_int_frames():
    codec = vd.VernierCodec(sensor_mask=0x06)  # sensors 1 and 2
    body = np.array([[1, 2], [3, 4]], dtype="<f4").tobytes()
    wide = (
        bytes((0x20, 11 + len(body), 0, 0, vd.WIDE_REAL32)) + struct.pack("<I", 0x06) + bytes((2, 0)) + body
    )
    [blk] = codec.feed(_with_checksum(wide))
    np.testing.assert_array_equal(blk.values, [[1, 2], [3, 4]])
    ints = np.array([-5, 6], dtype="<i4").tobytes()
    single = bytes((0x20, 8 + len(ints), 0, 0, vd.SINGLE_INT32, 0, 2, 2)) + ints  # sensor 2, 2 samples
    [blk] = codec.feed(_with_checksum(single))
    assert np.isnan(blk.values[:, 0]).all()
    np.testing.assert_array_equal(blk.values[:, 1], [-5, 6])
    assert codec.feed(_with_checksum(bytes((0x20, 9, 0, 0, vd.DROPPED, 0, 0, 0, 0)))) == []
    assert codec.stats.crc_errors == 0 and codec.stats.frames_ok == 3


def _with_checksum(frame: bytes) -> bytes:
    """Byte 3 = sum of the other bytes & 0xFF, as in command frames (devices.md §2)."""
    return frame[:3] + bytes(((sum(frame) - frame[3]) & 0xFF,)) + frame[4:]


def test_replies_carry_command_counter_and_battery():
    codec = vd.VernierCodec()
    status = bytes((0, 0, 1, 5)) + struct.pack("<H", 43) + bytes(4) + bytes((64, 1))
    events = codec.feed(vd.reply_frame(vd.CMD_GET_STATUS, 0xFD, status))
    assert events[0] == vd.GdxReply(vd.CMD_GET_STATUS, 0xFD, status)
    assert events[1] == BatteryReply(percent=64.0)
    assert vd.parse_status(status)["firmware"] == "1.5.43"
    info = vd.SensorInfo(1, 5720, 0, 0, "Force", "N", -100.0, 850.0, 1000, 100_000)
    assert vd.parse_sensor_info(vd.sensor_info_payload(info)) == info


def test_garbage_bytes_do_not_raise_and_resync():
    codec = vd.VernierCodec()
    junk = b"\x20\x01\x00\x02"  # the 0x02 + next 0x20 would read as a 32-byte reply to nothing
    events = codec.feed(junk + vd.measurement_frame(np.array([[4.0]]), 0x02))
    assert len(events) == 1 and events[0].values[0, 0] == 4.0
    assert codec.stats.resyncs == codec.stats.bytes_discarded == len(junk)


# ------------------------------------------------------------------ fast path == general path
def _notifications(frame: bytes) -> list[bytes]:
    return [frame[i : i + 20] for i in range(0, len(frame), 20)]


def _vernier_streams() -> list[tuple[dict, list[bytes]]]:
    """(codec settings, notifications): the usual stream and every kind of trouble."""
    rng = np.random.default_rng(12)

    def frames(mask: int, n_sensors: int, counts) -> list[bytes]:
        out = []
        for k, count in enumerate(counts):
            values = rng.uniform(-50, 800, (count, n_sensors)).astype(np.float32)
            out += _notifications(vd.measurement_frame(values, mask, k))
        return out

    usual = frames(0x02, 1, [2] * 60)
    long_frames = frames(0x02, 1, [1, 2, 5, 30, 60, 2, 2, 2])  # several notifications each
    two = frames(0x06, 2, [1, 2, 1, 1])  # two sensors (8 bytes a sample)
    bad = bytearray(usual[5])
    bad[3] ^= 0x40  # a checksum error
    cut_then_whole = [usual[0], frames(0x02, 1, [30])[0], usual[1], usual[2]]  # a long frame left unfinished
    specials = [
        usual[0],
        bytes(bad),
        usual[6],
        vd.reply_frame(vd.CMD_GET_STATUS, 0xFE, bytes(10) + bytes((55, 1))),
        usual[7][:-1],  # one byte short
        b"\x20" + usual[8],  # a junk byte first
        usual[9] + usual[10],  # two frames in one notification
        frames(0x04, 1, [2])[0],  # another sensor than the configured one
        _with_checksum(bytes((0x20, 9, 0, 0, vd.DROPPED, 0, 0, 0, 0))),
        _with_checksum(bytes((0x20, 9, 0, 0, vd.NORMAL_REAL32, 2, 0, 0, 0))),  # no sample
        _with_checksum(usual[12][:1] + bytes((len(usual[12]) + 1,)) + usual[12][2:]),  # length byte wrong
        _with_checksum(bytes((0x21,)) + usual[13][1:]),  # not a measurement frame
        b"",
        usual[11],
        usual[11],  # a repeat
    ]
    return [
        ({}, usual),
        ({}, long_frames),
        ({"zero": [1.5]}, usual + specials),
        ({"check_checksum": False}, specials + usual[:5]),
        ({}, cut_then_whole),
        ({"sensor_mask": 0x06}, two + usual[:4]),
        ({"sensor_mask": 0x06, "zero": [0.5, -2.0]}, two),
        ({"sensor_mask": 0x10002}, usual[:4]),  # a sensor beyond 16 bits: not in a NORMAL frame's mask
        ({"sensor_mask": 0}, usual[:4]),
    ]


def _fuzz_streams(n: int) -> list[list[bytes]]:
    import random

    from motorlab.devices.codecs import fuzzing

    target = next(t for t in fuzzing.TARGETS if t.name == "vernier")
    rng = random.Random(12)
    corpus = fuzzing.Corpus.build(target, rng, size=60)
    return [fuzzing.fuzz_input(corpus, rng) for _ in range(n)]


def _state(codec: vd.VernierCodec) -> tuple:
    cands = [(bytes(c.data), c.need) for c in codec.framer._candidates]
    return codec.stats, codec._index, cands, codec.last_command, codec.last_counter


def _assert_feed_is_the_general_path(streams: list[tuple[dict, list[bytes]]]) -> None:
    for k, (settings, stream) in enumerate(streams):
        fast, general = vd.VernierCodec(), vd.VernierCodec()
        for codec in (fast, general):
            if "sensor_mask" in settings:
                codec.configure(settings["sensor_mask"])
            codec.check_checksum = settings.get("check_checksum", True)
            codec.encode(SetRate((50.0, 100.0, 3.0)[k % 3]))
            codec.encode(vd.GetSensorInfo(1) if k % 2 else Start())
            if "zero" in settings:
                codec.zero = np.array(settings["zero"])
        for piece in stream:
            assert_same_events(fast.feed(piece), general._feed_general(piece))
            assert _state(fast) == _state(general)


def test_fast_path_gives_the_events_and_counters_of_the_general_path():
    _assert_feed_is_the_general_path(_vernier_streams())


def test_fast_path_gives_the_events_and_counters_of_the_general_path_on_fuzz_inputs():
    fuzz = _fuzz_streams(3000)
    _assert_feed_is_the_general_path([({"zero": [0.25]} if k % 2 else {}, s) for k, s in enumerate(fuzz)])


def test_fast_path_takes_the_usual_notifications():
    codec = vd.VernierCodec()
    calls = []
    codec._feed_general = lambda data: calls.append(data) or []  # type: ignore[method-assign]
    usual = _vernier_streams()[0][1]
    events = [e for piece in usual for e in codec.feed(piece)]
    assert calls == [] and len(events) == len(usual) and codec.stats.frames_ok == len(usual)


def test_bulk_replay_of_one_layout_is_vectorised_and_any_other_capture_equals_feed():
    rng = np.random.default_rng(13)
    frames = [
        vd.measurement_frame(rng.uniform(-9, 900, (2, 1)).astype(np.float32), 0x02, k) for k in range(300)
    ]
    other = {  # one frame that breaks the layout: each goes frame by frame, with the same events as feed
        "mask": vd.measurement_frame(np.ones((2, 1), np.float32), 0x04, 7),
        "count": vd.measurement_frame(np.ones((3, 1), np.float32), 0x02, 7)[:-4],
        "subtype": _with_checksum(frames[7][:4] + bytes((vd.SINGLE_REAL32,)) + frames[7][5:]),
        "checksum": frames[7][:3] + bytes(((frames[7][3] + 1) & 0xFF,)) + frames[7][4:],
        "length": _with_checksum(frames[7][:1] + bytes((frames[7][1] - 1,)) + frames[7][2:-1]) + b"\0",
        "type": _with_checksum(bytes((0x21,)) + frames[7][1:]),
    }
    for name, frame in [("clean", frames[7]), *other.items()]:
        data = b"".join(frames[:7] + [frame] + frames[8:])
        bulk, live = vd.VernierCodec(), vd.VernierCodec()
        for codec in (bulk, live):
            codec.encode(SetRate(100.0))
            codec.zero = np.array([2.5])
        if name == "clean":
            bulk.parse = None  # type: ignore[method-assign, assignment]  # (not called: one vectorised pass)
        got, want = bulk.feed_bulk(data), live.feed(data)
        if name == "clean":
            assert [type(e) for e in got] == [SampleBlock]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.device_time, w.device_time)
            np.testing.assert_array_equal(g.values, w.values)
            assert (g.seq, g.dropped_before) == (w.seq, w.dropped_before)
        assert bulk.stats == live.stats and bulk._index == live._index, name


# ------------------------------------------------------------------ end to end
async def test_grip_peak_with_host_zero_through_bleak(ble_sandbox, tmp_path):
    device = await open_device("sim://gdxhd?seed=7&peak_n=320&hold_s=0.6&offset_n=4.5&rate_hz=100")
    driver = device.driver
    try:
        info = await driver.info()
        assert info.model == "Vernier GDX-HD" and info.serial == "151000C1" and info.firmware == "1.5.43"
        assert info.channels[0].name == "force" and info.channels[0].units == "N"
        assert info.nominal_rate_hz == pytest.approx(100.0)
        assert await driver.battery() == 87.0
        emu = device.emulator
        await driver.tare()  # host zero over 0.5 s at rest: removes the 4.5 N offset
        assert driver.codec.zero[0] == pytest.approx(4.5, abs=0.1)
        assert driver.pending_blocks() == []

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(1.7)

        rec = await record(driver, tmp_path, "grip", squeeze)
    finally:
        await device.close()
    force = rec.channel("force")
    sent = emu.sent[emu.sent[:, 0] == emu.streams]
    assert rec.n_samples == len(sent) > 150
    np.testing.assert_allclose(force, sent[:, 2] - driver.codec.zero[0], rtol=0, atol=1e-9)
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(0.01, rel=1e-3)
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], rel=0.01)
    assert abs(np.median(force[:10])) < 0.5  # zeroed at rest


async def test_link_loss_reconnects_and_resumes(ble_sandbox, tmp_path):
    device = await open_device("sim://gdxhd?seed=1&rate_hz=100")
    driver = device.driver
    driver.reconnect_backoff_s = 0.05
    emu = device.emulator
    lost_at = []

    async def script(acq):
        await asyncio.sleep(0.6)
        lost_at.append(len(emu.sent))
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: (emu.sent[:, 0] == 2).sum() > 30, 10, "resumed stream")

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    sent = emu.sent
    before, after = sent[sent[:, 0] == 1], sent[sent[:, 0] == 2]
    assert len(before) == lost_at[0] > 30
    np.testing.assert_array_equal(rec.channel("force")[: len(before)], before[:, 2])
    np.testing.assert_array_equal(rec.channel("force")[len(before) :], after[:, 2])
    assert len(driver.status.gaps) == 1 and len(rec.events_of("gap")) == 1
    assert np.all(np.diff(rec.timestamps) > 0)
