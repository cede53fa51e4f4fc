"""Pinch strength: tip, key and palmar pinch recorded on the emulated pinch gauge (real pty,
real driver), analysed per grip and hand against the virtual participant's truth."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.analysis.results import PINCH_NO_NORM
from motorlab.errors import ParameterError
from motorlab.session.controls import ControlQueue
from motorlab.session.protocols import pinch_protocol
from motorlab.session.recorder import RecordingTarget, record_task
from motorlab.storage.bids import read_recording


async def test_pinch_trials_match_the_participant_per_grip(tmp_path):
    proto = pinch_protocol(trials=2, hands=("right", "left"), countdown_s=0.3, squeeze_s=0.8, rest_s=0.2)
    assert proto.n_trials == 12 and proto.task == "pinch"
    res = await record_task("sim://pinch?seed=5&key_n=90", proto, RecordingTarget(tmp_path, "P031"))
    m = analyze_recording(read_recording(res.path))
    assert m.pinch is not None and m.content is m.pinch
    truth = res.truth
    assert [t["grip"] for t in truth] == [tr.grip for tr in m.pinch.trials]
    for tr, t in zip(m.pinch.trials, truth):
        assert tr.result.peak_force_N == pytest.approx(t["peak_n"], rel=0.02)
    # key > palmar > tip, as in the literature (and the participant's ratios)
    for hand in ("right", "left"):
        means = {g: m.pinch.summary(g, hand).summary.mean_of_3_N for g in ("tip", "key", "palmar")}
        assert means["key"] > means["palmar"] > means["tip"] > 30
        expected = np.mean(
            [t["peak_n"] for t in truth if t["grip"] == "key"][(0 if hand == "right" else 1) :: 2]
        )
        assert means["key"] == pytest.approx(expected, rel=0.02)
    rows = m.to_rows()
    summaries = [r for r in rows if r["row"] == "summary"]
    assert len(summaries) == 6 and all(r["norm_note"] == PINCH_NO_NORM for r in summaries)
    assert {r["pinch_grip"] for r in rows} == {"tip", "key", "palmar"}


async def test_pinch_replacement_keeps_the_grip(tmp_path):
    proto = pinch_protocol(
        grips=("key",), trials=2, hands=("right",), countdown_s=0.3, squeeze_s=1.0, rest_s=0.3
    )
    # x 0.4 s into key trial 1: a replacement key trial follows
    controls = ControlQueue()

    def press(s):
        st = s.step
        if (
            st.kind == "trial"
            and st.trial_index == 1
            and st.trial_total == 2
            and s.elapsed_s - st.started_s > 0.4
        ):
            controls.push("invalid")  # once: the total grows to 3 at once

    res = await record_task(
        "sim://pinch?seed=6", proto, RecordingTarget(tmp_path, "P032"), controls=controls, views=[press]
    )
    m = analyze_recording(read_recording(res.path))
    assert m.pinch is not None
    assert [(t.grip, t.trial, t.status) for t in m.pinch.trials] == [
        ("key", 1, "invalid"),
        ("key", 1, "valid"),
        ("key", 2, "valid"),
    ]
    s = m.pinch.summary("key", "right").summary
    assert (s.n_trials, s.n_valid) == (3, 2)


def test_pinch_protocol_refuses_unknown_grips():
    with pytest.raises(ParameterError, match="choose from tip, key, palmar"):
        pinch_protocol(grips=("pulp",))
