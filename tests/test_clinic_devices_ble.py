"""Jamar Smart, Activ5 and CTS500: emulator -> emulated BlueZ -> bleak -> real driver -> Recording.

Each device is driven through the real BLE transport (bleak's BlueZ backend on a
private dbus-daemon); values are checked against what the emulator sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import numpy as np
import pytest

from motorlab.devices.codecs import cts500 as cts
from motorlab.devices.registry import open_device
from motorlab.errors import DeviceError
from motorlab.session.prepare import tare
from motorlab.sim.emulators.activ5 import Activ5Emulator
from motorlab.sim.emulators.ble_weight_scale import WeightScaleEmulator
from motorlab.sim.emulators.cts500 import Cts500Emulator
from motorlab.sim.emulators.forceboard import ForceBoardEmulator
from motorlab.sim.emulators.jamar import JamarEmulator
from motorlab.sim.emulators.kinvent_kforce import KForceEmulator
from motorlab.units import KGF_N, LBF_N

from .ble_helpers import record, wait_until


def assert_slice_of(recorded: np.ndarray, sent: np.ndarray) -> None:
    """``recorded`` is a contiguous run of ``sent``, bit for bit (devices that stream
    before start / after stop: those samples are not data)."""
    n = len(recorded)
    assert 0 < n <= len(sent)
    starts = [i for i in range(len(sent) - n + 1) if np.array_equal(sent[i : i + n], recorded)]
    assert starts, "the recording is not a contiguous run of what the device sent"


# ------------------------------------------------------------------ Jamar Smart
async def test_jamar_streams_lb_as_newtons_and_measures_its_rate(ble_sandbox, tmp_path):
    device = await open_device("sim://jamar?seed=3&peak_n=250&hold_s=0.8&noise_n=0.5")
    emu, driver = device.emulator, device.driver
    try:

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(2.5)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    sent = emu.sent
    force = rec.channel("force")
    assert len(sent) - 3 <= rec.n_samples <= len(sent) and rec.n_samples > 20
    # lb with one decimal, exactly as sent, converted with the exact lbf
    assert_slice_of(force, sent[:, 2] * LBF_N)
    assert rate == pytest.approx(10.0, rel=0.1)
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], abs=2.0)  # 0.1 lb rounding + noise
    assert driver.integrity()["malformed_frames"] == 0


async def test_jamar_malformed_and_unknown_messages_are_counted_not_fatal(ble_sandbox, tmp_path):
    device = await open_device("sim://jamar?seed=1&inject_every=4")
    emu, driver = device.emulator, device.driver
    try:
        rec = await record(driver, tmp_path, "grip", lambda acq: asyncio.sleep(2.0))
    finally:
        await device.close()
    counts = driver.integrity()
    assert emu.injected >= 4
    # the injected messages alternate: a VAL without a number, a message of an unknown kind
    assert counts["malformed_frames"] + counts["unknown_frames"] == emu.injected
    assert counts["malformed_frames"] >= 2 and counts["unknown_frames"] >= 2
    assert_slice_of(rec.channel("force"), emu.sent[:, 2] * LBF_N)


async def test_jamar_has_no_tare_and_says_so(ble_sandbox):
    device = await open_device("sim://jamar")
    try:
        why = await tare(device.driver)
    finally:
        await device.close()
    assert why == "sim://jamar: the Jamar Smart zeroes itself (no tare command)"


async def test_jamar_link_loss_reconnects_and_records_the_gap(ble_sandbox, tmp_path):
    device = await open_device("sim://jamar?seed=2")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(1.0)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: (emu.sent[:, 0] == 2).sum() > 10, 10, "stream after reconnect")

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    sent = emu.sent
    assert set(sent[:, 0]) == {1.0, 2.0}
    before, after = sent[sent[:, 0] == 1, 2] * LBF_N, sent[sent[:, 0] == 2, 2] * LBF_N
    force = rec.channel("force")
    n_before = int(np.searchsorted(rec.timestamps, rec.events_of("gap")[0].onset))
    assert_slice_of(force[:n_before], before)
    assert_slice_of(force[n_before:], after)
    [gap] = rec.events_of("gap")
    assert gap.duration > 0 and driver.integrity()["link_gaps"] == 1
    assert np.all(np.diff(rec.timestamps) > 0)


# ------------------------------------------------------------------ Activ5
async def test_activ5_streams_newtons_and_drops_restart_copies(ble_sandbox, tmp_path):
    device = await open_device("sim://activ5?seed=5&peak_n=180&hold_s=0.5&noise_n=0")
    emu, driver = device.emulator, device.driver
    try:
        info = await driver.info()
        assert info.firmware == "TVG1.0.7" and info.nominal_rate_hz == 10.0
        for _ in range(2):  # two stop/restart cycles: each reading now comes three times
            await driver.start()
            await asyncio.sleep(0.3)
            await driver.stop()
            await asyncio.sleep(0.2)
        driver.pending_blocks()
        assert emu.restarts == 1  # the first start was not a restart

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(2.0)

        first_of_recording = len(emu.sent)
        rec = await record(driver, tmp_path, "grip", squeeze)
        restarts = emu.restarts
    finally:
        await device.close()
    assert restarts == 2 and emu.copies_sent > 30
    # (the last reading of the warm-up stream may still be in flight on the bus when the recording
    # starts, on a loaded machine: it then arrives as the recording's first sample)
    sent = emu.sent[max(first_of_recording - 1, 0) :]
    force = rec.channel("force")
    # every reading once, in order: the copies were dropped and counted
    assert_slice_of(force, sent[:, 2])
    assert rec.n_samples >= len(sent) - 3
    assert driver.integrity()["duplicates"] >= emu.copies_sent - 4  # copies of the warm-up too
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], abs=1.0)
    assert driver.measured_rate_hz == pytest.approx(10.0, rel=0.3)  # 2 s of bursty BLE delivery


async def test_activ5_copies_are_counted_per_trial_in_the_events(ble_sandbox, tmp_path):
    from motorlab.session import RecordingTarget, grip_protocol
    from motorlab.session.recorder import Recorder

    device = await open_device("sim://activ5?seed=6&hold_s=0.3")
    driver = device.driver
    try:
        await driver.start()  # a stop/restart cycle before the task: every reading now comes twice
        await asyncio.sleep(0.3)
        await driver.stop()
        await asyncio.sleep(0.2)
        driver.pending_blocks()
        warmup = driver.integrity()["duplicates"]
        protocol = grip_protocol(trials=2, countdown_s=0.2, squeeze_s=1.0, rest_s=0.3)
        result = await Recorder(device, protocol, RecordingTarget(tmp_path, "P090")).run()
        total = driver.integrity()["duplicates"] - warmup
    finally:
        await device.close()
    trials = [e for e in result.events if e.trial_type == "trial"]
    assert len(trials) == 2
    per_trial = [e.extra["duplicates"] for e in trials]
    assert all(k >= 8 for k in per_trial)  # ~10 copies per second of each trial
    assert sum(per_trial) <= total  # the rest fell in countdown and rest steps
    assert all(e.extra["dropped_samples"] == 0 for e in trials)
    sidecar = json.loads(result.path.with_suffix(".json").read_text())
    assert sidecar["MotorlabIntegrity"]["duplicates"] == total + warmup
    assert sidecar["MotorlabMeasuredRateHz"] == pytest.approx(10.0, rel=0.1)


async def test_activ5_device_tare_and_malformed_readings(ble_sandbox, tmp_path):
    device = await open_device("sim://activ5?noise_n=0&offset_n=12&inject_every=5&restart_fault=0")
    emu, driver = device.emulator, device.driver
    try:
        emu.participant.set_static_load(40.0)
        assert await tare(driver) == ""
        emu.participant.set_static_load(100.0)
        rec = await record(driver, tmp_path, "grip", lambda acq: asyncio.sleep(1.5))
    finally:
        await device.close()
    assert_slice_of(rec.channel("force"), emu.sent[:, 2])
    np.testing.assert_array_equal(rec.channel("force"), np.full(rec.n_samples, 60.0))
    assert rec.n_samples >= 10
    assert driver.integrity()["malformed_frames"] == emu.injected >= 2


async def test_activ5_link_loss_reconnects_and_resumes(ble_sandbox, tmp_path):
    device = await open_device("sim://activ5?seed=8")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.8)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: (emu.sent[:, 0] == 1).sum() > 5 and emu.streaming, 10, "resumed stream")
        await asyncio.sleep(0.5)

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    assert_slice_of(rec.channel("force")[:5], emu.sent[:, 2])
    assert len(rec.events_of("gap")) == 1
    assert emu.commands.count(b"\x41TVGTIME\x19") == 2  # the handshake again after the reconnect


# ------------------------------------------------------------------ CTS500
async def test_cts500_streams_kg_as_newtons_and_stops_before_disconnect(ble_sandbox, tmp_path):
    device = await open_device("sim://cts500?seed=6&peak_n=320&hold_s=0.5")
    emu, driver = device.emulator, device.driver
    try:
        info = await driver.info()
        assert info.firmware == "01 03 07" and info.nominal_rate_hz == 80.0

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(2.0)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    force = rec.channel("force")
    np.testing.assert_allclose(force, emu.sent[:, 2] * KGF_N, rtol=1e-12)
    assert rec.n_samples > 0.9 * 80 * 2.0
    assert rate == pytest.approx(80.0, rel=0.1)
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], rel=0.01)
    # stop was sent (and answered) before the link went down
    kinds = [k for k, _ in emu.log]
    assert kinds[-2:] == ["stop", "disconnect"] and not emu.streaming


async def test_cts500_left_uploading_frames_before_start_are_not_data(ble_sandbox, tmp_path):
    device = await open_device("sim://cts500?uploading_at_power_on=1&noise_n=0&inject_every=7")
    emu, driver = device.emulator, device.driver
    try:
        await asyncio.sleep(0.5)
        assert driver.pending_blocks() == [] and driver.unsolicited_samples > 10
        emu.participant.set_static_load(50.0)
        await driver.tare()
        emu.participant.set_static_load(150.0)
        await asyncio.sleep(0.3)  # frames of the old load still in flight are not data
        rec = await record(driver, tmp_path, "grip", lambda acq: asyncio.sleep(1.0))
    finally:
        await device.close()
    assert emu.tare_n == pytest.approx(50.0)
    np.testing.assert_allclose(rec.channel("force"), round(100.0 / KGF_N, 2) * KGF_N, rtol=1e-12)
    assert driver.integrity()["malformed_frames"] == emu.injected > 5  # bad checksums, skipped


async def test_cts500_link_loss_keeps_uploading_and_reconnects(ble_sandbox, tmp_path):
    device = await open_device("sim://cts500?seed=9")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.6)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await asyncio.sleep(0.6)

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    assert emu.streams == 2  # the driver started the stream again (the scale never stopped)
    assert len(rec.events_of("gap")) == 1
    assert rec.n_samples > 40
    assert set(np.round(rec.channel("force") / KGF_N, 2)) <= set(emu.sent[:, 2])


async def test_cts500_rate_is_set_from_its_table(ble_sandbox):
    device = await open_device("sim://cts500")
    try:
        await device.driver.set_rate(40)
        assert device.emulator.rate_hz == 40.0
        with pytest.raises(DeviceError, match=r"samples at \[10\.0, 20\.0, 40\.0"):
            await device.driver.set_rate(50)
    finally:
        await device.close()
    assert cts.command_frame(cts.OP_STOP) in device.emulator.commands


# ------------------------------------------------------------------ Force Board
async def test_forceboard_streams_pounds_tares_and_counts_bad_notifications(ble_sandbox, tmp_path):
    device = await open_device("sim://forceboard?seed=4&noise_n=0&offset_n=30&inject_every=6")
    emu, driver = device.emulator, device.driver
    try:
        await driver.tare()
        assert emu.tare_n == pytest.approx(30.0) and emu.commands[-1] == b"\x05"

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(2.0)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    force = rec.channel("force")
    assert_slice_of(force, emu.sent[:, 2] * LBF_N)  # whole pounds, exactly
    assert rec.n_samples > 0.9 * 80 * 2.0
    assert rate == pytest.approx(80.0, rel=0.1)
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], abs=LBF_N)
    assert driver.integrity()["malformed_frames"] == emu.injected >= 2


async def test_forceboard_link_loss_reconnects_and_restarts_the_stream(ble_sandbox, tmp_path):
    device = await open_device("sim://forceboard?seed=1")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.5)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: emu.streams == 2, 5, "stream restarted")
        await asyncio.sleep(0.5)

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    assert len(rec.events_of("gap")) == 1 and np.all(np.diff(rec.timestamps) > 0)
    assert rec.n_samples > 60


# ------------------------------------------------------------------ BLE Weight Scale profile
async def test_weight_scale_indications_with_host_tare(ble_sandbox, tmp_path):
    device = await open_device("sim://weightscale?seed=2&noise_n=0&offset_n=25&peak_n=200&inject_every=7")
    emu, driver = device.emulator, device.driver
    try:
        await driver.tare()  # nothing is written: the zero is taken on the host
        assert driver.zero_n == pytest.approx(round(25 / 9.80665 / 0.005) * 0.005 * KGF_N, rel=1e-12)
        assert emu.commands == []

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(3.0)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    force = rec.channel("force")
    sent_n = emu.sent[:, 2] * KGF_N - driver.zero_n
    assert_slice_of(force, sent_n)
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], rel=0.01)  # 10 Hz may miss the exact peak
    assert rate == pytest.approx(10.0, rel=0.1)
    assert driver.integrity()["malformed_frames"] == emu.injected >= 3


async def test_weight_scale_link_loss_reconnects(ble_sandbox, tmp_path):
    device = await open_device("sim://weightscale?seed=3")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.6)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: (emu.sent[:, 0] == 2).sum() >= 5, 10, "indications again")

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    assert len(rec.events_of("gap")) == 1 and rec.n_samples >= 8


# ------------------------------------------------------------------ discovery
@pytest.mark.parametrize(
    ("emulator", "protocol", "model"),
    [
        (lambda: JamarEmulator(address="C8:2E:47:00:00:B1"), "jamar", "Jamar Smart hand dynamometer"),
        (lambda: Activ5Emulator(address="D0:5F:B8:00:00:B2"), "activ5", "Activbody Activ5"),
        (lambda: Cts500Emulator(address="A4:C1:38:00:00:B3"), "cts500", "CTS500 climbing training scale"),
        (lambda: ForceBoardEmulator(address="E8:9F:6D:00:00:B4"), "forceboard", "PitchSix Force Board"),
        (
            lambda: KForceEmulator(address="00:1E:C0:00:00:B6"),
            "kinvent-kforce",
            "Kinvent K-Force (K-Pull, K-Push, plates)",
        ),
        (
            lambda: WeightScaleEmulator(address="24:6F:28:00:00:B5"),
            "ble-weight-scale",
            "BLE Weight Scale profile device (DIY grip)",
        ),
    ],
)
async def test_devices_probe_cli_recognises_the_emulated_device(fake_bluez, emulator, protocol, model):
    emu = emulator()
    emu.attach(fake_bluez)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "motorlab",
            "devices",
            "--no-serial",
            "--probe",
            "--json",
            "--timeout",
            "2",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        emu.close()
    assert proc.returncode == 0, err.decode()
    (row,) = [r for r in json.loads(out)["devices"] if r["address"] == emu.address]
    assert row["protocol"] == protocol
    assert row["probe"]["ok"], row["probe"]["error"]
    assert row["probe"]["model"] == model and row["probe"]["serial"] == emu.address
