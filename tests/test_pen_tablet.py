"""Browser pen pieces without a browser: codec, screen calibration, tasks, the capture session
(crash-safe file), export round trips and the handwriting features (known values, invariance)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from motorlab.analysis.handwriting_features import compare_with_earlier, pen_features, pen_features_recording
from motorlab.devices.calibration import CalibrationError, CalibrationStore
from motorlab.devices.codecs.browser_pen import (
    CHANNEL_NAMES,
    WIRE_FIELDS,
    BrowserPenCodec,
    tilt_to_altitude_azimuth,
)
from motorlab.devices.screen_calibration import (
    ScreenInfo,
    card_mm_per_px,
    latest_screen_calibration,
    line_mm_per_px,
    save_screen_calibration,
    screen_calibration,
)
from motorlab.devices.spec import BROWSER_PEN, device
from motorlab.errors import MotorlabWarning, ParameterError
from motorlab.session.pen_capture import PenCapture, SurfaceInfo
from motorlab.session.protocols_pen import copy_sentence, pen_task
from motorlab.storage.bids import read_header, read_recording
from motorlab.storage.importers import read_inkml, read_svc, write_inkml, write_svc

SCREEN = ScreenInfo(1280, 800, 2.0)


def row(t, x, y, p=0.5, buttons=1, ptype=0, kind=0, tx=0, ty=0, alt=None, az=None):
    return [t, x, y, p, tx, ty, alt, az, 0, 0, buttons, ptype, 2, kind]


def test_tilt_conversion_matches_chromium_and_the_special_cases():
    alt, az = tilt_to_altitude_azimuth(
        np.array([15.0, 0.0, 0.0, 90.0, 0.0]), np.array([25.0, 0.0, -30.0, 0.0, 40.0])
    )
    # Chromium 156 reported 1.0774 / 1.0492 rad for tiltX 15, tiltY 25 (research/tablet.md §1.1)
    assert alt[0] == pytest.approx(1.0774, abs=1e-4) and az[0] == pytest.approx(1.0492, abs=1e-4)
    assert alt[1] == pytest.approx(math.pi / 2) and az[1] == 0.0  # perpendicular
    assert az[2] == pytest.approx(3 * math.pi / 2) and az[4] == pytest.approx(math.pi / 2)
    assert alt[3] == 0.0  # flat on the surface


def test_codec_stores_pen_samples_refuses_mouse_and_touch_and_never_raises():
    codec = BrowserPenCodec(t0_ms=1000.0, mm_per_px=0.25, surface_height_px=400.0)
    msg = {
        "type": "samples",
        "seq": 0,
        "samples": [
            row(1000.0, 40.0, 100.0, p=0.0, buttons=0, tx=15, ty=25),  # hover, angles computed
            row(1005.0, 41.0, 100.0, p=0.7, buttons=1, kind=1, alt=1.0, az=2.0),
            row(1006.0, 50.0, 50.0, p=0.5, buttons=1, ptype=1),  # mouse: refused
            row(1007.0, 50.0, 50.0, p=0.5, buttons=1, ptype=2),  # touch: refused
            row(1008.0, 41.0, 100.0, p=0.0, buttons=0, kind=3),  # cancel: an event
            ["bad"],
            row(float("nan"), 1, 1),
        ],
    }
    batch = codec.feed(json.dumps(msg))
    assert batch.t_s.tolist() == [0.0, 0.005]
    v = dict(zip(CHANNEL_NAMES, batch.values.T))
    assert v["pos_x"].tolist() == pytest.approx([1.0, 1.025])  # 40 px x 0.25 mm = 10 mm = 1 cm
    assert v["pos_y"].tolist() == pytest.approx([7.5, 7.5])  # (400 - 100) px x 0.25 mm, y up
    assert v["pen_down"].tolist() == [0.0, 1.0] and v["pressure"].tolist() == [0.0, pytest.approx(0.7)]
    assert v["altitude"][0] == pytest.approx(math.degrees(1.0774), abs=0.01)
    assert v["altitude"][1] == pytest.approx(math.degrees(1.0)) and v["azimuth"][1] == pytest.approx(
        math.degrees(2.0)
    )
    assert [e.kind for e in batch.events] == ["pointercancel"]
    st = codec.stats
    assert (st.refused_mouse, st.refused_touch, st.malformed, st.cancels, st.angles_computed) == (
        1,
        1,
        2,
        1,
        1,
    )
    assert codec.feed(b"{not json").t_s.size == 0 and codec.feed({"samples": 3}).t_s.size == 0
    codec.feed({"seq": 5, "samples": []})
    assert st.seq_gaps == 1 and st.malformed == 4


def test_screen_calibration_card_and_line_are_stored_per_screen(tmp_path):
    mm, dis = card_mm_per_px(340.0, 340.0 * 53.98 / 85.60)
    assert mm == pytest.approx(85.60 / 340) and dis == pytest.approx(0, abs=1e-12)
    with pytest.raises(CalibrationError, match="not card-shaped"):
        card_mm_per_px(340.0, 340.0)
    assert line_mm_per_px(100.0, 400.0) == 0.25
    with pytest.raises(CalibrationError, match="outside"):
        line_mm_per_px(100.0, 4.0)
    store = CalibrationStore(tmp_path)
    assert latest_screen_calibration(SCREEN, store) is None
    cal = save_screen_calibration(screen_calibration(SCREEN, mm, "card"), store)
    got = latest_screen_calibration(SCREEN, store)
    assert got is not None and got.id == cal.id and got.gain["pos_x"] == pytest.approx(mm)
    assert latest_screen_calibration(ScreenInfo(1280, 800, 1.0), store) is None  # zoom changed: recalibrate


def test_tasks_choose_sentence_by_age_and_language_and_carry_geometry():
    assert copy_sentence(6, "en") == "I can see a big red bus."
    assert copy_sentence(9, "de").startswith("Franz jagt")
    with pytest.raises(ParameterError, match="language"):
        copy_sentence(9, "xx")
    sp = pen_task("spiral", (240.0, 135.0), variant="dynamic")
    assert sp.task == "spiraldynamic" and sp.blink_period_s == 1.0
    pts = np.array(sp.template["polylines"][0])
    r = np.hypot(*(pts - sp.template["centre_mm"]).T)
    assert r.max() == pytest.approx(sp.template["outer_radius_mm"], rel=1e-3)
    tr = pen_task("trace", (240.0, 135.0))
    assert tr.task == "tracing" and tr.template["length_mm"] == pytest.approx(240 - 2 * 15)
    assert pen_task("loops", (240.0, 135.0)).prompt == "lllll"
    with pytest.raises(ParameterError):
        pen_task("maze", (240.0, 135.0))


def _capture(tmp_path, calibrated=True):
    surface = SurfaceInfo(800.0, 400.0, 0.25, "cal-1" if calibrated else None, "card" if calibrated else "")
    task = pen_task("loops", surface.size_mm)
    return PenCapture(tmp_path, "P007", "01", task, surface, SCREEN, t0_ms=500.0, time_origin_ms=1.7e12)


def test_capture_is_on_disk_while_it_streams_and_finalises_with_timing_and_flags(tmp_path):
    cap = _capture(tmp_path, calibrated=False)
    rows = [row(500.0 + 5 * i, 100 + i, 200, p=0.5, buttons=1) for i in range(40)]
    cap.feed({"seq": 0, "samples": rows[:20]})
    with pytest.warns(UserWarning, match="not finalised"):
        mid = read_recording(cap.path)  # readable mid-recording (status "recording")
    assert mid.n_samples == 20 and read_header(cap.path).status == "recording"
    cap.feed({"seq": 1, "samples": rows[20:]})
    res = cap.close(n_sent=42)
    head = read_header(cap.path)
    codes = {f["code"] for f in head.metadata.extra["quality_flags"]}
    assert codes == {"screen_uncalibrated", "samples_lost", "pressure_constant"}
    assert res["lost"] == 2 and head.sidecar["MotorlabSamplesLost"] == 2
    assert head.sidecar["SamplingFrequency"] == pytest.approx(200.0)
    assert head.sidecar["MotorlabSamplingTime"]["median_interval_ms"] == pytest.approx(5.0)
    assert head.sidecar["MotorlabPenCapture"]["time_origin_epoch_ms"] == pytest.approx(1.7e12 + 500)
    assert head.metadata.device_model == BROWSER_PEN.model == device("browser-pen").model
    assert head.metadata.device_serial == SCREEN.key()


def test_browser_pen_recording_exports_to_inkml_and_svc_and_back(tmp_path):
    cap = _capture(tmp_path)
    n = 300
    rows = [
        row(
            500.0 + 5 * i,
            100 + 80 * math.sin(i / 20),
            200 - 60 * math.cos(i / 13),
            p=0.25 + 0.5 * (i % 50) / 50,
            buttons=1 if (i // 60) % 2 == 0 else 0,
            tx=(i % 40) - 20,
            ty=10,
            alt=0.9,
            az=(i % 60) / 10,
        )
        for i in range(n)
    ]
    cap.feed({"seq": 0, "samples": rows})
    cap.close(n_sent=n)
    rec = read_recording(cap.path)
    ink = write_inkml(rec, tmp_path / "x.inkml")
    back = read_inkml(ink.path, participant="P007")[0]
    assert back.n_samples == n
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    for name in (
        "pos_x",
        "pos_y",
        "pressure",
        "pen_down",
        "tilt_x",
        "tilt_y",
        "altitude",
        "azimuth",
        "twist",
    ):
        np.testing.assert_array_equal(back.channel(name), rec.channel(name), err_msg=name)
    svc = write_svc(rec, tmp_path / "x.svc", columns="pahaw")  # y before x, stated explicitly
    again = read_svc(svc.path, participant="P007", columns="pahaw")[0]
    assert again.n_samples == n
    # .svc is integers in Wacom raw units: 0.005 mm, 0.1 deg, pressure / 32767
    np.testing.assert_allclose(again.channel("pos_x"), rec.channel("pos_x"), atol=0.00025 + 1e-12)
    np.testing.assert_allclose(again.channel("pos_y"), rec.channel("pos_y"), atol=0.00025 + 1e-12)
    np.testing.assert_allclose(again.channel("azimuth"), rec.channel("azimuth"), atol=0.05 + 1e-9)
    np.testing.assert_allclose(again.channel("pressure"), rec.channel("pressure"), atol=0.5 / 32767 + 1e-12)
    np.testing.assert_array_equal(again.channel("pen_down"), rec.channel("pen_down"))
    np.testing.assert_allclose(again.timestamps, rec.timestamps, atol=0.0005 + 1e-12)
    assert pen_features_recording(rec).n_strokes == 3


def _line(fs, speed=40.0, dur=1.0):
    t = np.arange(0, dur, 1 / fs)
    return np.column_stack([10 + speed * t, 20 + 0 * t])


def test_features_of_known_shapes():
    fs = 200.0
    pos = _line(fs)
    f = pen_features(pos, np.ones(len(pos), bool), fs, pressure=np.full(len(pos), 0.4))
    assert f.n_strokes == 1 and f.speed_mm_s == pytest.approx(40.0)
    assert f.niv_per_stroke == 1 and f.writing_area_mm2 == 0.0 and f.letter_height_mm == 0.0
    assert f.pressure_mean == pytest.approx(0.4) and f.n_pressure_changes == 0
    # a circle of radius 10 mm: the hull area is pi r^2
    th = np.linspace(0, 2 * np.pi, 400)
    c = np.column_stack([10 * np.cos(th), 10 * np.sin(th)])
    assert pen_features(c, np.ones(400, bool), fs).writing_area_mm2 == pytest.approx(math.pi * 100, rel=1e-3)
    # a stop: 0.2 s at rest inside a stroke
    still = np.vstack(
        [_line(fs, dur=0.5), np.repeat(_line(fs, dur=0.5)[-1:], 40, axis=0), _line(fs, dur=0.5) + [20, 0]]
    )
    g = pen_features(still, np.ones(len(still), bool), fs)
    assert g.n_writing_stops == 1 and g.writing_stop_time_s == pytest.approx(0.2, abs=0.03)
    assert g.niv_per_stroke == 2


def test_tremor_band_power_is_the_added_tremor_and_features_are_rate_invariant():
    def write(fs, tremor_mm):
        t = np.arange(0, 3, 1 / fs)
        x = 15 * t + 3 * np.sin(2 * np.pi * 2 * t) + tremor_mm * np.sin(2 * np.pi * 10 * t)
        y = 5 * np.sin(2 * np.pi * 1.5 * t) ** 2
        down = (t % 1.0) < 0.7  # 0.3 s in the air = 3 tremor cycles: strokes end to end keep its phase
        return pen_features(
            np.column_stack([x + 10 * np.floor(t), y]), down, fs, pressure=0.3 + 0.1 * np.sin(t)
        )

    calm, shaky = write(200, 0.0), write(200, 0.3)
    # a 10 Hz, 0.3 mm tremor adds a velocity sinusoid of amplitude 0.3 x 2 pi x 10 mm/s: power A^2 / 2
    added = (0.3 * 2 * np.pi * 10) ** 2 / 2
    assert shaky.tremor_band_power_mm2_s2 - calm.tremor_band_power_mm2_s2 == pytest.approx(added, rel=0.1)
    assert shaky.tremor_band_power_fraction > calm.tremor_band_power_fraction
    per_stroke = [
        s.tremor_band_power_mm2_s2 - c.tremor_band_power_mm2_s2 for s, c in zip(shaky.strokes, calm.strokes)
    ]
    assert per_stroke == [pytest.approx(added, rel=0.25)] * 3  # 0.7 s strokes: coarser, same power
    for fs in (100.0, 240.0, 500.0):
        other = write(fs, 0.3).to_dict()
        for key in (
            "speed_mm_s",
            "letter_height_mm",
            "writing_area_mm2",
            "in_air_time_s",
            "pressure_mean",
            "tremor_band_power_mm2_s2",
            "tremor_band_power_fraction",
        ):
            tol = 0.1 if key.startswith("tremor") else 0.03  # spectra of 0.7 s strokes: coarse bins
            assert other[key] == pytest.approx(shaky.to_dict()[key], rel=tol), (fs, key)
        assert other["n_strokes"] == 3 and other["n_word_spaces"] == shaky.n_word_spaces


def test_too_short_input_is_nan_with_a_warning_and_history_comparison():
    with pytest.warns(MotorlabWarning, match="no on-surface stroke"):
        f = pen_features(np.zeros((2, 2)), np.ones(2, bool), 200.0)
    assert math.isnan(f.speed_mm_s) and f.n_strokes == 0
    pos = _line(200.0)
    down = np.ones(len(pos), bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        now = pen_features(pos, down, 200.0)
        before = [pen_features(pos * [0.5, 1], down, 200.0), pen_features(pos * [0.7, 1], down, 200.0)]
    ch = {c.name: c for c in compare_with_earlier(now, before)}["speed_mm_s"]
    assert ch.n_earlier == 2 and ch.earlier_mean == pytest.approx(24.0) and ch.change == pytest.approx(16.0)
    assert ch.z == pytest.approx(16.0 / np.std([20.0, 28.0], ddof=1))


def test_wire_fields_are_those_the_page_sends():
    from motorlab.ui.web.pages import static_dir

    js = (static_dir() / "pen.js").read_text()
    # the page builds each row in WIRE_FIELDS order: t, x, y, pressure, tilt, angles, twist, ...
    assert "return [stamp, e.clientX - rect.left, e.clientY - rect.top, e.pressure" in js
    assert len(WIRE_FIELDS) == 14


def test_ink_is_coloured_by_speed_and_drawn_in_the_html_report(tmp_path):
    from motorlab.analysis.handwriting_features import pen_speed_mm_s
    from motorlab.clinic import ClientRegistry, make_client
    from motorlab.report import build_report
    from motorlab.report.ink import ink_png

    fs = 200.0
    pos = np.vstack([_line(fs, speed=40.0, dur=0.5), _line(fs, speed=80.0, dur=0.5) + [0, 10]])
    down = np.ones(len(pos), bool)
    down[len(pos) // 2] = False  # a lift between the two lines
    speed = pen_speed_mm_s(pos, fs, down)
    assert np.isnan(speed[len(pos) // 2])
    assert np.nanmedian(speed[:90]) == pytest.approx(40.0) and np.nanmedian(speed[110:]) == pytest.approx(
        80.0
    )
    png = ink_png(pos, down, speed, "pen speed (mm/s)", template_mm=[[[0, 0], [50, 0]]])
    assert png.startswith(b"\x89PNG")

    # a browser-pen handwriting recording of a client -> the HTML report shows the ink
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P007", 2017, "F", "right"))
    surface = SurfaceInfo(800.0, 400.0, 0.25, "cal-1", "card")
    cap = PenCapture(
        root, "P007", "01", pen_task("sentence", surface.size_mm, age_y=9), surface, SCREEN, t0_ms=0.0
    )
    t = np.arange(0, 4, 1 / fs)
    x = 100 + 40 * t + 10 * np.sin(2 * np.pi * 2 * t)
    y = 200 - 30 * np.sin(2 * np.pi * 1.5 * t) ** 2
    rows = [
        row(1000 * ti, xi, yi, p=0.5 + 0.2 * np.sin(ti), buttons=int(ti % 1 < 0.8))
        for ti, xi, yi in zip(t, x, y)
    ]
    for i in range(0, len(rows), 100):
        cap.feed({"seq": i // 100, "samples": rows[i : i + 100]})
    cap.close(n_sent=len(rows))
    files = build_report(root, "P007")
    html = files.html.read_text(encoding="utf-8")
    assert "writing coloured by speed" in html


def test_template_deviation_of_a_spiral_drawn_1_mm_outside_and_half_traced():
    from motorlab.analysis.template_deviation import template_deviation

    task = pen_task("spiral", (240.0, 135.0))
    c = np.array(task.template["centre_mm"])
    b = task.template["b_mm_per_rad"]
    th = np.linspace(0, 2 * np.pi * 3, 3000)
    r = b * th + 1.0
    drawn = c + np.column_stack([r * np.cos(th), r * np.sin(th)])
    dev = template_deviation(drawn, np.ones(len(th), bool), task.template["polylines"])
    # 1 mm radially; near the centre the nearest template point is a little closer than radially
    assert dev.mean_mm == pytest.approx(1.0, abs=0.05) and dev.max_mm < 1.1 and dev.coverage_pct == 100.0
    half = th <= 3 * np.pi  # the inner 1.5 turns: a quarter of the spiral's length (length ~ theta^2)
    part = template_deviation(drawn, half, task.template["polylines"])
    assert part.coverage_pct == pytest.approx(25.0, abs=2.0)
    with pytest.warns(MotorlabWarning):
        assert math.isnan(
            template_deviation(drawn, np.zeros(len(th), bool), task.template["polylines"]).mean_mm
        )


def test_hover_between_strokes_is_measured_only_while_in_range():
    fs = 200.0
    a = _line(fs, speed=40.0, dur=0.5)  # 10 -> 29.8 mm
    hover = np.column_stack([a[-1, 0] + 100.0 * np.arange(1, 41) / fs, np.full(40, 20.0)])  # 100 mm/s, 0.2 s
    b = _line(fs, speed=40.0, dur=0.5) + [hover[-1, 0] + 0.5 - 10, 0]
    pos = np.vstack([a, hover, b])
    down = np.r_[np.ones(len(a)), np.zeros(len(hover)), np.ones(len(b))].astype(bool)
    f = pen_features(pos, down, fs)
    assert f.hover_path_mm == pytest.approx(20.0 + 0.5) and f.hover_speed_mm_s == pytest.approx(20.5 / 0.205)
    gap = ~down  # the same lift out of range: nothing observed
    g = pen_features(np.where(gap[:, None], np.nan, pos), down, fs, gap=gap)
    assert g.hover_path_mm == 0.0 and math.isnan(g.hover_speed_mm_s)
    assert g.in_air_time_s == pytest.approx(f.in_air_time_s) == pytest.approx(41 / fs)


def test_a_clock_that_steps_back_keeps_pressure_with_its_own_samples():
    from motorlab.recording import Channel, Metadata, Recording

    fs = 100.0
    n = 200
    t = np.r_[np.arange(n) / fs, 0.5 + np.arange(n) / fs]  # the second half restarts at 0.5 s
    x = np.r_[np.linspace(0, 4, n), np.linspace(5, 9, n)]  # cm
    y = np.r_[np.full(n, 1.0), np.full(n, 3.0)]
    p = np.r_[np.full(n, 0.2), np.full(n, 0.8)]
    chans = [
        Channel("pos_x", "POS", "cm", "x"),
        Channel("pos_y", "POS", "cm", "y"),
        Channel("pressure", "MISC", "1"),
    ]
    rec = Recording(t, np.column_stack([x, y, p]), chans, fs, Metadata("P001", task="handwriting"))
    assert len(rec.timestamp_segments) == 2
    f = pen_features_recording(rec)
    assert f.n_strokes == 2 and f.pressure_mean == pytest.approx(0.5, abs=0.01)
    assert [s.pressure_mean for s in f.strokes] == [pytest.approx(0.2), pytest.approx(0.8)]
    assert f.in_air_time_s == 0.0  # the step back is no time in the air


def test_letter_height_is_each_loop_top_above_the_slanting_baseline():
    fs = 200.0
    t = np.arange(0, 3, 1 / fs)
    down = (t % 1.0) < 0.8  # three words of joined loops, 0.2 s in the air between them
    x = 12 * t + 2 * np.sin(2 * np.pi * 2.5 * t) + 8 * np.floor(t)
    y = 6 * np.sin(2 * np.pi * 2.5 * t) ** 2 + 0.05 * x  # 6 mm loops on a baseline rising 0.05 mm/mm
    f = pen_features(np.column_stack([x, y]), down, fs)
    assert f.letter_height_mm == pytest.approx(6.0, abs=0.05) and f.letter_height_cv_pct < 1.0
    assert f.baseline_angle_deg == pytest.approx(np.degrees(np.arctan(0.05)), abs=0.2)
    assert f.n_strokes == 3 and f.n_word_spaces == 2
