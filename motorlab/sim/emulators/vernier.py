"""Emulated Vernier Go Direct Hand Dynamometer (GDX-HD) on the emulated BlueZ.

Speaks the Go Direct BLE protocol (see :mod:`motorlab.devices.codecs.vernier`):
command frames arrive in writes of up to 20 bytes and are joined by their
length byte and checked (checksum); replies and measurement frames are cut
into 20-byte notifications. While measuring, sensor 1 (force, N) is sampled
from a :class:`GripParticipant` every ``period`` (set by the host) on the
device clock; each tick sends the samples due, several per NORMAL_REAL32
frame. The reading is ``force x (1 + gain_error) + offset_n``: the real
device cannot be zeroed, so a nonzero ``offset_n`` must be removed on the host.

``sent`` logs every delivered sample (stream number, sample index, value).
"""

from __future__ import annotations

import asyncio
import struct

import numpy as np

from ...devices.codecs import vernier as vd
from ...devices.device import Device
from ...devices.drivers.vernier import VernierDriver
from ...devices.registry import DeviceURL
from ...devices.spec import device
from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import GripParticipant, grip_participant_from_params
from .ble import BleEmulator, open_ble_sim, sim_param

FORCE_SENSOR = vd.SensorInfo(
    number=1,
    sensor_id=5720,
    numeric_type=0,
    sampling_mode=0,
    description="Force",
    unit="N",
    min_value=-100.0,
    max_value=850.0,
    min_period_us=1_000,
    typical_period_us=int(round(1e6 / device("gdxhd").nominal_rate_hz)),
)


class GdxHdEmulator(BleEmulator):
    protocol = "vernier"
    sim_name = "sim://gdxhd"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        address: str = "E8:2A:44:00:00:01",
        serial: str = "151000C1",
        firmware: tuple[int, int, int] = (1, 5, 43),
        battery_percent: int = 87,
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        tick_s: float = 0.05,
        max_samples_per_frame: int = 12,
    ):
        super().__init__(address, f"GDX-HD {serial}")
        self.participant = participant or GripParticipant()
        self.serial = serial
        self.firmware = firmware
        self.battery_percent = battery_percent
        self.gain_error = gain_error
        self.offset_n = offset_n
        self.tick_s = tick_s
        self.max_samples_per_frame = max_samples_per_frame
        self.period_us = FORCE_SENSOR.typical_period_us
        self.streaming = False
        self.streams = 0
        self.bad_frames = 0
        self.commands: list[int] = []
        self._inbox = bytearray()
        self._reply_counter = 0
        self._sent: list[np.ndarray] = []  # rows: stream, index, value

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=23,
            services=[
                GattService(
                    vd.SERVICE_UUID,
                    [
                        GattCharacteristic(
                            vd.COMMAND_UUID, ("write-without-response", "write"), on_write=self._on_write
                        ),
                        GattCharacteristic(vd.RESPONSE_UUID, ("notify",)),
                    ],
                )
            ],
        )

    # -- output ---------------------------------------------------------------------
    def _send(self, frame: bytes) -> bool:
        """Send a frame as 20-byte notifications; True when all were delivered."""
        assert self.peripheral is not None
        return all(
            self.peripheral.notify(vd.RESPONSE_UUID, frame[i : i + 20]) for i in range(0, len(frame), 20)
        )

    def _reply(self, command: int, counter: int, payload: bytes = b"") -> None:
        self._reply_counter = (self._reply_counter + 1) & 0xFF
        self._send(vd.reply_frame(command, counter, payload, self._reply_counter))

    # -- input ------------------------------------------------------------------------
    def _on_write(self, data: bytes, with_response: bool) -> None:
        self._inbox += data
        while len(self._inbox) >= 2:
            if self._inbox[0] != vd.HEADER or self._inbox[1] < 5:
                del self._inbox[0]
                self.bad_frames += 1
                continue
            length = self._inbox[1]
            if len(self._inbox) < length:
                return
            frame, self._inbox = bytes(self._inbox[:length]), self._inbox[length:]
            if vd.checksum(frame) != frame[3]:
                self.bad_frames += 1
                continue
            self.later(self._execute, frame[4], frame[2], frame[5:])

    def _execute(self, command: int, counter: int, params: bytes) -> None:
        self.commands.append(command)
        if command == vd.CMD_INIT:
            self._stop_stream()
            self._reply(command, counter)
        elif command == vd.CMD_GET_STATUS:
            maj, mnr, build = self.firmware
            payload = (
                bytes((0, 0, maj, mnr)) + struct.pack("<H", build) + bytes((1, 2)) + struct.pack("<H", 9)
            )
            self._reply(command, counter, payload + bytes((self.battery_percent, 0)))
        elif command == vd.CMD_GET_DEVICE_INFO:
            fields = [
                b"GDX-HD".ljust(16, b"\0"),
                self.serial.encode().ljust(16, b"\0"),
                self.name.encode().ljust(32, b"\0"),
            ]
            self._reply(command, counter, b"".join(fields) + bytes(16))
        elif command in (vd.CMD_GET_DEFAULT, vd.CMD_GET_AVAILABLE):
            self._reply(command, counter, struct.pack("<I", 1 << FORCE_SENSOR.number))
        elif command == vd.CMD_GET_SENSOR_INFO:
            if params[:1] == bytes((FORCE_SENSOR.number,)):
                self._reply(command, counter, vd.sensor_info_payload(FORCE_SENSOR))
            else:
                self._reply(command, counter, bytes(vd._SENSOR_INFO.size))  # sensor ID 0 = none
        elif command == vd.CMD_SET_PERIOD and len(params) >= 6:
            self.period_us = max(FORCE_SENSOR.min_period_us, struct.unpack_from("<I", params, 2)[0])
            self._reply(command, counter)
        elif command == vd.CMD_START:
            mask = struct.unpack_from("<I", params, 2)[0] if len(params) >= 6 else 0
            self._reply(command, counter)
            if mask & (1 << FORCE_SENSOR.number):
                self._start_stream()
        elif command == vd.CMD_STOP:
            self._stop_stream()
            self._reply(command, counter)
        else:
            self._reply(command, counter)

    # -- streaming ----------------------------------------------------------------------
    def _start_stream(self) -> None:
        self.cancel_tasks()
        self.streaming = True
        self.streams += 1
        self.spawn(self._stream(self.streams, self.device_time(), self.period_us * 1e-6))

    def _stop_stream(self) -> None:
        self.streaming = False
        self.cancel_tasks()

    def on_link_down(self) -> None:
        self._stop_stream()
        self._inbox.clear()

    async def _stream(self, stream_no: int, t_start: float, period: float) -> None:
        assert self.peripheral is not None
        k, packets = 0, 0
        mask = 1 << FORCE_SENSOR.number
        while True:
            due = int((self.device_time() - t_start) / period) + 1
            if due > k:
                idx = np.arange(k, due)
                values = (
                    self.participant.force(t_start + idx * period) * (1.0 + self.gain_error) + self.offset_n
                )
                values = values.astype(np.float32)
                for a in range(0, idx.size, self.max_samples_per_frame):
                    sl = slice(a, a + self.max_samples_per_frame)
                    packets += 1
                    if self._send(vd.measurement_frame(values[sl, None], mask, packets)):
                        self._sent.append(
                            np.column_stack([np.full(idx[sl].size, stream_no), idx[sl], values[sl]])
                        )
                k = due
                await self.peripheral.flush()
            await asyncio.sleep(self.tick_s)

    @property
    def sent(self) -> np.ndarray:
        """(n, 3) rows of every delivered sample: stream number, sample index, value (N, float32)."""
        return np.concatenate(self._sent) if self._sent else np.zeros((0, 3))


async def open_sim(url: DeviceURL) -> Device:
    """``sim://gdxhd?seed=1&peak_n=300&offset_n=0&rate_hz=...``: an emulated GDX-HD."""
    params, name = url.params, GdxHdEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    participant = grip_participant_from_params(params, name)
    emulator = GdxHdEmulator(
        participant,
        address=params.get("address", "E8:2A:44:00:00:01"),
        gain_error=p("gain_error", 0.0),
        offset_n=p("offset_n", 0.0),
    )
    dev = await open_ble_sim(emulator, lambda tr: VernierDriver(tr, url=name), url)
    if "rate_hz" in params:
        try:
            await dev.driver.set_rate(p("rate_hz", 10.0))
        except BaseException:
            await dev.close()
            raise
    return dev
