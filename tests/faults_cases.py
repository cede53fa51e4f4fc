"""The bad inputs of `tests/test_faults_table.py`: each damages one recording of a small dataset.

A case is a function ``damage(motion_tsv) -> None`` applied to a freshly written
recording (grip, tremor or spiral, from :mod:`motorlab.sim.dataset`); the table in
``docs/reliability.md`` lists them with the outcome the test asserts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def side(m: Path) -> Path:
    return m.with_name(m.name.replace("_motion.tsv", "_motion.json"))


def chans(m: Path) -> Path:
    return m.with_name(m.name.replace("_motion.tsv", "_channels.tsv"))


def events(m: Path) -> Path:
    return m.with_name(m.name.replace("_motion.tsv", "_events.tsv"))


def _rows(m: Path) -> np.ndarray:
    return np.loadtxt(m, delimiter="\t", ndmin=2)


def _write_rows(m: Path, arr: np.ndarray) -> None:
    with open(m, "w", encoding="ascii") as fh:
        fh.writelines("\t".join("n/a" if np.isnan(v) else repr(float(v)) for v in row) + "\n" for row in arr)


def _edit_sidecar(m: Path, **changes: object) -> None:
    d = json.loads(side(m).read_text())
    d.update(changes)
    side(m).write_text(json.dumps(d))


def _set_column(m: Path, col: int, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    arr = _rows(m)
    arr[:, col] = fn(arr[:, col])
    _write_rows(m, arr)


@dataclass(frozen=True)
class Case:
    """One kind of bad input: its id, the task of the damaged recording, the damage, what
    the batch must report (``error``: an error row naming the file; ``note``: rows plus a
    warning or quality flag containing ``match``) and the words of the docs table."""

    id: str
    task: str
    damage: Callable[[Path], None]
    outcome: str  # "error" | "note"
    match: str
    what: str


def _garbage_row(m: Path) -> None:
    lines = m.read_text().splitlines(keepends=True)
    lines[len(lines) // 2] = "0.5\tERR#\n"
    m.write_text("".join(lines))


def _drop_column(m: Path) -> None:
    lines = m.read_text().splitlines()
    m.write_text("".join("\t".join(ln.split("\t")[:-1]) + "\n" for ln in lines))


def _replace_with_dir(p: Path) -> None:
    p.unlink()
    p.mkdir()


def _dangling(p: Path) -> None:
    p.unlink()
    p.symlink_to(p.with_name("gone.tsv"))


def _event_rows(m: Path, fn: Callable[[list[str]], list[str]]) -> None:
    lines = events(m).read_text().splitlines()
    events(m).write_text("\n".join([lines[0], *fn(lines[1:])]) + "\n")


def _nan_force_part(m: Path) -> None:
    def cut(col: np.ndarray) -> np.ndarray:
        col = col.copy()
        col[len(col) // 3 : len(col) // 3 + 40] = np.nan
        return col

    _set_column(m, 1, cut)


def _short(m: Path, n: int) -> None:
    """A recording that really is this short: the sidecar's sample count agrees."""
    _write_rows(m, _rows(m)[:n])
    d = json.loads(side(m).read_text())
    if "MotorlabSampleCount" in d:
        _edit_sidecar(m, MotorlabSampleCount=n)


CASES: tuple[Case, ...] = (
    # ---- files of a recording: damaged, missing, wrong kind
    Case(
        "garbage-row",
        "grip",
        _garbage_row,
        "error",
        "_motion.tsv",
        "a line overwritten in the middle of `_motion.tsv`",
    ),
    Case(
        "sidecar-cut",
        "grip",
        lambda m: side(m).write_text(side(m).read_text()[:40]),
        "error",
        "_motion.json",
        "`_motion.json` cut short",
    ),
    Case(
        "sidecar-missing",
        "grip",
        lambda m: side(m).unlink(),
        "error",
        "_motion.json",
        "`_motion.json` missing",
    ),
    Case(
        "channels-missing",
        "grip",
        lambda m: chans(m).unlink(),
        "error",
        "_channels.tsv",
        "`_channels.tsv` missing",
    ),
    Case(
        "column-lost",
        "grip",
        _drop_column,
        "error",
        "_motion.tsv",
        "one column lost from every row of `_motion.tsv`",
    ),
    Case(
        "binary-motion",
        "grip",
        lambda m: m.write_bytes(np.random.default_rng(1).bytes(4096)),
        "error",
        "_motion.tsv",
        "`_motion.tsv` replaced by binary garbage",
    ),
    Case(
        "empty-motion",
        "grip",
        lambda m: m.write_bytes(b""),
        "error",
        "_motion.tsv",
        "`_motion.tsv` of 0 bytes (truncated)",
    ),
    Case("motion-is-dir", "grip", _replace_with_dir, "error", "is a folder", "`_motion.tsv` is a folder"),
    Case(
        "sidecar-is-dir",
        "grip",
        lambda m: _replace_with_dir(side(m)),
        "error",
        "_motion.json",
        "`_motion.json` is a folder",
    ),
    Case(
        "sidecar-list",
        "grip",
        lambda m: side(m).write_text("[1, 2]"),
        "error",
        "_motion.json",
        "`_motion.json` holds a JSON list",
    ),
    Case(
        "fs-text",
        "grip",
        lambda m: _edit_sidecar(m, SamplingFrequency="fast"),
        "error",
        "SamplingFrequency",
        '`SamplingFrequency` is text ("fast")',
    ),
    Case(
        "fs-zero",
        "grip",
        lambda m: _edit_sidecar(m, SamplingFrequency=0),
        "error",
        "SamplingFrequency",
        "`SamplingFrequency` 0",
    ),
    Case(
        "fs-negative",
        "grip",
        lambda m: _edit_sidecar(m, SamplingFrequency=-100),
        "error",
        "SamplingFrequency",
        "`SamplingFrequency` negative",
    ),
    Case(
        "metadata-wrong",
        "grip",
        lambda m: _edit_sidecar(m, MotorlabMetadata={"participant": 5, "bogus": 1}),
        "error",
        "MotorlabMetadata",
        "`MotorlabMetadata` with unknown keys",
    ),
    Case(
        "sidecar-latin1",
        "grip",
        lambda m: side(m).write_bytes(side(m).read_bytes().replace(b'"TaskName"', b'"TaskN\xe4me"')),
        "error",
        "_motion.json",
        "a Latin-1 byte in `_motion.json`",
    ),
    Case(
        "channels-bad-type",
        "grip",
        lambda m: chans(m).write_text(chans(m).read_text().replace("MISC", "WEIGHT")),
        "error",
        "_channels.tsv",
        "`_channels.tsv` with a type that is not BIDS motion",
    ),
    Case(
        "channels-no-header",
        "grip",
        lambda m: chans(m).write_text("\n".join(chans(m).read_text().splitlines()[1:]) + "\n"),
        "error",
        "_channels.tsv",
        "`_channels.tsv` without its header line",
    ),
    Case("motion-dangling-link", "grip", _dangling, "error", "broken link", "`_motion.tsv` a broken symlink"),
    Case(
        "events-missing",
        "grip",
        lambda m: events(m).unlink(),
        "note",
        "trials_from_force",
        "`_events.tsv` missing (grip trials found from the force instead)",
    ),
    Case(
        "events-bad-onsets",
        "grip",
        lambda m: _event_rows(m, lambda rows: ["soon\t" + r.split("\t", 1)[1] for r in rows]),
        "error",
        "_events.tsv",
        "`_events.tsv` onsets that are not numbers",
    ),
    Case(
        "trial-past-end",
        "grip",
        lambda m: _event_rows(m, lambda rows: [*rows, "900.0\t5.0\ttrial\t9\tright\tvalid\tn/a\tn/a\tn/a"]),
        "note",
        "grip_trial",
        "a `trial` event after the end of the data",
    ),
    # ---- signals
    Case(
        "force-all-nan",
        "grip",
        lambda m: _set_column(m, 1, lambda c: c * np.nan),
        "note",
        "data_gaps",
        "every force sample n/a",
    ),
    Case(
        "force-flat",
        "grip",
        lambda m: _set_column(m, 1, lambda c: c * 0 + 3.0),
        "note",
        "grip_trial",
        "force constant (sensor stuck)",
    ),
    Case("force-gap", "grip", _nan_force_part, "note", "data_gaps", "0.5 s of force samples n/a mid-trial"),
    Case(
        "force-negative",
        "grip",
        lambda m: _set_column(m, 1, lambda c: -c),
        "note",
        "grip_trial",
        "force sign inverted (negative)",
    ),
    Case(
        "one-sample", "grip", lambda m: _short(m, 1), "error", "1 samples", "a recording of a single sample"
    ),
    Case(
        "three-samples",
        "tremorrest",
        lambda m: _short(m, 3),
        "note",
        "no_valid_trial",
        "a tremor hold of 3 samples",
    ),
    Case(
        "time-nan",
        "grip",
        lambda m: _set_column(m, 0, lambda c: np.where(np.arange(c.size) % 50 == 7, np.nan, c)),
        "note",
        "nonfinite_timestamp",
        "n/a in the time (LATENCY) column",
    ),
    Case(
        "tremor-flat",
        "tremorrest",
        lambda m: _write_rows(m, np.column_stack([_rows(m)[:, 0], _rows(m)[:, 1:] * 0])),
        "note",
        "tremor",
        "tremor hold, every IMU channel 0 (sensor dead)",
    ),
    Case(
        "tremor-all-nan",
        "tremorpostural",
        lambda m: _write_rows(m, np.column_stack([_rows(m)[:, 0], _rows(m)[:, 1:] * np.nan])),
        "note",
        "tremor",
        "tremor hold, every IMU sample n/a",
    ),
    Case(
        "spiral-pen-up",
        "spiral",
        lambda m: _set_column(m, 3, lambda c: c * 0),
        "note",
        "spiral",
        "spiral with the pen never down (tip force 0)",
    ),
    Case(
        "spiral-positions-nan",
        "spiral",
        lambda m: _set_column(m, 1, lambda c: c * np.nan),
        "note",
        "spiral",
        "spiral with every x position n/a",
    ),
)
