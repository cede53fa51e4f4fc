"""Tindeq Progressor: codec vectors, and emulator -> bleak -> emulated BlueZ -> driver -> Recording."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest

from motorlab.devices.base import Ack, BatteryReply, DeviceError, GetBattery, SampleBlock, Start
from motorlab.devices.codecs import tindeq as tq
from motorlab.devices.registry import open_device

from .ble_helpers import record, wait_until
from .fast_path_diff import assert_same_events

G = 9.80665


# ------------------------------------------------------------------ codec
def test_documented_weight_frame_decodes_to_newtons_and_seconds():
    # 1.0 kg at t = 12 500 µs (devices.md §1, derived example)
    [blk] = tq.TindeqCodec().feed(bytes.fromhex("0108 0000803F D4300000"))
    assert isinstance(blk, SampleBlock)
    assert blk.values.shape == (1, 1) and blk.values[0, 0] == pytest.approx(G)
    assert blk.device_time[0] == pytest.approx(0.0125)


def test_multi_sample_frames_one_or_several_per_notification_give_the_same_samples():
    kg = np.array([0.5, 1.25, -0.125, 30.0], dtype=np.float32)
    us = np.array([0, 12_500, 25_000, 37_500])
    frames = [tq.weight_frame(kg[:3], us[:3]), tq.weight_frame(kg[3:], us[3:])]
    whole = tq.TindeqCodec().feed(b"".join(frames))  # both frames in one notification
    codec = tq.TindeqCodec()
    pieces = [ev for frame in frames for ev in codec.feed(frame)]  # one frame per notification
    for events in (whole, pieces):
        t = np.concatenate([b.device_time for b in events])
        f = np.concatenate([b.values[:, 0] for b in events])
        np.testing.assert_allclose(t, us * 1e-6)
        np.testing.assert_allclose(f, kg.astype(np.float64) * G)
    assert codec.stats.frames_ok == 2 and codec.stats.resyncs == 0


def test_a_frame_is_never_joined_across_notifications():
    # a notification carries whole frames (devices.md §1): a cut frame is dropped, the next one decodes
    codec = tq.TindeqCodec()
    frame = tq.weight_frame(np.array([1.0, 2.0], np.float32), [0, 12_500])
    assert codec.feed(frame[:7]) == [] and codec.stats.bytes_discarded == 7
    assert codec.feed(frame[7:]) == []  # its tail starts no weight frame (00 00 reads as an empty reply)
    [blk] = codec.feed(tq.weight_frame(np.array([3.0], np.float32), [25_000]))
    assert blk.values[0, 0] == pytest.approx(3 * G) and blk.device_time[0] == pytest.approx(0.025)


def test_microsecond_counter_wrap_is_unwrapped_and_gaps_counted_as_dropped():
    codec = tq.TindeqCodec()
    top = 2**32 - 12_500
    a = codec.feed(tq.weight_frame(np.ones(2, np.float32), [top - 12_500, top]))[0]
    b = codec.feed(tq.weight_frame(np.ones(2, np.float32), [0, 12_500]))[0]  # wrapped
    c = codec.feed(tq.weight_frame(np.ones(1, np.float32), [50_000]))[0]  # 2 samples missing
    assert b.device_time[0] - a.device_time[-1] == pytest.approx(0.0125)
    assert b.dropped_before == 0 and c.dropped_before == 2 and codec.stats.dropped_samples == 2
    codec.encode(Start())  # a new stream restarts the device clock: no false wrap
    d = codec.feed(tq.weight_frame(np.ones(1, np.float32), [0]))[0]
    assert d.device_time[0] == 0.0 and d.dropped_before == 0


def test_untagged_replies_are_matched_to_the_last_command():
    codec = tq.TindeqCodec()
    assert codec.encode(GetBattery()) == b"\x6f"
    [ev] = codec.feed(tq.reply_frame(struct.pack("<I", 3_800)))
    assert isinstance(ev, BatteryReply) and ev.volts == pytest.approx(3.8) and 0 < ev.percent < 100
    assert codec.encode(tq.GetFirmware()) == b"\x6b"
    [ev] = codec.feed(tq.reply_frame(b"1.2.4"))
    assert ev == Ack("firmware", value="1.2.4")
    codec.encode(tq.GetDeviceId())
    [ev] = codec.feed(tq.reply_frame(bytes.fromhex("0a1b2c")))
    assert ev == Ack("deviceid", value="2C1B0A")
    assert codec.feed(tq.reply_frame(b"late")) == []  # nobody asked: ignored


def test_garbage_is_skipped_and_resynced():
    codec = tq.TindeqCodec()
    junk = bytes([0x09, 0xFF, 0x01, 0x07])  # bad code, weight frame with length 7
    events = codec.feed(junk + tq.weight_frame(np.array([2.0], np.float32), [0]))
    assert len(events) == 1 and events[0].values[0, 0] == pytest.approx(2 * G)
    assert codec.stats.resyncs == len(junk)


# ------------------------------------------------------------------ fast path == general path
def _frames(per: int, n_frames: int, start_us: int, rng: np.random.Generator, steps=None) -> list[bytes]:
    """Weight frames of ``per`` samples, one period (+- jitter) apart unless ``steps`` says otherwise."""
    if steps is None:
        steps = tq.PERIOD_US + rng.integers(-400, 400, per * n_frames)
    us = (start_us + np.cumsum(steps)) % 2**32
    kg = rng.uniform(-5, 90, per * n_frames).astype(np.float32)
    return [tq.weight_frame(kg[i : i + per], us[i : i + per]) for i in range(0, per * n_frames, per)]


def _tindeq_streams() -> list[list[bytes]]:
    """Notifications as devices send them, around the 2^32 µs wrap, with every kind of trouble."""
    rng = np.random.default_rng(10)
    near_wrap = 2**32 - 40 * tq.PERIOD_US
    streams = [_frames(per, 120, start, rng) for per in (1, 8, 3) for start in (0, near_wrap)]
    # steps at the edge of the fast path (18 749 us follows, 18 750 us counts one dropped sample),
    # gaps, repeats, a step back, a restart at 0, a jump of more than MAX_STEP_US
    edge = [tq.PERIOD_US, 18_749, 18_750, 18_751, 25_000, 0, -5, tq.MAX_STEP_US + 1, 1, 12_500]
    for per in (1, 2, 8):
        steps = np.resize(np.array(edge), per * 40)
        streams.append(_frames(per, 40, near_wrap, rng, steps=steps))
    one = _frames(1, 6, 0, rng)
    one[2] = tq.weight_frame(np.array([np.nan], np.float32), [struct.unpack_from("<I", one[2], 6)[0]])
    one[4] = tq.weight_frame(np.array([np.inf], np.float32), [struct.unpack_from("<I", one[4], 6)[0]])
    wide = tq.weight_frame(np.ones(2, np.float32), [112_500, 112_500 + tq.MAX_STEP_US + 1])
    streams += [one, _frames(8, 1, 0, rng, steps=np.full(8, 12_500)) + [wide]]  # NaN, inf; a too wide frame
    mixed = _frames(8, 30, near_wrap, rng)
    nan = bytearray(mixed[3])
    nan[2:6] = struct.pack("<f", float("nan"))  # a non-finite weight: the frame is dropped
    unsorted = bytearray(mixed[5])
    unsorted[6:10], unsorted[14:18] = unsorted[14:18], unsorted[6:10]  # timestamps not rising
    inf = bytearray(mixed[20])
    inf[-8:-4] = struct.pack("<f", float("-inf"))
    mixed[3], mixed[5], mixed[20] = bytes(nan), bytes(unsorted), bytes(inf)
    mixed[8] = mixed[7]  # a repeated notification
    mixed[10] = mixed[10] + mixed[11]  # two frames in one notification
    mixed[12] = mixed[12][:-3]  # a cut frame
    mixed.insert(14, tq.reply_frame(struct.pack("<I", 3_900)))  # the battery reply
    mixed.insert(16, bytes([tq.RES_RFD_PEAK, 4, 1, 2, 3, 4]))
    mixed.insert(18, b"\x09\xff" + mixed[18])  # junk before a frame
    mixed.insert(22, b"")
    mixed.insert(24, bytes([tq.RES_LOW_POWER, 0]))
    streams.append(mixed)
    return streams


def _fuzz_streams(n: int) -> list[list[bytes]]:
    import random

    from motorlab.devices.codecs import fuzzing

    target = next(t for t in fuzzing.TARGETS if t.name == "tindeq")
    rng = random.Random(10)
    corpus = fuzzing.Corpus.build(target, rng, size=60)
    return [fuzzing.fuzz_input(corpus, rng) for _ in range(n)]


def _assert_feed_is_the_general_path(streams: list[list[bytes]]) -> None:
    fast, general = tq.TindeqCodec(), tq.TindeqCodec()
    for k, stream in enumerate(streams):
        if k % 3 == 0:  # a new stream (the device clock restarts), or a command awaiting its reply
            for codec in (fast, general):
                codec.encode(Start() if k % 2 else GetBattery())
        for piece in stream:
            assert_same_events(fast.feed(piece), general._feed_general(piece))
            assert fast.stats == general.stats
            assert (fast._last_raw, fast._wraps, fast._pending) == (
                general._last_raw,
                general._wraps,
                general._pending,
            )


def test_fast_path_gives_the_events_and_counters_of_the_general_path():
    _assert_feed_is_the_general_path(_tindeq_streams())


def test_fast_path_gives_the_events_and_counters_of_the_general_path_on_fuzz_inputs():
    _assert_feed_is_the_general_path(_fuzz_streams(3000))


def test_fast_path_takes_the_usual_notifications():
    """The streams above do exercise the fast path: the usual frames skip the framer."""
    codec = tq.TindeqCodec()
    streams = _tindeq_streams()[:2]
    codec.feed(streams[0][0])  # the first frame of a stream goes the general way
    calls = []
    codec._feed_general = lambda data: calls.append(data) or []  # type: ignore[method-assign]
    for piece in streams[0][1:]:
        codec.feed(piece)
    assert calls == []


def test_bulk_replay_of_equal_frames_across_a_wrap_is_vectorised_and_equals_feed():
    rng = np.random.default_rng(11)
    for per in (1, 8, 31):
        data = b"".join(_frames(per, 300, 2**32 - 150 * per * tq.PERIOD_US, rng))
        bulk, live = tq.TindeqCodec(), tq.TindeqCodec()
        for codec in (bulk, live):  # an earlier frame: the first one of the capture continues it
            codec.feed(_frames(per, 1, 2**32 - 151 * per * tq.PERIOD_US - 300, rng)[0])
        bulk.parse = None  # type: ignore[method-assign, assignment]  # (not called: one vectorised pass)
        events = bulk.feed_bulk(data)
        assert len(events) == 1 and events[0].n == 300 * per
        assert_same_events(events, live.feed(data), any_block_type=True)
        assert bulk.stats == live.stats and (bulk._last_raw, bulk._wraps) == (live._last_raw, live._wraps)
        assert live._wraps == 1
    # a step from one frame to the next at the edge (18 749 us follows; 18 750 us counts one dropped
    # sample), none, or one back: vectorised or frame by frame, the same as feed
    dropped = {}
    for step in (18_749, 18_750, 0, 2**32 - 1):
        steps = np.full(80, tq.PERIOD_US)
        steps[48] = step  # (from the last sample of frame 6 to the first of frame 7)
        data = b"".join(_frames(8, 10, 0, rng, steps=steps))
        bulk, live = tq.TindeqCodec(), tq.TindeqCodec()
        assert_same_events(bulk.feed_bulk(data), live.feed(data), any_block_type=True)
        assert bulk.stats == live.stats and (bulk._last_raw, bulk._wraps) == (live._last_raw, live._wraps)
        dropped[step] = bulk.stats.dropped_samples
    assert dropped == {18_749: 0, 18_750: 1, 0: 0, 2**32 - 1: 0}


def test_bulk_replay_equals_feed_on_steps_back_garbage_and_wraps():
    """Steps back that are wraps or not, many steps back (garbage), non-finite weights, two wraps in
    one capture: feed_bulk gives feed's events, counters and state, vectorised when the capture is
    clean (two wraps, each one step modulo 2^32 short enough) and frame by frame otherwise."""
    rng = np.random.default_rng(12)
    top = 2**32 - 10 - 20 * tq.PERIOD_US  # the counter of sample 19: 10 us before it wraps
    captures = {}
    for name, step, start in (("short wrap", 18_749, top), ("long back", -5, 0), ("repeat", 0, 0)):
        steps = np.full(64, tq.PERIOD_US)
        steps[20] = step  # (into sample 20: the longest step that wraps; a step back; none)
        captures[name] = b"".join(_frames(8, 8, start, rng, steps=steps))
    captures["garbage"] = b"".join(_frames(8, 8, 0, rng, steps=rng.integers(-2, 2, 64)))  # back and forth
    nan = bytearray(captures["short wrap"])
    nan[2 + 66 * 5 : 6 + 66 * 5] = struct.pack("<f", float("nan"))
    captures["nan"] = bytes(nan)
    captures["stream"] = b"".join(s for stream in _tindeq_streams() for s in stream)
    # two wraps: 2^32 us in steps just under the limit (about 229 000 samples)
    steps = np.full(31 * 7_500, 18_749)
    steps[:10] = tq.PERIOD_US
    captures["two wraps"] = b"".join(_frames(31, 7_500, top, rng, steps=steps))
    vectorised = {"short wrap", "two wraps"}
    for name, data in captures.items():
        bulk, live = tq.TindeqCodec(), tq.TindeqCodec()
        if name in vectorised:
            bulk.parse = None  # type: ignore[method-assign, assignment]  # (not called: one vectorised pass)
        events = bulk.feed_bulk(data)
        assert_same_events(events, live.feed(data), any_block_type=True)
        assert bulk.stats == live.stats and (bulk._last_raw, bulk._wraps) == (live._last_raw, live._wraps), (
            name
        )
        assert (len(events) == 1) == (name in vectorised), name
    assert live._wraps == 2


# ------------------------------------------------------------------ end to end
async def test_grip_peak_matches_participant_through_bleak(ble_sandbox, tmp_path):
    device = await open_device("sim://progressor?seed=4&peak_n=280&hold_s=0.6&noise_n=0.3")
    driver = device.driver
    try:
        info = await driver.info()
        assert (info.model, info.firmware, info.serial, info.nominal_rate_hz) == (
            "Tindeq Progressor",
            "1.2.4",
            "5F4E3D2C1B0A",
            80.0,
        )
        assert await driver.battery() == pytest.approx(tq.battery_percent(3.95))
        emu = device.emulator

        async def squeeze_twice(acq):
            for _ in range(2):
                emu.cue("squeeze")
                await asyncio.sleep(1.6)

        rec = await record(driver, tmp_path, "grip", squeeze_twice)
    finally:
        await device.close()
    force = rec.channel("force")
    truth = emu.truth
    assert len(truth) == 2
    assert rec.n_samples > 0.9 * 80 * 3.2
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(1 / 80, rel=1e-3)
    # every sample the device delivered is in the recording, bit for bit (float32 kg -> N)
    np.testing.assert_allclose(force, emu.sent[:, 2].astype(np.float64) * G, rtol=1e-12)
    for effort in truth:
        seg = rec.timestamps >= rec.timestamps[0] + effort["onset_s"] - 0.5
        peak = force[seg & (rec.timestamps < rec.timestamps[0] + effort["end_s"])].max()
        assert peak == pytest.approx(effort["peak_n"], rel=0.01)
    assert driver.status.dropped_samples == 0


async def test_device_tare_needs_stream_and_zeroes_static_load(ble_sandbox):
    device = await open_device("sim://progressor?noise_n=0&offset_n=7.5")
    driver = device.driver
    try:
        emu = device.emulator
        emu.participant.set_static_load(20.0)  # a 2.04 kg mass on the hook
        await driver.tare()  # the driver starts the stream for the tare
        assert emu.commands[-3:] == [tq.OP_START, tq.OP_TARE, tq.OP_STOP]
        assert driver.pending_blocks() == []  # tare samples are not data
        emu.participant.set_static_load(49.0)
        await driver.start()
        await wait_until(lambda: not driver._queue.empty(), 5, "samples")
        await asyncio.sleep(0.2)
        blocks = driver.pending_blocks()
        await driver.stop()
    finally:
        await device.close()
    values = np.concatenate([b.values[:, 0] for b in blocks])
    np.testing.assert_allclose(values, 29.0, atol=1e-4)  # 49 N - (20 N + 7.5 N offset) + 7.5 N


async def test_link_loss_reconnects_without_losing_samples(ble_sandbox, tmp_path):
    device = await open_device("sim://progressor?seed=2&hold_s=0.5")
    driver = device.driver
    driver.reconnect_backoff_s = 0.05
    emu = device.emulator
    lost_at: list[int] = []

    async def script(acq):
        emu.cue("squeeze")
        await asyncio.sleep(0.8)
        lost_at.append(len(emu.sent))
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: emu.streams == 2 and (emu.sent[:, 0] == 2).sum() > 40, 10, "resumed stream")

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    sent = emu.sent
    before = sent[sent[:, 0] == 1]
    after = sent[sent[:, 0] == 2]
    assert len(before) == lost_at[0] > 40 and len(after) > 40
    force = rec.channel("force")
    # 0 samples lost before the loss: the first len(before) recorded samples are exactly them
    np.testing.assert_array_equal(force[: len(before)], before[:, 2].astype(np.float64) * G)
    np.testing.assert_array_equal(force[len(before) :], after[:, 2].astype(np.float64) * G)
    assert len(driver.status.gaps) == 1
    [gap] = rec.events_of("gap")
    assert gap.duration > 0
    t_gap_start = rec.timestamps[len(before) - 1]
    t_resume = rec.timestamps[len(before)]
    assert t_gap_start <= gap.onset + 0.1 and t_resume >= gap.onset
    assert np.all(np.diff(rec.timestamps) > 0)


async def test_fixed_rate_and_missing_device_errors(ble_sandbox):
    device = await open_device("sim://progressor")
    driver = device.driver
    try:
        with pytest.raises(DeviceError, match="fixed 80 Hz"):
            await driver.set_rate(100)
    finally:
        await device.close()
    with pytest.raises(DeviceError, match="^sim://progressor: parameter peak_n='x' is not a number$"):
        await open_device("sim://progressor?peak_n=x")
    from motorlab.devices.registry import make_driver

    d = make_driver("ble://Progressor_0000?protocol=tindeq")
    d.transport.scan_timeout_s = 0.3
    with pytest.raises(DeviceError, match="^Progressor_0000: no BLE device with this name"):
        await d.open()
