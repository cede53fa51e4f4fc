"""pytest plugin: an emulated BlueZ on a private dbus-daemon, for BLE tests.

Loaded from ``tests/conftest.py`` (``pytest_plugins = ["tests.ble_fixtures"]``).
``ble_sandbox`` starts (or joins) the event loop's :class:`BleSandbox`, so
bleak's real BlueZ backend and any ``sim://`` BLE device opened in the test
talk to the same emulated daemon; ``fake_bluez`` is its :class:`FakeBlueZ`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from motorlab.sim.bluez.bus import BleSandbox, PrivateBus


def _require_dbus() -> None:
    if not PrivateBus.available():
        pytest.skip("dbus-daemon not installed (apt-get install dbus); .ci/run installs it")


@pytest_asyncio.fixture
async def ble_sandbox() -> AsyncIterator[BleSandbox]:
    """Private bus + emulated BlueZ; DBUS_SYSTEM_BUS_ADDRESS points at it for the test."""
    _require_dbus()
    box = await BleSandbox.acquire()
    try:
        yield box
    finally:
        await box.release()


@pytest_asyncio.fixture
async def fake_bluez(ble_sandbox: BleSandbox):
    """The emulated ``bluetoothd`` (add peripherals with ``add_peripheral``)."""
    assert ble_sandbox.bluez is not None
    return ble_sandbox.bluez


@pytest.fixture
def require_dbus() -> None:
    """Skip a test that opens ``sim://`` BLE devices when dbus-daemon is missing."""
    _require_dbus()
