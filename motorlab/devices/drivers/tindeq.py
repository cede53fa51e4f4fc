"""Driver for the Tindeq Progressor (and clones: Crimpdeq, Mito, Hangman) over BLE.

The Progressor streams at a fixed 80 Hz and answers commands without saying
which command a reply belongs to, so requests are serialised (one at a time)
and matched to the last command sent. Start/stop/tare get no reply.

Tare is done by the device (opcode 0x64) and takes effect only while the
weight stream runs (Hangtime Grip Connect's notes), so :meth:`tare` starts
the stream for the moment it needs when it is not running. The battery
voltage should be read while not streaming (Crimpdeq firmware); during a
stream the last known value is returned.
"""

from __future__ import annotations

import asyncio
import time

from ..base import Ack, CodecEvent, Command, DeviceError, DeviceInfo, Start, Stop, Tare
from ..codecs.tindeq import CHANNELS, RATE_HZ, GetDeviceId, GetFirmware, TindeqCodec
from ..transports.base import Transport
from .codec_driver import CodecDriver


class TindeqDriver(CodecDriver):
    #: how long the stream runs around a tare command when it was stopped, s
    tare_settle_s = 0.3

    def __init__(self, transport: Transport, codec: TindeqCodec | None = None, url: str = ""):
        super().__init__(transport, codec or TindeqCodec(), url)
        self._one_at_a_time = asyncio.Lock()

    async def request(self, command: Command, match, timeout: float | None = None) -> CodecEvent:
        async with self._one_at_a_time:  # replies are untagged
            return await super().request(command, match, timeout)

    async def _text(self, command: Command, name: str) -> str:
        ev = await self.request(command, lambda e: isinstance(e, Ack) and e.command == name)
        assert isinstance(ev, Ack)
        return str(ev.value)

    async def info(self) -> DeviceInfo:
        if self._info is None:
            try:
                firmware = await self._text(GetFirmware(), "firmware")
                device_id = await self._text(GetDeviceId(), "deviceid")
            except DeviceError:
                raise DeviceError(
                    f"{self.url}: no valid 'tindeq' handshake (device silent or not a Progressor)"
                ) from None
            self._info = DeviceInfo(
                model="Tindeq Progressor",
                serial=device_id or "n/a",
                firmware=firmware or "n/a",
                channels=CHANNELS,
                nominal_rate_hz=RATE_HZ,
                protocol="tindeq",
                manufacturer="Tindeq",
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        if abs(rate_hz - RATE_HZ) > 1e-9:
            raise DeviceError(
                f"{self.url}: the Progressor streams at a fixed {RATE_HZ:g} Hz (asked {rate_hz:g})"
            )

    async def start(self) -> None:
        self.clock.reset()
        await self.send(Start())
        self._streaming = True

    async def stop(self) -> None:
        self._streaming = False
        await self.send(Stop())

    async def tare(self) -> None:
        """Zero the device with no load on it (device-side tare, needs the stream running)."""
        was_streaming = self._streaming
        t_begin = time.monotonic()
        if not was_streaming:
            await self.send(Start())
            await asyncio.sleep(self.tare_settle_s)
        await self.send(Tare())
        await asyncio.sleep(self.tare_settle_s)
        if not was_streaming:
            await self.send(Stop())
            await asyncio.sleep(0.05)
            # samples of the tare stream itself are not data; keep anything older
            for blk in self.pending_blocks():
                if blk.host_time < t_begin:
                    self._queue.put_nowait(blk)

    async def battery(self) -> float | None:
        if self._streaming:
            return self.status.battery_percent
        return await super().battery()


def make_driver(transport: Transport, url: str) -> TindeqDriver:
    return TindeqDriver(transport, TindeqCodec(), url)
