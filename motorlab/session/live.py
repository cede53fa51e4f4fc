"""Live state of a running task, for any view: typed, immutable snapshots on a feed.

A :class:`~motorlab.session.recorder.Recorder` publishes a :class:`LiveSnapshot`
several times a second and whenever something happens (a step starts, a key
is handled, the link drops). Views subscribe to its :class:`LiveFeed` — the
terminal view, the matplotlib plot, a log line, a browser over WebSockets —
and never reach into the recorder, the driver or the writer. Snapshots are
frozen dataclasses of plain values (:meth:`LiveSnapshot.as_dict` is
JSON-ready), so a view may keep or send one as it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepState:
    """Where the task is.

    Attributes:
        kind: ``instruction``/``countdown``/``trial``/``rest``, or ``""`` before the first step.
        text: what the screen says for this step.
        left_s: seconds left in the step.
        trial_index: 1-based index of the current/last trial over the whole task (0 before the first).
        trial_total: trials in the protocol.
        trial: trial number within the hand (``trial`` steps), else None.
        hand: ``right``/``left`` for ``trial`` steps, else None.
        waiting_for_start: the task waits for the therapist to start the next trial.
        started_s: recording time (s) at which this step began (the whole trial is drawn from it).
        duration_s: planned length of the step (s).
        variant: the kind of trial where a task has several (pinch ``tip``/``key``/``palmar``).
    """

    kind: str = ""
    text: str = ""
    left_s: float = 0.0
    trial_index: int = 0
    trial_total: int = 0
    trial: int | None = None
    hand: str | None = None
    waiting_for_start: bool = False
    started_s: float = 0.0
    duration_s: float = 0.0
    variant: str | None = None


@dataclass(frozen=True)
class SignalState:
    """The signal as it arrives (values calibrated, on the recording's time axis).

    Attributes:
        channel, unit: the primary channel shown (first channel of the device).
        latest: last value of every channel, in channel order.
        now: last value of the primary channel (nan before the first sample).
        trial_peak: highest primary value in the current/last trial (nan before any).
        session_peak: highest primary value so far (nan before any).
        best_previous: the client's best in earlier sessions (grip, N), if known.
        trace_t, trace_v: recent primary-channel trace, recording time s and values
            (decimated, at most a few thousand points).
        n_samples: samples received.
        pen_down: for a pen (primary channel = tip force): the pen touches the paper now;
            None for other devices.
        strokes: pen-down segments so far in the current trial (pens only).
    """

    channel: str = ""
    unit: str = ""
    latest: tuple[float, ...] = ()
    now: float = math.nan
    trial_peak: float = math.nan
    session_peak: float = math.nan
    best_previous: float | None = None
    trace_t: tuple[float, ...] = ()
    trace_v: tuple[float, ...] = ()
    n_samples: int = 0
    pen_down: bool | None = None
    strokes: int = 0


@dataclass(frozen=True)
class LinkState:
    """The device and its link.

    Attributes:
        device: model and serial, e.g. ``"motorlab-grip-hx711 G0001"``.
        connected: the link is up (False while reconnecting).
        gaps: link losses so far (each written as a ``gap`` event).
        dropped: samples known lost (sequence gaps).
        battery_percent: last known charge, None when unknown.
        emulated: the device is a ``sim://`` emulator.
    """

    device: str = ""
    connected: bool = True
    gaps: int = 0
    dropped: int = 0
    battery_percent: float | None = None
    emulated: bool = False


@dataclass(frozen=True)
class WriterState:
    """Where the samples go and whether that works.

    Attributes:
        path: the ``_motion.tsv`` being written ("" before it exists).
        samples_written: samples on disk (flushed or buffered).
        ok: no write error so far.
        error: the first write error, one line.
    """

    path: str = ""
    samples_written: int = 0
    ok: bool = True
    error: str = ""


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything a view shows, at one moment.

    Attributes:
        protocol: protocol name (e.g. ``grip-maximal``).
        task: BIDS task label.
        elapsed_s: seconds since the recording started.
        step, signal, link, writer: see the classes.
        message: the current message to the therapist ("" for none).
        finished: the task is over (the last snapshot of a run).
        quit: the therapist stopped the task early.
    """

    protocol: str
    task: str
    elapsed_s: float = 0.0
    step: StepState = field(default_factory=StepState)
    signal: SignalState = field(default_factory=SignalState)
    link: LinkState = field(default_factory=LinkState)
    writer: WriterState = field(default_factory=WriterState)
    message: str = ""
    finished: bool = False
    quit: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain nested dict (NaN kept as float nan), e.g. for JSON."""
        return dataclasses.asdict(self)


#: a view's callback; called on the event-loop thread
Subscriber = Callable[[LiveSnapshot], None]


class LiveFeed:
    """Publishes snapshots to subscribers; keeps the latest.

    A subscriber that raises is logged and dropped, so one broken view cannot
    stop a recording.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.latest: LiveSnapshot | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(snapshot)`` on every publication; returns the unsubscribe function."""
        self._subscribers.append(callback)
        if self.latest is not None:
            self._deliver(callback, self.latest)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, snapshot: LiveSnapshot) -> None:
        self.latest = snapshot
        for callback in list(self._subscribers):
            self._deliver(callback, snapshot)

    def _deliver(self, callback: Subscriber, snapshot: LiveSnapshot) -> None:
        try:
            callback(snapshot)
        except Exception:
            log.exception("live view %r failed; it is detached", callback)
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    async def updates(self) -> AsyncIterator[LiveSnapshot]:
        """Snapshots as an async stream, latest first; a slow reader skips stale ones.

        Ends after the snapshot with ``finished`` set.
        """
        queue: asyncio.Queue[LiveSnapshot] = asyncio.Queue(maxsize=1)

        def put(snapshot: LiveSnapshot) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(snapshot)

        unsubscribe = self.subscribe(put)
        try:
            while True:
                snapshot = await queue.get()
                yield snapshot
                if snapshot.finished:
                    return
        finally:
            unsubscribe()
