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

The codec is a byte-stream parser (frames may be split or joined arbitrarily);
a byte that cannot start a valid frame is discarded and counted as a resync.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...recording import Channel
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

#: standard gravity, m/s^2 (CGPM 1901): kg-force -> N
G_MS2 = 9.80665

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"  # notify
CONTROL_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"  # write (with response)
NAME_PREFIX = "Progressor"

OP_TARE, OP_START, OP_STOP = 0x64, 0x65, 0x66
OP_FIRMWARE, OP_SLEEP, OP_BATTERY, OP_DEVICE_ID = 0x6B, 0x6E, 0x6F, 0x70

RES_CMD, RES_WEIGHT, RES_RFD_PEAK, RES_RFD_SERIES, RES_LOW_POWER = 0, 1, 2, 3, 4

RATE_HZ = 80.0
PERIOD_US = 12_500
#: notifications never exceed the 247-byte ATT MTU, so neither does a frame
MAX_VALUE_LEN = 244
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


class TindeqCodec:
    """Progressor TLV stream -> force sample blocks (N) and command replies."""

    protocol = "tindeq"

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._buf = bytearray()
        self._pending: int | None = None  # opcode whose code-0 reply is awaited
        self._wrap_us = 0
        self._last_us: int | None = None

    # -- commands ---------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        op = _OPCODES.get(type(command))
        if op is None:
            raise ValueError(f"the Progressor has no '{command.name}' command")
        if op in (OP_FIRMWARE, OP_BATTERY, OP_DEVICE_ID):
            self._pending = op
        if op == OP_START:  # the device restarts its µs clock with each stream
            self._wrap_us, self._last_us = 0, None
        return bytes((op,))

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        self.stats.bytes_in += len(data)
        self._buf += data
        events: list[CodecEvent] = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= 2:
            code, length = buf[pos], buf[pos + 1]
            if not self._plausible(code, length):
                pos += 1
                self.stats.resyncs += 1
                self.stats.bytes_discarded += 1
                continue
            end = pos + 2 + length
            if end > len(buf):
                break
            value = bytes(buf[pos + 2:end])
            pos = end
            self.stats.frames_ok += 1
            ev = self._decode(code, value)
            if ev is not None:
                events.append(ev)
        del buf[:pos]
        return events

    @staticmethod
    def _plausible(code: int, length: int) -> bool:
        if code == RES_WEIGHT:
            return 0 < length <= MAX_VALUE_LEN and length % 8 == 0
        return code <= RES_LOW_POWER and length <= MAX_VALUE_LEN

    def _decode(self, code: int, value: bytes) -> CodecEvent | None:
        if code == RES_WEIGHT:
            return self._weights(value)
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

    def _weights(self, value: bytes) -> SampleBlock:
        samples = np.frombuffer(value, dtype=_SAMPLE)
        raw = samples["us"].astype(np.int64)
        # unwrap the 32-bit µs counter: a step back by more than half the range is a wrap
        steps = np.diff(raw, prepend=raw[0] if self._last_us is None else self._last_us)
        wraps = np.cumsum(steps < -(_WRAP // 2)) * _WRAP
        us = raw + self._wrap_us + wraps
        dropped = 0
        if self._last_us is not None:
            gap = int(us[0]) - (self._last_us + self._wrap_us)
            dropped = max(0, int(round(gap / PERIOD_US)) - 1)
        self._wrap_us += int(wraps[-1])
        self._last_us = int(raw[-1])
        self.stats.dropped_samples += dropped
        force = samples["kg"].astype(np.float64) * G_MS2
        return SampleBlock(
            device_time=us.astype(np.float64) * 1e-6,
            values=force[:, None],
            dropped_before=dropped,
        )
