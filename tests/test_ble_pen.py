"""DIY IMU pen (motorlab open protocol) over BLE: emulator -> bleak -> emulated BlueZ -> driver -> Recording."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.devices.registry import open_device
from motorlab.signal.spectrum import peak_frequency, signal_psd

from .ble_helpers import record, wait_until


async def test_pen_tremor_frequency_through_bleak(ble_sandbox, tmp_path):
    device = await open_device("sim://penble?seed=2&rate=200&tremor_hz=6.4&tremor_amp_cm=0.06")
    driver = device.driver
    try:
        info = await driver.info()
        assert info.model == "motorlab-imu-pen" and info.nominal_rate_hz == pytest.approx(200.0)
        assert [c.name for c in info.channels][-1] == "tip_force"
        await driver.set_rate(200.0)

        async def draw(acq):
            device.emulator.cue("draw")
            await asyncio.sleep(4.5)

        rec = await record(driver, tmp_path, "spiral", draw)
    finally:
        emu = device.emulator
        await device.close()
    assert rec.n_samples > 0.9 * 200 * 4.5
    assert driver.status.dropped_samples == 0
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(1 / 200, rel=1e-3)
    freqs, psd = signal_psd(rec.channel("gyr_y"), rec.sampling_rate)
    assert peak_frequency(freqs, psd, (3.0, 12.0)) == pytest.approx(6.4, abs=0.1)
    [spiral] = emu.truth
    assert spiral["kind"] == "draw"
    down = rec.channel("tip_force") > 0.5 * emu.participant.tip_force_n
    assert down.mean() > 0.5  # the pen was on the paper while drawing


async def test_pen_link_loss_keeps_everything_received_before(ble_sandbox, tmp_path):
    device = await open_device("sim://penble?seed=3&rate=100")
    driver = device.driver
    driver.reconnect_backoff_s = 0.05
    emu = device.emulator
    blocks = []  # (seq, n, dropped_before) in the order the recording got them

    async def script(acq):
        handle = acq.handle_block

        def tapped(blk):
            blocks.append((blk.seq, blk.n, blk.dropped_before))
            handle(blk)

        acq.handle_block = tapped
        await asyncio.sleep(0.7)
        emu.drop_link()
        await wait_until(lambda: driver.status.reconnects == 1, 15, "reconnect")
        await asyncio.sleep(0.6)

    try:
        rec = await record(driver, tmp_path, "handwriting", script)
    finally:
        await device.close()
    assert len(driver.status.gaps) == 1 and len(rec.events_of("gap")) == 1
    seq, n, dropped = np.array(blocks).T
    assert seq[0] == 0 and rec.n_samples == n.sum()
    # the sequence is contiguous except where the link was down: every sample before the loss is here
    np.testing.assert_array_equal(seq[1:], seq[:-1] + n[:-1] + dropped[1:])
    [k] = np.flatnonzero(dropped)  # exactly one hole: the samples written while disconnected
    assert n[:k].sum() > 40 and n[k:].sum() > 20
    assert dropped[k] >= emu.pen.samples_unsent > 0
    assert driver.status.dropped_samples == dropped[k]
    assert np.all(np.diff(rec.timestamps) > 0)
