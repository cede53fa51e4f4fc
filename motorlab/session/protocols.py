"""Timed task protocols as plain data: a list of steps the runner walks through.

A :class:`TaskProtocol` carries its name, version and parameters; they are
stored in the recording's metadata so a result can always be traced back to
the exact protocol that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from ..errors import ParameterError

StepKind = Literal["instruction", "countdown", "trial", "rest"]

#: ASHT-style positioning for grip dynamometry (seated, shoulder adducted,
#: elbow at 90 degrees, forearm and wrist neutral); Fess 1992 via metrics.md §3.1.
GRIP_POSITION_TEXT = (
    "Sit upright, feet flat, shoulder relaxed at your side, elbow bent at 90°, "
    "forearm and wrist straight. Hold the handle in the middle position."
)


@dataclass(frozen=True)
class Step:
    """One step of a task.

    Attributes:
        kind: ``instruction`` (text only), ``countdown`` (3-2-1), ``trial``
            (the measured effort) or ``rest``.
        duration_s: length of the step in seconds.
        text: what the screen says (spoken-style cue text).
        cue: cue given at the start of the step (``squeeze``, ``write``…), sent
            to a virtual participant when the device is emulated.
        end_cue: cue at the end of the step (``release``…).
        trial: 1-based trial number within the hand, for ``trial`` steps.
        hand: ``right``/``left`` for ``trial`` steps (and the countdown before them).
        variant: what kind of trial, where a task has several (pinch: ``tip``/``key``/``palmar``);
            written into the trial event as ``variant``.
    """

    kind: StepKind
    duration_s: float
    text: str
    cue: str | None = None
    end_cue: str | None = None
    trial: int | None = None
    hand: str | None = None
    variant: str | None = None


@dataclass(frozen=True)
class TaskProtocol:
    name: str
    version: str
    task: str  # BIDS task label
    tracksys: str  # BIDS tracking-system label
    steps: tuple[Step, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    instructions: str = ""
    description: str = ""
    rate_hz: float | None = None
    hand: str = "n/a"

    @property
    def n_trials(self) -> int:
        return sum(1 for s in self.steps if s.kind == "trial")

    @property
    def total_s(self) -> float:
        return sum(s.duration_s for s in self.steps)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "parameters": dict(self.parameters)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hand_sequence(hands: tuple[str, ...], trials: int, order: str) -> list[tuple[str, int]]:
    if order == "blocked":
        return [(h, k) for h in hands for k in range(1, trials + 1)]
    if order == "alternating":
        return [(h, k) for k in range(1, trials + 1) for h in hands]
    raise ParameterError(f"trial order {order!r} is not 'alternating' or 'blocked'")


def _rest(rest_s: float) -> Step:
    return Step("rest", rest_s, "Let go and rest.")


def _check_hands(hands: tuple[str, ...]) -> None:
    for h in hands:
        if h not in ("right", "left"):
            raise ParameterError(f"hand {h!r} must be 'right' or 'left'")


def _maximal_trials(
    seq: list[tuple[str, int]],
    countdown_s: float,
    squeeze_s: float,
    rest_s: float,
    ready: str,
    text: str,
    cue: str,
    variant: str | None = None,
) -> list[Step]:
    """Countdown + maximal-effort trial for each (hand, trial number) of ``seq``, a rest between
    two of them (``ready``: the countdown's words, with ``{hand}`` or ``{Hand}`` for the hand)."""
    steps: list[Step] = []
    for i, (hand, k) in enumerate(seq):
        if i:
            steps.append(_rest(rest_s))
        words = ready.format(hand=hand, Hand=hand.capitalize())
        steps.append(Step("countdown", countdown_s, words, cue="ready", hand=hand, variant=variant))
        steps.append(
            Step("trial", squeeze_s, text, cue=cue, end_cue="release", trial=k, hand=hand, variant=variant)
        )
    return steps


def grip_protocol(
    trials: int = 3,
    hands: tuple[str, ...] = ("right",),
    order: str = "alternating",
    countdown_s: float = 3.0,
    squeeze_s: float = 5.0,
    rest_s: float = 60.0,
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Maximal grip: ``trials`` maximal squeezes per hand with countdown and rest.

    Defaults follow the ASHT recommendation (three trials per hand, about one
    minute between trials; metrics.md §3.1); all durations are configurable.
    """
    if trials < 1:
        raise ParameterError("trials must be at least 1")
    _check_hands(hands)
    steps = [Step("instruction", min(3.0, countdown_s), GRIP_POSITION_TEXT)]
    steps += _maximal_trials(
        _hand_sequence(tuple(hands), trials, order),
        countdown_s,
        squeeze_s,
        rest_s,
        "{Hand} hand — get ready…",
        "Squeeze as hard as you can! Keep squeezing!",
        "squeeze",
    )
    params = {
        "trials": trials,
        "hands": list(hands),
        "order": order,
        "countdown_s": countdown_s,
        "squeeze_s": squeeze_s,
        "rest_s": rest_s,
        "rate_hz": rate_hz,
    }
    return TaskProtocol(
        name="grip-maximal",
        version="1.0",
        task="grip",
        tracksys="gripdyn",
        steps=tuple(steps),
        parameters=params,
        instructions=GRIP_POSITION_TEXT,
        description="Maximal isometric grip, ASHT position, mean of trials per hand",
        rate_hz=rate_hz,
        hand=hands[0] if len(hands) == 1 else "both",
    )


def grip_sustained_protocol(
    hold_s: float = 10.0,
    hand: str = "right",
    countdown_s: float = 3.0,
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Sustained maximal grip: hold maximal effort for ``hold_s`` (default 10 s,
    as in Grippit's 10-s protocol; Häger-Ross & Rösblad 2002) for fatigue index
    and hold coefficient of variation."""
    _check_hands((hand,))
    steps = (
        Step("instruction", min(3.0, countdown_s), GRIP_POSITION_TEXT),
        Step("countdown", countdown_s, f"{hand.capitalize()} hand — get ready…", cue="ready", hand=hand),
        Step(
            "trial",
            hold_s,
            "Squeeze as hard as you can and KEEP squeezing until I say stop!",
            cue="hold",
            end_cue="release",
            trial=1,
            hand=hand,
        ),
    )
    return TaskProtocol(
        name="grip-sustained",
        version="1.0",
        task="gripsustained",
        tracksys="gripdyn",
        steps=steps,
        parameters={"hold_s": hold_s, "hand": hand, "countdown_s": countdown_s, "rate_hz": rate_hz},
        instructions=GRIP_POSITION_TEXT,
        description="Sustained maximal grip; fatigue index and hold CV",
        rate_hz=rate_hz,
        hand=hand,
    )


#: the same seated position for pinch, without the grip handle (Mathiowetz et al. 1984)
PINCH_POSITION_TEXT = (
    "Sit upright, feet flat, shoulder relaxed at your side, elbow bent at 90°, forearm and wrist straight."
)
#: pinch grips: (name, positioning text); Mathiowetz et al. 1984 positions via tablet.md §3.1
PINCH_GRIPS = {
    "tip": ("Tip pinch", "Tip pinch: thumb tip against the tip of the index finger."),
    "key": ("Key pinch", "Key pinch: thumb pad against the side of the index finger, like holding a key."),
    "palmar": ("Palmar pinch", "Palmar pinch: thumb pad against the pads of the index and middle fingers."),
}


def pinch_protocol(
    grips: tuple[str, ...] = ("tip", "key", "palmar"),
    trials: int = 3,
    hands: tuple[str, ...] = ("right", "left"),
    order: str = "alternating",
    countdown_s: float = 3.0,
    squeeze_s: float = 3.0,
    rest_s: float = 15.0,
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Pinch strength: for each grip (tip, key/lateral, palmar) ``trials`` maximal pinches per
    hand on any force device, seated as for grip (Mathiowetz et al. 1984: the mean of three
    trials is the most reliable score; tablet.md §3.1). Trials carry the grip as ``variant``."""
    if trials < 1:
        raise ParameterError("trials must be at least 1")
    unknown = [g for g in grips if g not in PINCH_GRIPS]
    if unknown or not grips:
        raise ParameterError(f"pinch grip {unknown or grips!r}: choose from {', '.join(PINCH_GRIPS)}")
    _check_hands(hands)
    seq = _hand_sequence(tuple(hands), trials, order)
    steps: list[Step] = []
    for grip in grips:
        title, text = PINCH_GRIPS[grip]
        if steps:
            steps.append(_rest(rest_s))
        steps.append(Step("instruction", min(3.0, countdown_s), f"{PINCH_POSITION_TEXT} {text}"))
        steps += _maximal_trials(
            seq,
            countdown_s,
            squeeze_s,
            rest_s,
            title + ", {hand} hand — get ready…",
            f"{title}: pinch as hard as you can!",
            f"pinch-{grip}",
            variant=grip,
        )
    params = {
        "grips": list(grips),
        "trials": trials,
        "hands": list(hands),
        "order": order,
        "countdown_s": countdown_s,
        "squeeze_s": squeeze_s,
        "rest_s": rest_s,
        "rate_hz": rate_hz,
    }
    return TaskProtocol(
        name="pinch-maximal",
        version="1.0",
        task="pinch",
        tracksys="pinchgauge",
        steps=tuple(steps),
        parameters=params,
        instructions=PINCH_POSITION_TEXT,
        description="Maximal tip, key and palmar pinch; mean of trials per grip and hand",
        rate_hz=rate_hz,
        hand=hands[0] if len(hands) == 1 else "both",
    )


#: Copy sentences by age band (short pangram-like sentences that use most letters).
HANDWRITING_PROMPTS = {
    "child": "The quick brown fox jumps over the lazy dog.",
    "adult": "A quick movement of the enemy will jeopardize six gunboats.",
}


def handwriting_protocol(
    duration_s: float = 60.0,
    prompt: str | None = None,
    age_band: str = "child",
    hand: str = "right",
    countdown_s: float = 3.0,
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Timed copy of a sentence with the IMU pen (default 60 s)."""
    text = prompt or HANDWRITING_PROMPTS.get(age_band, HANDWRITING_PROMPTS["child"])
    steps = (
        Step("instruction", min(3.0, countdown_s), f"Copy this sentence in your usual writing: “{text}”"),
        Step("countdown", countdown_s, "Get ready to write…", cue="ready"),
        Step("trial", duration_s, f"Write: “{text}”", cue="write", end_cue="stop", trial=1, hand=hand),
    )
    return TaskProtocol(
        name="handwriting-copy",
        version="1.0",
        task="handwriting",
        tracksys="imupen",
        steps=steps,
        parameters={
            "duration_s": duration_s,
            "prompt": text,
            "age_band": age_band,
            "hand": hand,
            "countdown_s": countdown_s,
            "rate_hz": rate_hz,
        },
        instructions=f"Copy the sentence: {text}",
        description="Timed sentence copy with an IMU pen",
        rate_hz=rate_hz,
        hand=hand,
    )


def spiral_protocol(
    time_limit_s: float = 30.0,
    hand: str = "right",
    countdown_s: float = 3.0,
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Archimedean spiral drawn from the centre outwards within a time limit."""
    text = "Draw a spiral from the centre outwards, about 4 turns, without lifting the pen."
    steps = (
        Step("instruction", min(3.0, countdown_s), text),
        Step("countdown", countdown_s, "Get ready to draw…", cue="ready"),
        Step("trial", time_limit_s, text, cue="draw", end_cue="stop", trial=1, hand=hand),
    )
    return TaskProtocol(
        name="spiral-archimedean",
        version="1.0",
        task="spiral",
        tracksys="imupen",
        steps=steps,
        parameters={
            "time_limit_s": time_limit_s,
            "hand": hand,
            "countdown_s": countdown_s,
            "rate_hz": rate_hz,
        },
        instructions=text,
        description="Archimedean spiral drawing; spiral metrics and spiral tremor",
        rate_hz=rate_hz,
        hand=hand,
    )


def tremor_protocol(
    condition: str = "rest",
    hold_s: float = 30.0,
    hand: str = "right",
    countdown_s: float = 3.0,
    tracksys: str = "imupen",
    rate_hz: float | None = None,
) -> TaskProtocol:
    """Rest or postural tremor hold (default 30 s each)."""
    texts = {
        "rest": "Rest your forearm on the table, hand relaxed and hanging over the edge. Stay still.",
        "postural": "Hold your arm straight out in front of you, palm down. Keep it there.",
    }
    if condition not in texts:
        raise ParameterError(f"tremor condition {condition!r} must be 'rest' or 'postural'")
    steps = (
        Step("instruction", min(3.0, countdown_s), texts[condition]),
        Step("countdown", countdown_s, "Get ready…", cue="ready"),
        Step(
            "trial",
            hold_s,
            texts[condition],
            cue=condition if condition == "rest" else "posture",
            end_cue="stop",
            trial=1,
            hand=hand,
        ),
    )
    return TaskProtocol(
        name=f"tremor-{condition}",
        version="1.0",
        task=f"tremor{condition}",
        tracksys=tracksys,
        steps=steps,
        parameters={
            "condition": condition,
            "hold_s": hold_s,
            "hand": hand,
            "countdown_s": countdown_s,
            "rate_hz": rate_hz,
        },
        instructions=texts[condition],
        description=f"{condition.capitalize()} tremor hold",
        rate_hz=rate_hz,
        hand=hand,
    )


#: clients up to this age (years) get the child sentence and child-friendly instructions
CHILD_MAX_AGE = 17

#: short, spoken-style texts for children, by task and step kind (None: keep the adult text)
_CHILD_TEXT: dict[str, dict[str, str]] = {
    "grip": {
        "instruction": "Sit up tall. Elbow bent, close to your side.",
        "trial": "Squeeze! Squeeze! Squeeze!",
    },
    "gripsustained": {
        "instruction": "Sit up tall. Elbow bent, close to your side.",
        "trial": "Squeeze hard and keep going… don't stop until I say!",
    },
    "pinch": {"trial": "Pinch hard, like a crab!"},
    "spiral": {
        "instruction": "Draw a snail shell! Start in the middle and go round and round.",
        "trial": "Round and round — keep the pen on the paper!",
    },
    "tremorrest": {
        "instruction": "Let your hand flop and be still, like a sleepy cat.",
        "trial": "Still like a sleepy cat…",
    },
    "tremorpostural": {
        "instruction": "Arms out straight like an aeroplane!",
        "trial": "Aeroplane arms — keep them still!",
    },
}
_CHILD_COMMON = {"countdown": "Ready? 3… 2… 1…", "rest": "Great job! Shake it out and rest."}


def for_child(protocol: TaskProtocol) -> TaskProtocol:
    """The same protocol (steps, timing, cues) with short, spoken-style texts for a child;
    ``parameters["audience"]`` records it. Pinch keeps the grip's positioning text."""
    texts = _CHILD_TEXT.get(protocol.task, {})
    steps = []
    for st in protocol.steps:
        text = texts.get(st.kind) or _CHILD_COMMON.get(st.kind)
        if st.kind == "countdown" and st.hand:
            what = (
                f"{PINCH_GRIPS[st.variant][0]}, {st.hand} hand"
                if st.variant in PINCH_GRIPS
                else f"{st.hand.capitalize()} hand"
            )
            text = f"{what}! {_CHILD_COMMON['countdown']}"
        if protocol.task == "pinch" and st.kind == "instruction":
            text = None
        steps.append(replace(st, text=text) if text else st)
    return replace(protocol, steps=tuple(steps), parameters={**protocol.parameters, "audience": "child"})
