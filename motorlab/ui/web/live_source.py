"""The :class:`~motorlab.session.recorder.Recorder`'s live state as the task screen's schema v1.

:class:`RecorderLiveSource` subscribes to a recorder's
:class:`~motorlab.session.live.LiveSnapshot` feed and to its samples (a sample tap,
every block as it is written) on the recorder's event loop, and answers the
server's :class:`~motorlab.ui.web.hub.LiveHub` from the server's loop
(:meth:`poll`, thread-safe). The screen's numbers (force now and trial peak, pen
down, tip force, strokes) come from the samples themselves, so they are as fresh
as the newest sample, not as the last snapshot. Commands and notes from the
screen go back through the callables given (the visit puts them on the
recorder's loop).

Units: force is shown in kg (kgf, :func:`motorlab.units.newton_to_kgf`) on a
fixed scale chosen before the task starts; pen tip force in N.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...analysis.params import HandwritingParams
from ...errors import MotorlabError
from ...recording import Channel
from ...session import live as session_live
from ...session.protocols import TaskProtocol
from ...units import force_to_newton, newton_to_kgf
from .live import (
    DeviceState,
    ForceSamples,
    ForceState,
    HoldState,
    LiveSnapshot,
    LiveUpdate,
    PenSamples,
    PenState,
    StepState,
    TaskState,
    View,
)

#: the sustained-grip band: from this fraction of the trial's peak up to the peak
HOLD_BAND_FRACTION = 0.8
#: battery charge (%) below which the screen says the battery is low
BATTERY_LOW_PCT = 20.0
#: steady-hold view: seconds of the running mean the deviation is taken from, and of its RMS
HOLD_WINDOW_S = 1.0


@dataclass(frozen=True)
class ScreenSetup:
    """What the screen shows around the recorder's own state; fixed for one task.

    Attributes:
        view: ``force_max``, ``force_hold``, ``pen`` or ``hold`` (see :mod:`motorlab.ui.web.live`).
        title: heading in words.
        device: the device URL shown to the therapist.
        emulated: a ``sim://`` emulator.
        scale_max_kg: top of the fixed force scale (kg), force views.
        previous_best_kg: the client's earlier best per hand (kg), force views.
        target_kg: the goal's expected level per hand (kg), force views.
        tip_force_max_n: top of the tip-force meter (N), pen view.
        hold_scale: deviation at the edge of the steady-hold circle (m/s²).
    """

    view: View
    title: str
    device: str
    emulated: bool = False
    scale_max_kg: float = 40.0
    previous_best_kg: dict[str, float] = field(default_factory=dict)
    target_kg: dict[str, float] = field(default_factory=dict)
    tip_force_max_n: float = 5.0
    hold_scale: float = 2.0


def _index(channels: tuple[Channel, ...], *names: str) -> int | None:
    for name in names:
        for i, ch in enumerate(channels):
            if ch.name == name:
                return i
    return None


class RecorderLiveSource:
    """A :class:`~motorlab.ui.web.live.LiveSource` fed by one Recorder (see the module docstring).

    Args:
        setup: the task's screen facts.
        protocol: the task protocol the recorder runs (task label, trials, step lengths).
        channels: the device's channels, in the order of the recorded values.
        on_command: receives ``space``/``repeat``/``invalid``/``quit`` from the screen.
        on_note: receives a therapist's note; raise :class:`~motorlab.errors.MotorlabError`
            to refuse it.
    """

    def __init__(
        self,
        setup: ScreenSetup,
        protocol: TaskProtocol,
        channels: tuple[Channel, ...],
        on_command: Callable[[str], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self.setup = setup
        self.protocol = protocol
        self._on_command = on_command
        self._on_note = on_note
        self._lock = threading.Lock()
        self._snap: session_live.LiveSnapshot | None = None
        self._dirty = False
        self._force_i = _index(channels, "force") if setup.view.startswith("force") else None
        self._force_unit = channels[self._force_i].units if self._force_i is not None else "N"
        self._tip_i = _index(channels, "tip_force", "pressure")
        self._pos_i = (_index(channels, "pos_x"), _index(channels, "pos_y"))
        self._acc_i = (_index(channels, "acc_x"), _index(channels, "acc_y"))
        if setup.view.startswith("force") and self._force_i is None:
            raise MotorlabError(f"{setup.device}: no force channel for the {protocol.task} task")
        # samples waiting for the hub (each handed out once)
        self._force: list[tuple[np.ndarray, np.ndarray]] = []
        self._pen: list[tuple[np.ndarray, ...]] = []
        # running numbers of the current trial, from the samples
        self._trial_index = 0
        self._now: float | None = None
        self._peak: float | None = None
        self._latest_t: float | None = None
        self._down = False
        self._strokes = 0
        self._tip: float | None = None
        self._acc_hist: deque[tuple[float, float, float]] = deque()
        self._acc_sum = [0.0, 0.0]
        self._hold = (0.0, 0.0, 0.0)
        # trial numbering is the session's (replacements included); this tracks which
        # upcoming trial is a replacement, to name the next trial between trials
        self._replacements_run = 0
        self._last_hand = "n/a"
        self._protocol_trials = [x for x in protocol.steps if x.kind == "trial"]
        self.commands: list[str] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------ recorder side (its loop)
    def on_snapshot(self, snap: session_live.LiveSnapshot) -> None:
        """A Recorder feed subscriber."""
        with self._lock:
            if snap.step.trial_index != self._trial_index:
                self._new_trial(snap.step.trial_index)
            self._snap = snap
            self._dirty = True

    def _new_trial(self, index: int) -> None:
        if index > self._trial_index and self._pending_replacements() > 0:
            self._replacements_run += 1  # the session runs a pending replacement first
        self._trial_index = index
        self._now = self._peak = None
        self._strokes = 0
        self._down = False

    def _pending_replacements(self) -> int:
        """Replacement trials the session has scheduled (its ``trial_total`` grew) and not yet run."""
        total = self._snap.step.trial_total if self._snap is not None else self.protocol.n_trials
        return max(0, total - self.protocol.n_trials - self._replacements_run)

    def on_samples(self, t_s: np.ndarray, values: np.ndarray) -> None:
        """A Recorder sample tap: every block of calibrated samples (recording time s)."""
        t = np.asarray(t_s, dtype=float)
        if not t.size:
            return
        with self._lock:
            self._latest_t = float(t[-1])
            if self._force_i is not None:
                kg = newton_to_kgf(force_to_newton(values[:, self._force_i].astype(float), self._force_unit))
                in_trial = self._snap is not None and self._snap.step.kind == "trial"
                finite = kg[np.isfinite(kg)]
                if finite.size:
                    self._now = float(finite[-1])
                if in_trial:  # the curve and the peak are the trial's
                    self._force.append((t, kg))
                    if finite.size:
                        top = float(finite.max())
                        self._peak = top if self._peak is None else max(self._peak, top)
            elif self.setup.view == "pen":
                self._take_pen(t, values)
            elif self.setup.view == "hold":
                self._take_hold(t, values)
            self._dirty = True

    def _take_pen(self, t: np.ndarray, values: np.ndarray) -> None:
        n = t.size
        tip = values[:, self._tip_i].astype(float) if self._tip_i is not None else np.full(n, np.nan)
        down = np.nan_to_num(tip, nan=-np.inf) > HandwritingParams.pen_down_threshold_n
        starts = int(np.count_nonzero(down[1:] & ~down[:-1])) + int(bool(down[0]) and not self._down)
        self._strokes += starts
        self._down = bool(down[-1])
        self._tip = float(tip[-1]) if np.isfinite(tip[-1]) else None
        xi, yi = self._pos_i
        if xi is not None and yi is not None:
            self._pen.append((t, values[:, xi].astype(float), values[:, yi].astype(float), down, tip))

    def _take_hold(self, t: np.ndarray, values: np.ndarray) -> None:
        xi, yi = self._acc_i
        if xi is None or yi is None:
            return
        for ti, ax, ay in zip(t.tolist(), values[:, xi].tolist(), values[:, yi].tolist()):
            if not (math.isfinite(ax) and math.isfinite(ay)):
                continue
            self._acc_hist.append((ti, ax, ay))
            self._acc_sum[0] += ax
            self._acc_sum[1] += ay
        while self._acc_hist and self._acc_hist[0][0] < t[-1] - HOLD_WINDOW_S:
            _, ax, ay = self._acc_hist.popleft()
            self._acc_sum[0] -= ax
            self._acc_sum[1] -= ay
        if not self._acc_hist:
            return
        n = len(self._acc_hist)
        mx, my = self._acc_sum[0] / n, self._acc_sum[1] / n
        arr = np.asarray(self._acc_hist)
        rms = float(np.sqrt(np.mean((arr[:, 1] - mx) ** 2 + (arr[:, 2] - my) ** 2)))
        self._hold = (arr[-1, 1] - mx, arr[-1, 2] - my, rms)

    # ------------------------------------------------------------ server side (hub's loop)
    def poll(self) -> LiveUpdate | None:
        with self._lock:
            if not self._dirty or self._snap is None:
                return None
            self._dirty = False
            force, self._force = self._force, []
            pen, self._pen = self._pen, []
            snapshot = self._screen_snapshot(self._snap)
        fs = None
        if force:
            fs = ForceSamples(np.concatenate([a for a, _ in force]), np.concatenate([b for _, b in force]))
        ps = None
        if pen:
            t, x, y, d, f = (np.concatenate([p[k] for p in pen]) for k in range(5))
            ps = PenSamples(t, x, y, d.astype(bool), f)
        return LiveUpdate(snapshot, fs, ps)

    def command(self, name: str) -> None:
        self.commands.append(name)
        if self._on_command is not None:
            self._on_command(name)

    def note(self, text: str) -> None:
        if self._on_note is not None:
            self._on_note(text)
        self.notes.append(text)

    # ------------------------------------------------------------ mapping
    def _step(self, s: session_live.LiveSnapshot) -> StepState:
        st = s.step
        if s.finished:
            return StepState("done", "Well done – this task is finished." if not s.quit else "Stopped.")
        if st.waiting_for_start:
            return StepState("waiting", "Press SPACE (or Start) when the child is ready.", 0.0, 0.0)
        if st.kind not in ("instruction", "countdown", "trial", "rest"):
            return StepState("waiting", st.text or "Getting ready…")
        duration = st.duration_s
        countdown = max(1, math.ceil(st.left_s)) if st.kind == "countdown" else None
        return StepState(st.kind, st.text, max(0.0, st.left_s), duration, countdown)  # type: ignore[arg-type]

    def _device(self, s: session_live.LiveSnapshot) -> DeviceState:
        link = s.link
        battery = link.battery_percent
        return DeviceState(
            device=self.setup.device,
            emulated=self.setup.emulated or link.emulated,
            link="ok" if link.connected else "reconnecting",
            battery_pct=battery,
            battery_low=battery is not None and battery < BATTERY_LOW_PCT,
            write_error=s.writer.error or None,
            samples=s.signal.n_samples,
            dropped=link.dropped,
            latest_t_s=self._latest_t,
        )

    def _trial_shown(self, s: session_live.LiveSnapshot, n_trials: int) -> tuple[int, str]:
        """The trial a screen names: the running one, else the next one (number and hand)."""
        st = s.step
        if st.kind == "trial" and st.hand:
            self._last_hand = st.hand
            return st.trial_index, st.hand
        if s.finished or st.trial_index >= n_trials:
            return st.trial_index, self._last_hand
        if self._pending_replacements() > 0:  # a replacement of the last trial comes first
            return st.trial_index + 1, self._last_hand
        k = st.trial_index - self._replacements_run
        hand = self._protocol_trials[k].hand if 0 <= k < len(self._protocol_trials) else None
        return st.trial_index + 1, hand or self._last_hand

    def _screen_snapshot(self, s: session_live.LiveSnapshot) -> LiveSnapshot:
        setup, st = self.setup, s.step
        n_trials = max(st.trial_total, st.trial_index)
        trial, hand = self._trial_shown(s, n_trials)
        task = TaskState(
            self.protocol.task,
            setup.view,
            setup.title,
            hand,
            trial,
            n_trials,
            f"{self.protocol.name}-{st.trial_index}",
        )
        alerts = []
        if s.message and not st.waiting_for_start:
            alerts.append(s.message[0].upper() + s.message[1:])
        if s.link.gaps:
            alerts.append(f"The link dropped {s.link.gaps} time(s) during this task; the gaps are marked.")
        force = pen = hold = None
        if setup.view in ("force_max", "force_hold"):
            in_trial = st.kind == "trial"
            band: tuple[float | None, float | None] = (None, None)
            if setup.view == "force_hold" and in_trial and self._peak is not None and self._peak > 0:
                band = (HOLD_BAND_FRACTION * self._peak, self._peak)
            force = ForceState(
                "kg",
                setup.scale_max_kg,
                self._now,
                self._peak,
                setup.previous_best_kg.get(hand),
                setup.target_kg.get(hand),
                band[0],
                band[1],
            )
        elif setup.view == "pen":
            pen = PenState(
                self._down,
                self._tip,
                "N",
                setup.tip_force_max_n,
                self._strokes,
                has_position=self._pos_i[0] is not None and self._pos_i[1] is not None,
            )
        elif setup.view == "hold":
            dx, dy, rms = self._hold
            hold = HoldState(dx, dy, setup.hold_scale, rms, "m/s²")
        return LiveSnapshot(task, self._step(s), self._device(s), force, pen, hold, tuple(alerts))
