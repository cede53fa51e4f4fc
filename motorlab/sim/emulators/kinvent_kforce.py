"""Emulated Kinvent K-Force sensor (a K-Pull by default) on the emulated BlueZ (``sim://kforce``).

Speaks what :mod:`motorlab.devices.codecs.kinvent` decodes (reverse-engineered):
a Microchip transparent-UART service whose one characteristic notifies
17-byte frames ``FF FF FE``, u16 counter (ms, wrapping), four signed 24-bit
raw channels, and takes single-byte commands: ``0x11`` sampling on, ``0x10``
off, ``0x21`` coefficient (6 ASCII digits, kg per count x 1e6, derived from
the K-Grip), ``FF`` keep-alive; the init bytes of the official app are
accepted and logged. At ``rate_hz`` (default 75 Hz) the load goes on channel
1 (``load_channels`` spreads it over several, as on a plate); channels carry
fixed zero offsets. **Keep-alive**: without any write for
``keepalive_timeout_s`` (default 12 s) the sensor drops the link.
``skip_every=k`` loses every k-th frame and ``repeat_every=k`` sends every
k-th frame twice (counter gaps and duplicates); ``inject_every=k`` sends a run
of bytes that is no frame.
"""

from __future__ import annotations

import asyncio

import numpy as np

from ...devices.codecs import kinvent as kv
from ...devices.device import Device
from ...devices.drivers.kinvent_kforce import KForceDriver
from ...devices.registry import DeviceURL
from ...units import STANDARD_GRAVITY
from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import open_ble_sim, sim_param
from .clinic_ble import ForceBleEmulator

ZERO_COUNTS = (8123, -2210, 513, 40)


class KForceEmulator(ForceBleEmulator):
    protocol = "kinvent-kforce"
    sim_name = "sim://kforce"
    notify_uuid = kv.KFORCE_UART_UUID

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "00:1E:C0:00:4B:01",
        name: str = "KFORCELink-4B01",
        rate_hz: float = 75.0,
        kg_per_count: float = 1 / kv.KPULL_COUNTS_PER_KG,
        gain_error: float = 0.0,
        load_channels: int = 1,
        keepalive_timeout_s: float = 12.0,
        skip_every: int = 0,
        repeat_every: int = 0,
        inject_every: int = 0,
    ):
        super().__init__(participant, address, name, rate_hz, 0.0, 0.0, inject_every, chunk=244)
        self.reported_kg_per_count = round(kg_per_count * 1e6) / 1e6
        self.true_kg_per_count = self.reported_kg_per_count / (1.0 + gain_error)
        self.load_channels = max(1, min(4, int(load_channels)))
        self.keepalive_timeout_s = keepalive_timeout_s
        self.skip_every, self.repeat_every = int(skip_every), int(repeat_every)
        self.skipped = self.repeated = 0
        self.keepalives = 0
        self.link_drops = 0
        self._frames = 0
        self._last_write = 0.0

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=247,
            services=[
                GattService(
                    kv.KFORCE_SERVICE_UUID,
                    [
                        GattCharacteristic(
                            kv.KFORCE_UART_UUID,
                            ("notify", "write", "write-without-response"),
                            on_write=self._on_write,
                        )
                    ],
                )
            ],
        )

    def _on_write(self, data: bytes, with_response: bool) -> None:
        self.commands.append(bytes(data))
        self._last_write = self.device_time()
        if data == bytes((kv.OP_SAMPLING_ON,)):
            if not self.streaming:
                self.start_stream()
        elif data == bytes((kv.OP_SAMPLING_OFF,)):
            self.stop_stream()
        elif data == bytes((kv.OP_GET_COEFFICIENT,)):
            digits = f"{round(self.reported_kg_per_count * 1e6):06d}".encode()
            self.later(self.send_bytes, digits)
        elif data == bytes((kv.OP_KEEP_ALIVE,)):
            self.keepalives += 1

    def start_stream(self, wait_subscribed: bool = False) -> None:
        super().start_stream(wait_subscribed)
        self.spawn(self._watchdog())

    def on_link_down(self) -> None:
        self.stop_stream()

    async def _watchdog(self) -> None:
        """Drop a host that stopped sending keep-alives."""
        self._last_write = max(self._last_write, self.device_time())
        while True:
            await asyncio.sleep(0.05)
            if self.device_time() - self._last_write > self.keepalive_timeout_s:
                self.link_drops += 1
                self.drop_link()
                return

    def encode_samples(self, values_n: np.ndarray, t: np.ndarray) -> tuple[list[bytes], list[float]]:
        counts = values_n / STANDARD_GRAVITY / self.true_kg_per_count
        out: list[bytes] = []
        sent: list[float] = []
        for ti, c in zip(t, counts):
            self._frames += 1
            share = [c / self.load_channels if k < self.load_channels else 0.0 for k in range(4)]
            raw = tuple(int(round(z + s)) for z, s in zip(ZERO_COUNTS, share))
            frame = kv.kforce_frame(int(round(ti * 1000)) & 0xFFFF, (raw[0], raw[1], raw[2], raw[3]))
            sent.append(float(sum(raw)))
            if self.skip_every and self._frames % self.skip_every == 0:
                self.skipped += 1
                sent[-1] = float("nan")  # lost on the way: never delivered
                continue
            out.append(frame)
            if self.repeat_every and self._frames % self.repeat_every == 0:
                out.append(frame)
                self.repeated += 1
        return out, sent

    def malformed(self) -> bytes:
        return b"\x01\x02\x03"

    def deliver(self, messages: list[bytes]) -> bool:
        p = self.peripheral
        ok = True
        for msg in messages:  # one frame per notification
            ok = p is not None and p.notify(self.notify_uuid, msg) and ok
        return ok


async def open_sim(url: DeviceURL) -> Device:
    """``sim://kforce?seed=1&peak_n=300&gain_error=0&skip_every=0&repeat_every=0``: an emulated K-Pull."""
    params, name = url.params, KForceEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = KForceEmulator(
        grip_participant_from_params(params, name),
        address=params.get("address", "00:1E:C0:00:4B:01"),
        rate_hz=p("rate_hz", 75.0),
        gain_error=p("gain_error", 0.0),
        load_channels=int(p("load_channels", 1)),
        keepalive_timeout_s=p("keepalive_timeout_s", 12.0),
        skip_every=int(p("skip_every", 0)),
        repeat_every=int(p("repeat_every", 0)),
        inject_every=int(p("inject_every", 0)),
    )
    return await open_ble_sim(emulator, lambda tr: KForceDriver(tr, url=name), url)
