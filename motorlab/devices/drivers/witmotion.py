"""Driver for the WitMotion WT901 over serial (``serial:///dev/ttyUSB0?protocol=witmotion``).

Sequences on top of :class:`CodecDriver`:

* handshake: read the firmware-version register (0x2E -> 0x5F reply); a device
  that streams valid frames but does not answer reads is accepted as
  ``firmware="unknown"``; then RRATE and RSW are read so that the codec knows
  the output rate (device time = sample index / rate) and frame content.
* commands go out 5 bytes at a time with a short pause (WitMotion's SDK waits
  ~1 ms between unlock, write and save); every write is confirmed by reading
  the register back.
* ``start()`` restarts device time at 0 and sets RRATE back to the chosen rate;
  ``stop()`` sets RRATE to "no output". The WT901 has no tare;
  :meth:`calibrate_accel` runs the on-device accelerometer/gyro calibration.
* after an unplug/replug, the samples lost while away are estimated from the
  host time of the gap and counted as dropped (device time jumps accordingly).
"""

from __future__ import annotations

import asyncio
import time

from ..base import (
    Ack,
    CodecEvent,
    Command,
    DeviceError,
    DeviceInfo,
    GetInfo,
    InfoReply,
    ProtocolMismatch,
    SampleBlock,
    SetRate,
)
from ..codecs.witmotion import (
    RATE_CODES,
    REG_RRATE,
    REG_RSW,
    UNLOCK,
    CalibrateEnd,
    CalibrateStart,
    ReadRegister,
    SetContent,
    Start,
    Stop,
    WitMotionCodec,
    rate_code,
)
from ..transports.base import Transport
from .codec_driver import CodecDriver

#: bytes of one ``FF AA reg lo hi`` command (the codec owns the format)
COMMAND_LEN = len(UNLOCK)


class WitMotionDriver(CodecDriver):
    codec: WitMotionCodec
    #: pause between commands, s
    command_gap_s = 0.002

    def __init__(self, transport: Transport, codec: WitMotionCodec | None = None, url: str = ""):
        super().__init__(transport, codec or WitMotionCodec(), url)
        self._lost_at: float | None = None

    # -- plumbing ---------------------------------------------------------------
    async def send(self, command: Command) -> None:
        try:
            data = self.codec.encode(command)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        for i in range(0, len(data), COMMAND_LEN):
            if i:
                await asyncio.sleep(self.command_gap_s)
            await self.transport.write(data[i : i + COMMAND_LEN])

    async def request(self, command, match, timeout=None) -> CodecEvent:
        try:
            return await super().request(command, match, timeout)
        except DeviceError:
            self.codec.clear_pending()  # a lost reply must not shift the next one
            raise

    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if isinstance(ev, SampleBlock) and not self._streaming:
            return  # the WT901 streams from power-up; keep only what follows start()
        super()._dispatch(ev, host_t)

    def _on_lost(self, exc: BaseException | None) -> None:
        if self._lost_at is None:
            self._lost_at = time.monotonic()
        super()._on_lost(exc)

    async def _after_reconnect(self) -> None:
        if self._lost_at is not None:
            self.codec.skip_time(time.monotonic() - self._lost_at)
            self._lost_at = None
        await super()._after_reconnect()

    async def _read_register(self, register: int) -> int:
        name = f"read:{register:#04x}"
        ev = await self.request(ReadRegister(register), lambda e: isinstance(e, Ack) and e.command == name)
        assert isinstance(ev, Ack) and ev.value is not None
        return int(ev.value) & 0xFFFF

    # -- public API -------------------------------------------------------------
    async def info(self) -> DeviceInfo:
        """Handshake: firmware register, else detect frames; then learn RRATE and RSW."""
        if self._info is not None:
            return self._info
        frames_before = self.codec.stats.frames_ok
        try:
            ev = await self.request(GetInfo(), lambda e: isinstance(e, InfoReply))
            assert isinstance(ev, InfoReply)
            info = ev.info
        except DeviceError:
            if self.codec.stats.frames_ok - frames_before < 4:
                raise ProtocolMismatch(
                    f"{self.url}: no valid 'witmotion' frames or register reply "
                    f"(device silent, wrong baud rate, or another protocol)"
                ) from None
            info = self.codec.device_info("unknown")
        try:
            rrate = await self._read_register(REG_RRATE)
            if rrate in RATE_CODES:
                self.codec.rate_hz = RATE_CODES[rrate]
            rsw = await self._read_register(REG_RSW)
            if rsw:
                self.codec._set_content(rsw)
        except DeviceError:
            pass  # firmware without register reads: keep the defaults
        self._info = self.codec.device_info(info.firmware)
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        """Set the output rate (RRATE, saved to flash): 0.2-200 Hz in WitMotion's steps."""
        try:
            rate_code(rate_hz)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        await self._ack(SetRate(rate_hz))
        self._rate_hz = rate_hz
        self._info = None if self._info is None else self.codec.device_info(self._info.firmware)

    async def set_content(self, mask: int) -> None:
        """Choose the frames sent per period (RSW bitmask, saved to flash)."""
        await self._ack(SetContent(mask))

    async def start(self) -> None:
        """Begin a recording: pre-start samples are discarded and device time restarts at 0."""
        self.pending_blocks()
        self.codec.restart_time()
        self.clock.reset()
        self._streaming = True
        try:
            await self._ack(Start())
        except BaseException:
            self._streaming = False
            raise

    async def stop(self) -> None:
        self._streaming = False
        await self._ack(Stop())

    async def tare(self) -> None:
        raise DeviceError(
            f"{self.url}: the WT901 has no tare; use calibrate_accel() with the device level and still"
        )

    async def calibrate_accel(self, duration_s: float = 3.0) -> Ack:
        """On-device accelerometer+gyro calibration: keep the device level (+z up) and still."""
        await self._ack(CalibrateStart())
        await asyncio.sleep(duration_s)
        return await self._ack(CalibrateEnd())


def make_driver(transport: Transport, url: str) -> WitMotionDriver:
    return WitMotionDriver(transport, WitMotionCodec(), url)
