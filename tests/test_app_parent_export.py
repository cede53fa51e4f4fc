"""The parent page and the per-client export on a client with several sessions (sample clinic).

Every number on the parent page and in the CSV is the clinic analysis' own value
(``motorlab.report.collect``), the change since last time is read as the report reads it,
and the export has one row per session, metric and hand.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re

import pytest

from motorlab.clinic import GOAL_METRICS
from motorlab.report import collect, wording
from motorlab.sim.sample_clinic import write_sample_clinic

from .app_fixtures import AppServer


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    write_sample_clinic(root)
    srv = AppServer(root).start()
    try:
        yield srv, collect(root, "P007")
    finally:
        srv.stop()


def test_parent_page_reads_every_change_as_the_report_does(sample):
    srv, data = sample
    status, headers, page = srv.request("GET", "/clients/P007/parent", headers={"Cookie": srv.cookie})
    assert status == 200 and headers["content-type"].startswith("text/html")
    items = [
        html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", page, re.DOTALL)
    ]
    measures = [i for i in items if " – " in i]
    assert len(measures) == len(data.lines) > 3
    verdicts = set()
    for ln, text in zip(data.lines, measures):
        m = ln.metric
        assert text.startswith(f"{m.label}") and f"{ln.value:.{m.decimals}f} {m.unit}" in text
        verdict = wording.change_verdict(m, ln.change_previous, ln.mdc)
        verdicts.add(verdict)
        expected = {
            "": "first measurement",
            wording.NO_CHANGE: "about the same as last time",
            "changed": "since last time",
            "improved": "better than last time",
            "declined": "lower than last time",
        }[verdict]
        assert expected in text, (verdict, text)
    assert verdicts - {""}  # a later session: changes are read, not only first measurements
    assert "How P007 is doing" in page and "Progress on goals" in page


def test_export_has_every_sessions_headline_measures(sample):
    srv, data = sample
    status, headers, body = srv.request("GET", "/clients/P007/export.csv", headers={"Cookie": srv.cookie})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == [
        "participant",
        "session",
        "date",
        "task",
        "metric",
        "label",
        "hand",
        "value",
        "unit",
        "n_trials",
    ]
    expected = {
        (m.session.label, key, hand): value
        for m in data.measurements
        for (key, hand), value in m.values.items()
        if value is not None and math.isfinite(value)
    }
    got = {(r["session"], r["metric"], r["hand"]): float(r["value"]) for r in rows}
    assert got.keys() == expected.keys()
    for (ses, key, hand), v in expected.items():  # rounded to two digits more than the report shows
        assert got[(ses, key, hand)] == round(v, GOAL_METRICS[key].decimals + 2)
    assert len({r["session"] for r in rows}) == len(data.measurements) >= 2
