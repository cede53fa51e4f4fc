"""Discovery: protocol guesses, BLE scan on the emulated BlueZ, probing sim-served ports."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from serial.tools.list_ports_common import ListPortInfo

from motorlab.cli.main import main
from motorlab.devices.discovery import (
    BleRule,
    Candidate,
    discover_ble,
    discover_serial,
    guess_ble_protocol,
    guess_serial_protocol,
    probe,
)
from motorlab.sim.bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from motorlab.sim.emulators.grip_hx711 import make_emulator as make_grip
from motorlab.sim.emulators.tindeq import ProgressorEmulator
from motorlab.sim.emulators.witmotion import WT901Emulator
from motorlab.sim.pty_link import PtyLink


def _usb_port(device, vid=None, pid=None, description="n/a", manufacturer=None):
    port = ListPortInfo(device, skip_link_detection=True)
    port.vid, port.pid, port.description, port.manufacturer = vid, pid, description, manufacturer
    return port


@pytest.mark.parametrize(
    "port, protocol, needle",
    [
        (_usb_port("/dev/ttyACM0", 0x2341, 0x0043, "Arduino Uno"), "motorlab", "Arduino board"),
        (_usb_port("/dev/ttyACM1", 0x303A, 0x1001, "USB JTAG/serial debug unit"), "motorlab", "Espressif"),
        (_usb_port("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial"), None, "CH34x"),
        (_usb_port("/dev/ttyUSB1", 0x10C4, 0xEA60, "WT901 IMU", "WitMotion"), "witmotion", "'witmotion'"),
        (_usb_port("/dev/ttyUSB2", 0x0483, 0xA1AD, "MARK-10 Series 5"), "mark10", "'mark-10'"),
        (_usb_port("/dev/ttyUSB3", 0x1234, 0x5678, "Widget"), None, "USB 1234:5678"),
        (_usb_port("/dev/ttyS0"), None, "no USB information"),
    ],
)
def test_serial_protocol_guess(port, protocol, needle):
    guess, why = guess_serial_protocol(port)
    assert guess == protocol
    assert needle in why


def test_discover_serial_adds_ports_listing_cannot_see():
    with PtyLink(lambda data: None) as link:
        found = discover_serial([link.link_path], protocol="motorlab")
        mine = [c for c in found if c.address == link.link_path]
        assert len(mine) == 1
        assert mine[0].protocol == "motorlab"
        assert mine[0].url() == f"serial://{link.link_path}?protocol=motorlab"
        assert all(c.transport == "serial" for c in found)


def test_ble_guess_prefers_service_uuid_then_name():
    rules = [BleRule("motorlab", "0000abcd-0000-1000-8000-00805f9b34fb", "ML-")]
    assert guess_ble_protocol("Kettle", ["0000ABCD-0000-1000-8000-00805F9B34FB"], rules)[0] == "motorlab"
    assert guess_ble_protocol("ML-grip 3", [], rules) == ("motorlab", "name starts with 'ML-'")
    assert guess_ble_protocol("Progressor_1234", [], rules)[0] == "tindeq"
    assert guess_ble_protocol("GDX-HD 151000C1", [], rules)[0] == "vernier"
    assert guess_ble_protocol("WT901BLE68", [], rules)[0] == "witmotion-ble"
    assert guess_ble_protocol("Kettle", ["0000180f-0000-1000-8000-00805f9b34fb"], rules) == (
        None,
        "no known name or service",
    )


def _peripheral(fake_bluez, address, name, service="0000180f-0000-1000-8000-00805f9b34fb", rssi=-60):
    return fake_bluez.add_peripheral(
        PeripheralSpec(
            address=address,
            name=name,
            advertised_uuids=[service],
            rssi=rssi,
            services=[
                GattService(
                    service, [GattCharacteristic(service[:4] + "2a19" + service[8:], ("read",), b"\x64")]
                )
            ],
        )
    )


async def test_ble_scan_on_emulated_bluez_maps_names_to_protocols(fake_bluez):
    _peripheral(fake_bluez, "C0:00:00:00:00:01", "Progressor_7001", rssi=-50)
    _peripheral(fake_bluez, "C0:00:00:00:00:02", "GDX-HD 151000C1", rssi=-70)
    _peripheral(fake_bluez, "C0:00:00:00:00:03", "WT901BLE68", rssi=-60)
    _peripheral(fake_bluez, "C0:00:00:00:00:04", "Kettle", rssi=-40)
    found = await discover_ble(timeout=1.0, only_known=True)
    by_addr = {c.address: c for c in found}
    assert by_addr["C0:00:00:00:00:01"].protocol == "tindeq"
    assert by_addr["C0:00:00:00:00:02"].protocol == "vernier"
    assert by_addr["C0:00:00:00:00:03"].protocol == "witmotion-ble"
    assert "C0:00:00:00:00:04" not in by_addr  # unknown advertisers hidden by default
    assert by_addr["C0:00:00:00:00:02"].name == "GDX-HD 151000C1"
    # recognised devices sorted by signal strength, strongest first
    assert [c.address for c in found][:3] == ["C0:00:00:00:00:01", "C0:00:00:00:00:03", "C0:00:00:00:00:02"]
    assert by_addr["C0:00:00:00:00:01"].url() == "ble://C0:00:00:00:00:01?protocol=tindeq"
    everything = await discover_ble(timeout=1.0)
    assert {c.address for c in everything} >= {"C0:00:00:00:00:04"}
    assert [c.protocol for c in everything if c.address == "C0:00:00:00:00:04"] == [None]


async def test_probe_of_a_silent_port_names_the_port_and_the_protocol():
    with PtyLink(lambda data: None) as link:
        result = await probe(Candidate("serial", link.link_path), protocols=["witmotion"], timeout=3.0)
    assert not result.ok and result.protocol is None
    assert result.tried == ("witmotion",)
    assert link.link_path in result.error and "witmotion" in result.error
    assert "\n" not in result.error


async def test_probe_tries_serial_protocols_in_turn_until_one_answers():
    emulator = WT901Emulator()  # streams WitMotion frames, never answers motorlab frames
    try:
        result = await probe(Candidate("serial", emulator.link.link_path), timeout=3.0)
    finally:
        emulator.close()
    assert result.ok, result.error
    assert result.tried == ("motorlab", "witmotion")
    assert result.protocol == "witmotion" and result.model.startswith("WT901")
    assert result.url == f"serial://{emulator.link.link_path}?protocol=witmotion"


def test_devices_cli_probes_a_sim_served_port_by_handshake():
    emulator = make_grip({"seed": "4"})
    try:
        code, out = _run_cli(["devices", "--no-ble", "--port", emulator.link.link_path, "--probe", "--json"])
    finally:
        emulator.close()
    assert code == 0
    (row,) = [r for r in json.loads(out)["devices"] if r["address"] == emulator.link.link_path]
    assert row["protocol"] is None  # nothing to guess from for a bare path
    probe_row = row["probe"]
    assert probe_row["ok"] and probe_row["protocol"] == "motorlab"
    assert probe_row["model"] == "motorlab-grip-hx711"
    assert probe_row["serial"] == emulator.serial
    assert probe_row["url"] == f"serial://{emulator.link.link_path}?protocol=motorlab"


def test_devices_cli_reports_a_failed_probe_as_one_line_naming_the_port():
    with PtyLink(lambda data: None) as link:
        code, out = _run_cli(
            [
                "devices",
                "--no-ble",
                "--port",
                link.link_path,
                "--protocol",
                "mark10",
                "--probe",
                "--timeout",
                "2",
                "--json",
            ]
        )
    assert code == 0
    (row,) = [r for r in json.loads(out)["devices"] if r["address"] == link.link_path]
    assert row["probe"]["ok"] is False and row["probe"]["protocol"] is None
    error = row["probe"]["error"]
    assert error.startswith(f"{link.link_path}: ") and "mark10" in error and "\n" not in error


def test_devices_cli_table_shows_the_confirmed_device():
    emulator = make_grip({"seed": "5"})
    try:
        code, out = _run_cli(["devices", "--no-ble", "--port", emulator.link.link_path, "--probe"])
    finally:
        emulator.close()
    assert code == 0
    (line,) = [ln for ln in out.splitlines() if emulator.link.link_path in ln and "motorlab-grip-hx711" in ln]
    assert f"serial {emulator.serial}" in line and "fw 1.0.0" in line


async def test_ble_scan_then_probe_an_emulated_progressor(fake_bluez):
    emulator = ProgressorEmulator(address="F4:12:FA:00:00:09", name="Progressor_0909")
    emulator.attach(fake_bluez)
    try:
        found = await discover_ble(timeout=1.0, only_known=True)
        (cand,) = [c for c in found if c.address == "F4:12:FA:00:00:09"]
        assert cand.protocol == "tindeq" and cand.name == "Progressor_0909"
        result = await probe(cand, timeout=10.0)
    finally:
        emulator.close()
    assert result.ok, result.error
    assert result.model == "Tindeq Progressor" and result.firmware == "1.2.4"
    assert result.serial == emulator.device_id[::-1].hex().upper()


def _run_cli(argv):
    buf = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "250")  # rich wraps tables at $COLUMNS
        with contextlib.redirect_stdout(buf):
            code = main(argv)
    return code, buf.getvalue()


async def test_ble_scan_without_bluez_is_a_one_line_device_error(monkeypatch, tmp_path):
    from motorlab.devices.base import DeviceError

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    with pytest.raises(DeviceError, match=r"^BLE scan failed: cannot reach BlueZ on the D-Bus system bus"):
        await discover_ble(timeout=0.5)
