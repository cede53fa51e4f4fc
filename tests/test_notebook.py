"""The synchronous notebook facade: works from plain code and inside a running event loop."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from motorlab.errors import DeviceError
from motorlab.sim.bluez.bus import PrivateBus
from motorlab.ui.notebook import open_device, record


def test_record_returns_a_recording_from_plain_code():
    rec = record("sim://grip?seed=3&peak_n=240&hold_s=0.5", 1.5, task="grip")
    assert rec.channel_names == ["force"] and rec.metadata.task == "grip"
    assert 0.9 * 80 * 1.5 <= rec.n_samples <= 1.1 * 80 * 1.5 + 5
    assert np.median(np.diff(rec.timestamps)) == pytest.approx(1 / 80, rel=1e-3)
    # the virtual participant squeezed on the facade's cue
    assert rec.channel("force").max() == pytest.approx(240, rel=0.15)
    assert rec.metadata.extra["integrity"]["dropped_samples"] == 0


async def test_record_works_inside_a_running_event_loop():
    loop = asyncio.get_running_loop()
    assert loop.is_running()
    rec = record("sim://grip?seed=4&noise_n=0", 0.8, tare=True)  # blocks this loop's thread, no error
    assert rec.n_samples > 50 and np.all(np.diff(rec.timestamps) > 0)
    assert abs(rec.channel("force")[0]) < 1.0  # tared


@pytest.mark.skipif(not PrivateBus.available(), reason="dbus-daemon not installed")
async def test_ble_device_from_a_running_loop_through_bleak():
    with open_device("sim://progressor?seed=2") as dev:
        assert dev.info.model == "Tindeq Progressor"
        first = dev.record(0.6)
        second = dev.record(0.6)  # the same open device, twice
    for rec in (first, second):
        assert 0.8 * 80 * 0.6 <= rec.n_samples <= 1.2 * 80 * 0.6 + 8


def test_bad_arguments_are_one_line_errors():
    with (
        open_device("sim://grip") as dev,
        pytest.raises(DeviceError, match=r"^sim://grip: seconds must be positive, got 0$"),
    ):
        dev.record(0)
    with pytest.raises(DeviceError, match=r"^sim://grip: device is closed$"):
        dev.record(1)
    with pytest.raises(DeviceError, match="unknown simulator"):
        record("sim://nope", 1)
