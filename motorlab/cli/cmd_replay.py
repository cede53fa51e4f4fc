"""``motorlab replay PATH --out DIR``: play a stored recording through the live path into a new dataset."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="play a stored recording through driver and acquisition (original timestamps) into DIR",
        description="Replay a recording (its _motion.tsv or .json) as if its device were streaming: "
        "through the driver, acquisition and writer, with the original timestamps, --speed times "
        "faster. The result has the same metrics as the original, bit for bit. Any command that "
        "takes a device URL also takes replay://PATH?speed=S.",
    )
    p.add_argument("path", type=Path, metavar="PATH", help="the recording's _motion.tsv or _motion.json")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="dataset folder for the replay")
    p.add_argument("--speed", type=float, default=1.0, help="times faster than recorded (default 1)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..session.replay import replay_recording

    url = f"replay://{args.path.resolve()}?speed={args.speed:g}"
    out = asyncio.run(replay_recording(url, args.out))
    print(f"replayed {args.path} -> {out}")
    return 0
