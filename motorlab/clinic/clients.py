"""Clients of a clinic, kept in the dataset's BIDS ``participants.tsv``.

Each client is a pseudonymous ID (see :func:`motorlab.recording.validate_pseudonym`)
with the three facts normative tables need: birth year, sex (``F``/``M``) and
dominant hand (``right``/``left``). No names, no full dates of birth.
Columns written by other tools are kept untouched.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_open, atomic_write_json
from ..errors import MotorlabError
from ..recording import RecordingError, validate_pseudonym

PARTICIPANTS_TSV = "participants.tsv"
PARTICIPANTS_JSON = "participants.json"
COLUMNS = ("participant_id", "birth_year", "sex", "dominant_hand")
SEXES = ("F", "M")
HANDS = ("right", "left")

#: BIDS column descriptions (participants.json)
COLUMN_DESCRIPTIONS = {
    "participant_id": {"Description": "Pseudonymous client identifier (sub-<ID>); no names are stored."},
    "birth_year": {
        "Description": "Year of birth. Age at a session is computed as session year minus birth year "
        "(can be one year too high before the birthday).",
        "Units": "year",
    },
    "sex": {
        "Description": "Sex used to choose normative tables",
        "Levels": {"F": "female", "M": "male"},
    },
    "dominant_hand": {
        "Description": "Dominant (preferred writing) hand",
        "Levels": {"right": "right", "left": "left"},
    },
}


@dataclass(frozen=True)
class Client:
    """One client: pseudonym, birth year, sex (F/M), dominant hand (right/left)."""

    participant: str
    birth_year: int
    sex: str
    dominant_hand: str

    def age_in(self, year: int) -> int:
        """Age in whole years at a session held in ``year`` (= year − birth year)."""
        return int(year) - self.birth_year

    def hand_role(self, hand: str) -> str:
        """``dominant`` or ``non-dominant`` for ``right``/``left``."""
        return "dominant" if hand == self.dominant_hand else "non-dominant"


def make_client(
    participant: str, birth_year: int | str, sex: str, dominant_hand: str, today: _dt.date | None = None
) -> Client:
    """Validate the fields and return a :class:`Client` (raises MotorlabError with the reason)."""
    try:
        validate_pseudonym(participant)
    except RecordingError as exc:
        raise MotorlabError(str(exc)) from None
    year_now = (today or _dt.date.today()).year
    try:
        year = int(str(birth_year).strip())
    except ValueError:
        raise MotorlabError(f"birth year {birth_year!r} is not a year (e.g. 1958)") from None
    if not 1900 <= year <= year_now:
        raise MotorlabError(f"birth year {year} is outside 1900–{year_now}")
    sex_norm = str(sex).strip().upper()[:1]
    if sex_norm not in SEXES:
        raise MotorlabError(f"sex {sex!r} must be F or M (used to pick normative tables)")
    hand = str(dominant_hand).strip().lower()
    if hand in ("r", "l"):
        hand = {"r": "right", "l": "left"}[hand]
    if hand not in HANDS:
        raise MotorlabError(f"dominant hand {dominant_hand!r} must be right or left")
    return Client(participant, year, sex_norm, hand)


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not path.exists():
        return list(COLUMNS), []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            rows = list(reader)
            header = list(reader.fieldnames or COLUMNS)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MotorlabError(f"{path}: cannot read the client list ({exc})") from None
    if "participant_id" not in header:
        raise MotorlabError(f"{path}: no participant_id column; is this a BIDS participants.tsv?")
    return header, rows


def _write_table(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with atomic_open(path, "w", newline="") as fh:
        fh.write("\t".join(header) + "\n")
        fh.writelines(
            "\t".join(str(r.get(c) or "n/a").replace("\t", " ") for c in header) + "\n" for r in rows
        )


def _recorded_only(row: dict[str, str]) -> bool:
    """A row the recorder added for a participant never registered as a client: every
    client fact is ``n/a`` (see :func:`motorlab.storage.bids.register_participant`)."""
    return all((row.get(c) or "").strip() == "n/a" for c in COLUMNS[1:])


def _client_from_row(row: dict[str, str], path: Path) -> Client:
    pid = (row.get("participant_id") or "").strip()
    ident = pid.removeprefix("sub-")
    try:
        return make_client(ident, row.get("birth_year", ""), row.get("sex", ""), row.get("dominant_hand", ""))
    except MotorlabError as exc:
        raise MotorlabError(f"{path}: client {pid or '?'}: {exc}") from None


class ClientRegistry:
    """The clients of one clinic dataset (``<root>/participants.tsv``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.path = self.root / PARTICIPANTS_TSV

    def list(self) -> list[Client]:
        """All clients, in the file's order."""
        _, rows = _read_table(self.path)
        return [
            _client_from_row(r, self.path)
            for r in rows
            if (r.get("participant_id") or "").strip() and not _recorded_only(r)
        ]

    def get(self, participant: str) -> Client:
        """The client with this ID (with or without ``sub-``); MotorlabError if unknown."""
        ident = participant.removeprefix("sub-")
        for c in self.list():
            if c.participant == ident:
                return c
        raise MotorlabError(
            f"{self.path}: no client {ident!r}; add one with 'motorlab client add {ident} "
            "--birth-year YYYY --sex F|M --dominant right|left'"
        )

    def exists(self, participant: str) -> bool:
        ident = participant.removeprefix("sub-")
        return any(c.participant == ident for c in self.list())

    def add(self, client: Client, replace: bool = False) -> Client:
        """Add (or with ``replace`` update) a client; writes participants.tsv/.json atomically."""
        from ..storage.bids import ensure_dataset

        ensure_dataset(self.root, name="motorlab clinic")
        header, rows = _read_table(self.path)
        for col in COLUMNS:
            if col not in header:
                header.append(col)
        pid = f"sub-{client.participant}"
        values = {
            "participant_id": pid,
            "birth_year": str(client.birth_year),
            "sex": client.sex,
            "dominant_hand": client.dominant_hand,
        }
        for r in rows:
            if (r.get("participant_id") or "").strip() == pid:
                if not replace and not _recorded_only(r):
                    raise MotorlabError(
                        f"{self.path}: client {client.participant} already exists "
                        "(use --update to change their details)"
                    )
                r.update(values)
                break
        else:
            rows.append(values)
        try:
            _write_table(self.path, header, rows)
            self._write_description(header)
        except OSError as exc:
            raise MotorlabError(
                f"{self.path}: cannot write the client list ({exc.strerror or exc})"
            ) from None
        return client

    def _write_description(self, header: Sequence[str]) -> None:
        path = self.root / PARTICIPANTS_JSON
        current: dict = {}
        if path.exists():
            try:
                current = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                current = {}
        for col in header:
            if col in COLUMN_DESCRIPTIONS:
                current[col] = COLUMN_DESCRIPTIONS[col]
        atomic_write_json(path, current)
