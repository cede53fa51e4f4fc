"""Emulated firmware of a motorlab-protocol device, served on a pseudo-terminal.

:class:`MotorlabDeviceEmulator` behaves like the reference firmware
(``firmware_notes/grip_hx711/grip_hx711.ino``): it answers every command of
``firmware_notes/protocol.md`` (ACK/NACK with error codes), and while started it
samples its sensors on a free-running microsecond clock at the set rate, in
real time, from its own thread, sending SAMPLES blocks with sequence numbers.
Options simulate real faults: lost blocks (``drop_prob``), a clock that runs fast
(``clock_ppm``), a clock about to wrap (``t0_us``), a draining battery, and the
USB cable being pulled (``link.vanish()``/``link.restore()``) while the device
keeps running.

Device-specific emulators (``grip_hx711``, ``imu_pen``) only supply channels and
a ``read(t_s) -> values`` function, usually from a virtual participant.
"""

from __future__ import annotations

import asyncio
import math
import os
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ...devices.codecs import motorlab_protocol as mp
from ...devices.device import Device
from ...devices.registry import DeviceURL
from ...errors import DeviceError
from ...recording import Channel
from ..pty_link import PtyLink
from .base import ByteLink, Participant, ParticipantDevice

if TYPE_CHECKING:
    from typing_extensions import Self

E = TypeVar("E", bound="MotorlabDeviceEmulator")


@dataclass(frozen=True)
class ChannelSpec:
    """A channel as the firmware describes it in INFO (value = raw * scale)."""

    name: str
    type: str
    unit: str
    tracked_point: str
    scale: float
    tare: bool = False  # zeroed by TARE (force channels)

    @classmethod
    def of(cls, channel: Channel, scale: float, tare: bool = False) -> ChannelSpec:
        """The firmware's description of a spec channel (:mod:`motorlab.devices.spec`)."""
        return cls(channel.name, channel.type, channel.units, channel.tracked_point, scale, tare)


def _str(text: str) -> bytes:
    raw = text.encode()[:255]
    return bytes([len(raw)]) + raw


class MotorlabDeviceEmulator(ParticipantDevice):
    """Firmware behaviour of a motorlab device on a :class:`PtyLink`.

    Args:
        model, serial, firmware, manufacturer: what INFO reports.
        channels: channel descriptions (order = column order of samples).
        sample_format: 2 (int16) or 4 (int32) bytes per value.
        rate_hz, min_rate_hz, max_rate_hz: default and allowed sampling rates.
        read: physical values (n, M) in channel units at device times ``t_s`` (n,).
        participant: the virtual participant (``cue`` forwards to its ``on_cue``).
        block_s: samples are sent in blocks of ``round(rate * block_s)`` (>= 1).
        drop_prob: probability that a block is lost (sequence numbers still advance).
        seed: seed of the drop decisions.
        battery_percent: starting charge (None = USB powered, reported unknown).
        battery_drain_per_h: charge lost per hour of running, percent.
        t0_us: device clock at power-up (µs; near 2**32 to exercise the wrap).
        clock_ppm: device clock error, parts per million (positive = runs fast).
        tare_samples: readings averaged by TARE.
    """

    def __init__(
        self,
        *,
        model: str,
        serial: str,
        firmware: str,
        channels: Sequence[ChannelSpec],
        sample_format: int,
        rate_hz: float,
        min_rate_hz: float,
        max_rate_hz: float,
        read: Callable[[np.ndarray], np.ndarray],
        participant: Participant,
        manufacturer: str = "DIY",
        block_s: float = 0.025,
        drop_prob: float = 0.0,
        seed: int = 0,
        battery_percent: float | None = 90.0,
        battery_drain_per_h: float = 5.0,
        t0_us: int = 0,
        clock_ppm: float = 0.0,
        tare_samples: int = 8,
        link_name: str = "ttyMOTORLAB",
    ):
        if sample_format not in (2, 4):
            raise ValueError("sample_format must be 2 or 4")
        if not min_rate_hz <= rate_hz <= max_rate_hz:
            raise DeviceError(f"{model}: rate {rate_hz:g} Hz outside {min_rate_hz:g}..{max_rate_hz:g} Hz")
        self.model, self.serial, self.firmware, self.manufacturer = model, serial, firmware, manufacturer
        self.channels = list(channels)
        self.sample_format = sample_format
        self.rate_mhz = int(round(rate_hz * 1000))
        self.min_rate_mhz = int(round(min_rate_hz * 1000))
        self.max_rate_mhz = int(round(max_rate_hz * 1000))
        self.read = read
        self.participant = participant
        self.block_s = float(block_s)
        self.drop_prob = float(drop_prob)
        self.battery_percent = battery_percent
        self.battery_drain_per_h = float(battery_drain_per_h)
        self.t0_us = int(t0_us)
        self.clock_ppm = float(clock_ppm)
        self.tare_samples = int(tare_samples)
        self._rng = np.random.default_rng(seed)
        self._scales = np.array([c.scale for c in self.channels], dtype=np.float64)
        self._tare_mask = np.array([c.tare for c in self.channels])
        self._tare_raw = np.zeros(len(self.channels), dtype=np.int64)
        lim = 2 ** (8 * sample_format - 1)
        self._raw_limits = (-lim, lim - 1)
        self._dtype = np.dtype(
            [("t", "<u4"), ("v", "<i2" if sample_format == 2 else "<i4", (len(self.channels),))]
        )

        self._lock = threading.RLock()
        self._participant_lock = threading.Lock()  # cue() (host thread) vs read() (firmware thread)
        self._mono0 = time.monotonic()
        self._streaming = False
        self._seq = 0  # sequence number of the next sample
        self._base_us = 0  # device time of sample _base_seq
        self._base_seq = 0
        #: ground truth about the link: blocks the device "lost" on purpose, samples lost to unplugs
        self.dropped_blocks: list[tuple[int, int]] = []  # (seq, n)
        self.samples_sent = 0
        self.samples_unsent = 0  # written while unplugged
        self.commands: list[str] = []  # names of commands received, in order

        self._rx = bytearray()
        pty = PtyLink(self._on_bytes, name=link_name)
        self.link: ByteLink = pty
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"emu-{model}", daemon=True)
        pty.start()
        self._thread.start()
        self._send(mp.INFO, 0, self._info_payload())  # "hello" at power-up

    # -- clock --------------------------------------------------------------------
    def now_us(self) -> int:
        """The device's extended (non-wrapping) microsecond clock."""
        elapsed = time.monotonic() - self._mono0
        return self.t0_us + int(elapsed * 1e6 * (1.0 + self.clock_ppm * 1e-6))

    def device_time_s(self) -> float:
        """Current device time in seconds (the time base of samples and of ``truth``)."""
        return self.now_us() * 1e-6

    @property
    def rate_hz(self) -> float:
        return self.rate_mhz / 1000.0

    @property
    def streaming(self) -> bool:
        return self._streaming

    def _sample_time_us(self, seq: np.ndarray | int) -> np.ndarray:
        period_us = 1e9 / self.rate_mhz
        return self._base_us + np.round((np.asarray(seq) - self._base_seq) * period_us).astype(np.int64)

    # -- participant ------------------------------------------------------------------
    def device_time(self) -> float:
        return self.device_time_s()

    def cue(self, kind: str) -> float:
        """The participant hears a cue now; returns the device time (s) it was given."""
        with self._participant_lock:
            return super().cue(kind)

    # -- command handling (PtyLink thread) -----------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        self._rx += data
        *frames, rest = bytes(self._rx).split(b"\x00")
        self._rx = bytearray(rest[-2 * mp.MAX_ENCODED :])
        for frame in frames:
            body = mp.cobs_decode(frame) if frame else None
            if body is None or len(body) < 4 or mp.crc16(body[:-2]) != int.from_bytes(body[-2:], "little"):
                continue  # firmware drops bad frames silently
            self._command(body[0], body[1], body[2:-2])

    def _command(self, cmd: int, token: int, payload: bytes) -> None:
        self.commands.append(mp.COMMAND_NAMES.get(cmd, f"0x{cmd:02x}"))
        no_args = {mp.GET_INFO, mp.START, mp.STOP, mp.TARE, mp.GET_BATTERY}
        if cmd in no_args and payload:
            return self._ack(cmd, token, 0x02)
        if cmd == mp.GET_INFO:
            self._send(mp.INFO, token, self._info_payload())
            return None
        if cmd == mp.GET_BATTERY:
            self._send(mp.BATTERY, token, self._battery_payload())
            return None
        if cmd == mp.START:
            with self._lock:
                if not self._streaming:
                    self._seq = self._base_seq = 0
                    self._base_us = self.now_us() + int(1e9 / self.rate_mhz)
                    self._streaming = True
            return self._ack(cmd, token, 0)
        if cmd == mp.STOP:
            with self._lock:
                self._streaming = False
            return self._ack(cmd, token, 0)
        if cmd == mp.SET_RATE:
            if len(payload) != 4:
                return self._ack(cmd, token, 0x02)
            (mhz,) = struct.unpack("<I", payload)
            if not self.min_rate_mhz <= mhz <= self.max_rate_mhz:
                return self._ack(cmd, token, 0x03)
            with self._lock:
                if self._streaming:  # the next sample follows the new period
                    self._base_us = int(self._sample_time_us(self._seq))
                    self._base_seq = self._seq
                self.rate_mhz = mhz
            return self._ack(cmd, token, 0, mhz)
        if cmd == mp.TARE:
            if not self._tare_mask.any():
                return self._ack(cmd, token, 0x06)
            offset = self._tare()
            return self._ack(cmd, token, 0, int(offset[self._tare_mask][0]))
        return self._ack(cmd, token, 0x01)

    def _tare(self) -> np.ndarray:
        """Average ``tare_samples`` readings (at the sampling period) and zero the tared channels."""
        period = 1000.0 / self.rate_mhz
        t = self.device_time_s() + period * np.arange(self.tare_samples)
        with self._participant_lock:
            counts = self._counts(self.read(t))
        with self._lock:
            self._tare_raw = np.where(self._tare_mask, np.round(counts.mean(axis=0)).astype(np.int64), 0)
            return self._tare_raw.copy()

    def _ack(self, cmd: int, token: int, status: int, value: int = 0) -> None:
        self._send(mp.ACK, token, struct.pack("<BBi", cmd, status, value))

    def _send(self, msg_type: int, token: int, payload: bytes) -> bool:
        return self.link.write(mp.encode_frame(msg_type, token, payload))

    # -- payloads --------------------------------------------------------------------------
    def _info_payload(self) -> bytes:
        p = struct.pack(
            "<BBBIII",
            mp.PROTOCOL_VERSION,
            self.sample_format,
            len(self.channels),
            self.rate_mhz,
            self.min_rate_mhz,
            self.max_rate_mhz,
        )
        p += _str(self.model) + _str(self.serial) + _str(self.firmware) + _str(self.manufacturer)
        for c in self.channels:
            p += (
                _str(c.name)
                + _str(c.type)
                + _str(c.unit)
                + _str(c.tracked_point)
                + struct.pack("<f", c.scale)
            )
        return p

    def battery_now(self) -> float | None:
        if self.battery_percent is None:
            return None
        hours = (time.monotonic() - self._mono0) / 3600.0
        return max(0.0, self.battery_percent - self.battery_drain_per_h * hours)

    def _battery_payload(self) -> bytes:
        pct = self.battery_now()
        if pct is None:
            return struct.pack("<BHB", 255, 0, 1)
        mv = int(round(3300 + 9 * pct))  # single LiPo cell, roughly linear 3.3 V (empty) .. 4.2 V (full)
        return struct.pack("<BHB", int(round(pct)), mv, 0)

    # -- sampling (own thread) -------------------------------------------------------------
    def _counts(self, values: np.ndarray) -> np.ndarray:
        """ADC counts (before tare) of physical values, rounded and clipped like a real ADC."""
        counts = np.round(np.asarray(values, dtype=np.float64).reshape(-1, len(self.channels)) / self._scales)
        return np.clip(counts, *self._raw_limits)

    def _block_size(self) -> int:
        rec = 4 + len(self.channels) * self.sample_format
        fit = (mp.MAX_PAYLOAD - mp.SAMPLE_HEADER) // rec
        return int(max(1, min(255, fit, round(self.rate_mhz / 1000.0 * self.block_s))))

    def _next_block(self) -> tuple[bytes | None, int, float]:
        """The next due block (or None) and the seconds until the following one is due."""
        with self._lock:
            if not self._streaming:
                return None, 0, 0.02
            n = self._block_size()
            seqs = np.arange(self._seq, self._seq + n)
            t_us = self._sample_time_us(seqs)
            now = self.now_us()
            if t_us[-1] > now:
                return None, 0, min(0.05, (t_us[-1] - now) * 1e-6)
            seq0 = self._seq
            self._seq += n
            tare = self._tare_raw.copy()
        with self._participant_lock:
            values = self.read(t_us * 1e-6)
        counts = self._counts(values) - tare
        rec = np.empty(n, dtype=self._dtype)
        rec["t"] = (t_us % (1 << 32)).astype(np.uint32)
        rec["v"] = np.clip(counts, *self._raw_limits)
        payload = (
            struct.pack("<IBBB", seq0 % (1 << 32), n, len(self.channels), self.sample_format) + rec.tobytes()
        )
        if self.drop_prob > 0 and self._rng.random() < self.drop_prob:
            self.dropped_blocks.append((seq0, n))
            return None, 0, 0.0
        return mp.encode_frame(mp.SAMPLES, 0, payload), n, 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, n, wait = self._next_block()
            except Exception:  # a broken read() must not kill the firmware loop silently
                import logging

                logging.getLogger(__name__).exception("%s emulator: sampling failed", self.model)
                self._stop.wait(0.1)
                continue
            if frame is not None:
                if self.link.write(frame):
                    self.samples_sent += n
                else:
                    self.samples_unsent += n
            elif wait > 0:
                self._stop.wait(wait)

    # -- life cycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the firmware thread and remove the pseudo-terminal (idempotent)."""
        self._stop.set()
        self._thread.join(0.5)
        while self._thread.is_alive():  # blocked writing into a full pty nobody reads: drain it
            self._drain_pty()
            self._thread.join(0.1)
        self.link.close()

    def _drain_pty(self) -> None:
        try:
            fd = os.open(self.link.link_path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            return
        try:
            while True:
                if not os.read(fd, 65536):
                    break
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------ sim:// helpers
#: turns a ``sim://`` parameter's text into its value (a type such as ``float``, or a named function)
Converter = Callable[[str], Any]


def parse_params(url: str, params: dict[str, str], known: Mapping[str, Converter]) -> dict[str, Any]:
    """Convert ``sim://`` query parameters with the types in ``known``; unknown names are an error."""
    out: dict[str, Any] = {}
    for key, text in params.items():
        if key not in known:
            raise DeviceError(f"{url}: unknown parameter {key!r} (known: {', '.join(sorted(known))})")
        try:
            value = known[key](text)
        except ValueError:
            raise DeviceError(
                f"{url}: parameter {key}={text!r} is not a valid {known[key].__name__}"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise DeviceError(f"{url}: parameter {key}={text!r} must be finite")
        out[key] = value
    return out


#: sim:// parameters every open-protocol emulator understands, and the constructor keyword each maps to
COMMON_DEVICE_PARAMS: dict[str, tuple[type, str]] = {
    "seed": (int, "seed"),
    "rate": (float, "rate_hz"),
    "drop_prob": (float, "drop_prob"),
    "battery": (float, "battery_percent"),
    "t0_us": (int, "t0_us"),
    "clock_ppm": (float, "clock_ppm"),
}


def build_emulator(
    emulator_cls: Callable[..., E],
    participant_cls: Callable[..., Participant],
    params: dict[str, str],
    url: str,
    participant_params: Mapping[str, Converter],
    device_params: Mapping[str, Converter],
) -> E:
    """Make an open-protocol emulator and its seeded participant from ``sim://`` parameters.

    ``participant_params`` go to the participant, ``device_params`` (sensor errors such as
    ``gain_error``) and :data:`COMMON_DEVICE_PARAMS` to the emulator; the seed goes to both.
    """
    known: dict[str, Converter] = {
        **participant_params,
        **device_params,
        **{k: t for k, (t, _) in COMMON_DEVICE_PARAMS.items()},
    }
    p = parse_params(url, params, known)
    seed = p.pop("seed", 0)
    participant = participant_cls(seed=seed, **{k: p.pop(k) for k in list(p) if k in participant_params})
    options: dict[str, Any] = {"seed": seed}
    for name, (_, key) in COMMON_DEVICE_PARAMS.items():
        if name in p:
            options[key] = p.pop(name)
    return emulator_cls(participant, **p, **options)


async def open_emulated(emulator: MotorlabDeviceEmulator, url: DeviceURL) -> Device:
    """Open the real motorlab driver over pyserial on the emulator's pty and do the handshake.

    Closing the returned device also switches the emulator off."""
    from ...devices.drivers.motorlab_driver import make_driver
    from ...devices.transports.serial_port import SerialTransport

    driver = make_driver(
        SerialTransport(emulator.link.link_path, 115200), f"{emulator.sim_name} ({emulator.link.link_path})"
    )
    device = Device(driver, url.text, emulator, release=lambda: asyncio.to_thread(emulator.close))
    try:
        await driver.open()
        await driver.info()
    except BaseException:
        await device.close()
        raise
    return device
