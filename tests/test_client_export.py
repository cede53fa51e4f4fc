"""``motorlab client export``: every session's headline measures as one tidy CSV / .xlsx table."""

from __future__ import annotations

import csv
import datetime as _dt
import sys

import pytest

from motorlab.cli.main import main
from motorlab.clinic.export import COLUMNS, export_client
from motorlab.errors import MotorlabError
from motorlab.report import collect
from motorlab.sim.sample_clinic import write_sample_clinic


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return write_sample_clinic(tmp_path_factory.mktemp("clinic"))


def test_csv_holds_every_session_with_the_reports_values(clinic, tmp_path, capsys):
    out = tmp_path / "P007.csv"
    assert main(["client", "export", "P007", "--out", str(out), "--data", str(clinic.root)]) == 0
    assert f"wrote 12 measure(s) of P007 to {out}" in " ".join(capsys.readouterr().out.split())
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 12  # 3 sessions x (grip R/L, spiral, rest tremor)
    assert [r["session"] for r in rows] == ["01"] * 4 + ["02"] * 4 + ["03"] * 4
    assert {r["date"] for r in rows} == {s.date.isoformat() for s in clinic.sessions}
    grip = [r for r in rows if r["measure"] == "grip_strength_kgf"]
    assert {r["unit"] for r in grip} == {"kg"} and {r["trials"] for r in grip} == {"3"}
    for ses in clinic.sessions:
        for hand in ("right", "left"):
            row = next(r for r in grip if r["session"] == ses.label and r["hand"] == hand)
            assert float(row["value"]) == pytest.approx(ses.grip_mean_kgf(hand), abs=0.15)
    data = collect(clinic.root, "P007")
    for ln in data.lines:
        row = next(
            r for r in rows if r["session"] == "03" and r["measure"] == ln.metric.key and r["hand"] == ln.hand
        )
        assert float(row["value"]) == pytest.approx(ln.value, abs=10 ** -(ln.metric.decimals + 2))
        assert row["status"] == "measured"


def test_xlsx_has_the_same_rows_with_real_dates_and_numbers(clinic, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    csv_path, n_csv = export_client(clinic.root, "P007", tmp_path / "m.csv")
    xlsx_path, n_xlsx = export_client(clinic.root, "P007", tmp_path / "m.xlsx")
    assert n_csv == n_xlsx == 12
    ws = openpyxl.load_workbook(xlsx_path).active
    values = list(ws.values)
    assert values[0] == COLUMNS and len(values) == 13
    with csv_path.open(newline="") as fh:
        csv_rows = list(csv.reader(fh))[1:]
    for xrow, crow in zip(values[1:], csv_rows):
        assert isinstance(xrow[2], _dt.datetime) and xrow[2].date().isoformat() == crow[2]
        assert isinstance(xrow[7], float) and xrow[7] == pytest.approx(float(crow[7]))
        assert [str(c) for i, c in enumerate(xrow) if i not in (2, 7)] == [
            c for i, c in enumerate(crow) if i not in (2, 7)
        ]


def test_no_tremor_is_a_status_not_a_number(tmp_path):
    sessions = [({"right": (18.0, 18.0, 18.0), "left": (16.0, 16.0, 16.0)}, 0.0, 0.6)]
    truth = write_sample_clinic(tmp_path / "c", sessions=sessions, goals=False)
    path, _ = export_client(truth.root, "P007", tmp_path / "x.csv")
    with path.open(newline="") as fh:
        spiral = next(r for r in csv.DictReader(fh) if r["measure"] == "spiral_tremor_rms_cm")
    assert spiral["status"] == "no tremor detected" and spiral["value"] == ""


def test_export_errors_are_one_line(clinic, tmp_path, capsys, monkeypatch):
    assert (
        main(["client", "export", "P007", "--out", str(tmp_path / "x.pdf"), "--data", str(clinic.root)]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "x.pdf: choose a file ending in .csv or .xlsx" in err
    assert (
        main(["client", "export", "P404", "--out", str(tmp_path / "x.csv"), "--data", str(clinic.root)]) == 2
    )
    assert "P404" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if the optional extra were not installed
    with pytest.raises(MotorlabError, match=r"needs openpyxl: pip install 'motorlab\[xlsx\]'"):
        export_client(clinic.root, "P007", tmp_path / "y.xlsx")
    assert not (tmp_path / "y.xlsx").exists()


def test_the_app_serves_the_same_table_and_a_parent_page_without_gas_at_baseline(clinic):
    """The app's CSV is the CLI's table (one owner: clinic.export); its parent page does not
    interpret goals on their baseline session."""
    from motorlab.clinic.export import client_measures, csv_text
    from tests.app_fixtures import AppServer

    srv = AppServer(clinic.root).start()
    try:
        status, headers, body = srv.request("GET", "/clients/P007/export.csv", headers={"Cookie": srv.cookie})
        assert status == 200 and headers["content-type"].startswith("text/csv")
        assert body == csv_text(client_measures(clinic.root, "P007"))
        status, _, first = srv.request(
            "GET", "/clients/P007/parent?session=1", headers={"Cookie": srv.cookie}
        )
        status2, _, later = srv.request(
            "GET", "/clients/P007/parent?session=2", headers={"Cookie": srv.cookie}
        )
    finally:
        srv.stop()
    assert status == status2 == 200
    assert first.count("baseline: scored from the next session") == 3 and "than expected" not in first
    assert "baseline: scored" not in later and "than expected" in later
