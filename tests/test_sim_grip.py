"""GripParticipant, and the DIY grip dynamometer emulator end to end:
emulator -> real pseudo-terminal -> pyserial -> MotorlabCodec -> MotorlabDriver."""

from __future__ import annotations

import asyncio
import math
import threading

import numpy as np
import pytest

from motorlab.devices.base import DeviceError, ProtocolMismatch, SampleBlock
from motorlab.devices.registry import open_device
from motorlab.sim.emulators.grip_hx711 import FORCE_SCALE_N, GripHX711Emulator, make_emulator
from motorlab.sim.models import hashed_normal, minimum_jerk
from motorlab.sim.participants import GripParticipant
from motorlab.sim.pty_link import PtyLink

SCALE_F32 = float(np.float32(FORCE_SCALE_N))


# ------------------------------------------------------------------ participant
def test_effort_peak_rise_and_fatigue_match_truth():
    p = GripParticipant(peak_n=250.0, rise_s=0.4, hold_s=3.0, fatigue_per_s=0.05, seed=4)
    p.on_cue("squeeze", 1.0)
    (tr,) = p.truth
    assert tr["onset_s"] == pytest.approx(1.2) and tr["peak_s"] == pytest.approx(1.6)
    t = np.arange(0.0, 6.0, 1e-4)
    f = p.effort_force(t)
    assert np.all(f[t < tr["onset_s"]] == 0.0)
    assert f.max() == pytest.approx(tr["peak_n"], rel=1e-9)
    assert t[np.argmax(f)] == pytest.approx(tr["peak_s"], abs=2e-4)
    # 10-90 % rise time of the minimum-jerk rise, measured on the curve
    rising = (t >= tr["onset_s"]) & (t <= tr["peak_s"])
    t10 = t[rising][np.argmax(f[rising] >= 0.1 * tr["peak_n"])]
    t90 = t[rising][np.argmax(f[rising] >= 0.9 * tr["peak_n"])]
    assert t90 - t10 == pytest.approx(tr["rise_10_90_s"], abs=3e-4)
    # exponential fatigue while holding: F(release) = peak * exp(-k * hold)
    assert tr["release_force_n"] == pytest.approx(tr["peak_n"] * math.exp(-0.05 * 3.0))
    i = np.searchsorted(t, tr["release_s"])
    assert f[i] == pytest.approx(tr["release_force_n"], rel=1e-3)
    assert np.all(f[t >= tr["end_s"]] == 0.0)


def test_hold_lasts_until_release_and_jitter_is_seeded():
    p = GripParticipant(peak_n=100.0, peak_jitter=0.1, seed=7)
    p.on_cue("hold", 0.0)
    assert math.isinf(p.truth[0]["release_s"])
    assert p.effort_force(np.array([20.0]))[0] > 0
    p.on_cue("release", 20.0)
    assert p.truth[0]["release_s"] == pytest.approx(20.2) and p.truth[0]["end_s"] == pytest.approx(20.5)
    assert p.effort_force(np.array([20.6]))[0] == 0.0
    q = GripParticipant(peak_n=100.0, peak_jitter=0.1, seed=7)
    q.on_cue("hold", 0.0)
    r = GripParticipant(peak_n=100.0, peak_jitter=0.1, seed=8)
    r.on_cue("hold", 0.0)
    assert q.truth[0]["peak_n"] == p.truth[0]["peak_n"] != r.truth[0]["peak_n"]


def test_noise_is_deterministic_chunk_independent_and_has_the_asked_sd():
    p = GripParticipant(noise_n=0.5, seed=3)
    t = np.arange(0, 200, 0.0125)
    whole = p.force(t)
    parts = np.concatenate([p.force(t[i : i + 37]) for i in range(0, t.size, 37)])
    np.testing.assert_array_equal(whole, parts)
    assert np.std(whole) == pytest.approx(0.5, rel=0.03)
    assert abs(np.mean(whole)) < 0.02
    z = hashed_normal(np.arange(0, 50, 0.001), seed=1, stream=2)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.02  # white
    assert not np.array_equal(GripParticipant(seed=1).force(t[:50]), GripParticipant(seed=2).force(t[:50]))


def test_static_load_adds_a_known_force():
    p = GripParticipant(noise_n=0.0)
    p.set_static_load(98.0665)
    np.testing.assert_allclose(p.force(np.linspace(0, 1, 11)), 98.0665)
    p.set_static_load(None)
    np.testing.assert_allclose(p.force(np.linspace(0, 1, 11)), 0.0)


def test_minimum_jerk_endpoints():
    np.testing.assert_allclose(minimum_jerk(np.array([-1, 0, 0.5, 1, 2])), [0, 0, 0.5, 1, 1])


# ------------------------------------------------------------------ end to end
async def collect(driver, until_device_s: float, timeout_s: float = 20.0) -> list[SampleBlock]:
    """Blocks until one has a device time >= ``until_device_s``."""
    blocks: list[SampleBlock] = []

    async def run():
        async for blk in driver.blocks():
            blocks.append(blk)
            if blk.device_time[-1] >= until_device_s:
                return

    await asyncio.wait_for(run(), timeout_s)
    return blocks


def stack(blocks):
    return np.concatenate([b.device_time for b in blocks]), np.concatenate([b.values for b in blocks])


async def test_handshake_reports_the_contract_channels():
    dev = await open_device("sim://grip?seed=1")
    drv = dev.driver
    try:
        info = await drv.info()
        assert info.protocol == "motorlab" and info.model == "motorlab-grip-hx711"
        (ch,) = info.channels
        assert (ch.name, ch.type, ch.units, ch.tracked_point) == ("force", "MISC", "N", "handle")
        assert info.nominal_rate_hz == 80.0 and info.scales[0] == pytest.approx(FORCE_SCALE_N, rel=1e-7)
        assert await drv.battery() == pytest.approx(90.0, abs=0.5)
        assert drv.status.battery_percent == pytest.approx(90.0, abs=0.5)
    finally:
        await dev.close()
    assert not drv.status.connected


async def test_samples_at_set_rate_with_device_timestamps_matching_the_signal():
    dev = await open_device("sim://grip?seed=2&noise_n=0.2&gain_error=0.01&offset_n=0.7")
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.set_rate(250.0)
        await drv.start()
        t_cue = emu.cue("squeeze")
        blocks = await collect(drv, t_cue + 1.0)
        await drv.stop()
    finally:
        await dev.close()
    t, v = stack(blocks)
    assert np.allclose(np.diff(t), 1 / 250.0, atol=1.5e-6)  # µs rounding of a 4000 µs period
    assert [b.seq for b in blocks] == [sum(b.n for b in blocks[:i]) for i in range(len(blocks))]
    # each value is the sensor's reading at exactly that device time (quantised to 1 count)
    want = emu.participant.force(t) * 1.01 + 0.7
    np.testing.assert_allclose(v[:, 0], np.round(want / FORCE_SCALE_N) * SCALE_F32, atol=1e-6)
    assert emu.commands == ["getinfo", "setrate", "start", "stop"]


async def test_tare_then_squeeze_peak_within_one_percent_of_truth():
    dev = await open_device("sim://grip?seed=5&peak_n=320&offset_n=4.0&noise_n=0.3&rate=100")
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.start()
        before = await collect(drv, emu.device_time_s() + 0.5)
        await drv.tare()
        t_tared = emu.device_time_s()  # samples taken after this are tared
        after = await collect(drv, t_tared + 0.5)
        t_cue = emu.cue("squeeze")
        effort = await collect(drv, t_cue + 1.5)
    finally:
        await dev.close()
    _, v_before = stack(before)
    t_after, v_after = stack(after)
    v_after = v_after[t_after > t_tared]  # blocks still queued from before the tare are excluded
    assert v_after.size >= 40
    # 4 SD bounds: noise 0.3 N over the samples, plus the error of the 8-reading tare average
    sd_before = 0.3 / math.sqrt(v_before.size)
    sd_after = math.hypot(0.3 / math.sqrt(emu.tare_samples), 0.3 / math.sqrt(v_after.size))
    assert np.mean(v_before) == pytest.approx(4.0, abs=4 * sd_before)
    assert abs(np.mean(v_after)) < 4 * sd_after
    t, v = stack(effort)
    (truth,) = emu.truth
    assert truth["cue_s"] == pytest.approx(t_cue)
    assert np.max(v) == pytest.approx(truth["peak_n"], rel=0.01)
    assert t[np.argmax(v)] == pytest.approx(truth["peak_s"], abs=0.1)


async def test_gain_error_shows_against_a_known_static_load():
    dev = await open_device("sim://grip?seed=6&gain_error=0.03&noise_n=0.1")
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.tare()
        emu.participant.set_static_load(196.133)  # 20 kg hung by the technician
        await drv.start()
        blocks = await collect(drv, emu.device_time_s() + 0.6)
    finally:
        await dev.close()
    _, v = stack(blocks)
    assert np.mean(v) / 196.133 == pytest.approx(1.03, abs=0.002)


async def test_simulated_drops_are_reported_exactly():
    dev = await open_device("sim://grip?seed=9&rate=400&drop_prob=0.25")
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.start()
        blocks = await collect(drv, emu.device_time_s() + 1.5)
    finally:
        await dev.close()
    received = sum(b.n for b in blocks)
    reported = sum(b.dropped_before for b in blocks)
    last = blocks[-1].seq + blocks[-1].n
    assert received + reported == last  # every sample is either received or counted as lost
    truly_dropped = sum(n for seq, n in emu.dropped_blocks if seq < blocks[-1].seq)
    assert reported == truly_dropped > 0
    assert drv.status.dropped_samples == reported == drv.codec.stats.dropped_samples


async def test_unplug_replug_reconnects_and_counts_the_gap():
    dev = await open_device("sim://grip?seed=11&rate=200")
    drv = dev.driver
    drv.reconnect_backoff_s = 0.05
    emu = dev.emulator
    gaps = []
    drv.on_gap.append(lambda lost, back: gaps.append((lost, back)))
    try:
        await drv.start()
        first = await collect(drv, emu.device_time_s() + 0.3)
        emu.link.vanish()
        await asyncio.sleep(0.4)
        emu.link.restore()
        t_back = emu.device_time_s()
        second = await collect(drv, t_back + 0.5, timeout_s=30)
        assert drv.status.reconnects == 1 and drv.status.connected and len(gaps) == 1
    finally:
        await dev.close()
    blocks = first + second
    t, _ = stack(blocks)
    assert np.all(np.diff(t) > 0)  # device time continues across the gap
    lost = sum(b.dropped_before for b in blocks)
    assert lost >= 0.3 * 200  # at least the 0.4 s unplugged, minus slack for buffering
    assert sum(b.n for b in blocks) + lost == blocks[-1].seq + blocks[-1].n
    assert emu.streaming is False  # close() sent STOP
    assert emu.commands.count("start") == 2  # the driver re-sent START after the reconnect


async def test_serial_url_opens_the_emulated_device():
    emu = GripHX711Emulator(GripParticipant(seed=1))
    try:
        dev = await open_device(f"serial://{emu.link.link_path}?protocol=motorlab")
        drv = dev.driver
        try:
            assert (await drv.info()).serial == "G0001"
        finally:
            await dev.close()
    finally:
        emu.close()


async def test_clock_wrap_on_the_wire_is_invisible():
    dev = await open_device(f"sim://grip?seed=1&rate=500&t0_us={2**32 - 300_000}")
    drv = dev.driver
    try:
        await drv.start()
        blocks = await collect(drv, 2**32 / 1e6 + 0.3)
    finally:
        await dev.close()
    t, _ = stack(blocks)
    assert t[0] < 2**32 / 1e6 < t[-1]
    assert np.allclose(np.diff(t), 0.002, atol=1.5e-6)


async def test_rate_out_of_range_is_refused_with_the_error_code():
    dev = await open_device("sim://grip")
    drv = dev.driver
    try:
        with pytest.raises(DeviceError, match="refused 'setrate': BAD_VALUE"):
            await drv.set_rate(5000.0)
    finally:
        await dev.close()


def test_unknown_sim_parameter_is_a_one_line_error():
    with pytest.raises(DeviceError, match=r"sim://grip: unknown parameter 'peak'") as exc:
        make_emulator({"peak": "3"})
    assert "\n" not in str(exc.value)
    with pytest.raises(DeviceError, match="rate=.*not a valid float"):
        make_emulator({"rate": "fast"})


class _AsciiDevice:
    """Another device on a pty: prints force readings as text lines (like a Mark-10)."""

    def __init__(self):
        self.link = PtyLink(lambda data: None, name="ttyTEXT").start()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.02):
            self.link.write(b"12.34 N\r\n")

    def close(self):
        self._stop.set()
        self._thread.join(1)
        self.link.close()


async def test_a_device_speaking_another_protocol_fails_with_one_line():
    dev = _AsciiDevice()
    try:
        with pytest.raises(ProtocolMismatch) as exc:
            await open_device(f"serial://{dev.link.link_path}?protocol=motorlab")
    finally:
        dev.close()
    msg = str(exc.value)
    assert "\n" not in msg and dev.link.link_path in msg and "not a motorlab device" in msg
    assert "looks like text" in msg
