"""Driver for the Jamar Smart hand dynamometer over BLE (``ble://Jamar…?protocol=jamar``).

The device streams ``::VAL 1,<lb>`` over the Nordic UART service as soon as
notifications are on (:mod:`motorlab.devices.codecs.jamar`); no host command
is documented, so start/stop are host-side: samples that arrive before
:meth:`start` are dropped, and :meth:`stop` releases a message the device left
without terminator. The sample rate is not documented: it is measured
(:attr:`~.host_timed.HostTimedDriver.measured_rate_hz`) and written to the
recording's sidecar. The Jamar zeroes itself, so :meth:`tare` says so (the
session then logs that the device has no tare).
"""

from __future__ import annotations

import time

from ..base import DeviceError
from ..codecs.jamar import JamarCodec
from ..transports.base import Transport
from .host_timed import HostTimedDriver


class JamarDriver(HostTimedDriver):
    codec: JamarCodec
    SPEC_KEY = "jamar-smart"
    MANUFACTURER = "Performance Health"
    RATE_NAME = "the Jamar Smart"

    def __init__(self, transport: Transport, codec: JamarCodec | None = None, url: str = ""):
        super().__init__(transport, codec or JamarCodec(), url)

    async def stop(self) -> None:
        for ev in self.codec.flush(time.monotonic()):
            self._dispatch(ev, time.monotonic())
        self._streaming = False

    async def tare(self) -> None:
        raise DeviceError(f"{self.url}: the Jamar Smart zeroes itself (no tare command)")


def make_driver(transport: Transport, url: str) -> JamarDriver:
    return JamarDriver(transport, JamarCodec(), url)
