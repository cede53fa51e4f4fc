"""``motorlab demo``: the whole chain on an emulated device, no hardware needed.

Starts the DIY grip-dynamometer emulator on a pseudo-terminal (real pyserial,
real wire protocol), records a maximal-grip session at accelerated timing,
writes the BIDS dataset, and prints the metrics next to the virtual
participant's ground truth.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="record and analyse a grip session on the built-in emulator",
                       description="Record 3 maximal-grip trials on the emulated DIY dynamometer "
                                   "(accelerated timing, ~20 s), store them as BIDS and print the metrics.")
    p.add_argument("--out", type=Path, default=Path("motorlab-demo"), metavar="DIR",
                   help="dataset folder to write (default ./motorlab-demo)")
    p.add_argument("--participant", default="DEMO01", metavar="ID", help="pseudonym (default DEMO01)")
    p.add_argument("--seed", type=int, default=7, help="virtual participant seed (default 7)")
    p.add_argument("--peak", type=float, default=320.0, metavar="N", help="participant's maximal force in N")
    p.add_argument("--no-live", action="store_true", help="no live view")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..analysis.recording_metrics import analyze_recording
    from ..session.protocols import grip_protocol
    from ..session.recorder import record_task
    from ..storage.bids import next_session_label, read_recording
    from .summary import print_rows

    console = Console()
    proto = grip_protocol(trials=3, hands=("right",), countdown_s=1.0, squeeze_s=3.0, rest_s=1.5)
    url = f"sim://grip?seed={args.seed}&peak_n={args.peak}"
    session = next_session_label(args.out, args.participant)
    console.print(f"[bold]motorlab demo[/bold]: emulated grip dynamometer ({url}), "
                  f"{proto.n_trials} trials, ~{proto.total_s:.0f} s; writing to {args.out.resolve()}")
    result = asyncio.run(record_task(url, proto, args.participant, args.out, session=session,
                                     live=False if args.no_live else None, console=console))
    rows = analyze_recording(read_recording(result.path))
    trials = [r for r in rows if r.get("trial") is not None]
    truth = [t for t in (result.truth or []) if t.get("peak_n") is not None]
    for row, tr in zip(trials, truth):
        row["truth_peak_N"] = float(tr["peak_n"])
        row["error_pct"] = 100.0 * (row["peak_force_N"] - tr["peak_n"]) / tr["peak_n"]
    console.print(f"saved {result.path}")
    cols = [c for c in ("trial", "hand", "status", "peak_force_N", "peak_force_kgf", "time_to_peak_s",
                        "rfd_0_100ms_N_per_s", "truth_peak_N", "error_pct") if trials and c in trials[0]]
    print_rows(trials, console, title="Grip trials (measured vs virtual participant)", columns=cols)
    summary = [r for r in rows if r.get("trial") is None]
    if summary:
        print_rows(summary, console, title="Summary")
    console.print(f"dataset: {args.out.resolve()}")
    return 0
