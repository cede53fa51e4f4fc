"""A driver = transport + codec, with reconnection, clocks and drop counting.

``CodecDriver`` pumps bytes from its transport through its codec on the event
loop thread; sample blocks go to an asyncio queue read by :meth:`blocks`, other
events complete pending :meth:`request` calls. When the link is lost it
reconnects with bounded retries and back-off, re-sends the start command, and
records the gap (host times) so the session can write a ``gap`` event. Nothing
received before the loss is dropped: blocks already decoded stay in the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..base import (
    Ack,
    BatteryReply,
    Codec,
    CodecEvent,
    Command,
    DeviceError,
    DeviceInfo,
    GetBattery,
    GetInfo,
    InfoReply,
    LinkStatus,
    ProtocolMismatch,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    Tare,
)
from ..clock import ClockMapper
from ..transports.base import Transport

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkGap:
    """Marker queued between the blocks before and after a link loss (host monotonic s)."""

    host_lost: float
    host_back: float


class CodecDriver:
    """Generic driver for request/response + streaming protocols.

    Subclasses override :meth:`info`, :meth:`start`, … where a device needs a
    special sequence; the plumbing (queue, waiters, reconnect) stays here.
    """

    #: seconds to wait for a reply to a command
    reply_timeout_s = 2.0
    #: reconnect attempts after a link loss, and the first back-off delay (doubles)
    reconnect_attempts = 8
    reconnect_backoff_s = 0.1

    def __init__(self, transport: Transport, codec: Codec, url: str = ""):
        self.transport = transport
        self.codec = codec
        self.url = url or transport.address
        self.status = LinkStatus()
        self.clock = ClockMapper()
        self._queue: asyncio.Queue[SampleBlock | LinkGap | None] = asyncio.Queue()
        self._waiters: list[tuple[Callable[[CodecEvent], bool], asyncio.Future]] = []
        self._streaming = False
        self._closing = False
        self._reconnect_task: asyncio.Task | None = None
        #: blocks decoded while a reconnect is being completed; queued after on_gap
        #: has run, so listeners see the gap before the new link's first sample
        self._held: list[SampleBlock] | None = None
        self._info: DeviceInfo | None = None
        #: raw sample chunks of a running host tare (:meth:`_collect_unloaded`); subclasses'
        #: ``_dispatch`` append to it instead of delivering while it is a list
        self._taring: list[np.ndarray] | None = None
        self._rate_hz: float | None = None
        #: called with (host_t_lost, host_t_back) after each successful reconnect, when
        #: the consumer of :meth:`blocks` reaches the gap (in order with the samples)
        self.on_gap: list[Callable[[float, float], None]] = []

    # -- life cycle -------------------------------------------------------------
    async def open(self) -> None:
        await self.transport.open(self._on_data, self._on_lost)
        self.status.connected = True

    async def close(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        if self.transport.is_open and self._streaming:
            try:
                await asyncio.wait_for(self.send(Stop()), 1.0)
            except (DeviceError, asyncio.TimeoutError):
                pass
        self._streaming = False
        await self.transport.close()
        self.status.connected = False
        self._release_held()
        self._queue.put_nowait(None)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- incoming ---------------------------------------------------------------
    def _on_data(self, data: bytes, host_t: float) -> None:
        for ev in self.codec.feed(data):
            self._dispatch(ev, host_t)

    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if isinstance(ev, SampleBlock):
            ev.host_time = host_t
            if ev.n:
                self.clock.update(float(ev.device_time[-1]), host_t)
            self.status.dropped_samples += ev.dropped_before
            if self._held is not None:
                self._held.append(ev)
            else:
                self._queue.put_nowait(ev)
            return
        if isinstance(ev, BatteryReply) and ev.percent is not None:
            self.status.battery_percent = ev.percent
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(ev):
                fut.set_result(ev)
                self._waiters.remove((pred, fut))
                break

    def _on_lost(self, exc: BaseException | None) -> None:
        self.status.connected = False
        if self._closing:
            return
        log.warning("%s: link lost (%s); reconnecting", self.url, exc)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        lost_at = time.monotonic()
        delay = self.reconnect_backoff_s
        await self.transport.close()
        for attempt in range(1, self.reconnect_attempts + 1):
            await asyncio.sleep(delay)
            if self._closing:
                return
            self._held = []
            self.clock.reset()
            try:
                await self.transport.open(self._on_data, self._on_lost)
                await self._after_reconnect()
            except (DeviceError, OSError, asyncio.TimeoutError) as exc:
                log.info("%s: reconnect attempt %d failed: %s", self.url, attempt, exc)
                self._release_held()
                await self.transport.close()
                delay = min(delay * 2, 2.0)
                continue
            back = time.monotonic()
            self.status.connected = True
            self.status.reconnects += 1
            self.status.gaps.append((lost_at, back))
            # the gap travels through the queue so consumers see it in order:
            # after every block from before the loss, before the first one after it
            self._queue.put_nowait(LinkGap(lost_at, back))
            self._release_held()
            return
        log.error("%s: could not reconnect after %d attempts", self.url, self.reconnect_attempts)
        self._queue.put_nowait(None)

    def _release_held(self) -> None:
        held, self._held = self._held or [], None
        for blk in held:
            self._queue.put_nowait(blk)

    async def _after_reconnect(self) -> None:
        """Restore the device state after a reconnect (rate, streaming)."""
        if self._rate_hz is not None:
            await self.set_rate(self._rate_hz)
        if self._streaming:
            await self.send(Start())

    # -- outgoing ---------------------------------------------------------------
    async def send(self, command: Command) -> None:
        """Encode and write a command; one the codec cannot encode is a one-line DeviceError."""
        try:
            data = self.codec.encode(command)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        await self.transport.write(data)

    async def request(
        self, command: Command, match: Callable[[CodecEvent], bool], timeout: float | None = None
    ) -> CodecEvent:
        """Send ``command`` and wait for the first event that ``match`` accepts."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        entry = (match, fut)
        self._waiters.append(entry)
        try:
            await self.send(command)
            return await asyncio.wait_for(fut, timeout or self.reply_timeout_s)
        except asyncio.TimeoutError:
            raise DeviceError(
                f"{self.url}: no reply to '{command.name}' within {timeout or self.reply_timeout_s:g} s"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def _ack(self, command: Command) -> Ack:
        ev = await self.request(command, lambda e: isinstance(e, Ack) and e.command == command.name)
        assert isinstance(ev, Ack)
        if not ev.ok:
            raise DeviceError(f"{self.url}: device refused '{command.name}': {ev.error}")
        return ev

    # -- public API -------------------------------------------------------------
    async def info(self) -> DeviceInfo:
        """Ask the device who it is; a non-answer is a protocol mismatch."""
        if self._info is None:
            try:
                ev = await self.request(GetInfo(), lambda e: isinstance(e, InfoReply))
            except DeviceError:
                raise ProtocolMismatch(
                    f"{self.url}: no valid '{self.codec.protocol}' handshake "
                    f"(device silent or speaking another protocol)"
                ) from None
            assert isinstance(ev, InfoReply)
            self._info = ev.info
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        await self._ack(SetRate(rate_hz))
        self._rate_hz = rate_hz

    async def start(self) -> None:
        self.clock.reset()
        await self._ack(Start())
        self._streaming = True

    async def stop(self) -> None:
        self._streaming = False
        await self._ack(Stop())

    async def tare(self) -> None:
        await self._ack(Tare())

    async def _collect_unloaded(self, seconds: float, send_start: bool = True) -> np.ndarray:
        """The raw samples of ``seconds`` s for a host tare (concatenated chunks of
        :attr:`_taring`). When not streaming, streams for the while (sending start and stop
        if ``send_start``). :class:`DeviceError` naming the URL if no sample came."""
        was_streaming = self._streaming
        self._taring = []
        try:
            if not was_streaming:
                self._streaming = True
                if send_start:
                    await self.send(Start())
            await asyncio.sleep(seconds)
        finally:
            chunks, self._taring = self._taring, None
            if not was_streaming:
                self._streaming = False
                if send_start:
                    await self.send(Stop())
        if not chunks:
            raise DeviceError(f"{self.url}: no samples during the {seconds:g} s tare")
        return np.concatenate(chunks)

    async def battery(self) -> float | None:
        ev = await self.request(GetBattery(), lambda e: isinstance(e, BatteryReply))
        assert isinstance(ev, BatteryReply)
        return ev.percent

    def integrity(self) -> dict[str, int]:
        """Sequence integrity so far (counts since the driver was built).

        ``dropped_samples``: samples known missing (sequence gaps); ``duplicates``:
        repeated samples dropped; ``malformed_frames``: frames that failed a check
        (checksum, length, syntax); ``unknown_frames``: well-formed messages of an
        unknown kind; ``link_gaps``: link losses. Codecs without a counter report 0.
        """
        stats = self.codec.stats
        return {
            "dropped_samples": int(self.status.dropped_samples),
            "duplicates": int(getattr(stats, "duplicates", 0)),
            "malformed_frames": int(getattr(stats, "malformed_frames", 0)) + int(stats.crc_errors),
            "unknown_frames": int(getattr(stats, "unknown_frames", 0)),
            "link_gaps": len(self.status.gaps),
        }

    def _gap_reached(self, gap: LinkGap) -> None:
        for cb in self.on_gap:
            cb(gap.host_lost, gap.host_back)

    async def blocks(self) -> AsyncIterator[SampleBlock]:
        """Decoded sample blocks until the driver is closed or gives up.

        ``on_gap`` callbacks run when the iteration reaches a link gap, i.e.
        after the last block received before the loss."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, LinkGap):
                self._gap_reached(item)
                continue
            yield item

    def pending_blocks(self) -> list[SampleBlock]:
        """Take every block already decoded, without waiting (gaps handled as in :meth:`blocks`)."""
        out = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._queue.put_nowait(None)
                break
            if isinstance(item, LinkGap):
                self._gap_reached(item)
                continue
            out.append(item)
        return out
