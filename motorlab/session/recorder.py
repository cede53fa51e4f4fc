"""Run a timed task on a device and store it: the session layer's entry point.

``record_task`` opens the device, identifies it, picks up its calibration,
starts a crash-safe :class:`~motorlab.storage.bids.RecordingWriter`, streams
while the protocol walks through its steps (emitting cue and trial events and,
for emulated devices, cueing the virtual participant), then finalises the
recording. Whatever happens — Ctrl-C, a device error, a crash — every sample
that arrived is already on disk.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.live import Live

from ..devices.base import DeviceError, DeviceInfo
from ..devices.registry import open_device
from ..recording import Event, Metadata, validate_pseudonym
from ..storage.bids import RecordingWriter
from .acquisition import Acquisition, Corrector
from .controls import KeySource, NoKeys
from .live import ViewModel, plain_line, render
from .protocols import Step, TaskProtocol

log = logging.getLogger(__name__)


@dataclass
class RecordResult:
    path: Path
    n_samples: int
    device: DeviceInfo
    calibration_id: str
    dropped_samples: int
    gaps: int
    events: list[Event] = field(default_factory=list)
    #: emulator ground truth (sim:// devices only)
    truth: Any = None
    #: the therapist stopped the task early (q)
    quit: bool = False


#: a calibration older than this is still applied, but the therapist is warned
CALIBRATION_MAX_AGE_DAYS = 365.0


def _load_calibration(info: DeviceInfo, kind: str) -> tuple[str, Corrector | None, str]:
    """Latest stored calibration for this device serial, as (id, corrector, warning)."""
    from ..devices.calibration import CalibrationStore, apply_calibration

    cal = CalibrationStore().latest(info.serial, kind)
    if cal is None:
        return (
            "n/a",
            None,
            f"device {info.serial} has no stored {kind} calibration (motorlab calibrate {kind})",
        )
    names = [c.name for c in info.channels]
    age = cal.age_days()
    warning = ""
    if age > CALIBRATION_MAX_AGE_DAYS:
        warning = f"calibration {cal.id} is {age:.0f} days old: check it (motorlab calibrate check)"
    return cal.id, (lambda v: apply_calibration(v, names, cal)), warning


def _calibration_kind(info: DeviceInfo) -> str:
    types = {c.type for c in info.channels}
    return "imu" if types & {"ACCEL", "GYRO"} else "force"


async def _battery_or_none(driver) -> float | None:
    """Battery level for the live view, if the device reports one (never fails the task)."""
    try:
        return await asyncio.wait_for(driver.battery(), 1.0)
    except Exception as exc:  # informational only: any failure just means "unknown"
        log.info("battery level unavailable: %s", exc)
        return None


class QuitTask(Exception):
    """The therapist pressed q: stop safely, keep everything recorded so far."""


class StepRunner:
    """Walks the protocol's steps on the host clock, writing cue and trial events
    and obeying the therapist's keys (see :mod:`motorlab.session.controls`)."""

    def __init__(
        self,
        acq: Acquisition,
        protocol: TaskProtocol,
        vm: ViewModel,
        emulator=None,
        keys: KeySource | None = None,
        wait_for_space: bool = False,
        repeat_rest_s: float | None = None,
    ):
        self.acq, self.protocol, self.vm, self.emulator = acq, protocol, vm, emulator
        self.keys = keys or NoKeys()
        self.wait_for_space = wait_for_space
        self.repeat_rest_s = repeat_rest_s
        self.trial_index = 0
        self.quit = False
        self.last_trial: Step | None = None
        self._repeat_last = False

    def _cue(self, kind: str, step: Step) -> None:
        extra: dict[str, Any] = {"cue": kind}
        if step.hand:
            extra["hand"] = step.hand
        if step.trial:
            extra["trial"] = step.trial
        self.acq.add_event(Event(self.acq.now(), 0.0, "cue", extra))
        if self.emulator is not None:
            self.emulator.cue(kind)

    def _mark_last(self, status: str, reason: str) -> None:
        if self.last_trial is None:
            return
        self.acq.add_event(
            Event(
                self.acq.now(),
                0.0,
                "trial_status",
                {
                    "trial": self.last_trial.trial,
                    "hand": self.last_trial.hand,
                    "status": status,
                    "reason": reason,
                },
            )
        )
        self.vm.message = f"trial {self.last_trial.trial} ({self.last_trial.hand}) marked {status}"

    async def _next_key(self, timeout: float) -> str | None:
        try:
            return await asyncio.wait_for(self.keys.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def _wait_space(self, step: Step) -> None:
        self.vm.step = step
        self.vm.message = "Press SPACE when the client is ready (q to stop)"
        while True:
            key = await self._next_key(0.1)
            if key == "space":
                self.vm.message = ""
                return
            if key == "quit":
                raise QuitTask
            if key in ("invalid", "repeat"):
                self._handle_between(key)

    def _handle_between(self, key: str) -> None:
        if key == "invalid":
            self._mark_last("invalid", "marked by therapist")
        elif key == "repeat" and self.last_trial is not None:
            self._mark_last("invalid", "repeated")
            self._repeat_last = True

    async def run_step(self, step: Step) -> bool:
        """Run one step; returns True when the trial must be repeated."""
        self.vm.step = step
        start = self.acq.now()
        if step.kind == "trial":
            self.trial_index += 1
            self.vm.trial_index = self.trial_index
            self.acq.state.reset_trial_peak()
        if step.cue:
            self._cue(step.cue, step)
        status, reason, repeat = "valid", "", False
        try:
            while (left := step.duration_s - (self.acq.now() - start)) > 0:
                self.vm.step_left_s = left
                key = await self._next_key(min(0.05, left))
                if key == "quit":
                    raise QuitTask
                if step.kind != "trial":
                    if key in ("invalid", "repeat"):
                        self._handle_between(key)
                    continue
                if key == "invalid":
                    status, reason = "invalid", "marked by therapist"
                    self.vm.message = f"trial {step.trial} marked invalid"
                elif key == "repeat":
                    status, reason, repeat = "invalid", "repeated", True
                    self.vm.message = f"trial {step.trial} will be repeated"
                    break
        except (asyncio.CancelledError, QuitTask):
            status, reason = "incomplete", "stopped"
            raise
        finally:
            self.vm.step_left_s = 0.0
            if step.end_cue:
                self._cue(step.end_cue, step)
            if step.kind == "trial":
                extra = {"trial": step.trial, "hand": step.hand, "status": status}
                if reason:
                    extra["reason"] = reason
                self.acq.add_event(Event(start, self.acq.now() - start, "trial", extra))
                self.last_trial = step
        return repeat

    async def run(self) -> None:
        steps = list(self.protocol.steps)
        self.keys.start(self.acq.now)
        try:
            i = 0
            while i < len(steps):
                step = steps[i]
                if step.kind == "countdown" and self.wait_for_space:
                    await self._wait_space(step)
                repeat = await self.run_step(step)
                if step.kind == "trial" and repeat:
                    self._repeat_last = True
                if (
                    self._repeat_last
                    and self.last_trial is not None
                    and (i + 1 >= len(steps) or steps[i + 1].kind != "rest")
                ):
                    steps[i + 1 : i + 1] = self._repeat_steps(steps)
                    self._repeat_last = False
                i += 1
        except QuitTask:
            self.quit = True
            self.vm.message = "stopped by therapist — recording saved"
        finally:
            self.keys.close()

    def _repeat_steps(self, steps: list[Step]) -> list[Step]:
        trial = self.last_trial
        assert trial is not None
        countdown = next((s for s in steps if s.kind == "countdown"), None)
        rest_s = self.repeat_rest_s
        if rest_s is None:
            rest_s = next((s.duration_s for s in steps if s.kind == "rest"), 2.0)
        out = [Step("rest", rest_s, "Let's do that one again. Rest first.")]
        if countdown is not None:
            out.append(Step("countdown", countdown.duration_s, countdown.text, cue=countdown.cue))
        out.append(trial)
        return out


async def record_task(
    url: str,
    protocol: TaskProtocol,
    participant: str,
    root: str | Path,
    session: str = "01",
    live: bool | None = None,
    console: Console | None = None,
    best_previous: float | None = None,
    on_ready: Callable[[Acquisition], None] | None = None,
    keys: KeySource | None = None,
    wait_for_space: bool = False,
    plot=None,
    acq_time: _dt.datetime | None = None,
    participant_info: dict[str, Any] | None = None,
) -> RecordResult:
    """Record one task and return where it was stored.

    Args:
        url: device URL (``serial://…``, ``ble://…``, ``sim://…``).
        protocol: the task protocol (see :mod:`motorlab.session.protocols`).
        participant: pseudonymous participant ID (validated).
        root: BIDS dataset folder.
        session: session label.
        live: show the rich live view (default: when stdout is a terminal).
        acq_time: acquisition date/time to store (default: now), for back-dated entry.
        participant_info: facts stored with the recording for norms (``age``, ``sex``,
            ``dominant_hand``); never names.
    """
    validate_pseudonym(participant)
    console = console or Console(stderr=False)
    live = sys.stdout.isatty() if live is None else live
    driver = await open_device(url)
    writer: RecordingWriter | None = None
    acq: Acquisition | None = None
    emulator = getattr(driver, "emulator", None)
    try:
        info = await driver.info()
        cal_id, corrector, cal_warning = _load_calibration(info, _calibration_kind(info))
        if cal_warning and emulator is None:
            log.warning("%s", cal_warning)
        md = Metadata(
            participant=participant,
            session=session,
            task=protocol.task,
            tracksys=protocol.tracksys,
            hand=protocol.hand,
            device_model=info.model,
            device_serial=info.serial,
            firmware=info.firmware,
            manufacturer=info.manufacturer,
            calibration_id=cal_id,
            acq_time=(acq_time or _dt.datetime.now()).isoformat(timespec="milliseconds"),
            extra={
                "protocol": protocol.describe(),
                "device_url_scheme": url.split(":", 1)[0],
                "device_protocol": info.protocol,
                **(participant_info or {}),
            },
        )
        rate = protocol.rate_hz or info.nominal_rate_hz
        t0 = time.monotonic()
        writer = RecordingWriter(
            root,
            md,
            info.channels,
            rate,
            extra_sidecar={
                "TaskDescription": protocol.description,
                "Instructions": protocol.instructions,
                # host CLOCK_MONOTONIC at t = 0, to line this recording up with other streams
                "MotorlabHostMonotonicT0": t0,
            },
        )
        if protocol.rate_hz:
            await driver.set_rate(protocol.rate_hz)
        if _calibration_kind(info) == "force":
            try:
                await driver.tare()
            except DeviceError as exc:  # devices without tare zero on the host
                log.info("%s: no device tare (%s)", url, exc)
        battery = await _battery_or_none(driver)
        acq = Acquisition(driver, info, writer, corrector, t0=t0)
        if on_ready is not None:
            on_ready(acq)
        await driver.start()
        acq.start()
        vm = ViewModel(
            protocol,
            unit=info.channels[0].units,
            device=f"{info.model} {info.serial}",
            best_previous=best_previous,
            message=cal_warning if emulator is None else "",
            battery=battery,
        )
        runner = StepRunner(acq, protocol, vm, emulator, keys=keys, wait_for_space=wait_for_space)
        if plot is not None:
            plot.ax.set_ylabel(f"{info.channels[0].name} ({info.channels[0].units})")

        async def refresh_plot() -> None:
            while plot is not None:
                plot.update(acq.state.trace_t, acq.state.trace_v, acq.state.trial_peak)
                await asyncio.sleep(0.2)

        plot_task = asyncio.ensure_future(refresh_plot()) if plot is not None else None
        if live:
            with Live(render(vm, acq.state), console=console, refresh_per_second=10, transient=False) as lv:
                task = asyncio.ensure_future(runner.run())
                while not task.done():
                    vm.link_ok = driver.status.connected
                    vm.battery = driver.status.battery_percent or vm.battery
                    lv.update(render(vm, acq.state))
                    await asyncio.wait({task}, timeout=0.1)
                lv.update(render(vm, acq.state))
                await task
        else:
            task = asyncio.ensure_future(runner.run())
            last = 0.0
            while not task.done():
                await asyncio.wait({task}, timeout=0.25)
                if time.monotonic() - last > 2.0:
                    log.info(plain_line(vm, acq.state))
                    last = time.monotonic()
            await task
        if plot_task is not None:
            plot_task.cancel()
        await driver.stop()
        await acq.drain()
    finally:
        if acq is not None:
            await acq.stop()
        truth = getattr(emulator, "truth", None) if emulator is not None else None
        await driver.close()
        if writer is not None:
            final = {
                "MotorlabDroppedSamples": int(driver.status.dropped_samples),
                "MotorlabLinkGaps": len(driver.status.gaps),
                "MotorlabClockDriftPpm": float(np.nan_to_num(driver.clock.drift_ppm)),
            }
            if emulator is not None:
                # emulated data must never pass for a real measurement
                final["MotorlabEmulated"] = True
                final["MotorlabEmulatorTruth"] = truth
            writer.close(**final)
    assert writer is not None and acq is not None
    return RecordResult(
        path=writer.path,
        n_samples=writer.n_samples,
        device=info,
        calibration_id=cal_id,
        dropped_samples=int(driver.status.dropped_samples),
        gaps=len(driver.status.gaps),
        events=list(acq.events),
        truth=truth,
        quit=runner.quit,
    )
