"""``motorlab record TASK``: run a timed task on a device and store the recording.

Tasks: ``grip`` (maximal, per hand), ``grip-sustained``, ``pinch`` (tip, key,
palmar), ``handwriting``, ``spiral``, ``tremor`` (rest and/or postural hold), and the
device-free dexterity timings ``pegs`` and ``boxblock`` (:mod:`.record_dexterity`).
During a task: SPACE starts the next trial, ``x`` marks it invalid (one replacement
follows), ``r`` repeats it, ``n`` types a note, ``q`` stops safely. ``--yes`` runs
without waiting for keys; ``--keys`` replays a script.

Defaults follow the registered client (:mod:`.record_client`): the dominant hand, the
child or adult sentence and instructions by age; an unregistered ID is refused
unless ``--new`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError
from ..session import protocols as P
from .record_client import ClientContext, make_target
from .record_dexterity import register_dexterity
from .summary import print_recording_summary

if TYPE_CHECKING:
    from rich.console import Console

    from ..session.recorder import RecordingTarget, RecordResult

_HAND_HELP = "hand (default: the client's dominant hand)"

_KEYS_HELP = (
    "keys during the task: SPACE start trial, x mark trial invalid (one replacement follows), "
    "r repeat trial, n type a note, q stop safely"
)


def default_data_dir() -> Path:
    return Path(os.environ.get("MOTORLAB_DATA", "motorlab-data"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a timed task (grip, grip-sustained, pinch, handwriting, spiral, tremor, pegs, boxblock)",
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
    g.add_argument("--hand", choices=["right", "left", "both"], default=None, help=_HAND_HELP)
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
            lambda c: [
                P.grip_protocol(
                    trials=a.trials,
                    hands=c.hands(a.hand),
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
    s.add_argument("--hand", choices=["right", "left"], default=None, help=_HAND_HELP)
    s.add_argument("--hold", type=float, default=10.0, metavar="S", help="hold seconds (10)")
    s.add_argument("--countdown", type=float, default=3.0, metavar="S")
    s.set_defaults(
        func=lambda a: _record(
            a,
            lambda c: [
                P.grip_sustained_protocol(
                    hold_s=a.hold, hand=c.hand(a.hand), countdown_s=a.countdown, rate_hz=a.rate
                )
            ],
        )
    )

    h = tasks.add_parser(
        "handwriting",
        help="timed copy of a sentence with the IMU pen",
        description="Timed sentence copy with an IMU pen (tip force). " + _KEYS_HELP,
    )
    _common(h, default_url="sim://pen")
    h.add_argument("--hand", choices=["right", "left"], default=None, help=_HAND_HELP)
    h.add_argument("--duration", type=float, default=60.0, metavar="S", help="writing time (60)")
    h.add_argument("--prompt", default=None, help="sentence to copy (default: age-appropriate)")
    h.add_argument(
        "--age-band",
        choices=sorted(P.HANDWRITING_PROMPTS),
        default=None,
        help="sentence set (default: from the client's age; child up to 17)",
    )
    h.add_argument("--countdown", type=float, default=3.0, metavar="S")
    h.set_defaults(
        func=lambda a: _record(
            a,
            lambda c: [
                P.handwriting_protocol(
                    duration_s=a.duration,
                    prompt=a.prompt,
                    age_band=a.age_band or c.age_band,
                    hand=c.hand(a.hand),
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
    sp.add_argument("--hand", choices=["right", "left"], default=None, help=_HAND_HELP)
    sp.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="time limit (30)")
    sp.add_argument("--countdown", type=float, default=3.0, metavar="S")
    sp.set_defaults(
        func=lambda a: _record(
            a,
            lambda c: [
                P.spiral_protocol(
                    time_limit_s=a.time_limit, hand=c.hand(a.hand), countdown_s=a.countdown, rate_hz=a.rate
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
    t.add_argument("--hand", choices=["right", "left"], default=None, help=_HAND_HELP)
    t.add_argument("--condition", choices=["rest", "postural", "both"], default="both")
    t.add_argument("--hold", type=float, default=30.0, metavar="S", help="seconds per hold (30)")
    t.add_argument("--countdown", type=float, default=3.0, metavar="S")
    t.add_argument("--tracksys", default="imupen", help="BIDS tracking-system label (imupen, wristimu…)")
    t.set_defaults(
        func=lambda a: _record(
            a,
            lambda c: [
                P.tremor_protocol(
                    cond,
                    hold_s=a.hold,
                    hand=c.hand(a.hand),
                    countdown_s=a.countdown,
                    tracksys=a.tracksys,
                    rate_hz=a.rate,
                )
                for cond in (("rest", "postural") if a.condition == "both" else (a.condition,))
            ],
        )
    )

    pi = tasks.add_parser(
        "pinch",
        help="maximal tip, key and palmar pinch: 3 trials per hand",
        description="Maximal pinch strength (tip, key/lateral, palmar) on any force device, "
        "seated as for grip; mean of 3 per grip and hand. " + _KEYS_HELP,
    )
    _common(pi, default_url="sim://pinch")
    pi.add_argument("--hand", choices=["right", "left", "both"], default="both")
    pi.add_argument(
        "--grips",
        default="tip,key,palmar",
        metavar="LIST",
        help="pinch grips in order, comma-separated (default tip,key,palmar)",
    )
    pi.add_argument("--trials", type=int, default=3, help="trials per grip and hand (default 3)")
    pi.add_argument("--order", choices=["alternating", "blocked"], default="alternating")
    pi.add_argument("--countdown", type=float, default=3.0, metavar="S", help="countdown seconds (3)")
    pi.add_argument("--squeeze", type=float, default=3.0, metavar="S", help="pinch window seconds (3)")
    pi.add_argument("--rest", type=float, default=15.0, metavar="S", help="rest between trials seconds (15)")
    pi.set_defaults(
        func=lambda a: _record(
            a,
            lambda c: [
                P.pinch_protocol(
                    grips=tuple(g.strip() for g in a.grips.split(",") if g.strip()),
                    trials=a.trials,
                    hands=c.hands(a.hand),
                    order=a.order,
                    countdown_s=a.countdown,
                    squeeze_s=a.squeeze,
                    rest_s=a.rest,
                    rate_hz=a.rate,
                )
            ],
        )
    )
    register_dexterity(tasks, _client_options)


def _common(p: argparse.ArgumentParser, default_url: str) -> None:
    p.add_argument(
        "--device",
        required=True,
        metavar="URL",
        help="device URL, e.g. serial:///dev/ttyUSB0?protocol=motorlab, "
        f"ble://Progressor_1234?protocol=tindeq, or {default_url} (built-in emulator; "
        "`motorlab devices` lists what is connected)",
    )
    _client_options(p)
    p.add_argument("--rate", type=float, default=None, metavar="HZ", help="sampling rate (device default)")
    p.add_argument("--yes", "-y", action="store_true", help="do not wait for SPACE before each trial")
    p.add_argument(
        "--keys",
        default=None,
        metavar="SCRIPT",
        help="scripted keys for unattended runs, KEY@SECONDS items, e.g. 'x@6,r@9,q@20'",
    )
    p.add_argument("--no-live", action="store_true", help="no live view (plain log lines)")
    p.add_argument("--plot", action="store_true", help="also show the live trace in a window (matplotlib)")
    p.add_argument(
        "--bell", action="store_true", help="sound cue (terminal bell) at each countdown and start"
    )


def _client_options(p: argparse.ArgumentParser) -> None:
    """Who, where, when, and the therapist's notes: shared by every record task."""
    p.add_argument(
        "--participant",
        "--client",
        dest="participant",
        required=True,
        metavar="ID",
        help="the client's pseudonymous ID, e.g. P001 (never a name); register it first with "
        "`motorlab client add`, or pass --new",
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="record an ID that is not registered (no age/sex/hand: no norms, adult defaults)",
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
        help="date/time to store as the acquisition time (default: now; never in the future), "
        "e.g. 2026-11-15T10:30",
    )
    p.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a therapist's note kept with the recording (repeatable; key n adds one during the task)",
    )


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
        peaks = [
            tr.result.peak_force_N
            for part in (metrics.grip, metrics.gripsustained)
            if part is not None
            for tr in part.trials
            if tr.status == "valid"
        ]
        if peaks:
            best = max(best or 0.0, max(peaks))
    return best


#: duration options (seconds) and whether 0 is allowed
_DURATIONS = {
    "countdown": True,
    "rest": True,
    "squeeze": False,
    "hold": False,
    "duration": False,
    "time_limit": False,
}


def _check_durations(args: argparse.Namespace) -> None:
    """Durations and the rate are positive finite numbers: one line before the device opens."""
    import math

    for name, zero_ok in _DURATIONS.items():
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
            what = "a number of seconds >= 0" if zero_ok else "a positive number of seconds"
            raise ParameterError(f"--{name.replace('_', '-')} must be {what}, got {value:g}")
    if args.rate is not None and not (math.isfinite(args.rate) and args.rate > 0):
        raise ParameterError(f"--rate must be a positive number of Hz, got {args.rate:g}")


def _record(args: argparse.Namespace, make: Callable[[ClientContext], list[P.TaskProtocol]]) -> int:
    from rich.console import Console

    _check_device(args.device)
    _check_durations(args)
    target, client = make_target(args)
    protocols = [P.for_child(p) if client.child else p for p in make(client)]
    console = Console(width=min(100, Console().width)) if sys.stdout.isatty() else Console(width=100)
    for proto in protocols:
        result = asyncio.run(_record_one(args, proto, target, console))
        if result.interrupted:  # Ctrl-C/SIGTERM: stopped as q does; one line, no summary
            cut = [
                f"trial {e.extra.get('trial')} {e.extra.get('hand')}"
                for e in result.events
                if e.trial_type == "trial" and e.extra.get("status") == "incomplete"
            ]
            print(
                f"motorlab: interrupted; {result.path} kept with {result.n_samples} samples, "
                f"status 'interrupted'{'; incomplete: ' + ', '.join(cut) if cut else ''}",
                file=sys.stderr,
            )
            return 130
        print_recording_summary(result, console)
        if result.quit:
            console.print("[yellow]stopped early by the therapist; the recording is saved[/yellow]")
            return 0
    return 0


def _check_device(url: str) -> None:
    """A bare port (``/dev/ttyUSB0``, ``COM3``) gets the URL form suggested before anything starts."""
    from ..devices.registry import parse_device_url

    parse_device_url(url)


async def _record_one(
    args: argparse.Namespace, proto: P.TaskProtocol, target: RecordingTarget, console: Console
) -> RecordResult:
    """Open the device, record ``proto`` with the views the options ask for, close the device."""
    from contextlib import ExitStack

    from ..analysis.params import HandwritingParams
    from ..devices.registry import open_device
    from ..session.controls import ControlQueue, ScriptedKeys
    from ..session.recorder import Recorder
    from ..ui.keys import TerminalKeys
    from ..ui.terminal import LogLines, TerminalView

    interactive = sys.stdin.isatty() and not args.yes and args.keys is None
    keys = TerminalKeys() if sys.stdin.isatty() and args.keys is None and not args.yes else None
    controls = ScriptedKeys(args.keys) if args.keys else (keys or ControlQueue())
    best = (
        _previous_best(args.out, args.participant, proto.task, target.session)
        if proto.task in ("grip", "gripsustained")
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
            pen = proto.task in ("handwriting", "spiral")
            recorder = Recorder(
                device,
                proto,
                target,
                controls=controls,
                wait_for_start=interactive,
                best_previous=best,
                pen_down_threshold_n=HandwritingParams().pen_down_threshold_n if pen else None,
                notes=args.note,
                event_sources=sources,
            )
            if keys is not None:
                keys.on_note = recorder.add_note
            if args.no_live or not sys.stdout.isatty():
                recorder.subscribe(LogLines().update)
            else:
                view = views.enter_context(TerminalView(console, bell=args.bell))
                recorder.subscribe(view.update)
                if keys is not None:
                    keys.on_typing = view.show_typing
            if plot is not None:
                recorder.subscribe(plot.update)
            return await recorder.run()
