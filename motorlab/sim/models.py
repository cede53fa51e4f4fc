"""Signal models shared by every virtual participant and the dataset generator.

* :func:`hashed_normal` — sensor noise that is a pure function of (time in µs,
  seed, stream): SplitMix64 (Steele et al. 2014) of the microsecond tick, two
  uniforms, Box-Muller. The same time always gets the same noise, however an
  emulator chunks its calls.
* :func:`minimum_jerk` — the minimum-jerk position profile
  ``s(u) = 10u³ − 15u⁴ + 6u⁵`` (Flash & Hogan 1985).
* :func:`grip_effort_force` — **the** grip-force model (the only one in
  motorlab): a minimum-jerk rise from ``onset_s`` to ``peak_n`` over ``rise_s``,
  an exponential decline while held (``peak * exp(-fatigue_per_s * (t - t_peak))``,
  ``fatigue_per_s`` = fraction of force lost per second) and a minimum-jerk
  relaxation of ``relax_s`` from ``release_s``. Its noise-free maximum is exactly
  ``peak_n``, at ``onset_s + rise_s``.
"""

from __future__ import annotations

import numpy as np

_U64 = np.uint64
_MASK53 = float(2**53)


# ------------------------------------------------------------------ helpers
def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al. 2014), vectorised on uint64 (wraps)."""
    with np.errstate(over="ignore"):
        z = x + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def hashed_normal(t_s: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """Standard-normal noise that depends only on (time in µs, seed, stream).

    Two SplitMix64 hashes of the microsecond tick give two uniforms, turned into
    one N(0, 1) value by the Box-Muller transform.
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    ticks = np.round(t * 1e6).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        key = ticks * _U64(0x100000001B3) + _U64((seed * 1_000_003 + stream * 7919) & (2**64 - 1))
    h1 = _splitmix64(key)
    h2 = _splitmix64(h1 ^ _U64(0xD1B54A32D192ED03))
    u1 = ((h1 >> _U64(11)).astype(np.float64) + 1.0) / (_MASK53 + 1.0)  # (0, 1]
    u2 = (h2 >> _U64(11)).astype(np.float64) / _MASK53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def minimum_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile on ``u`` in [0, 1] (clipped): 10u³ − 15u⁴ + 6u⁵."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u))


def minimum_jerk_fraction_time(level: float) -> float:
    """The normalised time u at which the minimum-jerk profile reaches ``level``."""
    roots = np.roots([6.0, -15.0, 10.0, 0.0, 0.0, -level])
    real = [r.real for r in roots if abs(r.imag) < 1e-9 and -1e-12 <= r.real <= 1 + 1e-12]
    return float(min(real))


def grip_effort_force(
    t: np.ndarray,
    *,
    onset_s: float,
    peak_n: float,
    rise_s: float,
    release_s: float,
    relax_s: float,
    fatigue_per_s: float = 0.0,
) -> np.ndarray:
    """Noise-free force (N) of one grip effort at times ``t`` (s).

    Args:
        onset_s: when the force starts to rise, s.
        peak_n: force reached at ``onset_s + rise_s``, N.
        rise_s: onset to peak, s (minimum-jerk rise).
        release_s: when relaxation starts, s (``inf`` = held for ever); not
            before the peak.
        relax_s: duration of the minimum-jerk relaxation, s.
        fatigue_per_s: fractional force loss per second while held (exponential), 1/s.
    """
    t = np.asarray(t, dtype=np.float64)
    t_peak = onset_s + rise_s
    held_for = np.maximum(np.minimum(t, release_s) - t_peak, 0.0)
    held = peak_n * np.exp(-fatigue_per_s * held_for)
    rise = minimum_jerk((t - onset_s) / rise_s)
    relax = 1.0 - minimum_jerk((t - release_s) / relax_s) if np.isfinite(release_s) else 1.0
    return np.where(t < onset_s, 0.0, held * rise * relax)
