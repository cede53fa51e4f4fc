"""Emulated WitMotion WT901BLE on the emulated BlueZ, driven by a TremorParticipant.

Streams one 20-byte ``55 61`` frame per notification at the RRATE output rate
(10 Hz after power-on), values from :class:`TremorParticipant` on the device
clock plus sensor errors: ``acc = acc_true x (1 + acc_scale) + acc_bias``,
``gyro = gyro_true + gyro_bias``. Commands are parsed as 5-byte
``FF AA reg lo hi``; writes need the unlock first; ``FF AA 27 reg 00`` is
answered with a ``55 71`` frame (RRATE 0x03, version 0x2E, battery 0x64).
Accelerometer/gyro calibration (CALSW 1 ... 0) measures the mean error over
the samples produced meanwhile, assuming the sensor lies level (z up) and
still, and subtracts it from then on — like the real device.

``sent`` logs every delivered frame (stream number, sample index, 9 raw int16).
"""

from __future__ import annotations

import asyncio

import numpy as np

from ...devices.codecs import witmotion_ble as wb
from ...devices.codecs.witmotion import (
    CAL_ACC_GYRO,
    CAL_NORMAL,
    KEY_UNLOCK,
    RATE_CODES,
    REG_CALSW,
    REG_KEY,
    REG_READ,
    REG_RRATE,
    REG_SAVE,
    REG_VERSION,
    UNLOCK,
    rate_code,
)
from ...devices.device import Device
from ...devices.drivers.witmotion_ble import WitMotionBleDriver
from ...devices.registry import DeviceURL
from ...devices.spec import device
from ...errors import DeviceError
from ...units import STANDARD_GRAVITY as G_MS2
from ..bluez.fakebluez import GattCharacteristic, GattService, PeripheralSpec
from ..participants import TremorParticipant
from .ble import BleEmulator, open_ble_sim, sim_param

#: a host command is ``FF AA reg lo hi``; the codec owns the format (``command_bytes``)
COMMAND_HEAD, COMMAND_LEN = UNLOCK[:2], len(UNLOCK)


def _vector(value: float | tuple[float, float, float] | np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (3,)).copy()


class Wt901BleEmulator(BleEmulator):
    protocol = "witmotion-ble"
    sim_name = "sim://wt901ble"
    participant: TremorParticipant

    def __init__(
        self,
        participant: TremorParticipant | None = None,
        address: str = "D6:3B:1E:00:00:01",
        name: str = "WT901BLE68",
        version: int = 0x1F6C,
        battery_cv: int = 392,
        acc_bias: float | tuple[float, float, float] = 0.0,
        acc_scale: float | tuple[float, float, float] = 0.0,
        gyro_bias: float | tuple[float, float, float] = 0.0,
        tick_s: float = 0.02,
    ):
        super().__init__(address, name)
        self.participant = participant or TremorParticipant()
        self.registers = {
            REG_RRATE: rate_code(device("wt901ble").nominal_rate_hz),  # after power-up
            REG_VERSION: version,
            wb.REG_BATTERY_BLE: battery_cv,
        }
        self.acc_bias = _vector(acc_bias)
        self.acc_scale = _vector(acc_scale)
        self.gyro_bias = _vector(gyro_bias)
        self.acc_offset = np.zeros(3)  # stored by calibration
        self.gyro_offset = np.zeros(3)
        self.tick_s = tick_s
        self.unlocked = False
        self.calibrating = False
        self.streams = 0
        self.commands: list[bytes] = []
        self._cal: list[tuple[np.ndarray, np.ndarray]] = []
        self._inbox = bytearray()
        self._sent: list[np.ndarray] = []

    @property
    def rate_hz(self) -> float:
        return RATE_CODES.get(self.registers[REG_RRATE], 0.0)

    def peripheral_spec(self) -> PeripheralSpec:
        return PeripheralSpec(
            address=self.address,
            name=self.name,
            mtu=23,
            services=[
                GattService(
                    wb.SERVICE_UUID,
                    [
                        GattCharacteristic(wb.NOTIFY_UUID, ("notify",)),
                        GattCharacteristic(
                            wb.WRITE_UUID, ("write", "write-without-response"), on_write=self._on_write
                        ),
                    ],
                )
            ],
        )

    # -- link -------------------------------------------------------------------------
    def attach(self, bluez):
        peripheral = super().attach(bluez)
        peripheral.on_connect.append(self._restart_stream)
        return peripheral

    def _restart_stream(self) -> None:
        self.cancel_tasks()
        self.streams += 1
        self.spawn(self._stream(self.streams))

    # -- commands ---------------------------------------------------------------------
    def _on_write(self, data: bytes, with_response: bool) -> None:
        self._inbox += data
        while len(self._inbox) >= COMMAND_LEN:
            if self._inbox[:2] != COMMAND_HEAD:
                del self._inbox[0]
                continue
            cmd, self._inbox = bytes(self._inbox[:COMMAND_LEN]), self._inbox[COMMAND_LEN:]
            self.commands.append(cmd)
            self._execute(cmd[2], cmd[3] | cmd[4] << 8)

    def _execute(self, register: int, value: int) -> None:
        if register == REG_READ:
            regs = [self.registers.get(value + i, 0) for i in range(8)]
            regs = [r - 65536 if r > 32767 else r for r in regs]
            self.later(self._notify, wb.register_frame(value, tuple(regs)))
            return
        if register == REG_KEY:
            self.unlocked = value == KEY_UNLOCK
            return
        if not self.unlocked:
            return  # writes without unlock are ignored
        if register == REG_SAVE:
            return
        if register == REG_RRATE and value in RATE_CODES:
            changed = self.registers[REG_RRATE] != value
            self.registers[REG_RRATE] = value
            if changed and self.peripheral is not None and self.peripheral.connected:
                self._restart_stream()
        elif register == REG_CALSW:
            if value == CAL_ACC_GYRO:
                self.calibrating, self._cal = True, []
            elif value == CAL_NORMAL and self.calibrating:
                self.calibrating = False
                if self._cal:
                    acc = np.concatenate([a for a, _ in self._cal])
                    gyr = np.concatenate([g for _, g in self._cal])
                    self.acc_offset += acc.mean(axis=0) - np.array([0.0, 0.0, G_MS2])
                    self.gyro_offset += gyr.mean(axis=0)
        else:
            self.registers[register] = value

    def _notify(self, frame: bytes) -> bool:
        return self.peripheral is not None and self.peripheral.notify(wb.NOTIFY_UUID, frame)

    # -- streaming ---------------------------------------------------------------------
    def measure(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the sensor reports at device times ``t``: (acc m/s^2, gyro deg/s, euler deg)."""
        acc, gyro, euler = self.participant.motion(t)
        acc = acc * (1.0 + self.acc_scale) + self.acc_bias
        gyro = gyro + self.gyro_bias
        if self.calibrating:
            self._cal.append((acc, gyro))
        return acc - self.acc_offset, gyro - self.gyro_offset, euler

    async def _stream(self, stream_no: int) -> None:
        rate = self.rate_hz
        if rate <= 0:
            return
        t_start, k = self.device_time(), 0
        while True:
            due = int((self.device_time() - t_start) * rate) + 1
            if due > k:
                idx = np.arange(k, due)
                raw = wb.to_raw(*self.measure(t_start + idx / rate))
                for i in range(len(idx)):
                    if self._notify(wb.data_frame(raw[i])):
                        self._sent.append(np.concatenate([[stream_no, idx[i]], raw[i]])[None, :])
                k = due
                assert self.peripheral is not None
                await self.peripheral.flush()
            await asyncio.sleep(self.tick_s)

    @property
    def sent(self) -> np.ndarray:
        """(n, 11) rows of every delivered frame: stream number, sample index, 9 raw int16 words."""
        return np.concatenate(self._sent) if self._sent else np.zeros((0, 11))


def _triple(params: dict[str, str], name: str, url: str) -> tuple[float, float, float]:
    text = params.get(name, "0")
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 3):
        raise DeviceError(f"{url}: parameter {name}={text!r} must be one number or three (x,y,z)")
    return tuple(parts * 3)[:3] if len(parts) == 1 else tuple(parts)  # type: ignore[return-value]


async def open_sim(url: DeviceURL) -> Device:
    """``sim://wt901ble?freq_hz=6&amp_ms2=0.5&rate_hz=100&acc_bias=0.1,0,0``: an emulated WT901BLE."""
    params, name = url.params, Wt901BleEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    participant = TremorParticipant(
        freq_hz=p("freq_hz", 6.0),
        amp_ms2=p("amp_ms2", 0.5),
        noise_ms2=p("noise_ms2", 0.02),
        seed=int(p("seed", 0)),
    )
    emulator = Wt901BleEmulator(
        participant,
        address=params.get("address", "D6:3B:1E:00:00:01"),
        acc_bias=_triple(params, "acc_bias", name),
        acc_scale=_triple(params, "acc_scale", name),
        gyro_bias=_triple(params, "gyro_bias", name),
    )
    dev = await open_ble_sim(emulator, lambda tr: WitMotionBleDriver(tr, url=name), url)
    try:
        await dev.driver.set_rate(p("rate_hz", 50.0))
    except BaseException:
        await dev.close()
        raise
    return dev
