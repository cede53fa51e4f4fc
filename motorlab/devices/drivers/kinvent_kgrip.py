"""Driver for the Kinvent K-Grip over USB serial (``serial:///dev/ttyACM0?protocol=kinvent-kgrip``).

The K-Grip sends raw ADC counts only (:mod:`motorlab.devices.codecs.kinvent`,
reverse-engineered: itsmaxxst/KGrip). motorlab turns them into newtons:

* **Handshake**: sampling off (``0x10``), then the stored coefficient
  (``0x21``, 6 ASCII digits, kg per count). No answer = not a K-Grip.
* **Tare** (host side): the median raw value over :attr:`tare_s` with no load
  becomes the baseline. Before any tare the first sample of a stream is the
  baseline.
* **Force**: ``|raw - baseline| x coefficient x g`` N, as the source computes
  it (the sign of a count change under load is not documented). A stored
  force calibration of this serial (``motorlab calibrate force``) then corrects
  the device coefficient, like any other force sensor.
* **Serial number**: the USB serial number of the port when the OS lists one,
  else ``?serial=`` of the URL (calibrations are stored per serial).

No counter and no timestamps: samples are timed from host arrival times and
the rate is measured (``measured_rate_hz``).
"""

from __future__ import annotations

import math
import os
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from ...units import STANDARD_GRAVITY
from ..base import CodecEvent, DeviceError, DeviceInfo, SampleBlock, Stop
from ..codecs.kinvent import KGripUsbCodec
from ..transports.base import Transport
from .host_timed import HostTimedDriver, spec_device_info
from .kinvent_coefficient import query_coefficient


def usb_serial_number(port: str) -> str | None:
    """The USB serial number the OS lists for ``port`` (symlinks resolved), if any."""
    try:
        from serial.tools import list_ports
    except ModuleNotFoundError:  # pragma: no cover - pyserial is a dependency
        return None
    real = os.path.realpath(port)
    for p in list_ports.comports():
        if os.path.realpath(p.device) == real and p.serial_number:
            return str(p.serial_number)
    return None


class KGripDriver(HostTimedDriver):
    codec: KGripUsbCodec
    SPEC_KEY = "kgrip"
    MANUFACTURER = "Kinvent"
    RATE_NAME = "the K-Grip"
    #: seconds of unloaded samples whose median is the tare baseline
    tare_s = 0.5

    def __init__(
        self, transport: Transport, codec: KGripUsbCodec | None = None, url: str = "", serial: str = ""
    ):
        super().__init__(transport, codec or KGripUsbCodec(), url)
        self.serial = serial
        self.baseline: float | None = None

    @property
    def kg_per_count(self) -> float:
        coefficient = self.codec.kg_per_count
        if coefficient is None:
            raise DeviceError(f"{self.url}: the K-Grip's coefficient is not known yet (no handshake)")
        return coefficient

    async def info(self) -> DeviceInfo:
        if self._info is None:
            await self.send(Stop())  # the coefficient is read with sampling off
            kg_per_count = await query_coefficient(self, "K-Grip")
            serial = self.serial or usb_serial_number(self.transport.address) or "n/a"
            self._info = spec_device_info(  # channels: force in N, after host tare and scaling
                self.SPEC_KEY,
                self.transport,
                self.MANUFACTURER,
                serial=serial,
                scales=(kg_per_count * STANDARD_GRAVITY,),
            )
        return self._info

    # -- samples: counts -> N ------------------------------------------------------------
    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if isinstance(ev, SampleBlock) and ev.n:
            raw = ev.values[:, 0].copy()
            if self._taring is not None:
                self._taring.append(raw)
                return
            if self.baseline is None:
                self.baseline = float(raw[0])
            ev.values = (np.abs(raw - self.baseline) * self.kg_per_count * STANDARD_GRAVITY).reshape(-1, 1)
        super()._dispatch(ev, host_t)

    async def tare(self) -> None:
        """Host tare: the median raw count over :attr:`tare_s` with nothing in the hand."""
        self.baseline = float(np.median(await self._collect_unloaded(self.tare_s)))

    @property
    def measured_rate_hz(self) -> float:
        rate = self.codec.rate_hz
        return float(rate) if math.isfinite(rate) else math.nan


def make_driver(transport: Transport, url: str) -> KGripDriver:
    params = dict(parse_qsl(urlsplit(url).query)) if url else {}
    return KGripDriver(transport, KGripUsbCodec(), url, serial=params.get("serial", ""))
