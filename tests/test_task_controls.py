"""Repeating/invalidating a trial, a device dropping mid-trial, and quitting
mid-task each keep every valid trial on disk (real emulator over a pty)."""

from __future__ import annotations

import asyncio
import warnings

import numpy as np
import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.devices import open_device
from motorlab.session.controls import ControlQueue, ScriptedKeys, parse_key_script
from motorlab.session.protocols import grip_protocol
from motorlab.session.recorder import Recorder, RecordingTarget, record_task
from motorlab.storage.bids import read_recording, recording_status

# instruction 0.3 s, countdown 0.3 s, squeeze 1.0 s, rest 0.6 s:
# trial 1 runs 0.6-1.6 s, trial 2 runs 2.5-3.5 s, trial 3 runs 4.4-5.4 s
FAST = {"trials": 3, "countdown_s": 0.3, "squeeze_s": 1.0, "rest_s": 0.6}


def _trials(rec):
    return [(e.extra["trial"], e.extra["status"]) for e in rec.events_of("trial")]


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # must be finalised
        return read_recording(path)


def test_key_script_parsing():
    assert parse_key_script("x@6.5, q@12,_@1") == [(1.0, "space"), (6.5, "invalid"), (12.0, "quit")]
    with pytest.raises(ValueError):
        parse_key_script("z@1")


def keys_when(*plan):
    """Controls pressed when the live state reaches a point, not at a clock time (robust on a
    loaded machine): ``plan`` items are ``(kind, trial_index, seconds into the step, control)``."""
    controls = ControlQueue()
    todo = list(plan)

    def view(s):
        if todo:
            kind, index, after_s, control = todo[0]
            st = s.step
            if st.kind == kind and st.trial_index == index and s.elapsed_s - st.started_s >= after_s:
                todo.pop(0)
                controls.push(control)

    return controls, view


async def test_invalid_and_repeat_keep_every_trial(tmp_path):
    titles: list[tuple[str, int, int]] = []
    controls, press = keys_when(("trial", 1, 0.4, "invalid"), ("trial", 2, 0.4, "repeat"))
    res = await record_task(
        "sim://grip?seed=21",
        grip_protocol(**FAST),
        RecordingTarget(tmp_path, "P020"),
        controls=controls,
        views=[press, lambda s: titles.append((s.step.kind, s.step.trial_index, s.step.trial_total))],
    )
    rec = _read(res.path)
    # x during trial 1: invalid plus one replacement; r during that replacement: it stops,
    # is invalid and gets its own replacement; then trials 2 and 3 as planned
    assert _trials(rec) == [(1, "invalid"), (1, "invalid"), (1, "valid"), (2, "valid"), (3, "valid")]
    rows = analyze_recording(rec).to_rows()
    summary = next(r for r in rows if r["row"] == "summary")
    assert summary["n_trials"] == 5 and summary["n_valid"] == 3
    peaks = [r["peak_force_N"] for r in rows if r["row"] == "trial"]
    assert len(peaks) == 5 and min(peaks[0], peaks[2], peaks[3], peaks[4]) > 200
    # the title's numbering grows with each replacement and never passes the total
    assert all(i <= n for _, i, n in titles)
    assert {(i, n) for k, i, n in titles if k == "trial"} == {
        (1, 3),
        (1, 4),
        (2, 4),
        (2, 5),
        (3, 5),
        (4, 5),
        (5, 5),
    }
    # one rest (0.6 s) + countdown (0.3 s) between the repeated attempt and its replacement
    tr = rec.events_of("trial")
    gap = tr[2].onset - (tr[1].onset + tr[1].duration)
    assert 0.8 < gap < 1.2


async def test_invalid_mark_after_the_trial_applies_to_the_last_trial(tmp_path):
    controls, press = keys_when(("rest", 1, 0.2, "invalid"))
    res = await record_task(
        "sim://grip?seed=22",
        grip_protocol(**FAST),
        RecordingTarget(tmp_path, "P021"),
        controls=controls,
        views=[press],
    )  # during the rest after trial 1: trial 1 is invalid and replaced before trial 2
    rec = _read(res.path)
    assert _trials(rec) == [(1, "invalid"), (1, "valid"), (2, "valid"), (3, "valid")]
    assert len(rec.events_of("trial_status")) == 1


async def test_quit_mid_trial_keeps_earlier_trials_and_finalises(tmp_path):
    res = await record_task(
        "sim://grip?seed=23",
        grip_protocol(**FAST),
        RecordingTarget(tmp_path, "P022"),
        controls=ScriptedKeys("q@3.0"),
    )
    assert res.quit
    assert recording_status(res.path) == "complete"
    rec = _read(res.path)
    assert _trials(rec) == [(1, "valid"), (2, "incomplete")]
    t1 = rec.events_of("trial")[0]
    seg = rec.crop(t1.onset, t1.onset + t1.duration)
    assert np.nanmax(seg.channel("force")) > 200


async def test_device_unplugged_mid_trial_keeps_valid_trials(tmp_path):
    loop = asyncio.get_running_loop()
    async with await open_device("sim://grip?seed=24") as device:
        device.driver.reconnect_backoff_s = 0.05
        recorder = Recorder(device, grip_protocol(**FAST), RecordingTarget(tmp_path, "P023"))
        link = device.emulator.link
        unplug: list[float] = []

        def unplug_during_trial_2(snapshot):  # scheduled when the first step starts
            if snapshot.step.kind and not unplug:
                unplug.append(snapshot.elapsed_s)
                loop.call_later(2.8, link.vanish)
                loop.call_later(3.1, link.restore)

        recorder.subscribe(unplug_during_trial_2)
        res = await recorder.run()
    rec = _read(res.path)
    assert res.gaps == 1
    (gap,) = rec.events_of("gap")
    assert 2.5 < gap.onset < 3.3 and 0.2 < gap.duration < 3.0
    assert [s for _, s in _trials(rec)] == ["valid", "valid", "valid"]
    rows = [r for r in analyze_recording(rec).to_rows() if r["row"] == "trial"]
    truth = [t["peak_n"] for t in res.truth]
    # trials 1 and 3 were untouched by the unplug: peaks match the participant
    for i in (0, 2):
        assert rows[i]["peak_force_N"] == pytest.approx(truth[i], rel=0.01)
    assert np.all(np.diff(rec.timestamps) > 0)


async def test_live_plot_follows_the_signal(tmp_path):
    from motorlab.ui.plot import LivePlot

    plot = LivePlot("grip", interactive=False)  # Agg canvas: same drawing code, no window
    try:
        res = await record_task(
            "sim://grip?seed=25",
            grip_protocol(trials=1, countdown_s=0.2, squeeze_s=1.0),
            RecordingTarget(tmp_path, "P024"),
            views=[plot.update],
        )
        x, _y = plot.line.get_data()
        assert len(x) > 10
        # the plotted peak is the trial's measured peak
        rows = [r for r in analyze_recording(_read(res.path)).to_rows() if r["row"] == "trial"]
        assert plot.peak_line.get_ydata()[0] == pytest.approx(rows[0]["peak_force_N"], rel=0.01)
        assert plot.ax.get_ylabel() == "force (N)"
    finally:
        plot.close()


def test_plot_without_display_is_a_clear_error(monkeypatch):
    from motorlab.errors import MotorlabError
    from motorlab.ui.plot import LivePlot

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(MotorlabError, match="display"):
        LivePlot("x", interactive=True)


async def test_previous_best_feeds_the_live_bar(tmp_path):
    from motorlab.cli.cmd_record import _previous_best

    res = await record_task(
        "sim://grip?seed=26", grip_protocol(**FAST), RecordingTarget(tmp_path, "P025", "01")
    )
    best = _previous_best(tmp_path, "P025", "grip", "02")
    assert best == pytest.approx(max(t["peak_n"] for t in res.truth), rel=0.01)
    assert _previous_best(tmp_path, "P025", "grip", "01") is None  # the current session does not count


async def test_space_during_the_positioning_text_or_a_rest_is_not_swallowed(tmp_path):
    # instruction 0.3 s: SPACE at 0.1 s ends it and starts the countdown at once; SPACE during
    # the rest after trial 1 starts trial 2 when the rest ends. No other key is pressed: a
    # swallowed SPACE would leave the task waiting forever.
    proto = grip_protocol(trials=2, countdown_s=0.3, squeeze_s=0.8, rest_s=0.8)
    controls, press = keys_when(("instruction", 0, 0.05, "space"), ("rest", 1, 0.1, "space"))
    res = await asyncio.wait_for(
        record_task(
            "sim://grip?seed=27",
            proto,
            RecordingTarget(tmp_path, "P026"),
            controls=controls,
            wait_for_start=True,
            views=[press],
        ),
        timeout=30,
    )
    trials = _read(res.path).events_of("trial")
    assert [e.extra["status"] for e in trials] == ["valid", "valid"]
    assert trials[0].onset < 0.7  # the instruction ended at the SPACE (~0.05 s), then the 0.3-s countdown
    gap = trials[1].onset - (trials[0].onset + trials[0].duration)
    assert 1.0 < gap < 1.4  # rest 0.8 s + countdown 0.3 s, no wait in between
