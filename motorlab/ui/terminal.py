"""Terminal views of a running task, built with rich, fed by live snapshots.

* :func:`render` — one :class:`~motorlab.session.live.LiveSnapshot` as a panel: for force,
  the value now, the trial peak and the previous best in kg and the whole trial on a fixed
  kg scale; for a pen, pen-down, tip force and strokes so far; else the value and a trace;
  then time left, trial n of N, link/battery/write status and the message to the therapist.
* :class:`TerminalView` — a ``rich.live.Live`` display that subscribes to a feed.
* :class:`LogLines` — one plain status line every few seconds through logging
  (no terminal, CI, ``--no-live``).
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..units import newton_to_kgf

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..session.live import LiveSnapshot

log = logging.getLogger(__name__)

_SPARK = "▁▂▃▄▅▆▇█"
#: what the time row calls each step kind, per task (the trial's verb)
_STEP_LABEL = {"countdown": "get ready", "rest": "rest", "instruction": "read"}
_TRIAL_VERB = {
    "grip": "squeeze",
    "gripsustained": "hold",
    "pinch": "pinch",
    "handwriting": "write",
    "spiral": "draw",
    "tremorrest": "hold still",
    "tremorpostural": "hold still",
}
#: the fixed live force scale starts at this (kg) and grows in steps of it, never shrinks
FORCE_SCALE_STEP_KG = 10.0
#: chart size in character cells
CHART_WIDTH, CHART_HEIGHT = 60, 8


def sparkline(values: list[float] | tuple[float, ...], width: int = 60) -> str:
    """A one-line trace of the most recent values."""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_SPARK[min(7, int((v - lo) / span * 7.999))] for v in vals)


def force_scale_kg(*values_kg: float | None) -> float:
    """Top of the fixed force scale (kg): a multiple of ``FORCE_SCALE_STEP_KG`` above every
    value given (the previous best, the session peak) with 10 % headroom; at least one step."""
    top = max((v for v in values_kg if v is not None and math.isfinite(v)), default=0.0) * 1.1
    return FORCE_SCALE_STEP_KG * max(1, math.ceil(top / FORCE_SCALE_STEP_KG))


def force_chart(
    t_s: tuple[float, ...],
    kg: tuple[float, ...],
    start_s: float,
    duration_s: float,
    top_kg: float,
    target_kg: float | None = None,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> list[str]:
    """The whole trial as a bar chart on a fixed scale: one column per ``duration_s/width``
    seconds (highest value in it), rows labelled in kg from 0 to ``top_kg``; the target
    (previous best) is a dotted row. Hand-written: rich has no chart and a dependency
    (plotext) for one small chart is not worth it."""
    cols = [math.nan] * width
    span = max(duration_s, 1e-6)
    for t, v in zip(t_s, kg):
        if t < start_s or not math.isfinite(v):
            continue
        c = int((t - start_s) / span * width)
        if 0 <= c < width and not (v <= cols[c]):
            cols[c] = v
    filled = [c for c, v in enumerate(cols) if math.isfinite(v)]
    for c in range(filled[0] + 1 if filled else width, filled[-1] if filled else 0):
        if not math.isfinite(cols[c]):  # fewer samples than columns: hold the last value
            cols[c] = cols[c - 1]
    target_row = None
    if target_kg is not None and math.isfinite(target_kg) and 0 < target_kg <= top_kg:
        target_row = min(height - 1, int(target_kg / top_kg * height))
    lines = []
    for r in range(height - 1, -1, -1):
        lo = top_kg * r / height
        cells = []
        for v in cols:
            fill = 0.0 if not math.isfinite(v) else (v - lo) / (top_kg / height)
            if fill >= 1:
                cells.append("█")
            elif fill > 0:
                cells.append(_SPARK[min(7, int(fill * 8))])
            else:
                cells.append("┈" if r == target_row else " ")
        label = f"{top_kg * (r + 1) / height:>5g} kg ┤" if r % 2 == 1 else "         │"
        lines.append(label + "".join(cells))
    lines.append("    0 kg └" + "─" * width)
    return lines


def _title(s: LiveSnapshot) -> str:
    step = s.step
    title = f"{s.protocol} — trial {step.trial_index} of {step.trial_total}"
    if step.hand:
        title += f" · {step.hand} hand"
    if step.variant:
        title += f" · {step.variant}"
    return title


#: a 5-row block font for the countdown digits (hand-written: 10 glyphs do not need pyfiglet)
_BIG = {
    "0": ("███", "█ █", "█ █", "█ █", "███"),
    "1": (" █ ", "██ ", " █ ", " █ ", "███"),
    "2": ("███", "  █", "███", "█  ", "███"),
    "3": ("███", "  █", "███", "  █", "███"),
    "4": ("█ █", "█ █", "███", "  █", "  █"),
    "5": ("███", "█  ", "███", "  █", "███"),
    "6": ("███", "█  ", "███", "█ █", "███"),
    "7": ("███", "  █", " █ ", " █ ", " █ "),
    "8": ("███", "█ █", "███", "█ █", "███"),
    "9": ("███", "█ █", "███", "  █", "███"),
}


def big_number(n: int) -> str:
    """``n`` in the 5-row block font (each glyph doubled in width so it reads from afar)."""
    glyphs = [_BIG[d] for d in str(n)]
    return "\n".join(
        "   ".join(g[row].replace("█", "██").replace(" ", "  ") for g in glyphs) for row in range(5)
    )


def _time_rows(grid: Table, s: LiveSnapshot) -> None:
    step = s.step
    if not step.kind:
        return
    if step.kind == "countdown":
        left = Text(big_number(max(1, math.ceil(step.left_s))), style="bold yellow")
    else:
        label = _TRIAL_VERB.get(s.task, "trial") if step.kind == "trial" else _STEP_LABEL.get(step.kind, "")
        left = Text(f"{step.left_s:4.1f} s left ({label})")
    grid.add_row("time", left)
    grid.add_row("", Text(step.text, style="bold"))


def _force_rows(grid: Table, s: LiveSnapshot) -> Text:
    """Force in kg on a fixed scale with the previous best; returns the chart."""
    sig, step = s.signal, s.step
    now, peak = newton_to_kgf(sig.now), newton_to_kgf(sig.trial_peak)
    best = newton_to_kgf(sig.best_previous) if sig.best_previous else None
    grid.add_row("now", Text(f"{now:6.1f} kg" if math.isfinite(now) else "   ---", style="bold cyan"))
    grid.add_row("peak this trial", f"{peak:.1f} kg" if math.isfinite(peak) else "-")
    grid.add_row("best before", f"{best:.1f} kg (dotted line)" if best else "none recorded")
    top = force_scale_kg(best, newton_to_kgf(sig.session_peak))
    if step.kind == "trial":
        start, duration = step.started_s, step.duration_s
    else:  # between trials: the last few seconds
        duration = 10.0
        start = s.elapsed_s - duration
    kg = tuple(newton_to_kgf(v) for v in sig.trace_v)
    lines = force_chart(sig.trace_t, kg, start, duration, top, best)
    return Text("\n".join(lines), style="green")


def _pen_rows(grid: Table, s: LiveSnapshot) -> None:
    sig = s.signal
    down = Text("PEN DOWN ●", style="bold green") if sig.pen_down else Text("pen up ○", style="dim")
    grid.add_row("pen", down)
    grid.add_row("tip force", f"{sig.now:.2f} N" if math.isfinite(sig.now) else "-")
    grid.add_row("strokes so far", str(sig.strokes))


def render(s: LiveSnapshot) -> Panel:
    """The live panel for one snapshot: force tasks in kg on a fixed scale with the whole
    trial; pen tasks with pen-down, tip force and strokes; other signals as a trace."""
    sig, link = s.signal, s.link
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    chart: Text | None = None
    if sig.pen_down is not None:
        _pen_rows(grid, s)
    elif sig.unit == "N":
        chart = _force_rows(grid, s)
    else:
        now = sig.now
        grid.add_row(
            "now", Text(f"{now:8.2f} {sig.unit}" if math.isfinite(now) else "   ---", style="bold cyan")
        )
        grid.add_row("trace", Text(sparkline(sig.trace_v), style="green"))
    _time_rows(grid, s)
    status = f"{link.device}  samples {sig.n_samples}  dropped {link.dropped}  gaps {link.gaps}"
    if link.battery_percent is not None:
        status += f"  battery {link.battery_percent:.0f}%"
    status += "  link OK" if link.connected else "  LINK LOST — reconnecting"
    if not s.writer.ok:
        status += "  NOT WRITING"
    ok = link.connected and s.writer.ok
    parts = [grid] + ([chart] if chart is not None else [])
    body = Group(
        *parts, Text(status, style="dim"), Text(s.message, style="yellow") if s.message else Text("")
    )
    return Panel(body, title=_title(s), border_style="cyan" if ok else "red")


def plain_line(s: LiveSnapshot) -> str:
    """One status line for non-terminal output (logs, CI)."""
    step = s.step
    return (
        f"trial {step.trial_index}/{step.trial_total} {step.kind or '-':<10} left {step.left_s:4.1f} s  "
        f"now {s.signal.now:7.1f} {s.signal.unit}  peak {s.signal.trial_peak:7.1f}  "
        f"dropped {s.link.dropped}"
    )


class TerminalView:
    """A rich live display of the snapshots it is given (subscribe :meth:`update`).

    Use as a context manager around the run: the display starts on entry and
    shows the last snapshot when it ends.
    """

    def __init__(self, console: Console | None = None, refresh_per_second: float = 10.0, bell: bool = False):
        self.console = console or Console()
        self.bell = bell
        self._live = Live(
            Text("starting…"), console=self.console, refresh_per_second=refresh_per_second, transient=False
        )
        self._typing: str | None = None
        self._last: LiveSnapshot | None = None
        self._last_step: tuple[str, float] = ("", 0.0)

    def update(self, snapshot: LiveSnapshot) -> None:
        step = (snapshot.step.kind, snapshot.step.started_s)
        if self.bell and step != self._last_step and snapshot.step.kind in ("countdown", "trial"):
            self.console.bell()  # the sound cue: a countdown begins, the trial starts
        self._last_step = step
        self._last = snapshot
        panel = render(snapshot)
        if self._typing is not None:
            panel = Panel(
                Group(
                    panel.renderable,
                    Text(f"note: {self._typing}▏ (Enter keeps it, Esc drops it)", style="bold"),
                ),
                title=panel.title,
                border_style=panel.border_style,
            )
        self._live.update(panel)

    def show_typing(self, text: str | None) -> None:
        """Show the note being typed (None: typing ended)."""
        self._typing = text
        if self._last is not None:
            self.update(self._last)

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()


class LogLines:
    """Logs :func:`plain_line` at most every ``interval_s`` seconds (and the final snapshot)."""

    def __init__(self, interval_s: float = 2.0, logger: logging.Logger = log):
        self.interval_s = interval_s
        self.logger = logger
        self._last = -math.inf

    def update(self, snapshot: LiveSnapshot) -> None:
        now = time.monotonic()
        if snapshot.finished or now - self._last >= self.interval_s:
            self._last = now
            self.logger.info(plain_line(snapshot))
