"""RecorderLiveSource against the real Recorder and emulators (no server): what a screen would get.

Every force sample of a trial reaches the screen side once, in kg, equal to what the
writer stored; the sustained-grip band follows the trial's peak; the countdown counts
down; the steady-hold view of a tremor hold moves and has a finite RMS.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from motorlab.devices.registry import open_device
from motorlab.errors import MotorlabError
from motorlab.session import ControlQueue, Recorder, RecordingTarget, grip_sustained_protocol, tremor_protocol
from motorlab.storage.bids import read_recording
from motorlab.ui.web.live_source import HOLD_BAND_FRACTION, RecorderLiveSource, ScreenSetup
from motorlab.units import newton_to_kgf


async def _record(tmp_path, url, proto, view):
    updates = []
    async with await open_device(url) as device:
        info = await device.driver.info()
        src = RecorderLiveSource(ScreenSetup(view, "t", url, True, 40.0), proto, info.channels)
        rec = Recorder(device, proto, RecordingTarget(tmp_path, "P5001"), controls=ControlQueue())
        rec.subscribe(src.on_snapshot)
        rec.add_sample_tap(src.on_samples)
        task = asyncio.ensure_future(rec.run())
        while not task.done():  # the hub's polling, at its 30/s
            upd = src.poll()
            if upd is not None:
                updates.append(upd)
            await asyncio.sleep(1 / 30)
        result = await task
        upd = src.poll()
        if upd is not None:
            updates.append(upd)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return updates, read_recording(result.path)


async def test_sustained_grip_every_trial_sample_once_in_kg_and_the_band(tmp_path):
    proto = grip_sustained_protocol(hold_s=2.0, countdown_s=2.0)
    updates, rec = await _record(tmp_path, "sim://grip?seed=9&peak_n=200&rate=100", proto, "force_hold")
    shown_t = np.concatenate([u.force.t_s for u in updates if u.force is not None])
    shown_kg = np.concatenate([u.force.value for u in updates if u.force is not None])
    assert np.all(np.diff(shown_t) > 0)  # each sample handed out once, in order
    stored = np.isin(rec.timestamps, shown_t)
    assert stored.sum() == shown_t.size  # every shown sample is a stored one ...
    np.testing.assert_allclose(shown_kg, newton_to_kgf(rec.channel("force")[stored]), rtol=1e-12)
    (trial,) = [e for e in rec.events if e.trial_type == "trial"]
    in_trial = (rec.timestamps >= trial.onset) & (rec.timestamps <= trial.onset + trial.duration)
    assert (
        stored[in_trial].mean() > 0.95
    )  # ... and the trial's samples are all shown (bar a block at its edges)
    assert not stored[rec.timestamps < trial.onset - 0.05].any()  # nothing from the countdown or instruction
    countdowns = [u.snapshot.step.countdown for u in updates if u.snapshot.step.kind == "countdown"]
    assert sorted(set(countdowns), reverse=True) == [2, 1]
    last = [u.snapshot for u in updates if u.snapshot.step.kind == "trial"][-1]
    f = last.force
    assert f is not None and f.unit == "kg" and f.scale_max == 40.0
    assert f.peak == pytest.approx(shown_kg.max())
    assert (f.band_lo, f.band_hi) == pytest.approx((HOLD_BAND_FRACTION * f.peak, f.peak))
    assert f.peak == pytest.approx(newton_to_kgf(200.0), rel=0.1)  # the virtual client's 200 N
    assert updates[-1].snapshot.step.kind == "done"
    assert last.device.emulated and last.device.latest_t_s is not None
    assert last.task.trial == 1 and last.task.n_trials == 1 and last.task.hand == "right"


async def test_tremor_hold_view_moves_with_the_hand(tmp_path):
    proto = tremor_protocol("postural", hold_s=2.0, countdown_s=1.0)
    updates, rec = await _record(tmp_path, "sim://pen?seed=4&rate=200&tremor_hz=6", proto, "hold")
    holds = [u.snapshot.hold for u in updates if u.snapshot.step.kind == "trial"]
    assert len(holds) > 20 and all(h is not None for h in holds)
    rms = np.array([h.rms for h in holds])
    dots = np.array([(h.dx, h.dy) for h in holds])
    assert np.all(np.isfinite(rms)) and rms.max() > 0
    assert np.ptp(dots, axis=0).max() > 0  # the dot moves
    # the RMS is that of the stored acceleration about its 1-s mean
    t = rec.timestamps
    last_t = updates[-1].snapshot.device.latest_t_s
    ax, ay = rec.channel("acc_x"), rec.channel("acc_y")
    w = (t > last_t - 1.0) & (t <= last_t)
    expected = np.sqrt(np.mean((ax[w] - ax[w].mean()) ** 2 + (ay[w] - ay[w].mean()) ** 2))
    assert updates[-1].snapshot.hold.rms == pytest.approx(expected, rel=0.05)


def test_a_pinch_visit_runs_through_the_visit_runner(tmp_path):
    """VisitRun without a server: the hub's source is polled as the hub would, Space sent when asked."""
    import time

    from motorlab.clinic import ClientRegistry, make_client
    from motorlab.ui.web.hub import LiveHub
    from motorlab.ui.web.visit import VisitRun, make_plan

    ClientRegistry(tmp_path).add(make_client("P5002", 2016, "F", "left"))
    plan = make_plan(tmp_path, "P5002", ["pinch"], {"force": ("sim://pinch?seed=3", True)}, 1, "quick")
    hub = LiveHub()
    run = VisitRun(plan, hub, abandon_s=None, pause_between_s=0.0).start()
    run.note("typed while the device connects")  # kept for the task about to start
    seen = []
    end = time.monotonic() + 90
    while run.active and time.monotonic() < end:
        src = hub.source
        upd = src.poll() if src is not None else None
        if upd is not None:
            s = upd.snapshot
            seen.append((s.task.title, s.task.trial, s.task.n_trials, s.task.hand, s.step.kind, s.force))
            if s.step.kind == "waiting":
                run.command("space")
        time.sleep(1 / 30)
    run.join(10)
    assert run.state == "finished" and run.tasks[0].status == "done"
    titles = {t for t, *_ in seen}
    assert titles == {"Pinch as hard as you can!"}
    trials = sorted({(n, k, h) for _, n, k, h, kind, _ in seen if kind == "trial"})
    # tip, key and palmar pinch, one trial per hand each, the dominant (left) hand first
    assert [n for n, _, _ in trials] == [1, 2, 3, 4, 5, 6] and {k for _, k, _ in trials} == {6}
    assert [h for _, _, h in trials][:2] == ["left", "right"]
    forces = [f for *_, kind, f in seen if kind == "trial" and f is not None and f.peak is not None]
    assert {f.scale_max for f in forces} == {10.0} and {f.unit for f in forces} == {
        "kg"
    }  # a child's pinch scale
    rec = read_recording(run.tasks[0].path)
    side = json.loads(Path(run.tasks[0].path).with_suffix(".json").read_text())
    assert [n["text"] for n in side["MotorlabNotes"]] == ["typed while the device connects"]
    with pytest.raises(MotorlabError, match="no task is running"):
        run.note("after the visit")  # nothing left to keep it with
    stored_kg = newton_to_kgf(np.nanmax(rec.channel("force")))
    assert max(f.peak for f in forces) == pytest.approx(stored_kg, abs=0.05)
