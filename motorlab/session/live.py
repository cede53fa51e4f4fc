"""Terminal live view built with rich: value now, peak, bar, time left, trial n/N."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .acquisition import LiveState
from .protocols import Step, TaskProtocol

_SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 60) -> str:
    """A one-line trace of the most recent values."""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_SPARK[min(7, int((v - lo) / span * 7.999))] for v in vals)


@dataclass
class ViewModel:
    protocol: TaskProtocol
    unit: str = "N"
    step: Step | None = None
    step_left_s: float = 0.0
    trial_index: int = 0  # 1-based index over all trials of the task
    best_previous: float | None = None  # the client's previous best, for the bar
    device: str = ""
    battery: float | None = None
    link_ok: bool = True
    message: str = ""


def render(vm: ViewModel, st: LiveState) -> Panel:
    proto = vm.protocol
    step = vm.step
    now = float(st.latest[0]) if st.latest is not None and len(st.latest) else float("nan")
    title = f"{proto.name} — trial {vm.trial_index} of {proto.n_trials}"
    big = Text(f"{now:8.1f} {vm.unit}" if math.isfinite(now) else "   ---", style="bold cyan")
    big.stylize("bold")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    grid.add_row("now", big)
    peak = st.trial_peak if math.isfinite(st.trial_peak) else float("nan")
    grid.add_row("peak this trial", f"{peak:.1f} {vm.unit}" if math.isfinite(peak) else "-")
    target = vm.best_previous or (max(st.peak, 1.0) if math.isfinite(st.peak) else 1.0)
    bar = ProgressBar(
        total=max(target, 1e-9), completed=max(0.0, min(now if math.isfinite(now) else 0, target)), width=40
    )
    grid.add_row("vs best" if vm.best_previous else "vs session peak", bar)
    grid.add_row("trace", Text(sparkline(list(st.trace_v)), style="green"))
    if step is not None:
        label = {"countdown": "get ready", "trial": "squeeze", "rest": "rest", "instruction": "read"}.get(
            step.kind, step.kind
        )
        if step.kind == "countdown":
            left = Text(f"{max(1, math.ceil(vm.step_left_s))}", style="bold yellow")
        else:
            left = Text(f"{vm.step_left_s:4.1f} s left ({label})")
        grid.add_row("time", left)
        grid.add_row("", Text(step.text, style="bold"))
    status = f"{vm.device}  samples {st.n_samples}  dropped {st.dropped}  gaps {st.gaps}"
    if vm.battery is not None:
        status += f"  battery {vm.battery:.0f}%"
    status += "  link OK" if vm.link_ok else "  LINK LOST — reconnecting"
    body = Group(
        grid, Text(status, style="dim"), Text(vm.message, style="yellow") if vm.message else Text("")
    )
    return Panel(body, title=title, border_style="cyan" if vm.link_ok else "red")


def plain_line(vm: ViewModel, st: LiveState) -> str:
    """One status line for non-terminal output (logs, CI)."""
    now = float(st.latest[0]) if st.latest is not None else float("nan")
    step = vm.step.kind if vm.step else "-"
    return (
        f"trial {vm.trial_index}/{vm.protocol.n_trials} {step:<10} left {vm.step_left_s:4.1f} s  "
        f"now {now:7.1f} {vm.unit}  peak {st.trial_peak:7.1f}  dropped {st.dropped}"
    )
