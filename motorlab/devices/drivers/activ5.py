"""Driver for the Activbody Activ5 over BLE (``ble://ACTIV5…?protocol=activ5``).

Sequence (Activbody's Apache-2.0 JS SDK, see :mod:`motorlab.devices.codecs.activ5`):
``TVGTIME`` once after connecting (the handshake; the device answers with text
whose layout is not published, kept as the firmware string), ``ISOM!`` to
stream (~10 Hz, newtons), ``TARE!`` to zero, ``STOP!`` to stop. Samples are
timed from host arrival times. Copies of a notification (the known
duplicate-after-restart fault) are dropped by the codec and counted
(``integrity()["duplicates"]``).
"""

from __future__ import annotations

import asyncio

from ..base import DeviceError, DeviceInfo, ProtocolMismatch, Tare
from ..codecs.activ5 import CHANNELS, NOMINAL_RATE_HZ, Activ5Codec, Handshake
from ..transports.base import Transport
from .host_timed import HostTimedDriver


class Activ5Driver(HostTimedDriver):
    codec: Activ5Codec
    #: how long a tare takes effect on the device, s
    tare_settle_s = 0.2

    def __init__(self, transport: Transport, codec: Activ5Codec | None = None, url: str = ""):
        super().__init__(transport, codec or Activ5Codec(), url)

    async def _handshake(self) -> str:
        before = self.codec.stats.unknown_frames
        await self.send(Handshake())
        loop = asyncio.get_running_loop()
        end = loop.time() + self.reply_timeout_s
        while self.codec.stats.unknown_frames == before:
            if loop.time() > end:
                raise ProtocolMismatch(
                    f"{self.url}: no answer to the Activ5 handshake (TVGTIME) within {self.reply_timeout_s:g} s"
                )
            await asyncio.sleep(0.02)
        return self.codec.last_message

    async def info(self) -> DeviceInfo:
        if self._info is None:
            answer = await self._handshake()
            self._info = DeviceInfo(
                model="Activbody Activ5",
                serial=self.transport.peer_address or self.transport.address,
                firmware=answer[:32] or "n/a",
                channels=CHANNELS,
                nominal_rate_hz=NOMINAL_RATE_HZ,
                protocol="activ5",
                manufacturer="Activbody",
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        if abs(rate_hz - NOMINAL_RATE_HZ) > 1e-9:
            raise DeviceError(
                f"{self.url}: the Activ5 streams at about {NOMINAL_RATE_HZ:g} Hz (asked {rate_hz:g})"
            )

    async def tare(self) -> None:
        await self.send(Tare())
        await asyncio.sleep(self.tare_settle_s)

    async def _after_reconnect(self) -> None:
        await self.send(Handshake())
        await super()._after_reconnect()  # streaming again (host clock kept)


def make_driver(transport: Transport, url: str) -> Activ5Driver:
    return Activ5Driver(transport, Activ5Codec(), url)
