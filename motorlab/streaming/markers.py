"""Trial events from other software: an LSL marker inlet whose markers land in ``_events.tsv``.

Opt-in (``motorlab record --lsl-markers NAME``, or ``record_task(...,
event_sources=[LslMarkerInlet("NAME")])``). The inlet resolves a string
stream (type ``Markers`` by default) by name, pulls markers in a background
thread and adds each one to the running recording as an event
``trial_type=marker`` with the marker text in the ``value`` column and the
stream name in ``info``.

Timing: a marker's LSL timestamp (the sender's ``local_clock()`` at
``push_sample``) plus the inlet's ``time_correction()`` is on this host's LSL
clock; the offset between that clock and :func:`time.monotonic` is measured
once (see :mod:`.lsl`, on Linux both are ``CLOCK_MONOTONIC``), and the
recording's host time 0 (``Acquisition.t0``) is subtracted. So the onset is
when the other program sent the marker, not when it arrived.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from ..errors import MotorlabError
from ..recording import Event
from ..session.acquisition import Acquisition
from .lsl import load_pylsl


def _clock_offset(pylsl: Any, reads: int = 15) -> float:
    """``time.monotonic() - pylsl.local_clock()``, median of bracketed reads, s."""
    offsets = []
    for _ in range(reads):
        a = time.monotonic()
        lsl = pylsl.local_clock()
        b = time.monotonic()
        offsets.append((a + b) / 2 - lsl)
    offsets.sort()
    return offsets[len(offsets) // 2]


class LslMarkerInlet:
    """An event source for the Recorder: markers of an LSL stream become ``marker`` events.

    Args:
        name: the marker stream's name (``StreamInfo`` name).
        stream_type: its content type (``Markers`` by convention).
        resolve_timeout_s: how long to look for the stream before giving up, s.
    """

    def __init__(self, name: str, stream_type: str = "Markers", resolve_timeout_s: float = 5.0):
        self.name = name
        self.stream_type = stream_type
        self.resolve_timeout_s = resolve_timeout_s
        self.received: list[Event] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inlet: Any = None

    async def start(self, acq: Acquisition) -> None:
        """Find the stream and start passing its markers to ``acq`` (one-line error if absent)."""
        pylsl = load_pylsl()
        pred = f"name='{self.name}' and type='{self.stream_type}'"
        streams = await asyncio.to_thread(pylsl.resolve_bypred, pred, 1, self.resolve_timeout_s)
        if not streams:
            raise MotorlabError(
                f"LSL marker stream {self.name!r} (type {self.stream_type}) not found within "
                f"{self.resolve_timeout_s:g} s: is the program that sends it running?"
            )
        inlet = pylsl.StreamInlet(streams[0], max_buflen=60)
        await asyncio.to_thread(inlet.open_stream, self.resolve_timeout_s)
        correction = await asyncio.to_thread(inlet.time_correction, self.resolve_timeout_s)
        offset = _clock_offset(pylsl)
        self._inlet = inlet
        loop = asyncio.get_running_loop()

        def add(sample: list[Any], lsl_t: float) -> None:
            onset = lsl_t + correction + offset - acq.t0
            event = Event(onset, 0.0, "marker", {"value": str(sample[0]), "source": self.name})
            self.received.append(event)
            acq.add_event(event)

        def pump() -> None:
            while not self._stop.is_set():
                try:
                    sample, ts = inlet.pull_sample(timeout=0.05)
                except Exception:  # noqa: BLE001 - a lost stream ends the inlet, never the recording
                    return
                if sample is not None and ts is not None:
                    try:
                        loop.call_soon_threadsafe(add, sample, ts)
                    except RuntimeError:  # loop closed
                        return

        self._stop.clear()
        self._thread = threading.Thread(target=pump, name=f"lsl-markers-{self.name}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop pulling (markers already received stay in the recording)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 1.0)
            self._thread = None
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()
