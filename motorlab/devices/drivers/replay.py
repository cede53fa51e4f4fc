"""Replay: a stored recording played back as if a device were streaming it (``replay://PATH``).

The device layer does not read files (the BIDS reader is in :mod:`motorlab.storage`);
:mod:`motorlab.session.replay` reads the recording and hands its arrays to a
:class:`ReplayTransport`. From there on a replay takes the path live data
takes: the transport delivers packets at the recording's own pace (``speed``
times faster on request) with the host time of delivery, :class:`ReplayCodec`
decodes them into :class:`~motorlab.devices.base.SampleBlock` s whose device
times are the **original timestamps**, and :class:`ReplayDriver` queues them
for the session (:class:`~motorlab.session.acquisition.Acquisition` keeps those
times unchanged, see :attr:`ReplayDriver.preserves_time`), the live views and
the LSL outlet.

Packet layout (little-endian, made up for this in-process link): u32 sample
count n, u32 channel count k, n float64 times (s), n x k float64 values.
"""

from __future__ import annotations

import asyncio
import struct
import time

import numpy as np

from ...recording import Event, Metadata
from ..base import CodecEvent, CodecStats, Command, DeviceError, DeviceInfo, SampleBlock, Start, Stop
from ..transports.base import DataCallback, LostCallback, Transport
from .codec_driver import CodecDriver

_HEAD = struct.Struct("<II")
#: samples per packet are those within this much recording time, s
PACKET_S = 0.02


def encode_packet(t: np.ndarray, values: np.ndarray) -> bytes:
    """One packet of samples (see the module docstring)."""
    t = np.ascontiguousarray(t, dtype="<f8")
    v = np.ascontiguousarray(values, dtype="<f8").reshape(t.size, -1)
    return _HEAD.pack(t.size, v.shape[1]) + t.tobytes() + v.tobytes()


class ReplayCodec:
    """Packets -> sample blocks with the original timestamps; bad packets are counted, never raised."""

    protocol = "replay"

    def __init__(self, n_channels: int) -> None:
        self.n_channels = n_channels
        self.stats = CodecStats()

    def encode(self, command: Command) -> bytes:
        return b""  # playback is controlled by the driver, nothing goes on a wire

    def feed(self, data: bytes) -> list[CodecEvent]:
        self.stats.bytes_in += len(data)
        if len(data) < _HEAD.size:
            self.stats.crc_errors += 1
            return []
        n, k = _HEAD.unpack_from(data)
        if k != self.n_channels or len(data) != _HEAD.size + 8 * n * (1 + k):
            self.stats.crc_errors += 1
            self.stats.bytes_discarded += len(data)
            return []
        self.stats.frames_ok += 1
        arr = np.frombuffer(data, dtype="<f8", offset=_HEAD.size)
        t = arr[:n].astype(np.float64)
        values = arr[n:].astype(np.float64).reshape(n, k)
        return [SampleBlock(device_time=t, values=values)] if n else []


class ReplayTransport(Transport):
    """Delivers a recording's samples at their own pace (``speed`` x faster), as packets."""

    def __init__(self, path: str, timestamps: np.ndarray, data: np.ndarray, speed: float = 1.0):
        if not speed > 0:
            raise DeviceError(f"{path}: replay speed must be positive, got {speed:g}")
        self.address = path
        self.timestamps = np.asarray(timestamps, dtype=np.float64)
        self.data = np.asarray(data, dtype=np.float64).reshape(self.timestamps.size, -1)
        self.speed = float(speed)
        self.done = asyncio.Event()
        self._on_data: DataCallback | None = None
        self._task: asyncio.Task[None] | None = None
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        self._on_data = on_data
        self._open = True

    async def write(self, data: bytes) -> None:
        if not self._open:
            raise DeviceError(f"{self.address}: replay is closed")

    def play(self) -> None:
        """Start delivering from the first sample (the driver's start)."""
        self.pause()
        self.done.clear()
        self._task = asyncio.get_running_loop().create_task(self._play())

    def pause(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _play(self) -> None:
        t = self.timestamps
        if t.size == 0:
            self.done.set()
            return
        t0, wall0 = float(t[0]), time.monotonic()
        i = 0
        while i < t.size:
            j = int(np.searchsorted(t, t[i] + PACKET_S, side="left"))
            j = max(j, i + 1)
            due = wall0 + (float(t[j - 1]) - t0) / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._on_data is not None:
                self._on_data(encode_packet(t[i:j], self.data[i:j]), time.monotonic())
            i = j
        self.done.set()

    async def close(self) -> None:
        self.pause()
        self._open = False


class ReplayDriver(CodecDriver):
    """A stored recording as a device: ``info()`` is the original device's, times are the original ones.

    Attributes:
        events: the recording's events (cues, trials, gaps, markers), for whoever
            re-writes it (:func:`motorlab.session.replay.replay_recording`).
        source_metadata: the recording's metadata.
    """

    #: the session keeps the device times as recording times (they are the original timestamps)
    preserves_time = True
    transport: ReplayTransport

    def __init__(
        self,
        transport: ReplayTransport,
        info: DeviceInfo,
        events: list[Event] | None = None,
        url: str = "",
        metadata: Metadata | None = None,
    ):
        super().__init__(transport, ReplayCodec(len(info.channels)), url)
        self._info = info
        self.events = list(events or [])
        #: the original recording's metadata (participant, task, device)
        self.source_metadata = metadata

    async def info(self) -> DeviceInfo:
        assert self._info is not None
        return self._info

    async def set_rate(self, rate_hz: float) -> None:
        assert self._info is not None
        if abs(rate_hz - self._info.nominal_rate_hz) > 1e-9:
            raise DeviceError(
                f"{self.url}: a replay plays at its recorded rate ({self._info.nominal_rate_hz:g} Hz)"
            )

    async def start(self) -> None:
        self._streaming = True
        await self.send(Start())
        self.transport.play()

    async def stop(self) -> None:
        self._streaming = False
        await self.send(Stop())
        self.transport.pause()

    async def tare(self) -> None:
        raise DeviceError(f"{self.url}: a replay is already zeroed as it was recorded (no tare)")

    async def battery(self) -> float | None:
        return None

    async def finished(self) -> None:
        """Wait until every sample has been delivered."""
        await self.transport.done.wait()
