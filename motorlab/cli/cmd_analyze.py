"""``motorlab analyze RECORDING``: print the task metrics of one BIDS recording as a table.

The per-recording logic lives in :func:`motorlab.analysis.recording_metrics.analyze_recording`;
this command only reads the file and renders the rows.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import Any

from ..errors import MotorlabError, MotorlabWarning


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="print the metrics of a recording",
        description="Compute the task metrics (grip, tremor, handwriting, spiral) of one recording.",
    )
    p.add_argument("recording", type=Path, help="a BIDS motion recording (_motion.tsv or _motion.json)")
    p.add_argument("--params", type=Path, default=None,
                   help="JSON file with analysis parameters, e.g. {\"tremor\": {\"band_hz\": [4, 8]}}")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.set_defaults(func=handle)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    return str(value)


def handle(args: argparse.Namespace) -> int:
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    params = None
    if args.params is not None:
        try:
            params = json.loads(Path(args.params).read_text())
        except json.JSONDecodeError as exc:
            raise MotorlabError(f"{args.params}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    rec = read_recording(args.recording)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MotorlabWarning)
        rows = analyze_recording(rec, params)
    if args.json:
        print(json.dumps(rows, indent=1, default=str, allow_nan=True))
    else:
        _print_table(rec, rows)
    import sys

    for w in caught:
        if issubclass(w.category, MotorlabWarning):
            print(f"motorlab: note: {w.message}", file=sys.stderr)
    return 0


def _print_table(rec: Any, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    md = rec.metadata
    ident = {"participant", "session", "task", "tracksys"}
    console = Console()
    title = f"sub-{md.participant} ses-{md.session} task-{md.task} ({rec.duration:.1f} s)"
    if len(rows) == 1:
        table = Table(title=title)
        table.add_column("metric", no_wrap=True)
        table.add_column("value", justify="right")
        for key, value in rows[0].items():
            if key not in ident:
                table.add_row(key, _fmt(value))
        console.print(table)
        return
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in ident and k not in keys)
    table = Table(title=title)
    table.add_column("metric", no_wrap=True)
    for row in rows:
        if row.get("row") == "summary":
            label = f"summary {row.get('hand', '')}"
        else:
            label = f"trial {row.get('trial', '')} {row.get('hand', '')}"
        table.add_column(label.strip(), justify="right")
    for k in keys:
        if k in ("row", "trial", "hand"):
            continue
        table.add_row(k, *(_fmt(row.get(k, "")) for row in rows))
    console.print(table)
