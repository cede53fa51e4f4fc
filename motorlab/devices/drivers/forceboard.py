"""Driver for the PitchSix Force Board over BLE (``ble://Force Board?protocol=forceboard``).

Reverse-engineered protocol (:mod:`motorlab.devices.codecs.forceboard`): the
Device Mode characteristic takes ``04`` stream, ``05`` tare, ``07`` idle; the
force characteristic notifies a u16 count then 3-byte samples in lb. No
handshake is documented (the GATT layout found at connection is the check),
no timestamps and no documented rate: samples are timed from host arrival
times and the rate is measured (``measured_rate_hz``).
"""

from __future__ import annotations

import asyncio

from ..base import Tare
from ..codecs.forceboard import ForceBoardCodec
from ..transports.base import Transport
from .host_timed import HostTimedDriver


class ForceBoardDriver(HostTimedDriver):
    codec: ForceBoardCodec
    SPEC_KEY = "forceboard"
    MANUFACTURER = "PitchSix"
    RATE_NAME = "the Force Board"
    tare_settle_s = 0.3

    def __init__(self, transport: Transport, codec: ForceBoardCodec | None = None, url: str = ""):
        super().__init__(transport, codec or ForceBoardCodec(), url)

    async def tare(self) -> None:
        """Device tare (mode ``05``) with nothing on the board."""
        await self.send(Tare())
        await asyncio.sleep(self.tare_settle_s)


def make_driver(transport: Transport, url: str) -> ForceBoardDriver:
    return ForceBoardDriver(transport, ForceBoardCodec(), url)
