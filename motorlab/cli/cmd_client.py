"""``motorlab client add|list|show|export``: the clinic's clients (pseudonyms only)."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

EPILOG_ADD = (
    "example:  motorlab client add P007 --birth-year 1958 --sex F --dominant right\n"
    "Use a code, never a name. Age is worked out per session as session year minus birth year."
)


def add_data_option(p: argparse.ArgumentParser) -> None:
    """``--data DIR``: the clinic's dataset folder (shared by client, goals and report)."""
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="clinic data folder (default: $MOTORLAB_DATA, else ./motorlab-data)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "client",
        help="add, list or show clients (pseudonymous IDs)",
        description="Manage the clinic's clients. Clients are known by a pseudonymous code "
        "(e.g. P007), birth year, sex and dominant hand; these choose the "
        "normative tables in reports.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser(
        "add",
        help="register a new client",
        description="Register a new client in the clinic's data folder.",
        epilog=EPILOG_ADD,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("client", metavar="ID", help="pseudonymous code with digits, e.g. P007 (no names)")
    a.add_argument("--birth-year", required=True, metavar="YYYY", help="year of birth, e.g. 1958")
    a.add_argument("--sex", required=True, type=str.upper, choices=["F", "M"], help="F or M (for norms)")
    a.add_argument(
        "--dominant",
        required=True,
        type=str.lower,
        choices=["right", "left"],
        help="dominant hand: right or left",
    )
    a.add_argument("--update", action="store_true", help="change the details of an existing client")
    add_data_option(a)
    a.set_defaults(func=_add)

    ls = actions.add_parser("list", help="list all clients", description="List the clinic's clients.")
    add_data_option(ls)
    ls.set_defaults(func=_list)

    sh = actions.add_parser(
        "show",
        help="one client's details and sessions",
        description="Show a client's details and every recorded session with its tasks.",
    )
    sh.add_argument("client", metavar="ID", help="client code, e.g. P007")
    add_data_option(sh)
    sh.set_defaults(func=_show)

    from .client_export import add_parser as add_export_parser

    add_export_parser(actions, add_data_option)


def _add(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..clinic.clients import ClientRegistry, make_client
    from ..clinic.dataset import resolve_data_root
    from ..clinic.pseudonyms import check_new_pseudonym

    root = resolve_data_root(args.data)
    if not args.update:
        check_new_pseudonym(args.client, root)
    client = make_client(args.client, args.birth_year, args.sex, args.dominant)
    ClientRegistry(root).add(client, replace=args.update)
    Console().print(
        f"{'updated' if args.update else 'added'} client [bold]{client.participant}[/bold] "
        f"(born {client.birth_year}, {client.sex}, {client.dominant_hand}-handed) in {root.resolve()}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..clinic.clients import ClientRegistry
    from ..clinic.dataset import resolve_data_root
    from ..clinic.history import client_sessions

    root = resolve_data_root(args.data)
    console = Console()
    clients = ClientRegistry(root).list()
    if not clients:
        console.print(
            f"no clients yet in {root.resolve()}; add one with "
            "'motorlab client add P001 --birth-year 1958 --sex F --dominant right'"
        )
        return 0
    year = _dt.date.today().year
    table = Table(title=f"Clients in {root}")
    for col in ("client", "birth year", f"age ({year})", "sex", "dominant hand", "sessions", "last session"):
        table.add_column(col)
    for c in clients:
        sessions = client_sessions(root, c.participant)
        last = sessions[-1] if sessions else None
        last_text = (
            f"{last.label} ({last.date.isoformat() if last.date else 'date unknown'})" if last else "-"
        )
        table.add_row(
            c.participant,
            str(c.birth_year),
            str(c.age_in(year)),
            c.sex,
            c.dominant_hand,
            str(len(sessions)),
            last_text,
        )
    console.print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..clinic.clients import ClientRegistry
    from ..clinic.dataset import resolve_data_root
    from ..clinic.goals import GoalStore
    from ..clinic.history import client_sessions

    root = resolve_data_root(args.data)
    console = Console()
    client = ClientRegistry(root).get(args.client)
    console.print(
        f"[bold]Client {client.participant}[/bold]: born {client.birth_year}, sex {client.sex}, "
        f"{client.dominant_hand}-handed"
    )
    sessions = client_sessions(root, client.participant)
    if not sessions:
        console.print(
            "no sessions recorded yet; record one with "
            f"'motorlab record grip --participant {client.participant} --device …'"
        )
    else:
        table = Table(title="Sessions")
        for col in ("session", "date", "age", "tasks", "devices", "calibration"):
            table.add_column(col)
        for s in sessions:
            age = str(client.age_in(s.date.year)) if s.date else "?"
            devices = sorted({f"{r.device_model} {r.device_serial}".strip() for r in s.recordings})
            cals = sorted({r.calibration_id for r in s.recordings} - {"n/a", ""}) or ["none"]
            table.add_row(
                s.label,
                s.date.isoformat() if s.date else "unknown",
                age,
                ", ".join(s.tasks),
                "; ".join(devices),
                ", ".join(cals),
            )
        console.print(table)
    goals = GoalStore(root, client.participant).load()
    console.print(f"{len(goals)} goal(s); see 'motorlab goals list {client.participant}'")
    return 0
