"""What the report tells a therapist and a parent: changes against noise, GAS only after the
baseline, "no tremor detected", norm wording that follows the table used, session notes."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re

import pytest

from motorlab.clinic import ClientRegistry, GoalStore, make_client, make_goal
from motorlab.clinic.goals import goal_warnings, scored_at
from motorlab.clinic.metric_catalog import GOAL_METRICS, goal_metric
from motorlab.report import build_document, collect, wording
from motorlab.report.build import progress_series_of
from motorlab.sim.dataset import simulate_grip
from motorlab.sim.sample_clinic import write_sample_clinic
from motorlab.storage.bids import write_recording
from motorlab.units import KGF_N


def _text(doc) -> str:
    out = []
    for s in doc.sections:
        out.append(s.title)
        for b in s.blocks:
            for attr in ("text", "caption"):
                out.append(str(getattr(b, attr, "")))
            for row in getattr(b, "rows", ()):
                out.append(" | ".join(row))
            for k, v in getattr(b, "items", ()):
                out.append(f"{k} {v}")
    return re.sub(r"\s+", " ", "\n".join(out))


# ------------------------------------------------------------------ changes against noise
@pytest.mark.parametrize(
    "key, change, limit, verdict",
    [
        ("writing_speed_cm_s", 5.408 - 5.414, None, wording.NO_CHANGE),  # rounds to 0.0 cm/s
        ("rest_tremor_rms_ms2", 0.0004, None, wording.NO_CHANGE),  # rounds to 0.000 m/s²
        ("writing_speed_cm_s", 0.3, None, "changed"),  # visible, but no band known
        ("grip_strength_kgf", 3.5, 4.9, wording.NO_CHANGE),  # inside the MDC95
        ("grip_strength_kgf", 6.5, 4.9, "improved"),
        ("rest_tremor_rms_ms2", -0.5, 0.2, "improved"),  # lower tremor is better
        ("grip_strength_kgf", None, 4.9, ""),
    ],
)
def test_one_verdict_for_every_change(key, change, limit, verdict):
    assert wording.change_verdict(goal_metric(key), change, limit) == verdict


def test_a_change_that_rounds_to_zero_is_never_a_number():
    m = goal_metric("rest_tremor_rms_ms2")
    text = wording.change_sentence(m, "right", 0.0004, -0.0003, None, "02 Mar 2026", two_steps=True)
    assert "0.000" not in text and text.count(wording.NO_CHANGE) == 2
    assert "went up" not in text and "went down" not in text


def test_every_catalog_measure_has_a_fixed_chart_scale_and_tremor_a_band():
    for m in GOAL_METRICS.values():
        assert m.chart_max is not None and m.chart_max > 0, m.key
    for key in ("spiral_tremor_rms_cm", "rest_tremor_rms_ms2", "postural_tremor_rms_ms2"):
        assert GOAL_METRICS[key].change_limit(0.5) == pytest.approx(0.33)
        assert GOAL_METRICS[key].detected is not None
    assert GOAL_METRICS["grip_strength_kgf"].change_limit(18.0) == 4.9
    assert GOAL_METRICS["writing_speed_cm_s"].change_limit(5.0) is None


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample_clinic(tmp_path_factory.mktemp("clinic"))


def test_charts_never_draw_a_change_the_text_calls_no_meaningful_change(sample):
    data = collect(sample.root, sample.participant)
    doc = build_document(data)
    figs = [b for b in doc.section("progress").blocks if type(b).__name__ == "Figure"]
    assert len(figs) >= 3
    checked = 0
    for fig in figs:
        meta = dict(fig.meta)
        lo, hi = (float(x) for x in meta["ylim"].split(","))
        metric = goal_metric(meta["metric"])
        assert lo == 0.0 and hi >= metric.chart_max
        for hand in ("right", "left", "na"):
            if f"verdict-{hand}" not in meta:
                continue
            values = [float(v) for v in meta[f"series-{hand}"].split(",")]
            change = values[-1] - values[0]
            band = float(meta.get(f"band-{hand}", "nan"))
            if meta[f"verdict-{hand}"] == wording.NO_CHANGE:
                # drawn inside the shaded band, or too small to see on the fixed scale
                assert abs(change) <= band or abs(change) / (hi - lo) < 0.05
                checked += 1
    assert checked >= 1


# --------------------------------------------------------------------------------- GAS
def test_goals_are_not_scored_or_interpreted_at_baseline(sample):
    first = collect(sample.root, sample.participant, session="01")
    assert first.goals and all(g.status == "baseline" and g.level is None for g in first.goals)
    assert first.gas_tscore is None and first.goals_at_baseline
    goals = build_document(first).section("goals")
    text = _text(build_document(first))
    assert "not calculated at baseline" in text and "scored from the next session" in text
    plain = " ".join(b.text for b in goals.blocks if getattr(b, "plain", False))
    meanings = [row[7] for b in goals.blocks for row in getattr(b, "rows", ())]
    assert "expected" not in plain and "set at this session" in plain
    assert meanings == ["baseline: scored from the next session"] * len(first.goals)
    assert not any(type(b).__name__ == "Figure" for b in goals.blocks)
    second = collect(sample.root, sample.participant, session="02")
    assert all(g.status == "scored" and g.session == "02" for g in second.goals)
    assert second.gas_tscore is not None


def test_goal_baseline_by_session_label_or_by_date():
    levels = [("a", 18), ("b", 23), ("c", 28), ("d", 33), ("e", 38)]
    g = make_goal("G1", "jar", "grip_strength_kgf", "right", 16, levels, baseline_session="02")
    assert not scored_at(g, "02", _dt.date(2030, 1, 1)) and scored_at(g, "03", None)
    by_date = make_goal("G1", "jar", "grip_strength_kgf", "right", 16, levels, created="2026-03-02")
    assert not scored_at(by_date, "05", _dt.date(2026, 3, 2))
    assert scored_at(by_date, "05", _dt.date(2026, 3, 3)) and not scored_at(by_date, "05", None)


def test_goal_warnings_for_close_thresholds_and_a_met_baseline():
    close = make_goal(
        "G1", "jar", "grip_strength_kgf", "right", 18, [("", 18), ("", 20), ("", 22), ("", 28), ("", 34)]
    )
    (warn,) = goal_warnings(close)
    assert "-2/-1, -1/+0, +0/+1" not in warn and "MDC95 of 4.9 kg" in warn
    assert re.search(r"levels -2/-1, -1/\+0", warn)
    met = make_goal(
        "G1", "jar", "grip_strength_kgf", "right", 25, [("", 10), ("", 16), ("", 22), ("", 28), ("", 34)]
    )
    (warn,) = goal_warnings(met)
    assert "already reaches level +0" in warn
    fine = make_goal(
        "G1", "jar", "grip_strength_kgf", "right", 12, [("", 10), ("", 16), ("", 22), ("", 28), ("", 34)]
    )
    assert goal_warnings(fine) == []


def test_goals_set_command_warns_and_records_the_baseline_session(sample, capsys):
    from motorlab.cli.main import main

    args = ["goals", "set", "P007", "--data", str(sample.root), "--metric", "grip_strength_kgf"]
    args += ["--hand", "left", "--title", "carry a bag", "--baseline", "17", "--thresholds", "15,16,17,18,19"]
    assert main([*args, "--id", "G9"]) == 0
    out = capsys.readouterr().out
    assert "warning: G9: thresholds of levels -2/-1, -1/+0, +0/+1, +1/+2" in re.sub(r"\s+", " ", out)
    assert "already reaches level +0" in re.sub(r"\s+", " ", out)
    g9 = next(g for g in GoalStore(sample.root, "P007").load() if g.goal_id == "G9")
    assert g9.baseline_session == "03"
    GoalStore(sample.root, "P007").remove("G9")


# ----------------------------------------------------------------------- no tremor detected
def test_no_tremor_is_said_not_charted_and_not_scored(tmp_path):
    sessions = [
        ({"right": (18.0, 18.0, 18.0), "left": (16.0, 16.0, 16.0)}, 0.10, 0.6),
        ({"right": (18.5, 18.5, 18.5), "left": (16.0, 16.0, 16.0)}, 0.09, 0.6),
        ({"right": (19.0, 19.0, 19.0), "left": (16.0, 16.0, 16.0)}, 0.0, 0.6),  # spiral without tremor
    ]
    truth = write_sample_clinic(tmp_path, sessions=sessions)
    data = collect(truth.root, truth.participant)
    ln = data.line("spiral_tremor_rms_cm", "right")
    assert ln.no_tremor and ln.value is None
    spiral_goal = next(g for g in data.goals if g.goal.metric == "spiral_tremor_rms_cm")
    assert spiral_goal.status == wording.NO_TREMOR and spiral_goal.level is None
    series = progress_series_of(data, goal_metric("spiral_tremor_rms_cm"))
    assert [p.session for p in series["right"]] == ["01", "02"]  # no chart point for session 03
    text = _text(build_document(data))
    assert "no tremor detected" in text and not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "no tremor detected in this session, so it has no point on the chart" in text


# ------------------------------------------------------------------------------- norms
def _as_child(truth, birth_year=2017, sex="F"):
    ClientRegistry(truth.root).add(make_client(truth.participant, birth_year, sex, "right"), replace=True)


def test_child_without_a_norm_table_is_told_so_and_how_to_add_one(tmp_path):
    truth = write_sample_clinic(tmp_path, goals=False)
    _as_child(truth)
    data = collect(truth.root, truth.participant)
    assert data.age == 9
    text = _text(build_document(data))
    assert "There is no norm for age 9" in text and "code/motorlab/grip_norms.csv" in text
    assert "50 in 100" not in text and " men " not in text and "women" not in text
    assert "No norm table covers this client's age" in text


def test_clinic_table_wording_follows_the_table(tmp_path):
    from motorlab.clinic.dataset import clinic_grip_norms_path

    truth = write_sample_clinic(tmp_path, goals=False)
    _as_child(truth, sex="M")
    path = clinic_grip_norms_path(truth.root)
    path.parent.mkdir(parents=True)
    src = "made-up test table, not clinical data"
    path.write_text(f"# source: {src}\nage_lo,age_hi,sex,hand,mean_kg,sd_kg\n9,10,M,R,17.0,3.0\n")
    data = collect(truth.root, truth.participant)
    doc = build_document(data)
    results = _text(type(doc)(doc.title, doc.subtitle, [doc.section("results")]))
    assert f"Norms: the clinic's table: {src}" in results and "Mathiowetz" not in results
    assert "boys aged 9–10" in results and " men " not in results
    assert "There is no norm for age 9 in the clinic's table" in results  # the left hand has no band


def test_one_trial_against_mean_of_three_norms_gets_a_caveat(tmp_path):
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P200", 1980, "F", "right"))
    rec = simulate_grip("P200", "01", hand="right", peak_n=(25 * KGF_N,), seed=2).recording
    md = rec.metadata.replace(acq_time="2026-03-02T10:00:00")
    write_recording(dataclasses.replace(rec, metadata=md), root)
    data = collect(root, "P200")
    ln = data.line("grip_strength_kgf", "right")
    assert ln.n_trials == 1 and ln.norm is not None and ln.norm.z == ln.norm.z
    text = _text(build_document(data))
    assert "from 1 trial, but the norms are the mean of 3 trials" in text


# ------------------------------------------------------------------------------ notes
def test_session_notes_are_shown_and_absent_notes_show_nothing(tmp_path):
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P201", 1980, "F", "right"))
    rec = simulate_grip("P201", "01", hand="right", seed=2).recording
    md = rec.metadata.replace(acq_time="2026-03-02T10:00:00")
    notes = [{"time_s": 75.2, "text": "Complained of wrist pain on trial 2"}, {"time_s": 3.0, "text": "Calm"}]
    write_recording(dataclasses.replace(rec, metadata=md), root, {"MotorlabNotes": notes})
    data = collect(root, "P201")
    assert [(n.time_s, n.text) for n in data.notes] == [(3.0, "Calm"), (75.2, notes[0]["text"])]
    text = _text(build_document(data))
    assert "Session notes" in text and "1:15 | Complained of wrist pain on trial 2" in text
    rec2 = simulate_grip("P201", "02", hand="right", seed=3).recording
    md2 = rec2.metadata.replace(acq_time="2026-03-09T10:00:00")
    write_recording(dataclasses.replace(rec2, metadata=md2), root)
    later = collect(root, "P201")
    assert later.notes == [] and "Session notes" not in _text(build_document(later))


def test_terminal_summary_never_prints_a_norm_source_next_to_nan(capsys):
    from rich.console import Console

    from motorlab.cli.summary import print_metrics

    row = {"row": "summary", "hand": "right", "mean_of_3_kgf": 12.0, "norm_z": float("nan")}
    row |= {"norm_source": "Mathiowetz, Wiemer & Federman 1986", "norm_percentile": float("nan")}
    print_metrics([row], Console(width=120))
    out = capsys.readouterr().out
    assert "Federman" not in out and "nan" not in out and "none for this age" in out
