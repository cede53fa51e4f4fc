"""Finalise a recording whose process died, with the trial that was running.

:func:`motorlab.storage.bids.recover` cuts torn lines and completes the sidecar. A trial's
``trial`` row is written when the trial ends, so a process killed mid-trial (SIGKILL,
power loss) leaves only the trial's start cue (a ``cue`` event carrying ``trial`` and
``hand``, written by :class:`~motorlab.session.steps.StepRunner` as the trial starts).
:func:`recover_recording` restores that trial as ``incomplete`` (reason ``recording
interrupted``), lasting until the last sample on disk, so the analysis and the report see
it for what it is. The ``MotorlabEmulated`` flag is in the sidecar from the start and
survives as it is.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ..atomic import atomic_write_text
from ..storage.bids import read_recording, recover

#: a trial row belongs to a start cue when their onsets differ by less than this (s)
_MATCH_S = 0.25
INTERRUPTED_REASON = "recording interrupted"


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "n/a") else math.nan
    except ValueError:
        return math.nan


def missing_trial_rows(rows: list[dict[str, str]], last_t: float) -> list[dict[str, str]]:
    """``trial`` rows for start cues that have none (the trial running when the process died)."""
    trials = [r for r in rows if r.get("trial_type") == "trial"]
    out = []
    for cue in rows:
        if cue.get("trial_type") != "cue" or cue.get("trial") in (None, "", "n/a"):
            continue
        onset = _num(cue.get("onset"))
        if not math.isfinite(onset) or any(
            r.get("trial") == cue.get("trial")
            and r.get("hand") == cue.get("hand")
            and abs(_num(r.get("onset")) - onset) < _MATCH_S
            for r in trials
        ):
            continue
        if any(  # an end cue of the same trial after it: the trial ended (its row was lost elsewhere)
            c is not cue and c.get("trial") == cue.get("trial") and _num(c.get("onset")) > onset
            for c in rows
            if c.get("trial_type") == "cue"
        ):
            continue
        row = dict.fromkeys(rows[0] if rows else (), "n/a")
        row.update(
            onset=cue["onset"],
            duration=repr(max(0.0, last_t - onset)) if math.isfinite(last_t) else "n/a",
            trial_type="trial",
            trial=cue["trial"],
            hand=cue.get("hand") or "n/a",
            status="incomplete",
        )
        if "info" in row:
            row["info"] = json.dumps({"reason": INTERRUPTED_REASON})
        out.append(row)
    return out


def recover_recording(path: str | Path) -> tuple[Path, int, int]:
    """Finalise an interrupted recording: ``(motion path, samples kept, trial rows restored)``."""
    motion, n_samples = recover(path)
    events = motion.with_name(motion.name.replace("_motion.tsv", "_events.tsv"))
    if not events.exists():
        return motion, n_samples, 0
    with open(events, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    if not {"onset", "trial_type", "trial", "hand", "status"} <= set(columns):
        return motion, n_samples, 0
    rec = read_recording(motion)
    last_t = float(rec.timestamps[-1]) if rec.n_samples else math.nan
    added = missing_trial_rows(rows, last_t)
    if added:

        def by_onset(r: dict[str, str]) -> tuple[bool, float]:
            t = _num(r.get("onset"))
            return (math.isnan(t), t)

        lines = ["\t".join(columns)]  # the writer's plain TSV: no quoting
        lines += ["\t".join(r.get(c) or "n/a" for c in columns) for r in sorted(rows + added, key=by_onset)]
        atomic_write_text(events, "\n".join(lines) + "\n")
    return motion, n_samples, len(added)
