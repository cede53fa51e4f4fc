"""Live acquisition: driver blocks -> calibration -> recording time -> disk.

:class:`Acquisition` pulls :class:`~motorlab.devices.base.SampleBlock` s from a
driver, applies the device calibration, places every sample on the recording's
time axis and appends it to a :class:`~motorlab.storage.bids.RecordingWriter`
as it arrives, while keeping a small live state (latest value, running peak,
recent trace) for the screen.

Time axis: the recording starts at host time ``t0`` (``time.monotonic()``).
Within a link segment sample times follow the *device* clock (exact spacing);
each segment is anchored on the host clock by the device->host mapping at its
first block. After a reconnect a new segment starts (the device clock may have
restarted) and a ``gap`` event is written. Cues and trials are timed on the host
clock relative to ``t0``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..devices.base import DeviceInfo, SampleBlock
from ..recording import Event
from ..storage.bids import RecordingWriter

#: apply(values (n, ch)) -> corrected values
Corrector = Callable[[np.ndarray], np.ndarray]


@dataclass
class LiveState:
    """What the live view shows; updated on every block."""

    latest: np.ndarray | None = None
    peak: float = float("-inf")
    trial_peak: float = float("-inf")
    n_samples: int = 0
    dropped: int = 0
    gaps: int = 0
    trace_t: deque = field(default_factory=lambda: deque(maxlen=2000))
    trace_v: deque = field(default_factory=lambda: deque(maxlen=2000))

    def reset_trial_peak(self) -> None:
        self.trial_peak = float("-inf")


class Acquisition:
    def __init__(
        self,
        driver,
        info: DeviceInfo,
        writer: RecordingWriter,
        corrector: Corrector | None = None,
        primary_channel: int = 0,
        t0: float | None = None,
    ):
        self.driver = driver
        self.info = info
        self.writer = writer
        self.corrector = corrector
        self.primary = primary_channel
        self.state = LiveState()
        self.t0 = time.monotonic() if t0 is None else t0
        self._segment_dev0: float | None = None
        self._segment_start = 0.0
        self._last_t = -np.inf
        self._task: asyncio.Task | None = None
        self.events: list[Event] = []
        driver.on_gap.append(self._on_gap)

    # -- time -----------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the recording started (host clock)."""
        return time.monotonic() - self.t0

    def _to_recording_time(self, blk: SampleBlock) -> np.ndarray:
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
        self.state.gaps += 1
        self.add_event(Event(host_lost - self.t0, host_back - host_lost, "gap", {"cue": "link lost"}))

    # -- events ---------------------------------------------------------------------
    def add_event(self, event: Event) -> None:
        self.events.append(event)
        self.writer.add_event(event)

    # -- data -----------------------------------------------------------------------
    def handle_block(self, blk: SampleBlock) -> None:
        if blk.n == 0:
            return
        values = blk.values if self.corrector is None else self.corrector(blk.values)
        t = self._to_recording_time(blk)
        self.writer.append(t, values)
        self._last_t = float(t[-1])
        st = self.state
        st.n_samples += blk.n
        st.dropped += blk.dropped_before
        st.latest = values[-1]
        col = values[:, self.primary]
        finite = col[np.isfinite(col)]
        if finite.size:
            st.peak = max(st.peak, float(finite.max()))
            st.trial_peak = max(st.trial_peak, float(finite.max()))
        step = max(1, blk.n // 8)
        st.trace_t.extend(t[::step].tolist())
        st.trace_v.extend(col[::step].tolist())

    async def run(self) -> None:
        async for blk in self.driver.blocks():
            self.handle_block(blk)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def drain(self, settle_s: float = 0.15) -> None:
        """Let in-flight blocks arrive, then write every decoded block."""
        await asyncio.sleep(settle_s)
        for blk in self.driver.pending_blocks():
            self.handle_block(blk)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        for blk in self.driver.pending_blocks():
            self.handle_block(blk)
