"""Driver for the WitMotion WT901BLE / BWT901BLE5.0 IMU over BLE.

The sensor streams whenever notifications are on, so start/stop are host-side
(the codec gates samples). It never acknowledges writes: :meth:`set_rate`
writes RRATE (unlock, write, save, a few ms apart as the SDK does) and reads
the register back to confirm. :meth:`calibrate` runs the accelerometer + gyro
calibration (CALSW = 1 for ``duration_s`` with the sensor level and still, then
CALSW = 0 and save).
"""

from __future__ import annotations

import asyncio
import dataclasses

from ..base import CodecEvent, Command, DeviceError, DeviceInfo, SetRate, Start, Stop
from ..codecs.witmotion import RATE_CODES, REG_RRATE, REG_VERSION, UNLOCK, rate_code
from ..codecs.witmotion_ble import (
    CHANNELS,
    REG_BATTERY_BLE,
    CalibrateEnd,
    CalibrateStart,
    ReadRegister,
    RegisterReply,
    WitMotionBleCodec,
    battery_percent,
)
from ..transports.base import Transport
from .codec_driver import CodecDriver

#: pause between the commands of one write sequence (unlock, write, save), s
COMMAND_GAP_S = 0.01
#: bytes of one ``FF AA reg lo hi`` command (the codec owns the format)
COMMAND_LEN = len(UNLOCK)


class WitMotionBleDriver(CodecDriver):
    codec: WitMotionBleCodec

    def __init__(self, transport: Transport, codec: WitMotionBleCodec | None = None, url: str = ""):
        super().__init__(transport, codec or WitMotionBleCodec(), url)
        self._one_at_a_time = asyncio.Lock()

    async def send(self, command: Command) -> None:
        data = self.codec.encode(command)
        for i in range(0, len(data), COMMAND_LEN):  # one command per write
            if i:
                await asyncio.sleep(COMMAND_GAP_S)
            await self.transport.write(data[i : i + COMMAND_LEN])

    async def request(self, command: Command, match, timeout: float | None = None) -> CodecEvent:
        async with self._one_at_a_time:
            return await super().request(command, match, timeout)

    async def read_register(self, register: int) -> tuple[int, ...]:
        ev = await self.request(
            ReadRegister(register), lambda e: isinstance(e, RegisterReply) and e.register == register
        )
        assert isinstance(ev, RegisterReply)
        return ev.values

    async def info(self) -> DeviceInfo:
        if self._info is None:
            try:
                version = (await self.read_register(REG_VERSION))[0] & 0xFFFF
            except DeviceError:
                raise DeviceError(
                    f"{self.url}: no valid 'witmotion-ble' handshake (no register reply; not a WT901BLE?)"
                ) from None
            self._info = DeviceInfo(
                model="WitMotion WT901BLE",
                serial=self.transport.peer_address or self.transport.address,
                firmware=f"{version:#06x}",
                channels=CHANNELS,
                nominal_rate_hz=self.codec.rate_hz,
                protocol="witmotion-ble",
                manufacturer="WitMotion",
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        try:
            code = rate_code(rate_hz)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        await self.send(SetRate(rate_hz))
        got = (await self.read_register(REG_RRATE))[0]
        if got != code:
            raise DeviceError(
                f"{self.url}: output rate not accepted (RRATE reads {got:#x}, wanted {code:#x})"
            )
        self._rate_hz = rate_hz
        if self._info is not None:
            self._info = dataclasses.replace(self._info, nominal_rate_hz=RATE_CODES[code])

    async def start(self) -> None:
        self.clock.reset()
        await self.send(Start())
        self._streaming = True

    async def stop(self) -> None:
        self._streaming = False
        await self.send(Stop())

    def _on_lost(self, exc: BaseException | None) -> None:
        self.codec.restart()  # the sensor restarts its stream on the next connection
        super()._on_lost(exc)

    async def _after_reconnect(self) -> None:
        """Re-apply the rate; streaming resumes by itself (start/stop are host-side)."""
        if self._rate_hz is not None:
            await self.set_rate(self._rate_hz)

    async def battery(self) -> float | None:
        volts = ((await self.read_register(REG_BATTERY_BLE))[0] & 0xFFFF) / 100.0
        self.status.battery_percent = battery_percent(volts)
        return self.status.battery_percent

    async def calibrate(self, duration_s: float = 3.0) -> None:
        """Accelerometer + gyro zero: keep the sensor level (z up) and still for ``duration_s``."""
        await self.send(CalibrateStart())
        await asyncio.sleep(duration_s)
        await self.send(CalibrateEnd())

    async def tare(self) -> None:
        await self.calibrate()


def make_driver(transport: Transport, url: str) -> WitMotionBleDriver:
    return WitMotionBleDriver(transport, WitMotionBleCodec(), url)
