"""A visit run from the browser: the chosen tasks, one after the other, through the real Recorder.

:class:`VisitRun` owns a background thread with its own asyncio loop. For each
task it opens the device, builds the task protocol, starts a
:class:`~motorlab.session.recorder.Recorder` (the same crash-safe path as
``motorlab record``: every sample is on disk as it arrives) and attaches a
:class:`~motorlab.ui.web.live_source.RecorderLiveSource` to the server's
:class:`~motorlab.ui.web.hub.LiveHub`, so every task screen shows it live and
its Space/R/X/Q commands reach the recorder's control queue.

Stopping (the therapist, the server shutting down, or every task screen closed
for :attr:`VisitRun.abandon_s` seconds) is the recorder's ``quit``: the running
trial is kept as ``incomplete`` and the file is finalised.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ...analysis.params import HandwritingParams
from ...errors import MotorlabError, one_line
from ...session import protocols as P
from ...session.controls import KEY_NAMES, Control, ControlQueue
from ...session.protocols import TaskProtocol
from ...session.recorder import Recorder, RecordingTarget
from .hub import LiveHub
from .live_source import RecorderLiveSource, ScreenSetup

log = logging.getLogger(__name__)

#: metric of the clinic's goal catalog shown as "previous best" and "target" on the grip bar
GRIP_METRIC = "grip_strength_kgf"
#: default top of the grip scale (kg) for children (< 13 years) and for everyone else
GRIP_SCALE_CHILD_KG, GRIP_SCALE_ADULT_KG = 40.0, 60.0
#: the same for pinch (kg)
PINCH_SCALE_CHILD_KG, PINCH_SCALE_ADULT_KG = 10.0, 20.0
#: rest between pinch trials (s): the protocol's default (``pinch_protocol``)
PINCH_REST_S = 15.0


@dataclass(frozen=True)
class Timing:
    """Step lengths of a visit's tasks (s).

    ``STANDARD`` follows the protocols' clinical defaults (ASHT grip: 3-s countdown,
    5-s squeeze, 60-s rest); ``QUICK`` is for emulated devices only (demonstrations, tests).
    """

    name: str
    countdown_s: float
    squeeze_s: float
    rest_s: float
    sustained_s: float
    handwriting_s: float
    spiral_s: float
    tremor_s: float


STANDARD = Timing("standard", 3.0, 5.0, 60.0, 10.0, 60.0, 30.0, 30.0)
QUICK = Timing("quick", 1.0, 2.0, 1.0, 4.0, 5.0, 5.0, 5.0)
TIMINGS = {t.name: t for t in (STANDARD, QUICK)}


@dataclass(frozen=True)
class VisitTask:
    """A task a visit offers, the task screen view that shows it live, and its terminal command."""

    task: str  # BIDS task label (motorlab.session.protocols)
    title: str  # what the visit page lists
    view: str  # motorlab.ui.web.live.VIEWS
    instrument: str  # which device of the visit it uses: "force" or "pen"
    record: str  # the same task in a terminal: ``motorlab record ...`` ("" for none yet)
    screen_title: str  # heading of the task screen, for the child


#: tasks of a visit, in the order a therapist runs them
TASKS: tuple[VisitTask, ...] = (
    VisitTask(
        "grip",
        "Grip strength (3 trials per hand)",
        "force_max",
        "force",
        "grip --hand both",
        "Squeeze as hard as you can!",
    ),
    VisitTask(
        "pinch",
        "Pinch strength (tip, key, palmar)",
        "force_max",
        "force",
        "",
        "Pinch as hard as you can!",
    ),
    VisitTask(
        "gripsustained",
        "Sustained grip",
        "force_hold",
        "force",
        "grip-sustained",
        "Squeeze and keep it in the band!",
    ),
    VisitTask("handwriting", "Handwriting (timed copy)", "pen", "pen", "handwriting", "Copy the sentence"),
    VisitTask("spiral", "Archimedean spiral", "pen", "pen", "spiral", "Draw a spiral"),
    VisitTask(
        "tremorrest", "Rest tremor", "hold", "pen", "tremor --condition rest", "Rest your hand and stay still"
    ),
    VisitTask(
        "tremorpostural",
        "Postural tremor",
        "hold",
        "pen",
        "tremor --condition postural",
        "Hold your arm out, nice and still",
    ),
)
TASK_SPECS = {t.task: t for t in TASKS}


@dataclass(frozen=True)
class VisitPlan:
    """What the therapist chose on the visit page (validated by :func:`make_plan`)."""

    root: Path
    participant: str
    tasks: tuple[str, ...]
    devices: dict[str, str]  # instrument -> device URL
    emulated: dict[str, bool]  # instrument -> sim:// emulator
    trials: int = 3
    timing: Timing = STANDARD


def make_plan(
    root: Path,
    participant: str,
    tasks: list[str],
    devices: dict[str, tuple[str, bool]],
    trials: int | str = 3,
    timing: str = "standard",
) -> VisitPlan:
    """Validate a visit (MotorlabError names what is wrong)."""
    chosen = tuple(t for t in TASK_SPECS if t in tasks)
    if not chosen:
        raise MotorlabError("pick at least one task")
    try:
        n = int(trials)
    except (TypeError, ValueError):
        raise MotorlabError(f"trials per hand must be a whole number, got {trials!r}") from None
    if not 1 <= n <= 10:
        raise MotorlabError(f"trials per hand must be 1 to 10, got {n}")
    if timing not in TIMINGS:
        raise MotorlabError(f"timing {timing!r} is not one of {', '.join(TIMINGS)}")
    used = {TASK_SPECS[t].instrument for t in chosen}
    if timing != "standard" and not all(devices[k][1] for k in used):
        raise MotorlabError(
            "quick timing is for emulated devices only; use standard timing with a real device"
        )
    return VisitPlan(
        Path(root),
        participant,
        chosen,
        {k: devices[k][0] for k in used},
        {k: devices[k][1] for k in used},
        n,
        TIMINGS[timing],
    )


def task_protocol(spec: VisitTask, plan: VisitPlan, age: int | None, dominant: str) -> TaskProtocol:
    """The task's protocol for this client (hand and sentence from the client's facts)."""
    tm = plan.timing
    hand = dominant if dominant in ("right", "left") else "right"
    if spec.task == "grip":
        return P.grip_protocol(
            trials=plan.trials,
            hands=(hand, "left" if hand == "right" else "right"),
            countdown_s=tm.countdown_s,
            squeeze_s=tm.squeeze_s,
            rest_s=tm.rest_s,
        )
    if spec.task == "pinch":
        return P.pinch_protocol(
            trials=plan.trials,
            hands=(hand, "left" if hand == "right" else "right"),
            countdown_s=tm.countdown_s,
            squeeze_s=tm.squeeze_s,
            rest_s=min(tm.rest_s, PINCH_REST_S),
        )
    if spec.task == "gripsustained":
        return P.grip_sustained_protocol(hold_s=tm.sustained_s, hand=hand, countdown_s=tm.countdown_s)
    if spec.task == "handwriting":
        band = "child" if age is not None and age < 13 else "adult"
        return P.handwriting_protocol(
            duration_s=tm.handwriting_s, age_band=band, hand=hand, countdown_s=tm.countdown_s
        )
    if spec.task == "spiral":
        return P.spiral_protocol(time_limit_s=tm.spiral_s, hand=hand, countdown_s=tm.countdown_s)
    condition = "rest" if spec.task == "tremorrest" else "postural"
    return P.tremor_protocol(condition, hold_s=tm.tremor_s, hand=hand, countdown_s=tm.countdown_s)


def grip_marks(root: Path, participant: str, session: str) -> tuple[dict[str, float], dict[str, float]]:
    """The client's best earlier grip (kg, per hand) and the goals' expected level (kg, per hand)."""
    from ...clinic import GoalStore, client_sessions
    from ...clinic.measurements import measure_session

    best: dict[str, float] = {}
    for ses in client_sessions(root, participant):
        if ses.label == session or "grip" not in ses.tasks:
            continue
        m = measure_session(ses)
        for hand in ("right", "left"):
            v = m.value(GRIP_METRIC, hand)
            if v is not None:
                best[hand] = max(best.get(hand, 0.0), v)
    target: dict[str, float] = {}
    for goal in GoalStore(root, participant).load():
        if goal.metric == GRIP_METRIC and goal.hand in ("right", "left"):
            expected = [lv.threshold for lv in goal.levels if lv.level == 0]
            if expected:
                target[goal.hand] = float(expected[0])
    return best, target


def grip_scale_kg(age: int | None, marks: list[float], task: str = "grip") -> float:
    """Top of the fixed force scale: the age group's default for the task, raised to show every
    mark (1.2 x the largest), in steps of 10 kg (grip) or 5 kg (pinch)."""
    child = age is not None and age < 13
    if task == "pinch":
        base, step = (PINCH_SCALE_CHILD_KG if child else PINCH_SCALE_ADULT_KG), 5
    else:
        base, step = (GRIP_SCALE_CHILD_KG if child else GRIP_SCALE_ADULT_KG), 10
    top = max([base, *(1.2 * m for m in marks if math.isfinite(m))])
    return float(step * math.ceil(top / step))


@dataclass
class TaskRun:
    """One task of a running visit, as the visit page lists it."""

    spec: VisitTask
    device: str
    emulated: bool
    status: str = "waiting"  # waiting, running, done, stopped, failed, skipped
    path: str = ""
    n_samples: int = 0
    error: str = ""


@dataclass
class VisitRun:
    """A visit running in a background thread (see the module docstring).

    Args:
        plan: the validated visit.
        hub: the server's live hub (the task screens).
        abandon_s: stop the visit when no task screen has been connected for this long
            while a task runs (None: never).
    """

    plan: VisitPlan
    hub: LiveHub
    abandon_s: float | None = 30.0
    #: seconds a finished task stays on the screens ("Well done") before the next one connects
    pause_between_s: float = 2.0
    session: str = ""
    tasks: list[TaskRun] = field(default_factory=list)
    state: str = "starting"  # starting, running, finished, stopped
    stop_reason: str = ""
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _controls: ControlQueue | None = None
    _recorder: Recorder | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _pending_notes: list[str] = field(default_factory=list)
    _note_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from ...storage.bids import next_session_label

        self.session = self.session or next_session_label(self.plan.root, self.plan.participant)
        self.tasks = [
            TaskRun(
                TASK_SPECS[t],
                self.plan.devices[TASK_SPECS[t].instrument],
                self.plan.emulated[TASK_SPECS[t].instrument],
            )
            for t in self.plan.tasks
        ]

    # ------------------------------------------------------------------ control
    @property
    def participant(self) -> str:
        return self.plan.participant

    @property
    def active(self) -> bool:
        return self.state in ("starting", "running")

    def start(self) -> VisitRun:
        self._thread = threading.Thread(target=self._thread_main, name="motorlab-visit", daemon=True)
        self._thread.start()
        return self

    def stop(self, reason: str = "stopped by the therapist", wait_s: float | None = 15.0) -> None:
        """Quit the running task (its trial kept as ``incomplete``) and skip the rest; thread-safe."""
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()
        self._push("quit")
        if wait_s is not None and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait_s)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _push(self, control: str) -> None:
        loop, controls = self._loop, self._controls
        if loop is None or controls is None or control not in KEY_NAMES.values():
            return
        with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to stop
            loop.call_soon_threadsafe(controls.push, cast(Control, control))

    def command(self, name: str) -> None:
        """A key from a task screen (server loop): handed to the running recorder."""
        if self._controls is None or self._loop is None:
            raise MotorlabError("no task is running")
        self._push(name)

    def note(self, text: str) -> None:
        """A therapist's note: kept with the running task's recording (``MotorlabNotes`` and a
        ``note`` event); between tasks, with the next task's recording (at its time 0)."""
        with self._note_lock:
            loop, rec = self._loop, self._recorder
            if loop is None or rec is None:
                if self.active and any(t.status in ("waiting", "running") for t in self.tasks):
                    self._pending_notes.append(text)  # a task is still to be recorded
                    return
                raise MotorlabError("notes are saved with a task's recording: no task is running")

        async def add() -> bool:
            return rec.add_note(text)

        try:
            ok = asyncio.run_coroutine_threadsafe(add(), loop).result(2.0)
        except (RuntimeError, TimeoutError):
            ok = False
        if not ok:
            raise MotorlabError("the task has ended: the note was not saved")

    # ------------------------------------------------------------------ the thread
    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # a bug: the screens are told, the log has the traceback
            log.exception("the visit stopped")
            self.state = "stopped"
            self.stop_reason = f"the visit stopped: {one_line(exc)}"
            self.hub.detach(text=self.stop_reason)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.state = "running"
        watch = asyncio.ensure_future(self._watch_screens())
        try:
            for run in self.tasks:
                if self._stop.is_set():
                    run.status = "skipped"
                    continue
                await self._run_task(run)
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
            self._controls = None
            self._recorder = None
        self.state = "stopped" if self._stop.is_set() else "finished"
        done = (
            "The visit is finished."
            if self.state == "finished"
            else f"The visit was stopped ({self.stop_reason})."
        )
        pid = self.participant
        self.hub.detach(
            text=f"{done} Well done!",
            links=(
                ("/visit/current", "Visit summary"),
                (f"/clients/{pid}/report?session={self.session}", "Report"),
                (f"/clients/{pid}/parent?session={self.session}", "Parent page"),
                (f"/clients/{pid}/export.csv", "Export (CSV)"),
            ),
        )

    async def _watch_screens(self) -> None:
        """Stop the visit when every task screen has been gone for ``abandon_s`` seconds."""
        if self.abandon_s is None:
            return
        gone_since: float | None = None
        while True:
            await asyncio.sleep(min(0.25, self.abandon_s / 4))
            if self.hub.screen_count > 0 or self._recorder is None:
                gone_since = None
                continue
            gone_since = gone_since or time.monotonic()
            if time.monotonic() - gone_since >= self.abandon_s:
                self.stop(f"no task screen open for {self.abandon_s:g} s", wait_s=None)
                return

    def _client_facts(self) -> tuple[dict[str, Any], int | None, str]:
        from ...clinic import ClientRegistry

        reg = ClientRegistry(self.plan.root)
        if not reg.exists(self.participant):
            return {}, None, "right"
        c = reg.get(self.participant)
        age = c.age_in(_dt.date.today().year)
        return {"age": age, "sex": c.sex, "dominant_hand": c.dominant_hand}, age, c.dominant_hand

    async def _run_task(self, run: TaskRun) -> None:
        from ...devices.registry import open_device

        facts, age, dominant = self._client_facts()
        proto = task_protocol(run.spec, self.plan, age, dominant)
        target = RecordingTarget(self.plan.root, self.participant, self.session, participant_info=facts)
        run.status = "running"
        self.hub.detach(text=f"Connecting to {run.device} for “{run.spec.title}”…")
        try:
            setup_extra: dict[str, Any] = {}
            if run.spec.instrument == "force":
                best: dict[str, float] = {}
                target_kg: dict[str, float] = {}
                if run.spec.task != "pinch":  # the catalog's grip measure (no pinch goals yet)
                    best, target_kg = await asyncio.to_thread(
                        grip_marks, self.plan.root, self.participant, self.session
                    )
                setup_extra = {
                    "previous_best_kg": best,
                    "target_kg": target_kg,
                    "scale_max_kg": grip_scale_kg(age, [*best.values(), *target_kg.values()], run.spec.task),
                }
            async with await open_device(run.device) as device:
                info = await device.driver.info()
                setup = ScreenSetup(
                    run.spec.view,  # type: ignore[arg-type]
                    run.spec.screen_title,
                    run.device,
                    emulated=device.emulated,
                    **setup_extra,
                )
                controls = ControlQueue()
                source = RecorderLiveSource(setup, proto, info.channels, self.command, self.note)
                with self._note_lock:  # a note typed now goes to the notes or to the recorder
                    recorder = Recorder(
                        device,
                        proto,
                        target,
                        controls=controls,
                        wait_for_start=True,
                        publish_interval_s=1 / 30,
                        pen_down_threshold_n=HandwritingParams.pen_down_threshold_n
                        if run.spec.instrument == "pen"
                        else None,
                        notes=self._pending_notes,
                    )
                    self._pending_notes = []
                    self._controls, self._recorder = controls, recorder
                recorder.subscribe(source.on_snapshot)
                recorder.add_sample_tap(source.on_samples)
                if self._stop.is_set():  # stopped while the device was opening
                    controls.push("quit")
                self.hub.attach(source)
                try:
                    result = await recorder.run()
                finally:
                    self._controls, self._recorder = None, None
            run.path, run.n_samples = str(result.path), result.n_samples
            run.status = "stopped" if result.quit else "done"
            if not self._stop.is_set():
                await asyncio.sleep(self.pause_between_s)
        except MotorlabError as exc:
            run.status, run.error = "failed", one_line(exc)
            self.hub.detach(text=f"“{run.spec.title}” could not run: {run.error}")
            log.warning("visit task %s failed: %s", run.spec.task, run.error)
            await asyncio.sleep(0.5)
        except OSError as exc:
            run.status, run.error = "failed", f"{run.device}: {one_line(exc)}"
            self.hub.detach(text=f"“{run.spec.title}” could not run: {run.error}")
