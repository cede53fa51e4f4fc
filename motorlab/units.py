"""Unit constants and conversions: the one owner of every physical constant motorlab uses.

All exact by definition: standard gravity (3rd CGPM, 1901), the international
avoirdupois pound (1959 agreement) and the pound-force derived from both
(NIST SP 811, appendix B).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

#: standard acceleration of gravity, m/s^2 (exact)
STANDARD_GRAVITY = 9.80665
#: newtons per kilogram-force (exact)
KGF_N = STANDARD_GRAVITY
#: kilograms per avoirdupois pound (exact)
LB_KG = 0.45359237
#: newtons per pound-force (exact: LB_KG x STANDARD_GRAVITY = 4.4482216152605)
LBF_N = LB_KG * STANDARD_GRAVITY
#: metres per centimetre / millimetre
CM_M = 0.01
MM_M = 0.001

#: newtons per unit, for force units found in device output, exports and ``_channels.tsv``
#: (keys in lower case: look up with ``unit.lower()`` or :func:`force_to_newton`)
FORCE_UNITS_N: dict[str, float] = {
    "n": 1.0,
    "kn": 1000.0,
    "mn": 1e-3,
    "kgf": KGF_N,
    "kg": KGF_N,
    "gf": KGF_N * 1e-3,
    "g": KGF_N * 1e-3,
    "lbf": LBF_N,
    "lb": LBF_N,
    "ozf": LBF_N / 16.0,
    "oz": LBF_N / 16.0,
}

F = TypeVar("F", float, np.ndarray)


def newton_to_kgf(force_n: F) -> F:
    """Newtons to kilograms-force (÷ 9.80665)."""
    return force_n / KGF_N


def kgf_to_newton(force_kgf: F) -> F:
    """Kilograms-force to newtons (× 9.80665)."""
    return force_kgf * KGF_N


def lb_to_kg(mass_lb: F) -> F:
    """Pounds to kilograms (× 0.45359237)."""
    return mass_lb * LB_KG


def force_to_newton(value: F, unit: str) -> F:
    """A force in ``unit`` (any case, see :data:`FORCE_UNITS_N`) in newtons; ``KeyError`` if unknown."""
    return value * FORCE_UNITS_N[unit.strip().lower()]
