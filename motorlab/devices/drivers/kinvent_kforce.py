"""Driver for Kinvent K-Force sensors over BLE (K-Pull, K-Push, plates): ``ble://KFORCE…?protocol=kinvent-kforce``.

Reverse-engineered protocol (:mod:`motorlab.devices.codecs.kinvent`; verify
on a unit): a transparent-UART characteristic carries 17-byte frames (u16
counter, four raw 24-bit channels) one way and single-byte commands the other.

* **Connection**: after notifications are on, the official app's init writes
  (one write each), then a keep-alive ``FF`` at most every
  :attr:`KForceDriver.keepalive_s` s for as long as the link is up (the
  sensor drops a silent host).
* **Handshake**: the coefficient query (``0x21``) with sampling off; derived
  from the K-Grip (same opcodes): the reply is 6 ASCII digits, kg per count.
  Without a reply the sensor is not taken for a K-Force.
* **Force**: raw counts only. The host tares (median of each channel over
  :attr:`tare_s`) and converts: ``force = sum over the used channels of
  (raw - tare) x kg_per_count x g`` (``?channels=1`` for a K-Pull, default all
  four, i.e. a plate's load cells). A stored force calibration of the serial
  then corrects the coefficient.
* **Integrity**: the u16 counter gives gaps (``dropped_samples``) and
  duplicates, counted per trial.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from ...units import STANDARD_GRAVITY
from ..base import CodecEvent, DeviceError, DeviceInfo, SampleBlock, Start, Stop
from ..codecs.kinvent import KFORCE_INIT_WRITES, KeepAlive, KForceCodec
from ..transports.base import Transport
from .codec_driver import CodecDriver
from .host_timed import spec_device_info
from .kinvent_coefficient import query_coefficient


class KForceDriver(CodecDriver):
    codec: KForceCodec
    #: keep-alive period, s (the sensor's clients use 5-10 s)
    keepalive_s = 5.0
    #: seconds of unloaded samples whose per-channel median is the tare
    tare_s = 0.5

    def __init__(
        self, transport: Transport, codec: KForceCodec | None = None, url: str = "", used: str = "1234"
    ):
        super().__init__(transport, codec or KForceCodec(), url)
        self.used = [int(c) - 1 for c in used if c in "1234"] or [0, 1, 2, 3]
        self.tare_counts: np.ndarray | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self.keepalives_sent = 0

    # -- link ---------------------------------------------------------------------------
    async def open(self) -> None:
        await super().open()
        await self._init_link()

    async def _init_link(self) -> None:
        for data in KFORCE_INIT_WRITES:
            await self.transport.write(data)
        self._restart_keepalive()

    def set_keepalive_period(self, seconds: float) -> None:
        """Send keep-alives every ``seconds`` s from now on."""
        self.keepalive_s = float(seconds)
        if self._keepalive is not None:
            self._restart_keepalive()

    def integrity(self) -> dict[str, int]:
        """As :meth:`CodecDriver.integrity`, with gaps counted by the codec's counter
        (also those found while taring)."""
        out = super().integrity()
        out["dropped_samples"] = int(self.codec.stats.dropped_samples)
        return out

    def _restart_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        self._keepalive = asyncio.get_running_loop().create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            if self.transport.is_open:
                with contextlib.suppress(DeviceError):
                    await self.send(KeepAlive())
                    self.keepalives_sent += 1

    async def _after_reconnect(self) -> None:
        await self._init_link()
        if not self._streaming:
            await self.send(Stop())  # the init writes end with sampling on
        else:
            await self.send(Start())

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        await super().close()

    # -- handshake ----------------------------------------------------------------------
    async def info(self) -> DeviceInfo:
        if self._info is None:
            await self.send(Stop())
            await asyncio.sleep(0.05)
            self.pending_blocks()  # frames of the init sequence's sampling are not data
            kg_per_count = await query_coefficient(self, "K-Force")
            self._info = spec_device_info(  # channels: force in N, after host tare and scaling
                "kforce", self.transport, "Kinvent", scales=(kg_per_count * STANDARD_GRAVITY,)
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        raise DeviceError(f"{self.url}: the K-Force's sample rate cannot be set")

    # -- samples: counts -> N ---------------------------------------------------------------
    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if isinstance(ev, SampleBlock) and ev.n:
            if not self._streaming:
                return  # the init sequence switches sampling on; not data
            raw = ev.values
            if self._taring is not None:
                self._taring.append(raw.copy())
                return
            if self.tare_counts is None:
                self.tare_counts = raw[0].copy()
            kg_per_count = self.codec.kg_per_count
            if kg_per_count is None:  # streaming starts only after the handshake gave it
                return
            tared = (raw - self.tare_counts)[:, self.used]
            ev.values = (tared.sum(axis=1) * kg_per_count * STANDARD_GRAVITY).reshape(-1, 1)
        super()._dispatch(ev, host_t)

    async def start(self) -> None:
        self.clock.reset()
        self._streaming = True
        await self.send(Start())

    async def stop(self) -> None:
        self._streaming = False
        await self.send(Stop())

    async def tare(self) -> None:
        """Host tare: each channel's median over :attr:`tare_s` with no load."""
        self.tare_counts = np.median(await self._collect_unloaded(self.tare_s), axis=0)


def make_driver(transport: Transport, url: str) -> KForceDriver:
    params = dict(parse_qsl(urlsplit(url).query)) if url else {}
    return KForceDriver(transport, KForceCodec(), url, used=params.get("channels", "1234"))
