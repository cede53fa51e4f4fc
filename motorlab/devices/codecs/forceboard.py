"""Sans-I/O codec for the PitchSix Force Board (portable force plate) over BLE.

**Reverse-engineered** by the reference client; PitchSix publishes a "Force
Board Public API v1.0" PDF that was not readable here. Source:
Stevie-Ray/hangtime-grip-connect (BSD-2) ``packages/core/src/models/device/forceboard.model.ts``
and ``packages/docs/src/devices/forceboard.md`` (research/devices_clinic.md §1a).

* GATT. Weight service ``467a8516-6e39-11eb-9439-0242ac130002``; its Device
  Mode characteristic ``467a8517-…`` takes one byte: ``04`` stream, ``05``
  tare, ``06`` quick start (streams while the force is above the threshold),
  ``07`` idle. Force Board service ``9a88d67f-8df2-4afe-9e0d-c2bbbe773dd0``:
  force data ``9a88d682-…`` (notify), tare ``9a88d683-…`` (write ``01``),
  threshold ``9a88d686-…`` (3 bytes, lb, big-endian). Battery: the standard
  Battery Level ``0x2A19`` (one byte, %), see :func:`battery_reply`. Name
  "Force Board".
* Force data notification: a u16 big-endian sample count, then that many
  3-byte big-endian samples in **lb** (the reference multiplies the count by
  0.453592 to get kg, i.e. 1 lb per count; ``lb_per_count`` lets a unit that
  differs be read right). Samples are read as signed 24-bit (derived: a small
  negative load after tare stays small; the reference reads them unsigned).
* No timestamps, no counter, no documented rate: samples are timed from host
  arrival times (:class:`~.host_timing.HostClock`; several samples of one
  notification are spread back towards the previous arrival), and
  :attr:`ForceBoardCodec.rate_hz` is the running estimate.

**Integrity.** A notification whose length disagrees with its count field is
dropped and counted in ``malformed_frames`` (never decoded halfway). Lost or
duplicated notifications cannot be detected.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...recording import Channel
from ...units import LBF_N
from ..base import BatteryReply, CodecEvent, Command, RowBlock, Start, Stop, Tare
from .host_timing import HostClock
from .integrity import IntegrityStats

WEIGHT_SERVICE_UUID = "467a8516-6e39-11eb-9439-0242ac130002"
MODE_UUID = "467a8517-6e39-11eb-9439-0242ac130002"  # write: one mode byte
FORCEBOARD_SERVICE_UUID = "9a88d67f-8df2-4afe-9e0d-c2bbbe773dd0"
FORCE_UUID = "9a88d682-8df2-4afe-9e0d-c2bbbe773dd0"  # notify
TARE_UUID = "9a88d683-8df2-4afe-9e0d-c2bbbe773dd0"  # write 01
THRESHOLD_UUID = "9a88d686-8df2-4afe-9e0d-c2bbbe773dd0"  # write: 3 bytes lb, big-endian
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
NAME_PREFIX = "Force Board"

MODE_STREAM, MODE_TARE, MODE_QUICK_START, MODE_IDLE = 0x04, 0x05, 0x06, 0x07
SAMPLE_BYTES = 3

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="plate"),)


@dataclass(frozen=True)
class QuickStart(Command):
    """Mode ``06``: stream only while the force is above the threshold."""


def threshold_bytes(lb: int) -> bytes:
    """Value for the threshold characteristic: 3 bytes, big-endian lb."""
    if not 0 <= lb < 1 << 24:
        raise ValueError(f"threshold {lb} lb is out of range")
    return lb.to_bytes(3, "big")


def battery_reply(value: bytes) -> BatteryReply | None:
    """The standard Battery Level characteristic (one byte, 0-100 %)."""
    if len(value) != 1 or value[0] > 100:
        return None
    return BatteryReply(percent=float(value[0]))


def parse_notification(data: bytes) -> np.ndarray | None:
    """A force notification -> raw sample values (int64 counts); ``None`` if its length
    disagrees with its count field."""
    if len(data) < 2:
        return None
    count = int.from_bytes(data[:2], "big")
    if len(data) != 2 + SAMPLE_BYTES * count:
        return None
    raw = np.frombuffer(data, dtype=np.uint8, offset=2).reshape(-1, SAMPLE_BYTES).astype(np.int64)
    values = raw[:, 0] << 16 | raw[:, 1] << 8 | raw[:, 2]
    return np.where(values >= 1 << 23, values - (1 << 24), values)


@lru_cache(maxsize=32)
def _samples_layout(count: int) -> tuple[Callable[[bytes], tuple[int, ...]], tuple[int, ...]]:
    """The unpacker of ``count`` samples after the count field, each as its signed high byte and
    unsigned low 16 bits (a signed 24-bit value = high x 65536 + low), and where each sample's high
    byte is in its result (0, 2, 4, ...)."""
    return struct.Struct(">2x" + "bH" * count).unpack, tuple(range(0, 2 * count, 2))


def force_notification(lb_counts: list[int]) -> bytes:
    """Encode samples as one notification (emulators and tests)."""
    body = b"".join(int(v).to_bytes(SAMPLE_BYTES, "big", signed=True) for v in lb_counts)
    return len(lb_counts).to_bytes(2, "big") + body


class ForceBoardCodec:
    """Force Board notifications -> force blocks (N) timed from host arrival times.

    Args:
        lb_per_count: pounds per raw count (1.0 per the reference client).

    ``encode`` returns the Device Mode byte (write it to :data:`MODE_UUID`).
    """

    protocol = "forceboard"
    channels = CHANNELS

    def __init__(self, lb_per_count: float = 1.0) -> None:
        self.n_per_count = lb_per_count * LBF_N
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the sample rate (Hz) from host arrival times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            return bytes((MODE_STREAM,))
        if isinstance(command, QuickStart):
            self.clock.reset()
            self._index = 0
            return bytes((MODE_QUICK_START,))
        if isinstance(command, Stop):
            return bytes((MODE_IDLE,))
        if isinstance(command, Tare):
            return bytes((MODE_TARE,))
        raise ValueError(f"the Force Board has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one notification; never raises."""
        n = len(data)
        stats = self.stats
        stats.bytes_in += n
        count = data[0] << 8 | data[1] if n >= 2 else -1
        if n != 2 + SAMPLE_BYTES * count:  # (parse_notification's check)
            stats.malformed_frames += 1
            stats.bytes_discarded += n
            return []
        stats.frames_ok += 1
        if not count:
            return []
        # a handful of samples per notification: one struct unpack beats NumPy's fixed cost per call,
        # and a loop of appends beats a comprehension (a nested function call on Python 3.11)
        unpack, highs = _samples_layout(count)
        raw, k = unpack(data), self.n_per_count
        values = []
        for i in highs:
            values.append((raw[i] * 65536 + raw[i + 1]) * k)
        arrival = host_time if host_time is not None and math.isfinite(host_time) else math.nan
        index = self._index
        self._index = index + count
        return [RowBlock(self.clock.times(count, host_time), values, 1, index, 0, arrival)]
