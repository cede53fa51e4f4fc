"""A client's session history: which sessions exist, when, which tasks and devices.

Only the small ``_motion.json`` sidecars are read here (no samples), so listing
a client with many sessions is quick. Session labels are numbers (``01``,
``02``…) assigned automatically by ``motorlab record``; they are ordered
numerically.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MotorlabError
from ..storage.bids import META_KEY, STATUS_KEY, find_recordings


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


@dataclass
class SessionInfo:
    """One session of a client: label, date and recordings (sorted by time then name)."""

    label: str
    recordings: list[RecordingInfo] = field(default_factory=list)

    @property
    def number(self) -> int:
        m = re.match(r"\d+", self.label)
        return int(m.group()) if m else 0

    @property
    def start(self) -> _dt.datetime | None:
        """Earliest acquisition time of the session's recordings (None if unknown)."""
        times = [t for t in (parse_acq_time(r.acq_time) for r in self.recordings) if t is not None]
        return min(times) if times else None

    @property
    def date(self) -> _dt.date | None:
        start = self.start
        return start.date() if start else None

    @property
    def tasks(self) -> list[str]:
        return sorted({r.task for r in self.recordings})

    def recordings_of(self, task: str) -> list[RecordingInfo]:
        return [r for r in self.recordings if r.task == task]


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
    """The sidecar facts of one recording; MotorlabError naming the file if unreadable."""
    side = motion_tsv.with_name(motion_tsv.name.replace("_motion.tsv", "_motion.json"))
    try:
        sidecar = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MotorlabError(f"{side}: sidecar missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MotorlabError(f"{side}: not valid JSON ({exc})") from None
    md = sidecar.get(META_KEY) or {}
    ents = dict(p.split("-", 1) for p in motion_tsv.name.split("_")[:-1] if "-" in p)
    return RecordingInfo(
        path=motion_tsv,
        task=str(md.get("task") or ents.get("task", "n/a")),
        hand=str(md.get("hand", "n/a")),
        tracksys=str(md.get("tracksys") or ents.get("tracksys", "n/a")),
        device_model=str(md.get("device_model") or sidecar.get("ManufacturersModelName") or "n/a"),
        device_serial=str(md.get("device_serial") or sidecar.get("DeviceSerialNumber") or "n/a"),
        calibration_id=str(md.get("calibration_id", "n/a")),
        acq_time=str(md.get("acq_time", "n/a")),
        status=str(sidecar.get(STATUS_KEY, "complete")),
    )


def _info_from_name(motion_tsv: Path, error: str) -> RecordingInfo:
    """What the BIDS file name tells when the sidecar is unreadable."""
    ents = dict(p.split("-", 1) for p in motion_tsv.name.split("_")[:-1] if "-" in p)
    return RecordingInfo(motion_tsv, ents.get("task", "n/a"), "n/a", ents.get("tracksys", "n/a"), "n/a", "n/a",
                         "n/a", "n/a", "unreadable", error)


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
