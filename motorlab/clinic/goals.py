"""Therapist-written goals scored by Goal Attainment Scaling (GAS).

A goal is tied to one measurable metric (see :mod:`motorlab.clinic.metric_catalog`)
and describes five outcome levels, −2 (much less than expected) … 0 (expected
outcome) … +2 (much more than expected), after Kiresuk & Sherman 1968. Each level
has the therapist's words and a *threshold*: the metric value at which that
level is reached. Thresholds must move the same way from −2 to +2; rising
thresholds mean "higher is better" (grip force), falling ones "lower is better"
(tremor). A measured value scores the highest level whose threshold it reaches;
anything short of the −1 threshold scores −2.

GAS rates change after the goals were written, so a goal is not scored at its baseline:
the session the goal was set on (``baseline_session``, else any session on or before the
day it was ``created``) and earlier ones only show the baseline; scoring starts with the
first session after it (:func:`scored_at`).

Goals are derived data, stored per client in
``derivatives/motorlab/sub-<ID>/sub-<ID>_goals.json``.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..errors import MotorlabError
from .dataset import derivatives_dir
from .metric_catalog import GOAL_METRICS, goal_metric

LEVELS = (-2, -1, 0, 1, 2)
LEVEL_NAMES = {
    -2: "much less than expected",
    -1: "somewhat less than expected",
    0: "expected outcome",
    1: "somewhat more than expected",
    2: "much more than expected",
}
GOALS_VERSION = 1


@dataclass(frozen=True)
class GasLevel:
    """One GAS level: the therapist's description and the metric value that reaches it."""

    level: int
    description: str
    threshold: float


@dataclass(frozen=True)
class Goal:
    """One therapy goal.

    Attributes:
        goal_id: short identifier, ``G1``, ``G2``…
        title: the goal in the therapist's words ("open a jar with the right hand").
        metric: key from :data:`motorlab.clinic.metric_catalog.GOAL_METRICS`.
        hand: ``right``/``left`` for hand-specific metrics, else ``n/a``.
        baseline: metric value at the start (metric units).
        levels: the five :class:`GasLevel` from −2 to +2.
        weight: GAS weight (> 0; 1 = equal weights).
        target_date: ISO date by which the goal should be reached.
        created: ISO date the goal was written.
        baseline_session: label of the client's latest session when the goal was written
            ("" if unknown); that session and earlier ones are the goal's baseline.
    """

    goal_id: str
    title: str
    metric: str
    hand: str
    baseline: float
    levels: tuple[GasLevel, ...]
    weight: float = 1.0
    target_date: str = ""
    created: str = field(default_factory=lambda: _dt.date.today().isoformat())
    baseline_session: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.levels[-1].threshold > self.levels[0].threshold

    def level(self, k: int) -> GasLevel:
        return self.levels[LEVELS.index(k)]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"] = [asdict(lv) for lv in self.levels]
        return d


def attained_level(goal: Goal, value: float | None) -> int | None:
    """The GAS level (−2…+2) a measured ``value`` reaches, or None if there is no value."""
    if value is None or not math.isfinite(value):
        return None
    reached = -2
    for lv in goal.levels[1:]:
        ok = value >= lv.threshold if goal.higher_is_better else value <= lv.threshold
        if ok:
            reached = lv.level
    return reached


def make_goal(
    goal_id: str,
    title: str,
    metric: str,
    hand: str,
    baseline: float | str,
    levels: Sequence[tuple[str, float | str]] | Sequence[Mapping[str, Any]],
    weight: float | str = 1.0,
    target_date: str = "",
    created: str | None = None,
    baseline_session: str = "",
) -> Goal:
    """Validate the parts of a goal and build it; MotorlabError says what is wrong.

    ``levels`` lists the five levels from −2 to +2, each ``(description, threshold)``
    or ``{"level": k, "description": …, "threshold": …}``.
    """
    spec = goal_metric(metric)
    title = str(title).strip()
    if not title:
        raise MotorlabError("the goal needs a short description (title)")
    hand = str(hand or "n/a").strip().lower()
    if spec.per_hand and hand not in ("right", "left"):
        raise MotorlabError(f"metric {metric} is measured per hand: give --hand right or --hand left")
    if not spec.per_hand:
        hand = "n/a"
    base = _number(baseline, "baseline")
    if len(levels) != 5:
        raise MotorlabError(f"a GAS goal has exactly 5 levels (−2 … +2), got {len(levels)}")
    parsed: list[GasLevel] = []
    for k, item in zip(LEVELS, levels):
        if isinstance(item, dict):
            if int(item.get("level", k)) != k:
                raise MotorlabError(
                    f"levels must be listed in order −2, −1, 0, +1, +2 (found {item.get('level')} at {k:+d})"
                )
            desc, thr = item.get("description", ""), item.get("threshold")
        else:
            desc, thr = item
        desc = str(desc).strip() or LEVEL_NAMES[k]
        parsed.append(GasLevel(k, desc, _number(thr, f"threshold of level {k:+d}")))
    steps = [b.threshold - a.threshold for a, b in itertools.pairwise(parsed)]
    if not (all(s > 0 for s in steps) or all(s < 0 for s in steps)):
        raise MotorlabError(
            "level thresholds must all rise (higher is better) or all fall (lower is better) from −2 to +2; got "
            + ", ".join(f"{lv.threshold:g}" for lv in parsed)
        )
    rising = steps[0] > 0
    if rising != spec.higher_is_better:
        want = "rise" if spec.higher_is_better else "fall"
        raise MotorlabError(
            f"for {spec.label} {'higher' if spec.higher_is_better else 'lower'} is better, "
            f"so thresholds should {want} from −2 to +2"
        )
    w = _number(weight, "weight")
    if w <= 0:
        raise MotorlabError(f"weight must be positive, got {w:g}")
    target = str(target_date or "").strip()
    if target:
        try:
            target = _dt.date.fromisoformat(target).isoformat()
        except ValueError:
            raise MotorlabError(f"target date {target!r} is not a date like 2026-03-31") from None
    return Goal(
        goal_id,
        title,
        spec.key,
        hand,
        base,
        tuple(parsed),
        w,
        target,
        created or _dt.date.today().isoformat(),
        str(baseline_session or ""),
    )


def _session_number(label: str) -> int | None:
    digits = "".join(itertools.takewhile(str.isdigit, str(label)))
    return int(digits) if digits else None


def scored_at(goal: Goal, session_label: str, session_date: _dt.date | None) -> bool:
    """Whether a session comes after the goal's baseline, so that GAS may score the goal there.

    With a recorded ``baseline_session`` the session number must be larger; otherwise the
    session must be dated after the day the goal was ``created`` (unknown dates: not scored).
    """
    base, now = _session_number(goal.baseline_session), _session_number(session_label)
    if base is not None and now is not None:
        return now > base
    try:
        created = _dt.date.fromisoformat(goal.created)
    except ValueError:
        return False
    return session_date is not None and session_date > created


def goal_warnings(goal: Goal) -> list[str]:
    """What looks wrong with a goal that is still valid: one line each (empty when fine).

    * two neighbouring thresholds closer together than the measure's noise band (MDC95 or
      test-retest band, see :mod:`~motorlab.clinic.metric_catalog`) at the baseline: the
      level could change from measurement noise alone;
    * a baseline that already reaches the expected outcome (level 0 or better).
    """
    spec = goal_metric(goal.metric)
    out = []
    limit = spec.change_limit(goal.baseline)
    if limit is not None and spec.band is not None:
        close = [(a, b) for a, b in itertools.pairwise(goal.levels) if abs(b.threshold - a.threshold) < limit]
        if close:
            pairs = ", ".join(f"{a.level:+d}/{b.level:+d}" for a, b in close)
            out.append(
                f"thresholds of levels {pairs} are closer together than the {spec.band.name} "
                f"of {limit:.{spec.decimals}f} {spec.unit}: measurement noise alone could move the goal "
                "between these levels"
            )
    start = attained_level(goal, goal.baseline)
    if start is not None and start >= 0:
        out.append(
            f"the baseline {goal.baseline:.{spec.decimals}f} {spec.unit} already reaches level {start:+d} "
            f"(expected outcome at {goal.level(0).threshold:.{spec.decimals}f} {spec.unit}): set the expected "
            "level beyond the baseline"
        )
    return out


def _number(value: Any, what: str) -> float:
    try:
        x = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        raise MotorlabError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise MotorlabError(f"{what} must be a finite number, got {value!r}")
    return x


def goal_from_dict(d: dict[str, Any]) -> Goal:
    """Inverse of :meth:`Goal.as_dict` (validates)."""
    try:
        return make_goal(
            d.get("goal_id") or "G1",
            d["title"],
            d["metric"],
            d.get("hand", "n/a"),
            d["baseline"],
            d["levels"],
            d.get("weight", 1.0),
            d.get("target_date", ""),
            d.get("created"),
            d.get("baseline_session", ""),
        )
    except KeyError as exc:
        raise MotorlabError(f"goal is missing the field {exc.args[0]!r}") from None


class GoalStore:
    """The goals of one client (``derivatives/motorlab/sub-<ID>/sub-<ID>_goals.json``)."""

    def __init__(self, root: str | Path, participant: str):
        self.participant = participant
        self.path = derivatives_dir(root, participant) / f"sub-{participant}_goals.json"

    def load(self) -> list[Goal]:
        if not self.path.exists():
            return []
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            items = doc["goals"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise MotorlabError(f"{self.path}: unreadable goals file ({exc})") from None
        out = []
        for d in items:
            try:
                out.append(goal_from_dict(d))
            except MotorlabError as exc:
                raise MotorlabError(f"{self.path}: goal {d.get('goal_id', '?')}: {exc}") from None
        return out

    def next_id(self) -> str:
        nums = [int(g.goal_id[1:]) for g in self.load() if g.goal_id[1:].isdigit()]
        return f"G{max(nums, default=0) + 1}"

    def save(self, goals: list[Goal]) -> Path:
        doc = {
            "participant": f"sub-{self.participant}",
            "version": GOALS_VERSION,
            "goals": [g.as_dict() for g in goals],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.path, doc)
        except OSError as exc:
            raise MotorlabError(f"{self.path}: cannot save goals ({exc.strerror or exc})") from None
        return self.path

    def put(self, goal: Goal) -> Path:
        """Add a goal, or replace the goal with the same ID."""
        goals = [g for g in self.load() if g.goal_id != goal.goal_id]
        goals.append(goal)
        goals.sort(key=lambda g: (len(g.goal_id), g.goal_id))
        return self.save(goals)

    def remove(self, goal_id: str) -> Path:
        goals = self.load()
        keep = [g for g in goals if g.goal_id != goal_id]
        if len(keep) == len(goals):
            raise MotorlabError(f"{self.path}: no goal {goal_id}")
        return self.save(keep)


__all__ = [
    "GOAL_METRICS",
    "LEVELS",
    "LEVEL_NAMES",
    "GasLevel",
    "Goal",
    "GoalStore",
    "attained_level",
    "goal_from_dict",
    "goal_warnings",
    "make_goal",
    "scored_at",
]
