"""The parent page and the per-client export on a client with several sessions (sample clinic).

The app serves the report's own parent summary (``motorlab.report.parent``) and the clinic's
export table (``motorlab.clinic.export``); every value in the CSV is the clinic analysis' own
(``motorlab.report.collect``), one row per session, measure and hand.
"""

from __future__ import annotations

import csv
import io
import math

import pytest

from motorlab.clinic import GOAL_METRICS
from motorlab.clinic.export import COLUMNS
from motorlab.report import collect
from motorlab.report.build import TASK_TITLES
from motorlab.report.parent import build_parent_summary, render_parent_html
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


def test_parent_page_is_the_reports_parent_summary(sample):
    srv, data = sample
    status, headers, page = srv.request("GET", "/clients/P007/parent", headers={"Cookie": srv.cookie})
    assert status == 200 and headers["content-type"].startswith("text/html")
    # a self-contained page: inline style only, no script, nothing from elsewhere
    assert headers["content-security-policy"].startswith("default-src 'none'")
    summary = build_parent_summary(data, TASK_TITLES)
    assert page == render_parent_html(summary)
    assert summary.subtitle.startswith(f"Client P007 · visit {data.session.label} · ")
    assert len(summary.meaning) == len(data.lines) > 3


def test_export_has_every_sessions_headline_measures(sample):
    srv, data = sample
    status, headers, body = srv.request("GET", "/clients/P007/export.csv", headers={"Cookie": srv.cookie})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert tuple(rows[0]) == COLUMNS
    expected = {
        (m.session.label, key, hand): value
        for m in data.measurements
        for (key, hand), value in m.values.items()
        if value is not None and math.isfinite(value)
    }
    got = {(r["session"], r["measure"], r["hand"]): float(r["value"]) for r in rows if r["value"]}
    assert got.keys() == expected.keys()
    for (ses, key, hand), v in expected.items():  # two digits more than the report shows
        assert got[(ses, key, hand)] == round(v, GOAL_METRICS[key].decimals + 2)
    assert len({r["session"] for r in rows}) == len(data.measurements) >= 2
