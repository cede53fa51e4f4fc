"""Calibration fitting, store and apply (pure), then the CLI against emulators."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from motorlab.cli.main import main
from motorlab.devices.calibration import (
    POSES,
    STANDARD_GRAVITY,
    Calibration,
    CalibrationError,
    CalibrationStore,
    accel_six_position,
    apply_calibration,
    check_force,
    default_root,
    fit_linear,
    force_calibration,
    gyro_bias_at_rest,
    imu_calibration,
    sanitise_serial,
)
from motorlab.devices.registry import open_device
from motorlab.errors import MotorlabError, MotorlabWarning
from motorlab.sim.bluez.bus import PrivateBus

G = STANDARD_GRAVITY


# ------------------------------------------------------------------ force fit
def test_fit_linear_recovers_gain_and_offset_of_a_linear_sensor():
    true_n = np.array([0.0, 9.80665, 19.6133, 49.03325])
    raw = 1.05 * true_n + 12.0  # a sensor reading 5 % high with a 12 N offset
    fit = fit_linear(raw, true_n)
    assert fit.gain == pytest.approx(1 / 1.05, rel=1e-12)
    assert fit.offset == pytest.approx(-12.0 / 1.05, rel=1e-12)
    assert np.max(np.abs(fit.residuals)) < 1e-9
    assert fit.full_scale == pytest.approx(49.03325)


def test_fit_linear_residuals_and_nonlinearity_match_the_analytic_line():
    # y = x^2 at x = 0, 1, 2: the least-squares line is y = 2x - 1/3, residuals
    # (fitted - y) are -1/3, +2/3, -1/3 and the non-linearity 2/3 / 4 = 16.67 %FS.
    fit = fit_linear([0, 1, 2], [0, 1, 4])
    assert fit.gain == pytest.approx(2.0)
    assert fit.offset == pytest.approx(-1 / 3)
    np.testing.assert_allclose(fit.residuals, [-1 / 3, 2 / 3, -1 / 3], atol=1e-12)
    assert fit.linearity_pct_fs == pytest.approx(100 * (2 / 3) / 4)
    assert fit_linear([0, 1, 2], [0, 1, 4], full_scale=8.0).linearity_pct_fs == pytest.approx(
        100 * (2 / 3) / 8
    )


@pytest.mark.parametrize(
    "raw, ref, needle",
    [
        ([1.0], [0.0], "at least two"),
        ([1.0, 2.0], [5.0, 5.0], "at least two"),
        ([3.0, 3.0], [0.0, 10.0], "did not change"),
        ([1.0, np.nan], [0.0, 10.0], "NaN"),
        ([1.0, 2.0, 3.0], [0.0, 10.0], "reference"),
    ],
)
def test_fit_linear_refuses_unusable_points(raw, ref, needle):
    with pytest.raises(CalibrationError, match=needle):
        fit_linear(raw, ref)


def test_force_calibration_record_uses_standard_gravity_and_names_the_device():
    masses = [0.0, 1.0, 2.0, 5.0]
    raw = [0.95 * m * G - 3.0 for m in masses]
    cal = force_calibration(
        raw, masses, device_serial="GRIP/0042 A", device_model="DIY", created="2024-05-01T10:20:30+02:00"
    )
    assert cal.id == "GRIP_0042_A-force-20240501T102030"
    assert cal.kind == "force" and cal.device_serial == "GRIP/0042 A"
    assert cal.gain["force"] == pytest.approx(1 / 0.95)
    assert cal.offset["force"] == pytest.approx(3.0 / 0.95)
    assert [p["reference_n"] for p in cal.points] == pytest.approx([m * 9.80665 for m in masses])
    assert cal.full_scale == pytest.approx(5 * 9.80665)
    assert cal.linearity_pct_fs < 1e-9


def test_negative_mass_is_refused():
    with pytest.raises(CalibrationError, match="masses"):
        force_calibration([0, 1], [0, -1], device_serial="x")


# ------------------------------------------------------------------- apply
def _cal(gain, offset, kind="force"):
    return Calibration(
        id="dev-force-20240101T000000",
        device_serial="dev",
        device_model="m",
        kind=kind,
        created="2024-01-01T00:00:00+00:00",
        gain=gain,
        offset=offset,
    )


def test_apply_calibration_touches_only_named_channels_and_copies():
    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    before = values.copy()
    out = apply_calibration(values, ["a", "force", "c"], _cal({"force": 2.0}, {"force": -1.0}))
    np.testing.assert_array_equal(out, [[1.0, 3.0, 3.0], [4.0, 9.0, 6.0]])
    np.testing.assert_array_equal(values, before)
    np.testing.assert_array_equal(apply_calibration(values, ["a", "b", "c"], None), values)
    np.testing.assert_array_equal(
        apply_calibration(np.array([1.0, 2.0]), ["force"], _cal({"force": 3.0}, {"force": 1.0})), [4.0, 7.0]
    )
    with pytest.raises(CalibrationError, match="columns"):
        apply_calibration(values, ["force"], _cal({"force": 1.0}, {"force": 0.0}))


def test_calibration_rejects_unknown_kind_and_mismatched_channels():
    with pytest.raises(CalibrationError, match="kind"):
        _cal({"force": 1.0}, {"force": 0.0}, kind="torque")
    with pytest.raises(CalibrationError, match="different channels"):
        _cal({"force": 1.0}, {"other": 0.0})


# -------------------------------------------------------------------- IMU fit
def _pose_means(scale, offset):
    means = {}
    for p in POSES:
        true = np.zeros(3)
        true["xyz".index(p[1])] = G if p[0] == "+" else -G
        means[p] = scale * true + offset
    return means


def test_six_position_recovers_scale_and_offset_per_axis():
    scale = np.array([1.02, 0.97, 1.01])
    offset = np.array([0.15, -0.2, 0.05])
    fit = accel_six_position(_pose_means(scale, offset))
    np.testing.assert_allclose(fit.scale, scale, rtol=1e-12)
    np.testing.assert_allclose(fit.offset, offset, atol=1e-12)
    assert max(abs(v) for v in fit.pose_norm_error.values()) < 1e-9
    # corrected = gain * raw + corrected_offset gives back the true reading
    raw = scale * np.array([1.0, -2.0, 9.0]) + offset
    np.testing.assert_allclose(fit.gain * raw + fit.corrected_offset, [1.0, -2.0, 9.0], atol=1e-12)


def test_six_position_refuses_a_wrong_or_moving_pose():
    means = _pose_means(np.ones(3), np.zeros(3))
    bad = dict(means, **{"+y": means["+x"]})
    with pytest.raises(CalibrationError, match=r"pose \+y: gravity is on another axis"):
        accel_six_position(bad)
    flipped = dict(means, **{"-z": means["+z"]})
    with pytest.raises(CalibrationError, match=r"pose -z"):
        accel_six_position(flipped)
    shaken = dict(means, **{"+z": np.array([0.0, 0.0, 13.0])})
    with pytest.raises(CalibrationError, match=r"pose \+z: \|acc\| = 13.00"):
        accel_six_position(shaken)
    with pytest.raises(CalibrationError, match="lacks pose"):
        accel_six_position({p: means[p] for p in POSES[:5]})


def test_gyro_bias_is_the_mean_at_rest_and_motion_is_refused():
    rng = np.random.default_rng(3)
    bias = np.array([0.8, -1.5, 0.25])
    still = bias + rng.normal(0, 0.05, (2000, 3))
    gb = gyro_bias_at_rest(still)
    np.testing.assert_allclose(gb.bias_dps, bias, atol=0.01)  # 5 sigma of the mean
    t = np.arange(2000) / 100
    moving = still.copy()
    moving[:, 2] += 20 * np.sin(2 * np.pi * 1.0 * t)
    with pytest.raises(CalibrationError, match="moved"):
        gyro_bias_at_rest(moving)
    with pytest.raises(CalibrationError, match="only 3"):
        gyro_bias_at_rest(still[:3])


def test_imu_calibration_applies_to_acc_and_gyro_channels():
    scale, offset = np.array([1.03, 0.98, 1.0]), np.array([0.3, 0.0, -0.1])
    bias = np.array([0.5, -0.5, 2.0])
    cal = imu_calibration(
        gyro_bias_at_rest(bias + np.zeros((50, 3))),
        accel_six_position(_pose_means(scale, offset)),
        device_serial="WT1",
        created="2024-01-02T03:04:05+00:00",
    )
    assert cal.id == "WT1-imu-20240102T030405"
    names = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z", "roll"]
    true_acc, true_gyr = np.array([1.0, 2.0, 9.0]), np.array([10.0, -20.0, 0.0])
    raw = np.concatenate([scale * true_acc + offset, true_gyr + bias, [45.0]])[None, :]
    np.testing.assert_allclose(
        apply_calibration(raw, names, cal)[0], [*true_acc, *true_gyr, 45.0], atol=1e-12
    )


# ------------------------------------------------------------------- check
def test_check_force_reports_error_and_age():
    cal = force_calibration([0, 10], [0, 1], device_serial="d", created="2024-01-01T00:00:00+00:00")
    now = datetime(2024, 3, 1, tzinfo=timezone.utc)  # 60 days later
    res = check_force(2 * G * 1.004, 2.0, cal, tolerance_pct=0.5, max_age_days=90, now=now)
    assert res.error_pct == pytest.approx(0.4)
    assert res.age_days == pytest.approx(60.0)
    assert res.ok and not res.problems()
    res = check_force(2 * G * 0.99, 2.0, cal, tolerance_pct=0.5, max_age_days=30, now=now)
    assert not res.ok
    assert res.problems() == ["error -1.00 % exceeds ±0.5 %", "calibration is 60 days old (max 30)"]
    with pytest.raises(CalibrationError, match="> 0 kg"):
        check_force(1.0, 0.0, cal)


# ------------------------------------------------------------------- store
def test_store_round_trip_history_latest_and_get(tmp_path):
    store = CalibrationStore(tmp_path)
    t0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    saved = []
    for k, gain in enumerate([1.1, 1.2, 1.3]):
        created = (t0 + timedelta(days=k)).isoformat()
        cal = force_calibration([0, 10 / gain], [0, 10 / G], device_serial="SN 7", created=created)
        saved.append(store.save(cal))
    other = store.save(force_calibration([0, 5], [0, 1], device_serial="OTHER", created=t0.isoformat()))
    assert [c.gain["force"] for c in store.history("SN 7")] == pytest.approx([1.1, 1.2, 1.3])
    latest = store.latest("SN 7", "force")
    assert latest == saved[-1]
    assert store.latest("SN 7", "imu") is None and store.latest("nobody", "force") is None
    assert store.get(saved[0].id) == saved[0]
    assert len(store.all()) == 4 and other in store.all()
    assert (tmp_path / "SN_7" / f"{saved[1].id}.json").is_file()
    with pytest.raises(MotorlabError, match="no calibration with id"):
        store.get("SN_7-force-19990101T000000")
    with pytest.raises(MotorlabError, match="not a calibration id"):
        store.get("../etc/passwd")


def test_store_keeps_both_calibrations_made_in_the_same_second(tmp_path):
    store = CalibrationStore(tmp_path)
    c = force_calibration([0, 10], [0, 1], device_serial="d", created="2024-01-01T00:00:00+00:00")
    a, b = store.save(c), store.save(c)
    assert a.id == c.id and b.id == c.id + "-2"
    assert store.get(b.id).id == b.id


def test_store_file_is_strict_json_and_nan_survives(tmp_path):
    store = CalibrationStore(tmp_path)
    cal = store.save(_cal({"force": 2.0}, {"force": 1.0}))  # linearity NaN (not measured)
    text = (tmp_path / "dev" / f"{cal.id}.json").read_text()
    assert "NaN" not in text and json.loads(text)["linearity_pct_fs"] is None
    back = store.get(cal.id)
    assert np.isnan(back.linearity_pct_fs) and back.gain == {"force": 2.0}


def test_corrupt_store_file_is_named_and_skipped(tmp_path):
    store = CalibrationStore(tmp_path)
    good = store.save(
        force_calibration([0, 10], [0, 1], device_serial="d", created="2024-01-01T00:00:00+00:00")
    )
    bad = tmp_path / "d" / "d-force-20250101T000000.json"
    bad.write_text("{not json")
    with pytest.warns(MotorlabWarning, match="d-force-20250101T000000.json: not a valid calibration file"):
        assert store.latest("d", "force") == good
    with pytest.raises(CalibrationError, match="d-force-20250101T000000.json: not a valid calibration file"):
        store.get("d-force-20250101T000000")


def test_default_root_follows_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTORLAB_CONFIG_DIR", str(tmp_path / "cfg"))
    assert default_root() == tmp_path / "cfg" / "calibrations"
    assert CalibrationStore().root == tmp_path / "cfg" / "calibrations"
    monkeypatch.delenv("MOTORLAB_CONFIG_DIR")
    assert default_root().name == "calibrations" and "motorlab" in str(default_root())


def test_sanitise_serial():
    assert sanitise_serial(" AB:12/34 ") == "AB_12_34"
    assert sanitise_serial("../..") == "unknown"
    assert sanitise_serial("GDX-HD 151000C1") == "GDX-HD_151000C1"


# ------------------------------------------------------------- CLI on emulators
def _cli(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; rich wraps at $COLUMNS, so make lines wide enough to grep."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "250")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    return code, out.getvalue(), err.getvalue()


#: force simulators with a known gain error (+5 %) and zero offset (+12 N)
FORCE_SIMS = [
    pytest.param(
        "sim://progressor?seed=3&gain_error=0.05&offset_n=12",
        id="progressor",
        marks=pytest.mark.skipif(not PrivateBus.available(), reason="dbus-daemon not installed"),
    ),
    pytest.param("sim://grip?seed=3&gain_error=0.05&offset_n=12", id="grip"),
]


async def _squeeze_peak(url: str, corrector) -> tuple[float, float, str]:
    """Tare, stream, cue one maximal squeeze; return (calibrated peak N, true peak N, serial).

    The peak is the maximum of a 5-sample moving average, so single noise
    samples (0.3 N SD) do not decide it.
    """
    device = await open_device(url)
    driver = device.driver
    try:
        info = await driver.info()
        names = [c.name for c in info.channels]
        await driver.start()
        await driver.tare()
        await asyncio.sleep(0.2)
        driver.pending_blocks()
        device.emulator.cue("squeeze")
        got, t_first = [], None
        async for blk in driver.blocks():
            if not blk.n:
                continue
            got.append(corrector(blk.values, names)[:, names.index("force")])
            t_first = blk.device_time[0] if t_first is None else t_first
            if blk.device_time[-1] - t_first > 1.5:  # reaction 0.2 s + rise 0.3 s, held 2 s
                break
        truth = device.emulator.truth
    finally:
        await device.close()
    force = np.concatenate(got)
    smooth = np.convolve(force, np.ones(5) / 5, mode="valid")
    return float(smooth.max()), float(truth[0]["peak_n"]), info.serial


@pytest.mark.parametrize("url", FORCE_SIMS)
def test_force_calibration_round_trip_peak_within_half_a_percent(url):
    code, out, err = _cli(
        ["calibrate", "force", "--device", url, "--masses-kg", "0,5,10,20", "--yes", "--average-s", "0.5"]
    )
    assert code == 0, err
    assert "Saved calibration" in out and "virtual technician" in out
    cal = CalibrationStore().all()[-1]
    assert cal.kind == "force" and cal.extra["device_tare"] is True
    assert cal.gain["force"] == pytest.approx(1 / 1.05, rel=0.002)
    assert [p["mass_kg"] for p in cal.points] == [0, 5, 10, 20]
    assert cal.linearity_pct_fs < 0.1  # the emulated sensor is linear; only noise remains

    peak, true_peak, serial = asyncio.run(_squeeze_peak(url, lambda v, n: apply_calibration(v, n, cal)))
    assert CalibrationStore().latest(serial, "force") == cal
    assert abs(peak - true_peak) / true_peak < 0.005, (peak, true_peak)
    # without the calibration the same squeeze reads about 5 % high: the test can fail
    raw_peak, true_peak2, _ = asyncio.run(_squeeze_peak(url, lambda v, n: np.asarray(v, float)))
    assert raw_peak / true_peak2 == pytest.approx(1.05, abs=0.01)


@pytest.mark.usefixtures("require_dbus")
def test_calibrate_check_passes_then_warns_on_age_and_error():
    url = FORCE_SIMS[0].values[0]
    code, _, err = _cli(["calibrate", "check", "--device", url, "--mass-kg", "10", "--yes"])
    assert code == 2 and "no force calibration stored for serial" in err and url in err
    assert err.count("\n") == 1
    assert (
        _cli(["calibrate", "force", "--device", url, "--masses-kg", "0,20", "--yes", "--average-s", "0.5"])[0]
        == 0
    )
    code, out, _ = _cli(["calibrate", "check", "--device", url, "--mass-kg", "15", "--yes"])
    assert code == 0 and "calibration OK" in out
    code, out, _ = _cli(
        ["calibrate", "check", "--device", url, "--mass-kg", "15", "--yes", "--max-age-days", "0"]
    )
    assert code == 1 and "days old (max 0)" in out
    code, out, _ = _cli(
        ["calibrate", "check", "--device", url, "--mass-kg", "15", "--yes", "--tolerance-pct", "0.0001"]
    )
    assert code == 1 and "exceeds ±0.0001 %" in out


def test_imu_calibration_recovers_injected_sensor_errors():
    scale, bias, gyro_bias = [1.02, 0.98, 1.01], [0.2, -0.1, 0.3], [0.5, -0.8, 1.2]
    url = (
        "sim://wt901?seed=2&rate=50&acc_scale="
        + ",".join(map(str, scale))
        + "&acc_bias="
        + ",".join(map(str, bias))
        + "&gyro_bias="
        + ",".join(map(str, gyro_bias))
    )
    code, out, err = _cli(
        ["calibrate", "imu", "--device", url, "--yes", "--average-s", "0.5", "--still-s", "1"]
    )
    assert code == 0, err
    assert "reports no serial number" in out  # the WT901 serial protocol carries none
    (cal,) = CalibrationStore().all()
    assert cal.kind == "imu"
    # acc quantisation is 16 g / 32768 = 0.0048 m/s^2 and noise 0.02 m/s^2 (50 samples per pose)
    np.testing.assert_allclose(cal.extra["acc_scale"], scale, atol=0.002)
    np.testing.assert_allclose(cal.extra["acc_offset_ms2"], bias, atol=0.02)
    np.testing.assert_allclose(cal.extra["gyro_bias_dps"], gyro_bias, atol=0.1)
    # applying it to the raw reading of a level device gives (0, 0, g) and zero rotation
    raw = np.array([[bias[0], bias[1], scale[2] * G + bias[2], *gyro_bias]])
    corrected = apply_calibration(raw, ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"], cal)[0]
    np.testing.assert_allclose(corrected, [0, 0, G, 0, 0, 0], atol=0.1)
    assert abs(corrected[2] - G) / G < 0.002


def test_cli_refuses_unusable_requests_in_one_line():
    code, _, err = _cli(["calibrate", "force", "--device", "sim://progressor", "--yes"])
    assert (
        code == 2 and err.strip() == "motorlab: --yes needs --masses-kg (nobody is there to type the masses)"
    )
    code, _, err = _cli(["calibrate", "force", "--device", "sim://nosuchsim", "--masses-kg", "0,1", "--yes"])
    assert code == 2 and "sim://nosuchsim: unknown simulator" in err and err.count("\n") == 1


def test_calibrate_list_shows_stored_calibrations():
    code, out, _ = _cli(["calibrate", "list"])
    assert code == 0 and "No calibrations stored" in out
    store = CalibrationStore()
    store.save(force_calibration([0, 10], [0, 1], device_serial="SN1", created="2024-01-01T00:00:00+00:00"))
    code, out, _ = _cli(["calibrate", "list", "--kind", "force"])
    assert code == 0 and "SN1-force-20240101T000000" in out


def test_interactive_force_calibration_takes_the_masses_the_technician_types(monkeypatch):
    # Enter at the tare prompt, then "5", a typo, "10", an empty line to finish, "y" to save
    monkeypatch.setattr("sys.stdin", io.StringIO("\n5\nfive\n10\n\ny\n"))
    code, out, err = _cli(
        ["calibrate", "force", "--device", "sim://grip?seed=8&gain_error=-0.03", "--average-s", "0.5"]
    )
    assert code == 0, err
    assert "'five' is not a number" in out
    (cal,) = CalibrationStore().all()
    assert [p["mass_kg"] for p in cal.points] == [0, 5, 10]
    assert cal.gain["force"] == pytest.approx(1 / 0.97, rel=0.003)


def test_interactive_force_calibration_can_be_discarded(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n\nn\n"))  # tare, hang 2 kg (Enter), do not save
    code, out, _ = _cli(
        ["calibrate", "force", "--device", "sim://grip?seed=9", "--masses-kg", "2", "--average-s", "0.3"]
    )
    assert code == 1 and "Not saved." in out
    assert CalibrationStore().all() == []
