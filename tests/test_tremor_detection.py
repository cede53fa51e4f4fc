"""Tremor classification hints are only given when a tremor peak stands above the noise floor."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab.analysis import tremor_analyze


@pytest.mark.parametrize("seed", range(5))
def test_white_noise_is_not_called_a_tremor(seed):
    fs = 100.0
    x = np.random.default_rng(seed).normal(0, 0.05, (int(30 * fs), 3))
    r = tremor_analyze(x, fs)
    assert not r.tremor_detected
    assert r.peak_to_background < 10
    assert r.hints == ("no tremor peak above the noise floor",)


@pytest.mark.parametrize("freq, amp", [(4.2, 0.05), (6.0, 0.2), (9.5, 0.5)])
def test_sinusoidal_tremor_in_noise_is_detected_and_classified(freq, amp):
    fs = 100.0
    t = np.arange(int(30 * fs)) / fs
    rng = np.random.default_rng(1)
    x = amp * np.sin(2 * np.pi * freq * t)[:, None] * [1.0, 0.3, 0.0] + rng.normal(0, 0.02, (t.size, 3))
    r = tremor_analyze(x, fs)
    assert r.tremor_detected and r.peak_to_background > 10
    assert r.peak_freq_Hz == pytest.approx(freq, abs=0.05)
    in_ranges = [h for h in r.hints if "range" in h]
    assert in_ranges  # at least one configured range contains the peak
    if freq < 8:
        assert any(h.startswith("parkinsonian") for h in in_ranges)
    else:
        assert not any(h.startswith("parkinsonian") for h in in_ranges)
