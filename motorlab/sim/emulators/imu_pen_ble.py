"""The emulated DIY IMU pen (motorlab open protocol) served over BLE.

The pen's firmware emulation (:class:`~.imu_pen.IMUPenEmulator`, normally on a
pseudo-terminal) is reused unchanged; only its link is swapped for a
:class:`~.ble_bus.BleByteLink`: its frames leave as notifications on the
motorlab GATT profile (firmware_notes/protocol.md §2) and command writes are
fed to its parser. Like the real firmware, the pen keeps streaming through a
link loss; frames written meanwhile are lost and show up on the host as a
sequence-number gap.

URL: ``sim://penble?seed=1&rate=200&tremor_hz=6&tremor_amp_cm=0.05`` (the
parameters of ``sim://pen``).
"""

from __future__ import annotations

import threading
from typing import Any

from ...devices.device import Device
from ...devices.drivers.motorlab_driver import make_driver
from ...devices.registry import DeviceURL
from ...devices.spec import MOTORLAB_BLE as BLE_PROFILE
from ..bluez.fakebluez import FakeBlueZ, GattCharacteristic, GattService, Peripheral, PeripheralSpec
from .ble import BleByteLink, BleEmulator, open_ble_sim
from .imu_pen import IMUPenEmulator, make_emulator


class PenBleEmulator(BleEmulator):
    protocol = "motorlab"
    sim_name = "sim://penble"

    def __init__(self, pen: IMUPenEmulator, address: str = "C2:5E:11:00:00:01"):
        super().__init__(address, f"motorlab-pen {pen.serial}")
        self.pen = pen
        self.participant = pen.participant
        self._loop_thread: int | None = None

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=247,
            advertised_uuids=[BLE_PROFILE.service_uuid],
            services=[
                GattService(
                    BLE_PROFILE.service_uuid,
                    [
                        GattCharacteristic(BLE_PROFILE.notify_uuid, ("notify",)),
                        GattCharacteristic(BLE_PROFILE.write_uuid, ("write",), on_write=self._on_write),
                    ],
                )
            ],
        )

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        peripheral = super().attach(bluez)
        self._loop_thread = threading.get_ident()
        pty = self.pen.link
        self.pen.link = BleByteLink(self, BLE_PROFILE.notify_uuid, chunk=peripheral.spec.mtu - 3)
        pty.close()
        return peripheral

    def _on_write(self, data: bytes, with_response: bool) -> None:
        self.pen._on_bytes(data)

    def cue(self, kind: str) -> float:
        return self.pen.cue(kind)

    @property
    def truth(self) -> Any:
        return self.pen.truth

    def on_link_down(self) -> None:
        pass  # the firmware keeps sampling; its writes fail until the host is back

    def close(self) -> None:
        self.pen.close()  # thread-safe, idempotent
        if threading.get_ident() == self._loop_thread:  # D-Bus objects live on the loop
            super().close()


async def open_sim(url: DeviceURL) -> Device:
    """Start the emulated IMU pen behind the emulated BlueZ; its driver is the real motorlab driver (BLE)."""
    name = PenBleEmulator.sim_name
    emulator = PenBleEmulator(make_emulator(url.params, name))
    return await open_ble_sim(emulator, lambda tr: make_driver(tr, name), url)
