"""The therapist's session notes, kept in a recording's sidecar.

Notes typed during a task (key ``n``) or given with ``--note`` are stored under
:data:`NOTES_KEY` in the ``_motion.json`` (sensor tasks) or ``_beh.json`` (dexterity tasks)
sidecar as a list of ``{"time_s": seconds from the recording start, "text": ...}``.
:func:`read_notes` gives them back for reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: sidecar key of the therapist's notes
NOTES_KEY = "MotorlabNotes"


def sidecar_of(path: str | Path) -> Path:
    """The JSON sidecar of a ``_motion.tsv`` / ``_beh.tsv`` (or the sidecar itself)."""
    path = Path(path)
    if path.suffix == ".json":
        return path
    for kind in ("_motion", "_beh"):
        if path.name.endswith(f"{kind}.tsv"):
            return path.with_name(path.name[: -len(".tsv")] + ".json")
    return path.with_suffix(".json")


def read_notes(path: str | Path) -> list[dict[str, Any]]:
    """The notes stored with a recording (``[]`` when none or the sidecar is unreadable)."""
    try:
        side = json.loads(sidecar_of(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    notes = side.get(NOTES_KEY) if isinstance(side, dict) else None
    if not isinstance(notes, list):
        return []
    return [
        {"time_s": float(n.get("time_s", 0.0)), "text": str(n["text"])}
        for n in notes
        if isinstance(n, dict) and str(n.get("text", "")).strip()
    ]
