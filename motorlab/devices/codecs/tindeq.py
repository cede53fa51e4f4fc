"""Sans-I/O codec for the Tindeq Progressor BLE protocol (and its open clones).

Wire format (Tindeq Progressor API; Tindeq's ``progressor_client.py``; clone
firmware Crimpdeq and Hangman):

* host -> device: a one-byte opcode on the control point, e.g. ``0x64`` tare,
  ``0x65`` start weight stream (80 Hz), ``0x66`` stop, ``0x6B`` firmware
  version, ``0x6F`` battery voltage, ``0x70`` device ID.
* device -> host (data point notifications): tag-length-value frames
  ``[code][length][value...]``. Code 0 = reply to the last command (untagged:
  send one command at a time), 1 = weight samples, 2/3 = RFD peaks (layout not
  public, skipped), 4 = low-power warning (the device switches off).
* A weight frame carries ``length / 8`` samples, each a float32 weight in kg and
  a uint32 timestamp in µs since the stream started (wraps after 2^32 µs, about
  71.6 min; unwrapped here). Weight is converted to newtons: N = kg x 9.80665.

**Datagram semantics.** One :meth:`TindeqCodec.feed` call is one BLE
notification (one ATT packet), and a Progressor notification always carries
whole TLV frames (one or several). So each notification is parsed on its own:
nothing is carried over to the next one, and a frame whose length runs past
the end of its notification is dropped (``bytes_discarded``), never joined
with the next notification. Inside a notification, a byte that cannot start a
frame is skipped (``resyncs``) and parsing goes on from the next byte.

**What can and cannot be detected.** TLV frames have no sync marker and no
checksum. Detected: unknown codes, weight lengths that are not a positive
multiple of 8, frames running past their notification, non-finite weights,
and timestamps that do not strictly increase (by at most
:data:`MAX_STEP_US`) inside one notification; such frames are dropped and
counted in ``crc_errors``. Not detectable: a corrupted weight or timestamp
that stays plausible, or a garbage notification that happens to be a
well-formed frame: it decodes as data, its timestamp shows up as a jump in
device time (and a bogus ``dropped_before``), and if it lands in the last
minute before the counter wraps it can pass for a wrap (later device times
then read 2^32 µs late). A garbage code-0 frame can also take the place of
the reply a command is waiting for. Apart from that (the wrap count and the
command awaiting a reply), no state crosses notifications, so a garbage
notification never costs the samples of the valid notifications after it.
"""

from __future__ import annotations

import math
import operator
import struct
from dataclasses import dataclass

import numpy as np

from ...recording import Channel

#: standard gravity, m/s^2 (CGPM 1901): kg-force -> N
from ...units import STANDARD_GRAVITY as G_MS2
from ..base import (
    Ack,
    BatteryReply,
    CodecEvent,
    CodecStats,
    Command,
    GetBattery,
    GetInfo,
    RowBlock,
    SampleBlock,
    Start,
    Stop,
    Tare,
)
from .blocks import join_runs, new_block

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"  # notify
CONTROL_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"  # write (with response)
NAME_PREFIX = "Progressor"

OP_TARE, OP_START, OP_STOP = 0x64, 0x65, 0x66
OP_FIRMWARE, OP_SLEEP, OP_BATTERY, OP_DEVICE_ID = 0x6B, 0x6E, 0x6F, 0x70

RES_CMD, RES_WEIGHT, RES_RFD_PEAK, RES_RFD_SERIES, RES_LOW_POWER = 0, 1, 2, 3, 4

RATE_HZ = 80.0
PERIOD_US = 12_500
#: largest plausible step between consecutive samples of one notification, µs
MAX_STEP_US = 60_000_000
#: a first sample less than this after the last one follows it (round(step / period) - 1 = 0 dropped), µs
_NEXT_US = PERIOD_US * 3 // 2
_WRAP = 1 << 32
_SAMPLE = np.dtype([("kg", "<f4"), ("us", "<u4")])
_KG, _US = _SAMPLE["kg"], _SAMPLE["us"]
_U32 = struct.Struct("<I")
#: samples over which steps of less than _NEXT_US add up to less than 2^32 µs (one wrap at most)
_SPAN = _WRAP // _NEXT_US

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)

#: battery: rough single-cell Li-ion map (V -> %), linear between these points
_BATTERY_V = (3.30, 3.60, 3.70, 3.80, 3.90, 4.00, 4.20)
_BATTERY_PCT = (0.0, 10.0, 30.0, 50.0, 70.0, 85.0, 100.0)


@dataclass(frozen=True)
class GetFirmware(Command):
    """Opcode 0x6B; answered by ``Ack('firmware', value=<version text>)``."""


@dataclass(frozen=True)
class GetDeviceId(Command):
    """Opcode 0x70; answered by ``Ack('deviceid', value=<hex ID>)``."""


_OPCODES: dict[type[Command], int] = {
    Tare: OP_TARE,
    Start: OP_START,
    Stop: OP_STOP,
    GetFirmware: OP_FIRMWARE,
    GetInfo: OP_FIRMWARE,
    GetBattery: OP_BATTERY,
    GetDeviceId: OP_DEVICE_ID,
}


def battery_percent(volts: float) -> float:
    """Approximate charge (%) of a single Li-ion cell from its resting voltage."""
    return float(np.interp(volts, _BATTERY_V, _BATTERY_PCT))


def weight_frame(kg: np.ndarray, us: np.ndarray) -> bytes:
    """Encode samples as one code-1 frame (used by the emulator and tests)."""
    samples = np.empty(len(kg), dtype=_SAMPLE)
    samples["kg"] = kg
    samples["us"] = np.asarray(us, dtype=np.uint64) % _WRAP
    body = samples.tobytes()
    return bytes((RES_WEIGHT, len(body))) + body


def reply_frame(value: bytes) -> bytes:
    return bytes((RES_CMD, len(value))) + value


#: a weight frame's value, by sample count: (kg float32, µs uint32) per sample
_WEIGHTS = [struct.Struct("<" + "fI" * n) for n in range(256 // 8)]
#: a whole weight frame by its size in bytes: its two header bytes and the struct of its value
_WEIGHT_FRAMES = {2 + 8 * n: (bytes((RES_WEIGHT, 8 * n)), _WEIGHTS[n]) for n in range(1, 256 // 8)}


def split_frames(notification: bytes, stats: CodecStats) -> list[bytes]:
    """The whole TLV frames of one notification, in order (framer).

    A byte that cannot start a frame (unknown code, weight length not a positive
    multiple of 8) is skipped and counted (``resyncs``, ``bytes_discarded``); a
    frame running past the end of the notification is dropped with the rest.
    """
    frames: list[bytes] = []
    pos, n = 0, len(notification)
    while n - pos >= 2:
        code, length = notification[pos], notification[pos + 1]
        if not (length % 8 == 0 and length > 0 if code == RES_WEIGHT else code <= RES_LOW_POWER):
            pos += 1
            stats.resyncs += 1
            stats.bytes_discarded += 1
            continue
        end = pos + 2 + length
        if end > n:
            break  # runs past the notification: a frame is never continued in the next one
        frames.append(notification[pos:end])
        pos = end
    if pos < n:
        stats.bytes_discarded += n - pos
        stats.resyncs += 1
    return frames


class TindeqCodec:
    """Progressor notifications -> force sample blocks (N) and command replies.

    Feed one BLE notification per call (see the module docstring): ``feed`` runs
    :func:`split_frames` then :meth:`parse` on each frame. :meth:`feed_bulk`
    decodes a replayed capture of frames back to back, with the same events.
    """

    protocol = "tindeq"

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._pending: int | None = None  # opcode whose code-0 reply is awaited
        self._last_raw: int | None = None  # µs counter of the last accepted sample
        self._wraps = 0  # counter wraps seen in this stream

    # -- commands ---------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        """The one-byte opcode; raises ValueError for a command the Progressor lacks."""
        op = _OPCODES.get(type(command))
        if op is None:
            raise ValueError(f"the Progressor has no '{command.name}' command")
        if op in (OP_FIRMWARE, OP_BATTERY, OP_DEVICE_ID):
            self._pending = op
        if op == OP_START:  # the device restarts its µs clock with each stream
            self._last_raw, self._wraps = None, 0
        return bytes((op,))

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode one notification (whole TLV frames); never raises.

        Fast path: the usual notification is one whole weight frame whose
        samples are finite, rise, and start less than 1.5 periods after the
        last accepted sample (so nothing was dropped and the counter did not
        wrap). It is decoded right here, into the very block and counters
        :meth:`_feed_general` would give. Everything else (the first frame of a
        stream, gaps, wraps, replies, junk, several frames) goes there.
        """
        if type(data) is not bytes:
            data = bytes(data)
        n, last = len(data), self._last_raw
        frame = _WEIGHT_FRAMES.get(n)
        if frame is not None and last is not None and data[:2] == frame[0]:
            values = frame[1].unpack_from(data, 2)  # kg, µs, kg, µs, ...
            if n == 10:  # one sample: what an open clone sends per notification
                kg, us = values
                if 0 < us - last < _NEXT_US and math.isfinite(kg):
                    self._last_raw = us
                    self.stats.bytes_in += n
                    self.stats.frames_ok += 1
                    return [RowBlock([(us + self._wraps * _WRAP) * 1e-6], [kg * G_MS2], 1)]
            else:  # a Progressor frame of several samples
                raw = values[1::2]
                if (
                    0 < raw[0] - last < _NEXT_US
                    and raw[-1] - raw[0] <= MAX_STEP_US
                    and all(map(operator.lt, raw, raw[1:]))  # strictly rising
                ):
                    force = [kg * G_MS2 for kg in values[0::2]]
                    if math.isfinite(sum(force)):  # (as the weights are: float32 x g overflows no float64)
                        offset = self._wraps * _WRAP
                        self._last_raw = raw[-1]
                        self.stats.bytes_in += n
                        self.stats.frames_ok += 1
                        # ((u + 0) * 1e-6 is u * 1e-6: one operation less before the first wrap)
                        times = [(u + offset) * 1e-6 for u in raw] if offset else [u * 1e-6 for u in raw]
                        return [RowBlock(times, force, 1)]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """Any notification: :func:`split_frames`, then :meth:`parse` on each frame."""
        self.stats.bytes_in += len(data)
        events: list[CodecEvent] = []
        for frame in split_frames(data, self.stats):
            events += self.parse(frame)
        return join_runs(events)

    def parse(self, frame: bytes) -> list[CodecEvent]:
        """One whole TLV frame (from :func:`split_frames`) -> its events."""
        code = frame[0]
        if code == RES_WEIGHT:
            blk = self._weights(frame)
            if blk is None:
                self.stats.crc_errors += 1
                self.stats.bytes_discarded += len(frame)
                return []
            self.stats.frames_ok += 1
            return [blk]
        self.stats.frames_ok += 1
        value = frame[2:]
        if code == RES_LOW_POWER:
            return [Ack("lowpower", ok=False, error="battery low: the device is switching off")]
        if code != RES_CMD:
            return []  # RFD peak frames: layout not public
        op, self._pending = self._pending, None
        if op == OP_BATTERY and len(value) >= 4:
            volts = int.from_bytes(value[:4], "little") / 1000.0
            return [BatteryReply(percent=battery_percent(volts), volts=volts)]
        if op == OP_FIRMWARE:
            return [Ack("firmware", value=value.split(b"\0", 1)[0].decode("ascii", "replace").strip())]
        if op == OP_DEVICE_ID:
            return [Ack("deviceid", value=value[::-1].hex().upper())]
        return []  # reply to nothing we asked (or a malformed one)

    def _weights(self, frame: bytes) -> SampleBlock | None:
        """A weight frame -> a block (N, s); ``None`` if implausible.

        Weights must be finite and timestamps must rise by 1..MAX_STEP_US µs
        (modulo 2^32) from sample to sample. Across frames the 32-bit counter is
        unwrapped by counting wraps: a wrap is accepted only when the counter
        passes from the last MAX_STEP_US before 2^32 to a value at most
        MAX_STEP_US later, so that a stray frame with a random timestamp is
        unlikely to pass for one. Other steps back (a device restart, a bad
        frame) are kept as they are.
        """
        values = _WEIGHTS[frame[1] >> 3].unpack_from(frame, 2)
        kg, raw = values[0::2], values[1::2]
        if not math.isfinite(sum(kg)):  # (float32 values: their sum overflows no float64)
            return None
        if len(raw) > 1:
            steps = list(map(operator.sub, raw[1:], raw[:-1]))
            if min(steps) <= 0:  # (a wrap or a repeat inside the frame: the steps modulo 2^32)
                steps = [step % _WRAP for step in steps]
            if min(steps) <= 0 or max(steps) > MAX_STEP_US:
                return None
        dropped = self._follow(raw[0])
        offset = self._wraps * _WRAP
        if raw[-1] < raw[0]:  # the counter wrapped inside the frame (once at most: 31 steps < 2^32 µs)
            wrap_at = next(k for k in range(1, len(raw)) if raw[k] < raw[k - 1])
            device_time = [(u + offset) * 1e-6 for u in raw[:wrap_at]]
            self._wraps += 1
            device_time += [(u + offset + _WRAP) * 1e-6 for u in raw[wrap_at:]]
        else:
            device_time = [(u + offset) * 1e-6 for u in raw]
        self._last_raw = raw[-1]
        self.stats.dropped_samples += dropped
        return new_block(device_time, [w * G_MS2 for w in kg], 1, None, dropped)

    def _follow(self, raw0: int) -> int:
        """A frame starting at µs counter ``raw0`` follows the last accepted sample: count a wrap
        of the counter between them (see :meth:`_weights`), return the samples dropped between."""
        if self._last_raw is None:
            return 0
        last = self._last_raw + self._wraps * _WRAP
        if self._last_raw >= _WRAP - MAX_STEP_US and raw0 + _WRAP - self._last_raw <= MAX_STEP_US:
            self._wraps += 1
        step = raw0 + self._wraps * _WRAP - last
        return max(0, round(step / PERIOD_US) - 1) if step > 0 else 0

    # -- a replayed capture -----------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a capture of whole frames back to back (a replayed log), with the same events
        and statistics as :meth:`feed`.

        A capture of weight frames of one length whose samples all follow each
        other (every step, across frames too, less than 1.5 periods modulo 2^32:
        no drop, no bad frame, and every wrap one the frame-by-frame rules
        accept) is checked and decoded with NumPy views of its fields; anything
        else goes through :meth:`feed`.
        """
        if type(data) is not bytes:
            data = bytes(data)
        blk = self._uniform_weights(data)
        if blk is None:
            return self.feed(data)
        self.stats.bytes_in += len(data)
        return [blk]

    def _uniform_weights(self, data: bytes) -> SampleBlock | None:
        """All frames of ``data`` at once, if they are what the docstring of :meth:`feed_bulk` says
        (``None``: not so, and nothing changed).

        A replay is a one-off call, so its time goes mostly to first uses (memory
        and code not in the CPU caches), not to arithmetic: it is kept to few
        kinds of NumPy calls (two casts of strided views to float64, float64
        arithmetic, comparisons whose masks are searched as bytes, no
        reductions) and to the two output arrays plus one temporary. The µs
        counters are exact integers as float64 (< 2^53); a step back is a wrap
        (if the step modulo 2^32 is short enough), after which 2^32 is added to
        the rest, so the unwrapped times x 1e-6 equal :meth:`_weights`' bit for bit.
        """
        n = len(data)
        if n < 2 or data[0] != RES_WEIGHT or not data[1] or data[1] % 8 or n % (data[1] + 2):
            return None
        size, per_frame = data[1] + 2, data[1] // 8
        frames = n // size
        if data[::size] != bytes((RES_WEIGHT,)) * frames or data[1::size] != data[1:2] * frames:
            return None  # (code, length) of some frame is not the first one's (== is a memcmp: no count)
        samples, strides = (frames, per_frame), (size, 8)  # the samples of the frames: field views
        force = np.ndarray(samples, _KG, data, 2, strides).astype(np.float64).reshape(-1, 1)
        np.multiply(force, G_MS2, out=force)  # float32 kg -> float64 N, as float(kg) * G_MS2
        if 0 in np.isfinite(force).tobytes():
            return None
        counter = np.ndarray(samples, _US, data, 6, strides).astype(np.float64).reshape(-1)
        steps = np.subtract(counter[1:], counter[:-1])  # step into sample k + 1 at [k]; < 0 at a wrap
        if 1 in np.greater_equal(steps, _NEXT_US).tobytes():
            return None  # a gap (or garbage)
        wraps: list[int] = []  # samples at which the counter wrapped
        back = np.less_equal(steps, 0).tobytes()
        k = back.find(1)
        while k >= 0:
            # a step back must be a short step modulo 2^32; more of them than the counter can wrap
            # in this many samples: garbage (and no quadratic work on it)
            if not 0 < steps.item(k) + _WRAP < _NEXT_US or len(wraps) > counter.size // _SPAN:
                return None
            wraps.append(k + 1)
            k = back.find(1, k + 1)
        for k in wraps:
            np.add(counter[k:], _WRAP, out=counter[k:])
        # the first sample by the frame-by-frame rules (wrap, drop); the others follow it
        dropped = self._follow(_U32.unpack_from(data, 6)[0])
        if self._wraps:
            np.add(counter, self._wraps * _WRAP, out=counter)
        device_time = np.multiply(counter, 1e-6, out=counter)  # as (u + offset) * 1e-6 in _weights
        self._last_raw = _U32.unpack_from(data, n - 4)[0]
        self._wraps += len(wraps)
        self.stats.frames_ok += frames
        self.stats.dropped_samples += dropped
        return SampleBlock(device_time, force, seq=None, dropped_before=dropped)
