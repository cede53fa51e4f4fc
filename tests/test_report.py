"""The session report: numbers against the generating values, HTML and PDF content, the command."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest

from motorlab.cli.main import main
from motorlab.clinic import GoalStore, client_sessions, make_goal
from motorlab.errors import MotorlabError
from motorlab.report import build_report, collect
from motorlab.report.build import SECTION_TITLES
from motorlab.sim.dataset import corrupt_recording
from motorlab.sim.sample_clinic import write_sample_clinic

LB_KG = 0.45359237
# Mathiowetz et al. 1985, women 65-69 (metrics.md §3.3), lb: mean, SD
NORM_F_65_69 = {"right": (49.6, 9.7), "left": (41.0, 8.2)}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return write_sample_clinic(tmp_path_factory.mktemp("clinic"))


@pytest.fixture(scope="module")
def report(clinic):
    return build_report(clinic.root, clinic.participant)


def _pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; CI installs it via .ci/run")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _html_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.replace("<wbr>", "")))


def _gas_t(levels, weights, rho=0.3):
    """Kiresuk & Sherman 1968 T-score (metrics.md §5), written out independently."""
    sw = sum(w * x for w, x in zip(weights, levels))
    return 50 + 10 * sw / math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)


def test_numbers_match_the_generating_values(clinic, report):
    data = report.data
    last, first, prev = clinic.sessions[-1], clinic.sessions[0], clinic.sessions[-2]
    assert data.session.label == "03" and data.age == 2026 - 1958
    for hand in ("right", "left"):
        ln = data.line("grip_strength_kgf", hand)
        assert ln.value == pytest.approx(last.grip_mean_kgf(hand), abs=0.15)
        assert ln.baseline == pytest.approx(first.grip_mean_kgf(hand), abs=0.15)
        assert ln.previous == pytest.approx(prev.grip_mean_kgf(hand), abs=0.15)
        assert (ln.baseline_session, ln.previous_session) == ("01", "02")
        mean_lb, sd_lb = NORM_F_65_69[hand]
        z = (ln.value - mean_lb * LB_KG) / (sd_lb * LB_KG)
        assert ln.norm.z == pytest.approx(z, rel=1e-9)
        assert ln.norm.percentile == pytest.approx(50 * (1 + math.erf(z / math.sqrt(2))), rel=1e-9)
        assert ln.mdc == 4.9  # Bai 2019, baseline <= 20 kg
    right, left = data.line("grip_strength_kgf", "right"), data.line("grip_strength_kgf", "left")
    # right: +3.5 kg since last (within 4.9), +6.5 kg since baseline (real); left: all within noise
    assert right.real(right.change_previous) is False and right.real(right.change_baseline) is True
    assert left.real(left.change_previous) is False and left.real(left.change_baseline) is False
    spiral = data.line("spiral_tremor_rms_cm", "right")
    assert spiral.value == pytest.approx(last.spiral_tremor_amp_cm / math.sqrt(2), rel=0.1)
    # tremor amplitudes: the test-retest band of 66 % of the first session (Elble et al. 2016)
    assert spiral.mdc == pytest.approx(0.66 * spiral.baseline)
    assert spiral.real(spiral.change_baseline) is (abs(spiral.change_baseline) > spiral.mdc)


def test_goals_are_scored_from_the_measurements(clinic, report):
    goals = {g.goal_id: g for g in GoalStore(clinic.root, clinic.participant).load()}
    last = clinic.sessions[-1]
    truth_values = {
        "G1": last.grip_mean_kgf("right"),
        "G2": last.grip_mean_kgf("left"),
        "G3": last.spiral_tremor_amp_cm / math.sqrt(2),
    }
    expected = {}
    for gid, value in truth_values.items():
        thr = [lv.threshold for lv in goals[gid].levels]
        rising = thr[-1] > thr[0]
        reached = [k for k, t in zip((-1, 0, 1, 2), thr[1:]) if (value >= t if rising else value <= t)]
        expected[gid] = max(reached, default=-2)
    assert expected == {"G1": 1, "G2": -1, "G3": 0}  # the sample is built to land mid-level
    scored = {gs.goal.goal_id: gs for gs in report.data.goals}
    assert {gid: gs.level for gid, gs in scored.items()} == expected
    assert all(gs.baseline_level == -2 for gs in scored.values())
    weights = [goals[g].weight for g in ("G1", "G2", "G3")]
    assert report.data.gas_tscore == pytest.approx(_gas_t([1, -1, 0], weights), abs=1e-9)


def test_html_is_self_contained_with_every_section(report):
    html = report.html.read_text(encoding="utf-8")
    assert report.html.name == "sub-P007_ses-03_report.html"
    assert report.html.parent.parts[-3:] == ("derivatives", "motorlab", "sub-P007")
    for title in SECTION_TITLES.values():
        assert f"<h2>{title}</h2>" in html
    assert re.findall(r"<h2>([^<]+)</h2>", html) == list(SECTION_TITLES.values())
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith(("data:", "#")) for s in srcs)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    n_figs = sum(type(b).__name__ == "Figure" for s in report.document.sections for b in s.blocks)
    assert html.count('src="data:image/png;base64,') == n_figs >= 7
    text = _html_text(html)
    right = report.data.line("grip_strength_kgf", "right")
    assert f"{right.value:.1f} kg" in text and f"+{right.change_baseline:.1f} kg" in text
    assert "a real improvement" in text and "within normal day-to-day variation" in text
    assert f"GAS T-score: {report.data.gas_tscore:.1f}" in text
    assert "Age at session 68 years" in text and "DYN-0042" in text and "cal-2026-02-20-a" in text
    assert html.count('class="plain"') >= 8


def test_pdf_has_the_same_sections_in_the_same_order(report):
    text = _pdf_text(report.pdf)
    pos = [text.find(t) for t in SECTION_TITLES.values()]
    assert all(p >= 0 for p in pos), dict(zip(SECTION_TITLES.values(), pos))
    assert pos == sorted(pos)
    html_text = _html_text(report.html.read_text(encoding="utf-8"))
    flat = re.sub(r"\s+", " ", text)
    for needle in (
        "P007",
        f"GAS T-score: {report.data.gas_tscore:.1f}",
        "In plain words:",
        f"{report.data.line('grip_strength_kgf', 'left').value:.1f} kg",
        "Mathiowetz",
    ):
        assert needle in flat and needle in html_text


def test_report_of_an_earlier_session_ignores_later_ones(clinic, tmp_path):
    files = build_report(clinic.root, "P007", session=2, out_dir=tmp_path)
    assert files.html == tmp_path / "sub-P007_ses-02_report.html" and files.pdf.exists()
    d = files.data
    assert [s.label for s in d.sessions] == ["01", "02"]
    ln = d.line("grip_strength_kgf", "right")
    assert ln.previous_session == ln.baseline_session == "01"
    assert ln.value == pytest.approx(clinic.sessions[1].grip_mean_kgf("right"), abs=0.15)


def test_first_session_report_has_nothing_to_compare(clinic, tmp_path):
    files = build_report(clinic.root, "P007", session="01", out_dir=tmp_path)
    text = _html_text(files.html.read_text(encoding="utf-8"))
    assert "nothing to compare yet" in text and "recorded in two or more sessions" in text
    assert _pdf_text(files.pdf).count("nothing to compare yet") == 1


def test_hostile_text_is_escaped_and_bad_files_are_reported(tmp_path):
    truth = write_sample_clinic(
        tmp_path,
        sessions=[
            ({"right": (20.0, 20.0, 20.0), "left": (15.0, 15.0, 15.0)}, 0.05, 0.3),
            ({"right": (21.0, 21.0, 21.0), "left": (15.0, 15.0, 15.0)}, 0.05, 0.3),
        ],
        goals=False,
    )
    GoalStore(truth.root, "P007").put(
        make_goal(
            "G1",
            "<script>alert(1)</script> & more",
            "grip_strength_kgf",
            "right",
            20,
            [("<b>x</b>", 20), ("b", 21), ("c", 22), ("d", 23), ("e", 24)],
        )
    )
    ses = client_sessions(truth.root, "P007")[-1]
    corrupt_recording(ses.recordings_of("spiral")[0].path, "bad_json")
    files = build_report(truth.root, "P007")
    html = files.html.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    text = _html_text(html)
    assert (
        "Recordings that could not be analysed" in text and "task-spiral" in text and "not valid JSON" in text
    )


def test_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(MotorlabError, match="no client 'P001'"):
        collect(tmp_path, "P001")
    data = str(tmp_path / "clinic")
    assert (
        main(
            [
                "client",
                "add",
                "P001",
                "--birth-year",
                "1970",
                "--sex",
                "F",
                "--dominant",
                "right",
                "--data",
                data,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["report", "P001", "--data", data]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no sessions recorded for P001" in err


def test_report_command(clinic, capsys, tmp_path):
    assert main(["report", "P007", "--data", str(clinic.root), "--session", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "session 02" in out and (tmp_path / "sub-P007_ses-02_report.pdf").exists()
    assert "Grip strength (right)" in out and "GAS T-score" in out
    assert main(["report", "P007", "--data", str(clinic.root), "--session", "9"]) == 2
    assert "no session 9; recorded sessions: 01, 02, 03" in capsys.readouterr().err


def test_report_from_emulated_dynamometer_recordings(tmp_path):
    """Real chain: grip emulator on a pseudo-terminal -> recorder -> BIDS -> report, against emulator truth."""
    import asyncio
    import json

    from motorlab.clinic import ClientRegistry, make_client
    from motorlab.session.protocols import grip_protocol
    from motorlab.session.recorder import RecordingTarget, record_task

    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P100", 1970, "M", "right"))
    proto = grip_protocol(trials=2, hands=("right",), countdown_s=0.3, squeeze_s=1.5, rest_s=0.3)
    truth_kgf = []
    for label, peak in (("01", 380.0), ("02", 450.0)):
        res = asyncio.run(
            record_task(
                f"sim://grip?seed=5&peak_n={peak}", proto, RecordingTarget(root, "P100", session=label)
            )
        )
        side = json.loads(
            res.path.with_name(res.path.name.replace("_motion.tsv", "_motion.json")).read_text()
        )
        peaks = [t["peak_n"] / 9.80665 for t in side["MotorlabEmulatorTruth"] if t.get("peak_n")]
        assert len(peaks) == 2
        truth_kgf.append(sum(peaks) / len(peaks))
    files = build_report(root, "P100")
    ln = files.data.line("grip_strength_kgf", "right")
    assert ln.value == pytest.approx(truth_kgf[1], rel=0.01)
    assert ln.baseline == pytest.approx(truth_kgf[0], rel=0.01)
    assert ln.real(ln.change_baseline) is (abs(truth_kgf[1] - truth_kgf[0]) > ln.mdc)
    assert files.data.age == files.data.session.date.year - 1970
    device = files.data.session.recordings[0].device_model
    assert device != "n/a" and device in _html_text(files.html.read_text(encoding="utf-8"))
    assert "Change since last session and since baseline" in _pdf_text(files.pdf)


def test_report_draws_the_analysed_arrays_and_never_rereads_a_recording(clinic, monkeypatch):
    """The figures show exactly the arrays the numbers were computed from (issue 10)."""
    from motorlab.report import build_document, figures
    from motorlab.storage import bids

    data = collect(clinic.root, clinic.participant)

    def refuse(*args, **kwargs):
        raise AssertionError("the report read a recording again")

    monkeypatch.setattr(bids, "read_recording", refuse)
    drawn: dict[str, tuple] = {}
    for name in ("force_curves_png", "pen_trace_png", "tremor_trace_png"):
        real = getattr(figures, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            drawn[_name] = args
            return _real(*args, **kwargs)

        monkeypatch.setattr(figures, name, spy)
    doc = build_document(data)
    by_task = {r.info.task: r.metrics for r in data.current.results}
    grip, spiral, tremor = by_task["grip"].grip, by_task["spiral"].spiral, by_task["tremorrest"].tremor
    t_s, force_n, spans = drawn["force_curves_png"]
    assert t_s is grip.t_s and force_n is grip.force_n
    assert [(s.hand, s.trial) for s in spans] == [(t.hand, t.trial) for t in grip.trials]
    assert [s.peak_kgf for s in spans] == pytest.approx([t.result.peak_force_kgf for t in grip.trials])
    pos, pen_down = drawn["pen_trace_png"][:2]
    assert pos is spiral.pen.pos_cm and pen_down is spiral.pen.pen_down
    assert drawn["tremor_trace_png"][1] is tremor.acc_ms2
    traces = next(s for s in doc.sections if s.key == "traces")
    # force, pen trace, the spiral as drawn (ink coloured by speed, report/ink.py), tremor
    assert sum(type(b).__name__ == "Figure" for b in traces.blocks) == 4
    assert any(type(b).__name__ == "Figure" and "coloured by speed" in b.alt for b in traces.blocks)
