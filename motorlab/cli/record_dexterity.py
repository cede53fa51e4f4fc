"""``motorlab record pegs`` and ``motorlab record boxblock``: dexterity scored without a sensor.

``pegs``: a Nine-Hole-Peg-style timed trial per hand (dominant first). SPACE starts the
timer when the client touches the first peg and stops it when the last peg lands in the
container; ``x`` marks a trial invalid (one replacement follows; after the last trial too,
before the final SPACE), ``r`` abandons the attempt, ``q`` stops. Times taken with a stopwatch can be entered with ``--times``.
``boxblock``: the Box-and-Block count per hand, typed in (or ``--count right=45``).
Both are stored as BIDS behavioural files (:mod:`motorlab.storage.beh`) and summarised
(:mod:`motorlab.analysis.dexterity`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from ..storage.notes import NOTES_KEY

if TYPE_CHECKING:
    from rich.console import Console

    from ..session.dexterity import PegState
    from ..session.recorder import RecordingTarget
    from .record_client import ClientContext

_PEG_TEXT = (
    "Nine-Hole Peg: seated, board in front, container on the side of the tested hand. "
    "Take the pegs one by one, put them in the holes, then take them out one by one into the container, "
    "as fast as you can."
)
_BOX_TEXT = "Box and Block: move as many blocks as you can, one at a time, over the partition in 60 seconds."


def register_dexterity(
    tasks: argparse._SubParsersAction, client_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    pg = tasks.add_parser(
        "pegs",
        help="Nine-Hole-Peg timing per hand (SPACE start/stop; no device)",
        description="Nine-Hole-Peg-style timed test per hand, dominant hand first. SPACE starts the "
        "timer (first peg touched) and stops it (last peg in the container); x marks the trial "
        "invalid (one replacement follows), r abandons it, n types a note, q stops.",
    )
    client_options(pg)
    pg.add_argument("--hand", choices=["right", "left", "both"], default="both", help="both: dominant first")
    pg.add_argument("--trials", type=int, default=1, help="timed trials per hand (default 1)")
    pg.add_argument("--pegs", type=int, default=9, help="pegs on the board (default 9)")
    pg.add_argument(
        "--times",
        default=None,
        metavar="LIST",
        help="stopwatch times in seconds, one per trial in order (e.g. 21.4,23.0), instead of keys",
    )
    pg.add_argument(
        "--keys", default=None, metavar="SCRIPT", help="scripted keys KEY@SECONDS, e.g. '_@1,_@20'"
    )
    pg.set_defaults(func=_pegs)

    bb = tasks.add_parser(
        "boxblock",
        help="Box-and-Block count per hand (typed in; no device)",
        description="Box-and-Block test: the number of blocks moved in 60 s, typed in per hand.",
    )
    client_options(bb)
    bb.add_argument("--hand", choices=["right", "left", "both"], default="both", help="both: dominant first")
    bb.add_argument(
        "--count",
        action="append",
        default=[],
        metavar="HAND=N",
        help="blocks moved, e.g. --count right=45 --count left=41 (default: asked for each hand)",
    )
    bb.add_argument("--duration", type=float, default=60.0, metavar="S", help="test duration seconds (60)")
    bb.set_defaults(func=_boxblock)


def _sidecar(
    target: RecordingTarget,
    client: ClientContext,
    task: str,
    text: str,
    params: dict[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    acq = (target.acq_time or dt.datetime.now()).isoformat(timespec="milliseconds")
    return {
        "TaskName": task,
        "TaskDescription": text,
        "Instructions": text,
        "MotorlabMetadata": {
            "participant": target.participant,
            "session": target.session,
            "task": task,
            "acq_time": acq,
            "protocol": {"name": task, "version": "1.0", "parameters": params},
            **client.facts,
        },
        NOTES_KEY: [{"time_s": 0.0, "text": n} for n in notes if n.strip()],
    }


def _print_summary(path: Path, console: Console) -> None:
    from rich.table import Table

    from ..analysis.dexterity import analyze_dexterity

    m = analyze_dexterity(path)
    console.print(f"[bold]saved[/bold] {path}")
    peg = m.task == "ninehole"
    table = Table(title=f"{m.participant} session {m.session}: {'Nine-Hole Peg' if peg else 'Box and Block'}")
    for head in (
        "hand",
        "trial",
        "status",
        "time (s)" if peg else "blocks",
        "pegs/min" if peg else "blocks/min",
    ):
        table.add_column(head, justify="right")
    for t in m.trials:
        value = f"{t.value:.1f}" if peg else f"{t.value:.0f}"
        value = value if math.isfinite(t.value) else "-"
        rate = f"{t.per_min:.1f}" if math.isfinite(t.per_min) else "-"
        table.add_row(t.hand, str(t.trial), t.status, value, rate)
    console.print(table)
    for s in m.summaries:
        if s.n_valid == 0:
            console.print(f"{s.hand} hand: no valid trial")
        elif peg:
            console.print(f"{s.hand} hand: {s.mean:.1f} s ({s.per_min:.1f} pegs/min), {s.n_valid} valid")
        else:
            console.print(f"{s.hand} hand: {s.mean:.0f} blocks ({s.per_min:.1f} blocks/min)")
    console.print(f"[dim]{m.summaries[0].norm_note if m.summaries else ''}[/dim]")


def _render_pegs(st: PegState, participant: str) -> Any:
    from rich.panel import Panel
    from rich.text import Text

    from ..ui.terminal import big_number

    elapsed = st.elapsed_s()
    body = Text()
    body.append(f"{st.hand} hand — trial {st.trial_index} of {st.trial_total}\n", style="bold")
    if st.phase == "timing":
        body.append(big_number(int(elapsed)) + f"\n{elapsed:5.1f} s  TIMING\n", style="bold yellow")
    elif math.isfinite(st.last_time_s):
        body.append(f"last time {st.last_time_s:.1f} s\n", style="bold")
    body.append(st.message, style="yellow")
    title = f"nine-hole peg — {participant} — trial {st.trial_index} of {st.trial_total}"
    return Panel(body, title=title, border_style="cyan")


async def _run_pegs(
    args: argparse.Namespace, hands: tuple[str, ...], console: Console
) -> tuple[list, list[str]]:
    from rich.live import Live

    from ..session.controls import ControlQueue, ScriptedKeys
    from ..session.dexterity import PegTimer
    from ..ui.keys import TerminalKeys

    notes: list[str] = list(args.note)
    keys = TerminalKeys() if args.keys is None and sys.stdin.isatty() else None
    controls = ScriptedKeys(args.keys) if args.keys else (keys or ControlQueue())
    if keys is not None:
        keys.on_note = notes.append
    timer = PegTimer(hands, args.trials, controls, confirm_end=args.keys is None)
    if not sys.stdout.isatty():
        timer.on_change = lambda st: console.print(st.message) if st.message else None
        return await timer.run(), notes
    with Live(_render_pegs(timer.state, args.participant), console=console, refresh_per_second=10) as live:

        async def refresh() -> None:
            while True:
                live.update(_render_pegs(timer.state, args.participant))
                await asyncio.sleep(0.1)

        task = asyncio.ensure_future(refresh())
        try:
            trials = await timer.run()
        finally:
            task.cancel()
        live.update(_render_pegs(timer.state, args.participant))
    return trials, notes


def _pegs(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..analysis.dexterity import pegs_per_minute
    from ..session.dexterity import TimedTrial
    from ..storage.beh import write_beh
    from .record_client import make_target

    if args.trials < 1 or args.pegs < 1:
        raise ParameterError("--trials and --pegs must be at least 1")
    target, client = make_target(args)
    hands = client.hands(args.hand)
    console = Console(width=min(100, Console().width)) if sys.stdout.isatty() else Console(width=100)
    plan = [(h, k) for h in hands for k in range(1, args.trials + 1)]
    notes: list[str] = list(args.note)
    if args.times:
        try:
            times = [float(x) for x in args.times.split(",") if x.strip()]
        except ValueError:
            raise ParameterError(
                f"--times {args.times!r}: give seconds separated by commas, e.g. 21.4,23.0"
            ) from None
        if len(times) != len(plan) or min(times) <= 0:
            raise ParameterError(
                f"--times needs {len(plan)} positive times ({', '.join(f'{h} {k}' for h, k in plan)})"
            )
        trials = [TimedTrial(h, k, "valid", t) for (h, k), t in zip(plan, times)]
    else:
        console.print(f"[bold]{_PEG_TEXT}[/bold]")
        trials, notes = asyncio.run(_run_pegs(args, hands, console))
    rows = [
        {
            "hand": t.hand,
            "trial": t.trial,
            "status": t.status,
            "time_s": round(t.time_s, 3) if math.isfinite(t.time_s) else None,
            "n_pegs": args.pegs,
            "pegs_per_min": round(pegs_per_minute(t.time_s, args.pegs), 3) if t.status == "valid" else None,
            "reason": t.reason or None,
        }
        for t in trials
    ]
    params = {"hands": list(hands), "trials": args.trials, "n_pegs": args.pegs}
    path = write_beh(
        target.root,
        target.participant,
        target.session,
        "ninehole",
        rows,
        _sidecar(target, client, "ninehole", _PEG_TEXT, params, notes),
    )
    _print_summary(path, console)
    return 0


def _boxblock(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..analysis.dexterity import blocks_per_minute
    from ..storage.beh import write_beh
    from .record_client import make_target

    target, client = make_target(args)
    hands = client.hands(args.hand)
    console = Console(width=min(100, Console().width)) if sys.stdout.isatty() else Console(width=100)
    counts: dict[str, int] = {}
    for item in args.count:
        hand, _, n = item.partition("=")
        if hand not in ("right", "left") or not n.strip().isdigit():
            raise ParameterError(f"--count {item!r}: use HAND=N, e.g. right=45")
        counts[hand] = int(n)
    if not counts:
        console.print(f"[bold]{_BOX_TEXT}[/bold]")
        for hand in hands:
            while True:
                text = console.input(f"blocks moved with the {hand} hand in {args.duration:g} s: ").strip()
                if text.isdigit():
                    counts[hand] = int(text)
                    break
                console.print("[yellow]type a whole number of blocks[/yellow]")
    rows = [
        {
            "hand": hand,
            "trial": 1,
            "status": "valid",
            "blocks": n,
            "duration_s": args.duration,
            "blocks_per_min": round(blocks_per_minute(n, args.duration), 3),
        }
        for hand, n in counts.items()
    ]
    params = {"hands": list(counts), "duration_s": args.duration}
    path = write_beh(
        target.root,
        target.participant,
        target.session,
        "boxblock",
        rows,
        _sidecar(target, client, "boxblock", _BOX_TEXT, params, list(args.note)),
    )
    _print_summary(path, console)
    return 0
