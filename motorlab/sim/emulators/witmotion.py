"""A WitMotion WT901 that speaks the real serial protocol over a pseudo-terminal.

The emulator streams 11-byte frames (:mod:`motorlab.devices.codecs.witmotion`)
at its RRATE register in real time, one frame per enabled RSW type per period,
computed from a :class:`~motorlab.sim.participants.TremorParticipant`
at the emulator's device time. It honours the 5-byte ``FF AA reg lo hi``
commands: unlock (writes are ignored while locked, as on the device), RRATE,
RSW, SAVE (0 = store, 0xFF = restart from the stored registers), register read
(0x27 -> 0x5F reply) and CALSW accelerometer/gyro calibration.

Sensor model: ``acc = acc_scale * acc_true + acc_bias - acc_offset`` (m/s^2),
``gyro = gyro_true + gyro_bias - gyro_offset`` (deg/s), where the offsets are
what the last calibration measured: the mean reading over the calibration
window minus the 1 g that a level device (+z up) should read. A calibration done
level and still therefore removes the injected biases (not the scale error).
The magnetometer reads a fixed Earth field rotated into the device frame.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ...devices.codecs.witmotion import (
    ACC_G_PER_LSB,
    ANGLE_DEG_PER_LSB,
    CAL_ACC_GYRO,
    CAL_NORMAL,
    G_MS2,
    GYRO_DPS_PER_LSB,
    KEY_UNLOCK,
    RATE_CODES,
    RATE_NONE,
    REG_AXOFFSET,
    REG_CALSW,
    REG_GXOFFSET,
    REG_KEY,
    REG_READ,
    REG_RRATE,
    REG_RSW,
    REG_SAVE,
    REG_VERSION,
    RSW_DEFAULT,
    SAVE,
    TYPE_ACC,
    TYPE_ANGLE,
    TYPE_GYRO,
    TYPE_MAG,
    TYPE_REGISTER,
    TYPE_TIME,
    WitMotionCodec,
    chip_time_words,
    command_bytes,
    encode_frame,
    encode_frames,
    rate_code,
    stream_types,
)
from ...devices.device import Device
from ...devices.drivers.witmotion import WitMotionDriver
from ...devices.registry import DeviceURL
from ...devices.spec import device
from ...devices.transports.serial_port import SerialTransport
from ...errors import DeviceError
from ..participants import TremorParticipant
from ..pty_link import PtyLink
from .base import ParticipantDevice

#: seconds an unlock keeps registers writable (WitMotion: 10 s)
UNLOCK_S = 10.0
#: chip clock at device time 0: 2025-01-01 00:00:00 as seconds since 2000-01-01
CHIP_EPOCH_S = 788_918_400.0
#: internal sampling rate used to average a calibration window, Hz
CAL_RATE_HZ = 100.0
#: a host command is ``FF AA reg lo hi``; the codec owns the format (``command_bytes``)
COMMAND_HEAD, COMMAND_LEN = SAVE[:2], len(SAVE)
#: baud-rate register (REG.h BAUD) and its code for 115200 baud
REG_BAUD, BAUD_115200 = 0x04, 0x06


def _int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class WT901Emulator(ParticipantDevice):
    """A virtual WT901 on a :class:`PtyLink` (``.link.link_path`` is its port).

    Args:
        participant: drives the motion; a default :class:`TremorParticipant` if None.
        rate_hz: power-up output rate (RRATE), Hz.
        content: power-up RSW mask.
        acc_bias: accelerometer bias, m/s^2 per axis.
        acc_scale: accelerometer scale factor per axis (1 = exact).
        gyro_bias: gyroscope bias, deg/s per axis.
        firmware: value of the version register 0x2E.
        earth_field_ut: magnetic field in the world frame, µT.
        mag_ut_per_lsb: counts-to-µT scale of the emulated magnetometer.
    """

    sim_name = "sim://wt901"
    participant: TremorParticipant

    def __init__(
        self,
        participant: TremorParticipant | None = None,
        rate_hz: float = device("wt901").nominal_rate_hz,
        content: int = RSW_DEFAULT,
        acc_bias: tuple[float, float, float] = (0.0, 0.0, 0.0),
        acc_scale: tuple[float, float, float] = (1.0, 1.0, 1.0),
        gyro_bias: tuple[float, float, float] = (0.0, 0.0, 0.0),
        firmware: int = 0x0136,
        earth_field_ut: tuple[float, float, float] = (20.0, 0.0, -44.0),
        mag_ut_per_lsb: float = 0.15,
    ):
        self.participant = participant if participant is not None else TremorParticipant()
        self.acc_bias = np.asarray(acc_bias, dtype=float)
        self.acc_scale = np.asarray(acc_scale, dtype=float)
        self.gyro_bias = np.asarray(gyro_bias, dtype=float)
        self.earth_field_ut = np.asarray(earth_field_ut, dtype=float)
        self.mag_ut_per_lsb = float(mag_ut_per_lsb)
        self.acc_offset = np.zeros(3)  # m/s^2, set by calibration
        self.gyro_offset = np.zeros(3)  # deg/s
        self._lock = threading.RLock()
        self.registers: dict[int, int] = {
            REG_CALSW: CAL_NORMAL,
            REG_RSW: int(content),
            REG_RRATE: rate_code(rate_hz),
            REG_BAUD: BAUD_115200,
            REG_VERSION: int(firmware),
        }
        self._flash = dict(self.registers)
        self._unlocked_until = -1.0
        self._cal_start: float | None = None
        self.calibrations: list[dict[str, Any]] = []
        self.commands: list[tuple[float, bytes]] = []
        self.samples_sent = 0
        self.samples_lost = 0
        self._rx = b""
        self._t0 = time.monotonic()
        self._next_tick = 0  # index of the next output period at the current rate
        self._anchor = (0.0, 0)  # (device time, tick) where the current rate started
        self._stop = threading.Event()
        self.link = PtyLink(self._on_bytes, name="ttyWT901").start()
        self._thread = threading.Thread(target=self._stream, name="wt901-emulator", daemon=True)
        self._thread.start()

    # -- contract ---------------------------------------------------------------------
    def device_time(self) -> float:
        """Seconds since the emulator was powered on."""
        return time.monotonic() - self._t0

    @property
    def rate_hz(self) -> float:
        return RATE_CODES.get(self.registers[REG_RRATE], 0.0)

    @property
    def truth(self) -> dict[str, Any]:
        """Participant truth plus what the device did (rate, counts, calibration)."""
        return {
            **self.participant.truth,
            "rate_hz": self.rate_hz,
            "content": self.registers[REG_RSW],
            "samples_sent": self.samples_sent,
            "samples_lost": self.samples_lost,
            "acc_bias_ms2": self.acc_bias.tolist(),
            "acc_scale": self.acc_scale.tolist(),
            "gyro_bias_dps": self.gyro_bias.tolist(),
            "acc_offset_ms2": self.acc_offset.tolist(),
            "gyro_offset_dps": self.gyro_offset.tolist(),
            "calibrations": list(self.calibrations),
        }

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.link.close()

    # -- sensor model ---------------------------------------------------------------------
    def measure(self, t: np.ndarray) -> dict[int, np.ndarray]:
        """Raw int16 words (n, 4) per frame type at device times ``t`` (s)."""
        acc, gyro, euler = self.participant.motion(t)
        acc_m = self.acc_scale * acc + self.acc_bias - self.acc_offset
        gyro_m = gyro + self.gyro_bias - self.gyro_offset
        n = t.size
        rot = Rotation.from_euler("ZYX", euler[:, ::-1], degrees=True)  # yaw, pitch, roll
        mag = rot.inv().apply(self.earth_field_ut) / self.mag_ut_per_lsb
        words = {
            TYPE_ACC: np.column_stack([acc_m / G_MS2 / ACC_G_PER_LSB, np.full(n, 2500.0)]),
            TYPE_GYRO: np.column_stack([gyro_m / GYRO_DPS_PER_LSB, np.full(n, 2500.0)]),
            TYPE_ANGLE: np.column_stack(
                [euler / ANGLE_DEG_PER_LSB, np.full(n, float(self.registers[REG_VERSION]))]
            ),
            TYPE_MAG: np.column_stack([mag, np.full(n, 2500.0)]),
        }
        out = {k: _int16(v) for k, v in words.items()}
        out[TYPE_TIME] = np.array([chip_time_words(CHIP_EPOCH_S + x) for x in t], dtype=np.int16).reshape(
            -1, 4
        )
        return out

    def _frames(self, t: np.ndarray) -> bytes:
        """All frames of the output periods at times ``t``, in device order."""
        words = self.measure(t)
        zero = np.zeros((t.size, 4), dtype=np.int16)
        per_type = [encode_frames(ft, words.get(ft, zero)) for ft in stream_types(self.registers[REG_RSW])]
        if not per_type:
            return b""
        return np.stack(per_type, axis=1).tobytes()

    # -- streaming thread ---------------------------------------------------------------------
    def _stream(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                rate = self.rate_hz
                if rate <= 0:
                    due = np.zeros(0)
                else:
                    t_a, k_a = self._anchor
                    now = self.device_time()
                    last = k_a + int(np.floor((now - t_a) * rate))
                    ticks = np.arange(self._next_tick, last + 1)
                    due = t_a + (ticks - k_a) / rate
                    self._next_tick = last + 1 if ticks.size else self._next_tick
                data = self._frames(due) if due.size else b""
            if data:
                if self.link.write(data):
                    self.samples_sent += due.size
                else:
                    self.samples_lost += due.size
            period = 1.0 / rate if rate > 0 else 0.02
            self._stop.wait(min(max(period / 2, 0.002), 0.02))

    def _set_rate_code(self, code: int) -> None:
        now = self.device_time()
        self.registers[REG_RRATE] = code
        self._anchor = (now, 0)
        self._next_tick = 1  # the first period at the new rate is one period from now

    # -- commands ---------------------------------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        self._rx += data
        while True:
            i = self._rx.find(COMMAND_HEAD)
            if i < 0:
                self._rx = self._rx[-1:] if self._rx.endswith(COMMAND_HEAD[:1]) else b""
                return
            if len(self._rx) - i < COMMAND_LEN:
                self._rx = self._rx[i:]
                return
            cmd, self._rx = self._rx[i : i + COMMAND_LEN], self._rx[i + COMMAND_LEN :]
            self._command(cmd[2], cmd[3] | cmd[4] << 8)

    def _command(self, reg: int, value: int) -> None:
        now = self.device_time()
        self.commands.append((now, command_bytes(reg, value)))
        with self._lock:
            if reg == REG_READ:
                regs = [self.registers.get((value & 0xFF) + i, 0) & 0xFFFF for i in range(4)]
                self.link.write(encode_frame(TYPE_REGISTER, np.array(regs, dtype=np.uint16).view(np.int16)))
                return
            if reg == REG_KEY:
                self._unlocked_until = now + UNLOCK_S if value == KEY_UNLOCK else -1.0
                return
            if now > self._unlocked_until:
                return  # locked: the device ignores writes
            if reg == REG_SAVE:
                if value == 0xFF:  # software reset: registers come back from flash
                    self.registers = dict(self._flash)
                    self._set_rate_code(self.registers[REG_RRATE])
                else:
                    self._flash = dict(self.registers)
                return
            if reg == REG_RRATE:
                if value in RATE_CODES or value == RATE_NONE:
                    self._set_rate_code(value)
                return
            if reg == REG_CALSW:
                self._calibration(value, now)
            self.registers[reg] = value & 0xFFFF

    def _calibration(self, value: int, now: float) -> None:
        if value == CAL_ACC_GYRO:
            self._cal_start = now
            return
        if value == CAL_NORMAL and self._cal_start is not None:
            t = np.arange(self._cal_start, now, 1.0 / CAL_RATE_HZ)
            if t.size:
                acc, gyro, _ = self.participant.motion(t)
                acc_raw = (self.acc_scale * acc + self.acc_bias).mean(axis=0)
                self.acc_offset = acc_raw - np.array([0.0, 0.0, G_MS2])  # assumes level, +z up
                self.gyro_offset = (gyro + self.gyro_bias).mean(axis=0)
                for k in range(3):
                    self.registers[REG_AXOFFSET + k] = (
                        int(_int16(self.acc_offset[k] / G_MS2 / ACC_G_PER_LSB)) & 0xFFFF
                    )
                    self.registers[REG_GXOFFSET + k] = (
                        int(_int16(self.gyro_offset[k] / GYRO_DPS_PER_LSB)) & 0xFFFF
                    )
                self.calibrations.append(
                    {
                        "start_s": self._cal_start,
                        "end_s": now,
                        "acc_offset_ms2": self.acc_offset.tolist(),
                        "gyro_offset_dps": self.gyro_offset.tolist(),
                    }
                )
            self._cal_start = None


def _vector(text: str | None, default: tuple[float, float, float]) -> tuple[float, float, float]:
    if not text:
        return default
    parts = [float(x) for x in text.split(",")]
    if len(parts) != 3:
        raise ValueError(f"expected three comma-separated numbers, got {text!r}")
    return (parts[0], parts[1], parts[2])


async def open_sim(url: DeviceURL) -> Device:
    """Start a WT901 emulator and open the real driver on its pty (``sim://wt901?...``).

    Parameters: ``seed``, ``freq_hz``, ``amp_ms2``, ``noise_ms2`` (participant);
    ``rate`` (Hz, set through the driver after the handshake), ``power_on_rate``,
    ``content`` (RSW mask), ``acc_bias``/``acc_scale``/``gyro_bias`` as ``x,y,z``.
    """
    params, name = url.params, WT901Emulator.sim_name
    try:
        participant = TremorParticipant(
            freq_hz=float(params.get("freq_hz", 6.0)),
            amp_ms2=float(params.get("amp_ms2", 0.5)),
            noise_ms2=float(params.get("noise_ms2", 0.02)),
            seed=int(params.get("seed", 0)),
        )
        emulator = WT901Emulator(
            participant,
            rate_hz=float(params.get("power_on_rate", 10.0)),
            content=int(params.get("content", str(RSW_DEFAULT)), 0),
            acc_bias=_vector(params.get("acc_bias"), (0.0, 0.0, 0.0)),
            acc_scale=_vector(params.get("acc_scale"), (1.0, 1.0, 1.0)),
            gyro_bias=_vector(params.get("gyro_bias"), (0.0, 0.0, 0.0)),
        )
    except ValueError as exc:
        raise DeviceError(f"{name}: bad parameter ({exc})") from None
    driver = WitMotionDriver(SerialTransport(emulator.link.link_path, 115200), WitMotionCodec(), name)
    dev = Device(driver, url.text, emulator, release=lambda: asyncio.to_thread(emulator.close))
    try:
        await driver.open()
        await driver.info()
        if "rate" in params:
            await driver.set_rate(float(params["rate"]))
    except BaseException:
        await dev.close()
        raise
    return dev
