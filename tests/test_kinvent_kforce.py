"""Kinvent K-Force over BLE: init writes, keep-alive, host tare and scaling, counter gaps and duplicates."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.devices.codecs import kinvent as kv
from motorlab.devices.registry import open_device
from motorlab.sim.emulators.kinvent_kforce import ZERO_COUNTS
from motorlab.units import STANDARD_GRAVITY

from .ble_helpers import record, wait_until


async def test_kforce_init_keepalive_tare_and_newtons(ble_sandbox, tmp_path):
    device = await open_device("sim://kforce?seed=2&peak_n=250&hold_s=0.5&noise_n=0&keepalive_timeout_s=0.8")
    emu, driver = device.emulator, device.driver
    driver.set_keepalive_period(0.25)
    try:
        assert emu.commands[: len(kv.KFORCE_INIT_WRITES)] == list(kv.KFORCE_INIT_WRITES)
        coefficient = round(1e6 / kv.KPULL_COUNTS_PER_KG) / 1e6
        assert driver.codec.kg_per_count == coefficient
        await driver.tare()
        np.testing.assert_array_equal(driver.tare_counts, ZERO_COUNTS)

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(2.0)  # longer than the sensor's (shortened) keep-alive timeout

        rec = await record(driver, tmp_path, "grip", squeeze)
    finally:
        await device.close()
    assert emu.link_drops == 0 and emu.keepalives >= 4 and driver.status.reconnects == 0
    force = rec.channel("force")
    expected = (emu.sent[:, 2] - sum(ZERO_COUNTS)) * coefficient * STANDARD_GRAVITY
    n = len(force)
    assert any(
        np.allclose(expected[i : i + n], force, rtol=1e-12, atol=1e-9) for i in range(len(expected) - n + 1)
    )
    [effort] = emu.truth
    assert force.max() == pytest.approx(effort["peak_n"], abs=0.1)  # 75 Hz sampling of the peak
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(1 / 75, abs=1e-3)


async def test_kforce_counter_gaps_and_duplicates_are_counted(ble_sandbox, tmp_path):
    device = await open_device("sim://kforce?seed=3&skip_every=20&repeat_every=15&inject_every=30")
    emu, driver = device.emulator, device.driver
    try:
        await driver.tare()
        before = driver.integrity()
        rec = await record(driver, tmp_path, "grip", lambda acq: asyncio.sleep(2.0))
        after = driver.integrity()
    finally:
        await device.close()
    assert emu.skipped >= 5 and emu.repeated >= 5 and emu.injected >= 2
    # every lost and repeated frame is found by the counter (a frame lost just before a
    # stream stops cannot be told from the end of the stream: two streams here, tare and record)
    assert emu.skipped - 2 <= after["dropped_samples"] <= emu.skipped
    assert after["duplicates"] == emu.repeated
    assert after["unknown_frames"] == emu.injected
    assert after["dropped_samples"] > before["dropped_samples"]
    assert np.all(np.diff(rec.timestamps) > 0)


async def test_kforce_without_keepalive_the_sensor_drops_the_link_and_the_driver_reconnects(
    ble_sandbox, tmp_path
):
    device = await open_device("sim://kforce?seed=4&keepalive_timeout_s=0.6")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05
    driver.set_keepalive_period(5.0)  # too slow for this sensor

    async def script(acq):
        await wait_until(lambda: emu.link_drops == 1, 10, "the sensor to drop the silent host")
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        driver.set_keepalive_period(0.2)
        await asyncio.sleep(1.0)

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    assert emu.link_drops == 1
    assert len(rec.events_of("gap")) == 1
    assert emu.commands.count(kv.KFORCE_INIT_WRITES[-2]) == 2  # init sent again on the new link


def test_kforce_force_calibration_corrects_the_device_coefficient(tmp_path, capsys, require_dbus):
    from motorlab.cli.main import main
    from motorlab.devices.calibration import CalibrationStore
    from motorlab.session import RecordingTarget, grip_protocol, record_task

    url = "sim://kforce?seed=7&gain_error=-0.04&noise_n=0&peak_n=260"  # coefficient 4 % low
    argv = ["calibrate", "force", "--device", url, "--masses-kg", "0,5,10,20", "--yes", "--average-s", "0.5"]
    assert main(argv) == 0, capsys.readouterr().err
    (cal,) = CalibrationStore().all()
    assert cal.device_serial == "00:1E:C0:00:4B:01"
    assert cal.gain["force"] == pytest.approx(1 / 0.96, rel=0.003)
    protocol = grip_protocol(trials=1, countdown_s=0.2, squeeze_s=1.5)
    result = asyncio.run(record_task(url, protocol, RecordingTarget(tmp_path, "P042")))
    assert result.calibration_id == cal.id
    from motorlab.storage.bids import read_recording

    [effort] = result.truth
    assert read_recording(result.path).channel("force").max() == pytest.approx(effort["peak_n"], rel=0.003)
