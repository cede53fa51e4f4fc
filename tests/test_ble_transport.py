"""BleTransport through bleak's real BlueZ backend against the emulated BlueZ."""

from __future__ import annotations

import asyncio

import pytest

from motorlab.devices.base import DeviceError
from motorlab.devices.spec import BleProfile
from motorlab.devices.transports.ble import BleTransport
from motorlab.sim.bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec

SVC = "0000aa00-1111-2222-3333-444455556666"
NOTIFY = "0000aa01-1111-2222-3333-444455556666"
WRITE = "0000aa02-1111-2222-3333-444455556666"
PROFILE = BleProfile(SVC, NOTIFY, WRITE)


class EchoPeripheral:
    """Test peripheral: records each write and notifies it back reversed."""

    def __init__(self, fake_bluez, address="D0:00:00:00:00:01", name="EchoBox 7"):
        self.writes: list[tuple[bytes, bool]] = []
        self.handle = fake_bluez.add_peripheral(
            PeripheralSpec(
                address=address,
                name=name,
                advertised_uuids=[SVC],
                services=[
                    GattService(
                        SVC,
                        [
                            GattCharacteristic(NOTIFY, ("notify",)),
                            GattCharacteristic(
                                WRITE, ("write", "write-without-response"), on_write=self.on_write
                            ),
                        ],
                    )
                ],
            )
        )

    def on_write(self, data: bytes, with_response: bool) -> None:
        self.writes.append((data, with_response))
        self.handle.notify(NOTIFY, data[::-1])


class Sink:
    def __init__(self):
        self.data: list[bytes] = []
        self.lost: list[BaseException | None] = []
        self.got = asyncio.Event()

    def on_data(self, data: bytes, t: float) -> None:
        assert t > 0
        self.data.append(data)
        self.got.set()

    def on_lost(self, exc: BaseException | None) -> None:
        self.lost.append(exc)


async def test_scan_by_name_prefix_connect_write_and_notify(fake_bluez):
    echo = EchoPeripheral(fake_bluez)
    sink = Sink()
    tr = BleTransport("echobox", PROFILE, scan_timeout_s=3)
    await tr.open(sink.on_data, sink.on_lost)
    assert tr.is_open and tr.device is not None and tr.device.address == "D0:00:00:00:00:01"
    await tr.write(b"\x01\x02\x03")
    await asyncio.wait_for(sink.got.wait(), 3)
    assert sink.data == [b"\x03\x02\x01"]
    assert echo.writes == [(b"\x01\x02\x03", True)]
    await tr.close()
    await asyncio.sleep(0.05)
    assert not tr.is_open and sink.lost == []  # our own close is not a link loss


async def test_long_write_is_split_into_20_byte_chunks(fake_bluez):
    echo = EchoPeripheral(fake_bluez)
    tr = BleTransport("D0:00:00:00:00:01", BleProfile(SVC, NOTIFY, WRITE, write_with_response=False))
    sink = Sink()
    await tr.open(sink.on_data, sink.on_lost)
    payload = bytes(range(45))
    await tr.write(payload)
    await tr.close()
    assert [len(d) for d, _ in echo.writes] == [20, 20, 5]
    assert b"".join(d for d, _ in echo.writes) == payload
    assert not any(resp for _, resp in echo.writes)  # write without response


async def test_missing_device_is_one_line_error_naming_it(fake_bluez):
    EchoPeripheral(fake_bluez)
    tr = BleTransport("AA:BB:CC:DD:EE:FF", PROFILE, scan_timeout_s=0.3)
    with pytest.raises(DeviceError) as info:
        await tr.open(Sink().on_data, Sink().on_lost)
    msg = str(info.value)
    assert "AA:BB:CC:DD:EE:FF" in msg and "no BLE device" in msg and "\n" not in msg
    tr2 = BleTransport("Progressor", PROFILE, scan_timeout_s=0.3)
    with pytest.raises(DeviceError, match="Progressor: no BLE device with this name"):
        await tr2.open(Sink().on_data, Sink().on_lost)


async def test_link_loss_reported_once_and_reconnect_works(fake_bluez):
    echo = EchoPeripheral(fake_bluez)
    sink = Sink()
    tr = BleTransport("D0:00:00:00:00:01", PROFILE)
    await tr.open(sink.on_data, sink.on_lost)
    echo.handle.drop_link()
    for _ in range(100):
        if sink.lost:
            break
        await asyncio.sleep(0.02)
    assert len(sink.lost) == 1 and "D0:00:00:00:00:01: BLE link lost" in str(sink.lost[0])
    assert not tr.is_open
    with pytest.raises(DeviceError, match="not connected"):
        await tr.write(b"\x00")
    await tr.close()
    await tr.open(sink.on_data, sink.on_lost)  # same transport, fresh scan + connection
    await tr.write(b"ab")
    await asyncio.wait_for(sink.got.wait(), 3)
    assert sink.data[-1] == b"ba" and len(sink.lost) == 1
    await tr.close()


async def test_unreachable_device_connect_fails_cleanly(fake_bluez):
    echo = EchoPeripheral(fake_bluez)
    tr = BleTransport("D0:00:00:00:00:01", PROFILE, scan_timeout_s=0.5)
    sink = Sink()
    await tr.open(sink.on_data, sink.on_lost)
    await tr.close()
    echo.handle.reachable = False  # switched off: no longer advertises
    with pytest.raises(DeviceError, match="D0:00:00:00:00:01: no BLE device"):
        await tr.open(sink.on_data, sink.on_lost)


async def test_ble_simulator_without_dbus_daemon_is_a_one_line_error(monkeypatch, tmp_path):
    from motorlab.devices.registry import open_device

    monkeypatch.setenv("PATH", str(tmp_path))  # no dbus-daemon on PATH
    with pytest.raises(
        DeviceError, match=r"^dbus-daemon not found: BLE simulators need it \(install the 'dbus' package\)$"
    ):
        await open_device("sim://progressor")
