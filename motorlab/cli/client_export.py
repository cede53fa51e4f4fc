"""``motorlab client export ID --out FILE.csv|FILE.xlsx``: a client's measures for the file or a school."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(actions: argparse._SubParsersAction, add_data_option) -> None:
    e = actions.add_parser(
        "export",
        help="every session's headline measures as one CSV or .xlsx table",
        description="Write one tidy table of every session's headline measures (session, date, task, "
        "hand, measure, value, unit) for the client's file or a school. .xlsx needs openpyxl "
        "(pip install 'motorlab[xlsx]').",
        epilog="example:  motorlab client export P007 --out P007_measures.csv",
    )
    e.add_argument("client", metavar="ID", help="client code, e.g. P007")
    e.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.csv or FILE.xlsx")
    add_data_option(e)
    e.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..clinic.dataset import resolve_data_root
    from ..clinic.export import export_client

    console = Console()
    root = resolve_data_root(args.data)
    with console.status(f"analysing the sessions of {args.client}…"):
        path, n = export_client(root, args.client, args.out)
    console.print(f"wrote {n} measure(s) of {args.client} to {path}", highlight=False)
    return 0
