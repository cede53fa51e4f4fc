"""BIDS behavioural files for tasks scored without a sensor stream (dexterity timings).

A Nine-Hole-Peg time or a Box-and-Block count has no samples, so it is not a motion
recording: BIDS keeps such results as ``sub-<ID>/ses-<S>/beh/sub-<ID>_ses-<S>_task-<T>_beh.tsv``
(one row per trial) with a ``_beh.json`` sidecar (task description, acquisition time,
the therapist's notes under ``MotorlabNotes``). Both are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json, atomic_write_text
from ..errors import RecordingError
from ..recording import validate_label, validate_pseudonym


def beh_path(root: str | Path, participant: str, session: str, task: str) -> Path:
    """``<root>/sub-<ID>/ses-<S>/beh/sub-<ID>_ses-<S>_task-<T>_beh.tsv`` (not created)."""
    validate_pseudonym(participant)
    validate_label(session, "session")
    validate_label(task, "task")
    name = f"sub-{participant}_ses-{session}_task-{task}_beh.tsv"
    return Path(root) / f"sub-{participant}" / f"ses-{session}" / "beh" / name


def write_beh(
    root: str | Path,
    participant: str,
    session: str,
    task: str,
    rows: list[dict[str, Any]],
    sidecar: dict[str, Any],
) -> Path:
    """Write the rows (columns: the union of their keys, first row's order first; missing
    cells ``n/a``) and the sidecar; returns the ``_beh.tsv`` path."""
    path = beh_path(root, participant, session, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["n/a" if r.get(c) is None else r[c] for c in columns])
    atomic_write_text(path, buf.getvalue())
    atomic_write_json(path.with_name(path.name.replace("_beh.tsv", "_beh.json")), sidecar)
    return path


def read_beh(path: str | Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The rows (strings, ``n/a`` kept) and the sidecar of a ``_beh.tsv``."""
    path = Path(path)
    side = path.with_name(path.name.replace("_beh.tsv", "_beh.json"))
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        sidecar = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise RecordingError(f"{path}: cannot read the behavioural file ({exc})") from None
    return rows, sidecar


def find_beh(root: str | Path, participant: str | None = None, session: str | None = None) -> list[Path]:
    """Every ``*_beh.tsv`` of the dataset (of one participant; of one of their sessions), sorted."""
    base = Path(root) / (f"sub-{participant}" if participant else "")
    if participant and session:
        base = base / f"ses-{session}"
    return sorted(base.glob("**/beh/*_beh.tsv")) if base.exists() else []
