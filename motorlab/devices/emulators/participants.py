"""Seedable virtual participants that drive the device emulators.

A participant turns *cues* (``squeeze``, ``release``, ``hold``, ``write``,
``draw``, ``rest``, ``posture``, ``stop``) heard at a device time into physical
signals sampled at arbitrary device times, and records the noise-free ground
truth tests compare against (``truth``).

Everything is a pure function of (parameters, seed, cue times, sample time):
sensor noise is derived from a counter-based hash of the sample time in
microseconds (SplitMix64 + Box-Muller), so the same time always gets the same
noise, however the emulator chunks its calls.

Models:

* :class:`GripParticipant` — force rises with a minimum-jerk profile
  (Flash & Hogan 1985: ``s(u) = 10u^3 - 15u^4 + 6u^5``) to a per-effort peak,
  then decays exponentially while held (``fatigue_per_s`` = fraction of force
  lost per second), and relaxes with the same profile.
* :class:`TremorParticipant` — a limb holding an IMU: gravity in the device
  frame set by the pose, plus a sinusoidal tremor of known frequency and
  acceleration amplitude.
* :class:`WriterParticipant` — a hand writing with an IMU pen: minimum-jerk
  strokes with pen lifts (``write``) or an Archimedean spiral ``r = b*theta``
  (``draw``), optionally with a sinusoidal tremor of known frequency and
  amplitude (cm at the tip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: standard gravity, m/s^2 (CGPM 1901)
from ...units import STANDARD_GRAVITY as G_MS2

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


def _minimum_jerk_fraction_time(level: float) -> float:
    """The normalised time u at which the minimum-jerk profile reaches ``level``."""
    roots = np.roots([6.0, -15.0, 10.0, 0.0, 0.0, -level])
    real = [r.real for r in roots if abs(r.imag) < 1e-9 and -1e-12 <= r.real <= 1 + 1e-12]
    return float(min(real))


# ------------------------------------------------------------------ grip
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
        u10 = _minimum_jerk_fraction_time(0.1)
        u90 = _minimum_jerk_fraction_time(0.9)
        self.truth[i] = {
            "kind": "hold" if eff.sustained else "squeeze",
            "cue_s": eff.cue_s,
            "onset_s": eff.onset_s,
            "peak_s": eff.onset_s + self.rise_s,
            "peak_n": eff.peak_n,
            "rise_s": self.rise_s,
            "rise_10_90_s": (u90 - u10) * self.rise_s,
            "release_s": eff.release_s,
            "release_force_n": float(self._held_force(eff, eff.release_s))
            if math.isfinite(eff.release_s)
            else math.nan,
            "end_s": eff.release_s + self.rise_s,
            "fatigue_per_s": self.fatigue_per_s,
        }

    def set_static_load(self, newtons: float | None) -> None:
        """Hang a known load on the sensor (calibration); ``None`` removes it."""
        self._static_load = None if newtons is None else float(newtons)

    # -- signal ---------------------------------------------------------------------
    def _held_force(self, eff: _Effort, t: np.ndarray | float) -> np.ndarray:
        dt = np.maximum(np.asarray(t, dtype=np.float64) - (eff.onset_s + self.rise_s), 0.0)
        if not np.all(np.isfinite(dt)):
            dt = np.where(np.isfinite(dt), dt, 0.0)
        return eff.peak_n * np.exp(-self.fatigue_per_s * dt)

    def effort_force(self, t: np.ndarray) -> np.ndarray:
        """Noise-free grip force (N) at device times ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros_like(t)
        for eff in self._efforts:
            rise = minimum_jerk((t - eff.onset_s) / self.rise_s)
            held = self._held_force(eff, np.minimum(t, eff.release_s))
            relax = 1.0 - minimum_jerk((t - eff.release_s) / self.rise_s)
            f = np.where(t < eff.onset_s, 0.0, held * rise * relax)
            np.maximum(out, f, out=out)
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


# ------------------------------------------------------------------ tremor / IMU pose
_POSES = {
    "+x": (1.0, 0.0, 0.0),
    "-x": (-1.0, 0.0, 0.0),
    "+y": (0.0, 1.0, 0.0),
    "-y": (0.0, -1.0, 0.0),
    "+z": (0.0, 0.0, 1.0),
    "-z": (0.0, 0.0, -1.0),
}
#: (roll, pitch) in degrees (aerospace ZYX Euler) for each axis pointing up
_POSE_EULER = {
    "+z": (0.0, 0.0),
    "-z": (180.0, 0.0),
    "+y": (-90.0, 0.0),
    "-y": (90.0, 0.0),
    "+x": (0.0, 90.0),
    "-x": (0.0, -90.0),
}


def pose_gravity(up: str) -> np.ndarray:
    """Specific force (m/s²) an ideal accelerometer reads at rest with axis ``up`` pointing up."""
    if up not in _POSES:
        raise ValueError(f"pose {up!r}: use one of {', '.join(_POSES)}")
    return G_MS2 * np.asarray(_POSES[up])


class TremorParticipant:
    """A limb holding an IMU, with a sinusoidal tremor.

    Args:
        freq_hz: tremor frequency, Hz.
        amp_ms2: peak linear-acceleration amplitude of the tremor, m/s²
            (along the device axis ``tremor_axis``; RMS = amp/√2).
        noise_ms2: accelerometer noise SD, m/s².
        seed: noise seed.
        gyro_amp_dps: peak angular-velocity amplitude of the tremor, deg/s (about ``rot_axis``).
        gyro_noise_dps: gyroscope noise SD, deg/s.
        tremor_axis / rot_axis: device axes (0=x, 1=y, 2=z) of the linear and rotational tremor.

    ``still(True)`` removes the tremor (a limb at rest on a table / a device
    lying on the bench); ``set_pose(up)`` turns the device so that axis ``up``
    points up (6-position accelerometer calibration). Cues ``rest``/``posture``
    start the tremor, ``stop`` ends it. ``truth`` is a dict with the model's
    parameters and the current pose.
    """

    def __init__(
        self,
        freq_hz: float = 6.0,
        amp_ms2: float = 0.5,
        noise_ms2: float = 0.02,
        seed: int = 0,
        gyro_amp_dps: float = 10.0,
        gyro_noise_dps: float = 0.1,
        tremor_axis: int = 0,
        rot_axis: int = 1,
    ):
        self.freq_hz = float(freq_hz)
        self.amp_ms2 = float(amp_ms2)
        self.noise_ms2 = float(noise_ms2)
        self.seed = int(seed)
        self.gyro_amp_dps = float(gyro_amp_dps)
        self.gyro_noise_dps = float(gyro_noise_dps)
        self.tremor_axis = int(tremor_axis)
        self.rot_axis = int(rot_axis)
        self._up = "+z"
        self._still = False
        self.cues: list[tuple[str, float]] = []

    @property
    def truth(self) -> dict[str, Any]:
        return {
            "freq_hz": self.freq_hz,
            "amp_ms2": 0.0 if self._still else self.amp_ms2,
            "rms_ms2": 0.0 if self._still else self.amp_ms2 / math.sqrt(2.0),
            "gyro_amp_dps": 0.0 if self._still else self.gyro_amp_dps,
            "pose": self._up,
            "gravity_ms2": pose_gravity(self._up).tolist(),
            "still": self._still,
            "cues": list(self.cues),
        }

    def set_pose(self, up: str) -> None:
        pose_gravity(up)  # validates
        self._up = up

    def still(self, is_still: bool = True) -> None:
        self._still = bool(is_still)

    def on_cue(self, kind: str, t_s: float) -> None:
        self.cues.append((kind, float(t_s)))
        if kind in ("rest", "posture", "hold"):
            self._still = False
        elif kind == "stop":
            self._still = True

    def motion(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """IMU signals at device times ``t`` (s).

        Returns ``acc_ms2`` (n, 3) with gravity, ``gyro_dps`` (n, 3) and
        ``euler_deg`` (n, 3) = roll, pitch, yaw. The tremor's rotation is small
        (amplitude ``gyro_amp / (2 pi f)`` degrees), so its effect on the
        gravity projection is neglected.
        """
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        n = t.size
        phase = 2.0 * np.pi * self.freq_hz * t
        acc = np.tile(pose_gravity(self._up), (n, 1))
        gyro = np.zeros((n, 3))
        roll0, pitch0 = _POSE_EULER[self._up]
        euler = np.tile([roll0, pitch0, 0.0], (n, 1))
        if not self._still and self.freq_hz > 0:
            acc[:, self.tremor_axis] += self.amp_ms2 * np.sin(phase)
            gyro[:, self.rot_axis] += self.gyro_amp_dps * np.cos(phase)
            euler[:, self.rot_axis] += self.gyro_amp_dps / (2.0 * np.pi * self.freq_hz) * np.sin(phase)
        for k in range(3):
            acc[:, k] += self.noise_ms2 * hashed_normal(t, self.seed, 10 + k)
            gyro[:, k] += self.gyro_noise_dps * hashed_normal(t, self.seed, 20 + k)
        return acc, gyro, euler


# ------------------------------------------------------------------ writer / pen
@dataclass
class _Segment:
    """One planned piece of pen trajectory (device s, cm).

    ``t1``/``end_pos`` are where it really ends (earlier than planned when a cue
    interrupts it); its shape always follows the plan (``planned_t1``/``target``).
    """

    t0: float
    planned_t1: float
    p0: tuple[float, float]
    target: tuple[float, float]
    down: bool
    kind: str  # "stroke", "lift", "spiral"
    spiral: tuple[float, float] | None = None  # (b_cm_per_rad, theta_max_rad); p0 is the centre
    t1: float = math.nan
    end_pos: tuple[float, float] = (math.nan, math.nan)

    def __post_init__(self) -> None:
        if math.isnan(self.t1):
            self.t1 = self.planned_t1
            self.end_pos = self.target

    def position(self, t: np.ndarray) -> np.ndarray:
        u = minimum_jerk((t - self.t0) / (self.planned_t1 - self.t0))
        if self.spiral is not None:
            b, theta_max = self.spiral
            theta = theta_max * u
            r = b * theta
            return np.stack([self.p0[0] + r * np.cos(theta), self.p0[1] + r * np.sin(theta)], axis=-1)
        p0 = np.asarray(self.p0)
        return p0 + u[:, None] * (np.asarray(self.target) - p0)


class WriterParticipant:
    """A hand writing or drawing with an IMU pen.

    Cues: ``write`` draws ``n_words`` words of ``strokes_per_word`` straight
    minimum-jerk strokes (a zig-zag of height ``stroke_height_cm`` advancing
    ``stroke_width_cm`` per stroke) with a pen lift of ``lift_s`` between
    words; ``draw`` draws an Archimedean spiral ``r = b*theta`` of
    ``spiral_turns`` turns, ``spiral_pitch_cm`` apart, from the centre outward
    in ``spiral_s`` seconds (minimum-jerk in theta); ``rest``/``posture``/``stop``
    end the activity (pen up, held still). A sinusoidal tremor of
    ``tremor_hz``/``tremor_amp_cm`` (peak, along x at the tip) is added to the
    position at all times when ``tremor_hz > 0``.

    Pen frame = paper frame (x right, y up the page, z up from the paper):
    ``acc_ms2`` is the second derivative of the tip position plus gravity
    (+9.81 on z), ``gyro_dps`` is the pen's tilt rate for a tip displacement
    seen from a grip point ``lever_cm`` above the tip.

    ``truth`` holds one dict per activity with ``kind``, ``onset_s``, ``end_s``,
    ``pen_down`` (list of ``(start_s, end_s)``), ``strokes`` (per stroke
    ``onset_s``, ``duration_s``, ``start_cm``, ``end_cm``, ``length_cm``,
    ``peak_speed_cm_s`` = 1.875·L/T for a minimum-jerk stroke) or the spiral
    parameters, plus ``tremor_hz``/``tremor_amp_cm``.
    """

    def __init__(
        self,
        seed: int = 0,
        reaction_s: float = 0.2,
        stroke_s: float = 0.2,
        stroke_height_cm: float = 1.0,
        stroke_width_cm: float = 0.4,
        strokes_per_word: int = 4,
        n_words: int = 3,
        lift_s: float = 0.3,
        word_gap_cm: float = 1.0,
        tip_force_n: float = 1.5,
        force_ramp_s: float = 0.02,
        spiral_turns: float = 3.0,
        spiral_pitch_cm: float = 1.0,
        spiral_s: float = 6.0,
        tremor_hz: float = 0.0,
        tremor_amp_cm: float = 0.0,
        lever_cm: float = 10.0,
        force_noise_n: float = 0.005,
        acc_noise_ms2: float = 0.02,
        gyro_noise_dps: float = 0.1,
    ):
        self.seed = int(seed)
        self.reaction_s = float(reaction_s)
        self.stroke_s = float(stroke_s)
        self.stroke_height_cm = float(stroke_height_cm)
        self.stroke_width_cm = float(stroke_width_cm)
        self.strokes_per_word = int(strokes_per_word)
        self.n_words = int(n_words)
        self.lift_s = float(lift_s)
        self.word_gap_cm = float(word_gap_cm)
        self.tip_force_n = float(tip_force_n)
        self.force_ramp_s = float(force_ramp_s)
        self.spiral_turns = float(spiral_turns)
        self.spiral_pitch_cm = float(spiral_pitch_cm)
        self.spiral_s = float(spiral_s)
        self.tremor_hz = float(tremor_hz)
        self.tremor_amp_cm = float(tremor_amp_cm)
        self.lever_cm = float(lever_cm)
        self.force_noise_n = float(force_noise_n)
        self.acc_noise_ms2 = float(acc_noise_ms2)
        self.gyro_noise_dps = float(gyro_noise_dps)
        self._segments: list[_Segment] = []
        self._rest_pos: tuple[float, float] = (0.0, 0.0)
        self.truth: list[dict[str, Any]] = []

    # -- cues ---------------------------------------------------------------------
    def on_cue(self, kind: str, t_s: float) -> None:
        t0 = float(t_s) + self.reaction_s
        if kind == "write":
            self._cut(t0)
            self._plan_writing(t0)
        elif kind == "draw":
            self._cut(t0)
            self._plan_spiral(t0)
        elif kind in ("rest", "posture", "stop", "release"):
            self._cut(t0)

    def _cut(self, t: float) -> None:
        """Abort whatever is planned after ``t``: the pen lifts and stays where it is."""
        if not self._segments or t >= self._segments[-1].t1:
            return
        here = self._clean_position(np.array([t]))[0]
        kept = [s for s in self._segments if s.t0 < t]
        if kept:
            kept[-1].t1, kept[-1].end_pos = t, (float(here[0]), float(here[1]))
        self._segments = kept
        self._rest_pos = (float(here[0]), float(here[1]))
        act = self.truth[-1]
        act["end_s"] = t
        act["interrupted"] = True
        act["pen_down"] = [(a, min(b, t)) for a, b in act["pen_down"] if a < t]
        if "strokes" in act:
            act["strokes"] = [s for s in act["strokes"] if s["onset_s"] + s["duration_s"] <= t]

    def _plan_writing(self, t0: float) -> None:
        x, y = self._rest_pos
        base_y = y
        t = t0
        strokes, pen_down = [], []
        for w in range(self.n_words):
            if w > 0:  # pen lift to the next word start
                nxt = (x + self.word_gap_cm, base_y)
                self._segments.append(_Segment(t, t + self.lift_s, (x, y), nxt, False, "lift"))
                t += self.lift_s
                x, y = nxt
            down_start = t
            for k in range(self.strokes_per_word):
                up = k % 2 == 0
                nxt = (x + self.stroke_width_cm, base_y + (self.stroke_height_cm if up else 0.0))
                self._segments.append(_Segment(t, t + self.stroke_s, (x, y), nxt, True, "stroke"))
                length = math.hypot(nxt[0] - x, nxt[1] - y)
                strokes.append(
                    {
                        "onset_s": t,
                        "duration_s": self.stroke_s,
                        "start_cm": (x, y),
                        "end_cm": nxt,
                        "length_cm": length,
                        "peak_speed_cm_s": 1.875 * length / self.stroke_s,
                    }
                )
                t += self.stroke_s
                x, y = nxt
            pen_down.append((down_start, t))
        self._rest_pos = (x, y)
        self.truth.append(
            {
                "kind": "write",
                "onset_s": t0,
                "end_s": t,
                "pen_down": pen_down,
                "strokes": strokes,
                "tremor_hz": self.tremor_hz,
                "tremor_amp_cm": self.tremor_amp_cm,
            }
        )

    def _plan_spiral(self, t0: float) -> None:
        b = self.spiral_pitch_cm / (2.0 * math.pi)
        theta_max = 2.0 * math.pi * self.spiral_turns
        centre = self._rest_pos
        end = (
            centre[0] + b * theta_max * math.cos(theta_max),
            centre[1] + b * theta_max * math.sin(theta_max),
        )
        t1 = t0 + self.spiral_s
        self._segments.append(_Segment(t0, t1, centre, end, True, "spiral", (b, theta_max)))
        self._rest_pos = end
        self.truth.append(
            {
                "kind": "draw",
                "onset_s": t0,
                "end_s": t1,
                "pen_down": [(t0, t1)],
                "centre_cm": centre,
                "b_cm_per_rad": b,
                "turns": self.spiral_turns,
                "pitch_cm": self.spiral_pitch_cm,
                "theta_max_rad": theta_max,
                "tremor_hz": self.tremor_hz,
                "tremor_amp_cm": self.tremor_amp_cm,
            }
        )

    # -- signals ---------------------------------------------------------------------
    def _clean_position(self, t: np.ndarray) -> np.ndarray:
        """Noise- and tremor-free tip position (cm), (n, 2)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        pos = np.empty((t.size, 2))
        pos[:] = self._segments[0].p0 if self._segments else self._rest_pos
        for seg in self._segments:
            inside = (t >= seg.t0) & (t < seg.t1)
            if np.any(inside):
                pos[inside] = seg.position(t[inside])
            pos[t >= seg.t1] = seg.end_pos
        return pos

    def pen_down(self, t: np.ndarray) -> np.ndarray:
        """Boolean (n,): whether the tip touches the paper (noise-free truth)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        down = np.zeros(t.size, dtype=bool)
        for seg in self._segments:
            if seg.down:
                down |= (t >= seg.t0) & (t < seg.t1)
        return down

    def _tip_force_clean(self, t: np.ndarray) -> np.ndarray:
        f = np.zeros(t.size)
        for act in self.truth:
            for a, b in act["pen_down"]:
                ramp = min(self.force_ramp_s, (b - a) / 2.0)
                up = minimum_jerk((t - a) / ramp) if ramp > 0 else (t >= a).astype(float)
                down = 1.0 - minimum_jerk((t - (b - ramp)) / ramp) if ramp > 0 else (t < b).astype(float)
                inside = (t >= a) & (t < b)
                f = np.where(inside, np.maximum(f, self.tip_force_n * up * down), f)
        return f

    def _tremor(self, t: np.ndarray) -> np.ndarray:
        if self.tremor_hz <= 0 or self.tremor_amp_cm == 0:
            return np.zeros(t.size)
        return self.tremor_amp_cm * np.sin(2.0 * np.pi * self.tremor_hz * t)

    def position(self, t: np.ndarray) -> np.ndarray:
        """Tip position (cm) including tremor along x, (n, 2)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        pos = self._clean_position(t)
        pos[:, 0] += self._tremor(t)
        return pos

    def pen(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Pen signals at device times ``t`` (s).

        Returns ``pos_cm`` (n, 2), ``tip_force_n`` (n,), ``acc_ms2`` (n, 3)
        (gravity +9.81 on z) and ``gyro_dps`` (n, 3).
        """
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        h = 1e-3  # central differences; trajectories are C2 so the error is O(h^2)
        p_minus, p0, p_plus = self.position(t - h), self.position(t), self.position(t + h)
        acc_xy = (p_plus - 2.0 * p0 + p_minus) / (h * h) / 100.0  # cm/s^2 -> m/s^2
        n = t.size
        acc = np.zeros((n, 3))
        acc[:, :2] = acc_xy
        acc[:, 2] = G_MS2
        gyro = np.zeros((n, 3))
        if self.tremor_hz > 0 and self.tremor_amp_cm != 0:
            # tip displaced along x by d(t) with the hand as pivot: tilt about y = d / lever (rad)
            rate = self.tremor_amp_cm * 2 * np.pi * self.tremor_hz * np.cos(2 * np.pi * self.tremor_hz * t)
            gyro[:, 1] = np.degrees(rate / self.lever_cm)
        force = self._tip_force_clean(t)
        force = np.maximum(force + self.force_noise_n * hashed_normal(t, self.seed, 30), 0.0)
        for k in range(3):
            acc[:, k] += self.acc_noise_ms2 * hashed_normal(t, self.seed, 40 + k)
            gyro[:, k] += self.gyro_noise_dps * hashed_normal(t, self.seed, 50 + k)
        return {"pos_cm": p0, "tip_force_n": force, "acc_ms2": acc, "gyro_dps": gyro}


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
    from ..base import DeviceError

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
