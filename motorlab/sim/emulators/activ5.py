"""Emulated Activbody Activ5 on the emulated BlueZ (``sim://activ5``).

Speaks what :mod:`motorlab.devices.codecs.activ5` decodes: commands
``0x41 <text> 0x19`` on the write characteristic; ``TVGTIME`` is answered
with a text line (the real answer's layout is not published: the emulator
sends ``TVG<firmware>``), ``ISOM!`` streams ``IS<integer N>/IS`` at 10 Hz,
``TARE!`` zeroes, ``STOP!`` stops.

**The duplicate-samples fault** (bretthannigan/activ5-app README): after n
stop/restart cycles every reading is delivered n+1 times, at the same instant,
until the device is paired again (here: until the link drops). ``restart_fault=0``
turns it off. ``inject_every=k`` sends ``IS1x/IS`` (malformed) before every
k-th reading.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import activ5 as a5
from ...devices.device import Device
from ...devices.drivers.activ5 import Activ5Driver
from ...devices.registry import DeviceURL
from ..bluez.fakebluez import PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator


class Activ5Emulator(ForceBleEmulator):
    protocol = "activ5"
    sim_name = "sim://activ5"
    notify_uuid = a5.NOTIFY_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "D0:5F:B8:00:00:A5",
        name: str = "ACTIV5-00A5",
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
        restart_fault: bool = True,
        firmware: str = "1.0.7",
    ):
        super().__init__(
            participant, address, name, a5.NOMINAL_RATE_HZ, gain_error, offset_n, inject_every, tick_s=0.1
        )
        self.restart_fault = restart_fault
        self.firmware = firmware
        #: stop/restart cycles since the link came up (each adds one copy of every reading)
        self.restarts = 0
        self.copies_sent = 0

    def peripheral_spec(self) -> PeripheralSpec:
        return self.uart_peripheral_spec(a5.SERVICE_UUID, a5.WRITE_UUID, advertise=True)

    def _on_write(self, data: bytes, with_response: bool) -> None:
        self.commands.append(bytes(data))
        if len(data) < 2 or data[0] != a5.WRAP_START or data[-1] != a5.WRAP_END:
            return
        text = data[1:-1].decode("ascii", "replace")
        if text == a5.CMD_HANDSHAKE:
            self.later(self.send_bytes, b"TVG" + self.firmware.encode())
        elif text == a5.CMD_START:
            if self.streams and not self.streaming:
                self.restarts += 1
            self.start_stream()
        elif text == a5.CMD_STOP:
            self.stop_stream()
        elif text == a5.CMD_TARE:
            self.tare_now()

    def on_link_down(self) -> None:
        self.stop_stream()
        self.restarts = 0  # a new pairing clears the fault
        self.streams = 0

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        return [a5.reading_message(float(v)) for v in values_n], [float(round(float(v))) for v in values_n]

    def malformed(self) -> bytes:
        return b"IS1x/IS"

    def deliver(self, messages: list[bytes]) -> bool:
        """One notification per tick, repeated once per stop/restart cycle (the fault)."""
        p = self.peripheral
        if p is None:
            return False
        payload = b"".join(messages)
        ok = p.notify(self.notify_uuid, payload)
        for _ in range(self.restarts if self.restart_fault else 0):
            if p.notify(self.notify_uuid, payload):
                self.copies_sent += 1
        return ok


async def open_sim(url: DeviceURL) -> Device:
    """``sim://activ5?seed=1&peak_n=250&restart_fault=1&inject_every=0``: an emulated Activ5."""
    params, name = url.params, Activ5Emulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = Activ5Emulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "D0:5F:B8:00:00:A5"),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
        inject_every=int(p("inject_every", 0)),
        restart_fault=bool(p("restart_fault", 1)),
    )
    return await open_ble_sim(emulator, lambda tr: Activ5Driver(tr, url=name), url)
