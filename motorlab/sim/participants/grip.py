"""A virtual hand squeezing a dynamometer on cue (drives every force emulator).

The force follows :func:`motorlab.sim.models.grip_effort_force` — the one grip
model — with a per-effort peak drawn around ``peak_n``; sensor noise is
:func:`~motorlab.sim.models.hashed_normal` of the sample time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import DeviceError
from ..models import grip_effort_force, hashed_normal, minimum_jerk_fraction_time


@dataclass
class _Effort:
    cue_s: float
    onset_s: float
    peak_n: float
    sustained: bool
    release_s: float  # when relaxation starts (inf = until a release cue)


class GripParticipant:
    """A hand squeezing a dynamometer on cue.

    Args:
        peak_n: mean noise-free peak force of an effort, N.
        rise_s: time from onset to peak (minimum-jerk rise), s; relaxation takes as long.
        hold_s: how long a ``squeeze`` is held after the peak before relaxing, s
            (a ``hold`` cue holds until ``release``).
        fatigue_per_s: fractional force loss per second while holding
            (``F = peak * exp(-fatigue_per_s * (t - t_peak))``).
        noise_n: standard deviation of additive sensor noise, N.
        reaction_s: delay from cue to movement, s.
        seed: selects the per-effort peak jitter and the noise.
        peak_jitter: relative standard deviation of the per-effort peak.

    ``truth`` holds one dict per effort: ``cue_s``, ``onset_s``, ``peak_s``
    (time of the noise-free peak), ``peak_n``, ``rise_s`` (onset to peak),
    ``rise_10_90_s``, ``release_s`` (relaxation start; ``inf`` while held),
    ``end_s``, ``fatigue_per_s``, ``kind`` (``squeeze``/``hold``). Times are
    device seconds.
    """

    def __init__(
        self,
        peak_n: float = 300.0,
        rise_s: float = 0.3,
        hold_s: float = 2.0,
        fatigue_per_s: float = 0.02,
        noise_n: float = 0.3,
        reaction_s: float = 0.2,
        seed: int = 0,
        peak_jitter: float = 0.05,
    ):
        if rise_s <= 0:
            raise ValueError(f"rise_s must be positive, got {rise_s}")
        self.peak_n = float(peak_n)
        self.rise_s = float(rise_s)
        self.hold_s = float(hold_s)
        self.fatigue_per_s = float(fatigue_per_s)
        self.noise_n = float(noise_n)
        self.reaction_s = float(reaction_s)
        self.seed = int(seed)
        self.peak_jitter = float(peak_jitter)
        self._rng = np.random.default_rng(seed)
        self._efforts: list[_Effort] = []
        self._static_load: float | None = None
        self.truth: list[dict[str, Any]] = []

    # -- cues ---------------------------------------------------------------------
    def on_cue(self, kind: str, t_s: float) -> None:
        """React to a cue heard at device time ``t_s`` (s). Unknown cues are ignored."""
        t_move = float(t_s) + self.reaction_s
        if kind in ("squeeze", "hold"):
            self._release_current(t_move)
            peak = self.peak_n * max(0.0, 1.0 + self.peak_jitter * float(self._rng.standard_normal()))
            sustained = kind == "hold"
            release = math.inf if sustained else t_move + self.rise_s + self.hold_s
            self._efforts.append(_Effort(float(t_s), t_move, peak, sustained, release))
            self.truth.append({})
            self._update_truth(len(self._efforts) - 1)
        elif kind in ("release", "stop", "rest"):
            self._release_current(t_move)

    def _release_current(self, t_move: float) -> None:
        if not self._efforts:
            return
        eff = self._efforts[-1]
        if t_move < eff.release_s:
            # cannot relax before the peak is reached: the rise completes first
            eff.release_s = max(t_move, eff.onset_s + self.rise_s)
            self._update_truth(len(self._efforts) - 1)

    def _update_truth(self, i: int) -> None:
        eff = self._efforts[i]
        u10 = minimum_jerk_fraction_time(0.1)
        u90 = minimum_jerk_fraction_time(0.9)
        self.truth[i] = {
            "kind": "hold" if eff.sustained else "squeeze",
            "cue_s": eff.cue_s,
            "onset_s": eff.onset_s,
            "peak_s": eff.onset_s + self.rise_s,
            "peak_n": eff.peak_n,
            "rise_s": self.rise_s,
            "rise_10_90_s": (u90 - u10) * self.rise_s,
            "release_s": eff.release_s,
            "release_force_n": float(self._force_of(eff, np.array([eff.release_s]))[0])
            if math.isfinite(eff.release_s)
            else math.nan,
            "end_s": eff.release_s + self.rise_s,
            "fatigue_per_s": self.fatigue_per_s,
        }

    def set_static_load(self, newtons: float | None) -> None:
        """Hang a known load on the sensor (calibration); ``None`` removes it."""
        self._static_load = None if newtons is None else float(newtons)

    # -- signal ---------------------------------------------------------------------
    def _force_of(self, eff: _Effort, t: np.ndarray) -> np.ndarray:
        """One effort's noise-free force (N); it relaxes in as long as it rose."""
        return grip_effort_force(
            t,
            onset_s=eff.onset_s,
            peak_n=eff.peak_n,
            rise_s=self.rise_s,
            release_s=eff.release_s,
            relax_s=self.rise_s,
            fatigue_per_s=self.fatigue_per_s,
        )

    def effort_force(self, t: np.ndarray) -> np.ndarray:
        """Noise-free grip force (N) at device times ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros_like(t)
        for eff in self._efforts:
            np.maximum(out, self._force_of(eff, t), out=out)
        return out

    def force(self, t: np.ndarray) -> np.ndarray:
        """Measured force (N): effort + static load + Gaussian noise (``noise_n`` SD)."""
        t = np.asarray(t, dtype=np.float64)
        f = self.effort_force(t)
        if self._static_load is not None:
            f = f + self._static_load
        if self.noise_n > 0:
            f = f + self.noise_n * hashed_normal(t, self.seed, 1).reshape(t.shape)
        return f


#: ``sim://`` URL parameters that shape a :class:`GripParticipant` (all floats) besides ``seed``
GRIP_PARTICIPANT_PARAMS = (
    "peak_n",
    "rise_s",
    "hold_s",
    "fatigue_per_s",
    "noise_n",
    "reaction_s",
    "peak_jitter",
)


def grip_participant_from_params(params: dict[str, str], url: str = "sim://") -> GripParticipant:
    """A :class:`GripParticipant` from ``sim://`` query parameters (unset ones keep their
    defaults); a non-numeric value is a one-line DeviceError naming the URL."""

    def number(name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise DeviceError(f"{url}: parameter {name}={text!r} is not a number") from None
        if not math.isfinite(value):
            raise DeviceError(f"{url}: parameter {name}={text!r} must be finite")
        return value

    kw = {name: number(name, params[name]) for name in GRIP_PARTICIPANT_PARAMS if name in params}
    seed = int(number("seed", params.get("seed", "0")))
    return GripParticipant(seed=seed, **kw)
