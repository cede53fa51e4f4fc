"""``motorlab record TASK``: run a timed task on a device and store the recording."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ..recording import validate_pseudonym
from ..session.protocols import grip_protocol
from ..storage.bids import next_session_label


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a timed task (grip …) from a device",
        description="Record a timed task from a device into a BIDS dataset, with a live view.",
    )
    tasks = p.add_subparsers(dest="task", metavar="TASK", required=True)
    g = tasks.add_parser("grip", help="maximal grip: trials per hand with countdown and rest")
    _common(g)
    g.add_argument("--hand", choices=["right", "left", "both"], default="right")
    g.add_argument("--trials", type=int, default=3, help="trials per hand (default 3)")
    g.add_argument("--order", choices=["alternating", "blocked"], default="alternating",
                   help="with --hand both: alternate hands or do one hand first")
    g.add_argument("--countdown", type=float, default=3.0, metavar="S", help="countdown seconds (3)")
    g.add_argument("--squeeze", type=float, default=5.0, metavar="S", help="squeeze window seconds (5)")
    g.add_argument("--rest", type=float, default=60.0, metavar="S", help="rest between trials seconds (60)")
    g.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate (device default)")
    g.set_defaults(func=_run_grip)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", required=True, metavar="URL",
                   help="device URL: serial:///dev/ttyUSB0?protocol=motorlab, ble://NAME?protocol=tindeq, sim://grip")
    p.add_argument("--participant", required=True, metavar="ID", help="pseudonymous ID, e.g. P001")
    p.add_argument("--out", type=Path, default=Path("motorlab-data"), metavar="DIR",
                   help="BIDS dataset folder (default ./motorlab-data)")
    p.add_argument("--session", default=None, metavar="LABEL", help="session label (default: next number)")
    p.add_argument("--no-live", action="store_true", help="no live view (plain log lines)")


def _run_grip(args: argparse.Namespace) -> int:
    validate_pseudonym(args.participant)
    hands = ("right", "left") if args.hand == "both" else (args.hand,)
    proto = grip_protocol(
        trials=args.trials, hands=hands, order=args.order, countdown_s=args.countdown,
        squeeze_s=args.squeeze, rest_s=args.rest, rate_hz=args.rate,
    )
    return _record(args, proto)


def _record(args: argparse.Namespace, proto) -> int:
    from rich.console import Console

    from ..session.recorder import record_task
    from .summary import print_recording_summary

    session = args.session or next_session_label(args.out, args.participant)
    console = Console()
    result = asyncio.run(
        record_task(args.device, proto, args.participant, args.out, session=session,
                    live=False if args.no_live else None, console=console)
    )
    print_recording_summary(result, console)
    return 0
