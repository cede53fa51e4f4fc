"""The visit page finds connected devices: bleak's real BlueZ backend against the emulated BlueZ.

The server runs in its own thread and loop (as ``motorlab app`` does); the emulated
BlueZ on its private dbus-daemon is served by the test's loop while the page is requested.
"""

from __future__ import annotations

import asyncio

from motorlab.clinic import ClientRegistry, make_client

from .app_fixtures import AppServer
from .test_discovery import _peripheral


async def test_find_connected_devices_lists_ble_devices_with_their_urls(fake_bluez, clinic_root):
    _peripheral(fake_bluez, "C0:00:00:00:00:11", "Progressor_7011", rssi=-50)
    _peripheral(fake_bluez, "C0:00:00:00:00:12", "Kettle", rssi=-40)
    ClientRegistry(clinic_root).add(make_client("P6001", 2016, "M", "right"))
    srv = await asyncio.to_thread(lambda: AppServer(clinic_root).start())
    try:
        status, _, html = await asyncio.to_thread(
            srv.request, "GET", "/visit?client=P6001&find=1", headers={"Cookie": srv.cookie}
        )
    finally:
        await asyncio.to_thread(srv.stop)
    assert status == 200
    found = html[html.index('<ul id="found-list">') : html.index("</ul>", html.index('id="found-list"'))]
    assert "<code>ble://C0:00:00:00:00:11?protocol=tindeq</code> – Progressor_7011" in found
    assert "Kettle" not in found  # advertisers of no known device are left out
    # the found device is offered in the device fields' suggestions, before the emulators
    assert html.index('<option value="ble://C0:00:00:00:00:11?protocol=tindeq">') < html.index(
        '<option value="sim://'
    )


async def test_find_without_bluetooth_says_so_in_one_line(monkeypatch, tmp_path, clinic_root):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    ClientRegistry(clinic_root).add(make_client("P6002", 2016, "M", "right"))
    srv = await asyncio.to_thread(lambda: AppServer(clinic_root).start())
    try:
        status, _, html = await asyncio.to_thread(
            srv.request, "GET", "/visit?find=1", headers={"Cookie": srv.cookie}
        )
    finally:
        await asyncio.to_thread(srv.stop)
    assert status == 200
    assert (
        '<p class="warn">BLE scan failed: cannot reach BlueZ on the D-Bus system bus (no Bluetooth service running?)</p>'
        in html
    )
