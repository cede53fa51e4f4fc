"""Emulated Jamar Smart hand dynamometer on the emulated BlueZ (``sim://jamar``).

Speaks what :mod:`motorlab.devices.codecs.jamar` decodes: the Nordic UART
service, ``::VAL 1,<lb>`` with one decimal, CR LF, streamed as soon as the
host enables notifications on TX, at ``rate_hz`` (the real rate is not
documented; default 10 Hz), never below 0 lb and clipped at the 200 lb range.
Messages are cut into 20-byte notifications like the UART bridge does
(``chunk``), so a message may be split across two. ``inject_every=k`` sends
``::VAL 1,x`` (malformed) and ``::BAT 87`` (a message of an unknown kind)
alternately before every k-th reading.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import jamar as jm
from ...devices.device import Device
from ...devices.drivers.jamar import JamarDriver
from ...devices.registry import DeviceURL
from ...units import LBF_N
from ..bluez.fakebluez import FakeBlueZ, Peripheral, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator


class JamarEmulator(ForceBleEmulator):
    protocol = "jamar"
    sim_name = "sim://jamar"
    notify_uuid = jm.TX_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "C8:2E:47:00:00:0A",
        name: str = "Jamar Smart 0A",
        rate_hz: float = 10.0,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
    ):
        super().__init__(participant, address, name, rate_hz, gain_error, offset_n, inject_every)

    def peripheral_spec(self) -> PeripheralSpec:
        return self.uart_peripheral_spec(jm.SERVICE_UUID, jm.RX_UUID)  # writes: none documented

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        peripheral = super().attach(bluez)
        peripheral.on_connect.append(lambda: self.start_stream(wait_subscribed=True))
        return peripheral

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        lb = np.clip(np.round(values_n / LBF_N, 1), 0.0, jm.RANGE_LB)
        return [jm.val_message(float(v)) for v in lb], lb.tolist()

    def malformed(self) -> bytes:
        return b"::VAL 1,x\r\n" if self.injected % 2 == 0 else b"::BAT 87\r\n"


async def open_sim(url: DeviceURL) -> Device:
    """``sim://jamar?seed=1&peak_n=300&rate_hz=10&inject_every=0``: an emulated Jamar Smart."""
    params, name = url.params, JamarEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = JamarEmulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "C8:2E:47:00:00:0A"),
        rate_hz=p("rate_hz", 10.0),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
        inject_every=int(p("inject_every", 0)),
    )
    return await open_ble_sim(emulator, lambda tr: JamarDriver(tr, url=name), url)
