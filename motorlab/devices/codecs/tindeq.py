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
_WRAP = 1 << 32
_SAMPLE = np.dtype([("kg", "<f4"), ("us", "<u4")])

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


def _frames_dtype(n_samples: int) -> np.dtype:
    """A whole weight frame (code, length, ``n_samples`` samples) as one record."""
    return np.dtype([("code", "u1"), ("length", "u1"), ("s", _SAMPLE, (n_samples,))])


#: a weight frame's value, by sample count: (kg float32, µs uint32) per sample
_WEIGHTS = [struct.Struct("<" + "fI" * n) for n in range(256 // 8)]


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
        """Decode one notification (whole TLV frames); never raises."""
        data = bytes(data)  # (the same object when it is bytes already)
        n = len(data)
        self.stats.bytes_in += n
        if n > 2 and data[0] == RES_WEIGHT and data[1] == n - 2 and not data[1] & 7:
            return self.parse(data)  # one whole weight frame: what the device sends (split_frames's answer)
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
        raw0 = raw[0]
        dropped = 0
        if self._last_raw is not None:
            last = self._last_raw + self._wraps * _WRAP
            if self._last_raw >= _WRAP - MAX_STEP_US and raw0 + _WRAP - self._last_raw <= MAX_STEP_US:
                self._wraps += 1
            step = raw0 + self._wraps * _WRAP - last
            dropped = max(0, round(step / PERIOD_US) - 1) if step > 0 else 0
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

    # -- a replayed capture -----------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a capture of whole frames back to back (a replayed log), with the same events
        and statistics as :meth:`feed`.

        A capture of weight frames of one length whose samples all follow each
        other (no wrap across frames that the frame-by-frame rules would read
        differently, no drop, no bad frame) is checked and decoded with one
        structured NumPy view; anything else goes through :meth:`feed`.
        """
        data = bytes(data)
        blk = self._uniform_weights(data)
        if blk is None:
            return self.feed(data)
        self.stats.bytes_in += len(data)
        return [blk]

    def _uniform_weights(self, data: bytes) -> SampleBlock | None:
        """All frames of ``data`` at once, if they are what the docstring of :meth:`feed_bulk` says."""
        n = len(data)
        if n < 2 or data[0] != RES_WEIGHT or not data[1] or data[1] % 8 or n % (data[1] + 2):
            return None
        frames = np.frombuffer(data, dtype=_frames_dtype(data[1] // 8))
        if not ((frames["code"] == RES_WEIGHT).all() and (frames["length"] == data[1]).all()):
            return None
        kg = frames["s"]["kg"].reshape(-1)
        raw = frames["s"]["us"].reshape(-1).astype(np.int64)
        if not np.isfinite(kg).all():
            return None
        steps = np.diff(raw) % _WRAP
        # every step one sample period or close: then no frame boundary counts a drop
        # (round(step / period) - 1 == 0) and every wrap is one the frame-by-frame rules accept
        if steps.size and not ((steps > 0) & (steps < 1.5 * PERIOD_US)).all():
            return None
        per_frame = data[1] // 8
        first = self._weights(data[: 2 + data[1]])  # the first frame by the rules: state, drop, wrap
        if first is None:
            return None
        device_time = first.device_time
        if len(frames) > 1:  # the others continue it: unwrapped counter = the last one + the steps
            last = int(raw[per_frame - 1]) + self._wraps * _WRAP
            unwrapped = last + np.cumsum(steps[per_frame - 1 :])
            device_time = np.concatenate((device_time, unwrapped * 1e-6))  # integers < 2^53: exact
            self._last_raw, self._wraps = int(raw[-1]), int(unwrapped[-1]) // _WRAP
        self.stats.frames_ok += len(frames)
        force = np.multiply(kg, G_MS2, dtype=np.float64).reshape(-1, 1)  # float32 kg -> float64 N
        return SampleBlock(device_time, force, seq=None, dropped_before=first.dropped_before)
