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
with a message instead of invented numbers. A clinic can supply the table it
uses (:func:`read_grip_norm_table`: a CSV with its citation); such a table is
looked up first and the adult table covers the ages it leaves out.

The percentile assumes a normal distribution within the age band (Phi(z) x 100).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm as _normal

from ..errors import MotorlabError
from ..units import KGF_N, LB_KG

NAN = float("nan")

MATHIOWETZ_1985_SOURCE = "Mathiowetz et al., Arch Phys Med Rehabil 66:69-74 (1985), Jamar, mean of 3 trials"
PEDIATRIC_SOURCES = (
    "Mathiowetz, Wiemer & Federman, AJOT 40:705-711 (1986); Bohannon et al., "
    "Pediatr Phys Ther 29:118-123 (2017); Ploegmakers et al., J Physiother 59:255-261 (2013)"
)

#: (age_lo, age_hi) -> {("M"|"F", "R"|"L"): (mean_lb, sd_lb)}; 75+ is open-ended.
MATHIOWETZ_1985_LB: dict[tuple[int, int], dict[tuple[str, str], tuple[float, float]]] = {
    (20, 24): {
        ("M", "R"): (121.0, 20.6),
        ("M", "L"): (104.5, 21.8),
        ("F", "R"): (70.4, 14.5),
        ("F", "L"): (61.0, 13.1),
    },
    (25, 29): {
        ("M", "R"): (120.8, 23.0),
        ("M", "L"): (110.5, 16.2),
        ("F", "R"): (74.5, 13.9),
        ("F", "L"): (63.5, 12.2),
    },
    (30, 34): {
        ("M", "R"): (121.8, 22.4),
        ("M", "L"): (110.4, 21.7),
        ("F", "R"): (78.7, 19.2),
        ("F", "L"): (68.0, 17.7),
    },
    (35, 39): {
        ("M", "R"): (119.7, 24.0),
        ("M", "L"): (112.9, 21.7),
        ("F", "R"): (74.1, 10.8),
        ("F", "L"): (66.3, 11.7),
    },
    (40, 44): {
        ("M", "R"): (116.8, 20.7),
        ("M", "L"): (112.8, 18.7),
        ("F", "R"): (70.4, 13.5),
        ("F", "L"): (62.3, 13.8),
    },
    (45, 49): {
        ("M", "R"): (109.9, 23.0),
        ("M", "L"): (100.8, 22.8),
        ("F", "R"): (62.2, 15.1),
        ("F", "L"): (56.0, 12.7),
    },
    (50, 54): {
        ("M", "R"): (113.6, 18.1),
        ("M", "L"): (101.9, 17.0),
        ("F", "R"): (65.8, 11.6),
        ("F", "L"): (57.3, 10.7),
    },
    (55, 59): {
        ("M", "R"): (101.1, 26.7),
        ("M", "L"): (83.2, 23.4),
        ("F", "R"): (57.3, 12.5),
        ("F", "L"): (47.3, 11.9),
    },
    (60, 64): {
        ("M", "R"): (89.7, 20.4),
        ("M", "L"): (76.8, 20.3),
        ("F", "R"): (55.1, 10.1),
        ("F", "L"): (45.7, 10.1),
    },
    (65, 69): {
        ("M", "R"): (91.1, 20.6),
        ("M", "L"): (76.8, 19.8),
        ("F", "R"): (49.6, 9.7),
        ("F", "L"): (41.0, 8.2),
    },
    (70, 74): {
        ("M", "R"): (75.3, 21.5),
        ("M", "L"): (64.8, 18.1),
        ("F", "R"): (49.6, 11.7),
        ("F", "L"): (41.5, 10.2),
    },
    (75, 200): {
        ("M", "R"): (65.7, 21.0),
        ("M", "L"): (55.0, 17.0),
        ("F", "R"): (42.6, 11.0),
        ("F", "L"): (37.6, 8.9),
    },
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


def _result(value: float, mean: float, sd: float, band: str, source: str) -> NormResult:
    z = (value - mean) / sd
    return NormResult(
        value, mean, sd, z, float(_normal.cdf(z) * 100.0), 100.0 * value / mean, band, source, ""
    )


def grip_norms(
    value_kg: float, age: float, sex: str, hand: str, table: GripNormTable | None = None
) -> NormResult:
    """Compare a grip score (kg, mean of 3 trials, Jamar-type) with age/sex/hand norms.

    ``table`` (a clinic-supplied :class:`GripNormTable`) is looked up first. Otherwise
    adults 20+ use Mathiowetz 1985, and younger ages return NaN and say so (see module docstring).
    Use :func:`motorlab.analysis.grip.newton_to_kgf` to convert a force in N to kg(f).
    """
    sex_k, hand_k = _sex_key(sex), _hand_key(hand)
    value = float(value_kg)
    if not np.isfinite(age) or age < 0:
        raise MotorlabError(f"age must be a non-negative number of years, got {age!r}")
    band = table.lookup(age, sex_k, hand_k) if table is not None else None
    if band is not None and table is not None:
        return _result(value, band.mean_kg, band.sd_kg, band.label, table.source)
    if age < 20:
        return NormResult(
            value,
            NAN,
            NAN,
            NAN,
            NAN,
            NAN,
            "",
            PEDIATRIC_SOURCES,
            f"no normative table for age {age:g}: motorlab ships adult norms (20+ y, "
            f"{MATHIOWETZ_1985_SOURCE}); pediatric tables ({PEDIATRIC_SOURCES}) are not included"
            + (
                ""
                if table is None
                else f"; the supplied table ({table.source}) has no band for this age, sex and hand"
            ),
        )
    for (lo, hi), adult in MATHIOWETZ_1985_LB.items():
        if lo <= int(np.floor(age)) <= hi:
            mean_lb, sd_lb = adult[(sex_k, hand_k)]
            label = f"{lo}+" if hi >= 200 else f"{lo}-{hi}"
            return _result(value, mean_lb * LB_KG, sd_lb * LB_KG, label, MATHIOWETZ_1985_SOURCE)
    raise AssertionError("unreachable: table covers 20+")  # pragma: no cover


def grip_norms_newton(
    force_n: float, age: float, sex: str, hand: str, table: GripNormTable | None = None
) -> NormResult:
    """:func:`grip_norms` for a force in newtons (kg-force = N / 9.80665)."""
    return grip_norms(force_n / KGF_N, age, sex, hand, table)


# ------------------------------------------------------------------ clinic-supplied tables
NORM_TABLE_COLUMNS = ("age_lo", "age_hi", "sex", "hand", "mean_kg", "sd_kg")


@dataclass(frozen=True)
class GripNormBand:
    """One row of a norms table: ages ``age_lo``..``age_hi`` (whole years, inclusive), kg."""

    age_lo: int
    age_hi: int
    sex: str  # "M" or "F"
    hand: str  # "R" or "L"
    mean_kg: float
    sd_kg: float

    @property
    def label(self) -> str:
        return f"{self.age_lo}" if self.age_lo == self.age_hi else f"{self.age_lo}-{self.age_hi}"


@dataclass(frozen=True)
class GripNormTable:
    """A grip norms table supplied by the user, with its citation (see :func:`read_grip_norm_table`)."""

    source: str
    bands: tuple[GripNormBand, ...]
    sha256: str = ""  # of the file it was read from

    def lookup(self, age: float, sex_key: str, hand_key: str) -> GripNormBand | None:
        years = int(np.floor(age))
        for band in self.bands:
            if band.sex == sex_key and band.hand == hand_key and band.age_lo <= years <= band.age_hi:
                return band
        return None

    def as_param(self) -> dict[str, Any]:
        """Plain JSON form, as stored in analysis parameters and provenance."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "bands": [[b.age_lo, b.age_hi, b.sex, b.hand, b.mean_kg, b.sd_kg] for b in self.bands],
        }

    @classmethod
    def from_param(cls, value: dict[str, Any]) -> GripNormTable:
        try:
            bands = tuple(
                GripNormBand(int(a), int(b), str(s), str(h), float(m), float(sd))
                for a, b, s, h, m, sd in value["bands"]
            )
            return cls(str(value["source"]), bands, str(value.get("sha256", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise MotorlabError(f"grip.norms_table: not a norms table ({exc})") from None


def read_grip_norm_table(path: str | Path) -> GripNormTable:
    """Read a grip norms table from CSV (kg, whole-year age bands, inclusive).

    Format: comment lines start with ``#``; one of them must be ``# source: <citation>``
    (a table without its source is refused). Then a header ``age_lo,age_hi,sex,hand,mean_kg,sd_kg``
    and one row per band, sex ``M``/``F``, hand ``R``/``L`` (or right/left). Bands of the
    same sex and hand must not overlap. Errors name the file and line.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MotorlabError(f"{path}: cannot read norms table ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MotorlabError(f"{path}: norms table is not UTF-8 text") from None
    source, rows = "", []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, _, value = stripped.lstrip("#").partition(":")
            if key.strip().lower() == "source" and value.strip():
                source = value.strip()
        elif stripped:
            rows.append((lineno, line))
    if not source:
        raise MotorlabError(f"{path}: norms table has no '# source: <citation>' line")
    if not rows:
        raise MotorlabError(f"{path}: norms table has no header and rows")
    header_line, header = rows[0][0], [c.strip().lower() for c in next(csv.reader([rows[0][1]]))]
    if tuple(header) != NORM_TABLE_COLUMNS:
        raise MotorlabError(
            f"{path}:{header_line}: header must be {','.join(NORM_TABLE_COLUMNS)}, got {','.join(header)}"
        )
    bands: list[GripNormBand] = []
    for lineno, line in rows[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        if len(cells) != len(NORM_TABLE_COLUMNS):
            raise MotorlabError(f"{path}:{lineno}: {len(cells)} values, expected {len(NORM_TABLE_COLUMNS)}")
        try:
            age_lo, age_hi = int(cells[0]), int(cells[1])
            mean_kg, sd_kg = float(cells[4]), float(cells[5])
            sex_k, hand_k = _sex_key(cells[2]), _hand_key(cells[3])
        except ValueError:
            raise MotorlabError(
                f"{path}:{lineno}: ages must be whole years and mean/SD numbers in kg"
            ) from None
        except MotorlabError as exc:
            raise MotorlabError(f"{path}:{lineno}: {exc}") from None
        if not (0 <= age_lo <= age_hi):
            raise MotorlabError(f"{path}:{lineno}: age band {age_lo}-{age_hi} is empty or negative")
        if not (np.isfinite(mean_kg) and mean_kg > 0 and np.isfinite(sd_kg) and sd_kg > 0):
            raise MotorlabError(f"{path}:{lineno}: mean and SD must be positive (kg)")
        band = GripNormBand(age_lo, age_hi, sex_k, hand_k, mean_kg, sd_kg)
        for other in bands:
            if (
                (other.sex, other.hand) == (sex_k, hand_k)
                and other.age_lo <= age_hi
                and age_lo <= other.age_hi
            ):
                raise MotorlabError(
                    f"{path}:{lineno}: ages {band.label} overlap ages {other.label} ({sex_k}, {hand_k})"
                )
        bands.append(band)
    return GripNormTable(source, tuple(bands), hashlib.sha256(raw).hexdigest())
