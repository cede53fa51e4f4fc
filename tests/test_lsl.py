"""LSL outlet round trips: samples, timestamps and channel metadata seen by a real inlet.

LSL stays on this machine: before pylsl is loaded, ``LSLAPICFG`` points at a
config in this module's tmp dir with ``ResolveScope = machine`` and IPv6 off,
and every stream is resolved by a unique ``source_id``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from motorlab.devices.base import DeviceInfo, SampleBlock
from motorlab.devices.clock import ClockMapper
from motorlab.recording import Channel


@pytest.fixture(scope="module")
def lsl(tmp_path_factory):
    from motorlab.streaming.lsl import write_local_config

    cfg = write_local_config(tmp_path_factory.mktemp("lsl") / "lsl_api.cfg", log_level=-3)
    old = os.environ.get("LSLAPICFG")
    os.environ["LSLAPICFG"] = str(cfg)
    pylsl = pytest.importorskip("pylsl")
    yield pylsl
    if old is None:
        os.environ.pop("LSLAPICFG", None)
    else:
        os.environ["LSLAPICFG"] = old


def _inlet(pylsl, source_id: str):
    streams = pylsl.resolve_byprop("source_id", source_id, timeout=10)
    assert len(streams) == 1, f"stream {source_id} not found on this machine"
    inlet = pylsl.StreamInlet(streams[0], max_buflen=60)
    inlet.open_stream(timeout=10)
    return inlet


def _pull_all(inlet, expected: int, timeout_s: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    values, stamps = [], []
    deadline = time.monotonic() + timeout_s
    while len(values) < expected and time.monotonic() < deadline:
        v, t = inlet.pull_chunk(timeout=0.2, max_samples=100_000)
        values += v
        stamps += t
    return np.asarray(values, dtype=np.float64), np.asarray(stamps, dtype=np.float64)


def _channels_of(inlet) -> list[dict[str, str]]:
    ch = inlet.info(timeout=5).desc().child("channels").child("channel")
    out = []
    while not ch.empty():
        out.append({k: ch.child_value(k) for k in ("label", "unit", "type")})
        ch = ch.next_sibling()
    return out


IMU_INFO = DeviceInfo(
    model="TESTIMU",
    serial="0042",
    firmware="1.0",
    protocol="test",
    manufacturer="motorlab-tests",
    nominal_rate_hz=100.0,
    channels=(
        Channel("acc_x", "ACCEL", "m/s^2", "x"),
        Channel("gyr_x", "GYRO", "deg/s", "x"),
        Channel("tip_force", "MISC", "N"),
    ),
)


def test_lsl_clock_is_host_monotonic(lsl):
    """liblsl local_clock and time.monotonic are the same clock on this platform (CLOCK_MONOTONIC)."""
    from motorlab.streaming.lsl import measure_clock_offset

    assert abs(measure_clock_offset(lsl)) < 1e-3


def test_outlet_round_trip_values_timestamps_metadata(lsl):
    """Blocks with known device times and a known clock offset arrive bit-exact with mapped stamps."""
    from motorlab.streaming.lsl import LslOutlet

    sid = f"motorlab-test-{uuid.uuid4().hex}"
    outlet = LslOutlet(IMU_INFO, name="motorlab test imu", source_id=sid)
    try:
        inlet = _inlet(lsl, sid)
        clock = ClockMapper()
        host_offset = 1234.5  # device clock runs 1234.5 s behind the host clock
        clock.update(0.0, host_offset)
        rng = np.random.default_rng(7)
        blocks = []
        for k in range(20):
            t = (k * 10 + np.arange(10)) / 100.0
            blocks.append(SampleBlock(t, rng.normal(size=(10, 3))))
        for b in blocks:
            outlet.push_block(b, clock.to_host)
        values, stamps = _pull_all(inlet, 200)
        assert values.shape == (200, 3)
        np.testing.assert_array_equal(values, np.concatenate([b.values for b in blocks]))
        expected = np.concatenate([b.device_time for b in blocks]) + host_offset + outlet.clock_offset_s
        np.testing.assert_allclose(stamps, expected, rtol=0, atol=1e-9)
        info = inlet.info(timeout=5)
        assert (info.type(), info.channel_count(), info.nominal_srate()) == ("MoCap", 3, 100.0)
        assert _channels_of(inlet) == [
            {"label": "acc_x", "unit": "m/s^2", "type": "ACCEL"},
            {"label": "gyr_x", "unit": "deg/s", "type": "GYRO"},
            {"label": "tip_force", "unit": "N", "type": "MISC"},
        ]
        acq = info.desc().child("acquisition")
        assert (acq.child_value("model"), acq.child_value("serial_number")) == ("TESTIMU", "0042")
        inlet.close_stream()
    finally:
        outlet.close()


def test_outlet_stays_ipv4_and_discovery_on_loopback(lsl):
    """With the local config no IPv6 socket is opened and the discovery responder binds 127.0.0.1.

    (liblsl binds its TCP data and UDP time servers on all IPv4 interfaces; that is
    not configurable, but discovery — the only traffic an outlet sends unasked —
    stays on loopback with ResolveScope = machine.)
    """
    psutil = pytest.importorskip("psutil")
    from motorlab.streaming.lsl import LslOutlet

    before = {c.laddr for c in psutil.Process().net_connections(kind="inet")}
    outlet = LslOutlet(IMU_INFO, source_id=f"motorlab-test-{uuid.uuid4().hex}")
    try:
        new = [c for c in psutil.Process().net_connections(kind="inet") if c.laddr not in before]
        assert new, "the outlet opened no sockets?"
        import socket

        assert all(c.family == socket.AF_INET for c in new)
        udp = [c for c in new if c.type == socket.SOCK_DGRAM]
        assert any(c.laddr.ip == "127.0.0.1" for c in udp)
        assert all(c.laddr.ip in ("127.0.0.1", "0.0.0.0") for c in new)
    finally:
        outlet.close()


def _sim_available(name: str) -> bool:
    import importlib.util

    from motorlab.devices.spec import simulators

    try:
        return importlib.util.find_spec(f"motorlab.sim.emulators.{simulators()[name][1].module}") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not _sim_available("grip"), reason="sim://grip emulator not in this build yet")
async def test_grip_emulator_through_lsl(lsl):
    """sim://grip over a pseudo-terminal -> driver -> LSL outlet -> inlet: same samples,
    timestamps = device time mapped to LSL time, and the squeeze the participant made."""
    from motorlab.devices.registry import open_device
    from motorlab.streaming.lsl import LslOutlet
    from motorlab.streaming.run import pump

    device = await open_device("sim://grip?seed=3&peak_n=250")
    driver = device.driver
    sid = f"motorlab-test-{uuid.uuid4().hex}"
    try:
        info = await driver.info()
        await driver.set_rate(80)
        outlet = LslOutlet(info, source_id=sid, rate_hz=80)
        inlet = await asyncio.to_thread(_inlet, lsl, sid)
        pushed_v, pushed_t = [], []

        def tee(blk: SampleBlock) -> None:  # what was pushed, with the mapping in force at push time
            pushed_v.append(blk.values.copy())
            pushed_t.append(outlet.to_lsl_time(driver.clock.to_host(blk.device_time)))

        await driver.start()
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, device.emulator.cue, "squeeze")
        loop.call_later(1.6, device.emulator.cue, "release")
        stats = await pump(driver, outlet, duration_s=2.5, on_block=tee)
        await driver.stop()
        sent_v, sent_t = np.concatenate(pushed_v), np.concatenate(pushed_t)
        values, stamps = await asyncio.to_thread(_pull_all, inlet, sent_v.shape[0])
        assert stats.samples == sent_v.shape[0] == values.shape[0] > 100
        np.testing.assert_array_equal(values, sent_v)
        np.testing.assert_allclose(stamps, sent_t, rtol=0, atol=1e-9)
        # device spacing survives the mapping: 80 Hz within 1 %
        assert np.median(np.diff(stamps)) == pytest.approx(1 / 80, rel=0.01)
        # the squeeze the virtual participant made is in the stream
        force_col = [c.name for c in info.channels].index("force")
        peak_truth = device.emulator.truth[0]["peak_n"]
        assert values[:, force_col].max() == pytest.approx(peak_truth, rel=0.05)
        assert _channels_of(inlet)[force_col] == {"label": "force", "unit": "N", "type": "MISC"}
        inlet.close_stream()
        outlet.close()
    finally:
        await device.close()


@pytest.mark.skipif(not _sim_available("grip"), reason="sim://grip emulator not in this build yet")
def test_cli_stream_lsl_publishes_named_stream(lsl):
    """`motorlab stream --device sim://grip --lsl` publishes a stream an inlet can read."""
    sid = f"motorlab-cli-{uuid.uuid4().hex}"
    env = dict(os.environ)  # carries LSLAPICFG (machine scope) to the child
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "motorlab",
            "stream",
            "--device",
            "sim://grip?seed=1",
            "--lsl",
            "--source-id",
            sid,
            "--name",
            "cli grip",
            "--duration",
            "4",
            "--rate",
            "80",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        inlet = _inlet(lsl, sid)
        values, stamps = _pull_all(inlet, 80, timeout_s=10)
        assert values.shape[0] >= 80 and values.shape[1] >= 1
        assert np.all(np.diff(stamps) > 0)
        assert inlet.info(timeout=5).name() == "cli grip"
        assert _channels_of(inlet)[0]["unit"] == "N"
        inlet.close_stream()
    finally:
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "streamed" in err and "0 dropped" in err


def test_cli_stream_bad_cue_is_one_line_error(capsys):
    from motorlab.cli.main import main

    assert main(["stream", "--device", "sim://grip", "--cue", "squeeze-now"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--cue 'squeeze-now'" in err
