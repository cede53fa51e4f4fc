"""Emulated CTS500 climbing scale on the emulated BlueZ (``sim://cts500``).

Speaks what :mod:`motorlab.devices.codecs.cts500` decodes, through a MY-BT102
UART bridge (service ``ffe0``): 6-byte commands ``05 op p0 p1 p2 cs``; start
(``AA``) uploads 7-byte weight frames (kg x 100, big-endian) at 80 Hz,
answered by frames only; stop (``AB``), rate (``C1``) and zero (``86``) are
echoed; tare (``A6``) zeroes and sends one weight frame; firmware (``A4``),
battery (``C4``) and temperature (``C5``) get typed ``05 80 op d0 d1 d2 cs``
answers. The bridge forwards a byte stream: frames are cut into 20-byte
notifications anywhere.

**It keeps uploading until it gets stop**, across link losses and power
cycles (``uploading_at_power_on=1`` switches it on already uploading, as a
scale left running by another app). :attr:`Cts500Emulator.log` records
``("stop", t)`` and ``("disconnect", t)`` so tests can check the order.
``inject_every=k`` puts a frame with a bad checksum before every k-th frame.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import cts500 as cts
from ...devices.device import Device
from ...devices.drivers.cts500 import Cts500Driver
from ...devices.registry import DeviceURL
from ...units import KGF_N
from ..bluez.fakebluez import FakeBlueZ, Peripheral, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator

_RATE_BY_CODE = {code: hz for hz, code in cts.RATE_CODES.items()}


class Cts500Emulator(ForceBleEmulator):
    protocol = "cts500"
    sim_name = "sim://cts500"
    notify_uuid = cts.NOTIFY_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "A4:C1:38:00:05:00",
        name: str = "CTS500",
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
        uploading_at_power_on: bool = False,
        firmware: bytes = bytes((1, 3, 7)),
        battery_cv: int = 395,
    ):
        super().__init__(participant, address, name, cts.NOMINAL_RATE_HZ, gain_error, offset_n, inject_every)
        self.uploading_at_power_on = uploading_at_power_on
        self.firmware = firmware
        self.battery_cv = battery_cv
        self.log: list[tuple[str, float]] = []

    def peripheral_spec(self) -> PeripheralSpec:
        return self.uart_peripheral_spec(cts.SERVICE_UUID, cts.WRITE_UUID)

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        peripheral = super().attach(bluez)
        if self.uploading_at_power_on:
            self.start_stream()
        return peripheral

    def on_link_down(self) -> None:
        self.log.append(("disconnect", self.device_time()))  # and it keeps uploading

    def _on_write(self, data: bytes, with_response: bool) -> None:
        self.commands.append(bytes(data))
        if len(data) != cts.ACK_LEN or data[0] != cts.HEADER or cts.checksum(data[:5]) != data[5]:
            return
        op = data[1]
        if op == cts.OP_START:
            self.start_stream()
        elif op == cts.OP_STOP:
            self.log.append(("stop", self.device_time()))
            self.stop_stream()
            self.later(self.send_bytes, bytes(data))
        elif op == cts.OP_TARE:
            self.tare_now()
            kg = float(self.measured_n(np.array([self.device_time()]))[0]) / KGF_N
            self.later(self.send_bytes, cts.weight_frame(kg))
        elif op == cts.OP_SET_RATE and data[4] in _RATE_BY_CODE:
            self.rate_hz = _RATE_BY_CODE[data[4]]
            self.later(self.send_bytes, bytes(data))
        elif op == cts.OP_ZERO:
            self.later(self.send_bytes, bytes(data))
        elif op == cts.OP_FIRMWARE:
            self.later(self.send_bytes, cts.response_frame(op, self.firmware))
        elif op == cts.OP_BATTERY:
            self.later(
                self.send_bytes,
                cts.response_frame(op, bytes((0, self.battery_cv >> 8, self.battery_cv & 0xFF))),
            )
        elif op == cts.OP_TEMPERATURE:
            self.later(self.send_bytes, cts.response_frame(op, bytes((0, 0, 23))))

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        kg = np.round(values_n / KGF_N, 2)
        return [cts.weight_frame(float(v)) for v in kg], kg.tolist()

    def malformed(self) -> bytes:
        frame = bytearray(cts.weight_frame(12.34))
        frame[-1] ^= 0x5A
        return bytes(frame)


async def open_sim(url: DeviceURL) -> Device:
    """``sim://cts500?seed=1&peak_n=300&uploading_at_power_on=0&inject_every=0``: an emulated CTS500."""
    params, name = url.params, Cts500Emulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = Cts500Emulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "A4:C1:38:00:05:00"),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
        inject_every=int(p("inject_every", 0)),
        uploading_at_power_on=bool(p("uploading_at_power_on", 0)),
    )
    return await open_ble_sim(emulator, lambda tr: Cts500Driver(tr, url=name), url)
