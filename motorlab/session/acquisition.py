"""Live acquisition: driver blocks -> calibration -> recording time -> sink.

:class:`Acquisition` pulls :class:`~motorlab.devices.base.SampleBlock` s from a
started driver, applies the device calibration (if any), places every sample
on the recording's time axis and hands it to its sink — a
:class:`~motorlab.storage.bids.RecordingWriter` when recording, nothing when
calibrating — while keeping running signal statistics (:class:`SignalTracker`)
for the live view. Recording and calibration both acquire through it;
:meth:`Acquisition.collect` gathers a window of samples for a calibration point.

Time axis: the recording starts at host time ``t0`` (``time.monotonic()``).
Within a link segment sample times follow the *device* clock (exact spacing);
each segment is anchored on the host clock by the device->host mapping at its
first block. After a reconnect a new segment starts (the device clock may have
restarted) and a ``gap`` event is emitted. Cues and trials are timed on the host
clock relative to ``t0``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import DeviceError, MotorlabError, one_line
from ..recording import Event

if TYPE_CHECKING:
    from ..devices.base import SampleBlock
    from ..devices.drivers.codec_driver import CodecDriver

log = logging.getLogger(__name__)

#: apply(values (n, ch)) -> corrected values
Corrector = Callable[[np.ndarray], np.ndarray]


class SampleSink(Protocol):
    """Where acquired samples go (a :class:`~motorlab.storage.bids.RecordingWriter`)."""

    def append(self, t: np.ndarray, values: np.ndarray) -> None: ...

    def add_event(self, event: Event) -> None: ...


@dataclass
class SignalTracker:
    """Running statistics of the primary channel, updated on every block.

    ``trace_t``/``trace_v`` keep a decimated recent trace (recording time s, value).
    With ``down_threshold`` set (a pen's tip force, N) it also counts pen-down segments
    ("strokes so far") in the current trial: rising crossings of the threshold.
    """

    primary: int = 0
    down_threshold: float | None = None
    pen_down: bool = False
    strokes: int = 0
    latest: np.ndarray | None = None
    peak: float = -math.inf
    trial_peak: float = -math.inf
    n_samples: int = 0
    dropped: int = 0
    gaps: int = 0
    trace_t: deque[float] = field(default_factory=lambda: deque(maxlen=2000))
    trace_v: deque[float] = field(default_factory=lambda: deque(maxlen=2000))

    def reset_trial_peak(self) -> None:
        self.trial_peak = -math.inf
        self.strokes = 1 if self.pen_down else 0

    def update(self, t: np.ndarray, values: np.ndarray, dropped_before: int) -> None:
        self.n_samples += len(t)
        self.dropped += dropped_before
        self.latest = values[-1]
        col = values[:, self.primary]
        finite = col[np.isfinite(col)]
        if finite.size:
            top = float(finite.max())
            self.peak = max(self.peak, top)
            self.trial_peak = max(self.trial_peak, top)
        if self.down_threshold is not None and finite.size:
            down = finite > self.down_threshold
            rises = int(np.count_nonzero(down[1:] & ~down[:-1])) + int(bool(down[0]) and not self.pen_down)
            self.strokes += rises
            self.pen_down = bool(down[-1])
        step = max(1, len(t) // 8)
        self.trace_t.extend(t[::step].tolist())
        self.trace_v.extend(col[::step].tolist())


class Acquisition:
    """Pumps a started driver's blocks through calibration and the time axis into a sink.

    Args:
        driver: the device's driver (started by the caller).
        sink: where samples and events go; None keeps them only in the live statistics
            (and in :meth:`collect` windows).
        corrector: per-channel calibration to apply, if any.
        primary_channel: column index of the channel the statistics follow.
        t0: host monotonic time of recording time 0 (default: now).
    """

    def __init__(
        self,
        driver: CodecDriver,
        sink: SampleSink | None = None,
        corrector: Corrector | None = None,
        primary_channel: int = 0,
        t0: float | None = None,
    ):
        self.driver = driver
        self.sink = sink
        self.corrector = corrector
        self.signal = SignalTracker(primary=primary_channel)
        self.t0 = time.monotonic() if t0 is None else t0
        self.events: list[Event] = []
        #: the first error of the sink, one line; no samples are written after it (events
        #: still are while their own file takes them: the interrupted trial's row matters)
        self.sink_error: str = ""
        #: when samples stopped being written (recording time, s); NaN while all is well
        self.sink_error_t: float = math.nan
        self._events_failed = False
        self._segment_dev0: float | None = None
        self._segment_start = 0.0
        self._last_t = -np.inf
        self._task: asyncio.Task[None] | None = None
        self._taps: list[Callable[[np.ndarray, np.ndarray], None]] = []
        driver.on_gap.append(self._on_gap)

    # -- time -----------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the recording started (host clock)."""
        return time.monotonic() - self.t0

    def _to_recording_time(self, blk: SampleBlock) -> np.ndarray:
        if getattr(self.driver, "preserves_time", False):  # a replay: its times are the recording's
            return blk.device_time
        if self._segment_dev0 is None:
            self._segment_dev0 = float(blk.device_time[0])
            try:
                host0 = float(self.driver.clock.to_host(self._segment_dev0))
            except RuntimeError:
                host0 = blk.host_time - float(blk.device_time[-1] - blk.device_time[0])
            # never go backwards across a segment boundary
            self._segment_start = max(host0 - self.t0, self._last_t + 1e-6)
        return blk.device_time - self._segment_dev0 + self._segment_start

    def _on_gap(self, host_lost: float, host_back: float) -> None:
        self._segment_dev0 = None  # next block starts a new segment
        self.signal.gaps += 1
        self.add_event(Event(host_lost - self.t0, host_back - host_lost, "gap", {"cue": "link lost"}))

    # -- events ---------------------------------------------------------------------
    def add_event(self, event: Event) -> None:
        self.events.append(event)
        if self.sink is not None and not self._events_failed:
            try:
                self.sink.add_event(event)
            except (OSError, MotorlabError) as exc:
                self._events_failed = True
                if not self.sink_error:
                    self.sink_error, self.sink_error_t = one_line(exc), self.now()
                log.debug("writing an event failed: %s", one_line(exc))

    def add_tap(self, tap: Callable[[np.ndarray, np.ndarray], None]) -> None:
        """Call ``tap(t, values)`` with every block after it is written (recording time s, calibrated)."""
        self._taps.append(tap)

    # -- data -----------------------------------------------------------------------
    def handle_block(self, blk: SampleBlock) -> None:
        if blk.n == 0:
            return
        values = blk.values if self.corrector is None else self.corrector(blk.values)
        t = self._to_recording_time(blk)
        if self.sink is not None and not self.sink_error:
            try:
                self.sink.append(t, values)
            except (OSError, MotorlabError) as exc:
                self.sink_error, self.sink_error_t = one_line(exc), float(t[0])
                log.debug("writing samples failed: %s", self.sink_error)
        self._last_t = float(t[-1])
        self.signal.update(t, values, blk.dropped_before)
        for tap in list(self._taps):
            tap(t, values)

    async def run(self) -> None:
        async for blk in self.driver.blocks():
            self.handle_block(blk)

    def start(self) -> None:
        """Pump blocks in a background task until :meth:`stop`."""
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def collect(self, seconds: float, settle_s: float = 0.0) -> np.ndarray:
        """Wait ``settle_s``, then gather ``seconds`` of samples (at least 3), (n, channels).

        The samples are those the running acquisition receives (see :meth:`start`);
        no samples for ``max(3, 3 x seconds)`` s is a one-line DeviceError.
        """
        await asyncio.sleep(settle_s)
        chunks: list[np.ndarray] = []
        times: list[float] = []
        done = asyncio.Event()

        def tap(t: np.ndarray, values: np.ndarray) -> None:
            if done.is_set():
                return
            chunks.append(np.asarray(values, dtype=np.float64))
            times.extend((float(t[0]), float(t[-1])))
            if times[-1] - times[0] >= seconds and sum(len(c) for c in chunks) >= 3:
                done.set()

        timeout = max(3.0, 3 * seconds)
        self._taps.append(tap)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            raise DeviceError(f"{self.driver.url}: no samples for {timeout:g} s") from None
        finally:
            self._taps.remove(tap)
        return np.concatenate(chunks, axis=0)

    async def drain(self, settle_s: float = 0.15) -> None:
        """Let in-flight blocks arrive, then take every decoded block."""
        await asyncio.sleep(settle_s)
        for blk in self.driver.pending_blocks():
            self.handle_block(blk)

    async def stop(self) -> None:
        """Stop pumping; blocks already decoded are still taken."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("%s: acquisition stopped with an error", self.driver.url)
        for blk in self.driver.pending_blocks():
            self.handle_block(blk)
