"""``motorlab analyze PATH...``: task metrics of one recording (table) or of many (tidy CSV).

The per-recording logic lives in :func:`motorlab.analysis.analyze_recording`; its typed
result is printed through ``to_rows()``. With one recording file and no batch option the
rows are printed as a table.
With folders/datasets, several paths or any of ``--out/--jobs/--scheduler/--dask``
the batch runner (:mod:`motorlab.analysis.batch`) analyses every recording on all
cores or on a Dask cluster and writes ``results.csv`` + ``results_errors.csv`` +
``results_provenance.json``; exit status 1 when some recordings failed.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MotorlabError, MotorlabWarning, ParameterError

if TYPE_CHECKING:
    from ..analysis.params import AnalysisParams


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="print the metrics of a recording, or tabulate a whole dataset",
        description="Compute the task metrics (grip, tremor, handwriting, spiral) of one recording, "
        "or of every recording under BIDS datasets/folders into one tidy CSV table (one row per "
        "recording x trial) with an errors table and a JSON provenance file.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="BIDS motion recordings (_motion.tsv/_motion.json), folders or dataset roots",
    )
    b = p.add_argument_group("batch (many recordings)")
    b.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="CSV",
        help="table to write (default results.csv); errors and provenance go beside it",
    )
    b.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: all cores); with --dask the local cluster's workers",
    )
    b.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on an existing dask.distributed scheduler",
    )
    b.add_argument(
        "--dask",
        action="store_true",
        help="run on Dask (a private LocalCluster on 127.0.0.1 unless --scheduler)",
    )
    b.add_argument(
        "--dashboard",
        default=None,
        metavar="HOST:PORT",
        help="with --dask: serve the private cluster's dashboard there, e.g. 127.0.0.1:8787 (default: none)",
    )
    b.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="cache of per-recording results (default: .motorlab-cache beside --out)",
    )
    b.add_argument("--no-cache", action="store_true", help="recompute everything")
    b.add_argument(
        "--analyzer",
        default=None,
        metavar="MODULE:FUNCTION",
        help="your own analysis, called as FUNCTION(recording, params) in every worker "
        "(default: motorlab's task metrics)",
    )
    b.add_argument(
        "--by-trial",
        action="store_true",
        help="analyse each trial window alone, streaming the file (flat memory for long recordings)",
    )
    b.add_argument(
        "--provenance-columns",
        action="store_true",
        help="add from_cache and code_fingerprint columns to every row (always in the provenance file)",
    )
    b.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.add_argument(
        "--params",
        type=Path,
        default=None,
        help='JSON file with analysis parameters, e.g. {"tremor": {"band_hz": [4, 8]}}',
    )
    p.add_argument(
        "--norms",
        type=Path,
        default=None,
        metavar="CSV",
        help="grip norms table to use before the built-in adult table (e.g. a pediatric table; "
        "CSV age_lo,age_hi,sex,hand,mean_kg,sd_kg with a '# source:' line)",
    )
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.set_defaults(func=handle)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    return str(value)


def _batch_requested(args: argparse.Namespace) -> bool:
    return (
        len(args.paths) > 1
        or args.paths[0].is_dir()
        or args.out is not None
        or args.jobs is not None
        or args.scheduler is not None
        or args.dask
        or args.dashboard is not None
        or args.analyzer is not None
        or args.provenance_columns
        or args.by_trial
    )


def _handle_batch(args: argparse.Namespace, params: AnalysisParams) -> int:
    import sys

    from ..analysis.batch import analyze_batch

    if args.jobs is not None and args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    if args.dashboard is not None and not args.dask:
        raise ParameterError("--dashboard needs --dask (it is the private Dask cluster's dashboard)")
    out = args.out or Path("results.csv")
    cache = None if args.no_cache else (args.cache_dir or out.parent / ".motorlab-cache")
    res = analyze_batch(
        args.paths,
        params,
        jobs=args.jobs,
        scheduler=args.scheduler,
        dask=args.dask,
        cache_dir=cache,
        progress=False if args.quiet else None,
        by_trial=args.by_trial,
        dashboard=args.dashboard,
        provenance_columns=args.provenance_columns,
        **({"analyzer": args.analyzer} if args.analyzer else {}),
    )
    table, errors_csv, prov = res.write(out)
    errors = [e for e in res.errors if e["level"] == "error"]
    if not args.quiet:
        c = res.provenance["counts"]
        print(
            f"motorlab: {c['recordings']} recordings ({c['cached']} from cache), {c['rows']} rows -> {table}; "
            f"{c['errors']} errors, {c['warnings']} notes -> {errors_csv.name}; provenance -> {prov.name}",
            file=sys.stderr,
        )
        for e in errors:  # messages usually name the file already
            where = (
                "" if Path(e["recording"]).name.split("_motion")[0] in e["message"] else f"{e['recording']}: "
            )
            print(f"motorlab: error: {where}{e['message']}", file=sys.stderr)
    return 1 if errors else 0


def handle(args: argparse.Namespace) -> int:
    from ..analysis.params import AnalysisParams
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    params = None
    if args.params is not None:
        try:
            params = json.loads(Path(args.params).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MotorlabError(f"{args.params}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except UnicodeDecodeError:
            raise MotorlabError(f"{args.params}: not a UTF-8 text file (expected JSON)") from None
    if args.norms is not None:
        params = {} if params is None else params
        if not isinstance(params, dict) or not isinstance(params.get("grip", {}), dict):
            raise MotorlabError(f"{args.params}: analysis parameters must be a JSON object of sections")
        params.setdefault("grip", {})["norms_table"] = str(args.norms)
    try:  # a bad parameter is one line naming it (and its file), before any work
        checked = AnalysisParams.from_mapping(params)
    except ParameterError as exc:
        raise ParameterError(f"{args.params}: {exc}" if args.params is not None else str(exc)) from None
    if len(args.paths) == 1 and not args.paths[0].exists() and not args.paths[0].is_symlink():
        raise MotorlabError(f"{args.paths[0]}: no such file or folder")
    if _batch_requested(args):
        return _handle_batch(args, checked)
    args.recording = args.paths[0]
    rec = read_recording(args.recording)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MotorlabWarning)
        rows = analyze_recording(rec, checked).to_rows()
    if args.json:
        print(json.dumps(rows, indent=1, default=str, allow_nan=True))
    else:
        _print_table(rec, rows)
    import sys

    for w in caught:
        if issubclass(w.category, MotorlabWarning):
            print(f"motorlab: note: {w.message}", file=sys.stderr)
    return 0


def _print_table(rec: Any, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    md = rec.metadata
    ident = {"participant", "session", "task", "tracksys"}
    console = Console()
    title = f"sub-{md.participant} ses-{md.session} task-{md.task} ({rec.duration:.1f} s)"
    if len(rows) == 1:
        table = Table(title=title)
        table.add_column("metric", no_wrap=True)
        table.add_column("value", justify="right")
        for key, value in rows[0].items():
            if key not in ident:
                table.add_row(key, _fmt(value))
        console.print(table)
        return
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in ident and k not in keys)
    table = Table(title=title)
    table.add_column("metric", no_wrap=True)
    for row in rows:
        if row.get("row") == "summary":
            label = f"summary {row.get('hand', '')}"
        else:
            label = f"trial {row.get('trial', '')} {row.get('hand', '')}"
        table.add_column(label.strip(), justify="right")
    for k in keys:
        if k in ("row", "trial", "hand"):
            continue
        table.add_row(k, *(_fmt(row.get(k, "")) for row in rows))
    console.print(table)
