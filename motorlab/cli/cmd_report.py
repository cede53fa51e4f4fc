"""``motorlab report CLIENT [--session N]``: the printable session report (HTML + PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .cmd_client import add_data_option

EPILOG = """\
The report shows: client and session (date, age, device, calibration); each task's
results with norms where they exist; the force curves and pen traces; the change
since the last session and since the first one (a change is called real only when
it is larger than the minimal detectable change); progress charts over all sessions;
and the goals with their GAS score. Every number has a plain-language sentence for
families beside it.

examples:
  motorlab report P007                 latest session
  motorlab report P007 --session 2     an earlier session
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="make the printable report of a client's session (HTML + PDF)",
        description="Make a client's session report: one HTML file (opens in any browser, "
        "figures included) and a PDF with the same content.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("client", metavar="CLIENT", help="client code, e.g. P007")
    p.add_argument("--session", metavar="N", default=None, help="session number (default: the latest)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the report files (default: the client's folder under derivatives/motorlab)",
    )
    add_data_option(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..clinic.dataset import resolve_data_root
    from ..report.build import build_report

    console = Console()
    root = resolve_data_root(args.data)
    with console.status(f"analysing the sessions of {args.client} and drawing the figures…"):
        files = build_report(root, args.client, args.session, args.out)
    data = files.data
    date = data.session.date.isoformat() if data.session.date else "date unknown"
    console.print(
        f"[bold]Report for {data.client.participant}[/bold], session {data.session.label} ({date}), "
        f"{len(data.sessions)} session(s) in total"
    )
    for ln in data.lines:
        hand = f" ({ln.hand})" if ln.hand != "n/a" else ""
        if ln.no_tremor:
            console.print(f"  {ln.metric.label}{hand}: no tremor detected")
            continue
        if ln.change_baseline is None or ln.baseline is None or ln.value is None:
            continue
        verdict = {
            "improved": "real improvement",
            "declined": "real decline",
            "no meaningful change": "no meaningful change",
            "changed": "noise band not known",
        }.get(ln.verdict(ln.change_baseline), "")
        console.print(
            f"  {ln.metric.label}{hand}: {ln.baseline:.{ln.metric.decimals}f} → "
            f"{ln.value:.{ln.metric.decimals}f} {ln.metric.unit} since the first session, {verdict}"
        )
    if data.goals_at_baseline:
        console.print("  goals: baseline (set at this session); scored from the next session")
    elif data.gas_tscore is not None:
        console.print(
            f"  GAS T-score {data.gas_tscore:.1f} over "
            f"{sum(g.status == 'scored' and g.level is not None for g in data.goals)} goal(s)"
        )
    problems = [r.error for r in data.current.results if r.error]
    for p in problems:
        console.print(f"  [yellow]not analysed:[/yellow] {p}")
    console.print(f"HTML: {files.html.resolve()}")
    console.print(f"PDF:  {files.pdf.resolve()}")
    if files.parent_pdf is not None and files.parent_html is not None:
        console.print(f"parent page: {files.parent_pdf.resolve()} (and .html)")
    return 0
