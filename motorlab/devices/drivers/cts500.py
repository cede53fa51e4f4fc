"""Driver for the CTS500 climbing scale over BLE (``ble://CTS500?protocol=cts500``).

The scale keeps uploading weight frames until it is told to stop, across
disconnects and power cycles (:mod:`motorlab.devices.codecs.cts500`), so:

* frames that arrive before :meth:`start` are not data (dropped, counted in
  ``unsolicited_samples``);
* :meth:`close` **always** sends stop (``05 AB``) and waits up to
  :data:`~motorlab.devices.codecs.cts500.STOP_TIMEOUT_S` for its echo before
  disconnecting, streaming or not;
* the handshake is the firmware query (``A4``, a typed answer).

Tare is the device's (``A6``, answered by one weight frame). Samples are timed
from host arrival times (no counter on the wire).
"""

from __future__ import annotations

import asyncio

from ..base import Ack, DeviceError, DeviceInfo, GetInfo, ProtocolMismatch, SetRate, Stop, Tare
from ..codecs.cts500 import CHANNELS, NOMINAL_RATE_HZ, RATE_CODES, STOP_TIMEOUT_S, Cts500Codec
from ..transports.base import Transport
from .host_timed import HostTimedDriver


class Cts500Driver(HostTimedDriver):
    codec: Cts500Codec
    tare_settle_s = 0.15

    def __init__(self, transport: Transport, codec: Cts500Codec | None = None, url: str = ""):
        super().__init__(transport, codec or Cts500Codec(), url)
        self._rate = NOMINAL_RATE_HZ

    async def info(self) -> DeviceInfo:
        if self._info is None:
            try:
                ev = await self.request(GetInfo(), lambda e: isinstance(e, Ack) and e.command == "firmware")
            except DeviceError:
                raise ProtocolMismatch(
                    f"{self.url}: no answer to the CTS500 firmware query (05 A4)"
                ) from None
            assert isinstance(ev, Ack)
            self._info = DeviceInfo(
                model="CTS500 climbing training scale",
                serial=self.transport.peer_address or self.transport.address,
                firmware=str(ev.value),
                channels=CHANNELS,
                nominal_rate_hz=self._rate,
                protocol="cts500",
                manufacturer="Jlyscales",
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        if float(rate_hz) not in RATE_CODES:
            raise DeviceError(f"{self.url}: the CTS500 samples at {sorted(RATE_CODES)} Hz, not {rate_hz:g}")
        await self.request(SetRate(rate_hz), lambda e: isinstance(e, Ack) and e.command == "rate")
        self._rate = self._rate_hz = float(rate_hz)

    async def stop(self) -> None:
        self._streaming = False
        await self._ack(Stop())

    async def tare(self) -> None:
        await self.send(Tare())
        await asyncio.sleep(self.tare_settle_s)

    async def close(self) -> None:
        """Send stop and wait for its echo (the scale streams on otherwise), then disconnect."""
        self._closing = True
        if self.transport.is_open:
            self._streaming = False
            try:
                await self.request(
                    Stop(), lambda e: isinstance(e, Ack) and e.command == "stop", STOP_TIMEOUT_S
                )
            except DeviceError:
                pass
        await super().close()


def make_driver(transport: Transport, url: str) -> Cts500Driver:
    return Cts500Driver(transport, Cts500Codec(), url)
