"""Timestamp quality control on synthetic reproductions of what real files do (issue 11, items 1-2)."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab import Channel, Metadata, Recording, RecordingError
from motorlab.errors import MotorlabError
from motorlab.signal.timestamps import (
    QualityFlag,
    require_grid,
    timestamp_clean,
    timestamp_quality,
    timestamp_rate,
    timestamp_segments,
)
from motorlab.storage.bids import read_recording, write_recording

FORCE = Channel("force", "MISC", "N")


def _device_clock(n: int = 2000, start_ms: int = 1_283_177, seed: int = 0) -> np.ndarray:
    """A device millisecond counter alternating 7 and 8 ms steps (as the UCI tablet files), in s."""
    steps = np.random.default_rng(seed).choice([7, 8], n - 1)
    return (start_ms + np.concatenate(([0], np.cumsum(steps)))) / 1000.0


def test_mixed_clock_rows_are_found_named_and_removable():
    t = _device_clock()
    epoch_rows = [150, 151, 1500]
    t[epoch_rows] = 1_372_359_999.0 + np.arange(3) * 0.007  # Unix-epoch seconds (ms stamps / 1000)
    rep = timestamp_quality(t, 133.3, source="rec.txt", lines=np.arange(t.size) + 1)
    flag = rep.flag("mixed_clock")
    assert flag is not None and flag.severity == "error"
    assert flag.index == 150 and flag.count == 3
    assert "rec.txt: line 151 (sample 150)" in flag.message
    assert rep.outlier_indices == (150, 151, 1500)
    assert not rep.ok
    # segments never contain a row from the other clock
    assert rep.segments == ((0, 150), (152, 1500), (1501, 2000))
    keep, clean = timestamp_clean(t, 133.3, source="rec.txt", lines=np.arange(t.size) + 1)
    assert keep.sum() == 1997 and not keep[epoch_rows].any()
    removed = clean.flag("mixed_clock")
    assert removed is not None and removed.severity == "warning" and "3 row(s) removed" in removed.message
    assert clean.segments == ((0, 1997),)
    assert 0 < clean.span_s < 20 and clean.ok


def test_mixed_clock_would_need_a_huge_grid_and_no_grid_is_allocated():
    t = _device_clock(500)
    t[200] = 1.37e9
    with pytest.raises(MotorlabError, match=r"uniform grid at 100 Hz .* would need 1\.37e\+11 points"):
        require_grid(t, 100.0, source="file.txt")
    rep = timestamp_quality(t, 100.0)
    assert "grid_unjustified" not in rep.codes  # the outlier is excluded from the span checks
    keep, _ = timestamp_clean(t, 100.0)
    assert require_grid(t[keep], 100.0) == int(np.floor((t[keep][-1] - t[keep][0]) * 100 + 1e-9)) + 1


def test_two_clocks_of_similar_size_are_not_dropped_but_split_and_flagged():
    t = np.concatenate([_device_clock(300), 1.7e9 + np.arange(300) * 0.0075])
    rep = timestamp_quality(t, 133.3)
    assert "mixed_clock" not in rep.codes
    jump = rep.flag("clock_jump")
    assert jump is not None and jump.index == 300 and jump.severity == "error"
    assert rep.segments == ((0, 300), (300, 600))
    assert rep.flag("implausible_span") is not None and rep.flag("grid_unjustified") is not None


def test_backwards_step_splits_into_forward_segments_without_sorting():
    t = np.arange(1000) * 0.009
    t[600:] -= 1.318  # the clock steps back 1.309 s (as in P_05060004.txt, line 746)
    rep = timestamp_quality(t, 111.1, source="spiral.txt")
    flag = rep.flag("backwards_step")
    assert flag is not None and flag.index == 600 and flag.count == 1
    assert "sample 600: time steps back 1.309 s" in flag.message and "not sorted" in flag.message
    assert rep.segments == ((0, 600), (600, 1000))
    assert timestamp_segments(t) == [(0, 600), (600, 1000)]
    # every segment is forward, and the data order is untouched
    for a, b in rep.segments:
        assert np.all(np.diff(t[a:b]) > 0)
    assert rep.observed_rate_hz == pytest.approx(1 / 0.009)


def test_duplicates_gaps_and_rate_mismatch():
    t = np.arange(500) * 0.01
    t[100] = t[99]  # duplicate stamp
    t[300:] += 0.5  # 0.5 s pen lift
    rep = timestamp_quality(t, 200.0)
    dup, gap, rate = rep.flag("duplicate_timestamp"), rep.flag("gap"), rep.flag("rate_mismatch")
    assert dup is not None and dup.index == 100 and dup.count == 1
    assert (
        gap is not None
        and gap.index == 300
        and gap.severity == "info"
        and "0.51 s without samples" in gap.message
    )
    d = np.diff(t)
    regular = d[(d > 0) & (d <= 2.5 * 0.01)]  # the 0 s and 0.51 s intervals are left out
    assert rep.observed_rate_hz == pytest.approx(1 / regular.mean()) == pytest.approx(99.8, abs=0.05)
    assert (
        rate is not None
        and "observed rate 99.8 Hz" in rate.message
        and "nominal 200 Hz by 50 %" in rate.message
    )
    assert rep.segments == ((0, 500),)  # duplicates and gaps do not split


def test_rate_change_is_located():
    t = np.concatenate([np.arange(400) * 0.007, 400 * 0.007 + np.arange(400) * 0.009])
    rep = timestamp_quality(t, 1 / 0.007)
    flag = rep.flag("rate_change")
    # intervals 0..399 are 7 ms; the first 9 ms interval ends at sample 401
    assert flag is not None and flag.index == 401
    assert "sample 401: typical interval changes to 0.009 s (recording median 0.007 s)" in flag.message


def test_clean_clock_gives_no_flags_and_mean_rate():
    t = _device_clock(3000)
    rep = timestamp_quality(t, timestamp_rate(t))
    assert rep.flags == () and rep.ok
    assert rep.segments == ((0, 3000),)
    steps = np.diff(t)
    assert timestamp_rate(t) == pytest.approx(1.0 / steps.mean())
    assert 125 < timestamp_rate(t) < 143  # 7/8 ms alternation: 133 Hz, not the median's 143 Hz


def test_nonfinite_stamps_are_flagged_and_cleaned():
    t = np.arange(100) * 0.01
    t[[10, 50]] = np.nan
    rep = timestamp_quality(t, 100.0)
    flag = rep.flag("nonfinite_timestamp")
    assert flag is not None and flag.index == 10 and flag.count == 2
    assert rep.segments == ((0, 10), (11, 50), (51, 100))
    keep, clean = timestamp_clean(t, 100.0)
    assert keep.sum() == 98 and clean.flag("nonfinite_timestamp").severity == "warning"  # type: ignore[union-attr]


def test_flags_survive_a_dict_round_trip():
    f = QualityFlag("backwards_step", "warning", "x: sample 3: time steps back 1 s", 3, 2)
    assert QualityFlag.from_dict(f.to_dict()) == f
    with pytest.raises(ValueError):
        QualityFlag("x", "fatal", "m")


def test_recording_refuses_an_implausible_span():
    t = np.arange(10) * 0.01
    t[-1] = -1.37e9  # a row stamped on another clock
    with pytest.raises(RecordingError, match=r"sub-P001 ses-01 task-grip: timestamps span 1\.37e\+09 s"):
        Recording(t, np.zeros(10), [FORCE], 100.0, Metadata("P001"))


def test_recording_quality_hooks_and_bids_round_trip(tmp_path):
    t = np.arange(300) * 0.01
    t[200:] -= 0.5
    # values not a function of time: overlapping stretches would otherwise repeat whole rows (duplicate_rows)
    rec = Recording(t, np.sin(np.arange(300) * 0.37), [FORCE], 100.0, Metadata("P001"))
    rep = rec.timestamp_quality()
    assert rep.codes == ("backwards_step",)
    assert "sub-P001 ses-01 task-grip: sample 200" in rep.flags[0].message
    assert rec.quality_flags == ()  # nothing recorded yet
    assert rec.timestamp_segments == [(0, 200), (200, 300)]
    md = rec.metadata.replace(extra=rep.to_metadata())
    stored = Recording(rec.timestamps, rec.data, rec.channels, 100.0, md)
    back = read_recording(write_recording(stored, tmp_path))
    assert back.quality_flags == rep.flags
    assert back.timestamp_segments == [(0, 200), (200, 300)]
    np.testing.assert_array_equal(back.timestamps, t)
