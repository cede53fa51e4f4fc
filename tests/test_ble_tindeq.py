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
