"""The Recorder's live state: immutable snapshots any view can subscribe to (real emulator on a pty)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os
import warnings

import numpy as np
import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.devices import open_device
from motorlab.errors import RecordingError
from motorlab.session import LiveSnapshot, Recorder, RecordingTarget, grip_protocol
from motorlab.storage.bids import read_recording, recording_status, recover
from motorlab.ui.terminal import plain_line, render

# instruction 0.3 s, countdown 0.3 s, squeeze 1.0 s, rest 0.6 s; two trials
FAST = {"trials": 2, "countdown_s": 0.3, "squeeze_s": 1.0, "rest_s": 0.6}


async def test_snapshots_follow_the_task_and_end_with_the_stored_result(tmp_path):
    snaps: list[LiveSnapshot] = []
    async with await open_device("sim://grip?seed=31&peak_n=280") as device:
        recorder = Recorder(
            device, grip_protocol(**FAST), RecordingTarget(tmp_path, "P031"), best_previous=250.0
        )
        recorder.subscribe(snaps.append)
        result = await recorder.run()
    # steps in protocol order, trial index counting up to the total
    kinds = [s.step.kind for s in snaps if s.step.kind]
    order = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert order == ["instruction", "countdown", "trial", "rest", "countdown", "trial"]
    assert [s.step.trial_index for s in snaps][-1] == 2 and {s.step.trial_total for s in snaps} == {2}
    assert all(s.step.trial_index == 0 for s in snaps if s.step.kind in ("instruction",))
    # the last snapshot, and only it, is final, and it describes what was stored
    assert [s.finished for s in snaps].count(True) == 1 and snaps[-1].finished
    last = snaps[-1]
    assert last.writer.path == str(result.path) and last.writer.ok and not last.writer.error
    assert last.writer.samples_written == last.signal.n_samples == result.n_samples
    assert last.link.emulated and last.link.connected and last.link.device.startswith("motorlab-grip-hx711")
    assert (last.signal.channel, last.signal.unit, last.signal.best_previous) == ("force", "N", 250.0)
    assert not last.quit and last.protocol == "grip-maximal" and last.task == "grip"
    # the live trial peak is the stored trial's peak
    trials = [r for r in analyze_recording(read_recording(result.path)).to_rows() if r["row"] == "trial"]
    assert last.signal.trial_peak == pytest.approx(trials[-1]["peak_force_N"], rel=1e-6)
    assert last.signal.session_peak == pytest.approx(max(r["peak_force_N"] for r in trials), rel=1e-6)
    assert np.all(np.diff(last.signal.trace_t) > 0) and len(last.signal.trace_v) == len(last.signal.trace_t)
    # snapshots are frozen plain data: JSON for a browser, text for a terminal
    with pytest.raises(dataclasses.FrozenInstanceError):
        last.message = "x"  # type: ignore[misc]
    assert json.loads(json.dumps(last.as_dict(), allow_nan=True))["writer"]["path"] == str(result.path)
    assert (
        "trial 2/2" in plain_line(last) and render(last).title == "grip-maximal — trial 2 of 2 · right hand"
    )


async def test_updates_stream_ends_with_the_final_snapshot_and_a_broken_view_is_dropped(tmp_path):
    calls = {"broken": 0}

    def broken(_snapshot: LiveSnapshot) -> None:
        calls["broken"] += 1
        raise RuntimeError("a view bug")

    async with await open_device("sim://grip?seed=32") as device:
        recorder = Recorder(
            device, grip_protocol(trials=1, countdown_s=0.2, squeeze_s=0.5), RecordingTarget(tmp_path, "P032")
        )
        recorder.subscribe(broken)

        async def watch() -> list[LiveSnapshot]:
            return [s async for s in recorder.feed.updates()]

        watcher = asyncio.ensure_future(watch())
        await asyncio.sleep(0)
        result = await recorder.run()
        seen = await asyncio.wait_for(watcher, 5.0)
    assert calls["broken"] == 1  # detached after its first failure; the recording went on
    assert seen and seen[-1].finished and not any(s.finished for s in seen[:-1])
    assert seen[-1].signal.n_samples == result.n_samples > 0
    assert recording_status(result.path) == "complete"


async def test_link_loss_shows_in_the_live_state(tmp_path):
    loop = asyncio.get_running_loop()
    link_states: list[tuple[bool, int]] = []
    async with await open_device("sim://grip?seed=33&rate=100") as device:
        device.driver.reconnect_backoff_s = 0.05
        link = device.emulator.link
        recorder = Recorder(
            device, grip_protocol(trials=1, countdown_s=0.3, squeeze_s=2.0), RecordingTarget(tmp_path, "P033")
        )

        def watch(s: LiveSnapshot) -> None:
            link_states.append((s.link.connected, s.link.gaps))
            if s.step.kind == "trial" and not hasattr(watch, "armed"):
                watch.armed = True  # type: ignore[attr-defined]
                loop.call_later(0.3, link.vanish)
                loop.call_later(0.8, link.restore)

        recorder.subscribe(watch)
        result = await recorder.run()
    assert (False, 0) in link_states  # the view saw the link down …
    assert link_states[-1] == (True, 1)  # … and back, with the gap counted
    assert result.gaps == 1


async def test_a_disk_that_fills_up_stops_the_task_with_one_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    snaps: list[LiveSnapshot] = []
    async with await open_device("sim://grip?seed=34&rate=100") as device:
        recorder = Recorder(
            device,
            grip_protocol(trials=3, countdown_s=0.3, squeeze_s=1.0, rest_s=0.5),
            RecordingTarget(tmp_path, "P034"),
        )

        def fill_disk_once_streaming(s: LiveSnapshot) -> None:
            snaps.append(s)
            if s.signal.n_samples > 50 and not hasattr(fill_disk_once_streaming, "done"):
                fill_disk_once_streaming.done = True  # type: ignore[attr-defined]
                # from now on the data file is a full disk: every write fails with ENOSPC
                recorder._writer._data = open("/dev/full", "a", encoding="ascii")  # noqa: SIM115

        recorder.subscribe(fill_disk_once_streaming)
        with pytest.raises(RecordingError) as exc:
            await recorder.run()
    msg = str(exc.value)
    # /dev/full fails a write with ENOSPC and an fsync with EINVAL: whichever comes first is reported
    os_error = ("No space left", "Invalid argument")
    assert "\n" not in msg and "_motion.tsv: writing failed at" in msg and any(e in msg for e in os_error)
    last = snaps[-1]
    assert last.finished and last.quit and not last.writer.ok
    assert any(e in last.writer.error for e in os_error)
    assert "WRITING FAILED" in last.message
    # the task stopped long before its 3 trials (about 5 s) were over
    assert last.elapsed_s < 4.0
    # what was written before the failure is on disk, finalised as failed
    motion = next(tmp_path.rglob("*_motion.tsv"))
    assert recording_status(motion) == "failed"
    recover(motion)  # nothing left to do
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(motion)
    assert rec.n_samples >= 50 and math.isfinite(float(rec.timestamps[-1]))
