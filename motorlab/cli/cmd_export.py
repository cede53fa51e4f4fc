"""``motorlab export FORMAT RECORDING... --out DIR``: recordings as ``.svc`` or InkML files.

``svc`` writes integers in raw digitiser units in an explicit column order (the
scales are options; defaults are Wacom's, as in ``motorlab import svc``); ``inkml``
writes channels with units, a time channel in seconds and one trace per pen-down /
pen-up run. Re-importing an export gives the same samples (svc: to its raw units).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import MotorlabError, one_line


def register(sub: Any) -> None:
    from ..storage.importers.svc import SVC_CM_PER_UNIT, SVC_DEG_PER_UNIT, SVC_PRESSURE_FULL_SCALE

    p = sub.add_parser(
        "export",
        help="export recordings as .svc or InkML",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("format", choices=["svc", "inkml"], help="file format")
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="RECORDING", help="_motion.tsv files, folders or dataset roots"
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder for the files (named like the recordings)",
    )
    g = p.add_argument_group("svc")
    g.add_argument(
        "--column-order",
        default="svc2004",
        metavar="ORDER",
        help="svc2004/bdalab (x,y,time,pen_down,azimuth,altitude,pressure), pahaw (y first) or a comma list",
    )
    g.add_argument(
        "--scale", type=float, default=SVC_CM_PER_UNIT, metavar="CM_PER_UNIT", help="cm per position unit"
    )
    g.add_argument("--time-unit", default="ms", metavar="UNIT", help="unit of the time column (default ms)")
    g.add_argument("--deg-per-unit", type=float, default=SVC_DEG_PER_UNIT, metavar="DEG", help="angle unit")
    g.add_argument(
        "--pressure-full-scale",
        type=float,
        default=SVC_PRESSURE_FULL_SCALE,
        metavar="COUNTS",
        help="raw value written for full pressure",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..storage.bids import find_recordings, read_recording
    from ..storage.importers import SUFFIXES, SvcUnits, write_inkml, write_svc

    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotorlabError(f"{args.out}: cannot create the folder ({exc.strerror or exc})") from None
    failed = 0
    for motion in find_recordings(*args.paths):
        target = args.out / (motion.name.removesuffix("_motion.tsv") + SUFFIXES[args.format])
        try:
            rec = read_recording(motion)
            if args.format == "svc":
                units = SvcUnits(args.scale, args.time_unit, args.deg_per_unit, args.pressure_full_scale)
                res = write_svc(rec, target, columns=args.column_order, units=units)
            else:
                res = write_inkml(rec, target)
        except MotorlabError as exc:
            failed += 1
            print(f"motorlab: {one_line(exc)}", file=sys.stderr)
            continue
        notes = []
        if res.dropped:
            notes.append(f"{res.dropped} samples without position left out")
        if res.filled:
            notes.append(
                "no channel for " + ", ".join(f"{k} (written as {v:g})" for k, v in res.filled.items())
            )
        if res.nan_as_zero:
            notes.append(
                "missing values written as 0: " + ", ".join(f"{k} x{n}" for k, n in res.nan_as_zero.items())
            )
        print(
            f"{motion.name} -> {target} ({res.n_samples} samples{'; ' + '; '.join(notes) if notes else ''})"
        )
    return 2 if failed else 0
