"""Emulated graphics tablet pen node (``sim://tablet``): kernel ``input_event`` bytes on a FIFO.

There is no ``/dev/uinput`` here, so the emulation is at the evdev-event
level: the emulator writes exactly the bytes a pen node gives ``read(2)``
(native ``struct input_event``: kernel timestamp, type, code, value), and the
real driver reads them through :class:`~motorlab.devices.transports.input_node.InputNodeTransport`
from a FIFO standing in for ``/dev/input/eventN``. The axes are those of an
Intuos Pro M pen node (linuxwacom wiki, research/devices_clinic.md §1d):
ABS_X 0-44800 and ABS_Y 0-29600 at 200 units/mm, ABS_PRESSURE 0-8191,
ABS_DISTANCE 0-63, ABS_TILT_X/Y -64..63 at 57 units/rad. Like the kernel, it
sends only axes that changed, then ``SYN_REPORT``, at 200 reports/s while the
tip touches and 133 while hovering; timestamps are CLOCK_MONOTONIC.

The pen is a :class:`~motorlab.sim.participants.WriterParticipant` (cues
``write``/``draw``): its position in cm goes to tablet mm (origin
``origin_mm``, y growing towards the user), its tip force to pressure
(``max_force_n`` = full scale). ``tilt_rad`` is the pen's constant tilt.
``resolution=0`` makes a tablet that declares no resolution (the driver must
refuse it); :meth:`TabletEmulator.overflow` sends a ``SYN_DROPPED``;
:meth:`TabletEmulator.unplug`/:meth:`plug_in` remove and restore the node.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...devices.codecs import evdev_tablet as ev
from ...devices.device import Device
from ...devices.drivers.evdev_tablet import TabletDriver
from ...devices.registry import DeviceURL
from ...devices.transports.input_node import InputNodeTransport
from ..participants.writer import WriterParticipant
from .base import ParticipantDevice
from .ble import sim_param


class TabletEmulator(ParticipantDevice):
    sim_name = "sim://tablet"
    participant: WriterParticipant

    def __init__(
        self,
        participant: WriterParticipant | None = None,
        resolution: int = 200,
        origin_mm: tuple[float, float] = (110.0, 75.0),
        max_force_n: float = 4.0,
        tilt_rad: tuple[float, float] = (0.45, -0.30),
        touch_rate_hz: float = 200.0,
        hover_rate_hz: float = 133.0,
    ):
        self.participant = participant or WriterParticipant()
        self.absinfo: dict[int, ev.AbsAxis] = {
            ev.ABS_X: ev.AbsAxis(0, 44800, resolution),
            ev.ABS_Y: ev.AbsAxis(0, 29600, resolution),
            ev.ABS_PRESSURE: ev.AbsAxis(0, 8191, 0),
            ev.ABS_DISTANCE: ev.AbsAxis(0, 63, 0),
            ev.ABS_TILT_X: ev.AbsAxis(-64, 63, 57),
            ev.ABS_TILT_Y: ev.AbsAxis(-64, 63, 57),
        }
        self.resolution = resolution
        self.origin_mm = origin_mm
        self.max_force_n = max_force_n
        self.tilt_rad = tilt_rad
        self.touch_rate_hz = touch_rate_hz
        self.hover_rate_hz = hover_rate_hz
        self.name = "Wacom Intuos Pro M Pen (emulated)"
        self.in_range = True
        #: (kernel time s, raw x, raw y, raw pressure, touching) of every report delivered
        self.reports: list[tuple[float, int, int, int, bool]] = []
        self._state: dict[int, int] = {}
        self._keys: set[int] = set()
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._dir = Path(tempfile.mkdtemp(prefix="motorlab-input-"))
        self.path = str(self._dir / "event0")
        self._fd: int | None = None
        self.plug_in()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tablet-emulator", daemon=True)
        self._thread.start()

    def device_time(self) -> float:
        return time.monotonic() - self._t0

    @property
    def truth(self) -> Any:
        return self.participant.truth

    # -- the node ----------------------------------------------------------------------
    def plug_in(self) -> None:
        """Make the node appear (a FIFO kept open for writing, so readers see no end of file)."""
        with self._lock:
            if self._fd is not None:
                return
            if not os.path.exists(self.path):
                os.mkfifo(self.path, 0o660)
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
            self._state, self._keys = {}, set()  # a fresh device: everything is sent again

    def unplug(self) -> None:
        """The tablet goes away: the node disappears and its readers see the end."""
        with self._lock:
            fd, self._fd = self._fd, None
            if os.path.exists(self.path):
                os.unlink(self.path)
        if fd is not None:
            os.close(fd)

    def state(self) -> tuple[dict[int, int], set[int]]:
        """Current axis values and keys down (what EVIOCGABS/EVIOCGKEY would report)."""
        with self._lock:
            return dict(self._state), set(self._keys)

    def _write(self, events: list[tuple[int, int, int]], kernel_s: float) -> bool:
        sec = int(kernel_s)
        usec = min(999_999, int(round((kernel_s - sec) * 1e6)))
        data = ev.pack_events([(sec, usec, t, c, v) for t, c, v in events])
        with self._lock:
            fd = self._fd
            if fd is None:
                return False
            try:
                os.write(fd, data)
            except (BlockingIOError, OSError):
                return False
        return True

    def lift_away(self) -> None:
        """The pen leaves the tablet's range (BTN_TOOL_PEN released; no reports until it returns)."""
        self.in_range = False

    def bring_back(self) -> None:
        """The pen comes back into range."""
        self.in_range = True

    def overflow(self) -> None:
        """The kernel's buffer overflowed: ``SYN_DROPPED`` (then the state is re-read)."""
        self._write([(ev.EV_SYN, ev.SYN_DROPPED, 0)], time.monotonic())

    # -- the pen ---------------------------------------------------------------------------
    def _raw(self, t: float) -> tuple[dict[int, int], set[int]]:
        pen = self.participant.pen(np.array([t]))
        x_cm, y_cm = pen["pos_cm"][0]
        force = float(pen["tip_force_n"][0])
        touching = bool(self.participant.pen_down(np.array([t]))[0])
        res = self.resolution or 200
        axes = {
            ev.ABS_X: int(round((self.origin_mm[0] + 10.0 * x_cm) * res)),
            ev.ABS_Y: int(round((self.origin_mm[1] - 10.0 * y_cm) * res)),
            ev.ABS_PRESSURE: int(round(min(force / self.max_force_n, 1.0) * 8191)) if touching else 0,
            ev.ABS_DISTANCE: 0 if touching else 10,
            ev.ABS_TILT_X: int(round(self.tilt_rad[0] * 57)),
            ev.ABS_TILT_Y: int(round(self.tilt_rad[1] * 57)),
        }
        keys = {ev.BTN_TOOL_PEN} if self.in_range else set()
        if touching and self.in_range:
            keys.add(ev.BTN_TOUCH)
        return axes, keys

    def _run(self) -> None:
        next_t = self.device_time()
        while not self._stop.is_set():
            now = self.device_time()
            if now < next_t:
                self._stop.wait(min(next_t - now, 0.01))
                continue
            axes, keys = self._raw(next_t)
            kernel_s = self._t0 + next_t
            with self._lock:
                events = [(ev.EV_KEY, k, 1) for k in sorted(keys - self._keys)]
                events += [(ev.EV_KEY, k, 0) for k in sorted(self._keys - keys)]
                if ev.BTN_TOOL_PEN in keys:
                    events += [(ev.EV_ABS, c, v) for c, v in axes.items() if self._state.get(c) != v]
                plugged = self._fd is not None
            if events and plugged and self._write([*events, (ev.EV_SYN, ev.SYN_REPORT, 0)], kernel_s):
                with self._lock:
                    self._state.update(axes if ev.BTN_TOOL_PEN in keys else {})
                    self._keys = keys
                row = (kernel_s, axes[ev.ABS_X], axes[ev.ABS_Y], axes[ev.ABS_PRESSURE], ev.BTN_TOUCH in keys)
                self.reports.append(row)
            touching = ev.BTN_TOUCH in keys
            next_t += 1.0 / (self.touch_rate_hz if touching else self.hover_rate_hz)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.unplug()
        try:
            os.rmdir(self._dir)
        except OSError:
            pass


async def open_sim(url: DeviceURL) -> Device:
    """``sim://tablet?seed=1&resolution=200``: an emulated pen node read by the real tablet driver."""
    import asyncio

    params, name = url.params, TabletEmulator.sim_name

    def p(key: str, default: float) -> float:
        return sim_param(params, key, default, name)

    emulator = TabletEmulator(WriterParticipant(seed=int(p("seed", 0))), resolution=int(p("resolution", 200)))
    driver = TabletDriver(
        InputNodeTransport(emulator.path),
        url=name,
        absinfo=emulator.absinfo,
        name=emulator.name,
        state=emulator.state,
    )
    dev = Device(driver, url.text, emulator, release=lambda: asyncio.to_thread(emulator.close))
    try:
        await driver.open()
        await driver.info()
    except BaseException:
        await dev.close()
        raise
    return dev


__all__ = ["TabletEmulator", "open_sim"]
