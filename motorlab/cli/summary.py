"""Printing helpers shared by commands."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_recording_summary(result, console: Console) -> None:
    """Where the recording went and the task metrics computed from it."""
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    console.print(f"[bold]saved[/bold] {result.path}  ({result.n_samples} samples, "
                  f"{result.dropped_samples} dropped, {result.gaps} link gaps, calibration {result.calibration_id})")
    rows = analyze_recording(read_recording(result.path))
    print_rows(rows, console)


def print_rows(rows: list[dict], console: Console, title: str | None = None,
               columns: list[str] | None = None) -> None:
    if not rows:
        console.print("no metrics")
        return
    cols = columns or [k for k in rows[0] if not isinstance(rows[0][k], (list, dict))]
    table = Table(title=title, show_lines=False)
    for c in cols:
        table.add_column(c, justify="right" if isinstance(rows[0].get(c), (int, float)) else "left")
    for r in rows:
        table.add_row(*[_fmt(r.get(c)) for c in cols])
    console.print(table)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"
    return str(v)
