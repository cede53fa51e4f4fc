"""Emulated WH-C06 scale that only advertises (``sim://whc06``), on the emulated BlueZ.

The scale broadcasts its weight in manufacturer data for company ``0x0100``
(bytes 10-11 big-endian, kg x 100; :mod:`motorlab.devices.codecs.whc06`)
about 8 times a second, has no GATT service and accepts no connection. Each
advertisement carries the reading at that moment (the emulated BlueZ reports
the changed ManufacturerData through ``PropertiesChanged``, as bluetoothd
does). :meth:`WhC06Emulator.go_silent` stops advertising (out of range,
battery out) and :meth:`WhC06Emulator.come_back` resumes. The scale zeroes at
power-on; ``offset_n`` is a load already hanging then.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import whc06 as wh
from ...devices.device import Device
from ...devices.drivers.whc06 import WhC06Driver
from ...devices.registry import DeviceURL
from ...devices.transports.ble_adverts import BleAdvertisementTransport
from ...units import KGF_N
from ..bluez.bus import BleSandbox
from ..bluez.fakebluez import FakeBlueZ, Peripheral, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import BleEmulator, sim_param


class WhC06Emulator(BleEmulator):
    protocol = "wh-c06"
    sim_name = "sim://whc06"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "C4:A5:DF:00:C0:06",
        rate_hz: float = wh.NOMINAL_RATE_HZ,
        offset_n: float = 0.0,
    ):
        super().__init__(address, name="")  # these scales advertise no name
        self.participant = participant or GripParticipant()
        self.rate_hz = rate_hz
        self.offset_n = offset_n
        #: (device time s, kg as advertised) of every advertisement
        self.sent: list[tuple[float, float]] = []

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            services=[],
            manufacturer_data={wh.COMPANY_ID: wh.manufacturer_data(0.0)},
            adv_interval_s=1.0 / self.rate_hz,
        )

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        peripheral = super().attach(bluez)
        peripheral.on_advertise.append(self._advertise)
        return peripheral

    def _advertise(self) -> None:
        t = self.device_time()
        n = float(self.participant.force(np.array([t]))[0]) + self.offset_n
        kg = max(0.0, round(n / KGF_N, 2))
        assert self.peripheral is not None
        self.peripheral.set_manufacturer_data(wh.COMPANY_ID, wh.manufacturer_data(kg))
        self.sent.append((t, kg))

    def go_silent(self) -> None:
        if self.peripheral is not None:
            self.peripheral.reachable = False

    def come_back(self) -> None:
        if self.peripheral is not None:
            self.peripheral.reachable = True


async def open_sim(url: DeviceURL) -> Device:
    """``sim://whc06?seed=1&peak_n=300&silence_s=10``: an emulated advertising-only scale."""
    params, name = url.params, WhC06Emulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = WhC06Emulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "C4:A5:DF:00:C0:06"),
        offset_n=p("offset_n", 0.0),
    )
    box = await BleSandbox.acquire()

    async def release() -> None:
        try:
            emulator.close()
        finally:
            await box.release()

    transport = BleAdvertisementTransport(
        emulator.address, wh.COMPANY_ID, silence_timeout_s=p("silence_s", 10.0)
    )
    device = Device(WhC06Driver(transport, url=name), url.text, emulator, release)
    try:
        assert box.bluez is not None
        emulator.attach(box.bluez)
        await device.driver.open()
        await device.driver.info()
    except BaseException:
        await device.close()
        raise
    return device
