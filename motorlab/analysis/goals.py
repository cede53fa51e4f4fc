"""Goal Attainment Scaling, measurement error and progress across sessions.

* GAS T-score (Kiresuk & Sherman 1968; formula as corrected in the erratum to
  Turner-Stokes, Clin Rehabil 23:362, 2009):
  T = 50 + 10 * sum(w x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2), rho = 0.3.
* SEM = SD * sqrt(1 - ICC); MDC95 = 1.96 * sqrt(2) * SEM.
* Grip MDC95 default: Bai et al., BMC Musculoskelet Disord (2019), mean of three trials,
  injured upper limbs: 4.9 kg for grip <= 20 kg, 5.1 kg above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MotorlabError

GAS_RHO = 0.3
GRIP_MDC95_KG_LOW = 4.9  # Bai 2019, grip <= 20 kg
GRIP_MDC95_KG_HIGH = 5.1  # Bai 2019, grip > 20 kg
GRIP_MDC_SOURCE = "Bai et al., BMC Musculoskelet Disord (2019): MDC95 4.9 kg (<= 20 kg), 5.1 kg (> 20 kg)"


def gas_tscore(scores: Sequence[int], weights: Sequence[float] | None = None, rho: float = GAS_RHO) -> float:
    """GAS T-score from goal attainment levels -2..+2 (and optional positive weights)."""
    x = np.asarray(list(scores), dtype=np.float64)
    if x.size == 0:
        raise MotorlabError("GAS needs at least one goal score")
    if not np.all(np.isin(x, (-2, -1, 0, 1, 2))):
        raise MotorlabError(f"GAS scores must be -2, -1, 0, 1 or 2, got {list(scores)}")
    w = np.ones_like(x) if weights is None else np.asarray(list(weights), dtype=np.float64)
    if w.shape != x.shape or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise MotorlabError(f"GAS weights must be {x.size} positive numbers, got {weights}")
    if not 0 <= rho < 1:
        raise MotorlabError(f"GAS inter-goal correlation rho must be in [0, 1), got {rho}")
    denom = math.sqrt((1 - rho) * float(np.sum(w**2)) + rho * float(np.sum(w)) ** 2)
    return 50.0 + 10.0 * float(np.sum(w * x)) / denom


def sem(sd: float, icc: float) -> float:
    """Standard error of measurement, SD * sqrt(1 - ICC), in the units of ``sd``."""
    if not 0 <= icc <= 1:
        raise MotorlabError(f"ICC must lie in [0, 1], got {icc}")
    return float(sd) * math.sqrt(1.0 - float(icc))


def mdc95(sem_value: float | None = None, *, sd: float | None = None, icc: float | None = None) -> float:
    """Minimal detectable change at 95 % confidence, 1.96 * sqrt(2) * SEM.

    Give the SEM directly or ``sd`` and ``icc`` to derive it.
    """
    if sem_value is None:
        if sd is None or icc is None:
            raise MotorlabError("mdc95 needs an SEM, or an SD and an ICC")
        sem_value = sem(sd, icc)
    return 1.96 * math.sqrt(2.0) * float(sem_value)


def grip_mdc95_kg(baseline_kg: float) -> float:
    """Default grip MDC95 (kg) for a baseline grip score (Bai et al. 2019)."""
    return GRIP_MDC95_KG_LOW if baseline_kg <= 20 else GRIP_MDC95_KG_HIGH


@dataclass(frozen=True)
class ProgressPoint:
    """One session in a progress series (value units as given).

    Attributes:
        label: session label (e.g. date or session ID).
        value: the measurement.
        change_from_baseline, change_from_previous: differences (NaN for the first).
        beyond_mdc: |change from baseline| > MDC.
        direction: "improved", "declined" or "no detectable change" (relative to baseline,
            with ``higher_is_better``).
    """

    label: str
    value: float
    change_from_baseline: float
    change_from_previous: float
    beyond_mdc: bool
    direction: str


def progress_series(
    values: Sequence[float],
    labels: Sequence[str] | None = None,
    mdc: float | None = None,
    higher_is_better: bool = True,
) -> list[ProgressPoint]:
    """Changes across sessions, flagged when they exceed the minimal detectable change.

    ``mdc`` defaults to the grip MDC95 in kg for the first (baseline) value
    (:func:`grip_mdc95_kg`), i.e. ``values`` are then grip scores in kg.
    """
    vals = [float(v) for v in values]
    labs = [str(i + 1) for i in range(len(vals))] if labels is None else [str(x) for x in labels]
    if len(labs) != len(vals):
        raise MotorlabError(f"{len(vals)} values but {len(labs)} labels")
    if not vals:
        return []
    base = vals[0]
    limit = grip_mdc95_kg(base) if mdc is None else float(mdc)
    out = []
    for i, (lab, v) in enumerate(zip(labs, vals)):
        dbase = v - base if i else float("nan")
        dprev = v - vals[i - 1] if i else float("nan")
        beyond = bool(i and np.isfinite(dbase) and abs(dbase) > limit)
        if not beyond:
            direction = "baseline" if i == 0 else "no detectable change"
        else:
            direction = "improved" if (dbase > 0) == higher_is_better else "declined"
        out.append(ProgressPoint(lab, v, dbase, dprev, beyond, direction))
    return out
