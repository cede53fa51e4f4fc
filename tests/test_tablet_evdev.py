"""Graphics tablets on Linux: kernel input_event bytes from an emulated pen node -> real driver -> Recording.

No /dev/uinput here, so the emulator writes the exact bytes a pen node gives
read(2) into a FIFO that stands in for /dev/input/eventN.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from motorlab.devices.registry import open_device
from motorlab.errors import DeviceError

from .ble_helpers import record, wait_until


async def test_tablet_pen_in_mm_pressure_tilt_contact_with_kernel_times(tmp_path):
    device = await open_device("sim://tablet?seed=3")
    emu, driver = device.emulator, device.driver
    try:
        info = await driver.info()
        names = [c.name for c in info.channels]
        assert names == [
            "pos_x", "pos_y", "pressure", "distance", "tilt_x", "tilt_y", "in_range", "tip_contact", "barrel_button"
        ]  # fmt: skip

        async def draw(acq):
            emu.cue("write")
            await asyncio.sleep(2.5)

        rec = await record(driver, tmp_path, "handwriting", draw)
        rate = driver.measured_rate_hz
    finally:
        await device.close()
    reports = np.array([r[:4] + (float(r[4]),) for r in emu.reports])
    n = rec.n_samples
    assert n > 300
    # find the recorded run among the reports by kernel time steps, then compare in physical units
    # the device reports mm; the stored recording may hold positions in motorlab's length unit
    unit = rec.channels[rec.channel_index("pos_x")].units
    per_mm = {"mm": 1.0, "cm": 0.1}[unit]
    x_mm = reports[:, 1] / 200.0 * per_mm
    got = rec.channel("pos_x")
    start = [i for i in range(len(x_mm) - n + 1) if np.allclose(x_mm[i : i + n], got, rtol=1e-12, atol=0)]
    assert start, "pos_x is not raw ABS_X / 200 units/mm"
    r = reports[start[0] : start[0] + n]
    np.testing.assert_allclose(rec.channel("pos_y"), r[:, 2] / 200.0 * per_mm, rtol=1e-12)
    np.testing.assert_allclose(rec.channel("pressure"), r[:, 3] / 8191.0, rtol=1e-12)
    np.testing.assert_array_equal(rec.channel("tip_contact"), r[:, 4])
    per_rad = {"rad": 1.0, "deg": 180.0 / np.pi}[rec.channels[rec.channel_index("tilt_x")].units]
    np.testing.assert_allclose(rec.channel("tilt_x"), round(0.45 * 57) / 57 * per_rad, rtol=1e-12)
    np.testing.assert_allclose(rec.channel("tilt_y"), round(-0.30 * 57) / 57 * per_rad, rtol=1e-12)
    assert np.all(rec.channel("in_range") == 1.0)
    # times are the kernel timestamps (µs resolution): 5 ms apart while touching, 7.5 ms hovering
    np.testing.assert_allclose(np.diff(rec.timestamps), np.diff(r[:, 0]), atol=2e-6)
    touching = r[1:, 4] == 1
    assert np.median(np.diff(rec.timestamps)[touching]) == pytest.approx(1 / 200, abs=1e-5)
    assert np.median(np.diff(rec.timestamps)[~touching]) == pytest.approx(1 / 133, abs=1e-5)
    assert 133 <= rate <= 200
    assert driver.integrity()["dropped_samples"] == 0 and touching.sum() > 50


async def test_proximity_follows_the_pen_leaving_and_returning(tmp_path):
    device = await open_device("sim://tablet?seed=5")
    emu, driver = device.emulator, device.driver
    try:

        async def script(acq):
            await asyncio.sleep(0.4)
            emu.lift_away()
            await asyncio.sleep(0.4)
            emu.bring_back()
            await asyncio.sleep(0.4)

        rec = await record(driver, tmp_path, "handwriting", script)
    finally:
        await device.close()
    in_range = rec.channel("in_range")
    # in range, one report saying the tool left (no reports while away), in range again
    changes = np.flatnonzero(np.diff(in_range))
    assert len(changes) == 2 and in_range[0] == 1 and in_range[-1] == 1
    away = changes[0] + 1
    assert in_range[away] == 0 and rec.channel("tip_contact")[away] == 0
    assert rec.timestamps[away + 1] - rec.timestamps[away] >= 0.3  # silence while out of range


async def test_a_tablet_without_resolution_is_refused():
    with pytest.raises(
        DeviceError, match=r"declares no resolution for ABS_X, so positions cannot be given in mm"
    ):
        await open_device("sim://tablet?resolution=0")


async def test_unplug_reconnects_and_syn_dropped_is_counted(tmp_path):
    device = await open_device("sim://tablet?seed=1")
    emu, driver = device.emulator, device.driver
    driver.reconnect_backoff_s = 0.05

    async def script(acq):
        emu.cue("write")
        await asyncio.sleep(0.5)
        emu.overflow()
        await asyncio.sleep(0.3)
        emu.unplug()
        await asyncio.sleep(0.3)
        emu.plug_in()
        await wait_until(lambda: driver.status.reconnects == 1, 10, "reconnect")
        await asyncio.sleep(0.5)

    try:
        rec = await record(driver, tmp_path, "handwriting", script)
    finally:
        await device.close()
    counts = driver.integrity()
    assert counts["link_gaps"] == 1 and counts["dropped_samples"] >= 1
    assert len(rec.events_of("gap")) == 1
    assert np.all(np.diff(rec.timestamps) > 0)
    # after the overflow the state was re-read, so positions stay physical (no NaN)
    assert np.isfinite(rec.channel("pos_x")).all()


def test_a_node_without_permission_names_the_input_group_fix():
    d = Path(tempfile.mkdtemp(prefix="motorlab-input-perm-"))
    try:
        d.chmod(0o755)
        node = d / "event7"
        os.mkfifo(node, 0o600)
        if os.geteuid() != 0:
            node.chmod(0)
        code = (
            "import asyncio, sys\n"
            "from motorlab.devices.registry import open_device\n"
            "from motorlab.errors import DeviceError\n"
            "try:\n"
            f"    asyncio.run(open_device('input://{node}'))\n"
            "except DeviceError as exc:\n"
            "    print(exc)\n"
        )
        cmd = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert out.stdout.strip() == (
        f"{node}: permission denied: add yourself to the input group: "
        "sudo usermod -aG input $USER, then log in again"
    ), out.stderr


def test_devices_lists_an_unreadable_input_node_with_the_fix_and_skips_non_pens():
    d = Path(tempfile.mkdtemp(prefix="motorlab-devdir-"))
    try:
        d.chmod(0o755)
        (d / "input").mkdir(mode=0o755)
        locked, other = d / "input" / "event9", d / "input" / "event2"
        os.mkfifo(locked, 0o600)
        os.mkfifo(other, 0o666)  # readable, but not an input device
        if os.geteuid() != 0:
            locked.chmod(0)
        cmd = [sys.executable, "-m", "motorlab", "devices", "--no-ble", "--json"]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        env = {**os.environ, "MOTORLAB_DEV_DIR": str(d)}
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout)["devices"] if r["transport"] == "input"]
    assert [r["address"] for r in rows] == [str(locked)]
    assert rows[0]["reason"] == (
        "no permission to read it: add yourself to the input group: sudo usermod -aG input $USER, then log in again"
    )
