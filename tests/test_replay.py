"""replay://PATH: a stored recording through driver -> acquisition -> writer, metrics bit for bit."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.devices.registry import open_device
from motorlab.errors import DeviceError
from motorlab.session import RecordingTarget, grip_protocol, record_task
from motorlab.session.acquisition import Acquisition
from motorlab.session.protocols import tremor_protocol
from motorlab.session.replay import replay_recording
from motorlab.storage.bids import read_recording


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    """A short visit recorded from emulated devices: two grip trials and a tremor hold."""
    root = tmp_path_factory.mktemp("visit")
    target = RecordingTarget(root, "P077")
    grip = asyncio.run(
        record_task(
            "sim://grip?seed=7&peak_n=260",
            grip_protocol(trials=2, countdown_s=0.2, squeeze_s=1.2, rest_s=0.3),
            target,
        )
    )
    tremor = asyncio.run(
        record_task("sim://pen?seed=7", tremor_protocol(hold_s=3.0, countdown_s=0.2), target)
    )
    return [grip.path, tremor.path]


def test_replay_of_a_recorded_visit_reproduces_its_metrics_bit_for_bit(visit, tmp_path):
    for path in visit:
        original = read_recording(path)
        t_begin = time.monotonic()
        out = asyncio.run(replay_recording(f"replay://{path}?speed=20", tmp_path))
        elapsed = time.monotonic() - t_begin
        replayed = read_recording(out)
        assert elapsed < original.duration / 20 + 3.0
        np.testing.assert_array_equal(replayed.timestamps, original.timestamps)
        np.testing.assert_array_equal(replayed.data, original.data)
        assert replayed.events == original.events
        for trial in original.events_of("trial"):  # per-trial sequence integrity
            assert trial.extra["dropped_samples"] == 0 and trial.extra["duplicates"] == 0
        rows_a, rows_b = analyze_recording(original).to_rows(), analyze_recording(replayed).to_rows()
        assert rows_a and len(rows_a) == len(rows_b)
        for ra, rb in zip(rows_a, rows_b):
            assert ra.keys() == rb.keys()
            assert all(_same(ra[k], rb[k]) for k in ra), (ra, rb)


async def test_replay_keeps_the_recorded_pace(visit):
    path = visit[0]
    original = read_recording(path)
    device = await open_device(f"replay://{path}?speed=4")
    try:
        acq = Acquisition(device.driver)
        seen: list[tuple[float, float]] = []
        acq._taps.append(lambda t, v: seen.append((time.monotonic(), float(t[-1]))))
        acq.start()
        await device.driver.start()
        await asyncio.wait_for(device.driver.finished(), original.duration / 4 + 5)
        await device.driver.stop()
        await acq.stop()
    finally:
        await device.close()
    wall = np.array([w for w, _ in seen])
    rec_t = np.array([t for _, t in seen])
    # the wall-clock pace follows the recorded timestamps / 4 (within a scheduling tolerance)
    slope = np.polyfit(rec_t, wall, 1)[0]
    assert slope == pytest.approx(0.25, rel=0.05)
    info = await device.driver.info()
    assert info.serial.startswith("replay-") and info.protocol == "replay"


async def test_replay_of_a_missing_file_or_a_bad_speed_is_one_line(tmp_path):
    with pytest.raises(DeviceError, match=r"no_such_motion\.tsv: no such recording to replay$"):
        await open_device(f"replay://{tmp_path}/no_such_motion.tsv")
    with pytest.raises(DeviceError, match=r"speed must be positive"):
        await open_device(f"replay://{tmp_path}/x_motion.tsv?speed=0")


def test_replay_command_writes_the_same_samples(visit, tmp_path, capsys):
    from motorlab.cli.main import main

    path = visit[0]
    assert main(["replay", str(path), "--out", str(tmp_path), "--speed", "50"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"replayed {path} -> {tmp_path}")
    replayed = read_recording(out.rsplit(" -> ", 1)[1])
    original = read_recording(path)
    np.testing.assert_array_equal(replayed.timestamps, original.timestamps)
    np.testing.assert_array_equal(replayed.data, original.data)
    assert main(["replay", str(tmp_path / "missing_motion.tsv"), "--out", str(tmp_path)]) == 2
    assert "missing_motion.tsv: no such recording to replay" in capsys.readouterr().err
