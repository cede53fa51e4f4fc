"""``motorlab import FORMAT FILE... --out BIDS_ROOT``: third-party files into the BIDS motion layout.

Formats: ``uci`` (UCI Parkinson spiral text files), ``svc`` (SVC2004/PaHaW/BDALab
digitiser files), ``inkml`` (W3C InkML), ``csv`` (any CSV/TSV with a column map, or
``--preset kinvent``). Units, scales and column orders are explicit options; their
values and the assumptions behind the defaults are written into each recording's
sidecar, with the timestamp quality flags. See docs/formats.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import MotorlabError, ParameterError, one_line


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``["a=b", "c=d,e=f"]`` -> ``{"a": "b", "c": "d", "e": "f"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ParameterError(f"{what}: expected KEY=VALUE, got {part!r}")
            out[key.strip()] = value.strip()
    return out


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files to import")
    p.add_argument(
        "--out", required=True, type=Path, metavar="BIDS_ROOT", help="dataset folder to write into"
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--participant", metavar="ID", help="pseudonymous participant ID for every file (e.g. P001)"
    )
    who.add_argument(
        "--participant-from-stem",
        action="store_true",
        help="use each file's name (letters and digits only) as its participant ID: only for files "
        "named by pseudonym (e.g. C_0001.txt -> C0001), never for files named after a person",
    )
    p.add_argument("--session", default="01", metavar="LABEL", help="BIDS session label (default 01)")
    p.add_argument("--hand", default="n/a", choices=["right", "left", "both", "n/a"], help="hand used")
    p.add_argument(
        "--extra",
        action="append",
        metavar="KEY=VALUE",
        help="metadata stored with the recording (e.g. group=control); repeatable",
    )
    p.add_argument(
        "--split-segments",
        action="store_true",
        help="write one recording (run) per forward segment where time steps back, "
        "instead of one recording with its segments listed in the sidecar",
    )
    p.add_argument(
        "--keep-mixed-clock",
        action="store_true",
        help="do not remove rows stamped on another clock (the import then fails if they make "
        "the time span implausible)",
    )


def _pen_units(p: argparse.ArgumentParser, scale_default: float | None, scale_help: str) -> None:
    p.add_argument("--scale", type=float, default=scale_default, metavar="CM_PER_UNIT", help=scale_help)
    p.add_argument(
        "--pressure-full-scale",
        type=float,
        default=None,
        metavar="COUNTS",
        help="raw pressure that is full pressure (pressure channel = raw / this)",
    )


def register(sub: Any) -> None:
    from ..storage.importers import PRESETS, UCI_CM_PER_UNIT
    from ..storage.importers.svc import SVC_CM_PER_UNIT, SVC_DEG_PER_UNIT, SVC_PRESSURE_FULL_SCALE

    p = sub.add_parser(
        "import",
        help="import third-party files (UCI spirals, .svc, InkML, CSV/Kinvent) into a BIDS dataset",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    fmts = p.add_subparsers(dest="format", metavar="FORMAT", required=True)

    u = fmts.add_parser(
        "uci",
        help="UCI Parkinson spiral files (X;Y;Z;Pressure;GripAngle;Timestamp;TestID)",
        description="One file per person; each TestID becomes a recording: 0 static spiral (task spiral), "
        "1 dynamic spiral (spiraldynamic), 2 circular hold (circularhold).",
    )
    _common(u)
    _pen_units(
        u,
        UCI_CM_PER_UNIT,
        f"cm per X/Y unit (default {UCI_CM_PER_UNIT}: a Wacom Cintiq 12WX pixel, an assumption "
        "recorded in the sidecar: the dataset does not document its unit)",
    )
    u.set_defaults(func=_run)

    s = fmts.add_parser(
        "svc",
        help=".svc digitiser files (row count, then x y time pen_down azimuth altitude pressure)",
        description="Give the column order explicitly when the file is not in the SVC2004 order "
        "(PaHaW puts Y first: --column-order pahaw).",
    )
    _common(s)
    _pen_units(s, SVC_CM_PER_UNIT, f"cm per position unit (default {SVC_CM_PER_UNIT:g}: Wacom 5080 lpi)")
    s.add_argument(
        "--column-order",
        default="svc2004",
        metavar="ORDER",
        help="svc2004 (= bdalab: x,y,time,pen_down,azimuth,altitude,pressure), pahaw "
        "(y,x,...), or a comma list of x,y,time,pen_down,azimuth,altitude,pressure,skip",
    )
    s.add_argument("--time-unit", default="ms", metavar="UNIT", help="unit of the time column (default ms)")
    s.add_argument(
        "--deg-per-unit",
        type=float,
        default=SVC_DEG_PER_UNIT,
        metavar="DEG",
        help=f"degrees per azimuth/altitude unit (default {SVC_DEG_PER_UNIT}: Wacom 0-3600)",
    )
    s.add_argument("--task", default="handwriting", metavar="LABEL", help="BIDS task label")
    s.add_argument("--rate", type=float, default=None, metavar="HZ", help="nominal rate (default: observed)")
    s.set_defaults(func=_run, pressure_default=SVC_PRESSURE_FULL_SCALE)

    i = fmts.add_parser(
        "inkml",
        help="W3C InkML files",
        description="Channels map to pos_x/pos_y (cm), pressure/tip_force, pen_down, tilt and "
        "azimuth/altitude from their declared units; give --scale/--time-unit when a file declares none.",
    )
    _common(i)
    _pen_units(i, None, "cm per X/Y unit (overrides the file's units; needed when it declares none)")
    i.add_argument("--time-unit", default=None, metavar="UNIT", help="unit of T when the file declares none")
    i.add_argument(
        "--angle-unit", default=None, metavar="UNIT", help="deg or rad when the file declares none"
    )
    i.add_argument("--task", default="handwriting", metavar="LABEL", help="BIDS task label")
    i.add_argument("--rate", type=float, default=None, metavar="HZ", help="nominal rate (needed without T)")
    i.set_defaults(func=_run)

    c = fmts.add_parser(
        "csv",
        help="CSV/TSV tables: a column map, units and a time column, or a preset",
        description="Map file columns to channels (--column 'Fz (N)=force'), give each channel's unit "
        "(--unit force=N) and the time column and unit, or use a preset: " + ", ".join(PRESETS) + ".",
    )
    _common(c)
    c.add_argument("--preset", choices=sorted(PRESETS), default=None, help="a known export format")
    c.add_argument(
        "--column", action="append", metavar="SRC=CHANNEL", help="file column -> channel; repeatable"
    )
    c.add_argument("--unit", action="append", metavar="CHANNEL=UNIT", help="a channel's unit in the file")
    c.add_argument("--time-column", default=None, metavar="NAME", help="the time column")
    c.add_argument("--time-unit", default=None, metavar="UNIT", help="s, ms, us, ns, min, h, *F or iso8601")
    c.add_argument(
        "--rate", type=float, default=None, metavar="HZ", help="nominal rate (needed without time)"
    )
    c.add_argument(
        "--delimiter", default=None, metavar="CHAR", help="',', ';', 'tab' or '|' (default: detected)"
    )
    c.add_argument("--decimal", default=None, choices=[".", ","], help="decimal mark (default: detected)")
    c.add_argument("--no-header", action="store_true", help="no header row: columns are numbered from 1")
    c.add_argument("--section-marker", default=None, metavar="TEXT", help="text opening a trial section")
    c.add_argument(
        "--section-gap", type=float, default=1.0, metavar="S", help="spacing of restarting sections"
    )
    c.add_argument(
        "--task", default=None, metavar="LABEL", help="BIDS task label (default: preset's, or grip)"
    )
    c.add_argument("--tracksys", default=None, metavar="LABEL", help="BIDS tracking-system label")
    c.set_defaults(func=_run)


def _participant(args: argparse.Namespace, path: Path) -> str:
    if args.participant:
        return str(args.participant)
    return re.sub(r"[^A-Za-z0-9]", "", path.stem) or "unnamed"


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from ..storage.importers import SvcUnits

    fmt = args.format
    opts: dict[str, Any] = {}
    if fmt == "uci":
        opts["scale_cm_per_unit"] = args.scale
        if args.pressure_full_scale is not None:
            opts["pressure_full_scale"] = args.pressure_full_scale
    elif fmt == "svc":
        opts["columns"] = args.column_order
        opts["units"] = SvcUnits(
            cm_per_unit=args.scale,
            time_unit=args.time_unit,
            deg_per_unit=args.deg_per_unit,
            pressure_full_scale=args.pressure_full_scale or args.pressure_default,
        )
        opts.update(task=args.task, sampling_rate=args.rate)
    elif fmt == "inkml":
        opts.update(
            scale_cm_per_unit=args.scale,
            time_unit=args.time_unit,
            angle_unit=args.angle_unit,
            pressure_full_scale=args.pressure_full_scale,
            task=args.task,
            sampling_rate=args.rate,
        )
    else:
        delim = {"tab": "\t", "\\t": "\t"}.get(args.delimiter or "", args.delimiter)
        opts.update(
            preset=args.preset,
            columns=_pairs(args.column, "--column") or None,
            units=_pairs(args.unit, "--unit") or None,
            time_column=args.time_column,
            time_unit=args.time_unit,
            sampling_rate=args.rate,
            delimiter=delim,
            decimal=args.decimal,
            header=not args.no_header,
            section_marker=args.section_marker,
            section_gap_s=args.section_gap,
            task=args.task,
            tracksys=args.tracksys,
        )
    return opts


def _run(args: argparse.Namespace) -> int:
    from ..storage.bids import write_recording
    from ..storage.importers import import_file

    extra = _pairs(args.extra, "--extra")
    opts = _options(args)
    failed = 0
    written = 0
    for path in args.files:
        try:
            recs = import_file(
                args.format,
                path,
                participant=_participant(args, path),
                session=args.session,
                hand=args.hand,
                extra=extra,
                drop_mixed_clock=not args.keep_mixed_clock,
                split_segments=args.split_segments,
                **opts,
            )
            for rec in recs:
                out = write_recording(rec, args.out)
                written += 1
                print(f"{path.name} -> {out.relative_to(args.out)} {_summary(rec)}")
        except MotorlabError as exc:
            failed += 1
            print(f"motorlab: {one_line(exc)}", file=sys.stderr)
    if len(args.files) > 1 or failed:
        print(f"imported {written} recording(s) from {len(args.files) - failed} of {len(args.files)} file(s)")
    return 2 if failed else 0


def _summary(rec: Any) -> str:
    flags = Counter(f.code for f in rec.quality_flags)
    text = f"({rec.n_samples} samples, {rec.sampling_rate:.4g} Hz, {rec.duration:.2f} s"
    if flags:
        text += "; flags: " + ", ".join(
            f"{c}" + (f" x{n}" if n > 1 else "") for c, n in sorted(flags.items())
        )
    return text + ")"
