"""Base driver for devices without a clock on the wire (Jamar, Activ5, CTS500, K-Grip, scales).

Their codecs time samples from host arrival times: ``feed(data, host_time)``
(:mod:`motorlab.devices.codecs.host_timing`). :class:`HostTimedDriver` passes
the transport's receive time to the codec, skips commands that encode to no
bytes (host-side start/stop), drops samples that arrive while no stream was
started (devices that stream on their own, e.g. a CTS500 left uploading or a
Jamar that streams as soon as notifications are on), and exposes the codec's
running rate estimate as :attr:`measured_rate_hz`.

What these devices share also lives here: :meth:`HostTimedDriver.info` built
from the device's entry in :mod:`motorlab.devices.spec` (``SPEC_KEY``) for
devices without a handshake, a :meth:`HostTimedDriver.set_rate` that refuses
(the rate is measured), and start/stop that send the commands without waiting
for a reply.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, ClassVar, Protocol

from ..base import CodecEvent, CodecStats, Command, DeviceError, DeviceInfo, SampleBlock, Start, Stop
from ..spec import device
from ..transports.base import Transport
from .codec_driver import CodecDriver


class HostTimedCodec(Protocol):
    """A codec whose ``feed`` takes the host arrival time (s)."""

    protocol: str

    @property
    def stats(self) -> CodecStats: ...

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]: ...

    def encode(self, command: Command) -> bytes: ...


def spec_device_info(key: str, transport: Transport, manufacturer: str, **fields: Any) -> DeviceInfo:
    """:class:`DeviceInfo` from the ``devices/spec.py`` entry ``key`` (model, channels, nominal
    rate, protocol); the serial is the transport's (BLE) address and the firmware ``"n/a"``.
    ``fields`` override any of these (e.g. ``serial``, ``scales``)."""
    spec = device(key)
    info = DeviceInfo(
        model=spec.model,
        serial=transport.peer_address or transport.address,
        firmware="n/a",
        channels=spec.channels,
        nominal_rate_hz=spec.nominal_rate_hz,
        protocol=spec.protocol,
        manufacturer=manufacturer,
    )
    return dataclasses.replace(info, **fields) if fields else info


class HostTimedDriver(CodecDriver):
    """:class:`CodecDriver` for codecs timed by the host (see the module docstring)."""

    #: samples received while not streaming (dropped, not data)
    unsolicited_samples = 0
    #: key of the device's entry in :mod:`motorlab.devices.spec` (for :meth:`info`)
    SPEC_KEY: ClassVar[str] = ""
    #: the manufacturer reported by :meth:`info`
    MANUFACTURER: ClassVar[str] = "n/a"
    #: how :meth:`set_rate` names the device in its refusal, e.g. "the Force Board"
    #: (default: "the <spec model>")
    RATE_NAME: ClassVar[str] = ""

    async def info(self) -> DeviceInfo:
        """What is known without a handshake (none is documented): the spec entry
        :attr:`SPEC_KEY`, with the BLE address as the serial."""
        if self._info is None:
            self._info = spec_device_info(self.SPEC_KEY, self.transport, self.MANUFACTURER)
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        name = self.RATE_NAME or f"the {device(self.SPEC_KEY).model}"
        raise DeviceError(f"{self.url}: {name}'s sample rate cannot be set (it is measured)")

    async def start(self) -> None:
        """Stream: no reply is awaited (the first samples may come before the write's reply)."""
        self.clock.reset()
        self._streaming = True
        await self.send(Start())

    async def stop(self) -> None:
        self._streaming = False
        await self.send(Stop())

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
