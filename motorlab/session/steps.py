"""Walk a task protocol's steps on the recording clock, obeying the therapist's controls.

:class:`StepRunner` runs each :class:`~motorlab.session.protocols.Step` for its
duration, writes ``cue``, ``trial`` and ``trial_status`` events through the
acquisition, gives cues to a cue sink (the virtual participant of an emulated
device) and handles the controls of :mod:`motorlab.session.controls`:

* ``invalid`` (x) marks the current trial (or, between trials, the last one) invalid and
  schedules one replacement trial of the same hand;
* ``repeat`` (r) ends the current trial early, marks it invalid and schedules a replacement;
* a replacement runs after the rest that follows anyway (never a second rest), or after a
  short rest when it was the last trial;
* ``space`` pressed during the instructions or a rest counts as the start of the next trial;
* ``quit`` ends the task with the current trial ``incomplete``.

Trials are numbered over the whole task ("trial 3 of 6"); every replacement adds one to the
total, so the number shown never exceeds the total. Its :class:`Progress` is what the live
view shows of the task.
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
    trial_index: int = 0  # 1-based index over all trials of the task (replacements included)
    trial_total: int = 0  # planned trials plus the replacements scheduled so far
    step_started_s: float = 0.0  # recording time (s) at which the current step began
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
        self.progress = Progress(trial_total=protocol.n_trials)
        self.last_trial: Step | None = None
        self.last_trial_index = 0
        #: replacement trials scheduled and not yet inserted
        self._pending: list[Step] = []
        #: trial indices already given a replacement (one per attempt)
        self._replaced: set[int] = set()
        self._start_armed = False
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
        if step.variant:
            extra["variant"] = step.variant
        self.acq.add_event(Event(self.acq.now(), 0.0, "cue", extra))
        if self.cue_sink is not None:
            self.cue_sink(kind)

    def _label(self, index: int, step: Step) -> str:
        """``trial 3 of 7 (right hand)``: the numbering of the title."""
        hand = f" ({step.hand} hand)" if step.hand else ""
        return f"trial {index} of {self.progress.trial_total}{hand}"

    def _schedule_replacement(self, index: int, step: Step) -> bool:
        """One replacement for attempt ``index`` (False when it already has one)."""
        if index in self._replaced:
            return False
        self._replaced.add(index)
        self._pending.append(step)
        self.progress.trial_total += 1
        return True

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
        added = self._schedule_replacement(self.last_trial_index, self.last_trial)
        label = self._label(self.last_trial_index, self.last_trial)
        self._say(f"{label} marked {status}" + (" — one replacement trial added" if added else ""))

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

    # -- steps --------------------------------------------------------------------------
    async def _wait_start(self, step: Step) -> None:
        if self._start_armed:  # SPACE was pressed during the instructions or the rest
            self._start_armed = False
            return
        self.progress.step = step
        self.progress.step_started_s = self.acq.now()
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
        """Run one step; returns True when the trial was stopped to be repeated."""
        progress = self.progress
        progress.step = step
        start = progress.step_started_s = self.acq.now()
        integrity_before = self.acq.driver.integrity()
        if step.kind == "trial":
            progress.trial_index += 1
            progress.message = ""  # an earlier trial's message is stale now
            self.acq.signal.reset_trial_peak()
        index = progress.trial_index
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
                    elif control == "space" and step.kind in ("instruction", "rest") and self.wait_for_start:
                        self._start_armed = True
                        self._say("starting the next trial after this step")
                        if step.kind == "instruction":
                            break
                    continue
                if control == "invalid":
                    if status != "invalid":
                        status, reason = "invalid", "marked by therapist"
                        added = self._schedule_replacement(index, step)
                        self._say(
                            f"{self._label(index, step)} marked invalid"
                            + (" — one replacement trial added" if added else "")
                        )
                elif control == "repeat":
                    status, reason, repeat = "invalid", "repeated", True
                    self._schedule_replacement(index, step)
                    self._say(f"{self._label(index, step)} will be repeated after the rest")
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
                if step.variant:
                    extra["variant"] = step.variant
                if reason:
                    extra["reason"] = reason
                # sequence integrity of this trial: samples lost in gaps, copies dropped
                after = self.acq.driver.integrity()
                for key in ("dropped_samples", "duplicates"):
                    extra[key] = after[key] - integrity_before[key]
                self.acq.add_event(Event(start, self.acq.now() - start, "trial", extra))
                self.last_trial, self.last_trial_index = step, index
        return repeat

    async def run(self) -> None:
        """Run every step (plus replacements); a ``quit`` ends it early with ``progress.quit`` set."""
        steps = list(self.protocol.steps)
        self.controls.start(self.acq.now)
        try:
            i = 0
            while True:
                if i >= len(steps):
                    if not self._pending:
                        break
                    steps.extend(self._replacement_steps(steps, last=True))
                step = steps[i]
                if step.kind == "countdown" and self._pending:
                    steps[i:i] = self._replacement_steps(steps, last=False)
                    step = steps[i]
                if step.kind == "countdown" and self.wait_for_start:
                    await self._wait_start(step)
                await self.run_step(step)
                i += 1
        except QuitTask:
            self.progress.quit = True
            who = "by therapist" if self.stop_reason == "stopped" else f"({self.stop_reason})"
            self._say(f"stopped {who} — recording saved")
        finally:
            self.controls.close()

    def _replacement_steps(self, steps: list[Step], last: bool) -> list[Step]:
        """Countdown + the replacement trial, before the next trial's countdown (followed by the
        protocol's rest) or, at the end of the task, after a rest of ``repeat_rest_s``."""
        trial = self._pending.pop(0)
        countdown = next((s for s in steps if s.kind == "countdown" and s.hand == trial.hand), None)
        countdown = countdown or next((s for s in steps if s.kind == "countdown"), None)
        rest = next((s for s in steps if s.kind == "rest"), None)
        rest_s = rest.duration_s if rest is not None else 2.0
        out: list[Step] = []
        if last:
            out.append(Step("rest", self.repeat_rest_s or rest_s, "Rest, then one more try."))
        if countdown is not None:
            out.append(countdown)
        out.append(trial)
        if not last:
            out.append(rest or Step("rest", rest_s, "Let go and rest."))
        return out
