"""Clients, goals and session history of a clinic dataset (motorlab.clinic + client/goals commands)."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import pytest

from motorlab.cli.main import main
from motorlab.clinic import (
    ClientRegistry,
    GoalStore,
    attained_level,
    client_sessions,
    find_session,
    make_client,
    make_goal,
)
from motorlab.clinic.dataset import resolve_data_root
from motorlab.clinic.measurements import measure_session
from motorlab.errors import MotorlabError
from motorlab.sim.dataset import corrupt_recording
from motorlab.sim.sample_clinic import write_sample_clinic

GRIP_LEVELS = [("a", 18), ("b", 20), ("c", 22), ("d", 24), ("e", 26)]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinic")
    return write_sample_clinic(root)


# ------------------------------------------------------------------------- clients
def test_client_fields_are_validated():
    c = make_client("P012", "1960", "f", "L", today=dt.date(2026, 1, 1))
    assert (c.participant, c.birth_year, c.sex, c.dominant_hand) == ("P012", 1960, "F", "left")
    assert (
        c.age_in(2026) == 66 and c.hand_role("left") == "dominant" and c.hand_role("right") == "non-dominant"
    )
    with pytest.raises(MotorlabError, match="looks like a name"):
        make_client("JaneDoe", 1960, "F", "right")
    with pytest.raises(MotorlabError, match="sex"):
        make_client("P1", 1960, "X", "right")
    with pytest.raises(MotorlabError, match="dominant hand"):
        make_client("P1", 1960, "F", "both")
    with pytest.raises(MotorlabError, match="outside"):
        make_client("P1", 1850, "F", "right")
    with pytest.raises(MotorlabError, match="not a year"):
        make_client("P1", "sixty", "F", "right")


def test_registry_round_trip_keeps_foreign_columns(tmp_path):
    (tmp_path / "participants.tsv").write_text("participant_id\tgroup\nsub-S01\tcontrol\n")
    reg = ClientRegistry(tmp_path)
    with pytest.raises(MotorlabError, match="sub-S01"):  # existing row lacks our columns -> clear error
        reg.list()
    (tmp_path / "participants.tsv").write_text(
        "participant_id\tgroup\tbirth_year\tsex\tdominant_hand\nsub-S01\tcontrol\t1990\tM\tright\n"
    )
    reg.add(make_client("P002", 1951, "F", "left"))
    assert [c.participant for c in reg.list()] == ["S01", "P002"]
    text = (tmp_path / "participants.tsv").read_text().splitlines()
    assert text[0].split("\t") == ["participant_id", "group", "birth_year", "sex", "dominant_hand"]
    assert text[1].split("\t")[1] == "control" and text[2].split("\t")[:2] == ["sub-P002", "n/a"]
    desc = json.loads((tmp_path / "participants.json").read_text())
    assert set(desc) >= {"participant_id", "birth_year", "sex", "dominant_hand"}
    assert (tmp_path / "dataset_description.json").exists()
    with pytest.raises(MotorlabError, match="already exists"):
        reg.add(make_client("P002", 1951, "F", "left"))
    reg.add(make_client("P002", 1952, "F", "right"), replace=True)
    assert reg.get("sub-P002").birth_year == 1952 and reg.get("P002").dominant_hand == "right"
    with pytest.raises(MotorlabError, match="no client 'P404'.*motorlab client add P404"):
        reg.get("P404")


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("MOTORLAB_DATA", raising=False)
    assert str(resolve_data_root(None)) == "motorlab-data"
    monkeypatch.setenv("MOTORLAB_DATA", str(tmp_path))
    assert resolve_data_root(None) == tmp_path
    assert str(resolve_data_root("elsewhere")) == "elsewhere"


# --------------------------------------------------------------------------- goals
def _expected_level(thresholds: list[float], value: float) -> int:
    """Independent statement of the rule: the highest level whose threshold is reached."""
    rising = thresholds[-1] > thresholds[0]
    reached = [k for k, t in zip((-1, 0, 1, 2), thresholds[1:]) if (value >= t if rising else value <= t)]
    return max(reached, default=-2)


@pytest.mark.parametrize("value", [10.0, 18.0, 19.99, 20.0, 21.0, 22.0, 25.9, 26.0, 40.0])
def test_level_rule_higher_is_better(value):
    g = make_goal("G1", "jar", "grip_strength_kgf", "right", 18, GRIP_LEVELS)
    assert g.higher_is_better
    assert attained_level(g, value) == _expected_level([18, 20, 22, 24, 26], value)


@pytest.mark.parametrize("value", [0.2, 0.08, 0.061, 0.06, 0.05, 0.045, 0.02, 0.0])
def test_level_rule_lower_is_better(value):
    thr = [0.08, 0.06, 0.045, 0.03, 0.02]
    g = make_goal("G1", "steady", "spiral_tremor_rms_cm", "right", 0.07, list(zip("abcde", thr)))
    assert not g.higher_is_better
    assert attained_level(g, value) == _expected_level(thr, value)
    assert attained_level(g, float("nan")) is None and attained_level(g, None) is None


def test_goal_validation_messages():
    with pytest.raises(MotorlabError, match="unknown metric 'grip'.*grip_strength_kgf"):
        make_goal("G1", "t", "grip", "right", 1, GRIP_LEVELS)
    with pytest.raises(MotorlabError, match="exactly 5 levels"):
        make_goal("G1", "t", "grip_strength_kgf", "right", 1, GRIP_LEVELS[:4])
    with pytest.raises(MotorlabError, match="all rise .* or all fall"):
        make_goal(
            "G1", "t", "grip_strength_kgf", "right", 1, [("a", 1), ("b", 3), ("c", 2), ("d", 4), ("e", 5)]
        )
    with pytest.raises(MotorlabError, match="higher is better, so thresholds should rise"):
        make_goal(
            "G1", "t", "grip_strength_kgf", "right", 1, [("a", 5), ("b", 4), ("c", 3), ("d", 2), ("e", 1)]
        )
    with pytest.raises(MotorlabError, match="per hand"):
        make_goal("G1", "t", "grip_strength_kgf", "n/a", 1, GRIP_LEVELS)
    with pytest.raises(MotorlabError, match="weight must be positive"):
        make_goal("G1", "t", "grip_strength_kgf", "right", 1, GRIP_LEVELS, weight=0)
    with pytest.raises(MotorlabError, match="target date '31/12/2026'"):
        make_goal("G1", "t", "grip_strength_kgf", "right", 1, GRIP_LEVELS, target_date="31/12/2026")
    with pytest.raises(MotorlabError, match="threshold of level -1 'x' is not a number"):
        make_goal(
            "G1", "t", "grip_strength_kgf", "right", 1, [("a", 1), ("b", "x"), ("c", 3), ("d", 4), ("e", 5)]
        )


def test_goal_store_round_trip(tmp_path):
    store = GoalStore(tmp_path, "P001")
    assert store.load() == [] and store.next_id() == "G1"
    g1 = make_goal("G1", "Open a jar", "grip_strength_kgf", "right", 18, GRIP_LEVELS, 2, "2026-06-30")
    store.put(g1)
    g2 = make_goal(
        store.next_id(),
        "Steady",
        "rest_tremor_rms_ms2",
        "left",
        0.5,
        list(zip("abcde", [0.6, 0.5, 0.4, 0.3, 0.2])),
    )
    store.put(g2)
    assert store.path == tmp_path / "derivatives/motorlab/sub-P001/sub-P001_goals.json"
    assert store.load() == [g1, g2]
    store.put(make_goal("G1", "Open two jars", "grip_strength_kgf", "right", 18, GRIP_LEVELS))
    assert [g.title for g in store.load()] == ["Open two jars", "Steady"]
    store.remove("G2")
    assert [g.goal_id for g in store.load()] == ["G1"]
    with pytest.raises(MotorlabError, match="no goal G9"):
        store.remove("G9")
    store.path.write_text("{not json")
    with pytest.raises(MotorlabError, match="sub-P001_goals.json: unreadable goals file"):
        store.load()


# ----------------------------------------------------------------- session history
def test_sessions_are_listed_with_dates_tasks_and_devices(clinic):
    sessions = client_sessions(clinic.root, "P007")
    assert [s.label for s in sessions] == ["01", "02", "03"]
    assert [s.date for s in sessions] == [t.date for t in clinic.sessions]
    assert all(s.tasks == ["grip", "spiral", "tremorrest"] for s in sessions)
    grip = sessions[0].recordings_of("grip")[0]
    assert (grip.device_serial, grip.calibration_id, grip.status) == (
        "DYN-0042",
        "cal-2026-02-20-a",
        "complete",
    )
    assert find_session(sessions, None).label == "03" and find_session(sessions, 2).label == "02"
    with pytest.raises(MotorlabError, match="no session 7; recorded sessions: 01, 02, 03"):
        find_session(sessions, "7")
    assert client_sessions(clinic.root, "P404") == []


def test_session_measurements_match_the_generating_values(clinic):
    for ses, truth in zip(client_sessions(clinic.root, "P007"), clinic.sessions):
        m = measure_session(ses)
        for hand in ("right", "left"):
            assert m.value("grip_strength_kgf", hand) == pytest.approx(truth.grip_mean_kgf(hand), abs=0.15)
            assert m.n_trials[("grip_strength_kgf", hand)] == 3
        # radial tremor a*sin -> RMS a/sqrt(2); IMU tremor: x amplitude a, y a/2 -> vector RMS a*sqrt(5/8)
        assert m.value("spiral_tremor_rms_cm", "right") == pytest.approx(
            truth.spiral_tremor_amp_cm / math.sqrt(2), rel=0.1
        )
        assert m.value("rest_tremor_rms_ms2", "right") == pytest.approx(
            truth.rest_tremor_amp_ms2 * math.sqrt(5 / 8), rel=0.05
        )
        assert m.value("grip_strength_kgf", "n/a") is None


def test_unreadable_recording_becomes_an_error_line(tmp_path):
    truth = write_sample_clinic(
        tmp_path,
        sessions=[({"right": (20.0, 20.0, 20.0), "left": (15.0, 15.0, 15.0)}, 0.05, 0.3)],
        goals=False,
    )
    ses = client_sessions(truth.root, "P007")[0]
    corrupt_recording(ses.recordings_of("grip")[0].path, "wrong_columns")
    m = measure_session(ses)
    bad = [r for r in m.results if r.error]
    assert len(bad) == 1 and "task-grip" in bad[0].error and "columns" in bad[0].error
    assert m.value("grip_strength_kgf", "right") is None
    assert m.value("rest_tremor_rms_ms2", "right") is not None


# ------------------------------------------------------------------------------ CLI
def test_client_commands(tmp_path, capsys):
    data = str(tmp_path / "clinic")
    assert (
        main(
            [
                "client",
                "add",
                "P031",
                "--birth-year",
                "1949",
                "--sex",
                "m",
                "--dominant",
                "left",
                "--data",
                data,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "client",
                "add",
                "P031",
                "--birth-year",
                "1949",
                "--sex",
                "M",
                "--dominant",
                "left",
                "--data",
                data,
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "Traceback" not in err
    assert (
        main(
            [
                "client",
                "add",
                "Smith",
                "--birth-year",
                "1949",
                "--sex",
                "M",
                "--dominant",
                "left",
                "--data",
                data,
            ]
        )
        == 2
    )
    assert "looks like a name" in capsys.readouterr().err
    assert main(["client", "list", "--data", data]) == 0
    out = capsys.readouterr().out
    assert "P031" in out and "1949" in out and "left" in out
    assert main(["client", "show", "P031", "--data", data]) == 0
    assert "no sessions recorded yet" in capsys.readouterr().out


def test_client_show_lists_sessions(clinic, capsys):
    assert main(["client", "show", "P007", "--data", str(clinic.root)]) == 0
    out = capsys.readouterr().out
    for ses in clinic.sessions:
        assert ses.date.isoformat() in out
    assert "3 goal(s)" in out


def test_goals_set_with_flags_json_and_questions(tmp_path, capsys, monkeypatch):
    truth = write_sample_clinic(
        tmp_path,
        sessions=[({"right": (20.0, 20.4, 19.6), "left": (15.0, 15.0, 15.0)}, 0.05, 0.3)],
        goals=False,
    )
    data = str(truth.root)
    store = GoalStore(truth.root, "P007")
    # flags, baseline taken from the latest measurement (mean of the three right-hand trials)
    assert (
        main(
            [
                "goals",
                "set",
                "P007",
                "--metric",
                "grip_strength_kgf",
                "--hand",
                "right",
                "--title",
                "Jar",
                "--thresholds",
                "20,22,24,26,28",
                "--target-date",
                "2026-09-30",
                "--data",
                data,
            ]
        )
        == 0
    )
    g = store.load()[0]
    assert g.goal_id == "G1" and g.baseline == pytest.approx(20.0, abs=0.15) and g.target_date == "2026-09-30"
    assert [lv.threshold for lv in g.levels] == [20, 22, 24, 26, 28]
    # missing pieces are named
    assert main(["goals", "set", "P007", "--metric", "grip_strength_kgf", "--data", data]) == 2
    assert "--title and --thresholds" in capsys.readouterr().err
    assert (
        main(
            [
                "goals",
                "set",
                "P007",
                "--metric",
                "writing_speed_cm_s",
                "--hand",
                "right",
                "--title",
                "x",
                "--thresholds",
                "1,2,3,4,5",
                "--data",
                data,
            ]
        )
        == 2
    )
    assert "no measured writing_speed_cm_s yet" in capsys.readouterr().err
    # JSON file (a list), IDs continue
    spec = [
        {
            "title": "Steady spiral",
            "metric": "spiral_tremor_rms_cm",
            "hand": "right",
            "baseline": 0.035,
            "levels": [
                {"description": d, "threshold": t} for d, t in zip("abcde", [0.05, 0.04, 0.03, 0.02, 0.01])
            ],
            "weight": 2,
        }
    ]
    f = tmp_path / "goals.json"
    f.write_text(json.dumps(spec))
    assert main(["goals", "set", "P007", "--from-json", str(f), "--data", data]) == 0
    assert [x.goal_id for x in store.load()] == ["G1", "G2"] and store.load()[1].weight == 2
    f.write_text(json.dumps({"goals": [{"title": "x", "metric": "grip_strength_kgf"}]}))
    assert main(["goals", "set", "P007", "--from-json", str(f), "--data", data]) == 2
    assert "goal 1: goal is missing the field 'baseline'" in capsys.readouterr().err
    # interactive: metric by number, default hand, a wrong number is asked again, defaults accepted
    answers = (
        "\n".join(
            ["1", "", "Lift a kettle", "", "", "", "", "x", "21", "", "23", "", "25", "", "27", "", "", "y"]
        )
        + "\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(answers))
    assert main(["goals", "set", "P007", "--data", data]) == 0
    out = capsys.readouterr().out
    assert "latest measured grip strength: 20.0 kg" in out and "'x' is not a number" in out
    g3 = store.load()[2]
    assert (g3.goal_id, g3.title, g3.hand, g3.weight) == ("G3", "Lift a kettle", "right", 1.0)
    assert [lv.threshold for lv in g3.levels] == [pytest.approx(20.0, abs=0.15), 21, 23, 25, 27]
    assert [lv.description for lv in g3.levels][2] == "expected outcome"
    # input that ends early saves nothing
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n"))
    assert main(["goals", "set", "P007", "--data", data]) == 2
    assert "input ended" in capsys.readouterr().err and len(store.load()) == 3
    assert main(["goals", "list", "P007", "--data", data]) == 0
    out = capsys.readouterr().out
    assert "G1: Jar" in out and "G3: Lift a kettle" in out and "Steady spiral" in out
    assert main(["goals", "remove", "P007", "G2", "--data", data]) == 0
    assert [x.goal_id for x in store.load()] == ["G1", "G3"]


# ------------------------------------------------------------ typed metric readers
def test_catalog_reads_each_metric_from_the_typed_result():
    """Each catalog metric is read from typed fields, credited to the right hand (issue 10)."""
    import dataclasses

    from motorlab.analysis import analyze_recording
    from motorlab.clinic.metric_catalog import goal_metric

    from .analysis_cases import CASES

    def analysed(name, **meta):
        rec = CASES[name]()
        return analyze_recording(dataclasses.replace(rec, metadata=rec.metadata.replace(**meta)))

    hw = analysed("handwriting_positions", hand="left")
    speed = goal_metric("writing_speed_cm_s")
    assert speed.read(hw, "left") == (hw.handwriting.result.writing_speed_cm_per_s, 1)
    assert speed.read(hw, "right") == (None, 0) and 3.0 < hw.handwriting.result.writing_speed_cm_per_s < 6.0
    sus = analysed("sustained")
    fatigue = goal_metric("sustained_grip_fatigue_pct")
    assert fatigue.read(sus, "right") == (sus.gripsustained.trials[0].result.fatigue_index_pct, 1)
    assert fatigue.read(hw, "right") == (None, 0)  # another task measures nothing here
    grip = analysed("grip_invalid_trial")
    strength = goal_metric("grip_strength_kgf")
    value, n = strength.read(grip, "right")
    assert n == 2 and value == pytest.approx((300.0 + 290.0) / 2 / 9.80665)  # the invalid trial is left out
    tremor = analysed("tremor_postural")
    assert goal_metric("postural_tremor_rms_ms2").read(tremor, "right") == (
        tremor.tremor.accelerometer.rms,
        1,
    )
    gyro_only = analysed("tremor_rest_gyro_only_with_gap")
    assert goal_metric("rest_tremor_rms_ms2").read(gyro_only, "left") == (None, 0)  # no accelerometer
