"""Dexterity results in the clinic history: Nine-Hole Peg and Box and Block recorded through the
real CLI (scripted ``--times`` / ``--count``) appear in the report, the parent page, the client
export and score a goal on the peg time in the next session."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
from html import unescape

import pytest

from motorlab.clinic.history import client_sessions
from motorlab.clinic.measurements import measure_session
from motorlab.clinic.metric_catalog import goal_metric
from motorlab.report.build import collect
from motorlab.storage.beh import find_beh

CLIENT = "K0011"


def _run(env, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def visits(tmp_path_factory):
    """Two visits a week apart; the goal on the right hand's peg time is set after the first."""
    tmp = tmp_path_factory.mktemp("dex")
    data = tmp / "clinic"
    env = {
        **os.environ,
        "MOTORLAB_DATA": str(data),
        "MOTORLAB_CONFIG_DIR": str(tmp / "config"),
        "COLUMNS": "100",
    }
    first = (dt.datetime.now() - dt.timedelta(days=7)).replace(microsecond=0).isoformat()
    second = (dt.datetime.now() - dt.timedelta(minutes=5)).replace(microsecond=0).isoformat()
    _run(env, "client", "add", CLIENT, "--birth-year", "2016", "--sex", "F", "--dominant", "right")
    # right hand first (dominant): 2 trials per hand
    _run(env, "record", "pegs", "--participant", CLIENT, "--acq-time", first, "--trials", "2",
         "--times", "41,39,45,47", "--note", "first time with the board")  # fmt: skip
    _run(env, "record", "boxblock", "--participant", CLIENT, "--acq-time", first,
         "--count", "right=30", "--count", "left=27")  # fmt: skip
    goal = _run(env, "goals", "set", CLIENT, "--metric", "ninehole_time_s", "--hand", "right",
                "--title", "Button a coat alone", "--thresholds", "45,40,35,30,25")  # fmt: skip
    _run(env, "record", "pegs", "--participant", CLIENT, "--acq-time", second, "--trials", "2",
         "--times", "34,32,44,42")  # fmt: skip
    _run(env, "record", "boxblock", "--participant", CLIENT, "--acq-time", second,
         "--count", "right=38", "--count", "left=29")  # fmt: skip
    return data, env, tmp, goal


def test_history_finds_the_beh_files_and_measures_them(visits):
    data, *_ = visits
    sessions = client_sessions(data, CLIENT)
    assert [s.label for s in sessions] == ["01", "02"]
    assert sessions[0].tasks == ["boxblock", "ninehole"] and sessions[0].date is not None
    assert [p.name for p in find_beh(data, CLIENT, "02")] == [
        f"sub-{CLIENT}_ses-02_task-boxblock_beh.tsv",
        f"sub-{CLIENT}_ses-02_task-ninehole_beh.tsv",
    ]
    m1, m2 = (measure_session(s) for s in sessions)
    assert m1.value("ninehole_time_s", "right") == pytest.approx(40.0)
    assert m1.n_trials[("ninehole_time_s", "right")] == 2
    assert m1.value("ninehole_pegs_per_min", "left") == pytest.approx(9 * 60 / 46)
    assert m1.value("boxblock_blocks_per_min", "left") == pytest.approx(27.0)
    assert m2.value("ninehole_time_s", "right") == pytest.approx(33.0)
    assert m2.value("boxblock_blocks_per_min", "right") == pytest.approx(38.0)
    assert sessions[0].beh[1].notes == ((0.0, "first time with the board"),)


def test_catalog_band_is_the_published_mdc_and_lower_time_is_better():
    time = goal_metric("ninehole_time_s")
    assert not time.higher_is_better and time.unit == "s" and time.chart_max == 60.0
    assert time.change_limit(40.0) == pytest.approx(0.291 * 40.0)
    assert "Hervault" in time.band.source  # type: ignore[union-attr]
    assert goal_metric("boxblock_blocks_per_min").band is None  # no published figure: no band


def test_goal_on_peg_time_is_scored_in_the_next_session(visits):
    data, _, _, goal_out = visits
    assert "scored from the first session after session 01" in goal_out.stdout
    assert "measurement noise alone could move" in goal_out.stdout  # 5 s steps < MDC95 11.6 s
    at_baseline = collect(data, CLIENT, session=1)
    assert [g.status for g in at_baseline.goals] == ["baseline"]
    report = collect(data, CLIENT)
    (score,) = report.goals
    assert score.status == "scored" and score.session == "02"
    assert score.value == pytest.approx(33.0) and score.level == 0 and score.baseline_level == -1
    ln = report.line("ninehole_time_s", "right")
    # 40 s -> 33 s: 7 s faster, inside the MDC95 of 0.291 x 40 = 11.6 s: no meaningful change
    assert ln.baseline == pytest.approx(40.0) and ln.mdc == pytest.approx(11.64)
    assert ln.real(ln.change_baseline) is False


def test_report_parent_page_and_export_show_the_numbers(visits):
    _, env, tmp, _ = visits
    out = tmp / "report"
    _run(env, "report", CLIENT, "--out", str(out))
    html = _text(next(out.glob("*_report.html")).read_text(encoding="utf-8"))
    assert "Nine-Hole Peg" in html and "Box and Block" in html
    assert "Nine-Hole Peg time" in html and "33.0 s" in html and "43.0 s" in html  # right, left means
    assert "right 1 valid 34.0 s 15.9 pegs/min" in html  # the trial table
    assert "right 1 valid 38 blocks 38 blocks/min" in html and "Button a coat alone" in html
    assert "right-hand Nine-Hole Peg time moved down by 7.0 s" in html  # a test name keeps its capitals
    assert "behavioural files of the dexterity tasks" in html and "none (tasks timed or counted)" in html
    parent = _text(next(out.glob("*_parent.html")).read_text(encoding="utf-8"))
    assert "Nine-Hole Peg time, right hand: 33.0 s" in parent
    assert "Box and Block rate, right hand: 38 blocks/min" in parent
    assert "Nine-Hole Peg – how quickly the hand puts 9 pegs" in parent
    csv_path = tmp / "export.csv"
    _run(env, "client", "export", CLIENT, "--out", str(csv_path))
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    got = {(r["session"], r["measure"], r["hand"]): (float(r["value"]), r["unit"], r["trials"]) for r in rows}
    assert got[("01", "ninehole_time_s", "right")] == (40.0, "s", "2")
    assert got[("02", "ninehole_time_s", "left")] == (43.0, "s", "2")
    assert got[("02", "ninehole_pegs_per_min", "right")][0] == pytest.approx(9 * 60 / 33, abs=1e-3)
    assert got[("01", "boxblock_blocks_per_min", "right")] == (30.0, "blocks/min", "1")
    assert got[("02", "boxblock_blocks_per_min", "left")] == (29.0, "blocks/min", "1")


def test_an_unreadable_dexterity_file_is_named_not_a_traceback(tmp_path):
    data = tmp_path / "clinic"
    env = {**os.environ, "MOTORLAB_DATA": str(data), "MOTORLAB_CONFIG_DIR": str(tmp_path / "config")}
    _run(env, "client", "add", "K0012", "--birth-year", "2015", "--sex", "M", "--dominant", "left")
    _run(env, "record", "pegs", "--participant", "K0012", "--times", "25,28")
    _run(env, "record", "boxblock", "--participant", "K0012", "--count", "left=33", "--count", "right=31")
    side = next(data.rglob("*_task-ninehole_beh.json"))
    side.write_text("{ not json", encoding="utf-8")
    (session,) = client_sessions(data, "K0012")
    m = measure_session(session)
    (bad,) = [d for d in m.dexterity if d.error]
    assert "sub-K0012_ses-01_task-ninehole_beh.tsv" in bad.error and "\n" not in bad.error
    assert m.value("ninehole_time_s", "left") is None and m.value("boxblock_blocks_per_min", "left") == 33.0
    out = tmp_path / "report"
    proc = _run(env, "report", "K0012", "--out", str(out))
    assert "Traceback" not in proc.stderr
    html = _text(next(out.glob("*_report.html")).read_text(encoding="utf-8"))
    assert "could not be analysed: sub-K0012_ses-01_task-ninehole_beh.tsv" in html
    assert "33 blocks/min" in html
