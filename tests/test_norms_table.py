"""A clinic-supplied grip norms table (e.g. a pediatric one): reading, lookup, analysis, CLI, report.

The tables here are test fixtures with made-up numbers, labelled as such; motorlab ships
no pediatric table (see motorlab.analysis.norms).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from scipy.stats import norm as normal

from motorlab.analysis import analyze_recording
from motorlab.analysis.norms import GripNormTable, grip_norms, read_grip_norm_table
from motorlab.cli.main import main
from motorlab.errors import MotorlabError
from motorlab.sim.dataset import simulate_grip
from motorlab.storage.bids import write_recording

SOURCE = "test fixture, not clinical data"
TABLE = f"""# grip norms used by the tests
# source: {SOURCE}
age_lo,age_hi,sex,hand,mean_kg,sd_kg
6,7,F,R,9.0,2.0
8,9,F,R,12.0,2.5
8,9,F,L,11.0,2.4
8,9,M,right,13.0,2.8
"""


@pytest.fixture
def table_path(tmp_path):
    path = tmp_path / "grip_norms.csv"
    path.write_text(TABLE)
    return path


def test_table_is_read_with_its_source_and_hash(table_path):
    table = read_grip_norm_table(table_path)
    assert table.source == SOURCE
    assert table.sha256 == hashlib.sha256(TABLE.encode()).hexdigest()
    assert [(b.label, b.sex, b.hand, b.mean_kg, b.sd_kg) for b in table.bands] == [
        ("6-7", "F", "R", 9.0, 2.0),
        ("8-9", "F", "R", 12.0, 2.5),
        ("8-9", "F", "L", 11.0, 2.4),
        ("8-9", "M", "R", 13.0, 2.8),
    ]
    assert GripNormTable.from_param(json.loads(json.dumps(table.as_param()))) == table


@pytest.mark.parametrize(
    "text, message",
    [
        ("age_lo,age_hi,sex,hand,mean_kg,sd_kg\n6,7,F,R,9,2\n", "no '# source: <citation>' line"),
        ("# source: x\nage,sex,hand,mean\n", ":2: header must be"),
        ("# source: x\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n6,7,X,R,9,2\n", ":3: sex must be"),
        (
            "# source: x\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n6,7,F,R,nine,2\n",
            ":3: ages must be whole years",
        ),
        (
            "# source: x\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n6,7,F,R,9,0\n",
            ":3: mean and SD must be positive",
        ),
        (
            "# source: x\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n6,8,F,R,9,2\n8,9,F,R,12,2\n",
            ":4: ages 8-9 overlap ages 6-8",
        ),
        ("# source: x\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n9,7,F,R,9,2\n", ":3: age band 9-7 is empty"),
    ],
)
def test_bad_tables_are_refused_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "norms.csv"
    path.write_text(text)
    with pytest.raises(MotorlabError) as info:
        read_grip_norm_table(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_supplied_band_comes_first_and_adults_fall_back(table_path):
    table = read_grip_norm_table(table_path)
    child = grip_norms(10.0, 8.5, "F", "left", table)
    z = (10.0 - 11.0) / 2.4
    assert (child.age_band, child.source, child.note) == ("8-9", SOURCE, "")
    assert child.z == pytest.approx(z) and child.percentile == pytest.approx(100 * normal.cdf(z))
    assert child.pct_of_norm == pytest.approx(100 * 10.0 / 11.0)
    adult = grip_norms(30.0, 35, "F", "right", table)  # no band in the table: Mathiowetz 1985
    assert adult.source.startswith("Mathiowetz") and adult.age_band == "35-39"
    missing = grip_norms(10.0, 12, "F", "right", table)  # neither table covers a 12-year-old
    assert missing.z != missing.z and "supplied table" in missing.note and SOURCE in missing.note


def _child_recording(tmp_path):
    sim = simulate_grip("C0801", peak_n=(110.0, 118.0, 114.0), seed=3, hand="right")
    rec = sim.recording
    meta = dataclasses.replace(rec.metadata, extra={**rec.metadata.extra, "age": 8, "sex": "F"})
    return write_recording(dataclasses.replace(rec, metadata=meta), tmp_path / "ds")


def test_analysis_uses_the_table_and_records_it(table_path, tmp_path):
    from motorlab.storage.bids import read_recording

    rec = read_recording(_child_recording(tmp_path))
    plain = next(r for r in analyze_recording(rec).to_rows() if r["row"] == "summary")
    assert plain["norm_z"] != plain["norm_z"]  # no built-in pediatric norms
    rows = analyze_recording(rec, {"grip": {"norms_table": str(table_path)}}).to_rows()
    summary = next(r for r in rows if r["row"] == "summary")
    assert summary["norm_source"] == SOURCE and summary["norm_age_band"] == "8-9"
    assert summary["norm_z"] == pytest.approx((summary["mean_of_3_kgf"] - 12.0) / 2.5)
    assert 11.0 < summary["mean_of_3_kgf"] < 12.0  # ~114 N


def test_cli_norms_option_and_its_errors(table_path, tmp_path, capsys):
    path = _child_recording(tmp_path)
    assert main(["analyze", str(path), "--norms", str(table_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert next(r for r in rows if r["row"] == "summary")["norm_source"] == SOURCE
    bad = tmp_path / "bad.csv"
    bad.write_text("age_lo,age_hi,sex,hand,mean_kg,sd_kg\n")
    assert main(["analyze", str(path), "--norms", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and "source" in err


def test_batch_provenance_holds_the_table(table_path, tmp_path):
    from motorlab.analysis.batch import analyze_batch

    path = _child_recording(tmp_path)
    res = analyze_batch([path.parent], {"grip": {"norms_table": str(table_path)}}, jobs=1, progress=False)
    assert (
        res.provenance["parameters"]["grip"]["norms_table"]["sha256"]
        == read_grip_norm_table(table_path).sha256
    )
    summary = next(r for r in res.rows if r["row"] == "summary")
    assert summary["norm_age_band"] == "8-9"


def test_report_uses_the_clinics_table(tmp_path):
    from motorlab.clinic.dataset import clinic_grip_norms_path
    from motorlab.report import collect
    from motorlab.sim.sample_clinic import write_sample_clinic

    clinic = write_sample_clinic(tmp_path / "clinic")
    path = clinic_grip_norms_path(clinic.root)
    path.parent.mkdir(parents=True)
    # the sample client is a woman of 68: a made-up band that differs from Mathiowetz 65-69
    path.write_text(f"# source: {SOURCE}\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n60,70,F,R,30.0,5.0\n")
    data = collect(clinic.root, clinic.participant)
    right, left = data.line("grip_strength_kgf", "right"), data.line("grip_strength_kgf", "left")
    assert right.norm.source == SOURCE and right.norm.z == pytest.approx((right.value - 30.0) / 5.0)
    assert left.norm.source.startswith("Mathiowetz")  # no left-hand band: adult table
