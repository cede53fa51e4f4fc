"""WH-C06 scales that only advertise: weight from manufacturer data in scans, silence = link loss."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.devices.discovery import discover_ble, probe
from motorlab.devices.registry import open_device
from motorlab.errors import DeviceError
from motorlab.sim.emulators.whc06 import WhC06Emulator
from motorlab.units import KGF_N

from .ble_helpers import record, wait_until


async def test_weight_comes_from_advertisements_and_is_tared_on_the_host(ble_sandbox, tmp_path):
    device = await open_device("sim://whc06?seed=3&peak_n=220&hold_s=1.0&noise_n=0&offset_n=15")
    emu, driver = device.emulator, device.driver
    try:
        await driver.tare()
        assert driver.zero_n == pytest.approx(round(15 / KGF_N, 2) * KGF_N, rel=1e-12)

        async def squeeze(acq):
            emu.cue("squeeze")
            await asyncio.sleep(3.0)

        rec = await record(driver, tmp_path, "grip", squeeze)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    force = rec.channel("force")
    sent = np.array([kg for _, kg in emu.sent]) * KGF_N - driver.zero_n
    n = len(force)
    assert n >= 18
    assert any(np.array_equal(sent[i : i + n], force) for i in range(len(sent) - n + 1))
    assert rate == pytest.approx(8.0, rel=0.1)
    [effort] = emu.truth
    assert force.max() + driver.zero_n == pytest.approx(effort["peak_n"] + 15, rel=0.01)


async def test_silence_is_a_link_loss_and_scanning_resumes(ble_sandbox, tmp_path):
    device = await open_device("sim://whc06?seed=4&silence_s=0.8")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        await asyncio.sleep(0.8)
        emu.go_silent()
        await wait_until(lambda: not driver.status.connected, 5, "the silence to count as a loss")
        await asyncio.sleep(0.3)
        emu.come_back()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "scanning to find it again")
        await asyncio.sleep(0.8)

    try:
        rec = await record(driver, tmp_path, "grip", script)
    finally:
        await device.close()
    [gap] = rec.events_of("gap")
    assert gap.duration >= 0.25  # from the silence timeout to the first advertisement again
    assert driver.integrity()["link_gaps"] == 1
    assert np.all(np.diff(rec.timestamps) > 0) and rec.n_samples > 8


async def test_scan_recognises_the_scale_by_its_manufacturer_data_and_probe_confirms(fake_bluez):
    emu = WhC06Emulator(address="C4:A5:DF:00:00:C7")
    emu.attach(fake_bluez)
    try:
        found = await discover_ble(timeout=1.0, only_known=True)
        (cand,) = [c for c in found if c.address == "C4:A5:DF:00:00:C7"]
        assert cand.protocol == "wh-c06" and cand.reason == "advertises manufacturer data 0x0100"
        result = await probe(cand, timeout=5.0)
    finally:
        emu.close()
    assert result.ok, result.error
    assert result.model == "WH-C06 BLE scale (advertising only)" and result.serial == "C4:A5:DF:00:00:C7"


async def test_a_scale_that_does_not_advertise_is_a_one_line_error(ble_sandbox):
    from motorlab.devices.registry import make_driver

    driver = make_driver("ble://C4:A5:DF:00:00:99?protocol=wh-c06")
    driver.transport.scan_timeout_s = 0.5
    with pytest.raises(
        DeviceError, match=r"^C4:A5:DF:00:00:99: no advertisement with manufacturer data 0x0100"
    ):
        await driver.open()
