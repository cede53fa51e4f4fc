"""Printing helpers shared by commands: metric rows as readable tables."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

#: identity columns shown in titles rather than in every row
_IDENTITY = ("participant", "session", "task", "tracksys", "row")
_GRIP_TRIAL_COLUMNS = (
    "trial",
    "hand",
    "status",
    "peak_force_N",
    "peak_force_kgf",
    "time_to_peak_s",
    "rfd_0_100ms_N_per_s",
)


def print_recording_summary(result, console: Console) -> None:
    """Where the recording went and the task metrics computed from it."""
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    console.print(f"[bold]saved[/bold] {result.path}")
    console.print(
        f"{result.n_samples} samples, {result.dropped_samples} dropped, {result.gaps} link gaps, "
        f"calibration {result.calibration_id}"
    )
    print_metrics(analyze_recording(read_recording(result.path)).to_rows(), console)


def print_metrics(rows: list[dict], console: Console) -> None:
    """Per-trial rows as one table, single-row results as a metric/value list."""
    if not rows:
        console.print("no metrics")
        return
    first = rows[0]
    title = " ".join(f"{k} {first[k]}" for k in ("participant", "session", "task") if k in first)
    trials = [r for r in rows if r.get("row") == "trial"]
    if trials:
        cols = [c for c in _GRIP_TRIAL_COLUMNS if c in trials[0]] or [
            c for c in trials[0] if c not in _IDENTITY
        ]
        print_rows(trials, console, title=f"{title}: trials", columns=cols)
    for r in rows:
        if r.get("row") == "trial":
            continue
        table = Table(title=f"{title}: {r.get('row', 'metrics')}", show_header=True)
        table.add_column("metric")
        table.add_column("value", justify="right")
        no_norm = "norm_z" in r and not _finite(r["norm_z"])
        for k, v in r.items():
            if k in _IDENTITY or isinstance(v, (list, dict)):
                continue
            if no_norm and k.startswith("norm_"):
                continue  # never a norm source next to nan: one line says why there is none
            table.add_row(k, _fmt(v))
        if no_norm:
            table.add_row("norm", "none for this age, sex and hand")
        console.print(table)


def print_rows(
    rows: list[dict], console: Console, title: str | None = None, columns: list[str] | None = None
) -> None:
    if not rows:
        console.print("no metrics")
        return
    cols = columns or [k for k in rows[0] if not isinstance(rows[0][k], (list, dict))]
    table = Table(title=title)
    for c in cols:
        table.add_column(c, justify="right" if isinstance(rows[0].get(c), (int, float)) else "left")
    for r in rows:
        table.add_row(*[_fmt(r.get(c)) for c in cols])
    console.print(table)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"
    return str(v)
