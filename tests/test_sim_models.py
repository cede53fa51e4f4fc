"""One grip-force model: the virtual participants and the dataset generator both use
motorlab.sim.models.grip_effort_force, and its shape is what its docstring says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motorlab.sim.dataset import simulate_grip
from motorlab.sim.models import grip_effort_force, minimum_jerk
from motorlab.sim.participants import GripParticipant


def test_shape_peak_fatigue_and_relaxation():
    t = np.arange(0.0, 6.0, 1e-4)
    kw = {
        "onset_s": 1.0,
        "peak_n": 250.0,
        "rise_s": 0.4,
        "release_s": 3.4,
        "relax_s": 0.3,
        "fatigue_per_s": 0.05,
    }
    f = grip_effort_force(t, **kw)
    assert np.all(f[t < 1.0] == 0.0)
    assert f.max() == pytest.approx(250.0, rel=1e-12)
    assert t[np.argmax(f)] == pytest.approx(1.4, abs=1e-4)
    # minimum-jerk rise: half the peak exactly half-way
    assert grip_effort_force(np.array([1.2]), **kw)[0] == pytest.approx(125.0)
    # exponential decline while held: F(release) = peak * exp(-k * hold)
    assert grip_effort_force(np.array([3.4]), **kw)[0] == pytest.approx(250.0 * math.exp(-0.05 * 2.0))
    # minimum-jerk relaxation of relax_s, then nothing
    mid = 250.0 * math.exp(-0.1) * (1 - float(minimum_jerk(np.array([0.5]))[0]))
    assert grip_effort_force(np.array([3.55]), **kw)[0] == pytest.approx(mid)
    assert np.all(f[t >= 3.7] == 0.0)
    # held for ever: no relaxation
    held = grip_effort_force(np.array([100.0]), **{**kw, "release_s": math.inf})
    assert held[0] == pytest.approx(250.0 * math.exp(-0.05 * 98.6))


def test_participant_force_is_the_model():
    p = GripParticipant(peak_n=300.0, rise_s=0.3, hold_s=1.0, fatigue_per_s=0.03, noise_n=0.0, seed=2)
    p.on_cue("squeeze", 1.0)
    p.on_cue("hold", 4.0)
    p.on_cue("release", 8.0)
    t = np.arange(0.0, 10.0, 1e-3)
    want = np.zeros_like(t)
    for eff in p.truth:
        f = grip_effort_force(
            t,
            onset_s=eff["onset_s"],
            peak_n=eff["peak_n"],
            rise_s=eff["rise_s"],
            release_s=eff["release_s"],
            relax_s=eff["rise_s"],
            fatigue_per_s=eff["fatigue_per_s"],
        )
        want = np.maximum(want, f)
    np.testing.assert_allclose(p.force(t), want, rtol=0, atol=1e-12)
    assert [e["kind"] for e in p.truth] == ["squeeze", "hold"]


def test_dataset_grip_is_the_same_model():
    sim = simulate_grip("S0001", peak_n=(210.0, 190.0), rise_s=0.25, hold_s=1.5, noise_n=0.0, fs=200.0)
    rec = sim.recording
    force = rec.channel("force")
    want = np.zeros_like(rec.timestamps)
    for trial in sim.truth["trials"]:
        want += grip_effort_force(
            rec.timestamps,
            onset_s=trial["onset_s"],
            peak_n=trial["peak_n"],
            rise_s=trial["rise_s"],
            release_s=trial["onset_s"] + trial["rise_s"] + 1.5,
            relax_s=0.3,
            fatigue_per_s=sim.truth["fatigue_per_s"],
        )
    np.testing.assert_allclose(force, want, rtol=0, atol=1e-12)
    # each trial's noise-free maximum is its peak, sampled at the peak time (onset + rise on the grid)
    for trial in sim.truth["trials"]:
        window = (rec.timestamps > trial["onset_s"]) & (rec.timestamps < trial["onset_s"] + 1.0)
        assert force[window].max() == pytest.approx(trial["peak_n"], rel=1e-9)
