"""Who is recorded, and the task defaults that follow from it (shared by every ``record`` task).

:func:`resolve_client` looks the ID up in the clinic's registry: a registered client gives
the age (session year minus birth year), sex and dominant hand; an unregistered ID is
refused with a one-line hint unless ``--new`` is given (then it must pass the clinic's
pseudonym rule, :mod:`motorlab.clinic.pseudonyms`). :class:`ClientContext` turns the facts
into defaults: ``--hand`` is the dominant hand, the handwriting sentence and the
instructions are the child ones up to :data:`~motorlab.session.protocols.CHILD_MAX_AGE`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from ..session.protocols import CHILD_MAX_AGE

if TYPE_CHECKING:
    from ..session.recorder import RecordingTarget


@dataclass(frozen=True)
class ClientContext:
    """The client's facts as stored with recordings (``age``, ``sex``, ``dominant_hand``;
    empty for an unregistered ``--new`` ID) and the defaults they imply."""

    participant: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return bool(self.facts)

    @property
    def dominant_hand(self) -> str:
        return str(self.facts.get("dominant_hand") or "right")

    @property
    def child(self) -> bool:
        age = self.facts.get("age")
        return age is not None and int(age) <= CHILD_MAX_AGE

    @property
    def age_band(self) -> str:
        """Handwriting sentence set: ``child`` up to CHILD_MAX_AGE, else ``adult`` (also unknown age)."""
        return "child" if self.child else "adult"

    def hand(self, given: str | None) -> str:
        """``--hand`` as given, else the dominant hand."""
        return given or self.dominant_hand

    def hands(self, given: str | None) -> tuple[str, ...]:
        """``--hand`` for two-handed tasks: ``both`` is dominant first, else one hand."""
        hand = self.hand(given)
        if hand == "both":
            other = "left" if self.dominant_hand == "right" else "right"
            return (self.dominant_hand, other)
        return (hand,)


def acquisition_time(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """``--acq-time``: an ISO date/time not in the future (None: now)."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"--acq-time {text!r} is not an ISO date/time such as 2026-11-15T10:30"
        ) from None
    now = now or (dt.datetime.now(when.tzinfo) if when.tzinfo else dt.datetime.now())
    if when > now + dt.timedelta(minutes=1):
        raise ParameterError(f"--acq-time {text!r} is in the future (now is {now:%Y-%m-%dT%H:%M})")
    return when


def resolve_client(args: argparse.Namespace, year: int) -> ClientContext:
    """The client of ``args.participant`` in ``args.out`` (see the module docstring)."""
    from ..clinic.clients import ClientRegistry
    from ..clinic.pseudonyms import check_new_pseudonym
    from ..recording import validate_pseudonym

    root: Path = args.out
    ident = args.participant
    validate_pseudonym(ident)
    registry = ClientRegistry(root)
    if registry.exists(ident):
        c = registry.get(ident)
        return ClientContext(ident, {"age": c.age_in(year), "sex": c.sex, "dominant_hand": c.dominant_hand})
    if not getattr(args, "new", False):
        raise ParameterError(
            f"{ident} is not a registered client in {root}: check the ID, or register it with "
            f"`motorlab client add {ident} --birth-year YYYY --sex F|M --dominant right|left` "
            "(or pass --new to record without age/sex/hand)"
        )
    check_new_pseudonym(ident, root)
    return ClientContext(ident)


def session_for_today(out: Path, participant: str, when=None) -> str:
    """The session of that day (default today) if one exists as the latest session, else the next number."""
    import datetime as dt
    import json

    from ..storage.bids import list_sessions, next_session_label

    today = (when.date() if when else dt.date.today()).isoformat()
    for label in reversed(list_sessions(out, participant)):
        folder = out / f"sub-{participant}" / f"ses-{label}"
        for side in [*folder.glob("motion/*_motion.json"), *folder.glob("beh/*_beh.json")]:
            try:
                acq = json.loads(side.read_text()).get("MotorlabMetadata", {}).get("acq_time", "")
            except (OSError, ValueError):
                continue
            if acq.startswith(today):
                return label
        break
    return next_session_label(out, participant)


def make_target(args: argparse.Namespace) -> tuple[RecordingTarget, ClientContext]:
    """Where the recordings of this command go, and whom they are of (refuses unknown IDs)."""
    from ..session.recorder import RecordingTarget

    acq_time = acquisition_time(args.acq_time)
    client = resolve_client(args, (acq_time or dt.datetime.now()).year)
    target = RecordingTarget(
        args.out,
        args.participant,
        session=args.session or session_for_today(args.out, args.participant, acq_time),
        acq_time=acq_time,
        participant_info=client.facts,
    )
    return target, client
