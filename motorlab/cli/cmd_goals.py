"""``motorlab goals set|list|remove CLIENT``: therapy goals scored by Goal Attainment Scaling."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

from .cmd_client import add_data_option

SET_EPILOG = """\
Without options the command asks its questions one by one.

Each goal has five levels (Goal Attainment Scaling):
  -2 much less than expected   -1 somewhat less   0 expected outcome
  +1 somewhat more            +2 much more than expected
For every level you write what it means and the measured value that reaches it.

scripted example:
  motorlab goals set P007 --metric grip_strength_kgf --hand right \\
      --title "Open a jar with the right hand" --baseline 18 \\
      --thresholds 18,20,22,24,26 --weight 1 --target-date 2026-06-30
or with a file:  motorlab goals set P007 --from-json goals.json
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "goals",
        help="set and list a client's therapy goals (GAS)",
        description="Therapy goals tied to a measurement, scored in the report by "
        "Goal Attainment Scaling (GAS T-score).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    s = actions.add_parser(
        "set",
        help="write a new goal (asks step by step) or change one",
        description="Write a goal for a client. Asks step by step unless options are given.",
        epilog=SET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("client", metavar="CLIENT", help="client code, e.g. P007")
    s.add_argument("--metric", metavar="KEY", help="what is measured (see 'motorlab goals metrics')")
    s.add_argument("--hand", choices=["right", "left"], help="hand, for hand-specific metrics")
    s.add_argument("--title", metavar="TEXT", help="the goal in your words")
    s.add_argument("--baseline", metavar="VALUE", help="value at the start (default: latest measured)")
    s.add_argument(
        "--thresholds",
        metavar="T-2,T-1,T0,T+1,T+2",
        help="measured value that reaches each level, from -2 to +2, comma separated",
    )
    s.add_argument(
        "--levels",
        metavar="D-2|D-1|D0|D+1|D+2",
        help="what each level means, '|' separated (default: the standard GAS wording)",
    )
    s.add_argument("--weight", default="1", metavar="W", help="importance weight (default 1)")
    s.add_argument(
        "--target-date", metavar="YYYY-MM-DD", help="date to reach the goal (default: in 12 weeks)"
    )
    s.add_argument("--id", dest="goal_id", metavar="GOAL", help="change the goal with this ID (e.g. G2)")
    s.add_argument("--from-json", type=Path, metavar="FILE", help="read goal(s) from a JSON file")
    add_data_option(s)
    s.set_defaults(func=_set)

    ls = actions.add_parser("list", help="show a client's goals", description="Show a client's goals.")
    ls.add_argument("client", metavar="CLIENT", help="client code, e.g. P007")
    add_data_option(ls)
    ls.set_defaults(func=_list)

    rm = actions.add_parser("remove", help="delete one goal", description="Delete one of a client's goals.")
    rm.add_argument("client", metavar="CLIENT")
    rm.add_argument("goal_id", metavar="GOAL", help="goal ID as shown by 'goals list', e.g. G2")
    add_data_option(rm)
    rm.set_defaults(func=_remove)

    m = actions.add_parser(
        "metrics",
        help="list the measurements a goal can use",
        description="List the measurements a goal can be tied to.",
    )
    m.set_defaults(func=_metrics)


# ---------------------------------------------------------------------- commands
def _context(args: argparse.Namespace):
    from ..clinic.clients import ClientRegistry
    from ..clinic.dataset import resolve_data_root
    from ..clinic.goals import GoalStore

    root = resolve_data_root(args.data)
    client = ClientRegistry(root).get(args.client)
    return root, client, GoalStore(root, client.participant)


def _set(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..clinic.goals import make_goal
    from ..errors import MotorlabError

    console = Console()
    root, client, store = _context(args)
    if args.from_json:
        goals = [_checked(console, root, client, g) for g in _goals_from_json(args.from_json, store)]
        for g in goals:
            store.put(g)
        console.print(f"saved {len(goals)} goal(s) for {client.participant} in {store.path}")
        return 0
    if args.metric:
        missing = [o for o, v in (("--title", args.title), ("--thresholds", args.thresholds)) if not v]
        if missing:
            raise MotorlabError(
                f"with --metric also give {' and '.join(missing)} (see 'motorlab goals set --help')"
            )
        thresholds = [t for t in args.thresholds.split(",") if t.strip()]
        descriptions = args.levels.split("|") if args.levels else [""] * 5
        if len(thresholds) != 5 or len(descriptions) != 5:
            raise MotorlabError("give 5 thresholds and 5 level descriptions, from -2 to +2")
        baseline = (
            args.baseline
            if args.baseline is not None
            else _latest_value(root, client, args.metric, args.hand)
        )
        if baseline is None:
            raise MotorlabError(f"no measured {args.metric} yet for {client.participant}: give --baseline")
        goal = make_goal(
            args.goal_id or store.next_id(),
            args.title,
            args.metric,
            args.hand or "n/a",
            baseline,
            list(zip(descriptions, thresholds)),
            args.weight,
            args.target_date or _default_target(),
        )
        goal = _checked(console, root, client, goal)
    else:
        goal = _ask_goal(console, root, client, store, args.goal_id)
        if goal is None:
            console.print("nothing saved")
            return 1
    store.put(goal)
    console.print(f"saved goal [bold]{goal.goal_id}[/bold] for {client.participant} in {store.path}")
    return 0


def _checked(console, root: Path, client, goal):
    """The goal tied to the client's latest session as its baseline; prints its warnings."""
    import dataclasses

    from ..clinic.goals import goal_warnings
    from ..clinic.history import client_sessions

    if not goal.baseline_session:
        sessions = client_sessions(root, client.participant)
        if sessions:
            goal = dataclasses.replace(goal, baseline_session=sessions[-1].label)
    for text in goal_warnings(goal):
        console.print(f"[yellow]warning:[/yellow] {goal.goal_id}: {text}", highlight=False)
    if goal.baseline_session:
        console.print(
            f"{goal.goal_id} is scored from the first session after session {goal.baseline_session} "
            "(its baseline)",
            highlight=False,
        )
    return goal


def _goals_from_json(path: Path, store) -> list:
    from ..clinic.goals import goal_from_dict
    from ..errors import MotorlabError

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MotorlabError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotorlabError(f"{path}: not valid JSON ({exc})") from None
    items = doc.get("goals", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
        raise MotorlabError(f'{path}: expected a goal object, a list of them or {{"goals": [...]}}')
    out = []
    next_num = int(store.next_id()[1:])
    for i, d in enumerate(items):
        d = dict(d)
        if not d.get("goal_id"):
            d["goal_id"] = f"G{next_num}"
            next_num += 1
        d.setdefault("target_date", _default_target())
        try:
            out.append(goal_from_dict(d))
        except MotorlabError as exc:
            raise MotorlabError(f"{path}: goal {i + 1}: {exc}") from None
    return out


def _default_target() -> str:
    return (_dt.date.today() + _dt.timedelta(weeks=12)).isoformat()


def _latest_value(root: Path, client, metric_key: str, hand: str | None) -> float | None:
    """The metric in the client's latest session that measured it (None if never)."""
    from ..clinic.history import client_sessions
    from ..clinic.measurements import analyze_beh_file, analyze_file
    from ..clinic.metric_catalog import goal_metric

    metric = goal_metric(metric_key)
    hand = (hand or client.dominant_hand) if metric.per_hand else "n/a"
    for session in reversed(client_sessions(root, client.participant)):
        for beh in reversed([b for b in session.beh if b.task == metric.task]):
            dex = analyze_beh_file(beh).metrics
            if dex is not None and metric.read_beh is not None:
                value, _ = metric.read_beh(dex, hand)
                if value is not None:
                    return value
        for info in reversed(session.recordings_of(metric.task)):
            res = analyze_file(info)
            if res.metrics is None:
                continue
            value, _ = metric.read(res.metrics, hand)
            if value is not None:
                return value
    return None


# -------------------------------------------------------------- interactive entry
def _ask(console, prompt: str, default: str | None = None) -> str:
    from ..errors import MotorlabError

    shown = f"{prompt} [{default}]: " if default not in (None, "") else f"{prompt}: "
    console.print(shown, end="", markup=False, highlight=False)
    line = sys.stdin.readline()
    if not line:
        raise MotorlabError("input ended before the goal was complete; nothing saved")
    text = line.strip()
    return text if text else (default or "")


def _ask_until(console, prompt: str, check, default: str | None = None) -> Any:
    from ..errors import MotorlabError

    for _ in range(5):
        text = _ask(console, prompt, default)
        try:
            return check(text)
        except MotorlabError as exc:
            console.print(f"  [red]{exc}[/red] - please try again")
    raise MotorlabError(f"no valid answer to '{prompt}'; nothing saved")


def _ask_goal(console, root: Path, client, store, goal_id: str | None):
    from ..clinic.goals import LEVEL_NAMES, LEVELS, make_goal
    from ..clinic.metric_catalog import GOAL_METRICS, goal_metric
    from ..errors import MotorlabError

    keys = list(GOAL_METRICS)
    console.print(
        f"[bold]New goal for {client.participant}[/bold] (press Enter to accept the value in brackets)"
    )
    console.print("What will be measured?")
    for i, key in enumerate(keys, 1):
        m = GOAL_METRICS[key]
        console.print(f"  {i}. {m.label} ({m.unit}) - {m.plain}  [dim]{key}[/dim]", highlight=False)

    def pick_metric(text: str):
        if text.isdigit() and 1 <= int(text) <= len(keys):
            return GOAL_METRICS[keys[int(text) - 1]]
        return goal_metric(text)

    metric = _ask_until(console, "Number of the measurement", pick_metric)
    hand = "n/a"
    if metric.per_hand:

        def pick_hand(text: str) -> str:
            t = text.lower()
            if t in ("right", "left", "r", "l"):
                return {"r": "right", "l": "left"}.get(t, t)
            raise MotorlabError("answer right or left")

        hand = _ask_until(console, "Which hand (right/left)", pick_hand, client.dominant_hand)
    title = _ask_until(console, "The goal in your words (e.g. 'open a jar')", _non_empty)
    latest = _latest_value(root, client, metric.key, hand)
    fmt = f"{{:.{metric.decimals}f}}"
    if latest is not None:
        console.print(f"  latest measured {metric.label.lower()}: {fmt.format(latest)} {metric.unit}")
    baseline = _ask_until(
        console, f"Baseline ({metric.unit})", _number, fmt.format(latest) if latest is not None else None
    )
    direction = "higher" if metric.higher_is_better else "lower"
    console.print(f"Now the five levels. For {metric.label.lower()} {direction} values are better.")
    levels = []
    for k in LEVELS:
        desc = _ask(console, f"  Level {k:+d} ({LEVEL_NAMES[k]}): what it means", LEVEL_NAMES[k])
        default = fmt.format(baseline) if k == -2 else None
        thr = _ask_until(console, f"  Level {k:+d}: value reached ({metric.unit})", _number, default)
        levels.append((desc, thr))
    weight = _ask_until(console, "Weight (importance, 1 = normal)", _number, "1")
    target = _ask_until(console, "Target date (YYYY-MM-DD)", _date, _default_target())
    goal = make_goal(goal_id or store.next_id(), title, metric.key, hand, baseline, levels, weight, target)
    _print_goals(console, [goal])
    goal = _checked(console, root, client, goal)
    answer = _ask(console, "Save this goal? (y/n)", "y").lower()
    return goal if answer.startswith("y") else None


def _non_empty(text: str) -> str:
    from ..errors import MotorlabError

    if not text.strip():
        raise MotorlabError("please write a few words")
    return text.strip()


def _number(text: str) -> float:
    from ..errors import MotorlabError

    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise MotorlabError(f"{text!r} is not a number") from None


def _date(text: str) -> str:
    from ..errors import MotorlabError

    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise MotorlabError(f"{text!r} is not a date like 2026-06-30") from None


# -------------------------------------------------------------------- list/remove
def _print_goals(console, goals) -> None:
    from rich.table import Table

    from ..clinic.metric_catalog import goal_metric

    for g in goals:
        m = goal_metric(g.metric)
        hand = f", {g.hand} hand" if g.hand != "n/a" else ""
        fmt = f"{{:.{m.decimals}f}}"
        table = Table(
            title=f"{g.goal_id}: {g.title}",
            title_justify="left",
            caption=f"{m.label}{hand}; baseline {fmt.format(g.baseline)} {m.unit}; weight {g.weight:g}; "
            f"target {g.target_date or 'none'}",
            caption_justify="left",
        )
        table.add_column("level")
        table.add_column("meaning")
        table.add_column(f"reached at ({m.unit})", justify="right")
        for lv in g.levels:
            table.add_row(f"{lv.level:+d}", lv.description, fmt.format(lv.threshold))
        console.print(table)


def _list(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console()
    _, client, store = _context(args)
    goals = store.load()
    if not goals:
        console.print(
            f"no goals for {client.participant} yet; write one with 'motorlab goals set {client.participant}'"
        )
        return 0
    _print_goals(console, goals)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from rich.console import Console

    _, client, store = _context(args)
    store.remove(args.goal_id)
    Console().print(f"removed goal {args.goal_id} of {client.participant}")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..clinic.metric_catalog import GOAL_METRICS

    table = Table(title="Measurements a goal can use")
    for col in ("key", "measurement", "unit", "task", "better", "meaning"):
        table.add_column(col)
    for m in GOAL_METRICS.values():
        table.add_row(m.key, m.label, m.unit, m.task, "higher" if m.higher_is_better else "lower", m.plain)
    Console().print(table)
    return 0
