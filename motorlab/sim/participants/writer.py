"""A hand writing or drawing with an IMU pen (drives the DIY pen emulators)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from ...units import STANDARD_GRAVITY as G_MS2
from ..models import hashed_normal, minimum_jerk
from .glyphs import CAP_UNITS, GLYPHS, glyph_strokes

#: letters: gap between words (font units), shortest pen-down and in-air movement (s), and the
#: size below which a glyph's stroke (the dot of i and j, a full stop) is drawn as a short tick
WORD_GAP_UNITS = 10.0
MIN_LETTER_STROKE_S = 0.12
MIN_AIR_S = 0.1
DOT_FRACTION = 0.15


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
    kind: str  # "stroke", "lift", "spiral", "letter"
    spiral: tuple[float, float] | None = None  # (b_cm_per_rad, theta_max_rad); p0 is the centre
    path: Callable[[np.ndarray], np.ndarray] | None = None  # letter: u in [0, 1] -> (n, 2) cm
    t1: float = math.nan
    end_pos: tuple[float, float] = (math.nan, math.nan)

    def __post_init__(self) -> None:
        if math.isnan(self.t1):
            self.t1 = self.planned_t1
            self.end_pos = self.target

    def position(self, t: np.ndarray) -> np.ndarray:
        u = minimum_jerk((t - self.t0) / (self.planned_t1 - self.t0))
        if self.path is not None:
            return self.path(u)
        if self.spiral is not None:
            b, theta_max = self.spiral
            theta = theta_max * u
            r = b * theta
            return np.stack([self.p0[0] + r * np.cos(theta), self.p0[1] + r * np.sin(theta)], axis=-1)
        p0 = np.asarray(self.p0)
        return p0 + u[:, None] * (np.asarray(self.target) - p0)


class WriterParticipant:
    """A hand writing or drawing with an IMU pen.

    Cues: ``write`` writes ``text`` in single-stroke letters (the Hershey simplex
    font, :mod:`.glyphs`; cap height ``letter_height_cm``, each letter turned
    clockwise by ``slant_rad`` about its baseline point, a forward slant that also
    keeps the font's horizontal pieces from being drawn with no vertical
    velocity at all, which would make their stroke count a matter of noise): each glyph stroke is one pen-down movement along a
    shape-preserving (PCHIP) curve through the glyph's points, minimum-jerk in
    arc length at about ``writing_speed_cm_s``, with in-air moves between them;
    without ``text`` it draws ``n_words`` words of ``strokes_per_word`` straight
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
    parameters, plus ``tremor_hz``/``tremor_amp_cm``. For letters a stroke is what
    handwriting analysis calls one (MovAlyzeR): the pen-down movement between
    touch-down, the zero crossings of its vertical velocity, and lift-off.
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
        text: str = "",
        letter_height_cm: float = 1.0,
        writing_speed_cm_s: float = 3.0,
        slant_rad: float = 0.25,
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
        self.text = str(text)
        self.letter_height_cm = float(letter_height_cm)
        self.writing_speed_cm_s = float(writing_speed_cm_s)
        self.slant_rad = float(slant_rad)
        self._segments: list[_Segment] = []
        self._rest_pos: tuple[float, float] = (0.0, 0.0)
        self.truth: list[dict[str, Any]] = []
        #: calibration: the pen held still with this axis up (``+z``…), None while writing
        self._pose: str | None = None

    # -- calibration poses (a virtual technician turns the pen) ---------------------
    def set_pose(self, up: str) -> None:
        """Hold the pen still with axis ``up`` (``+x``…``-z``) pointing up (IMU calibration)."""
        from .tremor import pose_gravity

        pose_gravity(up)  # validates
        self._pose = up

    def still(self, is_still: bool = True) -> None:
        """Held still (calibration); ``False`` returns the pen to the writing hand."""
        if not is_still:
            self._pose = None

    # -- cues ---------------------------------------------------------------------
    def on_cue(self, kind: str, t_s: float) -> None:
        self._pose = None
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
        if self.text:
            self._plan_text(t0)
            return
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

    def _plan_text(self, t0: float) -> None:
        """``text`` in Hershey letters from the rest position (its baseline start)."""
        scale = self.letter_height_cm / CAP_UNITS
        ca, sa = math.cos(-self.slant_rad), math.sin(-self.slant_rad)
        x0, y0 = self._rest_pos
        here = np.array(self._rest_pos)
        t, cursor = t0, 0.0
        strokes: list[dict[str, Any]] = []
        pen_down: list[tuple[float, float]] = []
        for ch in self.text:
            if ch.lower() not in GLYPHS:
                cursor += WORD_GAP_UNITS  # a space (or a character the font table lacks)
                continue
            left, right, glyph = glyph_strokes(ch)
            for pts in glyph:
                u = np.array(pts)  # about the glyph's baseline point, turned, then put at the cursor
                if np.ptp(u, axis=0).max() < DOT_FRACTION * CAP_UNITS:  # a dot: a short downward tick
                    c = u.mean(axis=0)
                    u = np.array([[c[0], c[1] + 1.0], [c[0], c[1] - 1.0]])
                gx = cursor - left + u[:, 0] * ca - u[:, 1] * sa
                gy = u[:, 0] * sa + u[:, 1] * ca
                xy = np.column_stack([x0 + gx * scale, y0 + gy * scale])
                air = max(MIN_AIR_S, float(np.hypot(*(xy[0] - here))) / (2.0 * self.writing_speed_cm_s))
                start = (float(xy[0, 0]), float(xy[0, 1]))
                self._segments.append(
                    _Segment(t, t + air, (float(here[0]), float(here[1])), start, False, "lift")
                )
                t += air
                seg = self._letter_segment(t, xy)
                self._segments.append(seg)
                strokes += _letter_strokes(seg)
                pen_down.append((t, seg.t1))
                t, here = seg.t1, xy[-1]
            cursor += right - left
        self._rest_pos = (float(here[0]), float(here[1]))
        self.truth.append(
            {
                "kind": "write",
                "onset_s": t0,
                "end_s": t,
                "pen_down": pen_down,
                "strokes": strokes,
                "text": self.text,
                "tremor_hz": self.tremor_hz,
                "tremor_amp_cm": self.tremor_amp_cm,
            }
        )

    def _letter_segment(self, t: float, xy: np.ndarray) -> _Segment:
        """One glyph stroke through the points ``xy`` (cm): a PCHIP curve in chord length."""
        step = np.hypot(*np.diff(xy, axis=0).T)
        xy = np.vstack([xy[:1], xy[1:][step > 0]])
        chord = np.concatenate([[0.0], np.cumsum(step[step > 0])])
        length = float(chord[-1])
        path = PchipInterpolator(chord / length, xy, axis=0)
        duration = max(MIN_LETTER_STROKE_S, length / self.writing_speed_cm_s)
        start, end = (float(xy[0, 0]), float(xy[0, 1])), (float(xy[-1, 0]), float(xy[-1, 1]))
        return _Segment(t, t + duration, start, end, True, "letter", path=path)

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
        if self._pose is not None:  # held still in a calibration pose: gravity only
            from .tremor import pose_gravity

            acc = np.tile(pose_gravity(self._pose), (n, 1))
            gyro = np.zeros((n, 3))
        force = self._tip_force_clean(t)
        force = np.maximum(force + self.force_noise_n * hashed_normal(t, self.seed, 30), 0.0)
        for k in range(3):
            acc[:, k] += self.acc_noise_ms2 * hashed_normal(t, self.seed, 40 + k)
            gyro[:, k] += self.gyro_noise_dps * hashed_normal(t, self.seed, 50 + k)
        return {"pos_cm": p0, "tip_force_n": force, "acc_ms2": acc, "gyro_dps": gyro}


def _letter_strokes(seg: _Segment, n: int = 4001) -> list[dict[str, Any]]:
    """The strokes of one pen-down letter movement: cut where its vertical velocity changes sign."""
    t = np.linspace(seg.t0, seg.t1, n)
    p = seg.position(t)
    dy = np.diff(p[:, 1])
    sign = np.sign(dy)
    nz = np.flatnonzero(sign)
    cuts = [int(nz[k + 1]) for k in range(nz.size - 1) if sign[nz[k + 1]] != sign[nz[k]]]
    bounds = [0, *cuts, n - 1]
    out = []
    for a, b in itertools.pairwise(bounds):
        piece = p[a : b + 1]
        step = np.hypot(*np.diff(piece, axis=0).T)
        dt = float(t[1] - t[0])
        out.append(
            {
                "onset_s": float(t[a]),
                "duration_s": float(t[b] - t[a]),
                "start_cm": (float(piece[0, 0]), float(piece[0, 1])),
                "end_cm": (float(piece[-1, 0]), float(piece[-1, 1])),
                "length_cm": float(step.sum()),
                "peak_speed_cm_s": float(step.max() / dt) if step.size else 0.0,
            }
        )
    return out
