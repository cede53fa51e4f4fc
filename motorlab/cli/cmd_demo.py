"""``motorlab demo``: the whole chain on an emulated device, no hardware needed.

Starts the DIY grip-dynamometer emulator on a pseudo-terminal (real pyserial,
real wire protocol), records a maximal-grip session at accelerated timing,
writes the BIDS dataset, and prints the metrics next to the virtual
participant's ground truth.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..errors import MotorlabError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="record and analyse a grip session on the built-in emulator",
        description="Record 3 maximal-grip trials on the emulated DIY dynamometer "
        "(accelerated timing, ~20 s), store them as BIDS and print the metrics.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("motorlab-demo"),
        metavar="DIR",
        help="dataset folder to write (default ./motorlab-demo)",
    )
    p.add_argument("--participant", default="DEMO01", metavar="ID", help="pseudonym (default DEMO01)")
    p.add_argument("--seed", type=int, default=7, help="virtual participant seed (default 7)")
    p.add_argument("--peak", type=float, default=320.0, metavar="N", help="participant's maximal force in N")
    p.add_argument("--no-live", action="store_true", help="no live view")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..analysis.recording_metrics import analyze_recording
    from ..session.protocols import grip_protocol
    from ..session.recorder import RecordingTarget, record_task
    from ..storage.bids import next_session_label, read_recording
    from ..ui.terminal import LogLines, TerminalView

    console = Console() if sys.stdout.isatty() else Console(width=120)
    proto = grip_protocol(trials=3, hands=("right",), countdown_s=1.0, squeeze_s=3.0, rest_s=1.5)
    url = f"sim://grip?seed={args.seed}&peak_n={args.peak}"
    session = next_session_label(args.out, args.participant)
    console.print(
        f"[bold]motorlab demo[/bold]: emulated grip dynamometer ({url}), "
        f"{proto.n_trials} trials, ~{proto.total_s:.0f} s; writing to {args.out.resolve()}"
    )
    target = RecordingTarget(args.out, args.participant, session=session)
    if args.no_live or not sys.stdout.isatty():
        result = asyncio.run(record_task(url, proto, target, views=[LogLines().update]))
    else:
        with TerminalView(console) as view:
            result = asyncio.run(record_task(url, proto, target, views=[view.update]))
    grip = analyze_recording(read_recording(result.path)).grip
    if grip is None:  # pragma: no cover - a grip protocol always gives grip metrics
        raise MotorlabError(f"{result.path}: no grip metrics")
    truth = [t for t in (result.truth or []) if t.get("peak_n") is not None]
    table = Table(title="Grip trials: measured vs the virtual participant's truth")
    for head in (
        "trial",
        "hand",
        "status",
        "peak N",
        "peak kgf",
        "time to peak s",
        "RFD 0-100 ms N/s",
        "true peak N",
        "error %",
    ):
        table.add_column(head, justify="right")
    for trial, tr in zip(grip.trials, truth + [None] * len(grip.trials)):
        res = trial.result
        true_n = float(tr["peak_n"]) if tr else float("nan")
        err = 100.0 * (res.peak_force_N - true_n) / true_n
        table.add_row(
            str(trial.trial),
            trial.hand,
            trial.status,
            f"{res.peak_force_N:.1f}",
            f"{res.peak_force_kgf:.2f}",
            f"{res.time_to_peak_s:.3f}",
            f"{res.rfd_0_100ms_N_per_s:.0f}",
            f"{true_n:.1f}",
            f"{err:+.2f}",
        )
    console.print(table)
    for hs in grip.summaries:
        s = hs.summary
        console.print(
            f"{hs.hand} hand: mean of {s.n_used} = {s.mean_of_3_N:.1f} N "
            f"({s.mean_of_3_kgf:.2f} kgf), best {s.best_N:.1f} N, "
            f"between-trial CV {s.cv_pct:.1f} %"
        )
    console.print(f"dataset: {args.out.resolve()}")
    return 0
