"""Emulated DIY grip dynamometer on the standard BLE Weight Scale profile (``sim://weightscale``).

An ESP32 + HX711 build as in fbuttner/ForceGrip: service ``0x181D``, Weight
Measurement ``0x2A9D`` indicated at ``rate_hz`` (default 10 Hz) while the host
has indications on, SI units (0.005 kg resolution), with the Weight Scale
Feature characteristic ``0x2A9E`` readable. The load cell is not zeroed
(``offset_n``): the host tares. A reading below zero cannot be sent (the
field is unsigned): it is sent as 0. ``inject_every=k`` indicates a value
cut short before every k-th measurement.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import ble_weight_scale as ws
from ...devices.device import Device
from ...devices.drivers.ble_weight_scale import WeightScaleDriver
from ...devices.registry import DeviceURL
from ...units import KGF_N
from ..bluez.fakebluez import FakeBlueZ, GattCharacteristic, GattService, Peripheral, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator


class WeightScaleEmulator(ForceBleEmulator):
    protocol = "ble-weight-scale"
    sim_name = "sim://weightscale"
    notify_uuid = ws.WEIGHT_MEASUREMENT_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "24:6F:28:00:18:1D",
        name: str = "ForceGrip",
        rate_hz: float = 10.0,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
    ):
        super().__init__(participant, address, name, rate_hz, gain_error, offset_n, inject_every, tick_s=0.1)

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            advertised_uuids=[ws.SERVICE_UUID],
            services=[
                GattService(
                    ws.SERVICE_UUID,
                    [
                        GattCharacteristic(ws.WEIGHT_MEASUREMENT_UUID, ("indicate",)),
                        GattCharacteristic(ws.WEIGHT_FEATURE_UUID, ("read",), value=bytes(4)),
                    ],
                )
            ],
        )

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        peripheral = super().attach(bluez)
        peripheral.on_connect.append(lambda: self.start_stream(wait_subscribed=True))
        return peripheral

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        kg = np.maximum(np.round(values_n / KGF_N / ws.KG_PER_UNIT), 0) * ws.KG_PER_UNIT
        return [ws.weight_measurement(float(v)) for v in kg], kg.tolist()

    def malformed(self) -> bytes:
        return ws.weight_measurement(12.5)[:2]

    def deliver(self, messages: list[bytes]) -> bool:
        p = self.peripheral
        ok = True
        for msg in messages:  # one indication per measurement
            ok = p is not None and p.notify(self.notify_uuid, msg) and ok
        return ok


async def open_sim(url: DeviceURL) -> Device:
    """``sim://weightscale?seed=1&peak_n=300&offset_n=20&rate_hz=10``: a DIY Weight Scale grip."""
    params, name = url.params, WeightScaleEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = WeightScaleEmulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "24:6F:28:00:18:1D"),
        rate_hz=p("rate_hz", 10.0),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
        inject_every=int(p("inject_every", 0)),
    )
    return await open_ble_sim(emulator, lambda tr: WeightScaleDriver(tr, url=name), url)
