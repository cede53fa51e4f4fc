"""Types shared by every codec, transport and driver.

The device layer follows the *sans-I/O* pattern (as in h11): a codec is a pure
state machine — ``feed(bytes)`` returns decoded events, ``encode(command)``
returns bytes — and does no I/O and keeps no clock except what it is given.
Transports move bytes; drivers join a transport and a codec.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np

from ..errors import DeviceError
from ..recording import Channel

__all__ = ["DeviceError"]  # re-exported: devices code raises it from here


class ProtocolMismatch(DeviceError):
    """The device answered, but not in the protocol that was asked for."""


# --------------------------------------------------------------------- samples
@dataclass(frozen=True)
class DeviceInfo:
    """What a device says about itself (or what its driver knows)."""

    model: str
    serial: str
    firmware: str
    channels: tuple[Channel, ...]
    nominal_rate_hz: float
    protocol: str
    manufacturer: str = "n/a"
    #: per-channel raw-to-unit scale reported by the device (1.0 if already scaled)
    scales: tuple[float, ...] = ()


@dataclass(slots=True)  # (no per-block __dict__: a live stream makes one or more per notification)
class SampleBlock:
    """Consecutive samples decoded from the bytes of one ``feed`` call (one frame,
    or several contiguous frames merged; a sequence gap always starts a new block).

    Attributes:
        device_time: float64 (n,) — seconds on the device clock (device
            timestamps, or sequence number x period when the device has none).
        values: float64 (n, n_channels) in the channel units of :class:`DeviceInfo`.
        host_time: host clock (``time.monotonic()``, s) when the bytes arrived;
            set by the driver, ``nan`` inside codecs (they have no clock).
        seq: sequence number of the first sample, if the protocol has one.
        dropped_before: samples known to be missing just before this block.
    """

    device_time: np.ndarray
    values: np.ndarray
    host_time: float = float("nan")
    seq: int | None = None
    dropped_before: int = 0

    @property
    def n(self) -> int:
        return int(self.device_time.size)

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1]) if self.values.ndim == 2 else 0

    @property
    def first_time(self) -> float:
        """Device time of the first sample (s); the block must not be empty."""
        return float(self.device_time[0])

    @property
    def last_time(self) -> float:
        """Device time of the last sample (s); the block must not be empty."""
        return float(self.device_time[-1])


class RowBlock(SampleBlock):
    """A :class:`SampleBlock` that keeps the decoded Python floats and builds its arrays on first use.

    A per-frame parser decodes a few values with :mod:`struct`; making two arrays
    of them costs more than the decoding (about a microsecond per ``np.array``
    call), and a one-sample BLE notification then costs several times a plain
    loop's work per sample. A consumer that joins many blocks
    (:func:`stack_blocks`, ``codecs.blocks.join_runs``) builds one array for all
    of them instead; one that reads ``device_time``/``values`` gets the same
    float64 arrays as from any block. ``n``, ``n_channels``, ``first_time`` and
    ``last_time`` need no arrays.

    Args:
        times: device times (s), one per sample.
        flat: values sample by sample, channel by channel (``len(times) * n_channels``).
    """

    def __init__(
        self,
        times: Sequence[float],
        flat: Sequence[float],
        n_channels: int,
        seq: int | None = None,
        dropped_before: int = 0,
        host_time: float = float("nan"),
    ) -> None:  # (no dataclass __init__: the arrays are properties here)
        self._n = n = len(times)
        self._n_channels = n_channels
        # one sample (a notification of one frame, a polled gauge): keep its time as a float, and
        # its value too if it has one channel, not the sequences, so that a stream of such blocks
        # held by a consumer adds fewer objects for the garbage collector to track (a block of two
        # arrays adds one; each tracked object held makes full collections come sooner)
        if n == 1:
            self._one = True
            self._times: Any = times[0]  # float, or Sequence[float]
            self._flat: Any = flat[0] if n_channels == 1 else flat  # the same
        else:
            self._one = False
            self._times, self._flat = times, flat
        self._t: np.ndarray | None = None
        self._v: np.ndarray | None = None
        self.host_time, self.seq, self.dropped_before = host_time, seq, dropped_before

    __slots__ = ("_flat", "_n", "_n_channels", "_one", "_t", "_times", "_v")

    @property
    def rows(self) -> tuple[Sequence[float], Sequence[float]] | None:
        """(times, flat) as given, or None once the arrays exist (they may be changed in place)."""
        if self._t is not None:
            return None
        if not self._one:
            return self._times, self._flat
        return (self._times,), ((self._flat,) if self._n_channels == 1 else self._flat)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._t is None or self._v is None:
            times, flat = self.rows or ((), ())
            self._v = np.array(flat, dtype=np.float64).reshape(self._n, self._n_channels)
            self._t = np.array(times, dtype=np.float64)
            self._times = self._flat = ()  # (the floats are no longer needed)
            self._one = False
        return self._t, self._v

    @property
    def device_time(self) -> np.ndarray:
        return self._arrays()[0]

    @device_time.setter
    def device_time(self, value: np.ndarray) -> None:
        self._arrays()
        self._t = np.asarray(value, dtype=np.float64)

    @property
    def values(self) -> np.ndarray:
        return self._arrays()[1]

    @values.setter
    def values(self, value: np.ndarray) -> None:
        self._arrays()
        self._v = np.asarray(value, dtype=np.float64)

    @property
    def n(self) -> int:
        return self._n

    @property
    def n_channels(self) -> int:
        return self._n_channels

    @property
    def first_time(self) -> float:
        if self._t is not None:
            return float(self._t[0])
        return self._times if self._one else self._times[0]

    @property
    def last_time(self) -> float:
        if self._t is not None:
            return float(self._t[-1])
        return self._times if self._one else self._times[-1]


# ------------------------------------------------------------ codec events
@dataclass(frozen=True)
class InfoReply:
    info: DeviceInfo


@dataclass(frozen=True)
class Ack:
    """A device's answer to a command; ``ok`` False carries ``error``."""

    command: str
    ok: bool = True
    error: str = ""
    value: float | str | None = None


@dataclass(frozen=True)
class BatteryReply:
    percent: float | None = None
    volts: float | None = None


#: What ``Codec.feed`` yields.
CodecEvent = SampleBlock | InfoReply | Ack | BatteryReply


# ------------------------------------------------------------ commands
@dataclass(frozen=True)
class Command:
    """Base class of the abstract commands a driver can send."""

    @property
    def name(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class GetInfo(Command):
    pass


@dataclass(frozen=True)
class Start(Command):
    pass


@dataclass(frozen=True)
class Stop(Command):
    pass


@dataclass(frozen=True)
class SetRate(Command):
    rate_hz: float = 80.0


@dataclass(frozen=True)
class Tare(Command):
    pass


@dataclass(frozen=True)
class GetBattery(Command):
    pass


@dataclass
class CodecStats:
    """Integrity counters every codec keeps."""

    bytes_in: int = 0
    frames_ok: int = 0
    crc_errors: int = 0
    resyncs: int = 0
    bytes_discarded: int = 0
    dropped_samples: int = 0


@runtime_checkable
class Codec(Protocol):
    """Sans-I/O protocol codec: bytes in, events out; commands in, bytes out."""

    protocol: str

    @property
    def stats(self) -> CodecStats: ...  # read-only here, so a codec may keep a subclass (IntegrityStats)

    def feed(self, data: bytes) -> list[CodecEvent]: ...

    def encode(self, command: Command) -> bytes: ...


def stack_blocks(blocks: Sequence[SampleBlock]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate blocks into (device_time, values) arrays."""
    if not blocks:
        return np.zeros(0), np.zeros((0, 0))
    m = blocks[0].n_channels
    if all(type(b) is RowBlock and b._t is None and b._n_channels == m for b in blocks):  # floats kept
        rows = cast("list[RowBlock]", blocks)
        # (one pass over the blocks' own floats: a one-sample block keeps its time, and its value if
        # it has one channel, as a bare float)
        if all(b._one for b in rows):
            t = np.array([b._times for b in rows], dtype=np.float64)
            flat = (
                [b._flat for b in rows]
                if m == 1
                else list(itertools.chain.from_iterable(b._flat for b in rows))
            )
        else:
            chain = itertools.chain.from_iterable
            t = np.array(list(chain((b._times,) if b._one else b._times for b in rows)), dtype=np.float64)
            bare = m == 1
            flat = list(chain((b._flat,) if b._one and bare else b._flat for b in rows))
        return t, np.array(flat, dtype=np.float64).reshape(len(t), m)
    return (
        np.concatenate([b.device_time for b in blocks]),
        np.concatenate([b.values for b in blocks], axis=0),
    )


@dataclass
class LinkStatus:
    """Live status a driver exposes for the live view and metadata."""

    connected: bool = False
    reconnects: int = 0
    dropped_samples: int = 0
    battery_percent: float | None = None
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (host_t_lost, host_t_back)
