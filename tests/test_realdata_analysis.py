"""Every real UCI recording (read in place from ../shared/realdata, never copied) analyses without
an exception, every value inside its definition, and a direct call equals the pipeline."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from motorlab.analysis import analyze_recording, spiral_analyze
from motorlab.analysis.pen_path import pen_down_rule
from motorlab.storage.importers import read_uci_spiral

from .test_realdata_import import FILES, needs_data

BAND = (3.0, 12.0)


def _check_tremor_fields(row: dict, where: str) -> None:
    f = row["tremor_peak_freq_Hz"]
    assert math.isnan(f) or BAND[0] < f < BAND[1], where
    assert row["tremor_detected"] == (not math.isnan(f)), where
    p = row.get("tremor_peak_p_value", math.nan)
    assert math.isnan(p) or 0.0 <= p <= 1.0, where
    assert row["tremor_peak_to_background"] > 0 or math.isnan(row["tremor_peak_to_background"]), where
    assert row["tremor_rms_cm"] >= 0, where


@needs_data
def test_every_real_recording_analyses_with_values_inside_their_definitions():
    seen: set[str] = set()
    n = 0
    for f in FILES:
        for rec in read_uci_spiral(f, participant="P001"):
            digest = rec.metadata.extra["import"]["samples_sha256"]
            if digest in seen:
                continue
            seen.add(digest)
            where = f"{f.name} {rec.metadata.task}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = analyze_recording(rec)
            row = m.to_rows()[0]
            n += 1
            assert {fl.name for fl in m.quality if fl.origin == "recording"} == {
                fl.code for fl in rec.quality_flags
            }, where  # the importer's flags reach the table
            assert row["status"] == "valid" and row["hand"] == "n/a", where
            if rec.metadata.task == "circularhold":
                _check_tremor_fields(row, where)
                continue
            r = m.spiral.result
            assert r.n_loops > 1.5 and r.loop_spacing_cm > 0 and r.slope_b_cm_per_rad > 0, where
            assert r.radial_rms_error_cm >= 0 and r.mean_abs_dr_dtheta_cm_per_rad > 0, where
            assert 0 < r.duration_s < 120 and r.mean_speed_cm_per_s > 0, where
            assert r.sparc_median <= 0 and r.n_submovements > 0, where
            _check_tremor_fields(row, where)
    assert n == 194  # 202 recordings, the README's duplicates counted once


@needs_data
@pytest.mark.parametrize("stem", ["C_0003", "P_05060004", "H_P000-0022", "H_p000-0028"])
def test_a_direct_call_on_the_samples_equals_the_pipeline(stem):
    f = next(p for p in FILES if p.stem == stem)
    for rec in read_uci_spiral(f, participant="P001"):
        if not rec.metadata.task.startswith("spiral"):
            continue
        m = analyze_recording(rec)
        down, _ = pen_down_rule(pressure=rec.channel("pressure"))
        direct = spiral_analyze(
            rec.select(["pos_x", "pos_y"]),
            rec.sampling_rate,
            pen_down=down,
            timestamps_s=rec.timestamps,
        )
        a, b = dataclasses.asdict(direct), dataclasses.asdict(m.spiral.result)
        assert a.pop("tremor_note") == b.pop("tremor_note")
        assert a == pytest.approx(b, rel=1e-12, nan_ok=True)
        assert np.isfinite(direct.radial_rms_error_cm)
