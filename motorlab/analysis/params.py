"""The analysis parameters: one frozen dataclass per task, the only place a default lives.

The public task functions take their defaults from these fields
(``spiral_analyze(..., pen_down_threshold_n=SpiralParams.pen_down_threshold_n)``), and
:func:`motorlab.analysis.analyze_recording` runs with an :class:`AnalysisParams`, so a
direct call with defaults and the pipeline compute the same numbers.

``AnalysisParams.from_mapping`` reads the nested form used in ``--params`` JSON files
(``{"tremor": {"band_hz": [4, 8]}}``); an unknown section or name, or a value of the
wrong type, raises a one-line :class:`~motorlab.errors.ParameterError` naming the
parameter before any work is done. ``AnalysisParams.to_dict`` is the JSON form recorded
in provenance files and hashed into the batch cache key; a clinic-supplied grip norms
table is held by content (rows, citation and the file's sha256), so workers need no
access to the file and a changed table changes the key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from ..errors import MotorlabError, ParameterError
from .norms import GripNormTable, read_grip_norm_table

Band = tuple[float, float]
#: frequency ranges of the tremor classification hints, as ((label, (lo_hz, hi_hz)), ...)
ClassBands = tuple[tuple[str, Band], ...]
Converter = Callable[[str, Any], Any]


# ------------------------------------------------------------------ value checks
def _type_error(where: str, expected: str, value: Any) -> ParameterError:
    return ParameterError(f"analysis parameter {where} must be {expected}, got {value!r}")


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _type_error(where, "a finite number", value)
    return float(value)


def _non_negative(where: str, value: Any) -> float:
    x = _number(where, value)
    if x < 0:
        raise _type_error(where, "a number >= 0", value)
    return x


def _positive(where: str, value: Any) -> float:
    x = _number(where, value)
    if x <= 0:
        raise _type_error(where, "a number > 0", value)
    return x


def _integer(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(where, "a whole number", value)
    return int(value)


def _pair(where: str, value: Any) -> Band:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _type_error(where, "two numbers", value)
    a, b = (_number(where, v) for v in value)
    return (a, b)


def _band(where: str, value: Any) -> Band:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _type_error(where, "two numbers [low, high]", value)
    lo, hi = (_number(where, v) for v in value)
    if not 0 <= lo < hi:
        raise _type_error(where, "two numbers [low, high] with 0 <= low < high", value)
    return (lo, hi)


def _optional(convert: Converter) -> Converter:
    def check(where: str, value: Any) -> Any:
        return None if value is None else convert(where, value)

    return check


def _one_of(*choices: str) -> Converter:
    def check(where: str, value: Any) -> str:
        if value not in choices:
            raise _type_error(where, " or ".join(repr(c) for c in choices), value)
        return str(value)

    return check


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(where, "text", value)
    return value


def _center(where: str, value: Any) -> str | Band:
    if isinstance(value, str):
        return _one_of("fit", "start")(where, value)
    return _pair(where, value)


def _class_bands(where: str, value: Any) -> ClassBands:
    items = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = [(name, band) for name, band in items]
    except (TypeError, ValueError):
        raise _type_error(where, 'a mapping {"label": [low, high], ...}', value) from None
    return tuple((_text(where, name), _band(f"{where}.{name}", band)) for name, band in pairs)


def _norms_table(where: str, value: Any) -> GripNormTable | None:
    if value is None or isinstance(value, GripNormTable):
        return value
    if isinstance(value, (str, Path)):
        return read_grip_norm_table(value)  # MotorlabError naming the file and line
    if isinstance(value, Mapping):
        try:
            return GripNormTable.from_param(dict(value))
        except MotorlabError as exc:  # "grip.norms_table: not a norms table (...)"
            raise ParameterError(f"analysis parameter {exc}") from None
    raise _type_error(where, "the path of a norms CSV file", value)


def _check(convert: Converter, doc: str, plain: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Field metadata: the value check/conversion, a one-line meaning (units) and the JSON form."""
    return {"check": convert, "doc": doc, "plain": plain or _plain}


def _plain(value: Any) -> Any:
    if isinstance(value, GripNormTable):
        return value.as_param()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _plain_class_bands(value: ClassBands) -> dict[str, list[float]]:
    return {name: list(band) for name, band in value}


class _Section:
    """Validation and plain-value conversion shared by the per-task parameter classes."""

    SECTION: ClassVar[str]

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = f.metadata["check"](f"{self.SECTION}.{f.name}", getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists, the norms table as its content)."""
        return {f.name: f.metadata["plain"](getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


# ------------------------------------------------------------------ per task
@dataclass(frozen=True)
class GripParams(_Section):
    """Maximal grip (:func:`~motorlab.analysis.grip_analyze`, trials and per-hand summaries)."""

    SECTION: ClassVar[str] = "grip"

    onset_threshold_n: float = field(
        default=7.5, metadata=_check(_number, "N above baseline for onset (motorlab onset rule)")
    )
    baseline_s: float = field(
        default=0.1, metadata=_check(_positive, "s; baseline = median of the first samples of a trial")
    )
    lowpass_hz: float | None = field(
        default=None, metadata=_check(_optional(_positive), "Hz; optional zero-phase low-pass")
    )
    min_trial_s: float = field(
        default=0.2, metadata=_check(_non_negative, "s; shortest effort found without trial events")
    )
    pad_s: float = field(
        default=0.5, metadata=_check(_non_negative, "s kept before/after an effort found without events")
    )
    dominant_hand: str | None = field(
        default=None,
        metadata=_check(
            _optional(_one_of("right", "left")), "None = metadata.extra['dominant_hand'] or 'right'"
        ),
    )
    age: float | None = field(
        default=None, metadata=_check(_optional(_non_negative), "years, for norms; None = metadata")
    )
    sex: str | None = field(
        default=None, metadata=_check(_optional(_text), "'M'/'F', for norms; None = metadata")
    )
    norms_table: GripNormTable | None = field(
        default=None, metadata=_check(_norms_table, "clinic-supplied norms table (CSV path when given)")
    )


@dataclass(frozen=True)
class SustainedGripParams(_Section):
    """Sustained grip (:func:`~motorlab.analysis.grip_sustained_analyze`)."""

    SECTION: ClassVar[str] = "gripsustained"

    cv_window_s: Band = field(default=(2.0, 8.0), metadata=_check(_band, "s after hold start, inclusive"))
    fatigue_window_s: float = field(
        default=1.0, metadata=_check(_positive, "s; first vs last window of the hold")
    )
    hold_frac: float = field(
        default=0.5, metadata=_check(_positive, "hold = samples >= this fraction of the peak")
    )


@dataclass(frozen=True)
class TremorParams(_Section):
    """Tremor (:func:`~motorlab.analysis.tremor_analyze`); hint ranges from Luft et al. 2019."""

    SECTION: ClassVar[str] = "tremor"

    band_hz: Band = field(default=(3.0, 12.0), metadata=_check(_band, "Hz; analysis band"))
    window_s: float = field(default=4.0, metadata=_check(_positive, "s; Welch segment (0.25 Hz bins)"))
    rms_band_hz: Band | None = field(
        default=None,
        metadata=_check(_optional(_band), "Hz; None = flat-band design (band edges x0.6 and /0.6)"),
    )
    class_bands_hz: ClassBands = field(
        default=(
            ("parkinsonian", (3.0, 8.0)),
            ("essential", (4.0, 12.0)),
            ("physiological", (8.0, 12.0)),
        ),
        metadata=_check(_class_bands, "Hz; frequency ranges of the classification hints", _plain_class_bands),
    )
    detection_ratio: float = field(
        default=4.0,
        metadata=_check(_positive, "a tremor peak's PSD / the fitted broadband background, at least"),
    )
    detection_alpha: float = field(
        default=0.01,
        metadata=_check(_positive, "a tremor peak's chance in a background-only spectrum, below"),
    )


@dataclass(frozen=True)
class HandwritingParams(_Section):
    """Handwriting (:func:`~motorlab.analysis.handwriting_analyze`) and the pen path."""

    SECTION: ClassVar[str] = "handwriting"

    pen_down_threshold_n: float = field(
        default=0.05, metadata=_check(_non_negative, "N; tip force above this = pen on the surface")
    )
    lowpass_hz: float | None = field(
        default=None, metadata=_check(_optional(_positive), "Hz; optional low-pass of positions")
    )


@dataclass(frozen=True)
class SpiralParams(_Section):
    """Spiral drawing (:func:`~motorlab.analysis.spiral_analyze`)."""

    SECTION: ClassVar[str] = "spiral"

    pen_down_threshold_n: float = field(
        default=HandwritingParams.pen_down_threshold_n,
        metadata=_check(_non_negative, "N; tip force above this = pen on the surface"),
    )
    center: str | Band = field(default="fit", metadata=_check(_center, "'fit', 'start' or [x, y] in cm"))
    skip_inner_turns: float = field(
        default=0.5, metadata=_check(_non_negative, "innermost revolutions left out of the fit")
    )
    band_hz: Band = field(
        default=TremorParams.band_hz, metadata=_check(_band, "Hz; tremor band of the radial residual")
    )
    angle_step_deg: float = field(
        default=20.0, metadata=_check(_positive, "degrees; angular step of mean |dr/dtheta|")
    )
    smooth_lowpass_hz: float = field(
        default=10.0,
        metadata=_check(_positive, "Hz; low-pass before speed, submovements and path length (SPARC fc)"),
    )
    imu_drift_degree: int = field(
        default=3,
        metadata=_check(
            _non_negative,
            "IMU pen: degree of the integration drift (polynomial in time) fitted with the spiral",
        ),
    )


@dataclass(frozen=True)
class SmoothnessParams(_Section):
    """Movement smoothness (:func:`~motorlab.analysis.sparc`, :func:`~motorlab.analysis.stroke_smoothness`).

    SPARC settings of the reference code (Balasubramanian et al. 2015).
    """

    SECTION: ClassVar[str] = "smoothness"

    sparc_fc_hz: float = field(default=10.0, metadata=_check(_positive, "Hz; SPARC cut-off"))
    sparc_amp_th: float = field(
        default=0.05, metadata=_check(_non_negative, "SPARC amplitude threshold (of the maximum)")
    )
    sparc_padlevel: int = field(default=4, metadata=_check(_integer, "SPARC zero padding (powers of 2)"))
    peak_prominence_frac: float = field(
        default=0.1, metadata=_check(_non_negative, "velocity peaks: prominence >= this x maximum")
    )


@dataclass(frozen=True)
class PenFeatureParams(_Section):
    """Children's handwriting features (:func:`~motorlab.analysis.handwriting_features.pen_features`).

    A section of :class:`AnalysisParams` (``penfeatures``): ``analyze_recording`` adds these
    features to handwriting-like tasks, so they are part of provenance and the batch cache key.
    """

    SECTION: ClassVar[str] = "penfeatures"

    stop_speed_mm_s: float = field(
        default=1.0, metadata=_check(_positive, "mm/s; writing stop = on-surface speed at most this")
    )
    stop_min_s: float = field(
        default=0.015, metadata=_check(_positive, "s; a writing stop lasts longer than this (BDALab)")
    )
    change_lowpass_hz: float = field(
        default=17.5,
        metadata=_check(_positive, "Hz; low-pass before counting pressure/tilt changes (BDALab)"),
    )
    speed_lowpass_hz: float = field(
        default=10.0, metadata=_check(_positive, "Hz; low-pass of positions before speed peaks (NIV)")
    )
    tremor_band_hz: Band = field(
        default=TremorParams.band_hz, metadata=_check(_band, "Hz; tremor band of the pen velocity")
    )
    reference_band_hz: Band = field(
        default=(0.5, 30.0), metadata=_check(_band, "Hz; total band the tremor power is a fraction of")
    )
    psd_window_s: float = field(
        default=1.0, metadata=_check(_positive, "s; Welch segment of the velocity spectrum")
    )
    letter_peak_prominence_mm: float = field(
        default=1.0, metadata=_check(_positive, "mm; a letter top is a peak of y this prominent")
    )
    word_gap_factor: float = field(
        default=0.5,
        metadata=_check(_positive, "a horizontal gap wider than this x median letter height is a word space"),
    )


# ------------------------------------------------------------------ all of them
_SECTIONS: dict[str, type[_Section]] = {
    cls.SECTION: cls
    for cls in (
        GripParams,
        SustainedGripParams,
        TremorParams,
        HandwritingParams,
        SpiralParams,
        SmoothnessParams,
        PenFeatureParams,
    )
}


@dataclass(frozen=True)
class AnalysisParams:
    """Every parameter of :func:`~motorlab.analysis.analyze_recording`, one section per task.

    Field names equal the section names of the nested mapping form.
    """

    grip: GripParams = field(default_factory=GripParams)
    gripsustained: SustainedGripParams = field(default_factory=SustainedGripParams)
    tremor: TremorParams = field(default_factory=TremorParams)
    handwriting: HandwritingParams = field(default_factory=HandwritingParams)
    spiral: SpiralParams = field(default_factory=SpiralParams)
    smoothness: SmoothnessParams = field(default_factory=SmoothnessParams)
    penfeatures: PenFeatureParams = field(default_factory=PenFeatureParams)

    @classmethod
    def from_mapping(cls, nested: Mapping[str, Any] | AnalysisParams | None = None) -> AnalysisParams:
        """Defaults overlaid with ``nested`` (``{"section": {"name": value}}``; None = all defaults).

        Raises :class:`~motorlab.errors.ParameterError` (one line, naming the parameter) for an
        unknown section or name or a value of the wrong type; a norms-table path is read here
        (errors name the file and line).
        """
        if nested is None:
            return _default_params() if cls is AnalysisParams else cls()
        if isinstance(nested, AnalysisParams):
            return nested
        if not isinstance(nested, Mapping):
            raise ParameterError(f"analysis parameters must be a mapping of sections, got {nested!r}")
        sections: dict[str, Any] = {}
        for section, values in nested.items():
            kind = _SECTIONS.get(section)
            if kind is None:
                raise ParameterError(
                    f"unknown analysis parameter section {section!r}; known: {sorted(_SECTIONS)}"
                )
            if not isinstance(values, Mapping):
                raise ParameterError(f"analysis parameters for {section!r} must be a mapping, got {values!r}")
            known = [f.name for f in fields(kind)]  # type: ignore[arg-type]
            for name in values:
                if name not in known:
                    raise ParameterError(
                        f"unknown analysis parameter {section}.{name}; known: {sorted(known)}"
                    )
            sections[section] = kind(**values)
        return cls(**sections)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """All parameters as plain JSON values, nested by section (provenance, batch cache key)."""
        return {f.name: getattr(self, f.name).to_dict() for f in fields(self)}


def analysis_parameters(
    params: Mapping[str, Any] | AnalysisParams | None = None,
) -> dict[str, dict[str, Any]]:
    """Every parameter an analysis uses, as plain JSON values: ``AnalysisParams.from_mapping(params).to_dict()``."""
    return AnalysisParams.from_mapping(params).to_dict()


#: the defaults in plain JSON form (a view of :class:`AnalysisParams`; changing it changes nothing)
DEFAULTS: dict[str, dict[str, Any]] = AnalysisParams().to_dict()


@lru_cache(maxsize=1)
def _default_params() -> AnalysisParams:
    """The all-defaults :class:`AnalysisParams`, built once: every section is a frozen dataclass of
    immutable values, and validating seven sections cost about 30 us per analysed recording."""
    return AnalysisParams()
