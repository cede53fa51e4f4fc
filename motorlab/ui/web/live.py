"""The live-state schema between a running task and the browser's task screen.

A task (later: :class:`motorlab.session.Recorder` through a small adapter) is a
:class:`LiveSource`. The server's :class:`~motorlab.ui.web.hub.LiveHub` polls it
at most :data:`MAX_RATE_HZ` times a second, decimates the samples that arrived
since the previous poll (:mod:`motorlab.ui.web.decimate`) and sends every
connected screen one JSON message (:func:`live_message`); the screen sends back
the therapist's commands (:data:`COMMANDS`, the same keys as the terminal).
The JSON shapes are documented in ``docs/app.md``; this module is their one owner.

Units: force in the unit named by :attr:`ForceState.unit` (``kg`` on screens),
times in seconds, pen coordinates in millimetres on the writing area.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from ...errors import ParameterError

#: version of the JSON messages; bumped on any incompatible change
SCHEMA_VERSION = 1
#: most messages a screen receives per second
MAX_RATE_HZ = 30.0
#: what the therapist can ask for, named as :data:`motorlab.session.controls.KEY_NAMES` names them
COMMANDS: tuple[str, ...] = ("space", "repeat", "invalid", "quit")
#: keyboard keys of the task screen -> command (the terminal's keys)
KEYS: dict[str, str] = {" ": "space", "r": "repeat", "x": "invalid", "q": "quit"}
#: longest therapist note accepted in one message (characters)
MAX_NOTE_CHARS = 2000

View = Literal["force_max", "force_hold", "pen", "hold"]
VIEWS: tuple[str, ...] = ("force_max", "force_hold", "pen", "hold")
StepKind = Literal["waiting", "instruction", "countdown", "trial", "rest", "done"]
STEP_KINDS: tuple[str, ...] = ("waiting", "instruction", "countdown", "trial", "rest", "done")
Link = Literal["ok", "lost", "reconnecting"]
LINKS: tuple[str, ...] = ("ok", "lost", "reconnecting")


@dataclass(frozen=True)
class TaskState:
    """Which task and trial is running.

    Attributes:
        task: BIDS task label (``grip``, ``pinch``, ``gripsustained``, ``handwriting``,
            ``spiral``, ``tremorrest``, ``tremorpostural``).
        view: which screen draws it: ``force_max`` (grip/pinch bar), ``force_hold``
            (sustained grip band), ``pen`` (drawing) or ``hold`` (tremor steady hold).
        title: heading in words ("Squeeze as hard as you can").
        hand: ``right``/``left`` or ``n/a``.
        trial: 1-based number of the current trial among the task's trials (0 before the first).
        n_trials: planned number of trials, repeats included.
        trial_key: changes whenever a new trial's curve starts (the screen clears it).
    """

    task: str
    view: View
    title: str
    hand: str = "n/a"
    trial: int = 0
    n_trials: int = 0
    trial_key: str = ""

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ParameterError(f"view {self.view!r} is not one of {', '.join(VIEWS)}")


@dataclass(frozen=True)
class StepState:
    """The protocol step now shown.

    Attributes:
        kind: ``waiting`` (for SPACE), ``instruction``, ``countdown``, ``trial``, ``rest`` or ``done``.
        text: what the screen says, in words.
        left_s: seconds left in the step (0 when the step waits).
        duration_s: whole length of the step (s); the trial's x axis spans it.
        countdown: the number to show large during a countdown (3, 2, 1), else None.
    """

    kind: StepKind
    text: str = ""
    left_s: float = 0.0
    duration_s: float = 0.0
    countdown: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            raise ParameterError(f"step kind {self.kind!r} is not one of {', '.join(STEP_KINDS)}")


@dataclass(frozen=True)
class ForceState:
    """A force task's numbers, on a scale that never changes during the task.

    Attributes:
        unit: display unit (``kg``).
        scale_max: top of the fixed scale (unit); the screen never rescales.
        now: latest value (unit), None before the first sample.
        peak: highest value of this trial (unit), None before the first sample.
        previous_best: the client's previous best for this task and hand (unit), if known.
        target: the goal's expected level or the therapist's target (unit), if any.
        band_lo, band_hi: the band to stay in (sustained grip), if any (unit).
    """

    unit: str
    scale_max: float
    now: float | None = None
    peak: float | None = None
    previous_best: float | None = None
    target: float | None = None
    band_lo: float | None = None
    band_hi: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale_max) and self.scale_max > 0):
            raise ParameterError(
                f"scale_max must be a positive number of {self.unit}, got {self.scale_max!r}"
            )


@dataclass(frozen=True)
class PenState:
    """A pen task's numbers.

    Attributes:
        down: tip touching the surface.
        force: tip force (``force_unit``), None if the pen has no force sensor.
        force_unit: unit of ``force`` (``N``).
        force_max: top of the tip-force meter (``force_unit``).
        strokes: pen-down strokes so far in this trial.
        has_position: the device reports where the tip is (tablets); an IMU pen does not,
            and then no ink is drawn.
        area_w_mm, area_h_mm: size of the writing area the ink coordinates refer to (mm).
    """

    down: bool
    force: float | None = None
    force_unit: str = "N"
    force_max: float = 5.0
    strokes: int = 0
    has_position: bool = False
    area_w_mm: float = 200.0
    area_h_mm: float = 120.0


@dataclass(frozen=True)
class HoldState:
    """The steady-hold (tremor) view: where the hand wobbles to, on a fixed scale.

    Attributes:
        dx, dy: current deviation from the held position (``unit``), e.g. band-passed
            acceleration along two axes.
        scale: deviation at the edge of the circle (``unit``).
        rms: RMS of the deviation over the last second (``unit``).
        unit: unit of the numbers (``m/s²``).
    """

    dx: float
    dy: float
    scale: float
    rms: float
    unit: str = "m/s²"


@dataclass(frozen=True)
class DeviceState:
    """The device and the recording behind the screen.

    Attributes:
        device: the device URL or name shown to the therapist.
        emulated: a built-in emulator (``sim://``), not a real person's data.
        link: ``ok``, ``lost`` or ``reconnecting``.
        battery_pct: battery charge (%), None if the device does not say.
        battery_low: the device or driver calls the battery low.
        write_error: why the recording cannot be written, None while writing works.
        samples: samples recorded so far.
        dropped: samples known to be lost.
        latest_t_s: recording time (s) of the newest sample behind this snapshot, if known
            (lets a screen or a benchmark measure sample-to-screen latency).
    """

    device: str
    emulated: bool = False
    link: Link = "ok"
    battery_pct: float | None = None
    battery_low: bool = False
    write_error: str | None = None
    samples: int = 0
    dropped: int = 0
    latest_t_s: float | None = None

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ParameterError(f"link {self.link!r} is not one of {', '.join(LINKS)}")


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything a screen shows at one moment (no samples: those travel as :class:`LiveUpdate`)."""

    task: TaskState
    step: StepState
    device: DeviceState
    force: ForceState | None = None
    pen: PenState | None = None
    hold: HoldState | None = None
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForceSamples:
    """Force samples that arrived since the previous poll: times (s) and values (the snapshot's unit)."""

    t_s: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class PenSamples:
    """Pen samples since the previous poll: times (s), tip position (mm), contact, tip force."""

    t_s: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    down: np.ndarray
    force: np.ndarray


@dataclass(frozen=True)
class LiveUpdate:
    """One poll's answer: the current snapshot and the samples since the previous poll."""

    snapshot: LiveSnapshot
    force: ForceSamples | None = None
    pen: PenSamples | None = None


class LiveSource(Protocol):
    """What a running task offers the browser (the adapter a Recorder satisfies).

    ``poll`` is called only by the hub, from the server's event loop, at most
    :data:`MAX_RATE_HZ` times a second; it must not block. It returns None when
    nothing changed since the previous call, else the current snapshot with the
    samples that arrived in between (each sample is handed out once).
    ``command`` receives one of :data:`COMMANDS`; ``note`` a therapist's note.
    """

    def poll(self) -> LiveUpdate | None: ...

    def command(self, name: str) -> None: ...

    def note(self, text: str) -> None: ...


class LiveBuffer:
    """A thread-safe :class:`LiveSource` that a producer pushes into.

    A recorder (or a test) calls :meth:`publish` with each new snapshot and
    :meth:`push_force` / :meth:`push_pen` with samples as they arrive, from any
    thread; the hub drains it with :meth:`poll`. Commands and notes from the
    screen are handed to ``on_command`` / ``on_note`` (e.g. the recorder's key
    queue) and kept in :attr:`commands` / :attr:`notes`.
    """

    def __init__(
        self,
        on_command: Callable[[str], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._snapshot: LiveSnapshot | None = None
        self._dirty = False
        self._force: list[tuple[np.ndarray, np.ndarray]] = []
        self._pen: list[tuple[np.ndarray, ...]] = []
        self._on_command = on_command
        self._on_note = on_note
        self.commands: list[str] = []
        self.notes: list[str] = []

    def publish(self, snapshot: LiveSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._dirty = True

    def push_force(self, t_s: Any, value: Any) -> None:
        t, v = np.atleast_1d(np.asarray(t_s, float)), np.atleast_1d(np.asarray(value, float))
        if t.shape != v.shape:
            raise ParameterError(f"push_force: {t.size} times but {v.size} values")
        with self._lock:
            self._force.append((t, v))
            self._dirty = True

    def push_pen(self, t_s: Any, x_mm: Any, y_mm: Any, down: Any, force: Any) -> None:
        cols = [np.atleast_1d(np.asarray(c, float)) for c in (t_s, x_mm, y_mm, down, force)]
        if len({c.size for c in cols}) != 1:
            raise ParameterError("push_pen: t_s, x_mm, y_mm, down and force differ in length")
        with self._lock:
            self._pen.append(tuple(cols))
            self._dirty = True

    def poll(self) -> LiveUpdate | None:
        with self._lock:
            if not self._dirty or self._snapshot is None:
                return None
            snap, force, pen = self._snapshot, self._force, self._pen
            self._force, self._pen, self._dirty = [], [], False
        fs = (
            ForceSamples(np.concatenate([a for a, _ in force]), np.concatenate([b for _, b in force]))
            if force
            else None
        )
        ps = None
        if pen:
            t, x, y, d, f = (np.concatenate([p[k] for p in pen]) for k in range(5))
            ps = PenSamples(t, x, y, d.astype(bool), f)
        return LiveUpdate(snap, fs, ps)

    def command(self, name: str) -> None:
        self.commands.append(name)
        if self._on_command is not None:
            self._on_command(name)

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self._on_note is not None:
            self._on_note(text)


def _num(x: float | None, digits: int = 3) -> float | None:
    """JSON-safe rounded number (None for missing or non-finite)."""
    if x is None or not np.isfinite(x):
        return None
    return round(float(x), digits)


def snapshot_dict(s: LiveSnapshot) -> dict[str, Any]:
    """The snapshot part of a ``live`` message (see docs/app.md)."""
    out: dict[str, Any] = {
        "task": {
            "task": s.task.task,
            "view": s.task.view,
            "title": s.task.title,
            "hand": s.task.hand,
            "trial": s.task.trial,
            "n_trials": s.task.n_trials,
            "trial_key": s.task.trial_key,
        },
        "step": {
            "kind": s.step.kind,
            "text": s.step.text,
            "left_s": _num(s.step.left_s, 2),
            "duration_s": _num(s.step.duration_s, 2),
            "countdown": s.step.countdown,
        },
        "device": {
            "device": s.device.device,
            "emulated": s.device.emulated,
            "link": s.device.link,
            "battery_pct": _num(s.device.battery_pct, 0),
            "battery_low": s.device.battery_low,
            "write_error": s.device.write_error,
            "samples": s.device.samples,
            "dropped": s.device.dropped,
            "latest_t_s": _num(s.device.latest_t_s, 4),
        },
        "force": None,
        "pen": None,
        "hold": None,
        "alerts": list(s.alerts),
    }
    if s.force is not None:
        f = s.force
        out["force"] = {
            "unit": f.unit,
            "scale_max": _num(f.scale_max),
            "now": _num(f.now),
            "peak": _num(f.peak),
            "previous_best": _num(f.previous_best),
            "target": _num(f.target),
            "band_lo": _num(f.band_lo),
            "band_hi": _num(f.band_hi),
        }
    if s.pen is not None:
        p = s.pen
        out["pen"] = {
            "down": p.down,
            "force": _num(p.force),
            "force_unit": p.force_unit,
            "force_max": _num(p.force_max),
            "strokes": p.strokes,
            "has_position": p.has_position,
            "area_w_mm": _num(p.area_w_mm, 1),
            "area_h_mm": _num(p.area_h_mm, 1),
        }
    if s.hold is not None:
        h = s.hold
        out["hold"] = {
            "dx": _num(h.dx),
            "dy": _num(h.dy),
            "scale": _num(h.scale),
            "rms": _num(h.rms),
            "unit": h.unit,
        }
    return out


def idle_message(
    text: str = "No task is running.", links: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any]:
    """What screens get while no source is attached (``links``: ``(href, words)`` of app pages)."""
    msg: dict[str, Any] = {"type": "idle", "schema": SCHEMA_VERSION, "text": text}
    if links:
        msg["links"] = [{"href": h, "text": t} for h, t in links]
    return msg


@dataclass
class CurveChunk:
    """Points a screen has not seen yet of the current trial's curve (or ink)."""

    trial_key: str
    start: int
    points: list[list[float]] = field(default_factory=list)


def live_message(
    seq: int, snapshot: LiveSnapshot, curve: CurveChunk | None, ink: CurveChunk | None
) -> dict[str, Any]:
    """A ``live`` message: schema version, sequence number, the snapshot, and the new curve/ink points."""
    msg: dict[str, Any] = {"type": "live", "schema": SCHEMA_VERSION, "seq": seq}
    msg.update(snapshot_dict(snapshot))
    msg["curve"] = (
        {"trial_key": curve.trial_key, "from": curve.start, "points": curve.points} if curve else None
    )
    msg["ink"] = {"trial_key": ink.trial_key, "from": ink.start, "points": ink.points} if ink else None
    return msg


def parse_client_message(data: Any) -> tuple[str, str, int | None]:
    """Validate a message from a screen: ``("command", name, id)`` or ``("note", text, id)``.

    Raises ParameterError naming the problem for anything else.
    """
    if not isinstance(data, dict):
        raise ParameterError("a message must be a JSON object")
    mid = data.get("id")
    if mid is not None and (not isinstance(mid, int) or isinstance(mid, bool)):
        raise ParameterError("id must be an integer")
    kind = data.get("type")
    if kind == "command":
        name = data.get("command")
        if name not in COMMANDS:
            raise ParameterError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
        return "command", str(name), mid
    if kind == "note":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ParameterError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise ParameterError(f"a note is limited to {MAX_NOTE_CHARS} characters")
        return "note", text.strip(), mid
    raise ParameterError(f"unknown message type {kind!r}; expected command or note")
