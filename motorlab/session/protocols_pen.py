"""Pen tasks shown on the browser's writing surface, with their template geometry.

Each task is data: what the child is asked to do, the BIDS task label, and the template
drawn on the surface (in mm, x to the right and **y up the page from the surface's bottom
edge**, the same frame as the recording's ``pos_x``/``pos_y``). The geometry is stored in
the recording's sidecar (``MotorlabTemplate``) so a deviation from the template can be
measured later.

Tasks:

* ``sentence`` (BIDS ``handwriting``): copy a sentence chosen by age and language
  (:data:`COPY_SENTENCES`), written on a ruled line (baseline and x-height guide);
* ``spiral`` (``spiral``): trace an Archimedean spiral r = b·θ from the centre outwards;
  ``variant="dynamic"`` blinks the template (BIDS ``spiraldynamic``, as the UCI
  dataset's dynamic spiral test, Isenkul et al. 2014);
* ``trace`` (``tracing``): trace a straight horizontal line from the left dot to the right one;
* ``loops`` (``loops``): write a row of joined "l" loops ("lllll") between two guide lines.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError

TASKS = ("sentence", "spiral", "trace", "loops")
LANGUAGES = ("en", "de", "fr", "es", "nl")

#: copy sentences by language and age band; "young" (< 8 y): short, common words;
#: "older" (>= 8 y): a pangram (every letter of the alphabet at least once)
COPY_SENTENCES: dict[str, dict[str, str]] = {
    "en": {"young": "I can see a big red bus.", "older": "The quick brown fox jumps over the lazy dog."},
    "de": {
        "young": "Ich sehe einen roten Ball.",
        "older": "Franz jagt im komplett verwahrlosten Taxi quer durch Bayern.",
    },
    "fr": {"young": "Je vois un gros chat gris.", "older": "Portez ce vieux whisky au juge blond qui fume."},
    "es": {"young": "Mi perro come pan.", "older": "El veloz murciélago hindú comía feliz cardillo y kiwi."},
    "nl": {"young": "Ik zie een rode bal.", "older": "Pa's wijze lynx bezag vroom het fikse aquaduct."},
}
#: the age (years) from which the longer sentence is used
OLDER_FROM_AGE_Y = 8.0


@dataclass(frozen=True)
class PenTask:
    """A task on the pen surface.

    Attributes:
        kind: one of :data:`TASKS`.
        task: BIDS task label of the recording.
        variant: ``static`` / ``dynamic`` (spiral), else ``""``.
        title: short title for the screen.
        instructions: what the child is told.
        prompt: text to copy (sentence, loops), else ``""``.
        duration_s: suggested time limit, s (the therapist may stop earlier).
        template: geometry in mm (see the module docstring): ``polylines`` (lists of
            ``[x_mm, y_mm]``), ``guides`` (horizontal guide lines ``{"y_mm", "x0_mm", "x1_mm",
            "role"}``), ``dots`` and shape parameters of the task.
        blink_period_s: period of the blinking template (dynamic spiral), else 0.
    """

    kind: str
    task: str
    variant: str
    title: str
    instructions: str
    prompt: str
    duration_s: float
    template: dict[str, Any] = field(default_factory=dict)
    blink_period_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def copy_sentence(age_y: float | None, language: str = "en") -> str:
    """The copy sentence for a child's age (years; None: the older one) and language."""
    lang = language.lower()[:2]
    if lang not in COPY_SENTENCES:
        raise ParameterError(f"language {language!r}: known are {', '.join(LANGUAGES)}")
    band = "young" if age_y is not None and age_y < OLDER_FROM_AGE_Y else "older"
    return COPY_SENTENCES[lang][band]


def spiral_polyline(
    centre_mm: tuple[float, float], b_mm_per_rad: float, turns: float, step_rad: float = 0.05
) -> np.ndarray:
    """Points of the Archimedean spiral r = b·θ, θ in [0, 2π·turns], counter-clockwise, mm."""
    theta = np.arange(0.0, 2 * math.pi * turns + step_rad / 2, step_rad)
    r = b_mm_per_rad * theta
    return np.column_stack([centre_mm[0] + r * np.cos(theta), centre_mm[1] + r * np.sin(theta)])


def pen_task(
    kind: str,
    surface_mm: tuple[float, float],
    *,
    age_y: float | None = None,
    language: str = "en",
    variant: str = "static",
) -> PenTask:
    """The task ``kind`` laid out on a surface of ``surface_mm`` = (width, height) in mm."""
    w, h = (float(v) for v in surface_mm)
    if not (w > 20 and h > 20):
        raise ParameterError(f"writing surface {w:.0f} x {h:.0f} mm is too small for a task")
    margin = min(15.0, 0.08 * w)
    if kind == "sentence":
        text = copy_sentence(age_y, language)
        x_height = 10.0 if age_y is not None and age_y < OLDER_FROM_AGE_Y else 7.0
        base = h * 0.45
        guides = [
            {"y_mm": base, "x0_mm": margin, "x1_mm": w - margin, "role": "baseline"},
            {"y_mm": base + x_height, "x0_mm": margin, "x1_mm": w - margin, "role": "x-height"},
        ]
        return PenTask(
            kind,
            "handwriting",
            "",
            "Copy the sentence",
            f"Copy this sentence in your usual writing, on the line: {text}",
            text,
            300.0,
            {"guides": guides, "x_height_mm": x_height, "baseline_y_mm": base, "language": language},
        )
    if kind == "spiral":
        if variant not in ("static", "dynamic"):
            raise ParameterError(f"spiral variant {variant!r}: use static or dynamic")
        turns = 3.0
        radius = max(10.0, min(60.0, 0.42 * min(w, h)))
        b = radius / (2 * math.pi * turns)
        centre = (w / 2, h / 2)
        pts = spiral_polyline(centre, b, turns)
        return PenTask(
            kind,
            "spiral" if variant == "static" else "spiraldynamic",
            variant,
            "Trace the spiral",
            "Start in the middle and trace the spiral outwards without lifting the pen.",
            "",
            60.0,
            {
                "polylines": [np.round(pts, 3).tolist()],
                "centre_mm": list(centre),
                "b_mm_per_rad": b,
                "turns": turns,
                "outer_radius_mm": radius,
                "direction": "counter-clockwise, y up",
            },
            blink_period_s=1.0 if variant == "dynamic" else 0.0,
        )
    if kind == "trace":
        y = h / 2
        x0, x1 = margin, w - margin
        return PenTask(
            kind,
            "tracing",
            "",
            "Trace the line",
            "Put the pen on the left dot and trace the line to the right dot.",
            "",
            30.0,
            {
                "polylines": [[[x0, y], [x1, y]]],
                "dots": [[x0, y], [x1, y]],
                "length_mm": x1 - x0,
            },
        )
    if kind == "loops":
        height = 15.0
        base = h * 0.4
        guides = [
            {"y_mm": base, "x0_mm": margin, "x1_mm": w - margin, "role": "baseline"},
            {"y_mm": base + height, "x0_mm": margin, "x1_mm": w - margin, "role": "top"},
        ]
        return PenTask(
            kind,
            "loops",
            "",
            "Write loops",
            "Write a row of joined loops, lllll, between the two lines, without lifting the pen.",
            "lllll",
            30.0,
            {"guides": guides, "loop_height_mm": height, "baseline_y_mm": base},
        )
    raise ParameterError(f"pen task {kind!r}: known are {', '.join(TASKS)}")


__all__ = ["COPY_SENTENCES", "LANGUAGES", "TASKS", "PenTask", "copy_sentence", "pen_task", "spiral_polyline"]
