"""Run a timed task on an open device and store it: the session layer's entry point.

:class:`Recorder` identifies the device, picks up its calibration, starts a
crash-safe :class:`~motorlab.storage.bids.RecordingWriter`, streams while the
protocol walks through its steps (:class:`~motorlab.session.steps.StepRunner`:
cue and trial events, the therapist's controls, cues to an emulated device's
virtual participant), then finalises the recording. Whatever happens — Ctrl-C,
a device error, a crash — every sample that arrived is already on disk.

While it runs it publishes :class:`~motorlab.session.live.LiveSnapshot` s on
its :attr:`~Recorder.feed`; views (terminal, plot, browser) subscribe to it.
:func:`record_task` is the whole thing for one URL: open, record, close.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..atomic import atomic_write_json
from ..devices.base import DeviceInfo
from ..devices.device import Device
from ..devices.registry import open_device
from ..errors import DeviceError, MotorlabError, RecordingError, one_line
from ..recording import Event, Metadata, find_force_channel, validate_pseudonym
from ..storage.bids import STATUS_KEY, RecordingWriter, recover
from ..storage.notes import NOTES_KEY
from .acquisition import Acquisition
from .calibration import CalibrationChoice, calibration_kind, extrapolation_warning, load_calibration
from .controls import ControlSource
from .live import LiveFeed, LiveSnapshot, Subscriber
from .prepare import battery_or_none, tare
from .protocols import TaskProtocol
from .snapshot import link_state, signal_state, step_state, writer_state
from .steps import StepRunner

log = logging.getLogger(__name__)

#: receives every block of recorded samples: ``tap(t_s, values)``
SampleTap = Callable[[np.ndarray, np.ndarray], None]

#: ``MotorlabStatus`` of a recording stopped by Ctrl-C/SIGTERM (or cancelled) mid-protocol
STATUS_INTERRUPTED = "interrupted"
#: ``MotorlabStatus`` of a recording stopped by a write or device failure mid-protocol
STATUS_FAILED = "failed"


def check_channels(protocol: TaskProtocol, info: DeviceInfo, url: str) -> None:
    """Refuse, before the first trial, a device that cannot measure the task (one line)."""
    if protocol.task.startswith(("grip", "pinch")) and find_force_channel(info.channels) is None:
        have = ", ".join(f"{c.name} ({c.type}, {c.units})" for c in info.channels) or "none"
        raise DeviceError(
            f"{url}: {info.model} has no force channel, which task {protocol.task!r} needs "
            f"(its channels: {have}); use a dynamometer or pinch gauge"
        )


class EventSource(Protocol):
    """Something that adds events to a running recording (e.g. an LSL marker inlet,
    :class:`motorlab.streaming.markers.LslMarkerInlet`): started once acquisition
    runs, stopped before the file is finalised."""

    async def start(self, acq: Acquisition) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class RecordingTarget:
    """Where a recording is stored and whom it is of.

    Attributes:
        root: BIDS dataset folder.
        participant: pseudonymous participant ID (validated: never a name).
        session: BIDS session label.
        acq_time: acquisition date/time to store (default: now), for back-dated entry.
        participant_info: facts stored with the recording for norms (``age``, ``sex``,
            ``dominant_hand``); never names.
    """

    root: Path
    participant: str
    session: str = "01"
    acq_time: _dt.datetime | None = None
    participant_info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_pseudonym(self.participant)
        object.__setattr__(self, "root", Path(self.root))


@dataclass
class RecordResult:
    """What a recording run stored.

    Attributes:
        path: the ``_motion.tsv`` written.
        n_samples: samples written.
        device: what the device said about itself.
        calibration_id: the calibration applied (``"n/a"`` for none).
        dropped_samples: samples known lost on the link.
        gaps: link losses (each a ``gap`` event).
        events: every event written (cues, trials, trial status, gaps).
        truth: the emulator's ground truth (``sim://`` devices only).
        quit: the task stopped early (the therapist's ``q``, Ctrl-C or SIGTERM).
        interrupted: the signal that stopped it (``SIGINT``/``SIGTERM``), else ``""``.
    """

    path: Path
    n_samples: int
    device: DeviceInfo
    calibration_id: str
    dropped_samples: int
    gaps: int
    events: list[Event] = field(default_factory=list)
    truth: Any = None
    quit: bool = False
    interrupted: str = ""


def recording_metadata(
    target: RecordingTarget, protocol: TaskProtocol, info: DeviceInfo, calibration_id: str, url: str
) -> Metadata:
    """The recording's metadata: who, which task and protocol, which device and calibration."""
    return Metadata(
        participant=target.participant,
        session=target.session,
        task=protocol.task,
        tracksys=protocol.tracksys,
        hand=protocol.hand,
        device_model=info.model,
        device_serial=info.serial,
        firmware=info.firmware,
        manufacturer=info.manufacturer,
        calibration_id=calibration_id,
        acq_time=(target.acq_time or _dt.datetime.now()).isoformat(timespec="milliseconds"),
        extra={
            "protocol": protocol.describe(),
            "device_url_scheme": url.split(":", 1)[0],
            "device_protocol": info.protocol,
            **target.participant_info,
        },
    )


def open_writer(
    target: RecordingTarget,
    protocol: TaskProtocol,
    info: DeviceInfo,
    metadata: Metadata,
    t0: float,
    emulated: bool = False,
) -> RecordingWriter:
    """Start the crash-safe writer; ``t0`` (host CLOCK_MONOTONIC at recording time 0) goes
    into the sidecar so this recording can be lined up with other streams, and
    ``MotorlabEmulated`` is there from the start (a killed recording keeps it)."""
    return RecordingWriter(
        target.root,
        metadata,
        info.channels,
        protocol.rate_hz or info.nominal_rate_hz,
        extra_sidecar={
            "TaskDescription": protocol.description,
            "Instructions": protocol.instructions,
            "MotorlabHostMonotonicT0": t0,
            "MotorlabEmulated": emulated,
        },
    )


class Recorder:
    """Records one task protocol from an open device and publishes its live state.

    Args:
        device: the opened device (the caller opens and closes it).
        protocol: the task protocol (see :mod:`motorlab.session.protocols`).
        target: where to store it and whom it is of.
        controls: the therapist's controls (default: none; the task runs by itself).
        wait_for_start: wait for ``space`` before each trial's countdown.
        best_previous: the client's best in earlier sessions, for the live bar.
        publish_interval_s: seconds between live snapshots while nothing happens.
        pen_down_threshold_n: for pen tasks: follow the ``tip_force`` channel live and count
            pen-down segments above this force (N); None follows the device's first channel.
        notes: the therapist's notes given before the task (stored at time 0).
        event_sources: other software's events to store with the recording (opt-in).
    """

    def __init__(
        self,
        device: Device,
        protocol: TaskProtocol,
        target: RecordingTarget,
        *,
        controls: ControlSource | None = None,
        wait_for_start: bool = False,
        best_previous: float | None = None,
        publish_interval_s: float = 0.1,
        pen_down_threshold_n: float | None = None,
        notes: Sequence[str] = (),
        event_sources: Sequence[EventSource] = (),
    ):
        self.event_sources = list(event_sources)
        self.pen_down_threshold_n = pen_down_threshold_n
        #: the therapist's session notes: {"time_s": recording time, "text": ...}
        self.notes: list[dict[str, Any]] = [{"time_s": 0.0, "text": str(n)} for n in notes if str(n).strip()]
        self.device = device
        self.protocol = protocol
        self.target = target
        self.controls = controls
        self.wait_for_start = wait_for_start
        self.best_previous = best_previous
        self.publish_interval_s = publish_interval_s
        self.feed = LiveFeed()
        self._acq: Acquisition | None = None
        self._runner: StepRunner | None = None
        self._writer: RecordingWriter | None = None
        self._info: DeviceInfo | None = None
        self._battery: float | None = None
        self._cal: CalibrationChoice | None = None
        self._sample_taps: list[SampleTap] = []
        self._finishing = False
        self._interrupted = ""  # the signal that stopped the protocol

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(snapshot)`` with every live snapshot; returns the unsubscribe function."""
        return self.feed.subscribe(callback)

    def add_sample_tap(self, tap: SampleTap) -> None:
        """Also hand every block of samples to ``tap(t_s, values)`` (recording time s, calibrated
        values (n, channels) in the device's channel units), on the recorder's event loop, as
        they are written; for views that draw every sample. Must not block; add before :meth:`run`."""
        self._sample_taps.append(tap)

    def add_note(self, text: str) -> bool:
        """Keep a therapist's note with the recording, timed now (recording time, s): in the
        sidecar's ``MotorlabNotes`` and, while the task runs, as a ``note`` event. Call on the
        recorder's event loop; False when the text is blank or the recording has finished."""
        text = text.strip()
        if not text or self._finishing:
            return False
        acq = self._acq
        t = acq.now() if acq is not None else 0.0
        self.notes.append({"time_s": round(float(t), 3), "text": text})
        if acq is not None:
            acq.add_event(Event(t, 0.0, "note", {"note": text}))
        if self._runner is not None:
            self._runner.progress.message = f"note kept: {text}"
            self._publish()
        return True

    # -- live state -------------------------------------------------------------------
    def snapshot(self, finished: bool = False) -> LiveSnapshot:
        """The live state now."""
        acq, runner = self._acq, self._runner
        tracker = acq.signal if acq is not None else None
        error = acq.sink_error if acq is not None else ""
        message = runner.progress.message if runner is not None else ""
        if (
            self._cal is not None
            and tracker is not None
            and (extra := extrapolation_warning(self._cal, tracker.peak))
        ):
            message = f"{message} — {extra}" if message else extra
        return LiveSnapshot(
            protocol=self.protocol.name,
            task=self.protocol.task,
            elapsed_s=acq.now() if acq is not None else 0.0,
            step=step_state(runner.progress if runner is not None else None, self.protocol.n_trials),
            signal=signal_state(self._info, tracker, self.best_previous),
            link=link_state(
                self._info, self.device.driver.status, tracker, self._battery, self.device.emulated
            ),
            writer=writer_state(self._writer, error),
            message=f"WRITING FAILED: {error}" if error else message,
            finished=finished,
            quit=runner is not None and runner.progress.quit,
        )

    def _publish(self) -> None:
        self.feed.publish(self.snapshot())

    async def _publish_while(self, task: asyncio.Task[None]) -> None:
        """Publish every ``publish_interval_s`` until ``task`` is done; a write failure stops the task."""
        while not task.done():
            acq, runner = self._acq, self._runner
            if acq is not None and acq.sink_error and runner is not None and not runner.progress.quit:
                runner.stop("writing failed")
            self._publish()
            await asyncio.wait({task}, timeout=self.publish_interval_s)

    # -- the run ------------------------------------------------------------------------
    async def run(self) -> RecordResult:
        """Record the whole protocol (or until the therapist quits) and finalise the file.

        Ctrl-C or SIGTERM during the protocol stops it as ``q`` does (the current trial is
        kept as ``incomplete``) and the file is finalised with status ``interrupted``; a
        write failure stops it at once, keeps what was written and finalises it as ``failed``.
        """
        driver, emulator = self.device.driver, self.device.emulator
        info = self._info = await driver.info()
        check_channels(self.protocol, info, self.device.url)
        cal: CalibrationChoice = load_calibration(info)
        self._cal = cal
        if cal.warning and emulator is None:
            log.warning("%s", cal.warning)
        t0 = time.monotonic()
        md = recording_metadata(self.target, self.protocol, info, cal.id, self.device.url)
        emulated = self.device.emulated
        writer = self._writer = open_writer(self.target, self.protocol, info, md, t0, emulated)
        self._interrupted = ""
        failure: BaseException | None = None
        try:
            await self._prepare(info)
            names = [c.name for c in info.channels]
            pen = self.pen_down_threshold_n is not None and "tip_force" in names
            primary = names.index("tip_force") if pen else 0
            acq = self._acq = Acquisition(driver, writer, cal.corrector, primary_channel=primary, t0=t0)
            if pen:
                acq.signal.down_threshold = self.pen_down_threshold_n
            for tap in self._sample_taps:
                acq.add_tap(tap)
            runner = self._runner = StepRunner(
                self.protocol,
                acq,
                self.controls,
                cue=emulator.cue if emulator is not None else None,
                wait_for_start=self.wait_for_start,
                on_change=self._publish,
            )
            runner.progress.message = "" if emulator is not None else cal.warning
            await self._stream(acq, runner)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            truth = await self._finish(writer, self._final_status(failure))
        if acq.sink_error:
            raise RecordingError(
                f"{writer.path}: writing failed at {acq.sink_error_t:.1f} s ({acq.sink_error}); "
                f"the {writer.n_samples} samples before it are kept, the trial then running is "
                "marked incomplete"
            )
        return RecordResult(
            path=writer.path,
            n_samples=writer.n_samples,
            device=info,
            calibration_id=cal.id,
            dropped_samples=int(driver.status.dropped_samples),
            gaps=len(driver.status.gaps),
            events=list(acq.events),
            truth=truth,
            quit=runner.progress.quit,
            interrupted=self._interrupted,
        )

    def _final_status(self, failure: BaseException | None) -> tuple[str, str]:
        """``(MotorlabStatus, why)`` the file is finalised with."""
        acq = self._acq
        if acq is not None and acq.sink_error:
            return STATUS_FAILED, f"writing failed: {acq.sink_error}"
        if self._interrupted:
            return STATUS_INTERRUPTED, f"interrupted ({self._interrupted})"
        if isinstance(failure, (asyncio.CancelledError, KeyboardInterrupt)):
            return STATUS_INTERRUPTED, "interrupted"
        if failure is not None:
            return STATUS_FAILED, one_line(failure)
        return "complete", ""

    def _interrupt(self, signame: str) -> None:
        """Ctrl-C / SIGTERM while streaming: stop as ``q`` does (once)."""
        if not self._interrupted and self._runner is not None:
            self._interrupted = signame
            self._runner.stop("interrupted")

    async def _prepare(self, info: DeviceInfo) -> None:
        """Set the protocol's rate, zero a force device, read the battery."""
        driver = self.device.driver
        if self.protocol.rate_hz:
            await driver.set_rate(self.protocol.rate_hz)
        if calibration_kind(info) == "force":
            why = await tare(driver)
            if why:  # devices without tare zero on the host
                log.info("%s: no device tare (%s)", self.device.url, why)
        self._battery = await battery_or_none(driver)

    async def _stream(self, acq: Acquisition, runner: StepRunner) -> None:
        """Stream while the steps run, publishing the live state; then stop and take the tail."""
        driver = self.device.driver
        await driver.start()
        acq.start()
        started: list[EventSource] = []
        try:
            for source in self.event_sources:
                await source.start(acq)
                started.append(source)
            task = asyncio.ensure_future(runner.run())
            loop = asyncio.get_running_loop()
            handled = []
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:  # the main thread's loop only (not on Windows or in a worker thread)
                    loop.add_signal_handler(sig, self._interrupt, sig.name)
                    handled.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass
            try:
                await self._publish_while(task)
            finally:
                for sig in handled:
                    loop.remove_signal_handler(sig)
                if not task.done():
                    task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            for source in started:
                await source.stop()
        task.result()
        await driver.stop()
        await acq.drain()

    async def _finish(self, writer: RecordingWriter, status: tuple[str, str]) -> object:
        """Stop acquiring, finalise the file, publish the final snapshot; returns the emulator's truth."""
        acq, emulator = self._acq, self.device.emulator
        self._finishing = True
        if acq is not None:
            await acq.stop()
        truth = emulator.truth if emulator is not None else None
        try:
            self._finalise(writer, truth, *status)
        except OSError as exc:
            if acq is None or not acq.sink_error:
                raise
            # the writer still holds the bytes that did not fit: finalise from what is on disk
            try:
                recover(writer.path)
                mark_status(writer.path, *status)
            except (OSError, MotorlabError) as again:  # no space even for the sidecar: `recover` later
                log.debug("%s: not finalised (%s; %s)", writer.path, one_line(exc), one_line(again))
        self.feed.publish(self.snapshot(finished=True))
        return truth

    def _finalise(self, writer: RecordingWriter, truth: object, status: str, why: str) -> None:
        driver = self.device.driver
        final: dict[str, Any] = {
            "MotorlabDroppedSamples": int(driver.status.dropped_samples),
            "MotorlabLinkGaps": len(driver.status.gaps),
            "MotorlabClockDriftPpm": float(np.nan_to_num(driver.clock.drift_ppm)),
            "MotorlabIntegrity": driver.integrity(),
        }
        if self.notes:
            final[NOTES_KEY] = list(self.notes)
        measured = float(getattr(driver, "measured_rate_hz", np.nan))
        if np.isfinite(measured):  # devices without a documented rate: what was measured, Hz
            final["MotorlabMeasuredRateHz"] = measured
        acq = self._acq
        if (
            self._cal is not None
            and acq is not None
            and (extra := extrapolation_warning(self._cal, acq.signal.peak))
        ):
            final["MotorlabCalibrationWarning"] = extra
        if self.device.emulated:
            # emulated data must never pass for a real measurement
            final["MotorlabEmulated"] = True
            final["MotorlabEmulatorTruth"] = truth
        writer.close(**final)
        if status != "complete":
            mark_status(writer.path, status, why)


def mark_status(motion_tsv: Path, status: str, why: str) -> None:
    """Set a finalised recording's ``MotorlabStatus`` (and ``MotorlabStopReason``) in its sidecar."""
    import json

    side = motion_tsv.with_name(motion_tsv.name.replace("_motion.tsv", "_motion.json"))
    sidecar = json.loads(side.read_text(encoding="utf-8"))
    sidecar[STATUS_KEY] = status
    sidecar["MotorlabStopReason"] = why
    atomic_write_json(side, sidecar)


async def record_task(
    url: str,
    protocol: TaskProtocol,
    target: RecordingTarget,
    *,
    controls: ControlSource | None = None,
    wait_for_start: bool = False,
    best_previous: float | None = None,
    views: Sequence[Subscriber] = (),
    event_sources: Sequence[EventSource] = (),
) -> RecordResult:
    """Open the device at ``url``, record ``protocol`` into ``target`` with ``views``
    subscribed to the live state, and close the device."""
    async with await open_device(url) as device:
        recorder = Recorder(
            device,
            protocol,
            target,
            controls=controls,
            wait_for_start=wait_for_start,
            best_previous=best_previous,
            event_sources=event_sources,
        )
        for view in views:
            recorder.subscribe(view)
        return await recorder.run()
