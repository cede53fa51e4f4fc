"""``motorlab recover PATH``: finalise a recording whose process stopped mid-way."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MotorlabError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recover",
        help="finalise an interrupted recording",
        description="Finalise recordings left unfinished by a crash or power loss: "
        "cut a torn last line, complete the sidecar and keep the trial that was running "
        "(as incomplete).",
    )
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="_motion.tsv file(s) or dataset folder(s)"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..session.recovery import recover_recording
    from ..storage.bids import recording_status
    from ..storage.walk import walk_recordings

    found = []
    not_searched = []  # unreadable folders: reported after recovering what can be
    for arg in args.paths:  # folder links followed (as in analyze)
        files, problems = walk_recordings(arg)
        found += files
        not_searched += [pr.message for pr in problems if pr.level == "error" and pr.path.is_dir()]
    n = 0
    unreadable = []
    for path in sorted(set(found)):
        status = recording_status(path)
        if status == "unknown":  # sidecar missing or damaged: cannot tell, never claim it is complete
            unreadable.append(path)
            continue
        if status != "recording":
            continue
        motion, n_samples, restored = recover_recording(path)
        note = f"; the interrupted trial kept as incomplete ({restored} row)" if restored else ""
        print(f"recovered {motion} ({n_samples} samples{note})")
        n += 1
    if not_searched:
        more = f" (and {len(not_searched) - 1} more)" if len(not_searched) > 1 else ""
        raise MotorlabError(not_searched[0] + more)
    if unreadable:
        side = unreadable[0].with_name(unreadable[0].name.replace("_motion.tsv", "_motion.json"))
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        raise MotorlabError(f"{side}: missing or not valid JSON, cannot tell whether it needs recovery{more}")
    if n == 0:
        print("nothing to recover: every recording is complete")
    return 0
