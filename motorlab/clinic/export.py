"""One client's headline measures across every session, as a tidy table (CSV or .xlsx).

One row per session, task, hand and measure of the metric catalog
(:mod:`motorlab.clinic.metric_catalog`): ``participant, session, date, task, hand, measure,
label, value, unit, trials, status``. ``status`` is ``measured``, or ``no tremor detected``
(the value is then empty), so a school or the client's file gets the same facts the report
shows. Grip is in kg (kilograms-force) like the report. The ``.xlsx`` file is written with
openpyxl (optional extra ``motorlab[xlsx]``).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_open, atomic_write_text
from ..errors import MotorlabError
from .clients import ClientRegistry
from .history import client_sessions
from .measurements import measure_session
from .metric_catalog import GOAL_METRICS

COLUMNS = (
    "participant",
    "session",
    "date",
    "task",
    "hand",
    "measure",
    "label",
    "value",
    "unit",
    "trials",
    "status",
)
XLSX_HINT = "writing .xlsx needs openpyxl: pip install 'motorlab[xlsx]' (or export to .csv)"


@dataclass(frozen=True)
class MeasureRow:
    """One measure of one hand in one session (``value`` None when ``status`` says why)."""

    participant: str
    session: str
    date: _dt.date | None
    task: str
    hand: str
    measure: str
    label: str
    value: float | None
    unit: str
    trials: int
    status: str

    def cells(self) -> tuple[object, ...]:
        return (
            self.participant,
            self.session,
            self.date,
            self.task,
            self.hand,
            self.measure,
            self.label,
            self.value,
            self.unit,
            self.trials,
            self.status,
        )


def client_measures(root: str | Path, participant: str) -> list[MeasureRow]:
    """Every session's catalog measures of a client, in session, task and hand order."""
    client = ClientRegistry(root).get(participant)
    rows = []
    for session in client_sessions(root, client.participant):
        m = measure_session(session)
        for metric in GOAL_METRICS.values():
            for hand in ("right", "left", "n/a") if metric.per_hand else ("n/a",):
                value = m.value(metric.key, hand)
                if value is None and not m.no_tremor(metric.key, hand):
                    continue
                rows.append(
                    MeasureRow(
                        client.participant,
                        session.label,
                        session.date,
                        metric.task,
                        hand,
                        metric.key,
                        metric.label,
                        round(value, metric.decimals + 2) if value is not None else None,
                        metric.unit,
                        m.n_trials.get((metric.key, hand), 0),
                        "measured" if value is not None else "no tremor detected",
                    )
                )
    return rows


def csv_text(rows: list[MeasureRow]) -> str:
    """The rows as CSV text (header :data:`COLUMNS`, ISO dates, empty cells for missing values)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if c is None else c.isoformat() if isinstance(c, _dt.date) else c for c in r.cells()])
    return buf.getvalue()


def _write_xlsx(rows: list[MeasureRow], path: Path) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise MotorlabError(f"{path}: {XLSX_HINT}") from None
    wb = Workbook()
    ws = wb.active
    ws.title = "measures"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(list(r.cells()))
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    for i, col in enumerate(COLUMNS, start=1):
        width = max([len(col), *(len(str(c)) for c in (r.cells()[i - 1] for r in rows))]) + 2
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(width, 40)
    with atomic_open(path, "wb") as fh:
        wb.save(fh)


def export_client(root: str | Path, participant: str, out: str | Path) -> tuple[Path, int]:
    """Write the client's measures to ``out`` (``.csv`` or ``.xlsx``); returns (path, rows)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise MotorlabError(f"{path}: choose a file ending in .csv or .xlsx")
    rows = client_measures(root, participant)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            atomic_write_text(path, csv_text(rows))
        else:
            _write_xlsx(rows, path)
    except OSError as exc:
        raise MotorlabError(
            f"{exc.filename or path}: cannot write the export ({exc.strerror or exc})"
        ) from None
    return path, len(rows)
