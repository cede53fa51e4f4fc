"""Driver for Mark-10 force gauges over serial (``serial:///dev/ttyUSB0?protocol=mark10``).

The gauge sends nothing unless asked, so :meth:`Mark10Driver.start` runs a
polling task at the requested rate (:meth:`set_rate`, default 20 Hz).

* **Device time** of a reading = its poll's *scheduled* time, ``k / rate`` s
  from ``start()`` (the gauge has no clock on the link). The host receive time
  of each reply is kept in ``SampleBlock.host_time``, so the transport latency
  can be checked against the schedule.
* One poll is in flight at a time. A tick that comes while the previous reply is
  still awaited, or while the link is down, is skipped and reported as dropped
  (``dropped_before`` of the next reading); a reply not back within
  ``reply_timeout_s`` is given up.
* Handshake: ``RM``/``RV``/``RS`` (a Series 4 answers ``*10``; the fields stay
  ``n/a``) then one reading, which must parse; ``?C`` (current value) is used
  when the gauge accepts it, else ``?`` (displayed value). A gauge printing
  values without a unit is switched to newtons.
* Sign: compression (grip) is positive, see :mod:`motorlab.devices.codecs.mark10`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from ..base import Ack, DeviceError, DeviceInfo, GetInfo, InfoReply, ProtocolMismatch, Tare
from ..codecs.mark10 import UNIT_COMMANDS, Mark10Codec, Poll, SetUnit, Sync
from ..spec import device
from ..transports.base import Transport
from .codec_driver import CodecDriver

log = logging.getLogger(__name__)

#: highest polling rate accepted, Hz (Series 5 answers within a few ms at 115200 baud)
MAX_POLL_HZ = 200.0


class Mark10Driver(CodecDriver):
    codec: Mark10Codec
    reply_timeout_s = 1.0

    def __init__(self, transport: Transport, codec: Mark10Codec | None = None, url: str = ""):
        super().__init__(transport, codec or Mark10Codec(), url)
        self.poll_hz = device("mark10").nominal_rate_hz
        self._poll_task: asyncio.Task | None = None
        self._poll_sent_at = math.nan

    # -- handshake -----------------------------------------------------------------
    async def info(self) -> DeviceInfo:
        if self._info is not None:
            return self._info
        try:
            ev = await self.request(GetInfo(), lambda e: isinstance(e, InfoReply))
        except DeviceError:
            self.codec.clear_pending()
            raise ProtocolMismatch(
                f"{self.url}: no valid 'mark10' reply to RM/RV/RS (gauge silent, wrong baud rate, "
                f"or another protocol)"
            ) from None
        assert isinstance(ev, InfoReply)
        ok, value = await self._sync_reading()
        if not ok and self.codec.query == "?C":  # older gauges know only '?'
            self.codec.query = "?"
            ok, value = await self._sync_reading()
        if not ok:
            raise ProtocolMismatch(f"{self.url}: the gauge's reading is not 'value unit' ({value})")
        if self.codec.last_unit == "":  # bare numbers: make their unit known
            try:
                await self.set_unit("N")
            except DeviceError as exc:  # Series 4: the unit is set on the gauge only
                log.warning("%s; readings are taken as %s (add ?unit=... to the URL)", exc, self.codec.unit)
        self._info = self._with_rate(ev.info)
        return self._info

    def _with_rate(self, info: DeviceInfo) -> DeviceInfo:
        from dataclasses import replace

        return replace(info, nominal_rate_hz=self.poll_hz)

    async def _sync_reading(self) -> tuple[bool, float | str]:
        """One reading as a round trip: (parsed, value N or error text)."""
        try:
            ev = await self.request(Sync(), lambda e: isinstance(e, Ack) and e.command == "sync")
        except DeviceError as exc:
            self.codec.clear_pending()
            return False, str(exc)
        assert isinstance(ev, Ack)
        return ev.ok, ev.value if ev.ok else ev.error  # type: ignore[return-value]

    async def _setting(self, command, name: str) -> None:
        """Send a silent setting, then a reading: an error reply or success arrives first."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        entry = (lambda e: isinstance(e, Ack) and e.command == name, fut)
        self._waiters.append(entry)
        try:
            await self.send(command)
            _ok, value = await self._sync_reading()
            if not fut.done():
                raise DeviceError(f"{self.url}: no confirmation of '{name}' ({value})")
            ack = fut.result()
            if not ack.ok:
                raise DeviceError(f"{self.url}: gauge refused '{name}': {ack.error}")
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def set_unit(self, unit: str = "N") -> None:
        """Switch the gauge's unit (readings are converted to N whatever the unit)."""
        await self._setting(SetUnit(unit), "setunit")

    async def send(self, command) -> None:
        try:
            data = self.codec.encode(command)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        if data:
            await self.transport.write(data)

    # -- polling -----------------------------------------------------------------
    async def set_rate(self, rate_hz: float) -> None:
        if not (0 < rate_hz <= MAX_POLL_HZ):
            raise DeviceError(f"{self.url}: polling rate {rate_hz:g} Hz is outside 0-{MAX_POLL_HZ:g} Hz")
        self.poll_hz = float(rate_hz)
        self._rate_hz = self.poll_hz
        if self._info is not None:
            self._info = self._with_rate(self._info)

    async def start(self) -> None:
        """Start polling at ``poll_hz``; device time 0 = the first poll."""
        await self._stop_polling()
        self.clock.reset()
        self.codec.clear_pending()
        self._streaming = True
        self._poll_task = asyncio.get_running_loop().create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        period = 1.0 / self.poll_hz
        t_start = time.monotonic()
        k, skipped = 0, 0
        while self._streaming:
            target = t_start + k * period
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > period:  # fell behind by more than a period: skip the missed ticks
                missed = int(-delay / period)
                skipped += missed
                k += missed
                continue
            if not self._streaming:
                break
            if self.codec.in_flight:
                if time.monotonic() - self._poll_sent_at > self.reply_timeout_s:
                    self.codec.clear_pending()  # reply lost: give the poll up
                    skipped += 1
                skipped += 1
            else:
                try:
                    await self.send(Poll(k * period, skipped))
                    self._poll_sent_at = time.monotonic()
                    skipped = 0
                except DeviceError:
                    self.codec.clear_pending()
                    skipped += 1  # link down: the reconnect logic is at work
            k += 1

    async def _stop_polling(self) -> None:
        self._streaming = False
        task, self._poll_task = self._poll_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def stop(self) -> None:
        """Stop polling; the reply to the last poll is still collected."""
        await self._stop_polling()
        deadline = time.monotonic() + self.reply_timeout_s
        while self.codec.in_flight and time.monotonic() < deadline and self.transport.is_open:
            await asyncio.sleep(0.005)

    async def tare(self) -> None:
        """Zero the gauge (``Z``; also clears its peaks)."""
        await self._setting(Tare(), "tare")

    async def _after_reconnect(self) -> None:
        self.codec.clear_pending()  # replies in flight died with the link

    async def close(self) -> None:
        await self._stop_polling()
        await super().close()


def make_driver(transport: Transport, url: str) -> Mark10Driver:
    from urllib.parse import parse_qsl, urlsplit

    params = dict(parse_qsl(urlsplit(url).query)) if url else {}
    unit = params.get("unit", "N").upper()
    codec = Mark10Codec(
        invert=params.get("polarity", "normal") == "inverted",
        unit=UNIT_COMMANDS.get(unit, unit),
    )
    driver = Mark10Driver(transport, codec, url)
    if "rate" in params:
        driver.poll_hz = float(params["rate"])
    return driver
