"""Grip-strength norms by age, sex and hand: z-score, percentile, percent of the normative mean.

Adults: Mathiowetz V, Kashman N, Volland G, Weber K, Dowe M, Rogers S. Grip and
pinch strength: normative data for adults. Arch Phys Med Rehabil 66(2):69-74
(1985). Jamar dynamometer, second handle position, seated with the elbow at 90 deg,
mean of three trials, values in pounds (mean, SD), as reproduced in the Baseline
dynamometer manual (Fabrication Enterprises 12-0247).

Children: no pediatric table is shipped. The candidate sources (Mathiowetz,
Wiemer & Federman, AJOT 40:705, 1986, 6-19 y; Bohannon et al., Pediatr Phys Ther
29:118, 2017, 3-17 y; Ploegmakers et al., J Physiother 59:255, 2013, 4-15 y)
could not be transcribed from an accessible copy, so ages under 20 return NaN
with a message instead of invented numbers.

The percentile assumes a normal distribution within the age band (Phi(z) x 100).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm as _normal

from ..errors import MotorlabError
from .grip import KGF_N, LB_KG

NAN = float("nan")

MATHIOWETZ_1985_SOURCE = (
    "Mathiowetz et al., Arch Phys Med Rehabil 66:69-74 (1985), Jamar, mean of 3 trials"
)
PEDIATRIC_SOURCES = (
    "Mathiowetz, Wiemer & Federman, AJOT 40:705-711 (1986); Bohannon et al., "
    "Pediatr Phys Ther 29:118-123 (2017); Ploegmakers et al., J Physiother 59:255-261 (2013)"
)

#: (age_lo, age_hi) -> {("M"|"F", "R"|"L"): (mean_lb, sd_lb)}; 75+ is open-ended.
MATHIOWETZ_1985_LB: dict[tuple[int, int], dict[tuple[str, str], tuple[float, float]]] = {
    (20, 24): {("M", "R"): (121.0, 20.6), ("M", "L"): (104.5, 21.8), ("F", "R"): (70.4, 14.5), ("F", "L"): (61.0, 13.1)},
    (25, 29): {("M", "R"): (120.8, 23.0), ("M", "L"): (110.5, 16.2), ("F", "R"): (74.5, 13.9), ("F", "L"): (63.5, 12.2)},
    (30, 34): {("M", "R"): (121.8, 22.4), ("M", "L"): (110.4, 21.7), ("F", "R"): (78.7, 19.2), ("F", "L"): (68.0, 17.7)},
    (35, 39): {("M", "R"): (119.7, 24.0), ("M", "L"): (112.9, 21.7), ("F", "R"): (74.1, 10.8), ("F", "L"): (66.3, 11.7)},
    (40, 44): {("M", "R"): (116.8, 20.7), ("M", "L"): (112.8, 18.7), ("F", "R"): (70.4, 13.5), ("F", "L"): (62.3, 13.8)},
    (45, 49): {("M", "R"): (109.9, 23.0), ("M", "L"): (100.8, 22.8), ("F", "R"): (62.2, 15.1), ("F", "L"): (56.0, 12.7)},
    (50, 54): {("M", "R"): (113.6, 18.1), ("M", "L"): (101.9, 17.0), ("F", "R"): (65.8, 11.6), ("F", "L"): (57.3, 10.7)},
    (55, 59): {("M", "R"): (101.1, 26.7), ("M", "L"): (83.2, 23.4), ("F", "R"): (57.3, 12.5), ("F", "L"): (47.3, 11.9)},
    (60, 64): {("M", "R"): (89.7, 20.4), ("M", "L"): (76.8, 20.3), ("F", "R"): (55.1, 10.1), ("F", "L"): (45.7, 10.1)},
    (65, 69): {("M", "R"): (91.1, 20.6), ("M", "L"): (76.8, 19.8), ("F", "R"): (49.6, 9.7), ("F", "L"): (41.0, 8.2)},
    (70, 74): {("M", "R"): (75.3, 21.5), ("M", "L"): (64.8, 18.1), ("F", "R"): (49.6, 11.7), ("F", "L"): (41.5, 10.2)},
    (75, 200): {("M", "R"): (65.7, 21.0), ("M", "L"): (55.0, 17.0), ("F", "R"): (42.6, 11.0), ("F", "L"): (37.6, 8.9)},
}


@dataclass(frozen=True)
class NormResult:
    """A grip value against its normative band (kg; NaN when no table applies).

    Attributes:
        value_kg: the measured value.
        norm_mean_kg, norm_sd_kg: normative mean and SD for the band.
        z: (value - mean) / SD.
        percentile: 100 x Phi(z) (normal approximation).
        pct_of_norm: 100 x value / mean.
        age_band: e.g. "20-24" or "75+"; "" if none.
        source: citation of the table used (or the reason none was).
        note: empty, or why the result is NaN.
    """

    value_kg: float
    norm_mean_kg: float
    norm_sd_kg: float
    z: float
    percentile: float
    pct_of_norm: float
    age_band: str
    source: str
    note: str


def _sex_key(sex: str) -> str:
    s = str(sex).strip().lower()
    if s in ("m", "male", "man", "boy"):
        return "M"
    if s in ("f", "female", "woman", "girl"):
        return "F"
    raise MotorlabError(f"sex must be 'M' or 'F' for grip norms, got {sex!r}")


def _hand_key(hand: str) -> str:
    h = str(hand).strip().lower()
    if h in ("r", "right"):
        return "R"
    if h in ("l", "left"):
        return "L"
    raise MotorlabError(f"hand must be 'right' or 'left' for grip norms, got {hand!r}")


def grip_norms(value_kg: float, age: float, sex: str, hand: str) -> NormResult:
    """Compare a grip score (kg, mean of 3 trials, Jamar-type) with age/sex/hand norms.

    Adults 20+ use Mathiowetz 1985; younger ages return NaN and say so (see module docstring).
    Use :func:`motorlab.analysis.grip.newton_to_kgf` to convert a force in N to kg(f).
    """
    sex_k, hand_k = _sex_key(sex), _hand_key(hand)
    value = float(value_kg)
    if not np.isfinite(age) or age < 0:
        raise MotorlabError(f"age must be a non-negative number of years, got {age!r}")
    if age < 20:
        return NormResult(
            value, NAN, NAN, NAN, NAN, NAN, "", PEDIATRIC_SOURCES,
            f"no normative table for age {age:g}: motorlab ships adult norms (20+ y, "
            f"{MATHIOWETZ_1985_SOURCE}); pediatric tables ({PEDIATRIC_SOURCES}) are not included",
        )
    for (lo, hi), table in MATHIOWETZ_1985_LB.items():
        if lo <= int(np.floor(age)) <= hi:
            mean_lb, sd_lb = table[(sex_k, hand_k)]
            mean, sd = mean_lb * LB_KG, sd_lb * LB_KG
            z = (value - mean) / sd
            band = f"{lo}+" if hi >= 200 else f"{lo}-{hi}"
            return NormResult(
                value, mean, sd, z, float(_normal.cdf(z) * 100.0), 100.0 * value / mean,
                band, MATHIOWETZ_1985_SOURCE, "",
            )
    raise AssertionError("unreachable: table covers 20+")  # pragma: no cover


def grip_norms_newton(force_n: float, age: float, sex: str, hand: str) -> NormResult:
    """:func:`grip_norms` for a force in newtons (kg-force = N / 9.80665)."""
    return grip_norms(force_n / KGF_N, age, sex, hand)
