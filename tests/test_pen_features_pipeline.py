"""Children's handwriting features in the typed result of ``analyze_recording`` (issue 15).

One entry point = the pipeline: a browser-pen recording (made by the pen page's
``PenCapture``, read back from BIDS) analysed by ``analyze_recording`` carries the same
features as ``pen_features`` called on the same samples, the batch table has them as
columns with units in their names, and ``PenFeatureParams`` is a section of the analysis
parameters (provenance and cache key).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from motorlab.analysis import AnalysisParams, analyze_recording
from motorlab.analysis.batch import analyze_batch
from motorlab.analysis.handwriting_features import HandwritingFeatures, pen_features, pen_features_recording
from motorlab.analysis.params import PenFeatureParams
from motorlab.analysis.results import feature_column
from motorlab.devices.screen_calibration import ScreenInfo
from motorlab.errors import ParameterError
from motorlab.session.pen_capture import PenCapture, SurfaceInfo
from motorlab.session.protocols_pen import pen_task
from motorlab.storage.bids import read_recording

SCREEN = ScreenInfo(1280, 800, 2.0)
MM_PER_PX = 0.25
FS = 200.0


def _row(t_ms, x, y, p, buttons, alt, az):
    # WIRE_FIELDS order: t, x, y, pressure, tiltX, tiltY, altitude, azimuth, twist, width, buttons,
    # pointer type (0 = pen), ..., kind
    return [t_ms, x, y, p, 0, 0, alt, az, 0, 0, buttons, 0, 2, 0]


def _loops_px(dur_s: float = 4.0):
    """Joined loops written left to right (CSS px, y down), three pen lifts, varying pressure and tilt."""
    t = np.arange(0, dur_s, 1 / FS)
    x = 120 + 60 * t + 12 * np.sin(2 * np.pi * 2.5 * t)
    y = 220 - 36 * np.sin(2 * np.pi * 1.25 * t) ** 2
    down = (t % 1.0) < 0.8
    p = 0.45 + 0.2 * np.sin(2 * np.pi * 1.25 * t)
    alt = 0.9 + 0.05 * np.sin(t)  # rad on the wire
    az = (1.0 + 0.3 * np.sin(0.7 * t)) % (2 * np.pi)
    return t, x, y, down, p, alt, az


def _record(tmp_path, kind: str):
    surface = SurfaceInfo(800.0, 400.0, MM_PER_PX, "cal-1", "card")
    cap = PenCapture(
        tmp_path, "P015", "01", pen_task(kind, surface.size_mm, age_y=8), surface, SCREEN, t0_ms=0.0
    )
    t, x, y, down, p, alt, az = _loops_px()
    rows = [
        _row(1000 * ti, xi, yi, pi, int(d), ai, zi)
        for ti, xi, yi, d, pi, ai, zi in zip(t, x, y, down, p, alt, az)
    ]
    for i in range(0, len(rows), 100):
        cap.feed({"seq": i // 100, "samples": rows[i : i + 100]})
    cap.close(n_sent=len(rows))
    return read_recording(cap.path)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


def _same_features(a: HandwritingFeatures, b: HandwritingFeatures) -> bool:
    """Equal task-level values and per-stroke values (NaN equals NaN)."""
    if a.to_dict().keys() != b.to_dict().keys() or len(a.strokes) != len(b.strokes):
        return False
    strokes = all(
        _same(getattr(s, f.name), getattr(t, f.name))
        for s, t in zip(a.strokes, b.strokes)
        for f in dataclasses.fields(s)
    )
    return strokes and all(_same(v, b.to_dict()[k]) for k, v in a.to_dict().items())


@pytest.mark.parametrize(
    ("kind", "task"), [("sentence", "handwriting"), ("loops", "loops"), ("trace", "tracing")]
)
def test_analyze_recording_gives_the_features_of_a_direct_call(tmp_path, kind, task):
    rec = _record(tmp_path, kind)
    assert rec.metadata.task == task
    m = analyze_recording(rec)
    assert m.handwriting is not None and m.task == task
    got = m.handwriting.features
    assert isinstance(got, HandwritingFeatures)
    # the recording adapter (whole recording: no trial events) is the same computation
    assert _same_features(got, pen_features_recording(rec))
    # and so is pen_features on the stored samples themselves (mm, pen-down, pressure, angles)
    # at the recording's own rate (1 / median interval of the stored times, 200 Hz)
    assert rec.sampling_rate == pytest.approx(FS)
    direct = pen_features(
        np.column_stack([rec.channel("pos_x"), rec.channel("pos_y")]) * 10.0,
        rec.channel("pen_down") > 0,
        rec.sampling_rate,
        pressure=rec.channel("pressure"),
        altitude_deg=rec.channel("altitude"),
        azimuth_deg=rec.channel("azimuth"),
        timestamps_s=rec.timestamps,
    )
    assert _same_features(got, direct)
    # known values of the sent trajectory: 4 strokes, 3 lifts of 0.2 s, 15 mm/s drift
    assert got.n_strokes == 4 and got.in_air_time_s == pytest.approx(4 * 0.2 - 0.2 + 3 / FS, abs=1e-9)
    assert got.pressure_mean == pytest.approx(
        float(np.mean(rec.channel("pressure")[rec.channel("pen_down") > 0]))
    )
    assert 40 < got.altitude_mean_deg < 60 and got.letter_height_mm > 5


def test_table_rows_carry_the_features_with_units(tmp_path):
    rec = _record(tmp_path, "sentence")
    m = analyze_recording(rec)
    (row,) = m.to_rows()
    feats = m.handwriting.features
    for name, value in feats.to_dict().items():
        assert _same(row[feature_column(name)], value), name
    # names the handwriting metrics already use get the "pen_" prefix; the metrics keep theirs
    assert row["n_strokes"] == m.handwriting.result.n_strokes
    assert row["pen_n_strokes"] == feats.n_strokes == 4
    assert {"letter_height_mm", "writing_area_mm2", "speed_mm_s", "tremor_band_power_mm2_s2"} <= set(row)
    assert "pen_in_air_ratio" in row and "pen_niv_per_stroke" in row


def test_batch_table_has_the_feature_columns(tmp_path):
    rec_dir = tmp_path / "data"
    rec = _record(rec_dir, "loops")
    res = analyze_batch(rec_dir, jobs=1)
    assert not res.errors
    (row,) = [r for r in res.rows if r["task"] == "loops"]
    f = pen_features_recording(rec)
    assert row["letter_height_mm"] == pytest.approx(f.letter_height_mm, rel=1e-9)
    assert row["pen_n_strokes"] == 4 and row["speed_mm_s"] == pytest.approx(f.speed_mm_s, rel=1e-9)
    assert res.provenance["parameters"]["penfeatures"] == PenFeatureParams().to_dict()


def test_pen_feature_params_are_analysis_parameters(tmp_path):
    rec = _record(tmp_path, "sentence")
    p = AnalysisParams.from_mapping({"penfeatures": {"word_gap_factor": 100.0}})
    assert p.to_dict()["penfeatures"]["word_gap_factor"] == 100.0
    assert AnalysisParams.from_mapping(p.to_dict()) == p and p != AnalysisParams()
    m = analyze_recording(rec, p)
    assert _same_features(m.handwriting.features, pen_features_recording(rec, p.penfeatures))
    assert m.handwriting.features.n_word_spaces == 0  # no gap is 100 letter heights wide
    with pytest.raises(ParameterError, match="penfeatures.stop_min_s"):
        AnalysisParams.from_mapping({"penfeatures": {"stop_min_s": -1}})


def test_features_come_from_the_valid_trials_only(tmp_path):
    from motorlab.recording import Event

    rec = _record(tmp_path, "sentence")
    # the first second was a practice trial marked invalid: its stroke is left out
    events = [
        Event(0.0, 1.0, "trial", {"trial": 1, "status": "invalid"}),
        Event(1.0, 3.0, "trial", {"trial": 2, "status": "valid"}),
    ]
    rec2 = dataclasses.replace(rec, events=events)
    m = analyze_recording(rec2)
    f = m.handwriting.features
    assert f.n_strokes == 3
    assert f.strokes[0].start_s == pytest.approx(1.0, abs=1.5 / FS)


def _clinic_recording(root, session: str, kind: str, scale: float = 1.0):
    """A browser-pen recording of client P015 in ``session`` (loops ``scale`` x as tall)."""
    surface = SurfaceInfo(800.0, 400.0, MM_PER_PX, "cal-1", "card")
    task = pen_task(kind, surface.size_mm, age_y=8)
    cap = PenCapture(root, "P015", session, task, surface, SCREEN, t0_ms=0.0, hand="right")
    t, x, y, down, p, alt, az = _loops_px()
    y = 220 - (220 - y) * scale
    rows = [
        _row(1000 * ti, xi, yi, pi, int(d), ai, zi)
        for ti, xi, yi, d, pi, ai, zi in zip(t, x, y, down, p, alt, az)
    ]
    cap.feed({"seq": 0, "samples": rows})
    cap.close(n_sent=len(rows))
    return read_recording(cap.path)


def test_report_and_catalog_show_the_features_with_units(tmp_path):
    from motorlab.clinic import ClientRegistry, make_client
    from motorlab.clinic.metric_catalog import GOAL_METRICS
    from motorlab.report import build_report

    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P015", 2018, "F", "right"))
    _clinic_recording(root, "01", "sentence", scale=0.8)
    now = _clinic_recording(root, "02", "sentence")
    loops = _clinic_recording(root, "02", "loops", scale=1.5)
    files = build_report(root, "P015")
    feats = pen_features_recording(now)
    html = files.html.read_text(encoding="utf-8")
    # the results' handwriting section: the feature table with units, values of this session
    assert "Letter height" in html and f"{feats.letter_height_mm:.1f} mm" in html
    assert f"{feats.speed_mm_s:.1f} mm/s" in html and "mm²/s²" in html
    # the loops recording (no catalog measure) gets its own feature table after its heading
    from motorlab.report.document import Subheading, Table

    blocks = files.document.section("results").blocks
    heads = [i for i, b in enumerate(blocks) if isinstance(b, Subheading) and b.text == "Loops (lllll)"]
    assert len(heads) == 1
    table = blocks[heads[0] + 1]
    assert isinstance(table, Table)
    by_label = {r[0]: r[1] for r in table.rows}
    assert table.columns == ("Feature", "right hand")
    assert by_label["Letter height"] == f"{pen_features_recording(loops).letter_height_mm:.1f} mm"
    assert pen_features_recording(loops).letter_height_mm == pytest.approx(1.5 * feats.letter_height_mm)
    # catalog measures for progress: read from the typed result, fixed chart scale, no band
    data = files.data
    assert data.line("pen_niv_per_stroke", "right").value == pytest.approx(feats.niv_per_stroke)
    ln = data.line("pen_in_air_ratio", "right")
    assert ln.value == pytest.approx(feats.in_air_ratio) and ln.previous is not None and ln.mdc is None
    for key in ("letter_height_cv_pct", "pen_in_air_ratio", "pen_niv_per_stroke"):
        m = GOAL_METRICS[key]
        assert m.task == "handwriting" and m.band is None and m.chart_max and not m.higher_is_better
