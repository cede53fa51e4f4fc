"""Base driver for devices without a clock on the wire (Jamar, Activ5, CTS500, K-Grip, scales).

Their codecs time samples from host arrival times: ``feed(data, host_time)``
(:mod:`motorlab.devices.codecs.host_timing`). :class:`HostTimedDriver` passes
the transport's receive time to the codec, skips commands that encode to no
bytes (host-side start/stop), drops samples that arrive while no stream was
started (devices that stream on their own, e.g. a CTS500 left uploading or a
Jamar that streams as soon as notifications are on), and exposes the codec's
running rate estimate as :attr:`measured_rate_hz`.
"""

from __future__ import annotations

import copy
import math
from typing import Protocol

from ..base import CodecEvent, CodecStats, Command, DeviceError, SampleBlock
from .codec_driver import CodecDriver


class HostTimedCodec(Protocol):
    """A codec whose ``feed`` takes the host arrival time (s)."""

    protocol: str

    @property
    def stats(self) -> CodecStats: ...

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]: ...

    def encode(self, command: Command) -> bytes: ...


class HostTimedDriver(CodecDriver):
    """:class:`CodecDriver` for codecs timed by the host (see the module docstring)."""

    #: samples received while not streaming (dropped, not data)
    unsolicited_samples = 0

    @property
    def timed_codec(self) -> HostTimedCodec:
        return self.codec  # type: ignore[return-value]  # every subclass holds a host-timed codec

    def _on_data(self, data: bytes, host_t: float) -> None:
        for ev in self.timed_codec.feed(data, host_t):
            if isinstance(ev, SampleBlock) and not self._streaming:
                self.unsolicited_samples += ev.n
                continue
            self._dispatch(ev, host_t)

    async def _after_reconnect(self) -> None:
        """Restart the stream but keep the codec's host clock: host times run on across a
        link loss, and samples that arrived during the reconnect are already stamped with it."""
        clock = getattr(self.codec, "clock", None)
        saved = copy.deepcopy(clock)  # the start command resets it in place
        try:
            await super()._after_reconnect()
        finally:
            if saved is not None:
                self.codec.clock = saved  # type: ignore[attr-defined]  # host-timed codecs own one

    async def send(self, command: Command) -> None:
        try:
            data = self.codec.encode(command)
        except ValueError as exc:
            raise DeviceError(f"{self.url}: {exc}") from None
        if data:
            await self.transport.write(data)

    @property
    def measured_rate_hz(self) -> float:
        """The device's sample rate estimated from arrival times, Hz (``nan`` early on)."""
        rate = getattr(self.codec, "rate_hz", math.nan)
        return float(rate) if rate is not None else math.nan
