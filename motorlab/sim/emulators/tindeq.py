"""Emulated Tindeq Progressor: a BLE peripheral of the emulated BlueZ.

Speaks the Progressor protocol (see :mod:`motorlab.devices.codecs.tindeq`):
opcodes on the control point, TLV frames on the data point. While streaming
it samples a :class:`GripParticipant` every 12.5 ms (80 Hz) on its device
clock and sends the samples due at each tick (every ``tick_s``, several per
notification) as float32 kg with uint32 µs stream timestamps. The measured
value is ``(force x (1 + gain_error) + offset_n - tare) / g``. Tare (0x64)
takes the current reading as zero, and only while streaming, like the real
device.

``sent`` logs every sample actually delivered (stream number, µs, kg) so tests
can check that nothing received before a link loss went missing.
"""

from __future__ import annotations

import asyncio

import numpy as np

from ...devices.codecs import tindeq as tq
from ...devices.device import Device
from ...devices.drivers.tindeq import TindeqDriver
from ...devices.registry import DeviceURL
from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import BleEmulator, open_ble_sim, sim_param


class ProgressorEmulator(BleEmulator):
    protocol = "tindeq"
    sim_name = "sim://progressor"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "F4:12:FA:00:00:01",
        name: str = "Progressor_7361",
        firmware: str = "1.2.4",
        device_id: bytes = bytes.fromhex("0a1b2c3d4e5f"),
        battery_mv: int = 3950,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        tick_s: float = 0.05,
        max_samples_per_frame: int = 8,
    ):
        super().__init__(address, name)
        self.participant = participant or GripParticipant()
        self.firmware = firmware
        self.device_id = device_id
        self.battery_mv = battery_mv
        self.gain_error = gain_error
        self.offset_n = offset_n
        self.tick_s = tick_s
        self.max_samples_per_frame = max_samples_per_frame
        self.tare_n = 0.0
        self.streaming = False
        self.streams = 0  # number of times a stream was started
        self.commands: list[int] = []
        self._sent: list[np.ndarray] = []  # rows: stream, µs, kg

    # -- GATT ---------------------------------------------------------------------
    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=247,
            services=[
                GattService(
                    tq.SERVICE_UUID,
                    [
                        GattCharacteristic(tq.DATA_UUID, ("notify",)),
                        GattCharacteristic(
                            tq.CONTROL_UUID, ("write", "write-without-response"), on_write=self._on_write
                        ),
                    ],
                )
            ],
        )

    def _reply(self, value: bytes) -> None:
        if self.peripheral is not None:
            self.peripheral.notify(tq.DATA_UUID, tq.reply_frame(value))

    def _on_write(self, data: bytes, with_response: bool) -> None:
        if not data:
            return
        op = data[0]  # a bare opcode, or opcode + length + value
        self.commands.append(op)
        if op == tq.OP_START:
            self._start_stream()
        elif op == tq.OP_STOP:
            self._stop_stream()
        elif op == tq.OP_TARE:
            if self.streaming:  # the real device only tares while measuring
                self.tare_n += float(self._measured_n(np.array([self.device_time()]))[0])
        elif op == tq.OP_FIRMWARE:
            self.later(self._reply, self.firmware.encode("ascii"))
        elif op == tq.OP_BATTERY:
            self.later(self._reply, int(self.battery_mv).to_bytes(4, "little"))
        elif op == tq.OP_DEVICE_ID:
            self.later(self._reply, self.device_id)

    # -- streaming ------------------------------------------------------------------
    def _measured_n(self, t: np.ndarray) -> np.ndarray:
        return self.participant.force(t) * (1.0 + self.gain_error) + self.offset_n - self.tare_n

    def _start_stream(self) -> None:
        self.cancel_tasks()
        self.streaming = True
        self.streams += 1
        self.spawn(self._stream(self.streams, self.device_time()))

    def _stop_stream(self) -> None:
        self.streaming = False
        self.cancel_tasks()

    def on_link_down(self) -> None:
        self._stop_stream()

    async def _stream(self, stream_no: int, t_start: float) -> None:
        assert self.peripheral is not None
        period = tq.PERIOD_US * 1e-6
        k = 0
        while True:
            due = int((self.device_time() - t_start) / period) + 1
            if due > k:
                idx = np.arange(k, due)
                t = t_start + idx * period
                kg = (self._measured_n(t) / tq.G_MS2).astype(np.float32)
                us = idx * tq.PERIOD_US
                for a in range(0, idx.size, self.max_samples_per_frame):
                    sl = slice(a, a + self.max_samples_per_frame)
                    if self.peripheral.notify(tq.DATA_UUID, tq.weight_frame(kg[sl], us[sl])):
                        n = kg[sl].size
                        self._sent.append(np.column_stack([np.full(n, stream_no), us[sl], kg[sl]]))
                k = due
                await self.peripheral.flush()
            await asyncio.sleep(self.tick_s)

    @property
    def sent(self) -> np.ndarray:
        """(n, 3) rows of every delivered sample: stream number, µs, kg (float32 value)."""
        return np.concatenate(self._sent) if self._sent else np.zeros((0, 3))


async def open_sim(url: DeviceURL) -> Device:
    """``sim://progressor?seed=1&peak_n=300&gain_error=0&offset_n=0``: an emulated Progressor."""
    params, name = url.params, ProgressorEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    participant = grip_participant_from_params(params, name)
    emulator = ProgressorEmulator(
        participant,
        address=params.get("address", "F4:12:FA:00:00:01"),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
    )
    return await open_ble_sim(emulator, lambda tr: TindeqDriver(tr, url=name), url)
