"""A Mark-10 Series 5 (or Series 4) force gauge answering ASCII commands on a pseudo-terminal.

Each command line (CR or CR LF; LF ignored) is answered at once with what the
real gauge sends (see :mod:`motorlab.devices.codecs.mark10`): a reading of the
:class:`~motorlab.sim.participants.GripParticipant`'s force at
the emulator's device time, in the selected unit, rounded to the gauge's
resolution and printed with that many decimals; text for ``RM``/``RV``/``RS``/
``LIST``; ``*10`` for an unknown command. Setting commands (units, ``Z``,
``CUR``/``PT``/``PC``, ``CLR``) answer nothing, as on the gauge.

Sensor model: ``reading = polarity * ((1 + gain_error) * F + offset_n - tare)``
in newtons, compression positive (``polarity=-1`` = gauge set to inverted).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any

import numpy as np

from ...devices.codecs.mark10 import UNIT_COMMANDS, UNIT_TO_N, Mark10Codec
from ...devices.device import Device
from ...devices.drivers.mark10 import Mark10Driver
from ...devices.registry import DeviceURL
from ...devices.transports.serial_port import SerialTransport
from ...errors import DeviceError
from ..participants import GripParticipant, grip_participant_from_params
from ..pty_link import PtyLink
from .base import ParticipantDevice

#: display resolution of an M5-100 (500 N capacity) per unit (Mark-10 capacity table)
RESOLUTION_M5_100: dict[str, float] = {
    "N": 0.1, "mN": 100.0, "kN": 0.0001, "lbF": 0.02, "ozF": 0.5, "kgF": 0.01, "gF": 10.0,
}  # fmt: skip
SERIES4_COMMANDS = {"?", "MEM", "STA", "CLRMEM"}


class Mark10Emulator(ParticipantDevice):
    """A virtual Mark-10 gauge on a :class:`PtyLink` (``.link.link_path`` is its port).

    Args:
        participant: the hand squeezing the gauge; a default :class:`GripParticipant` if None.
        unit: unit command selected on the gauge at power-up (``N``, ``LB``, ``KG``...).
        gain_error: relative gain error (0.01 = reads 1 % high).
        offset_n: zero offset, N.
        polarity: +1 compression positive (default), -1 inverted.
        show_unit: print the unit after the value ("Data format" setting).
        series: 5 (full command set) or 4 (``?`` only).
    """

    sim_name = "sim://mark10"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        unit: str = "N",
        gain_error: float = 0.0,
        offset_n: float = 0.0,
        polarity: int = 1,
        show_unit: bool = True,
        series: int = 5,
        model: str = "M5-100",
        serial: str = "5123456",
        firmware: str = "1.18",
        capacity_n: float = 500.0,
    ):
        self.participant = participant if participant is not None else GripParticipant()
        self.unit = UNIT_COMMANDS[unit.upper()]
        self.gain_error = float(gain_error)
        self.offset_n = float(offset_n)
        self.polarity = 1 if polarity >= 0 else -1
        self.show_unit = bool(show_unit)
        self.series = int(series)
        self.model, self.serial, self.firmware = model, serial, firmware
        self.capacity_n = float(capacity_n)
        self.mode = "CUR"
        self.tare_n = 0.0
        self._peak_t, self._peak_c = 0.0, 0.0
        self._lock = threading.Lock()
        #: (device time s, force N as sent) of every reading answered
        self.readings: list[tuple[float, float]] = []
        self.commands: list[tuple[float, str]] = []
        self._rx = b""
        self._t0 = time.monotonic()
        self.link = PtyLink(self._on_bytes, name="ttyMARK10").start()

    # -- contract ---------------------------------------------------------------------
    def device_time(self) -> float:
        return time.monotonic() - self._t0

    @property
    def truth(self) -> dict[str, Any]:
        return {
            "efforts": list(self.participant.truth),
            "gain_error": self.gain_error,
            "offset_n": self.offset_n,
            "tare_n": self.tare_n,
            "unit": self.unit,
            "polarity": self.polarity,
            "readings": list(self.readings),
        }

    def close(self) -> None:
        self.link.close()

    # -- measurement ---------------------------------------------------------------------
    def load_n(self, t: float) -> float:
        """What the load cell measures now, N (compression positive, before polarity)."""
        f = float(self.participant.force(np.array([t]))[0])
        return (1.0 + self.gain_error) * f + self.offset_n - self.tare_n

    def _format(self, newtons: float) -> str:
        res = RESOLUTION_M5_100.get(self.unit, 0.1) * self.capacity_n / 500.0
        value = round(self.polarity * newtons / UNIT_TO_N[self.unit.lower()] / res) * res
        decimals = max(0, -math.floor(math.log10(res) + 1e-9))
        text = f"{value:.{decimals}f}"
        if text.startswith("-") and float(text) == 0.0:
            text = text[1:]
        return f"{text} {self.unit}" if self.show_unit else text

    # -- commands ---------------------------------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        self._rx += data.replace(b"\n", b"")
        while b"\r" in self._rx:
            line, self._rx = self._rx.split(b"\r", 1)
            text = line.decode("ascii", "replace").strip().upper()
            if text:
                reply = self._command(text)
                if reply is not None:
                    self.link.write(reply.encode("ascii") + b"\r\n")

    def _command(self, cmd: str) -> str | None:
        t = self.device_time()
        with self._lock:
            self.commands.append((t, cmd))
            if self.series == 4 and cmd not in SERIES4_COMMANDS:
                return "*10"
            if cmd in ("?", "?C", "?PT", "?PC"):
                now = self.load_n(t)
                self._peak_c = max(self._peak_c, now)
                self._peak_t = min(self._peak_t, now)
                which = {"?": self.mode, "?C": "CUR", "?PT": "PT", "?PC": "PC"}[cmd]
                value = {"CUR": now, "PT": self._peak_t, "PC": self._peak_c}[which]
                text = self._format(value)
                self.readings.append((t, float(text.split()[0]) * UNIT_TO_N[self.unit.lower()]))
                return text
            if cmd in UNIT_COMMANDS:
                self.unit = UNIT_COMMANDS[cmd]
                return None
            if cmd == "Z":
                self.tare_n += self.load_n(t)
                self._peak_t = self._peak_c = 0.0
                return None
            if cmd in ("CUR", "PT", "PC"):
                self.mode = cmd
                return None
            if cmd == "CLR":
                self._peak_t = self._peak_c = 0.0
                return None
            info = {
                "RN": "Series 5 Digital Force Gauge",
                "RM": self.model,
                "RV": self.firmware,
                "RS": self.serial,
                "LIST": f"V{self.firmware};{self.unit.upper()};{self.mode};FLTC8;FLTP1;AOUT00;AOFF5;FULL;MIT;POL;B0",
            }
            return info.get(cmd, "*10")


async def open_sim(url: DeviceURL) -> Device:
    """Start a Mark-10 emulator and open the real driver on its pty (``sim://mark10?...``).

    Parameters: participant ``seed``, ``peak_n``, ``rise_s``, ``hold_s``,
    ``fatigue_per_s``, ``noise_n``, ``reaction_s``, ``peak_jitter``; gauge
    ``unit`` (power-up unit), ``gain_error``, ``offset_n``, ``polarity``
    (``inverted``), ``show_unit`` (0/1), ``series`` (4/5); ``rate`` = polling Hz.
    """
    params, name = url.params, Mark10Emulator.sim_name
    try:
        participant = grip_participant_from_params(params, name)
        inverted = params.get("polarity", "normal") == "inverted"
        emulator = Mark10Emulator(
            participant,
            unit=params.get("unit", "N"),
            gain_error=float(params.get("gain_error", 0.0)),
            offset_n=float(params.get("offset_n", 0.0)),
            polarity=-1 if inverted else 1,
            show_unit=params.get("show_unit", "1") not in ("0", "false", "no"),
            series=int(params.get("series", 5)),
        )
        rate = float(params["rate"]) if "rate" in params else None
    except (ValueError, KeyError) as exc:
        raise DeviceError(f"{name}: bad parameter ({exc})") from None
    driver = Mark10Driver(
        SerialTransport(emulator.link.link_path, 115200), Mark10Codec(invert=inverted), name
    )
    dev = Device(driver, url.text, emulator, release=lambda: asyncio.to_thread(emulator.close))
    try:
        await driver.open()
        if rate is not None:
            await driver.set_rate(rate)
        await driver.info()
    except BaseException:
        await dev.close()
        raise
    return dev
