"""Walk a task protocol's steps on the recording clock, obeying the therapist's controls.

:class:`StepRunner` runs each :class:`~motorlab.session.protocols.Step` for its
duration, writes ``cue``, ``trial`` and ``trial_status`` events through the
acquisition, gives cues to a cue sink (the virtual participant of an emulated
device) and handles the controls of :mod:`motorlab.session.controls`: a
repeated trial is inserted again after a rest, ``invalid`` marks the current or
last trial, ``quit`` ends the task with the current trial ``incomplete``.
Its :class:`Progress` is what the live view shows of the task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..recording import Event
from .acquisition import Acquisition
from .controls import Control, ControlQueue, ControlSource
from .protocols import Step, TaskProtocol

#: receives each cue (``squeeze``, ``release``…) as it is given
CueSink = Callable[[str], object]


class QuitTask(Exception):
    """The therapist pressed q: stop safely, keep everything recorded so far."""


@dataclass
class Progress:
    """Where the runner is (mutable; read by the recorder for its snapshots)."""

    step: Step | None = None
    left_s: float = 0.0
    trial_index: int = 0  # 1-based index over all trials of the task
    waiting_for_start: bool = False
    message: str = ""
    quit: bool = False


class StepRunner:
    """Runs a protocol's steps; see the module docstring.

    Args:
        protocol: the task protocol.
        acq: the running acquisition (clock, events, trial peak).
        controls: the therapist's controls (default: none, the task runs by itself).
        cue: where cues go besides the events (an emulator's participant), if anywhere.
        wait_for_start: wait for ``space`` before each countdown.
        repeat_rest_s: rest before a repeated trial (default: the protocol's rest).
        on_change: called whenever the step or the message changes.
    """

    def __init__(
        self,
        protocol: TaskProtocol,
        acq: Acquisition,
        controls: ControlSource | None = None,
        *,
        cue: CueSink | None = None,
        wait_for_start: bool = False,
        repeat_rest_s: float | None = None,
        on_change: Callable[[], None] | None = None,
    ):
        self.protocol, self.acq = protocol, acq
        self.controls: ControlSource = controls if controls is not None else ControlQueue()
        self.cue_sink = cue
        self.wait_for_start = wait_for_start
        self.repeat_rest_s = repeat_rest_s
        self.on_change = on_change
        self.progress = Progress()
        self.last_trial: Step | None = None
        self._repeat_last = False
        #: why the task stopped early: ``stopped`` (the therapist's q), ``interrupted``
        #: (Ctrl-C/SIGTERM), ``writing failed``; it becomes the interrupted trial's ``reason``
        self.stop_reason = "stopped"

    def stop(self, reason: str) -> None:
        """Stop the task as ``q`` does (the current trial is kept as ``incomplete``), for ``reason``."""
        if not self.progress.quit and self.stop_reason == "stopped":
            self.stop_reason = reason
            self.controls.queue.put_nowait("quit")

    # -- plumbing -----------------------------------------------------------------------
    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _say(self, message: str) -> None:
        self.progress.message = message
        self._changed()

    def _cue(self, kind: str, step: Step) -> None:
        extra: dict[str, Any] = {"cue": kind}
        if step.hand:
            extra["hand"] = step.hand
        if step.trial:
            extra["trial"] = step.trial
        self.acq.add_event(Event(self.acq.now(), 0.0, "cue", extra))
        if self.cue_sink is not None:
            self.cue_sink(kind)

    def _mark_last(self, status: str, reason: str) -> None:
        if self.last_trial is None:
            return
        extra = {
            "trial": self.last_trial.trial,
            "hand": self.last_trial.hand,
            "status": status,
            "reason": reason,
        }
        self.acq.add_event(Event(self.acq.now(), 0.0, "trial_status", extra))
        self._say(f"trial {self.last_trial.trial} ({self.last_trial.hand}) marked {status}")

    async def _next_control(self, timeout: float) -> Control | None:
        try:
            return await asyncio.wait_for(self.controls.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    def _handle_between(self, control: Control) -> None:
        if control == "invalid":
            self._mark_last("invalid", "marked by therapist")
        elif control == "repeat" and self.last_trial is not None:
            self._mark_last("invalid", "repeated")
            self._repeat_last = True

    # -- steps --------------------------------------------------------------------------
    async def _wait_start(self, step: Step) -> None:
        self.progress.step = step
        self.progress.waiting_for_start = True
        self._say("Press SPACE when the client is ready (q to stop)")
        try:
            while True:
                control = await self._next_control(0.1)
                if control == "space":
                    self._say("")
                    return
                if control == "quit":
                    raise QuitTask
                if control in ("invalid", "repeat"):
                    self._handle_between(control)
        finally:
            self.progress.waiting_for_start = False

    async def run_step(self, step: Step) -> bool:
        """Run one step; returns True when the trial must be repeated."""
        progress = self.progress
        progress.step = step
        start = self.acq.now()
        if step.kind == "trial":
            progress.trial_index += 1
            self.acq.signal.reset_trial_peak()
        self._changed()
        if step.cue:
            self._cue(step.cue, step)
        status, reason, repeat = "valid", "", False
        try:
            while (left := step.duration_s - (self.acq.now() - start)) > 0:
                progress.left_s = left
                control = await self._next_control(min(0.05, left))
                if control == "quit":
                    raise QuitTask
                if step.kind != "trial":
                    if control in ("invalid", "repeat"):
                        self._handle_between(control)
                    continue
                if control == "invalid":
                    status, reason = "invalid", "marked by therapist"
                    self._say(f"trial {step.trial} marked invalid")
                elif control == "repeat":
                    status, reason, repeat = "invalid", "repeated", True
                    self._say(f"trial {step.trial} will be repeated")
                    break
        except (asyncio.CancelledError, QuitTask):
            status, reason = "incomplete", self.stop_reason
            raise
        finally:
            progress.left_s = 0.0
            if step.end_cue:
                self._cue(step.end_cue, step)
            if step.kind == "trial":
                extra: dict[str, Any] = {"trial": step.trial, "hand": step.hand, "status": status}
                if reason:
                    extra["reason"] = reason
                self.acq.add_event(Event(start, self.acq.now() - start, "trial", extra))
                self.last_trial = step
        return repeat

    async def run(self) -> None:
        """Run every step (plus repeats); a ``quit`` ends it early with ``progress.quit`` set."""
        steps = list(self.protocol.steps)
        self.controls.start(self.acq.now)
        try:
            i = 0
            while i < len(steps):
                step = steps[i]
                if step.kind == "countdown" and self.wait_for_start:
                    await self._wait_start(step)
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
            self.progress.quit = True
            who = "by therapist" if self.stop_reason == "stopped" else f"({self.stop_reason})"
            self._say(f"stopped {who} — recording saved")
        finally:
            self.controls.close()

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
