"""WriterParticipant / TremorParticipant, and the DIY IMU pen emulator end to end."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from motorlab.devices.registry import open_device
from motorlab.sim.emulators.imu_pen import ACC_SCALE, make_emulator
from motorlab.sim.participants import TremorParticipant, WriterParticipant, pose_gravity
from motorlab.units import STANDARD_GRAVITY as G_MS2


# ------------------------------------------------------------------ writer
def test_writing_strokes_follow_minimum_jerk_and_truth():
    w = WriterParticipant(seed=1, stroke_s=0.25, strokes_per_word=3, n_words=2, lift_s=0.4)
    w.on_cue("write", 2.0)
    (act,) = w.truth
    assert act["onset_s"] == pytest.approx(2.2) and len(act["strokes"]) == 6
    np.testing.assert_allclose(act["pen_down"], [(2.2, 2.95), (3.35, 4.1)])
    for s in act["strokes"]:
        t = np.linspace(s["onset_s"], s["onset_s"] + s["duration_s"], 2001)
        p = w.position(t)
        np.testing.assert_allclose(p[0], s["start_cm"], atol=1e-9)
        np.testing.assert_allclose(p[-1], s["end_cm"], atol=1e-9)
        speed = np.hypot(*np.gradient(p, t, axis=0).T)
        assert speed.max() == pytest.approx(s["peak_speed_cm_s"], rel=1e-4)
        path = np.sum(np.hypot(*np.diff(p, axis=0).T))
        assert path == pytest.approx(s["length_cm"], rel=1e-6)
    t = np.arange(0, 5, 0.001)
    down = w.pen_down(t)
    want = np.zeros_like(down)
    for a, b in act["pen_down"]:
        want |= (t >= a) & (t < b)
    np.testing.assert_array_equal(down, want)


def test_spiral_is_archimedean_with_the_stated_pitch():
    w = WriterParticipant(spiral_turns=3, spiral_pitch_cm=0.8, spiral_s=5.0, reaction_s=0.0)
    w.on_cue("draw", 1.0)
    (act,) = w.truth
    t = np.linspace(act["onset_s"] + 0.05, act["end_s"] - 1e-6, 5000)
    p = w.position(t) - np.asarray(act["centre_cm"])
    r = np.hypot(p[:, 0], p[:, 1])
    theta = np.unwrap(np.arctan2(p[:, 1], p[:, 0]))
    np.testing.assert_allclose(r, act["b_cm_per_rad"] * theta, atol=1e-9)
    assert act["b_cm_per_rad"] * 2 * math.pi == pytest.approx(0.8)
    assert theta[-1] == pytest.approx(act["theta_max_rad"], rel=1e-4)


def test_pen_acceleration_is_the_second_derivative_of_position_plus_gravity():
    w = WriterParticipant(
        acc_noise_ms2=0.0, gyro_noise_dps=0.0, force_noise_n=0.0, tremor_hz=5.0, tremor_amp_cm=0.1
    )
    w.on_cue("write", 0.0)
    t = np.arange(0, 3, 1e-4)
    sig = w.pen(t)
    pos_m = sig["pos_cm"] / 100.0
    acc_num = np.gradient(np.gradient(pos_m, t, axis=0), t, axis=0)
    inner = slice(10, -10)
    np.testing.assert_allclose(sig["acc_ms2"][inner, :2], acc_num[inner], atol=0.02)
    np.testing.assert_allclose(sig["acc_ms2"][:, 2], G_MS2)
    # gyro: tip tremor d(t) seen from the grip lever_cm above: tilt rate = d'(t) / lever
    assert np.max(sig["gyro_dps"][:, 1]) == pytest.approx(
        math.degrees(0.1 * 2 * math.pi * 5.0 / 10.0), rel=1e-3
    )


def test_interrupting_cue_cuts_the_activity():
    w = WriterParticipant(reaction_s=0.0)
    w.on_cue("write", 0.0)
    w.on_cue("stop", 0.5)
    (act,) = w.truth
    assert act["end_s"] == 0.5 and act["interrupted"] and act["pen_down"] == [(0.0, 0.5)]
    assert all(s["onset_s"] + s["duration_s"] <= 0.5 for s in act["strokes"])
    p = w.position(np.array([0.5, 1.0, 9.0]))
    np.testing.assert_allclose(p[1], p[2])  # the pen stays where it stopped
    assert not w.pen_down(np.array([0.6]))[0]


# ------------------------------------------------------------------ tremor participant
def test_tremor_participant_pose_gravity_and_tremor_amplitude():
    p = TremorParticipant(freq_hz=5.0, amp_ms2=0.8, noise_ms2=0.0, gyro_noise_dps=0.0, gyro_amp_dps=12.0)
    for up in ("+x", "-x", "+y", "-y", "+z", "-z"):
        p.set_pose(up)
        p.still(True)
        acc, gyro, _ = p.motion(np.linspace(0, 1, 50))
        np.testing.assert_allclose(acc, np.tile(pose_gravity(up), (50, 1)))
        assert np.linalg.norm(acc[0]) == pytest.approx(G_MS2)
        np.testing.assert_allclose(gyro, 0.0)
    p.set_pose("+z")
    p.still(False)
    t = np.arange(0, 10, 0.002)
    acc, gyro, _euler = p.motion(t)
    spec = np.abs(np.fft.rfft(acc[:, 0])) * 2 / t.size
    f = np.fft.rfftfreq(t.size, 0.002)
    assert f[np.argmax(spec)] == pytest.approx(5.0) and spec.max() == pytest.approx(0.8, rel=1e-3)
    assert np.max(gyro[:, 1]) == pytest.approx(12.0, rel=1e-3)
    assert p.truth["rms_ms2"] == pytest.approx(np.std(acc[:, 0]), rel=1e-3)
    with pytest.raises(ValueError, match="pose"):
        p.set_pose("up")


# ------------------------------------------------------------------ end to end
async def collect(driver, until_device_s: float, timeout_s: float = 30.0):
    blocks = []

    async def run():
        async for blk in driver.blocks():
            blocks.append(blk)
            if blk.device_time[-1] >= until_device_s:
                return

    await asyncio.wait_for(run(), timeout_s)
    t = np.concatenate([b.device_time for b in blocks])
    v = np.concatenate([b.values for b in blocks])
    return blocks, t, v


def _intervals(t: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
    starts = [t[i + 1] for i in edges if not mask[i]]
    ends = [t[i + 1] for i in edges if mask[i]]
    return list(zip(starts, ends))


async def test_pen_handshake_and_pen_down_periods_match_truth():
    dev = await open_device("sim://pen?seed=3&stroke_s=0.15&n_words=3&strokes_per_word=3&lift_s=0.25")
    drv = dev.driver
    emu = dev.emulator
    try:
        info = await drv.info()
        names = [c.name for c in info.channels]
        assert names == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z", "tip_force"]
        assert [c.type for c in info.channels] == ["ACCEL"] * 3 + ["GYRO"] * 3 + ["MISC"]
        assert (
            info.channels[0].units == "m/s^2"
            and info.channels[3].units == "deg/s"
            and info.channels[6].units == "N"
        )
        assert info.nominal_rate_hz == 200.0
        await drv.start()
        emu.cue("write")
        (act,) = emu.truth
        _blocks, t, v = await collect(drv, act["end_s"] + 0.3)
    finally:
        await dev.close()
    assert np.allclose(np.diff(t), 0.005, atol=1.5e-6)
    tip = v[:, 6]
    found = _intervals(t, tip > 0.5 * emu.participant.tip_force_n)
    assert len(found) == len(act["pen_down"]) == 3
    ramp = emu.participant.force_ramp_s
    for (a, b), (ta, tb) in zip(found, act["pen_down"]):
        # half force is reached half a ramp after touch-down / before lift-off; one sample of slack
        assert a == pytest.approx(ta + ramp / 2, abs=0.005 + 1e-6)
        assert b == pytest.approx(tb - ramp / 2, abs=0.005 + 1e-6)
    # at rest before the cue the pen reads gravity on z
    rest = t < act["onset_s"]
    assert np.mean(v[rest, 2]) == pytest.approx(G_MS2, abs=2 * ACC_SCALE + 0.01)


async def test_pen_tremor_and_sensor_errors_show_in_the_stream():
    url = "sim://pen?seed=4&rate=500&tremor_hz=6&tremor_amp_cm=0.05&acc_bias=0.2,-0.1,0.3&acc_scale=1,1,1.02&gyro_bias=1.5"
    dev = await open_device(url)
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.start()
        t0 = emu.device_time_s()
        _, t, v = await collect(drv, t0 + 2.0)
    finally:
        await dev.close()
    assert np.allclose(np.diff(t), 0.002, atol=1.5e-6)
    n = (t.size // 500) * 500  # whole seconds -> 6 Hz falls on a bin
    x = v[:n, 0] - v[:n, 0].mean()
    spec = np.abs(np.fft.rfft(x)) * 2 / n
    freqs = np.fft.rfftfreq(n, 0.002)
    want_amp = 0.05 / 100 * (2 * math.pi * 6) ** 2  # A * w^2, cm -> m
    assert freqs[np.argmax(spec)] == pytest.approx(6.0)
    assert spec.max() == pytest.approx(want_amp, rel=0.03)
    assert np.mean(v[:, 0]) == pytest.approx(0.2, abs=0.01)
    assert np.mean(v[:, 1]) == pytest.approx(-0.1, abs=0.01)
    assert np.mean(v[:, 2]) == pytest.approx(G_MS2 * 1.02 + 0.3, abs=0.01)
    assert np.mean(v[:, 3]) == pytest.approx(1.5, abs=0.05)


async def test_pen_at_1khz_and_tare_zeroes_only_the_tip_force():
    dev = await open_device("sim://pen?seed=5&force_noise_n=0")
    drv = dev.driver
    emu = dev.emulator
    try:
        await drv.set_rate(1000.0)
        emu.cue("draw")  # pen pressed down during the tare: that pressure becomes zero
        await asyncio.sleep(0.35)
        await drv.tare()
        t_tared = emu.device_time_s()
        await drv.start()
        blocks, t, v = await collect(drv, t_tared + 0.5)
    finally:
        await dev.close()
    assert np.allclose(np.diff(t), 0.001, atol=1.5e-6)
    assert max(b.n for b in blocks) <= 255
    assert np.mean(v[:, 6]) == pytest.approx(0.0, abs=0.01)  # tared while pressing
    assert np.mean(v[:, 2]) == pytest.approx(G_MS2, abs=0.05)  # acc is not tared


def test_pen_parameters_are_validated():
    from motorlab.devices.base import DeviceError

    with pytest.raises(DeviceError, match="acc_bias"):
        make_emulator({"acc_bias": "1,2"})
