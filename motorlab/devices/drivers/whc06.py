"""Driver for WH-C06-style scales that only advertise (``ble://AA:BB:…?protocol=wh-c06``).

The weight comes in the manufacturer data (company ``0x0100``) of the scale's
advertisements (:mod:`motorlab.devices.codecs.whc06`), read from a running scan
(:class:`~motorlab.devices.transports.ble_adverts.BleAdvertisementTransport`).
There is no connection and nothing to send: start and stop only say which
advertisements are data, and 10 s without an advertisement is a link loss
(the reconnect logic scans again). The scale has no tare over the air, so the
tare is done on the host (as for the Weight Scale profile). Samples are timed
from host receive times; the rate is measured. The company ID is shared with
other products, so give the scale's address in the URL.
"""

from __future__ import annotations

from ..codecs.whc06 import WhC06Codec
from ..transports.base import Transport
from .ble_weight_scale import WeightScaleDriver


class WhC06Driver(WeightScaleDriver):
    """Host tare and sample handling as :class:`WeightScaleDriver`; the link is a scan."""

    SPEC_KEY = "wh-c06"
    MANUFACTURER = "Weiheng"

    def __init__(self, transport: Transport, codec: WhC06Codec | None = None, url: str = ""):
        super().__init__(transport, None, url)
        self.codec = codec or WhC06Codec()  # type: ignore[assignment]  # same host-timed shape


def make_driver(transport: Transport, url: str) -> WhC06Driver:
    return WhC06Driver(transport, WhC06Codec(), url)
