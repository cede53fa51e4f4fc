"""A device as a Lab Streaming Layer outlet (pylsl), so LabRecorder records it beside EEG/EMG.

Stream metadata follows the XDF meta-data conventions: ``desc/channels/channel``
with ``label``, ``unit`` and ``type`` per channel, and ``desc/acquisition`` with
manufacturer, model and serial number. ``source_id`` is ``<model>-<serial>`` so
that an inlet reconnects to the same device after an interruption.

Timestamps. Each sample's device time is mapped to the host monotonic clock by
the driver's :class:`~motorlab.devices.clock.ClockMapper` (lower envelope of
arrival times, drift corrected) and then to LSL time. liblsl's ``local_clock()``
reads ``std::chrono::steady_clock``, which on Linux is ``CLOCK_MONOTONIC`` — the
clock behind Python's :func:`time.monotonic` — so the two differ only by the
cost of a call; the offset is nevertheless measured once when the outlet is made
(median of bracketed reads) and added, so the mapping stays right on platforms
where the two monotonic clocks have different origins.

Network: an LSL outlet listens for inlets (TCP data server and UDP time server,
liblsl binds them on all interfaces) and answers discovery queries. Use an
``lsl_api.cfg`` (environment variable ``LSLAPICFG``) with
``[multicast] ResolveScope = machine`` to keep discovery on this computer;
:func:`write_local_config` writes one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..errors import MotorlabError

if TYPE_CHECKING:
    from ..devices.base import DeviceInfo, SampleBlock

#: LSL content type chosen from the channel types (XDF uses "MoCap" for motion data)
_MOTION_TYPES = {"ACCEL", "GYRO", "ORNT", "MAGN", "POS", "VEL", "ANGACCEL", "JNTANG"}


def load_pylsl():
    """Import pylsl, or raise a one-line :class:`MotorlabError` saying how to get it."""
    try:
        import pylsl
    except ModuleNotFoundError:
        raise MotorlabError("LSL needs pylsl: pip install 'motorlab[lsl]'") from None
    except RuntimeError as exc:  # pylsl imports but cannot find liblsl
        raise MotorlabError(f"pylsl cannot load liblsl ({str(exc).splitlines()[0]}); set PYLSL_LIB") from None
    return pylsl


def write_local_config(path: str | Path, log_level: int = -2) -> Path:
    """Write an ``lsl_api.cfg`` that keeps LSL discovery on this machine (IPv4 loopback only).

    Point ``LSLAPICFG`` at it *before* pylsl is first imported.
    ``log_level``: liblsl/loguru verbosity (0 info, -1 warnings, -2 errors, -3 fatal only).
    """
    path = Path(path)
    path.write_text(
        "[ports]\nIPv6 = disable\n"
        "[multicast]\nResolveScope = machine\nListenAddress = 127.0.0.1\n"
        "[lab]\nKnownPeers = {127.0.0.1}\n"
        f"[log]\nlevel = {int(log_level)}\n"
    )
    return path


def lsl_content_type(info: DeviceInfo) -> str:
    """``MoCap`` for motion sensors (IMU, position), ``Force`` for force-only devices, else ``Misc``."""
    types = {c.type for c in info.channels}
    if types & _MOTION_TYPES:
        return "MoCap"
    if all(c.units == "N" for c in info.channels):
        return "Force"
    return "Misc"


def measure_clock_offset(pylsl_module=None, reads: int = 15) -> float:
    """``lsl.local_clock() - time.monotonic()`` in seconds (median over bracketed reads)."""
    lsl = pylsl_module or load_pylsl()
    offsets = []
    for _ in range(reads):
        a = time.monotonic()
        b = lsl.local_clock()
        c = time.monotonic()
        offsets.append(b - (a + c) / 2)
    return float(np.median(offsets))


class LslOutlet:
    """Publishes the sample blocks of one device as an LSL stream (float64 channels).

    Args:
        info: what the device said about itself (channels with units and types).
        name: stream name (default ``motorlab <model>``).
        source_id: stable identifier (default ``<model>-<serial>``).
        rate_hz: nominal rate (default ``info.nominal_rate_hz``).
        content_type: LSL type (default from :func:`lsl_content_type`).
    """

    def __init__(
        self,
        info: DeviceInfo,
        name: str | None = None,
        source_id: str | None = None,
        rate_hz: float | None = None,
        content_type: str | None = None,
        max_buffered_s: int = 360,
    ):
        self.lsl = load_pylsl()
        self.device = info
        self.name = name or f"motorlab {info.model}"
        self.source_id = source_id or f"{info.model}-{info.serial}"
        self.rate_hz = float(rate_hz or info.nominal_rate_hz or 0.0)
        self.content_type = content_type or lsl_content_type(info)
        self.clock_offset_s = measure_clock_offset(self.lsl)
        self.samples_pushed = 0
        self.stream_info = self._make_info()
        self._outlet = self.lsl.StreamOutlet(self.stream_info, 0, max_buffered_s)

    def _make_info(self):
        lsl, info = self.lsl, self.device
        si = lsl.StreamInfo(
            self.name, self.content_type, len(info.channels), self.rate_hz, lsl.cf_double64, self.source_id
        )
        desc = si.desc()
        chans = desc.append_child("channels")
        for c in info.channels:
            ch = chans.append_child("channel")
            ch.append_child_value("label", c.name)
            ch.append_child_value("unit", c.units)
            ch.append_child_value("type", c.type)
            if c.component != "n/a":
                ch.append_child_value("component", c.component)
            if c.tracked_point != "n/a":
                ch.append_child_value("tracked_point", c.tracked_point)
        acq = desc.append_child("acquisition")
        acq.append_child_value("manufacturer", info.manufacturer)
        acq.append_child_value("model", info.model)
        acq.append_child_value("serial_number", info.serial)
        acq.append_child_value("firmware", info.firmware)
        acq.append_child_value("protocol", info.protocol)
        desc.append_child_value("software", f"motorlab {__version__}")
        desc.append_child_value(
            "timestamps",
            "device time mapped to host CLOCK_MONOTONIC (drift-corrected), then to LSL local_clock",
        )
        return si

    def to_lsl_time(self, host_monotonic: np.ndarray | float) -> np.ndarray:
        """Host monotonic time (s) -> LSL ``local_clock`` time (s)."""
        return np.asarray(host_monotonic, dtype=np.float64) + self.clock_offset_s

    def push_block(self, block: SampleBlock, to_host: Callable[[np.ndarray], np.ndarray]) -> int:
        """Push one block with per-sample timestamps ``to_host(device_time)`` mapped to LSL time."""
        if block.n == 0:
            return 0
        stamps = self.to_lsl_time(to_host(block.device_time))
        values = np.ascontiguousarray(block.values, dtype=np.float64)
        self._outlet.push_chunk(values, stamps.tolist())
        self.samples_pushed += block.n
        return block.n

    def have_consumers(self) -> bool:
        return bool(self._outlet.have_consumers())

    def wait_for_consumers(self, timeout_s: float) -> bool:
        return bool(self._outlet.wait_for_consumers(timeout_s))

    def close(self) -> None:
        """Stop publishing (inlets see the stream end)."""
        if self._outlet is not None:
            del self._outlet
            self._outlet = None
