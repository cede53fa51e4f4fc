"""Kinvent K-Grip over USB serial: emulator on a real pty -> pyserial -> driver -> Recording.

The K-Grip sends raw counts only; the driver tares on the host and scales with
the device's coefficient, and a stored force calibration corrects that
coefficient (the emulated unit's coefficient is off by ``gain_error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json

import numpy as np
import pytest

from motorlab.cli.main import main
from motorlab.devices.calibration import CalibrationStore
from motorlab.devices.registry import open_device
from motorlab.session import RecordingTarget, grip_protocol, record_task
from motorlab.sim.emulators.kinvent_kgrip import KGripEmulator
from motorlab.storage.bids import read_recording
from motorlab.units import STANDARD_GRAVITY

from .ble_helpers import record, wait_until
from .driver_helpers import protocol_mismatch_message


async def test_kgrip_counts_become_newtons_with_the_device_coefficient(tmp_path):
    device = await open_device("sim://kgrip?seed=3&peak_n=280&hold_s=0.5&noise_n=0")
    emu, driver = device.emulator, device.driver
    try:
        info = await driver.info()
        assert info.protocol == "kinvent-kgrip" and info.serial == "KG-EMU-0001"
        assert info.scales == (pytest.approx(0.004882 * STANDARD_GRAVITY),)
        await driver.tare()
        assert driver.baseline == 3500.0

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(1.8)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    raw = np.array([r for _, r in emu.sent], dtype=np.float64)
    expected = np.abs(raw - 3500.0) * 0.004882 * STANDARD_GRAVITY
    force = rec.channel("force")
    n = len(force)
    assert n > 150
    matches = [i for i in range(len(expected) - n + 1) if np.array_equal(expected[i : i + n], force)]
    assert matches, "recorded force is not the emulator's counts scaled"
    assert rate == pytest.approx(100.0, rel=0.1)
    [effort] = emu.truth["efforts"]
    # counts are quantised to 0.004882 kg = 0.048 N
    assert force.max() == pytest.approx(effort["peak_n"], abs=0.05)


async def test_kgrip_host_tare_takes_the_unloaded_median(tmp_path):
    device = await open_device("sim://kgrip?noise_n=0&baseline=4100")
    emu, driver = device.emulator, device.driver
    try:
        emu.participant.set_static_load(30.0)  # the hand rests on the handle while taring
        await driver.tare()
        assert driver.baseline == pytest.approx(4100 + round(30.0 / STANDARD_GRAVITY / 0.004882), abs=1)
        emu.participant.set_static_load(130.0)
        await asyncio.sleep(0.3)  # frames of the old load still in the pipe are not data
        driver.pending_blocks()
        rec = await record(driver, tmp_path, "grip", lambda acq: asyncio.sleep(0.5))
    finally:
        await device.close()
    np.testing.assert_allclose(rec.channel("force"), 100.0, atol=0.05)  # one count


def test_kgrip_force_calibration_corrects_the_device_coefficient(tmp_path, capsys):
    url = "sim://kgrip?seed=41&gain_error=0.05&noise_n=0&peak_n=300"  # coefficient 5 % high
    argv = ["calibrate", "force", "--device", url, "--masses-kg", "0,5,10,20", "--yes", "--average-s", "0.5"]
    assert main(argv) == 0, capsys.readouterr().err
    (cal,) = CalibrationStore().all()
    assert cal.device_serial == "KG-EMU-0001"
    assert cal.gain["force"] == pytest.approx(1 / 1.05, rel=0.003)

    protocol = grip_protocol(trials=1, countdown_s=0.2, squeeze_s=1.5)
    result = asyncio.run(record_task(url, protocol, RecordingTarget(tmp_path, "P041")))
    assert result.calibration_id == cal.id
    rec = read_recording(result.path)
    [effort] = result.truth["efforts"]
    assert rec.channel("force").max() == pytest.approx(effort["peak_n"], rel=0.003)
    assert result.dropped_samples == 0


async def test_kgrip_unplug_reconnects_and_unknown_frames_are_counted(tmp_path):
    device = await open_device("sim://kgrip?seed=2&inject_every=25")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.6)
        emu.unplug()
        await asyncio.sleep(0.3)
        emu.plug_in()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await wait_until(lambda: emu.sampling, 5, "sampling again")
        await asyncio.sleep(0.5)

    try:
        await driver.tare()
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    [gap] = rec.events_of("gap")
    assert gap.duration >= 0.25
    # never backwards across the reconnect (the first read of a stream may hold two frames,
    # which the host clock cannot spread before it has a rate estimate: equal times there)
    assert np.all(np.diff(rec.timestamps) >= 0)
    assert np.all(np.diff(rec.timestamps[10:]) > 0)
    counts = driver.integrity()
    assert counts["link_gaps"] == 1 and counts["unknown_frames"] >= emu.injected - 1 >= 3
    assert rec.n_samples > 80


def test_devices_probe_cli_recognises_a_kgrip_port():
    emu = KGripEmulator()
    buf = io.StringIO()
    try:
        argv = ["devices", "--no-ble", "--port", emu.link.link_path, "--protocol", "kinvent-kgrip"]
        with contextlib.redirect_stdout(buf):
            code = main([*argv, "--probe", "--json", "--timeout", "3"])
    finally:
        emu.close()
    assert code == 0
    (row,) = [r for r in json.loads(buf.getvalue())["devices"] if r["address"] == emu.link.link_path]
    assert row["probe"]["ok"], row["probe"]["error"]
    assert row["probe"]["model"] == "Kinvent K-Grip"
    assert row["probe"]["url"] == f"serial://{emu.link.link_path}?protocol=kinvent-kgrip"


async def test_a_port_that_does_not_answer_the_coefficient_query_is_a_one_line_protocol_mismatch():
    """A silent port (or another device) never answers ``0x21``: the handshake ends in one line
    naming the port and the K-Grip, not in a hang or a traceback."""
    from motorlab.devices.drivers.kinvent_kgrip import KGripDriver
    from motorlab.devices.transports.serial_port import SerialTransport
    from motorlab.sim.pty_link import PtyLink

    written: list[bytes] = []
    link = PtyLink(written.append, name="ttyNOTKGRIP").start()
    url = f"serial://{link.link_path}?protocol=kinvent-kgrip"
    drv = KGripDriver(SerialTransport(link.link_path, 115200), url=url)
    try:
        message = await protocol_mismatch_message(drv, reply_timeout_s=0.3)
    finally:
        link.close()
    assert link.link_path in message and "no K-Grip coefficient reply" in message
    assert b"\x21" in b"".join(written)  # the query was sent
