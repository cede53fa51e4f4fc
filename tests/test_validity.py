"""Issue 11: metrics that hold on real recordings. One test (or more) per numbered failure, each
built from a synthetic signal that reproduces it, plus the trial-window fixes of issue 12."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from motorlab import Channel, Event, Metadata, Recording
from motorlab.analysis import analyze_recording, spiral_analyze, stroke_smoothness, tremor_analyze
from motorlab.errors import MotorlabError, MotorlabWarning
from motorlab.signal import peak_frequency, signal_psd, signal_resample

POS = [Channel("pos_x", "POS", "cm", "x"), Channel("pos_y", "POS", "cm", "y")]
PRESSURE = Channel("pressure", "MISC", "1")


def _drawn_spiral(t: np.ndarray, turns: float = 3.5, duration: float = 12.0, tremor_cm: float = 0.06):
    """A hand-drawn spiral: minimum-jerk angle, 0.9 cm spacing, a slow wobble and a 5.5 Hz tremor."""
    s = np.clip(t / duration, 0, 1)
    u = 0.15 * s + 0.85 * (10 * s**3 - 15 * s**4 + 6 * s**5)
    th = 2 * np.pi * turns * u
    r = 0.9 / (2 * np.pi) * th + 0.08 * np.sin(2 * np.pi * 0.4 * t) + tremor_cm * np.sin(2 * np.pi * 5.5 * t)
    return np.column_stack([r * np.cos(th) + 5, r * np.sin(th) + 4])


def _pen_recording(t, pos, pressure=None, task="spiral", events=(), extra=None) -> Recording:
    chans = [*POS, *([PRESSURE] if pressure is not None else [])]
    data = pos if pressure is None else np.column_stack([pos, pressure])
    md = Metadata("P011", task=task, hand="right", tracksys="tablet", extra=dict(extra or {}))
    fs = float(round(1 / np.median(np.diff(t[np.argsort(t)]))))
    return Recording(t, data, chans, fs, md, list(events))


# ----------------------------------------------------------------- 1. mixed clocks
def test_1_mixed_clocks_give_a_clear_error_not_a_terabyte_grid():
    t = np.arange(2000) * 0.007  # a device's millisecond counter
    t[[500, 1200]] = 1.7e9  # two rows stamped in Unix-epoch seconds
    x = np.sin(t)
    with pytest.raises(MotorlabError, match=r"uniform grid at 142.9 Hz .* would need .* points for"):
        signal_resample(t, x, 1 / 0.007)


def test_1_a_recording_whose_grid_is_unjustified_is_refused_naming_it():
    t = np.concatenate([np.arange(100) * 0.01, 5 * 86400 + np.arange(100) * 0.01])  # a 5-day hole
    rec = Recording(t, np.ones((200, 1)), [Channel("force", "MISC", "N")], 100.0, Metadata("P012"))
    with pytest.raises(MotorlabError) as err:
        analyze_recording(rec)
    msg = str(err.value)
    assert msg.startswith("sub-P012 ses-01 task-grip: a uniform grid at 100 Hz") and "\n" not in msg


# ----------------------------------------------------------------- 2. backwards steps
def test_2_a_backwards_step_splits_the_trace_instead_of_sorting_it():
    fs = 100.0
    t = np.arange(1200) / fs
    pos = _drawn_spiral(t)
    t_rec = t.copy()
    t_rec[600:] -= 1.3  # the clock steps back 1.3 s at sample 600; the pen path stays continuous
    with pytest.warns(MotorlabWarning, match=r"time steps back 1.29 s at sample 600.*not sorted"):
        _grid, out = signal_resample(t_rec, pos, fs)
    steps = np.hypot(*np.diff(out, axis=0).T)
    assert np.nanmax(steps) < 0.1  # file order kept: no jump between interleaved stretches
    assert np.isnan(out[600]).all()  # one separator sample between the two stretches
    order = np.argsort(t_rec, kind="stable")
    assert np.max(np.hypot(*np.diff(pos[order], axis=0).T)) > 1.0  # what sorting would have done


def test_2_backwards_step_in_a_recording_is_flagged_and_analysed_in_order():
    fs = 100.0
    t = np.arange(1200) / fs
    t_rec = t.copy()
    t_rec[600:] -= 1.3
    rec = _pen_recording(t_rec, _drawn_spiral(t))
    m = analyze_recording(rec)
    assert "3.5" == f"{m.spiral.result.n_loops:.1f}"
    assert m.spiral.result.radial_rms_error_cm < 0.1
    assert m.spiral.pen.parts == (slice(0, 600), slice(601, 1201))


# ----------------------------------------------------------------- 3. band-edge peak
@pytest.mark.parametrize("seed", range(20))
def test_3_a_falling_spectrum_has_no_peak_outside_or_at_the_band_edge(seed):
    fs = 142.0
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 0.01, 3000))  # Brownian drift: the spectrum falls off as 1/f^2
    freqs, psd = signal_psd(x, fs)
    f = peak_frequency(freqs, psd, (3.0, 12.0), refine=True)
    assert 3.0 <= f <= 12.0  # formerly 2.875-2.99 Hz: the edge bin "refined" out of the band
    r = tremor_analyze(x, fs, is_acceleration=False)
    assert not r.tremor_detected and math.isnan(r.peak_freq_Hz) and math.isnan(r.tsi_Hz)
    assert r.note.startswith("no tremor peak") and r.hints == ("no tremor peak above the noise floor",)


# ----------------------------------------------------------------- 4. hover drift
@pytest.mark.parametrize("seed", range(30))
def test_4_a_steady_hover_with_slow_drift_is_not_a_tremor(seed):
    fs, q = 142.0, 0.0204  # a tablet pixel
    rng = np.random.default_rng(seed)
    n = int(10.8 * fs)
    drift = np.cumsum(rng.normal(0, 0.003, (n, 2)), axis=0)
    drift += 0.05 * np.sin(2 * np.pi * 0.3 * np.arange(n) / fs + rng.uniform(0, 6))[:, None]
    x = np.round(drift / q) * q
    r = tremor_analyze(x, fs, is_acceleration=False)
    assert not r.tremor_detected and math.isnan(r.peak_freq_Hz)
    assert not any("essential" in h or "TSI" in h for h in r.hints)


def test_4_a_real_tremor_in_a_hover_is_detected_and_the_spiral_exposes_the_flag():
    fs = 142.0
    rng = np.random.default_rng(3)
    n = int(10.8 * fs)
    t = np.arange(n) / fs
    drift = np.cumsum(rng.normal(0, 0.003, (n, 2)), axis=0)
    x = drift + 0.05 * np.sin(2 * np.pi * 5.0 * t)[:, None] * [1.0, 0.4]
    r = tremor_analyze(np.round(x / 0.0204) * 0.0204, fs, is_acceleration=False)
    assert r.tremor_detected and r.peak_freq_Hz == pytest.approx(5.0, abs=0.1) and r.peak_p_value < 1e-6
    still = spiral_analyze(_drawn_spiral(np.arange(1200) / 100.0, tremor_cm=0.0), 100.0)
    shaky = spiral_analyze(_drawn_spiral(np.arange(1200) / 100.0, tremor_cm=0.06), 100.0)
    assert not still.tremor_detected and math.isnan(still.tremor_peak_freq_Hz)
    assert shaky.tremor_detected and shaky.tremor_peak_freq_Hz == pytest.approx(5.5, abs=0.1)


# ----------------------------------------------------------------- 5. mean |dr/dtheta|
def test_5_mean_abs_dr_dtheta_is_the_drawn_curve_not_sampling_noise():
    fs, q = 1000.0, 0.0204  # a fast digitiser with pixel-quantised positions
    t = np.arange(int(12 * fs) + 1) / fs
    clean = spiral_analyze(_drawn_spiral(t, tremor_cm=0.0), fs)
    quant = spiral_analyze(np.round(_drawn_spiral(t, tremor_cm=0.0) / q) * q, fs)
    b = 0.9 / (2 * np.pi)
    assert clean.mean_abs_dr_dtheta_cm_per_rad == pytest.approx(quant.mean_abs_dr_dtheta_cm_per_rad, rel=0.05)
    assert 0.9 * b < clean.mean_abs_dr_dtheta_cm_per_rad < 1.5 * b  # the slope plus the slow wobble
    # the former definition, a mean of per-sample ratios over tiny quantised angle steps
    d = np.round(_drawn_spiral(t, tremor_cm=0.0) / q) * q - [quant.center_x_cm, quant.center_y_cm]
    r, th = np.hypot(d[:, 0], d[:, 1]), np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    moving = np.abs(np.diff(th)) > 1e-12
    former = np.mean(np.abs(np.diff(r)[moving] / np.diff(th)[moving]))
    assert former > 10 * b


# ----------------------------------------------------------------- 6. smoothness vs duration
def test_6_submovement_smoothness_does_not_measure_drawing_duration():
    """The same spiral drawn in 6 s and in 24 s with the same intermittent speed (3 Hz
    submovements): whole-drawing LDLJ follows the duration, the per-submovement medians do not."""
    fs = 100.0
    vals = {}
    for duration in (6.0, 24.0):
        t = np.arange(int(duration * fs) + 1) / fs
        u = t / duration + 0.5 * np.sin(2 * np.pi * 3.0 * t) / (2 * np.pi * 3.0 * duration)
        pos = _drawn_spiral(u * 12.0, tremor_cm=0.0)
        r = spiral_analyze(pos, fs)
        vals[duration] = (r.sparc_median, r.ldlj_median, stroke_smoothness(pos, fs).ldlj_v, r.n_submovements)
    (s1, l1, w1, n1), (s2, l2, w2, n2) = vals[6.0], vals[24.0]
    assert n2 > 3 * n1  # four times as many submovements
    assert w2 < w1 - 2.0  # whole-drawing LDLJ: "less smooth" only because it lasted longer
    assert s2 == pytest.approx(s1, rel=0.05)
    assert abs(l2 - l1) < 0.25 * abs(w2 - w1)


# ----------------------------------------------------------------- 7. no false warning
def test_7_spiral_warns_only_what_happened():
    fs = 200.0
    t = np.arange(int(12 * fs)) / fs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = spiral_analyze(_drawn_spiral(t, tremor_cm=0.0), fs)
    assert math.isfinite(r.tremor_rms_cm)
    assert not [w for w in caught if "tremor fields are NaN" in str(w.message)]
    with pytest.warns(MotorlabWarning, match="fewer than 10 pen-down samples"):
        short = spiral_analyze(_drawn_spiral(t[:5]), fs)
    assert math.isnan(short.tremor_rms_cm) and short.tremor_note == "fewer than 10 pen-down samples"


# ----------------------------------------------------------------- 8. one answer
def test_8_analyze_recording_and_a_direct_call_agree_on_a_poor_recording():
    rng = np.random.default_rng(8)
    t = np.cumsum(rng.choice([0.007, 0.008], 2000))  # +-1 ms jitter, integer-ms stamps
    t = np.delete(t, np.s_[700:760])  # a pen lift: 0.45 s without samples
    t -= t[0]
    pos = _drawn_spiral(t * 12.0 / t[-1])
    pressure = np.where(np.arange(t.size) % 400 < 20, 0.0, 0.5)  # short hovers
    rec = _pen_recording(t, pos, pressure)
    m = analyze_recording(rec)
    direct = spiral_analyze(pos, rec.sampling_rate, pen_down=pressure > 0, timestamps_s=t)
    a, b = dataclasses.asdict(direct), dataclasses.asdict(m.spiral.result)
    assert a.pop("tremor_note") == b.pop("tremor_note")
    assert a == pytest.approx(b, rel=1e-12, nan_ok=True)
    assert m.spiral.pen.pen_down_source == "pressure"


# ----------------------------------------------------------------- sampling-rate invariance
RATES = (50.0, 100.0, 133.0, 200.0, 1000.0)
INVARIANT = (
    "n_loops",
    "slope_b_cm_per_rad",
    "loop_spacing_cm",
    "mean_abs_dr_dtheta_cm_per_rad",
    "radial_rms_error_cm",
    "tremor_peak_freq_Hz",
    "duration_s",
    "mean_speed_cm_per_s",
)


def _sampled(fs: float, q: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(12 * fs) + 1
    jitter = min(1e-3, 0.45 / fs)  # +-1 ms (at 1 kHz +-0.45 ms, so samples stay in order)
    t = np.arange(n) / fs + rng.uniform(-jitter, jitter, n)
    t[0] = 0.0
    pos = _drawn_spiral(t, tremor_cm=0.1)
    return t, (np.round(pos / q) * q if q else pos)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("q", (0.01, 0.05))
def test_spiral_metrics_do_not_depend_on_rate_jitter_or_quantisation(fs, q):
    t, pos = _sampled(1000.0, 0.0, 0)
    ref = spiral_analyze(pos, 1000.0, timestamps_s=t)
    t, pos = _sampled(fs, q, int(fs) + int(100 * q))
    got = spiral_analyze(pos, fs, timestamps_s=t)
    for key in INVARIANT:
        assert getattr(got, key) == pytest.approx(getattr(ref, key), rel=0.05), key
    assert got.tremor_detected and ref.tremor_detected
    # the tremor RMS carries the quantisation noise in the band: q^2/12 x 2 x 18.2 Hz / fs
    floor = q**2 / 12 * min(2 * 18.2 / fs, 1.0)
    assert got.tremor_rms_cm == pytest.approx(math.sqrt(ref.tremor_rms_cm**2 + floor), rel=0.05)


# ----------------------------------------------------------------- issue 12: trial windows
def _tremor_rec(events) -> Recording:
    fs = 100.0
    t = np.arange(int(40 * fs)) / fs
    acc = np.column_stack([0.3 * np.sin(2 * np.pi * 6 * t), 0 * t, 9.81 + 0 * t])
    acc[t < 5] += np.random.default_rng(0).normal(0, 2.0, (np.count_nonzero(t < 5), 3))  # countdown fidgeting
    chans = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"]
    return Recording(t, acc, chans, fs, Metadata("P013", task="tremorpostural", hand="left"), list(events))


def test_invalid_tremor_holds_are_not_analysed_and_rows_carry_hand_and_status():
    ev = [
        Event(5.0, 10.0, "trial", {"trial": 1, "hand": "left", "status": "valid"}),
        Event(16.0, 10.0, "trial", {"trial": 2, "hand": "left", "status": "valid"}),
        Event(27.0, 0.0, "trial_status", {"trial": 2, "hand": "left", "status": "invalid", "reason": "x"}),
        Event(28.0, 10.0, "trial", {"trial": 3, "hand": "left", "status": "valid"}),
    ]
    m = analyze_recording(_tremor_rec(ev))
    row = m.to_rows()[0]
    assert row["hand"] == "left" and row["status"] == "valid"
    assert m.tremor.accelerometer.duration_s == pytest.approx(20.0, abs=0.02)  # trials 1 and 3 only


def test_with_no_valid_trial_nothing_is_analysed():
    ev = [Event(5.0, 10.0, "trial", {"trial": 1, "hand": "left", "status": "invalid"})]
    m = analyze_recording(_tremor_rec(ev))
    row = m.to_rows()[0]
    assert row["status"] == "invalid" and m.tremor.accelerometer is None
    assert [f.name for f in m.quality] == ["no_valid_trial"]
    assert "no valid trial" in m.quality[0].message and "no_valid_trial" in row["quality_flags"]


def test_a_device_clock_reset_is_named_in_the_trial_note():
    fs = 100.0
    t = np.arange(2000) / fs
    force = np.where((t % 10 > 2) & (t % 10 < 5), 300.0, 5.0)
    stamps = np.where(t < 10, t, t - 10)  # the device restarted its clock at 10 s
    ev = [
        Event(1.0, 6.0, "trial", {"trial": 1, "hand": "right", "status": "valid"}),
        Event(11.0, 6.0, "trial", {"trial": 2, "hand": "right", "status": "valid"}),
    ]
    rec = Recording(stamps, force[:, None], [Channel("force", "MISC", "N")], fs, Metadata("P014"), ev)
    m = analyze_recording(rec)
    msgs = [f.message for f in m.flags("grip_trial")]
    assert any("time stamps step back 9.99 s at sample 1000 (device clock reset?)" in s for s in msgs)
    assert all(math.isnan(tr.result.peak_force_N) for tr in m.grip.trials)  # never a mixed window


# ----------------------------------------------------------------- 9. emulated handwriting
@pytest.mark.parametrize("seed", range(3))
def test_9_emulated_handwriting_strokes_are_counted_exactly_in_the_trial_window(seed):
    from motorlab.sim.participants import WriterParticipant

    imu = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"]
    imu += [Channel(f"gyr_{a}", "GYRO", "deg/s", a) for a in "xyz"]
    fs = 200.0
    t = np.arange(int(12 * fs)) / fs
    w = WriterParticipant(seed=seed)
    w.on_cue("write", 4.0)  # instructions and countdown before: 4 s of the pen lying still
    w.on_cue("stop", 10.0)
    sig = w.pen(t)
    data = np.column_stack([sig["acc_ms2"], sig["gyro_dps"], sig["tip_force_n"]])
    ev = [Event(4.0, 6.0, "trial", {"trial": 1, "hand": "right", "status": "valid"})]
    md = Metadata("P015", task="handwriting", hand="right", tracksys="imupen")
    rec = Recording(t, data, [*imu, Channel("tip_force", "MISC", "N")], fs, md, ev)
    r = analyze_recording(rec).handwriting.result
    truth = w.truth[0]
    assert r.n_strokes == len(truth["strokes"]) == 12  # formerly 6: touch-down/lift-off strokes lost
    down_s = sum(b - a for a, b in truth["pen_down"])
    assert r.in_air_time_s == pytest.approx(6.0 - down_s, abs=0.05)  # the trial only, not the countdown


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tremor_hz", [0.0, 5.0])
def test_9_emulated_imu_pen_spiral_loops_and_spacing(seed, tremor_hz):
    """The IMU pen's spiral (3 loops, 1.0 cm apart) through the pipeline: the emulated pen's signals
    quantised as its firmware sends them (int16 counts), a Recording, analyze_recording. Was 0.2-2.6
    loops and 0.5-1.3 cm; the integration drift is now fitted jointly with the spiral."""
    from motorlab.sim.emulators.imu_pen import ACC_SCALE, GYRO_SCALE, TIP_SCALE
    from motorlab.sim.participants import WriterParticipant

    imu = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"]
    imu += [Channel(f"gyr_{a}", "GYRO", "deg/s", a) for a in "xyz"]
    fs = 200.0
    t = np.arange(int(13 * fs)) / fs
    w = WriterParticipant(
        seed=seed, spiral_turns=3.0, spiral_pitch_cm=1.0, tremor_hz=tremor_hz, tremor_amp_cm=0.05
    )
    w.on_cue("draw", 4.0)
    sig = w.pen(t)
    data = np.column_stack(
        [
            np.round(sig["acc_ms2"] / ACC_SCALE) * ACC_SCALE,
            np.round(sig["gyro_dps"] / GYRO_SCALE) * GYRO_SCALE,
            np.round(sig["tip_force_n"] / TIP_SCALE) * TIP_SCALE,
        ]
    )
    truth = w.truth[0]
    ev = [Event(4.0, truth["end_s"] + 1.0 - 4.0, "trial", {"trial": 1, "hand": "right", "status": "valid"})]
    md = Metadata("P016", task="spiral", hand="right", tracksys="imupen")
    rec = Recording(t, data, [*imu, Channel("tip_force", "MISC", "N")], fs, md, ev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (too little residual for a tremor spectrum is not the point here)
        r = analyze_recording(rec).spiral.result
    assert r.n_loops == pytest.approx(truth["turns"], abs=0.1)
    assert r.loop_spacing_cm == pytest.approx(truth["pitch_cm"], rel=0.05)


@pytest.mark.parametrize("seed", range(3))
def test_9_emulated_sentence_copy_is_written_in_letters_and_its_strokes_are_counted_exactly(seed):
    """The pen emulator writes the copy sentence in single-stroke (Hershey) letters; through the
    IMU pen pipeline every one of its strokes is found, no more (was: three zig-zag bursts)."""
    from motorlab.session.protocols import HANDWRITING_PROMPTS
    from motorlab.sim.participants import WriterParticipant
    from motorlab.sim.participants.glyphs import glyph_strokes

    text = HANDWRITING_PROMPTS["child"]
    fs = 200.0
    w = WriterParticipant(seed=seed, text=text)
    w.on_cue("write", 3.0)
    truth = w.truth[0]
    # one pen-down movement per glyph stroke, shaped like the glyph (the letters' bounding boxes)
    glyphs = [glyph_strokes(c) for c in text if c != " "]
    assert len(truth["pen_down"]) == sum(len(g[2]) for g in glyphs) == 66
    t = np.arange(int((truth["end_s"] + 1.5) * fs)) / fs
    xy = w.position(t)[w.pen_down(t)]
    assert np.ptp(xy[:, 0]) > 10 * np.ptp(xy[:, 1])  # a line of writing
    assert 1.0 < np.ptp(xy[:, 1]) < 2.0  # cap height 1 cm plus descenders (g, j, p, q, y)
    sig = w.pen(t)
    imu = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"]
    imu += [Channel(f"gyr_{a}", "GYRO", "deg/s", a) for a in "xyz"]
    data = np.column_stack([sig["acc_ms2"], sig["gyro_dps"], sig["tip_force_n"]])
    ev = [Event(3.0, t[-1] - 3.0, "trial", {"trial": 1, "hand": "right", "status": "valid"})]
    md = Metadata("P017", task="handwriting", hand="right", tracksys="imupen")
    rec = Recording(t, data, [*imu, Channel("tip_force", "MISC", "N")], fs, md, ev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = analyze_recording(rec).handwriting.result
    assert r.n_strokes == len(truth["strokes"]) == 108
