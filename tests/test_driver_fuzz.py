"""Fuzzed bytes through the clinic drivers' receive path: counted, never raised.

The codecs have their own fuzz targets (``tests/test_codec_fuzz.py``); this
checks what the drivers add on top (counts -> newtons, tare windows, dropping
samples outside a stream, SYN_DROPPED resync) with random notifications fed
exactly as the transport's callback feeds them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorlab.devices.codecs import evdev_tablet as ev
from motorlab.devices.drivers.evdev_tablet import TabletDriver
from motorlab.devices.registry import make_driver
from motorlab.devices.transports.input_node import InputNodeTransport

URLS = [
    "ble://X?protocol=jamar",
    "ble://X?protocol=activ5",
    "ble://X?protocol=cts500",
    "ble://X?protocol=forceboard",
    "ble://X?protocol=ble-weight-scale",
    "ble://X?protocol=kinvent-kforce",
    "ble://X?protocol=wh-c06",
    "serial:///dev/null?protocol=kinvent-kgrip",
]

chunks = st.lists(st.binary(min_size=0, max_size=64), min_size=1, max_size=20)


@pytest.mark.parametrize("url", URLS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=chunks, streaming=st.booleans())
def test_random_notifications_never_raise_in_a_driver(url, data, streaming):
    driver = make_driver(url)
    driver._streaming = streaming
    if hasattr(driver.codec, "kg_per_count"):
        driver.codec.kg_per_count = 0.0001
    t = 100.0
    for chunk in data:
        t += 0.01
        driver._on_data(chunk, t)
    blocks = driver.pending_blocks()
    for blk in blocks:
        assert blk.values.shape[0] == blk.device_time.shape[0]
        assert np.all(np.diff(blk.device_time) >= 0)
    if not streaming:
        assert blocks == []
    assert all(v >= 0 for v in driver.integrity().values())


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 999_999),
            st.sampled_from([ev.EV_SYN, ev.EV_KEY, ev.EV_ABS, 0x1F, 0x20]),
            st.sampled_from(
                [ev.ABS_X, ev.ABS_Y, ev.ABS_PRESSURE, ev.SYN_DROPPED, ev.BTN_TOUCH, ev.BTN_TOOL_PEN, 0]
            ),
            st.integers(-(2**31), 2**31 - 1),
        ),
        max_size=60,
    ),
    cut=st.integers(1, 23),
)
def test_random_input_events_never_raise_in_the_tablet_driver(events, cut):
    axes = {ev.ABS_X: ev.AbsAxis(0, 44800, 200), ev.ABS_Y: ev.AbsAxis(0, 29600, 200)}
    driver = TabletDriver(
        InputNodeTransport("/dev/null"), absinfo=axes, state=lambda: ({ev.ABS_X: 5}, [ev.BTN_TOOL_PEN])
    )
    driver.codec = ev.EvdevTabletCodec(axes, name="fuzz")
    data = ev.pack_events(events)
    for i in range(0, len(data), cut):
        driver._on_data(data[i : i + cut], 0.0)
    assert not driver.codec.needs_resync  # the driver re-read the state after every SYN_DROPPED
    for blk in driver.pending_blocks():
        assert blk.values.shape == (blk.n, len(driver.codec.channels))
