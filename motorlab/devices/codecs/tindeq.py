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


class TindeqCodec:
    """Progressor notifications -> force sample blocks (N) and command replies.

    Feed one BLE notification per call (see the module docstring).
    """

    protocol = "tindeq"

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._pending: int | None = None  # opcode whose code-0 reply is awaited
        self._last_raw: int | None = None  # µs counter of the last accepted sample
        self._wraps = 0  # counter wraps seen in this stream

    # -- commands ---------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
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
        n = len(data)
        self.stats.bytes_in += n
        if n < 2:
            self._discard(n)
            return []
        data = bytes(data)
        length = data[1]
        if data[0] == RES_WEIGHT and length and length % 8 == 0 and n % (length + 2) == 0:
            blk = self._uniform_weights(data, length)  # the common case: weight frames only
            if blk is not None:
                return [blk]
        return self._walk(data)

    def _uniform_weights(self, data: bytes, length: int) -> SampleBlock | None:
        """Fast path: the notification is ``k`` weight frames of the same length.

        Decoded through one structured-dtype view of all frames (no per-frame
        Python); ``None`` sends the caller to the frame-by-frame path (a header
        differs or a check fails).
        """
        frames = np.frombuffer(data, dtype=_frames_dtype(length // 8))
        if len(frames) > 1 and not (
            (frames["code"] == RES_WEIGHT).all() and (frames["length"] == length).all()
        ):
            return None
        samples = frames["s"]
        blk = self._weights(samples["kg"], samples["us"].reshape(-1))
        if blk is not None:
            self.stats.frames_ok += len(frames)
        return blk

    def _walk(self, data: bytes) -> list[CodecEvent]:
        """Frame-by-frame path: any mix of codes, skipping bytes that start no frame."""
        events: list[CodecEvent] = []
        run: list[bytes] = []  # values of consecutive weight frames, decoded together
        pos, n = 0, len(data)
        while n - pos >= 2:
            code, length = data[pos], data[pos + 1]
            if not (length % 8 == 0 and length > 0 if code == RES_WEIGHT else code <= RES_LOW_POWER):
                pos += 1
                self.stats.resyncs += 1
                self.stats.bytes_discarded += 1
                continue
            end = pos + 2 + length
            if end > n:
                break  # runs past the notification: a frame is never continued in the next one
            value = data[pos + 2 : end]
            pos = end
            if code == RES_WEIGHT:
                run.append(value)
                continue
            if run:
                events.extend(self._weight_run(run))
                run = []
            self.stats.frames_ok += 1
            ev = self._decode(code, value)
            if ev is not None:
                events.append(ev)
        if run:
            events.extend(self._weight_run(run))
        self._discard(n - pos)
        return events

    def _discard(self, n_bytes: int) -> None:
        if n_bytes:
            self.stats.bytes_discarded += n_bytes
            self.stats.resyncs += 1

    def _weight_run(self, values: list[bytes]) -> list[SampleBlock]:
        """Consecutive weight frames of one notification: one block, or one per valid frame."""
        blk = self._weights(*_columns(b"".join(values))) if len(values) > 1 else None
        if blk is not None:
            self.stats.frames_ok += len(values)
            return [blk]
        out = []
        for value in values:  # a check failed somewhere: judge each frame on its own
            one = self._weights(*_columns(value))
            if one is None:
                self.stats.crc_errors += 1
                self.stats.bytes_discarded += 2 + len(value)
            else:
                self.stats.frames_ok += 1
                out.append(one)
        return out

    def _decode(self, code: int, value: bytes) -> CodecEvent | None:
        if code == RES_LOW_POWER:
            return Ack("lowpower", ok=False, error="battery low: the device is switching off")
        if code != RES_CMD:
            return None  # RFD peak frames: layout not public
        op, self._pending = self._pending, None
        if op == OP_BATTERY and len(value) >= 4:
            volts = int.from_bytes(value[:4], "little") / 1000.0
            return BatteryReply(percent=battery_percent(volts), volts=volts)
        if op == OP_FIRMWARE:
            return Ack("firmware", value=value.split(b"\0", 1)[0].decode("ascii", "replace").strip())
        if op == OP_DEVICE_ID:
            return Ack("deviceid", value=value[::-1].hex().upper())
        return None  # reply to nothing we asked (or a malformed one)

    def _weights(self, kg: np.ndarray, raw: np.ndarray) -> SampleBlock | None:
        """Samples of one notification (kg float32, any shape; µs uint32, flat) -> a block; ``None`` if implausible.

        Timestamps must rise by 1..MAX_STEP_US µs (modulo 2^32) from sample to
        sample. Across notifications the 32-bit counter is unwrapped by counting
        wraps: a wrap is accepted only when the counter passes from the last
        MAX_STEP_US before 2^32 to a value at most MAX_STEP_US later, so that a
        stray frame with a random timestamp is unlikely to pass for one. Other
        steps back (a device restart, a bad frame) are kept as they are.
        """
        if not np.isfinite(kg).all():
            return None
        steps = np.diff(raw)  # uint32: modulo 2^32, so a wrap inside the notification is a small step
        if steps.size:
            steps -= np.uint32(1)  # in place: a zero step becomes 2^32 - 1
            if (steps >= MAX_STEP_US).any():
                return None
        raw0 = int(raw[0])
        dropped = 0
        if self._last_raw is not None:
            last = self._last_raw + self._wraps * _WRAP
            if self._last_raw >= _WRAP - MAX_STEP_US and raw0 + _WRAP - self._last_raw <= MAX_STEP_US:
                self._wraps += 1
            step = raw0 + self._wraps * _WRAP - last
            dropped = max(0, int(round(step / PERIOD_US)) - 1) if step > 0 else 0
        device_time = np.add(raw, self._wraps * _WRAP, dtype=np.float64)  # integers < 2^53: exact
        for k in np.flatnonzero(raw[1:] < raw[:-1]).tolist():  # the counter wrapped inside the notification
            device_time[k + 1 :] += _WRAP
            self._wraps += 1
        self._last_raw = int(raw[-1])
        device_time *= 1e-6
        self.stats.dropped_samples += dropped
        force = np.multiply(kg, G_MS2, dtype=np.float64).reshape(-1, 1)  # float32 kg -> float64 N
        return SampleBlock(device_time=device_time, values=force, dropped_before=dropped)


def _columns(values: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Weight-frame values -> (kg float32, µs uint32) arrays."""
    samples = np.frombuffer(values, dtype=_SAMPLE)
    return samples["kg"], samples["us"]
