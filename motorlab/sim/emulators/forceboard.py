"""Emulated PitchSix Force Board on the emulated BlueZ (``sim://forceboard``).

Speaks what :mod:`motorlab.devices.codecs.forceboard` decodes: the weight
service's Device Mode characteristic (``04`` stream, ``05`` tare, ``06``
quick start, ``07`` idle), the Force Board service's force characteristic
notifying ``u16 count + count x 3-byte lb`` (whole pounds, as the reference
reads 1 lb per count), a tare characteristic (``01``), and the standard
Battery Level. The rate is not documented; the emulator samples at 80 Hz and
sends the samples of each 50 ms tick in one notification.
``inject_every=k`` sends a notification whose count field disagrees with its
length before every k-th one.
"""

from __future__ import annotations

import numpy as np

from ...devices.codecs import forceboard as fb
from ...devices.device import Device
from ...devices.drivers.forceboard import ForceBoardDriver
from ...devices.registry import DeviceURL
from ...units import LBF_N
from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"


class ForceBoardEmulator(ForceBleEmulator):
    protocol = "forceboard"
    sim_name = "sim://forceboard"
    notify_uuid = fb.FORCE_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "E8:9F:6D:00:0F:B0",
        name: str = "Force Board 0FB0",
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        inject_every: int = 0,
        battery_percent: int = 76,
    ):
        super().__init__(participant, address, name, 80.0, gain_error, offset_n, inject_every, chunk=244)
        self.battery_percent = battery_percent

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=247,
            advertised_uuids=[fb.FORCEBOARD_SERVICE_UUID],
            services=[
                GattService(
                    fb.WEIGHT_SERVICE_UUID,
                    [
                        GattCharacteristic(
                            fb.MODE_UUID, ("write", "write-without-response"), on_write=self._on_mode
                        )
                    ],
                ),
                GattService(
                    fb.FORCEBOARD_SERVICE_UUID,
                    [
                        GattCharacteristic(fb.FORCE_UUID, ("notify",)),
                        GattCharacteristic(fb.TARE_UUID, ("write",), on_write=self._on_tare),
                        GattCharacteristic(fb.THRESHOLD_UUID, ("write",)),
                    ],
                ),
                GattService(
                    BATTERY_SERVICE_UUID,
                    [
                        GattCharacteristic(
                            fb.BATTERY_LEVEL_UUID, ("read",), value=bytes((self.battery_percent,))
                        )
                    ],
                ),
            ],
        )

    def _on_mode(self, data: bytes, with_response: bool) -> None:
        self.commands.append(bytes(data))
        if data[:1] == bytes((fb.MODE_STREAM,)):
            self.start_stream()
        elif data[:1] == bytes((fb.MODE_IDLE,)):
            self.stop_stream()
        elif data[:1] == bytes((fb.MODE_TARE,)):
            self.tare_now()

    def _on_tare(self, data: bytes, with_response: bool) -> None:
        self.commands.append(bytes(data))
        if data[:1] == b"\x01":
            self.tare_now()

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        lb = np.round(values_n / LBF_N).astype(int)
        return [fb.force_notification(lb.tolist())], lb.astype(float).tolist()

    def malformed(self) -> bytes:
        return fb.force_notification([1, 2, 3])[:-2]

    def deliver(self, messages: list[bytes]) -> bool:
        p = self.peripheral
        ok = True
        for msg in messages:  # each is one notification (a datagram)
            ok = p is not None and p.notify(self.notify_uuid, msg) and ok
        return ok


async def open_sim(url: DeviceURL) -> Device:
    """``sim://forceboard?seed=1&peak_n=300&inject_every=0``: an emulated Force Board."""
    params, name = url.params, ForceBoardEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = ForceBoardEmulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "E8:9F:6D:00:0F:B0"),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
        inject_every=int(p("inject_every", 0)),
    )
    return await open_ble_sim(emulator, lambda tr: ForceBoardDriver(tr, url=name), url)
