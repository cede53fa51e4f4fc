"""Every analysis parameter default in one place (used by analyze_recording and recorded for provenance)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..errors import MotorlabError

DEFAULTS: dict[str, dict[str, Any]] = {
    "grip": {
        "onset_threshold_n": 7.5,  # N above baseline (motorlab onset rule)
        "baseline_s": 0.1,  # s, median of the first samples of a trial
        "lowpass_hz": None,  # optional zero-phase low-pass before grip metrics
        "min_trial_s": 0.2,  # s, shortest effort found without trial events
        "pad_s": 0.5,  # s of signal kept before/after an effort found without trial events
        "dominant_hand": None,  # "right"/"left"; None = metadata.extra["dominant_hand"] or "right"
        "age": None,  # years, for norms; None = metadata.extra["age"]
        "sex": None,  # "M"/"F", for norms; None = metadata.extra["sex"]
        "norms_table": None,  # CSV path of a clinic-supplied norms table (read into the parameters)
    },
    "gripsustained": {
        "cv_window_s": (2.0, 8.0),  # s after hold start, inclusive
        "fatigue_window_s": 1.0,  # s, first vs last window of the hold
        "hold_frac": 0.5,  # hold = samples >= this fraction of the peak
    },
    "tremor": {
        "band_hz": (3.0, 12.0),
        "window_s": 4.0,  # Welch segment (0.25 Hz bins)
        "rms_band_hz": None,  # None = flat-band design (band edges x0.6 and /0.6)
        "class_bands_hz": {
            "parkinsonian": (3.0, 8.0),
            "essential": (4.0, 12.0),
            "physiological": (8.0, 12.0),
        },
        "detection_ratio": 10.0,  # peak-to-background PSD ratio for "tremor present"
    },
    "handwriting": {
        "pen_down_threshold_n": 0.05,  # N; tip force above this = pen on the surface
        "lowpass_hz": None,
    },
    "spiral": {
        "pen_down_threshold_n": 0.05,
        "center": "fit",
        "skip_inner_turns": 0.5,
        "band_hz": (3.0, 12.0),
    },
    "smoothness": {
        "sparc_fc_hz": 10.0,
        "sparc_amp_th": 0.05,
        "sparc_padlevel": 4,
        "peak_prominence_frac": 0.1,
    },
}


def analysis_parameters(params: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """All parameters that an analysis uses: the defaults overlaid with ``params``.

    ``params`` is nested like :data:`DEFAULTS` (``{"tremor": {"band_hz": (4, 8)}}``).
    Unknown sections or names raise :class:`MotorlabError` so typos are not silently ignored.
    """
    merged = copy.deepcopy(DEFAULTS)
    for section, values in (params or {}).items():
        if section not in merged:
            raise MotorlabError(f"unknown analysis parameter section {section!r}; known: {sorted(merged)}")
        if not isinstance(values, dict):
            raise MotorlabError(f"analysis parameters for {section!r} must be a mapping, got {values!r}")
        for name, value in values.items():
            if name not in merged[section]:
                raise MotorlabError(
                    f"unknown analysis parameter {section}.{name}; known: {sorted(merged[section])}"
                )
            merged[section][name] = value
    table = merged["grip"]["norms_table"]
    if isinstance(table, (str, Path)):
        # the table's content (with its sha256) goes into the parameters: it is then part of
        # the provenance and of the batch cache key, and workers need no access to the file
        from .norms import read_grip_norm_table

        merged["grip"]["norms_table"] = read_grip_norm_table(table).as_param()
    return merged
