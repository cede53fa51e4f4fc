"""Driver for the Vernier Go Direct Hand Dynamometer (GDX-HD) over BLE.

Open sequence (as Vernier's libraries do it): INIT, GET_STATUS (firmware,
battery), GET_DEVICE_INFO (order code, serial), GET_DEFAULT_SENSORS_MASK and
GET_SENSOR_INFO for each default sensor (description, unit, typical period).
Replies are matched on (command, rolling counter); one command at a time.

The device cannot be zeroed, so :meth:`tare` zeroes on the host: the mean of
``tare_window_s`` seconds of samples taken with the handle at rest (the stream
is started for it when not running) becomes the codec's zero.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ...recording import Channel
from ..base import CodecEvent, Command, DeviceError, DeviceInfo, SampleBlock, SetRate, Start, Stop
from ..codecs.vernier import (
    DEFAULT_SENSOR_MASK,
    MIN_PERIOD_US,
    GdxReply,
    GetDefaultSensors,
    GetDeviceInfo,
    GetSensorInfo,
    GetStatus,
    Init,
    VernierCodec,
    mask_bits,
    parse_device_info,
    parse_sensor_info,
    parse_status,
)
from ..transports.base import Transport
from .codec_driver import CodecDriver

_COMMAND_IDS = {
    Init: 0x1A,
    GetStatus: 0x10,
    GetDeviceInfo: 0x55,
    GetDefaultSensors: 0x56,
    GetSensorInfo: 0x50,
    SetRate: 0x1B,
    Start: 0x18,
    Stop: 0x19,
}


def _channel(number: int, description: str, unit: str) -> Channel:
    if "force" in description.lower():
        return Channel("force", "MISC", unit or "N", tracked_point="handle")
    name = "".join(c if c.isalnum() else "_" for c in description.lower()).strip("_") or f"sensor{number}"
    return Channel(name, "MISC", unit or "n/a")


class VernierDriver(CodecDriver):
    codec: VernierCodec
    #: host zero: seconds of samples averaged by :meth:`tare`
    tare_window_s = 0.5

    def __init__(self, transport: Transport, codec: VernierCodec | None = None, url: str = ""):
        super().__init__(transport, codec or VernierCodec(), url)
        self._one_at_a_time = asyncio.Lock()
        self._tap: Callable[[SampleBlock], None] | None = None
        self.status_info: dict[str, object] = {}

    async def request(self, command: Command, match, timeout: float | None = None) -> CodecEvent:
        async with self._one_at_a_time:
            return await super().request(command, match, timeout)

    async def _command(self, command: Command) -> bytes:
        """Send a command and return its reply payload (matched on command ID and counter)."""
        cid = _COMMAND_IDS[type(command)]
        codec = self.codec

        def is_reply(ev: CodecEvent) -> bool:
            return isinstance(ev, GdxReply) and ev.command == cid and ev.counter == codec.last_counter

        ev = await self.request(command, is_reply)
        assert isinstance(ev, GdxReply)
        return ev.payload

    def _dispatch(self, ev: CodecEvent, host_t: float) -> None:
        if self._tap is not None and isinstance(ev, SampleBlock):
            self._tap(ev)
        super()._dispatch(ev, host_t)

    async def info(self) -> DeviceInfo:
        if self._info is None:
            try:
                await self._command(Init())
                status = parse_status(await self._command(GetStatus())) or {}
                dev = parse_device_info(await self._command(GetDeviceInfo())) or {}
                default = await self._command(GetDefaultSensors())
            except DeviceError:
                raise DeviceError(
                    f"{self.url}: no valid 'vernier' handshake (device silent or not a Go Direct sensor)"
                ) from None
            mask = int.from_bytes(default[:4], "little") if len(default) >= 4 else DEFAULT_SENSOR_MASK
            mask = mask or DEFAULT_SENSOR_MASK
            channels, periods = [], []
            for number in mask_bits(mask):
                si = parse_sensor_info(await self._command(GetSensorInfo(number)))
                if si is None:
                    raise DeviceError(f"{self.url}: sensor {number} sent no valid description")
                channels.append(_channel(number, si.description, si.unit))
                periods.append(max(si.typical_period_us, MIN_PERIOD_US))
            self.codec.configure(mask)
            self.codec.period_us = max(periods)
            self.status_info = status
            if status:
                self.status.battery_percent = float(status["battery_percent"])  # type: ignore[arg-type]
            self._info = DeviceInfo(
                model=f"Vernier {dev.get('order_code') or 'GDX'}",
                serial=dev.get("serial") or "n/a",
                firmware=str(status.get("firmware", "n/a")),
                channels=tuple(channels),
                nominal_rate_hz=1e6 / self.codec.period_us,
                protocol="vernier",
                manufacturer="Vernier",
            )
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        if not (0 < rate_hz <= 1e6 / MIN_PERIOD_US):
            raise DeviceError(
                f"{self.url}: rate {rate_hz:g} Hz out of range (0 < rate <= {1e6 / MIN_PERIOD_US:g})"
            )
        await self._command(SetRate(rate_hz))
        self._rate_hz = rate_hz
        if self._info is not None:
            self._info = dataclasses.replace(self._info, nominal_rate_hz=1e6 / self.codec.period_us)

    async def start(self) -> None:
        self.clock.reset()
        await self._command(Start())
        self._streaming = True

    async def stop(self) -> None:
        self._streaming = False
        await self._command(Stop())

    async def battery(self) -> float | None:
        status = parse_status(await self._command(GetStatus()))
        return None if status is None else float(status["battery_percent"])  # type: ignore[arg-type]

    async def tare(self, window_s: float | None = None) -> None:
        """Host zero: the mean of the next ``window_s`` s of samples (handle at rest)."""
        window = self.tare_window_s if window_s is None else window_s
        need = max(1, int(round(window * 1e6 / self.codec.period_us)))
        raw: list[np.ndarray] = []
        enough = asyncio.Event()

        def tap(blk: SampleBlock) -> None:
            if not enough.is_set():
                raw.append(blk.values + self.codec.zero)
                if sum(len(r) for r in raw) >= need:
                    enough.set()

        was_streaming = self._streaming
        t_begin = time.monotonic()
        self._tap = tap
        try:
            if not was_streaming:
                await self.start()
            await asyncio.wait_for(enough.wait(), window * 4 + self.reply_timeout_s)
        except asyncio.TimeoutError:
            raise DeviceError(
                f"{self.url}: no samples for the host zero within {window * 4 + self.reply_timeout_s:g} s"
            ) from None
        finally:
            self._tap = None
            if not was_streaming:
                await self.stop()
        values = np.concatenate(raw)[:need]
        self.codec.zero = np.nanmean(values, axis=0)
        if not was_streaming:
            await asyncio.sleep(0.05)
            for blk in self.pending_blocks():  # the tare samples are not data; keep older ones
                if blk.host_time < t_begin:
                    self._queue.put_nowait(blk)


def make_driver(transport: Transport, url: str) -> VernierDriver:
    return VernierDriver(transport, VernierCodec(), url)
