"""Driver for DIY builds on the standard BLE Weight Scale profile (``ble://NAME?protocol=ble-weight-scale``).

Weight Measurement ``0x2A9D`` values (:mod:`motorlab.devices.codecs.ble_weight_scale`)
arrive while indications are on; nothing is written to the device. The
profile has no tare command, so :meth:`WeightScaleDriver.tare` is done on the
host: the median over :attr:`tare_s` with no load becomes the zero and is
subtracted from every later sample. Samples are timed from host arrival times
(``measured_rate_hz``).
"""

from __future__ import annotations

import numpy as np

from ..base import CodecEvent, SampleBlock
from ..codecs.ble_weight_scale import WeightScaleCodec
from ..transports.base import Transport
from .host_timed import HostTimedDriver


class WeightScaleDriver(HostTimedDriver):
    codec: WeightScaleCodec
    SPEC_KEY = "weight-scale"
    RATE_NAME = "a Weight Scale build"
    #: seconds of unloaded samples whose median becomes the zero
    tare_s = 0.6

    def __init__(self, transport: Transport, codec: WeightScaleCodec | None = None, url: str = ""):
        super().__init__(transport, codec or WeightScaleCodec(), url)
        #: host-side zero, N
        self.zero_n = 0.0

    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if isinstance(ev, SampleBlock) and ev.n:
            if self._taring is not None:
                self._taring.append(ev.values[:, 0].copy())
                return
            ev.values = ev.values - self.zero_n
        super()._dispatch(ev, host_t)

    async def tare(self) -> None:
        """Host tare: the median over :attr:`tare_s` with nothing in the hand becomes zero."""
        # nothing to send: the profile streams while indications are on
        self.zero_n = float(np.median(await self._collect_unloaded(self.tare_s, send_start=False)))


def make_driver(transport: Transport, url: str) -> WeightScaleDriver:
    return WeightScaleDriver(transport, WeightScaleCodec(), url)
