"""``motorlab record TASK``: run a timed task on a device and store the recording.

Tasks: ``grip`` (maximal, per hand), ``grip-sustained``, ``handwriting``,
``spiral``, ``tremor`` (rest and/or postural hold). During a task: SPACE starts
the next trial, ``r`` repeats a trial, ``x`` marks it invalid, ``q`` stops
safely. ``--yes`` runs without waiting for keys; ``--keys`` replays a script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError
from ..recording import validate_pseudonym
from ..session import protocols as P
from .summary import print_recording_summary

if TYPE_CHECKING:
    from rich.console import Console

    from ..session.recorder import RecordingTarget, RecordResult

_KEYS_HELP = "keys during the task: SPACE start trial, r repeat trial, x mark trial invalid, q stop safely"


def default_data_dir() -> Path:
    return Path(os.environ.get("MOTORLAB_DATA", "motorlab-data"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a timed task (grip, grip-sustained, handwriting, spiral, tremor)",
        description="Record a timed task from a device into the clinic's BIDS dataset, with a live view. "
        + _KEYS_HELP
        + ".",
    )
    tasks = p.add_subparsers(dest="task", metavar="TASK", required=True)

    g = tasks.add_parser(
        "grip",
        help="maximal grip: 3 trials per hand with countdown and rest",
        description="Maximal grip strength, seated with the elbow at 90°. " + _KEYS_HELP,
    )
    _common(g, default_url="sim://grip")
    g.add_argument("--hand", choices=["right", "left", "both"], default="right")
    g.add_argument("--trials", type=int, default=3, help="trials per hand (default 3)")
    g.add_argument(
        "--order",
        choices=["alternating", "blocked"],
        default="alternating",
        help="with --hand both: alternate hands, or all trials of one hand first",
    )
    g.add_argument("--countdown", type=float, default=3.0, metavar="S", help="countdown seconds (3)")
    g.add_argument("--squeeze", type=float, default=5.0, metavar="S", help="squeeze window seconds (5)")
    g.add_argument("--rest", type=float, default=60.0, metavar="S", help="rest between trials seconds (60)")
    g.set_defaults(
        func=lambda a: _record(
            a,
            [
                P.grip_protocol(
                    trials=a.trials,
                    hands=("right", "left") if a.hand == "both" else (a.hand,),
                    order=a.order,
                    countdown_s=a.countdown,
                    squeeze_s=a.squeeze,
                    rest_s=a.rest,
                    rate_hz=a.rate,
                )
            ],
        )
    )

    s = tasks.add_parser(
        "grip-sustained",
        help="hold maximal grip for a set time (fatigue)",
        description="Sustained maximal grip for fatigue index and hold CV. " + _KEYS_HELP,
    )
    _common(s, default_url="sim://grip")
    s.add_argument("--hand", choices=["right", "left"], default="right")
    s.add_argument("--hold", type=float, default=10.0, metavar="S", help="hold seconds (10)")
    s.add_argument("--countdown", type=float, default=3.0, metavar="S")
    s.set_defaults(
        func=lambda a: _record(
            a,
            [P.grip_sustained_protocol(hold_s=a.hold, hand=a.hand, countdown_s=a.countdown, rate_hz=a.rate)],
        )
    )

    h = tasks.add_parser(
        "handwriting",
        help="timed copy of a sentence with the IMU pen",
        description="Timed sentence copy with an IMU pen (tip force). " + _KEYS_HELP,
    )
    _common(h, default_url="sim://pen")
    h.add_argument("--hand", choices=["right", "left"], default="right")
    h.add_argument("--duration", type=float, default=60.0, metavar="S", help="writing time (60)")
    h.add_argument("--prompt", default=None, help="sentence to copy (default: age-appropriate)")
    h.add_argument("--age-band", choices=sorted(P.HANDWRITING_PROMPTS), default="child")
    h.add_argument("--countdown", type=float, default=3.0, metavar="S")
    h.set_defaults(
        func=lambda a: _record(
            a,
            [
                P.handwriting_protocol(
                    duration_s=a.duration,
                    prompt=a.prompt,
                    age_band=a.age_band,
                    hand=a.hand,
                    countdown_s=a.countdown,
                    rate_hz=a.rate,
                )
            ],
        )
    )

    sp = tasks.add_parser(
        "spiral",
        help="draw an Archimedean spiral within a time limit",
        description="Archimedean spiral with the IMU pen. " + _KEYS_HELP,
    )
    _common(sp, default_url="sim://pen")
    sp.add_argument("--hand", choices=["right", "left"], default="right")
    sp.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="time limit (30)")
    sp.add_argument("--countdown", type=float, default=3.0, metavar="S")
    sp.set_defaults(
        func=lambda a: _record(
            a,
            [
                P.spiral_protocol(
                    time_limit_s=a.time_limit, hand=a.hand, countdown_s=a.countdown, rate_hz=a.rate
                )
            ],
        )
    )

    t = tasks.add_parser(
        "tremor",
        help="rest and postural tremor holds",
        description="Rest and/or postural tremor holds with an IMU. " + _KEYS_HELP,
    )
    _common(t, default_url="sim://pen")
    t.add_argument("--hand", choices=["right", "left"], default="right")
    t.add_argument("--condition", choices=["rest", "postural", "both"], default="both")
    t.add_argument("--hold", type=float, default=30.0, metavar="S", help="seconds per hold (30)")
    t.add_argument("--countdown", type=float, default=3.0, metavar="S")
    t.add_argument("--tracksys", default="imupen", help="BIDS tracking-system label (imupen, wristimu…)")
    t.set_defaults(
        func=lambda a: _record(
            a,
            [
                P.tremor_protocol(
                    c,
                    hold_s=a.hold,
                    hand=a.hand,
                    countdown_s=a.countdown,
                    tracksys=a.tracksys,
                    rate_hz=a.rate,
                )
                for c in (("rest", "postural") if a.condition == "both" else (a.condition,))
            ],
        )
    )


def _common(p: argparse.ArgumentParser, default_url: str) -> None:
    p.add_argument(
        "--device",
        required=True,
        metavar="URL",
        help="device URL, e.g. serial:///dev/ttyUSB0?protocol=motorlab, "
        f"ble://Progressor_1234?protocol=tindeq, or {default_url} (built-in emulator; "
        "`motorlab devices` lists what is connected)",
    )
    p.add_argument(
        "--participant",
        "--client",
        dest="participant",
        required=True,
        metavar="ID",
        help="the client's pseudonymous ID, e.g. P001 (never a name)",
    )
    p.add_argument(
        "--data",
        "--out",
        dest="out",
        type=Path,
        default=default_data_dir(),
        metavar="DIR",
        help="clinic dataset folder (default $MOTORLAB_DATA or ./motorlab-data)",
    )
    p.add_argument(
        "--session",
        default=None,
        metavar="LABEL",
        help="session label (default: a new numbered session today, or today's if it exists)",
    )
    p.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate (device default)")
    p.add_argument("--yes", "-y", action="store_true", help="do not wait for SPACE before each trial")
    p.add_argument(
        "--keys",
        default=None,
        metavar="SCRIPT",
        help="scripted keys for unattended runs, KEY@SECONDS items, e.g. 'x@6,r@9,q@20'",
    )
    p.add_argument("--no-live", action="store_true", help="no live view (plain log lines)")
    p.add_argument(
        "--lsl-markers",
        default=None,
        metavar="NAME",
        help="store the markers of this LSL stream (type Markers) as 'marker' events (needs pylsl)",
    )
    p.add_argument(
        "--acq-time",
        default=None,
        metavar="ISO",
        help="date/time to store as the acquisition time (default: now), e.g. 2026-11-15T10:30",
    )
    p.add_argument("--plot", action="store_true", help="also show the live trace in a window (matplotlib)")


def _session_for_today(out: Path, participant: str, when=None) -> str:
    """The session of that day (default today) if one exists as the latest session, else the next number."""
    import datetime as dt
    import json

    from ..storage.bids import list_sessions, next_session_label

    today = (when.date() if when else dt.date.today()).isoformat()
    for label in reversed(list_sessions(out, participant)):
        for side in (out / f"sub-{participant}" / f"ses-{label}" / "motion").glob("*_motion.json"):
            try:
                acq = json.loads(side.read_text()).get("MotorlabMetadata", {}).get("acq_time", "")
            except (OSError, ValueError):
                continue
            if acq.startswith(today):
                return label
        break
    return next_session_label(out, participant)


def _previous_best(root: Path, participant: str, task: str, session: str) -> float | None:
    """The client's best valid peak (N) for a grip task in earlier sessions, for the live bar."""
    from ..analysis.recording_metrics import analyze_recording
    from ..errors import MotorlabError
    from ..storage.bids import find_recordings, read_recording

    folder = root / f"sub-{participant}"
    if not folder.exists():
        return None
    best = None
    for path in find_recordings(folder):
        if f"_task-{task}_" not in path.name or f"_ses-{session}_" in path.name:
            continue
        try:
            metrics = analyze_recording(read_recording(path))
        except (MotorlabError, OSError):
            continue
        trials = metrics.grip.trials if metrics.grip is not None else ()
        peaks = [tr.result.peak_force_N for tr in trials if tr.status == "valid"]
        if peaks:
            best = max(best or 0.0, max(peaks))
    return best


def _client_facts(root: Path, participant: str, year: int) -> dict:
    """Age (session year minus birth year), sex and dominant hand of a registered client,
    stored with the recording so that analyses can apply norms; empty if not registered."""
    from ..clinic.clients import ClientRegistry

    registry = ClientRegistry(root)
    if not registry.exists(participant):
        return {}
    c = registry.get(participant)
    return {"age": c.age_in(year), "sex": c.sex, "dominant_hand": c.dominant_hand}


def _record(args: argparse.Namespace, protocols: list[P.TaskProtocol]) -> int:
    import datetime as dt

    from rich.console import Console

    from ..session.recorder import RecordingTarget

    acq_time = None
    if args.acq_time:
        try:
            acq_time = dt.datetime.fromisoformat(args.acq_time)
        except ValueError:
            raise ParameterError(
                f"--acq-time {args.acq_time!r} is not an ISO date/time such as 2026-11-15T10:30"
            ) from None
    validate_pseudonym(args.participant)
    target = RecordingTarget(
        args.out,
        args.participant,
        session=args.session or _session_for_today(args.out, args.participant, acq_time),
        acq_time=acq_time,
        participant_info=_client_facts(args.out, args.participant, (acq_time or dt.datetime.now()).year),
    )
    console = Console() if sys.stdout.isatty() else Console(width=120)
    for proto in protocols:
        result = asyncio.run(_record_one(args, proto, target, console))
        print_recording_summary(result, console)
        if result.quit:
            console.print("[yellow]stopped early by the therapist; the recording is saved[/yellow]")
            return 0
    return 0


async def _record_one(
    args: argparse.Namespace, proto: P.TaskProtocol, target: RecordingTarget, console: Console
) -> RecordResult:
    """Open the device, record ``proto`` with the views the options ask for, close the device."""
    from contextlib import ExitStack

    from ..devices.registry import open_device
    from ..session.controls import ControlQueue, ScriptedKeys
    from ..session.recorder import Recorder
    from ..ui.keys import TerminalKeys
    from ..ui.terminal import LogLines, TerminalView

    interactive = sys.stdin.isatty() and not args.yes and args.keys is None
    controls = ScriptedKeys(args.keys) if args.keys else (TerminalKeys() if interactive else ControlQueue())
    best = (
        _previous_best(args.out, args.participant, proto.task, target.session)
        if "grip" in proto.task
        else None
    )
    with ExitStack() as views:
        plot = None
        if args.plot:
            from ..ui.plot import LivePlot

            plot = LivePlot(f"{proto.name} — {args.participant}")
            views.callback(plot.close)
        sources = []
        if getattr(args, "lsl_markers", None):
            from ..streaming.markers import LslMarkerInlet

            sources.append(LslMarkerInlet(args.lsl_markers))
        async with await open_device(args.device) as device:
            recorder = Recorder(
                device,
                proto,
                target,
                controls=controls,
                wait_for_start=interactive,
                best_previous=best,
                event_sources=sources,
            )
            if args.no_live or not sys.stdout.isatty():
                recorder.subscribe(LogLines().update)
            else:
                recorder.subscribe(views.enter_context(TerminalView(console)).update)
            if plot is not None:
                recorder.subscribe(plot.update)
            return await recorder.run()
