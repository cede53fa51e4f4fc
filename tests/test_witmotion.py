"""WitMotion WT901: codec against hand-built frames, emulator -> driver over a real pty -> Recording."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest

from motorlab.analysis.tremor import tremor_analyze
from motorlab.devices.base import (
    Ack,
    DeviceError,
    GetInfo,
    InfoReply,
    SampleBlock,
    SetRate,
    stack_blocks,
)
from motorlab.devices.codecs.witmotion import (
    CHANNELS,
    RSW_ACC,
    RSW_ANGLE,
    RSW_DEFAULT,
    RSW_TIME,
    SetContent,
    WitMotionCodec,
    chip_time_words,
    encode_frame,
    stream_types,
)
from motorlab.devices.drivers.witmotion import WitMotionDriver
from motorlab.devices.registry import open_device
from motorlab.devices.transports.serial_port import SerialTransport
from motorlab.recording import Metadata, Recording
from motorlab.sim.emulators.mark10 import Mark10Emulator

from .driver_helpers import protocol_mismatch_message
from .fast_path_diff import assert_same_events, assert_same_paths, fuzz_inputs

G = 9.80665


def frame(ftype: int, *words: int) -> bytes:
    """An 11-byte frame built independently of the codec (struct + sum)."""
    body = struct.pack("<BB4h", 0x55, ftype, *words)
    return body + bytes([sum(body) % 256])


def sample(acc=(0, 0, 2048), gyro=(0, 0, 0), ang=(0, 0, 0), mag=(100, 0, -300)) -> bytes:
    return frame(0x51, *acc, 2500) + frame(0x52, *gyro, 2500) + frame(0x53, *ang, 310) + frame(0x54, *mag, 0)


def blocks_of(events) -> list[SampleBlock]:
    return [e for e in events if isinstance(e, SampleBlock)]


# ------------------------------------------------------------------ codec
def test_scaling_of_each_frame_type():
    c = WitMotionCodec(rate_hz=50)
    data = sample(
        acc=(16384, -8192, 2048), gyro=(16384, -32768, 164), ang=(16384, -8192, 32767), mag=(100, -200, 300)
    )
    (blk,) = blocks_of(c.feed(data))
    row = blk.values[0]
    # raw/32768 * 16 g ; raw/32768 * 2000 deg/s ; raw/32768 * 180 deg (WitMotion SDK)
    assert row[0:3] == pytest.approx([8 * G, -4 * G, 1 * G])
    assert row[3:6] == pytest.approx([1000.0, -2000.0, 164 / 32768 * 2000])
    assert row[6:9] == pytest.approx([90.0, -45.0, 32767 / 32768 * 180])
    assert row[9:12] == pytest.approx([15.0, -30.0, 45.0])  # 0.15 uT per count
    assert blk.device_time.tolist() == [0.0]
    assert [ch.name for ch in CHANNELS][:3] == ["acc_x", "acc_y", "acc_z"]


def test_any_chunking_gives_the_same_rows():
    rng = np.random.default_rng(1)
    data = b"".join(sample(acc=tuple(rng.integers(-3000, 3000, 3))) for _ in range(40))
    whole = stack_blocks(blocks_of(WitMotionCodec(rate_hz=100).feed(data)))
    c = WitMotionCodec(rate_hz=100)
    events = []
    cuts = np.sort(rng.choice(len(data), 60, replace=False))
    for a, b in zip([0, *cuts], [*cuts, len(data)]):
        events += c.feed(data[a:b])
    pieces = stack_blocks(blocks_of(events))
    assert pieces[0].size == whole[0].size == 40
    np.testing.assert_array_equal(pieces[0], whole[0])
    np.testing.assert_array_equal(pieces[1], whole[1])
    np.testing.assert_allclose(whole[0], np.arange(40) / 100)


def test_one_period_per_read_equals_the_framer_path_through_losses():
    """A read of one whole period (the usual serial read) takes a shorter path in feed(): same rows,
    times, drops and counters as one big read, through a lost frame, a bad checksum and a cut."""
    periods = [sample(acc=(k, -k, 2048)) for k in range(12)]
    periods[4] = periods[4][11:]  # a lost frame
    bad = bytearray(periods[7])
    bad[30] ^= 0x01  # a bad checksum
    periods[7] = bytes(bad)
    reads = [*periods[:9], periods[9][:5], periods[9][5:], *periods[10:]]
    per_read, whole = WitMotionCodec(rate_hz=100), WitMotionCodec(rate_hz=100)
    events = []
    for piece in reads:
        events += per_read.feed(piece)
    got = blocks_of(events)
    ref = blocks_of(whole.feed(b"".join(reads)))
    for a, b in zip(stack_blocks(got), stack_blocks(ref)):
        np.testing.assert_array_equal(a, b)
    t, v = stack_blocks(got)
    assert t.size == 12 and np.isnan(v[4, 0]) and np.isnan(v[7, 6])  # the rows keep their place
    np.testing.assert_allclose(v[[0, 5, 11], 0], np.array([0, 5, 11]) * 16 * G / 32768)
    assert per_read.stats == whole.stats and per_read.stats.crc_errors == 1
    assert per_read.stats.frames_ok == 46 and per_read.stats.bytes_discarded == 11


def test_header_bytes_inside_data_do_not_break_sync():
    # 0x55 0x51 inside the data words (what splitting on 'U' gets wrong)
    data = b"".join(sample(acc=(0x5155, 0x5355, 0x0055)) for _ in range(5))
    c = WitMotionCodec()
    t, v = stack_blocks(blocks_of(c.feed(data)))
    assert t.size == 5 and c.stats.bytes_discarded == 0
    assert v[0, 0] == pytest.approx(struct.unpack("<h", b"\x55\x51")[0] / 32768 * 16 * G)


def test_corrupted_frames_are_counted_as_dropped_and_time_keeps_its_spacing():
    samples = [sample(acc=(k, 0, 2048)) for k in range(10)]
    bad = bytearray(samples[4] + samples[5])
    bad[13] ^= 0xFF  # breaks a checksum ...
    bad[60] ^= 0x0F  # ... and another one in the next sample
    for k in (0, 11, 22, 33, 44, 55, 66, 77):
        bad[k] = 0x00  # and every header of the two samples
    c = WitMotionCodec(rate_hz=10)
    data = b"".join(samples[:4]) + bytes(bad) + b"".join(samples[6:])
    blocks = blocks_of(c.feed(data))
    t, v = stack_blocks(blocks)
    kept = [0, 1, 2, 3, 6, 7, 8, 9]
    np.testing.assert_allclose(t, np.array(kept) / 10)
    np.testing.assert_allclose(v[:, 0], np.array(kept) * 16 * G / 32768)
    assert sum(b.dropped_before for b in blocks) == 2 == c.stats.dropped_samples
    assert c.stats.bytes_discarded == 88


def test_time_frames_reveal_whole_lost_periods():
    rate = 50
    c = WitMotionCodec(rate_hz=rate)
    chunks = []
    for k in range(30):
        if k in (7, 8, 20):
            continue  # lost on the wire without a trace
        tw = chip_time_words(1000.0 + k / rate)
        chunks.append(frame(0x50, *tw) + sample(acc=(k, 0, 0)))
    t, v = stack_blocks(blocks_of(c.feed(b"".join(chunks))))
    expected = [k for k in range(30) if k not in (7, 8, 20)]
    np.testing.assert_allclose(t * rate, expected)
    np.testing.assert_allclose(v[:, 0] / (16 * G / 32768), expected)
    assert c.stats.dropped_samples == 3
    assert c.content & 0x01  # learned that time frames are on


def test_commands_are_the_documented_bytes():
    c = WitMotionCodec()
    assert c.encode(GetInfo()) == bytes.fromhex("ffaa272e00")
    assert c.encode(SetRate(100)) == bytes.fromhex("ffaa6988b5ffaa030900ffaa000000ffaa270300")
    with pytest.raises(ValueError, match="cannot stream at 33"):
        c.encode(SetRate(33))


def test_register_replies_answer_reads_in_order():
    c = WitMotionCodec(rate_hz=10)
    c.encode(GetInfo())
    c.encode(SetRate(50))
    events = c.feed(frame(0x5F, 0x0136, 0, 0, 0) + frame(0x5F, 0x08, 0, 0, 0))
    assert isinstance(events[0], InfoReply) and events[0].info.firmware == str(0x0136)
    assert events[1] == Ack("setrate", True, "", 50.0)
    assert c.rate_hz == 50.0


def _period_streams(mask: int, seed: int) -> list[list[bytes]]:
    """Reads of one output period each (the usual serial read), and with lost, damaged, cut,
    duplicated and repeated periods, junk, and register replies (answering the primed reads)."""
    rng = np.random.default_rng(seed)
    types = stream_types(mask)
    streams = []
    for _ in range(30):
        reads = []
        for k in range(25):
            period = b""
            for ftype in types:
                if ftype == 0x50:
                    words: tuple[int, ...] = chip_time_words(1000.0 + k / 100)
                else:
                    words = tuple(int(w) for w in rng.integers(-32768, 32767, 4))
                period += encode_frame(ftype, words)
            reads.append(period)
        for _ in range(int(rng.integers(0, 6))):
            at, kind = int(rng.integers(0, len(reads))), int(rng.integers(0, 8))
            if kind == 0:
                del reads[at]  # a lost period
            elif kind == 1:
                reads[at] = reads[at][11:]  # a lost frame
            elif kind == 2:
                bad = bytearray(reads[at])
                bad[int(rng.integers(0, len(bad)))] ^= 1 << int(rng.integers(0, 8))
                reads[at] = bytes(bad)
            elif kind == 3:
                cut = int(rng.integers(1, len(reads[at])))
                reads[at : at + 1] = [reads[at][:cut], reads[at][cut:]]
            elif kind == 4:
                reads.insert(at, reads[at])  # the same period again
            elif kind == 5:
                reads.insert(at, bytes(rng.integers(0, 256, int(rng.integers(1, 30)), dtype=np.uint8)))
            elif kind == 6:
                reads.insert(at, encode_frame(0x5F, (int(rng.integers(0, 13)), 0, 0, 0)))
            else:
                reads[at] += encode_frame(0x5F, (6, 0, 0, 0))  # a reply right after a period
        streams.append(reads)
    return streams


@pytest.mark.parametrize(
    "mask",
    [RSW_DEFAULT, RSW_DEFAULT | 0x20 | 0x200, RSW_ACC | RSW_ANGLE, RSW_DEFAULT | RSW_TIME],
    ids=["default", "default+port+quaternion", "acc+angle", "with-chip-time"],
)
def test_fast_path_gives_the_events_and_counters_of_the_general_path(mask):
    """feed()'s whole-period path against _feed_general (framer + parse), read by read, for the
    usual content and others (a frame type without channels, missing columns, chip time):
    clean and damaged streams, and the fuzzer's inputs."""

    def make():
        return WitMotionCodec(rate_hz=100, content=mask)

    def prime(codec):
        codec.encode(GetInfo())
        codec.encode(SetRate(50))

    def state(codec):
        f = codec.framer
        return (codec._slot, codec._row, codec._last_row, codec._last_type, codec._gap_bytes, codec.rate_hz,
                codec.content, f.buffer, f.skipped, f._dropping)  # fmt: skip

    streams = _period_streams(mask, 5) + fuzz_inputs("witmotion", 600)
    assert assert_same_paths(make, prime, streams, state) > 1500
    # the fast path was taken: the second of two whole periods decodes to its row
    codec = make()
    first, second = (
        b"".join(
            encode_frame(t, chip_time_words(k / 100) if t == 0x50 else (k, -k, 2 * k, 0))
            for t in stream_types(mask)
        )
        for k in (1, 2)
    )
    codec.feed(first)
    [blk] = codec.feed(second)
    assert blk.values[0, 0] == 2 * 16 * G / 32768 and blk.device_time.tolist() == [0.01]


def test_fast_path_after_skip_time_reports_the_skipped_rows():
    """skip_time (a known loss, e.g. unplugged) then whole periods: the same rows, times and drops."""
    runs = []
    for codec in (WitMotionCodec(rate_hz=100), WitMotionCodec(rate_hz=100)):
        feed = codec.feed if not runs else codec._feed_general
        events = [e for k in range(3) for e in feed(sample(acc=(k, 0, 0)))]
        codec.skip_time(0.05)
        events += [e for k in range(3, 6) for e in feed(sample(acc=(k, 0, 0)))]
        runs.append((events, codec.stats))
    (fast, fast_stats), (general, general_stats) = runs
    assert_same_events(fast, general)
    assert fast_stats == general_stats and fast_stats.dropped_samples == 5
    assert [b.dropped_before for b in fast] == [0, 0, 0, 5, 0, 0]
    np.testing.assert_allclose(stack_blocks(fast)[0], [0.0, 0.01, 0.02, 0.08, 0.09, 0.10])


def test_content_change_moves_the_fast_path_to_the_new_cycle():
    c = WitMotionCodec(rate_hz=100)
    for _ in range(2):
        c.feed(sample())
    c.encode(SetContent(RSW_ACC | RSW_ANGLE))
    [ack] = c.feed(frame(0x5F, RSW_ACC | RSW_ANGLE, 0, 0, 0))
    assert ack.ok and c.content == RSW_ACC | RSW_ANGLE
    blocks = [b for k in range(3) for b in c.feed(frame(0x51, k, 0, 0, 0) + frame(0x53, 0, 0, k, 0))]
    t, v = stack_blocks(blocks)
    np.testing.assert_allclose(t, [0.02, 0.03, 0.04])
    np.testing.assert_allclose(v[:, 8], np.arange(3) * 180 / 32768)
    assert np.isnan(v[:, 3:6]).all() and np.isnan(v[:, 9:]).all() and c.stats.dropped_samples == 0


# ------------------------------------------------------------------ end to end
def build_recording(blocks: list[SampleBlock], rate: float, task: str) -> Recording:
    t, v = stack_blocks(blocks)
    md = Metadata(participant="P001", task=task, tracksys="imu", device_model="WT901")
    return Recording(t - t[0], v, list(CHANNELS), rate, md)


async def test_tremor_frequency_end_to_end_matches_the_participant():
    dev = await open_device("sim://wt901?rate=100&freq_hz=5.3&amp_ms2=0.4&seed=7")
    drv = dev.driver
    try:
        info = await drv.info()
        assert info.nominal_rate_hz == 100 and info.protocol == "witmotion"
        await drv.start()
        await asyncio.sleep(6.0)
        await drv.stop()
        blocks = drv.pending_blocks()
    finally:
        await dev.close()
    rec = build_recording(blocks, 100.0, "tremorpostural")
    assert rec.n_samples >= 500
    np.testing.assert_allclose(np.diff(rec.timestamps), 0.01, atol=1e-9)  # device time = index / rate
    res = tremor_analyze(rec.select(["acc_x", "acc_y", "acc_z"]), rec.sampling_rate)
    truth = dev.emulator.truth
    assert abs(res.peak_freq_Hz - truth["freq_hz"]) < 0.1
    assert np.nanmean(rec.channel("acc_z")) == pytest.approx(G, abs=0.02)  # gravity, +z up
    assert sum(b.dropped_before for b in blocks) == 0


async def test_accelerometer_calibration_removes_the_injected_bias():
    dev = await open_device("sim://wt901?rate=50&acc_bias=0.3,-0.2,0.5&gyro_bias=1.5,0,-2")
    drv = dev.driver
    try:
        emu = dev.emulator
        emu.participant.still(True)  # lying level and still on the bench
        await drv.start()
        await asyncio.sleep(0.6)
        _, before = stack_blocks(drv.pending_blocks())
        await drv.calibrate_accel(duration_s=0.5)
        drv.pending_blocks()
        await asyncio.sleep(0.6)
        _, after = stack_blocks(drv.pending_blocks())
    finally:
        await dev.close()
    np.testing.assert_allclose(before[:, 0:3].mean(axis=0), [0.3, -0.2, G + 0.5], atol=0.02)
    np.testing.assert_allclose(before[:, 3:6].mean(axis=0), [1.5, 0.0, -2.0], atol=0.1)
    np.testing.assert_allclose(after[:, 0:3].mean(axis=0), [0.0, 0.0, G], atol=0.02)
    np.testing.assert_allclose(after[:, 3:6].mean(axis=0), [0.0, 0.0, 0.0], atol=0.1)
    assert emu.truth["calibrations"] and emu.truth["acc_offset_ms2"] == pytest.approx(
        [0.3, -0.2, 0.5], abs=0.01
    )


async def test_unplug_replug_keeps_every_sample_received_before_the_loss():
    dev = await open_device("sim://wt901?rate=100")
    drv = dev.driver
    try:
        emu = dev.emulator
        await drv.start()
        await asyncio.sleep(0.8)
        emu.link.vanish()
        await asyncio.sleep(0.3)  # loss detected; whatever arrived is decoded and queued
        queued_before = [b.device_time.copy() for b in list(drv._queue._queue) if b is not None]
        assert not drv.status.connected
        emu.link.restore()
        for _ in range(100):
            if drv.status.reconnects:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        blocks = drv.pending_blocks()
    finally:
        await dev.close()
    assert drv.status.reconnects == 1 and len(drv.status.gaps) == 1
    n_before = len(queued_before)
    assert n_before > 0 and sum(t.size for t in queued_before) >= 60
    for got, kept in zip(blocks[:n_before], queued_before):  # nothing received before the loss is lost
        np.testing.assert_array_equal(got.device_time, kept)
    t, _ = stack_blocks(blocks)
    after = t[t > queued_before[-1][-1]]
    assert after.size >= 30  # samples continue after the replug
    assert np.all(np.diff(t) > 0)
    lost_s = drv.status.gaps[0][1] - drv.status.gaps[0][0]
    dropped = sum(b.dropped_before for b in blocks)
    assert dropped == drv.status.dropped_samples
    assert 0.5 * lost_s * 100 <= dropped <= 1.5 * lost_s * 100 + 10


async def test_wrong_protocol_is_a_one_line_protocol_mismatch():
    emu = Mark10Emulator()  # an ASCII force gauge where a WT901 was expected
    drv = WitMotionDriver(SerialTransport(emu.link.link_path, 115200), url=f"serial://{emu.link.link_path}")
    try:
        msg = await protocol_mismatch_message(drv)
    finally:
        emu.close()
    assert emu.link.link_path in msg and "witmotion" in msg


async def test_bad_requests_are_one_line_device_errors():
    dev = await open_device("sim://wt901")
    drv = dev.driver
    try:
        with pytest.raises(DeviceError, match="cannot stream at 30 Hz") as exc:
            await drv.set_rate(30)
        assert "\n" not in str(exc.value)
        with pytest.raises(DeviceError, match="no tare"):
            await drv.tare()
    finally:
        await dev.close()
