"""WitMotion WT901BLE: codec vectors, and emulator -> bleak -> emulated BlueZ -> driver -> Recording."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.devices.base import BatteryReply, DeviceError, SampleBlock, SetRate, Start, Stop
from motorlab.devices.codecs import witmotion_ble as wb
from motorlab.devices.registry import open_device
from motorlab.signal.spectrum import peak_frequency, signal_psd

from .ble_helpers import record, wait_until
from .fast_path_diff import assert_same_paths, fuzz_inputs

G = 9.80665
VECTOR = bytes.fromhex("5561 0A00 2500 1608 DEFF 0700 0000 D580 20FF D0D9")  # witmotion_IMU_ros#50


def _first_match(rows: np.ndarray, row: np.ndarray) -> int:
    hits = np.flatnonzero(np.all(np.isclose(rows, row, rtol=0, atol=1e-12), axis=1))
    assert hits.size, "recorded sample not among the sent ones"
    return int(hits[0])


# ------------------------------------------------------------------ codec
def test_published_frame_decodes_to_physical_units():
    codec = wb.WitMotionBleCodec(rate_hz=50)
    codec.encode(Start())
    [blk] = codec.feed(VECTOR)
    acc_g = blk.values[0, :3] / G
    np.testing.assert_allclose(acc_g, [0.005, 0.018, 1.011], atol=6e-4)
    np.testing.assert_allclose(blk.values[0, 3:6], [-2.07, 0.43, 0.0], atol=6e-3)
    np.testing.assert_allclose(blk.values[0, 6:9], [-178.8, -1.2, -53.7], atol=0.06)
    assert [c.name for c in wb.CHANNELS] == [
        "acc_x",
        "acc_y",
        "acc_z",
        "gyr_x",
        "gyr_y",
        "gyr_z",
        "roll",
        "pitch",
        "yaw",
    ]


def test_samples_are_timed_by_the_configured_rate_and_gated_by_start_stop():
    codec = wb.WitMotionBleCodec()
    assert codec.feed(VECTOR) == []  # not started: dropped
    assert codec.encode(SetRate(50.0)) == bytes.fromhex("FFAA6988B5 FFAA030800 FFAA000000")
    codec.encode(Start())
    events = codec.feed(VECTOR * 3) + codec.feed(VECTOR[:7]) + codec.feed(VECTOR[7:])
    t = np.concatenate([b.device_time for b in events])
    np.testing.assert_allclose(t, [0.0, 0.02, 0.04, 0.06])
    codec.encode(Stop())
    assert codec.feed(VECTOR) == []


def test_register_reply_and_resync_on_header():
    codec = wb.WitMotionBleCodec()
    codec.encode(Start())
    events = codec.feed(b"\x13\x00\x61\x55\x00" + wb.register_frame(wb.REG_BATTERY_BLE, (392,)) + VECTOR)
    reg, batt, blk = events
    assert reg == wb.RegisterReply(0x64, (392, 0, 0, 0, 0, 0, 0, 0))
    assert isinstance(batt, BatteryReply) and batt.volts == pytest.approx(3.92) and 0 < batt.percent < 100
    assert isinstance(blk, SampleBlock) and blk.n == 1
    assert codec.stats.bytes_discarded == 5 and codec.stats.frames_ok == 2
    raw = np.arange(-9, 9).reshape(2, 9).astype(np.int16)
    [blk] = codec.feed(wb.data_frame(raw))
    np.testing.assert_allclose(blk.values, raw * wb.SCALE)


def _ble_streams(seed: int) -> list[list[bytes]]:
    """Notifications as the sensor sends them (one data frame each), and with register replies,
    two frames in one notification, frames cut across notifications, junk and lost pieces."""
    rng = np.random.default_rng(seed)
    streams = []
    for _ in range(40):
        notes = [wb.data_frame(rng.integers(-32768, 32767, (1, 9))) for _ in range(30)]
        for _ in range(int(rng.integers(0, 6))):
            at, kind = int(rng.integers(0, len(notes))), int(rng.integers(0, 6))
            if kind == 0:
                notes.insert(at, wb.register_frame(int(rng.choice([0x2E, 0x64])), (392, 7)))
            elif kind == 1:
                notes[at] = notes[at] + wb.data_frame(rng.integers(-32768, 32767, (1, 9)))
            elif kind == 2:
                cut = int(rng.integers(1, 20))
                notes[at : at + 1] = [notes[at][:cut], notes[at][cut:]]
            elif kind == 3:
                notes.insert(at, bytes(rng.integers(0, 256, int(rng.integers(1, 30)), dtype=np.uint8)))
            elif kind == 4:
                notes.insert(at, notes[at][: int(rng.integers(0, 20))])  # a cut frame never continued
            else:
                del notes[at]
        streams.append(notes)
    return streams


@pytest.mark.parametrize("started", [True, False])
def test_fast_path_gives_the_events_and_counters_of_the_general_path(started):
    """feed()'s one-frame path against _feed_general (framer + parse), call by call: clean and
    damaged notification streams, and the fuzzer's inputs."""

    def prime(codec):
        if started:
            codec.encode(Start())

    def make():
        return wb.WitMotionBleCodec(rate_hz=50)

    def state(codec):
        return codec._index, codec.framer.partial, codec.active

    streams = _ble_streams(3) + fuzz_inputs("witmotion_ble", 1500)
    calls = assert_same_paths(make, prime, streams, state)
    assert calls > 5000
    # the fast path was taken: one whole data frame decodes to its own block
    codec = make()
    prime(codec)
    frame = wb.data_frame(np.arange(9))
    blocks = codec.feed(frame)
    assert [b.values[0].tolist() for b in blocks] == ([(np.arange(9) * wb.SCALE).tolist()] if started else [])


def test_full_128_bit_uuids_use_the_9a34fb_base():
    for uuid in (wb.SERVICE_UUID, wb.NOTIFY_UUID, wb.WRITE_UUID):
        assert uuid.endswith("-0000-1000-8000-00805f9a34fb")


# ------------------------------------------------------------------ end to end
async def test_tremor_frequency_matches_participant_through_bleak(ble_sandbox, tmp_path):
    device = await open_device("sim://wt901ble?freq_hz=5.3&amp_ms2=0.4&seed=3&rate_hz=100")
    driver = device.driver
    try:
        info = await driver.info()
        assert info.model == "WitMotion WT901BLE" and info.serial == "D6:3B:1E:00:00:01"
        assert info.firmware == "0x1f6c" and info.nominal_rate_hz == 100.0
        assert await driver.battery() == pytest.approx(wb.battery_percent(3.92))

        async def hold_posture(acq):
            device.emulator.cue("posture")
            await asyncio.sleep(5.0)

        rec = await record(driver, tmp_path, "tremorpostural", hold_posture)
    finally:
        await device.close()
    emu = device.emulator
    sent = emu.sent[emu.sent[:, 0] == emu.streams, 2:] * wb.SCALE
    # the sensor streams all the time; the recording is the contiguous run between start and stop
    k = _first_match(sent, rec.data[0])
    assert rec.n_samples > 400
    np.testing.assert_allclose(rec.data, sent[k : k + rec.n_samples], rtol=0, atol=1e-12)
    acc = rec.select(["acc_x", "acc_y", "acc_z"])
    freqs, psd = signal_psd(acc - acc.mean(axis=0), rec.sampling_rate)
    f_peak = peak_frequency(freqs, psd, (3.0, 12.0))
    assert f_peak == pytest.approx(emu.participant.truth["freq_hz"], abs=0.1)
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(0.01, rel=1e-3)


async def test_accelerometer_calibration_removes_bias(ble_sandbox):
    device = await open_device("sim://wt901ble?acc_bias=0.35,-0.25,0.4&gyro_bias=3,-2,1.5&rate_hz=50")
    driver = device.driver
    try:
        emu = device.emulator
        emu.participant.still(True)  # lying level on the table
        await driver.start()

        async def mean_of(n):
            driver.pending_blocks()
            await wait_until(lambda: driver._queue.qsize() >= n, 10, f"{n} blocks")
            return np.concatenate([b.values for b in driver.pending_blocks()]).mean(axis=0)

        before = await mean_of(20)
        await driver.calibrate(duration_s=0.6)
        after = await mean_of(20)
        await driver.stop()
    finally:
        await device.close()
    assert emu.commands[-3:] == [
        bytes.fromhex("FFAA6988B5"),
        bytes.fromhex("FFAA010000"),
        bytes.fromhex("FFAA000000"),
    ]
    np.testing.assert_allclose(before[:3], [0.35, -0.25, G + 0.4], atol=0.02)
    np.testing.assert_allclose(before[3:6], [3, -2, 1.5], atol=0.1)
    np.testing.assert_allclose(after[:3], [0.0, 0.0, G], atol=0.02)
    np.testing.assert_allclose(after[3:6], [0.0, 0.0, 0.0], atol=0.1)


async def test_link_loss_reconnects_without_losing_frames(ble_sandbox, tmp_path):
    device = await open_device("sim://wt901ble?rate_hz=50&seed=5")
    driver = device.driver
    driver.reconnect_backoff_s = 0.05
    emu = device.emulator
    marks = []

    async def script(acq):
        await asyncio.sleep(0.8)
        marks.append((emu.streams, len(emu.sent)))
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: (emu.sent[:, 0] == emu.streams).sum() > 25, 10, "resumed stream")

    try:
        rec = await record(driver, tmp_path, "tremorrest", script)
    finally:
        await device.close()
    stream_before, _n_before = marks[0]
    sent = emu.sent
    before = sent[sent[:, 0] == stream_before]
    after = sent[sent[:, 0] > stream_before]
    assert len(before) > 25 and len(after) > 25
    # every frame sent before the loss, from the first one after start(), is in the recording
    got = rec.data
    k = _first_match(before[:, 2:] * wb.SCALE, got[0])
    np.testing.assert_allclose(got[: len(before) - k], before[k:, 2:] * wb.SCALE, atol=1e-12)
    resumed = got[len(before) - k :]
    assert len(resumed) > 20  # the sensor keeps streaming after stop(): compare what was recorded
    np.testing.assert_allclose(resumed, after[: len(resumed), 2:] * wb.SCALE, atol=1e-12)
    assert len(driver.status.gaps) == 1 and len(rec.events_of("gap")) == 1
    assert np.all(np.diff(rec.timestamps) > 0)


async def test_unsupported_rate_is_a_clear_error(ble_sandbox):
    with pytest.raises(DeviceError, match="^sim://wt901ble: WT901 cannot stream at 33 Hz"):
        await open_device("sim://wt901ble?rate_hz=33")
