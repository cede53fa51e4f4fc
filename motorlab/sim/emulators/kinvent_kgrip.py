"""Emulated Kinvent K-Grip on a pseudo-terminal (``sim://kgrip``).

Speaks what :mod:`motorlab.devices.codecs.kinvent` decodes for the USB K-Grip
(reverse-engineered: itsmaxxst/KGrip): single-byte commands ``0x11`` sampling
on, ``0x10`` off, ``0x21`` coefficient (answered by 6 ASCII digits, kg per
count x 1e6), ``0x7A`` power off; while sampling, 11-byte ``FF FF FE`` frames
with the raw u16 count in bytes 3-4 at ``rate_hz`` (default 100 Hz; the real
rate is not documented).

Sensor model: ``count = baseline + load_kg / true_kg_per_count``, where the
stored (reported) coefficient is the true one x (1 + ``gain_error``): a
calibration against known masses must remove that error. The baseline
(default 3500 counts, as in the source's example frame) drifts by
``drift_counts_per_s``. ``inject_every=k`` writes an 11-byte frame with a bad
header and a stray byte before every k-th frame. :meth:`KGripEmulator.unplug`
and :meth:`KGripEmulator.plug_in` pull the USB cable (sampling stops, as the
device loses power).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np

from ...devices.codecs import kinvent as kv
from ...devices.device import Device
from ...devices.drivers.kinvent_kgrip import KGripDriver
from ...devices.registry import DeviceURL
from ...devices.transports.serial_port import SerialTransport
from ...units import STANDARD_GRAVITY
from ..participants import GripParticipant, grip_participant_from_params
from ..pty_link import PtyLink
from .base import ParticipantDevice
from .ble import sim_param


class KGripEmulator(ParticipantDevice):
    sim_name = "sim://kgrip"
    participant: GripParticipant

    def __init__(
        self,
        participant: GripParticipant | None = None,
        rate_hz: float = 100.0,
        kg_per_count: float = 0.004882,
        gain_error: float = 0.0,
        baseline: int = 3500,
        drift_counts_per_s: float = 0.0,
        inject_every: int = 0,
    ):
        self.participant = participant or GripParticipant()
        self.rate_hz = float(rate_hz)
        self.reported_kg_per_count = round(kg_per_count * 1e6) / 1e6
        self.true_kg_per_count = self.reported_kg_per_count / (1.0 + gain_error)
        self.baseline = int(baseline)
        self.drift = float(drift_counts_per_s)
        self.inject_every = int(inject_every)
        self.sampling = False
        self._next = 0.0  # device time of the next frame, s
        self.injected = 0
        self.commands: list[tuple[float, int]] = []
        #: (device time s, raw count) of every frame delivered
        self.sent: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self.link = PtyLink(self._on_bytes, name="ttyKGRIP").start()
        self._thread = threading.Thread(target=self._stream, name="kgrip-emulator", daemon=True)
        self._thread.start()

    def device_time(self) -> float:
        return time.monotonic() - self._t0

    @property
    def truth(self) -> dict[str, Any]:
        return {
            "efforts": list(self.participant.truth),
            "reported_kg_per_count": self.reported_kg_per_count,
            "true_kg_per_count": self.true_kg_per_count,
            "baseline": self.baseline,
        }

    def counts(self, t: np.ndarray) -> np.ndarray:
        """Raw counts at device times ``t`` (s)."""
        kg = self.participant.force(t) / STANDARD_GRAVITY
        raw = self.baseline + self.drift * t + kg / self.true_kg_per_count
        return np.clip(np.round(raw), 0, 0xFFFF).astype(np.int64)

    # -- host -> device ---------------------------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        for op in data:
            with self._lock:
                self.commands.append((self.device_time(), op))
                if op == kv.OP_SAMPLING_ON and not self.sampling:
                    self.sampling = True
                    self._next = self.device_time()
                elif op in (kv.OP_SAMPLING_OFF, kv.OP_POWER_OFF):
                    self.sampling = False
            if op == kv.OP_GET_COEFFICIENT:
                self.link.write(f"{round(self.reported_kg_per_count * 1e6):06d}".encode())

    # -- device -> host ---------------------------------------------------------------
    def _stream(self) -> None:
        period = 1.0 / self.rate_hz
        n_frames = 0
        while not self._stop.is_set():
            out = b""
            rows: list[tuple[float, int]] = []
            with self._lock:
                if self.sampling:
                    now = self.device_time()
                    while self._next <= now:
                        t = self._next
                        raw = int(self.counts(np.array([t]))[0])
                        n_frames += 1
                        if self.inject_every and n_frames % self.inject_every == 0:
                            out += b"\xff\xff\x00" + bytes(8) + b"\x42"
                            self.injected += 1
                        out += kv.kgrip_frame(raw)
                        rows.append((t, raw))
                        self._next += period
            if out and self.link.write(out):
                self.sent.extend(rows)
            self._stop.wait(0.01)

    # -- faults ------------------------------------------------------------------------
    def unplug(self) -> None:
        with self._lock:
            self.sampling = False
        self.link.vanish()

    def plug_in(self) -> None:
        self.link.restore()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.link.close()


async def open_sim(url: DeviceURL) -> Device:
    """``sim://kgrip?seed=1&peak_n=300&rate_hz=100&gain_error=0&inject_every=0``: an emulated K-Grip."""
    params, name = url.params, KGripEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = KGripEmulator(
        grip_participant_from_params(params, name),
        rate_hz=p("rate_hz", 100.0),
        kg_per_count=p("kg_per_count", 0.004882),
        gain_error=p("gain_error", 0.0),
        baseline=int(p("baseline", 3500)),
        drift_counts_per_s=p("drift_counts_per_s", 0.0),
        inject_every=int(p("inject_every", 0)),
    )
    driver = KGripDriver(
        SerialTransport(emulator.link.link_path, kv.KGRIP_BAUD),
        url=name,
        serial=params.get("serial", "KG-EMU-0001"),
    )
    dev = Device(driver, url.text, emulator, release=lambda: asyncio.to_thread(emulator.close))
    try:
        await driver.open()
        await driver.info()
    except BaseException:
        await dev.close()
        raise
    return dev
