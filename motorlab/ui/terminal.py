"""Terminal views of a running task, built with rich, fed by live snapshots.

* :func:`render` — one :class:`~motorlab.session.live.LiveSnapshot` as a panel:
  value now, trial peak, a bar against the previous best, a trace, time left,
  trial n of N, link/battery/write status and the message to the therapist.
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
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..session.live import LiveSnapshot

log = logging.getLogger(__name__)

_SPARK = "▁▂▃▄▅▆▇█"
#: what the time row calls each step kind
_STEP_LABEL = {"countdown": "get ready", "trial": "squeeze", "rest": "rest", "instruction": "read"}


def sparkline(values: list[float] | tuple[float, ...], width: int = 60) -> str:
    """A one-line trace of the most recent values."""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_SPARK[min(7, int((v - lo) / span * 7.999))] for v in vals)


def render(s: LiveSnapshot) -> Panel:
    """The live panel for one snapshot."""
    sig, step, link = s.signal, s.step, s.link
    unit = sig.unit
    now = sig.now
    title = f"{s.protocol} — trial {step.trial_index} of {step.trial_total}"
    big = Text(f"{now:8.1f} {unit}" if math.isfinite(now) else "   ---", style="bold cyan")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    grid.add_row("now", big)
    peak = sig.trial_peak
    grid.add_row("peak this trial", f"{peak:.1f} {unit}" if math.isfinite(peak) else "-")
    target = sig.best_previous or (max(sig.session_peak, 1.0) if math.isfinite(sig.session_peak) else 1.0)
    bar = ProgressBar(
        total=max(target, 1e-9), completed=max(0.0, min(now if math.isfinite(now) else 0, target)), width=40
    )
    grid.add_row("vs best" if sig.best_previous else "vs session peak", bar)
    grid.add_row("trace", Text(sparkline(sig.trace_v), style="green"))
    if step.kind:
        if step.kind == "countdown":
            left = Text(f"{max(1, math.ceil(step.left_s))}", style="bold yellow")
        else:
            left = Text(f"{step.left_s:4.1f} s left ({_STEP_LABEL.get(step.kind, step.kind)})")
        grid.add_row("time", left)
        grid.add_row("", Text(step.text, style="bold"))
    status = f"{link.device}  samples {sig.n_samples}  dropped {link.dropped}  gaps {link.gaps}"
    if link.battery_percent is not None:
        status += f"  battery {link.battery_percent:.0f}%"
    status += "  link OK" if link.connected else "  LINK LOST — reconnecting"
    if not s.writer.ok:
        status += "  NOT WRITING"
    ok = link.connected and s.writer.ok
    body = Group(grid, Text(status, style="dim"), Text(s.message, style="yellow") if s.message else Text(""))
    return Panel(body, title=title, border_style="cyan" if ok else "red")


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

    def __init__(self, console: Console | None = None, refresh_per_second: float = 10.0):
        self.console = console or Console()
        self._live = Live(
            Text("starting…"), console=self.console, refresh_per_second=refresh_per_second, transient=False
        )

    def update(self, snapshot: LiveSnapshot) -> None:
        self._live.update(render(snapshot))

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
