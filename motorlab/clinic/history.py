"""A client's session history: which sessions exist, when, which tasks and devices.

Only the small ``_motion.json`` sidecars are read here (no samples), so listing
a client with many sessions is quick. Session labels are numbers (``01``,
``02``…) assigned automatically by ``motorlab record``; they are ordered
numerically.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MotorlabError
from ..storage.beh import find_beh, read_beh
from ..storage.bids import find_recordings, read_header


@dataclass(frozen=True)
class RecordingInfo:
    """What one recording's sidecar says (no samples loaded)."""

    path: Path
    task: str
    hand: str
    tracksys: str
    device_model: str
    device_serial: str
    calibration_id: str
    acq_time: str
    status: str
    error: str | None = None  # why the sidecar could not be read (facts then come from the file name)
    emulated: bool = False  # recorded from a built-in emulator (virtual client), not a real person
    #: the therapist's notes typed during the recording: (seconds from its start, text)
    notes: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class BehInfo:
    """A behavioural file of the session (a dexterity task scored without a sensor,
    :mod:`motorlab.storage.beh`): what its ``_beh.json`` sidecar says."""

    path: Path
    task: str
    acq_time: str
    notes: tuple[tuple[float, str], ...] = ()
    error: str | None = None  # why the sidecar could not be read


@dataclass
class SessionInfo:
    """One session of a client: label, date, recordings (sorted by time then name) and the
    behavioural files of its dexterity tasks (``beh``)."""

    label: str
    recordings: list[RecordingInfo] = field(default_factory=list)
    beh: list[BehInfo] = field(default_factory=list)

    @property
    def number(self) -> int:
        m = re.match(r"\d+", self.label)
        return int(m.group()) if m else 0

    @property
    def start(self) -> _dt.datetime | None:
        """Earliest acquisition time of the session's recordings (None if unknown)."""
        stamps = [r.acq_time for r in self.recordings] + [b.acq_time for b in self.beh]
        times = [t for t in map(parse_acq_time, stamps) if t is not None]
        return min(times) if times else None

    @property
    def date(self) -> _dt.date | None:
        start = self.start
        return start.date() if start else None

    @property
    def tasks(self) -> list[str]:
        return sorted({r.task for r in self.recordings} | {b.task for b in self.beh})

    def recordings_of(self, task: str) -> list[RecordingInfo]:
        return [r for r in self.recordings if r.task == task]


NOTES_KEY = "MotorlabNotes"


def parse_notes(value: object) -> tuple[tuple[float, str], ...]:
    """The sidecar's ``MotorlabNotes`` (a list of ``{"time_s": float, "text": str}``) as
    ``(time_s, text)`` pairs sorted by time; absent or malformed entries are left out."""
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            continue
        try:
            t = float(item.get("time_s", float("nan")))
        except (TypeError, ValueError):
            t = float("nan")
        out.append((t, item["text"].strip()))
    return tuple(sorted(out, key=lambda n: (n[0] != n[0], n[0] if n[0] == n[0] else 0.0)))


def parse_acq_time(value: str | None) -> _dt.datetime | None:
    """An ISO 8601 ``acq_time`` as a naive local datetime (None if absent/invalid)."""
    if not value or value == "n/a":
        return None
    try:
        t = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=None)


def read_recording_info(motion_tsv: Path) -> RecordingInfo:
    """The sidecar facts of one recording (:func:`motorlab.storage.bids.read_header`, no samples);
    MotorlabError naming the file if unreadable."""
    head = read_header(motion_tsv)
    md, side = head.metadata, head.sidecar
    return RecordingInfo(
        path=head.motion_path,
        task=md.task,
        hand=md.hand,
        tracksys=md.tracksys,
        device_model=md.device_model
        if md.device_model != "n/a"
        else str(side.get("ManufacturersModelName", "n/a")),
        device_serial=md.device_serial
        if md.device_serial != "n/a"
        else str(side.get("DeviceSerialNumber", "n/a")),
        calibration_id=md.calibration_id,
        acq_time=md.acq_time,
        status=head.status,
        emulated=bool(side.get("MotorlabEmulated", False)),
        notes=parse_notes(side.get(NOTES_KEY)),
    )


def read_beh_info(beh_tsv: Path) -> BehInfo:
    """The sidecar facts of one behavioural file (task, acquisition time, notes); an unreadable
    file keeps the task of its name and the error."""
    ents = dict(p.split("-", 1) for p in beh_tsv.name.split("_")[:-1] if "-" in p)
    try:
        _, side = read_beh(beh_tsv)
    except MotorlabError as exc:
        return BehInfo(beh_tsv, ents.get("task", "n/a"), "n/a", error=str(exc))
    md = side.get("MotorlabMetadata", {}) if isinstance(side.get("MotorlabMetadata"), dict) else {}
    task = str(md.get("task") or side.get("TaskName") or ents.get("task", "n/a"))
    return BehInfo(beh_tsv, task, str(md.get("acq_time", "n/a")), parse_notes(side.get(NOTES_KEY)))


def _info_from_name(motion_tsv: Path, error: str) -> RecordingInfo:
    """What the BIDS file name tells when the sidecar is unreadable."""
    ents = dict(p.split("-", 1) for p in motion_tsv.name.split("_")[:-1] if "-" in p)
    return RecordingInfo(
        motion_tsv,
        ents.get("task", "n/a"),
        "n/a",
        ents.get("tracksys", "n/a"),
        "n/a",
        "n/a",
        "n/a",
        "n/a",
        "unreadable",
        error,
    )


def client_sessions(root: str | Path, participant: str) -> list[SessionInfo]:
    """All sessions of a client in numeric order, each with its recordings' sidecar facts."""
    folder = Path(root) / f"sub-{participant}"
    if not folder.is_dir():
        return []
    sessions: list[SessionInfo] = []
    for ses_dir in folder.glob("ses-*"):
        if not ses_dir.is_dir():
            continue
        info = SessionInfo(ses_dir.name[4:])
        for path in find_recordings(ses_dir):
            try:
                info.recordings.append(read_recording_info(path))
            except MotorlabError as exc:
                info.recordings.append(_info_from_name(path, str(exc)))
        info.recordings.sort(key=lambda r: (parse_acq_time(r.acq_time) or _dt.datetime.min, r.path.name))
        info.beh = [read_beh_info(p) for p in find_beh(root, participant, info.label)]
        sessions.append(info)
    sessions.sort(key=lambda s: (s.number, s.label))
    return sessions


def find_session(sessions: list[SessionInfo], label: str | int | None) -> SessionInfo:
    """The session with this number/label, or the latest one when ``label`` is None."""
    if not sessions:
        raise MotorlabError("no sessions recorded yet")
    if label is None:
        return sessions[-1]
    text = str(label)
    for s in sessions:
        if s.label == text or (text.isdigit() and s.number == int(text)):
            return s
    known = ", ".join(s.label for s in sessions)
    raise MotorlabError(f"no session {text}; recorded sessions: {known}")
