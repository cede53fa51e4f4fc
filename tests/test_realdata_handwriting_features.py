"""Children's handwriting features hold on the real tablet spirals (UCI, read in place): every
recording gives values inside their definitions without an exception, and the tremor-band power
of the pen velocity is higher with Parkinson's disease, as the literature expects."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from motorlab.analysis.handwriting_features import pen_features_recording
from motorlab.errors import MotorlabWarning
from motorlab.storage.importers import read_uci_spiral

from .test_realdata_import import FILES, needs_data

NON_NEGATIVE = (
    "letter_height_mm",
    "writing_area_mm2",
    "writing_width_mm",
    "writing_height_mm",
    "speed_mm_s",
    "stroke_duration_s",
    "on_surface_time_s",
    "in_air_time_s",
    "in_air_ratio",
    "writing_stop_time_s",
    "tempo_strokes_per_s",
    "pressure_sd",
    "tremor_band_power_mm2_s2",
)


@needs_data
@pytest.mark.timeout(300)
def test_every_real_spiral_gives_features_inside_their_definitions():
    tremor: dict[str, list[float]] = {"control": [], "parkinson": []}
    n = 0
    for f in FILES:
        for rec in read_uci_spiral(f, participant="P001"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MotorlabWarning)  # a hold without a stroke: NaN + warning
                ft = pen_features_recording(rec)
            n += 1
            d = ft.to_dict()
            if ft.n_strokes == 0:
                assert all(math.isnan(v) for k, v in d.items() if isinstance(v, float))
                continue
            for key in NON_NEGATIVE:
                assert math.isnan(d[key]) or d[key] >= 0, (f.name, key, d[key])
            assert 0 <= ft.pressure_mean <= 1 and 0 <= ft.tremor_band_power_fraction <= 1
            assert ft.niv_per_stroke >= 1 and ft.n_writing_stops >= 0
            covered = sum(rec.timestamps[b - 1] - rec.timestamps[a] for a, b in rec.timestamp_segments)
            assert ft.on_surface_time_s + ft.in_air_time_s <= covered + 1e-9
            assert ft.writing_stop_time_s <= ft.on_surface_time_s + 1e-9
            assert sum(s.duration_s for s in ft.strokes) == pytest.approx(ft.on_surface_time_s)
            if rec.metadata.task == "spiral":
                tremor[f.parent.name].append(ft.tremor_band_power_mm2_s2)
    assert n == 202
    assert len(tremor["control"]) == 15 and len(tremor["parkinson"]) >= 60
    # Parkinson's disease: more tremor in the drawing (Pullman 1998; San Luciano 2016)
    assert np.median(tremor["parkinson"]) > 1.5 * np.median(tremor["control"])


@needs_data
@pytest.mark.timeout(600)
def test_analyze_recording_gives_the_same_features_on_every_real_recording():
    """One entry point: each real UCI recording analysed as a handwriting-like task (the
    pen page's ``tracing``) carries in its typed result and its table row exactly the features
    of a direct call; real clocks (steps back, gaps) included."""
    import dataclasses

    from motorlab.analysis import analyze_recording
    from motorlab.analysis.results import feature_column

    n = 0
    for f in FILES:
        for rec in read_uci_spiral(f, participant="P001"):
            rec = dataclasses.replace(rec, metadata=dataclasses.replace(rec.metadata, task="tracing"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                direct = pen_features_recording(rec).to_dict()
                m = analyze_recording(rec)
            (row,) = m.to_rows()
            assert m.handwriting is not None and m.handwriting.features is not None
            for k, v in direct.items():
                got = m.handwriting.features.to_dict()[k]
                same = (math.isnan(v) and math.isnan(got)) or got == pytest.approx(v, rel=1e-9, abs=1e-12)
                assert same and row[feature_column(k)] is got, (f.name, k, got, v)
            n += 1
    assert n == 202
