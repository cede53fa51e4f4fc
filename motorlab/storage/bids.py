"""Recordings in the BIDS motion layout, written crash-safely while they stream.

Layout (BIDS 1.10 motion; entity order sub, ses, task, tracksys, run)::

    <root>/dataset_description.json
    <root>/sub-<p>/ses-<s>/sub-<p>_ses-<s>_scans.tsv           filename, acq_time
    <root>/sub-<p>/ses-<s>/motion/sub-…_task-…_tracksys-…[_run-<n>]_motion.tsv     no header
                                                 …_channels.tsv  name component type tracked_point units
                                                 …_motion.json   TaskName, SamplingFrequency, …
                                                 …_events.tsv    onset duration trial_type …

The first column of ``_motion.tsv`` is a ``LATENCY`` channel (seconds from the
recording start), which BIDS allows for unevenly sampled data; it carries the
recording's timestamps so that reading back is lossless (values are written
with 17 significant digits, missing values as ``n/a``).

Crash safety: :class:`RecordingWriter` writes every sidecar when the recording
starts (status ``recording`` in ``_motion.json``), appends each block of
samples and each event to its TSV as it arrives and flushes it to the kernel at
once (so it survives SIGKILL of the process), and ``fsync``s at most every
``fsync_interval_s``. :meth:`RecordingWriter.close` finalises the sidecars.
A recording whose process died is still readable (a torn last line is ignored)
and :func:`recover` finalises it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import atomic_write_json, atomic_write_text
from ..errors import MotorlabError, MotorlabWarning, RecordingError
from ..recording import Channel, Event, Metadata, Recording, validate_label
from ..signal.timestamps import QualityFlag
from .integrity import (
    ColumnPlan,
    ValueCheck,
    _printable,
    check_time,
    column_plan,
    count_lines,
    iter_blocks,
    merge_flags,
)

if TYPE_CHECKING:
    from typing_extensions import Self

BIDS_VERSION = "1.10.0"
STATUS_KEY = "MotorlabStatus"  # "recording" while streaming, "complete" / "recovered" after
META_KEY = "MotorlabMetadata"
#: rows of ``_motion.tsv`` when the recording was finalised (checked on reading)
COUNT_KEY = "MotorlabSampleCount"
PARTICIPANTS_TSV = "participants.tsv"
#: ``_events.json``: what the columns of ``_events.tsv`` mean (BIDS column descriptions)
EVENT_COLUMNS: dict[str, dict[str, Any]] = {
    "onset": {"Description": "Start of the event, seconds from the first sample", "Units": "s"},
    "duration": {"Description": "Length of the event (0 for an instant)", "Units": "s"},
    "trial_type": {
        "Description": "Kind of event",
        "Levels": {
            "trial": "one attempt of the task (a squeeze, a hold, a drawing)",
            "cue": "an instruction shown to the participant (see the cue column)",
            "trial_status": "a later change of a trial's status (e.g. marked invalid)",
        },
    },
    "trial": {"Description": "Trial number within the task, counted per hand from 1"},
    "hand": {"Description": "Hand used", "Levels": {"right": "right hand", "left": "left hand"}},
    "status": {
        "Description": "Whether the trial counts",
        "Levels": {
            "valid": "the trial is analysed",
            "invalid": "marked invalid by the examiner",
            "incomplete": "the recording stopped during the trial",
        },
    },
    "cue": {"Description": "Instruction shown at a cue event (ready, squeeze, release, write…)"},
    "value": {"Description": "A number attached to the event (its meaning depends on trial_type)"},
    "info": {"Description": "Further event attributes as a JSON object"},
}
_LATENCY = Channel("latency", "LATENCY", "s")
_NUM_FMT = "%.17g"
_EVENT_BASE = ("onset", "duration", "trial_type")
#: fixed extra event columns; any other keys go to the JSON column ``info``
_EVENT_EXTRA = ("trial", "hand", "status", "cue", "value")
_TYPE_COUNT_KEYS = {
    "ACCEL": "ACCELChannelCount",
    "ANGACCEL": "ANGACCELChannelCount",
    "GYRO": "GYROChannelCount",
    "JNTANG": "JNTANGChannelCount",
    "LATENCY": "LATENCYChannelCount",
    "MAGN": "MAGNChannelCount",
    "MISC": "MISCChannelCount",
    "ORNT": "ORNTChannelCount",
    "POS": "POSChannelCount",
    "VEL": "VELChannelCount",
}


# ----------------------------------------------------------------------- naming
def motion_stem(md: Metadata, run: int | None = None) -> str:
    stem = f"sub-{md.participant}_ses-{md.session}_task-{md.task}_tracksys-{md.tracksys}"
    return f"{stem}_run-{run}" if run else stem


def motion_dir(root: Path, md: Metadata) -> Path:
    return Path(root) / f"sub-{md.participant}" / f"ses-{md.session}" / "motion"


def _sidecar(motion_tsv: Path, suffix: str) -> Path:
    return motion_tsv.with_name(motion_tsv.name.replace("_motion.tsv", suffix))


def _motion_tsv_from(path: Path) -> Path:
    """Accept any file of a recording (``_motion.tsv``/``.json``, ``_channels.tsv``, ``_events.tsv``)."""
    name = path.name
    for suffix in ("_motion.json", "_channels.tsv", "_events.tsv", "_motion.tsv"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + "_motion.tsv")
    raise MotorlabError(f"{path}: not a BIDS motion file (expected …_motion.tsv)")


def ensure_dataset(root: Path, name: str = "motorlab recordings") -> None:
    """Create ``dataset_description.json`` (and README) if the folder has none."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        desc = root / "dataset_description.json"
        if not desc.exists():
            from .. import __version__

            _atomic_write_json(
                desc,
                {
                    "Name": name,
                    "BIDSVersion": BIDS_VERSION,
                    "DatasetType": "raw",
                    "GeneratedBy": [{"Name": "motorlab", "Version": __version__}],
                },
            )
        readme = root / "README"
        if not readme.exists():
            readme.write_text(
                "Fine-motor recordings made with motorlab (BIDS motion layout).\n"
                "Participants are identified by pseudonyms only.\n"
            )
    except OSError as exc:
        raise MotorlabError(f"{root}: cannot write the dataset folder ({exc.strerror or exc})") from None


def _atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_json(path, obj, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _format_rows(arr: np.ndarray) -> str:
    buf = io.StringIO()
    np.savetxt(buf, arr, fmt=_NUM_FMT, delimiter="\t")
    text = buf.getvalue()
    return text.replace("nan", "n/a") if "nan" in text else text


def _fmt_cell(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "n/a" if np.isnan(v) else repr(v)
    return str(v).replace("\t", " ").replace("\n", " ")


# ------------------------------------------------------------------------ writer
class RecordingWriter:
    """Streams one recording to disk in the BIDS motion layout.

    Args:
        root: dataset root folder (created if needed).
        metadata: participant/session/task/tracksys/device description.
        channels: data channels (the LATENCY time column is added in front).
        sampling_rate: nominal sampling rate, Hz.
        extra_sidecar: additional ``_motion.json`` keys (TaskDescription, Instructions…).
        fsync_interval_s: how often data is forced to stable storage.
    """

    def __init__(
        self,
        root: str | Path,
        metadata: Metadata,
        channels: Sequence[Channel],
        sampling_rate: float,
        extra_sidecar: dict[str, Any] | None = None,
        fsync_interval_s: float = 0.2,
    ):
        self.root = Path(root)
        self.metadata = metadata
        self.channels = list(channels)
        self.sampling_rate = float(sampling_rate)
        self.extra_sidecar = dict(extra_sidecar or {})
        self.fsync_interval_s = fsync_interval_s
        self.n_samples = 0
        self.first_t = float("nan")
        self.last_t = float("nan")
        self._last_fsync = 0.0
        self._event_keys: list[str] = []
        self._closed = False
        ensure_dataset(self.root)
        folder = motion_dir(self.root, metadata)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            run = None
            while (folder / f"{motion_stem(metadata, run)}_motion.tsv").exists():
                run = 2 if run is None else run + 1
            self.path = folder / f"{motion_stem(metadata, run)}_motion.tsv"
            self._write_channels()
            self._write_sidecar(status="recording")
            self._write_events_json()
            self._add_scan_row()
            register_participant(self.root, metadata.participant)
            # Both handles live as long as the writer; close() and __exit__ close them.
            self._data = open(self.path, "a", encoding="ascii", newline="\n")  # noqa: SIM115
            self._events_path = _sidecar(self.path, "_events.tsv")
            self._events = open(self._events_path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except OSError as exc:
            raise MotorlabError(
                f"{exc.filename or folder}: cannot write the recording ({exc.strerror or exc})"
            ) from None
        self._event_keys = list(_EVENT_EXTRA)
        self._events.write("\t".join([*_EVENT_BASE, *self._event_keys, "info"]) + "\n")
        self._sync(force=True)

    # -- sidecars -------------------------------------------------------------------
    def _write_channels(self) -> None:
        rows = [_LATENCY, *self.channels]
        with open(_sidecar(self.path, "_channels.tsv"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write("name\tcomponent\ttype\ttracked_point\tunits\n")
            fh.writelines(f"{c.name}\t{c.component}\t{c.type}\t{c.tracked_point}\t{c.units}\n" for c in rows)

    def _sidecar_dict(self, status: str, **final: Any) -> dict[str, Any]:
        md = self.metadata
        counts: dict[str, int] = dict.fromkeys(_TYPE_COUNT_KEYS.values(), 0)
        for c in [_LATENCY, *self.channels]:
            key = _TYPE_COUNT_KEYS[c.type]
            counts[key] = counts.get(key, 0) + 1
        tracked = {c.tracked_point for c in self.channels if c.tracked_point != "n/a"}
        from .. import __version__

        d: dict[str, Any] = {
            "TaskName": md.task,
            "SamplingFrequency": self.sampling_rate,
            "SamplingFrequencyEffective": "n/a",
            "TrackingSystemName": md.tracksys,
            "Manufacturer": md.manufacturer,
            "ManufacturersModelName": md.device_model,
            "DeviceSerialNumber": md.device_serial,
            "SoftwareVersions": f"motorlab {__version__}; firmware {md.firmware}",
            "MotionChannelCount": len(self.channels) + 1,
            "TrackedPointsCount": len(tracked),
            **counts,
            "MissingValues": "n/a",
        }
        d.update(self.extra_sidecar)
        d.update(final)
        d[STATUS_KEY] = status
        d[META_KEY] = asdict(md)
        return d

    def _write_sidecar(self, status: str, **final: Any) -> None:
        _atomic_write_json(_sidecar(self.path, "_motion.json"), self._sidecar_dict(status, **final))

    def _write_events_json(self) -> None:
        from .. import __version__

        desc = {
            **EVENT_COLUMNS,
            "StimulusPresentation": {"SoftwareName": "motorlab", "SoftwareVersion": __version__},
        }
        _atomic_write_json(_sidecar(self.path, "_events.json"), desc)

    def _add_scan_row(self) -> None:
        md = self.metadata
        scans = self.path.parent.parent / f"sub-{md.participant}_ses-{md.session}_scans.tsv"
        new = not scans.exists()
        with open(scans, "a", encoding="utf-8", newline="\n") as fh:
            if new:
                fh.write("filename\tacq_time\n")
            fh.write(f"motion/{self.path.name}\t{md.acq_time}\n")

    # -- streaming ------------------------------------------------------------------
    def append(self, timestamps: np.ndarray, values: np.ndarray) -> None:
        """Append samples (timestamps s, values (n, n_channels)) and flush them."""
        t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        v = np.asarray(values, dtype=np.float64).reshape(t.size, len(self.channels))
        if t.size == 0:
            return
        self._data.write(_format_rows(np.column_stack([t, v])))
        self._data.flush()
        if self.n_samples == 0:
            self.first_t = float(t[0])
        self.n_samples += t.size
        self.last_t = float(t[-1])
        self._sync()

    def add_event(self, event: Event) -> None:
        """Append one event row and flush it."""
        cells = [_fmt_cell(float(event.onset)), _fmt_cell(float(event.duration)), event.trial_type]
        cells += [_fmt_cell(event.extra.get(k)) for k in self._event_keys]
        rest = {k: v for k, v in event.extra.items() if k not in _EVENT_EXTRA}
        cells.append(json.dumps(rest, default=_json_default) if rest else "n/a")
        self._events.write("\t".join(cells) + "\n")
        self._events.flush()
        self._sync()

    def _sync(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_fsync >= self.fsync_interval_s:
            for fh in (self._data, self._events):
                os.fsync(fh.fileno())
            self._last_fsync = now

    def update_metadata(self, **changes: Any) -> None:
        """Change metadata during the recording (e.g. calibration id, drops)."""
        self.metadata = self.metadata.replace(**changes)
        self._write_sidecar(status="recording")

    def close(self, **final_sidecar: Any) -> Path:
        """Finalise: flush everything and write the complete sidecar."""
        if self._closed:
            return self.path
        self._closed = True
        self._sync(force=True)
        self._data.close()
        self._events.close()
        sort_events_file(self._events_path)
        duration = self.last_t - self.first_t if self.n_samples > 1 else 0.0
        eff = (self.n_samples - 1) / duration if duration > 0 else "n/a"
        self._write_sidecar(
            "complete",
            SamplingFrequencyEffective=eff,
            RecordingDuration=duration,
            **{COUNT_KEY: self.n_samples},
            **final_sidecar,
        )
        return self.path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------- dataset files
def register_participant(root: Path, participant: str) -> None:
    """Keep ``participants.tsv`` in step with the subjects written: append a row (other
    columns ``n/a``) for a participant it does not list yet. A dataset without the file
    is left without one (no participant table is then valid BIDS too)."""
    path = Path(root) / PARTICIPANTS_TSV
    if not path.exists():
        return
    pid = f"sub-{participant}"
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordingError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise MotorlabError(f"{path}: cannot read ({exc.strerror or exc})") from None
    lines = text.splitlines()
    if not lines:
        return
    header = lines[0].split("\t")
    if "participant_id" not in header:
        raise RecordingError(f"{path}: no participant_id column; is this a BIDS participants.tsv?")
    col = header.index("participant_id")
    listed = {ln.split("\t")[col].strip() for ln in lines[1:] if len(ln.split("\t")) > col}
    if pid in listed:
        return
    row = ["n/a"] * len(header)
    row[col] = pid
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as fh:
            fh.write(("" if raw.endswith(b"\n") else "\n") + "\t".join(row) + "\n")
    except OSError as exc:
        raise MotorlabError(f"{path}: cannot add {pid} ({exc.strerror or exc})") from None


def sort_events_file(path: Path) -> None:
    """Rewrite an ``_events.tsv`` with its rows in onset order (stable; BIDS asks for it).

    Events are appended as they happen (a trial's row when it ends, after its cues), so
    the streamed file is not sorted; this runs when the recording is closed or recovered.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    lines = text.split("\n")
    if len(lines) < 3:
        return
    header, rows = lines[0], [ln for ln in lines[1:] if ln]

    def onset(line: str) -> float:
        try:
            return float(line.split("\t", 1)[0])
        except ValueError:
            return float("inf")

    ordered = sorted(rows, key=onset)
    if ordered != rows:
        atomic_write_text(path, "\n".join([header, *ordered]) + "\n")


# ------------------------------------------------------------------------ reader
def _decode_error(path: Path, raw: bytes, exc: UnicodeDecodeError) -> RecordingError:
    line = raw.count(b"\n", 0, exc.start) + 1
    return RecordingError(f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text")


def _read_text(path: Path) -> str:
    """A sidecar's text; one-line errors naming it for a missing, unreadable or non-UTF-8 file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RecordingError(f"{path}: sidecar missing") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, raw, exc) from None


def _read_table(path: Path) -> list[dict[str, str]]:
    text = _read_text(path)
    if "\x00" in text:
        raise RecordingError(f"{path}: contains NUL bytes (a damaged or binary file)")
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    except csv.Error as exc:
        raise RecordingError(f"{path}: not a tab-separated table ({exc})") from None


def _cell(value: str | None) -> Any:
    if value is None or value == "n/a" or value == "":
        return None
    try:
        f = float(value)
    except ValueError:
        return value
    return int(f) if f.is_integer() and re.fullmatch(r"-?\d+", value) else f


@dataclass(frozen=True)
class RecordingHeader:
    """Everything about a stored recording except its samples (sidecars only).

    ``channels`` are in motorlab units (a ``kgf`` force column is described as ``N``);
    ``plans`` say how each stored column is converted, ``flags`` what the sidecars showed.
    """

    motion_path: Path
    sidecar: dict[str, Any]
    channels: list[Channel]  # LATENCY included, motorlab units
    sampling_rate: float
    metadata: Metadata
    events: list[Event]
    plans: tuple[ColumnPlan, ...] = ()
    flags: tuple[QualityFlag, ...] = ()

    @property
    def status(self) -> str:
        return str(self.sidecar.get(STATUS_KEY, "complete"))

    @property
    def has_latency(self) -> bool:
        return bool(self.channels) and self.channels[0].type == "LATENCY"

    @property
    def data_channels(self) -> list[Channel]:
        return self.channels[1:] if self.has_latency else list(self.channels)


def _sampling_rate(sidecar: dict[str, Any], side_path: Path) -> float:
    value = sidecar.get("SamplingFrequency")
    try:
        fs = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fs = float("nan")
    if value is None:
        raise RecordingError(f"{side_path}: SamplingFrequency missing")
    if not (np.isfinite(fs) and fs > 0):
        shown = _printable(json.dumps(value) if not isinstance(value, float) else repr(value))
        raise RecordingError(f"{side_path}: SamplingFrequency must be a positive number of Hz, got {shown}")
    return fs


def read_header(path: str | Path) -> RecordingHeader:
    """Read the sidecars of a recording (any of its files) without its samples."""
    motion = _motion_tsv_from(Path(path))
    side_path, chan_path = _sidecar(motion, "_motion.json"), _sidecar(motion, "_channels.tsv")
    if not motion.exists():
        raise RecordingError(f"{motion}: file not found")
    side_text = _read_text(side_path)
    try:
        sidecar = json.loads(side_text)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{side_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(sidecar, dict):
        raise RecordingError(f"{side_path}: not a JSON object")
    rows = _read_table(chan_path)
    missing = [c for c in ("name", "type", "units") if rows and c not in rows[0]]
    if missing:
        raise RecordingError(f"{chan_path}: missing column(s) {', '.join(missing)}")
    try:
        stored = [
            Channel(
                r["name"] or "",
                r["type"] or "",
                r["units"] or "n/a",
                r.get("component") or "n/a",
                r.get("tracked_point") or "n/a",
            )
            for r in rows
        ]
    except (KeyError, ValueError) as exc:
        raise RecordingError(f"{chan_path}: invalid channel table ({_printable(str(exc), 120)})") from None
    if not stored:
        raise RecordingError(f"{chan_path}: no channels")
    plans, flags = column_plan(stored, chan_path)
    fs = _sampling_rate(sidecar, side_path)
    md_raw = sidecar.get(META_KEY)
    if md_raw is not None and not isinstance(md_raw, dict):
        raise RecordingError(f"{side_path}: {META_KEY} must be a JSON object")
    md_dict = dict(md_raw or {}) or _metadata_from_name(motion)
    try:
        metadata = Metadata(**md_dict)
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"{side_path}: invalid {META_KEY} ({_printable(str(exc), 120)})") from None
    if not isinstance(metadata.extra, dict):
        raise RecordingError(f"{side_path}: {META_KEY}.extra must be a JSON object")
    events = read_events(_sidecar(motion, "_events.tsv"))
    channels = [p.channel for p in plans]
    return RecordingHeader(motion, sidecar, channels, fs, metadata, events, tuple(plans), tuple(flags))


def _load_motion(path: Path, head: RecordingHeader) -> tuple[np.ndarray, bool, ValueCheck]:
    """Parse the headerless TSV straight into one preallocated array (units converted,
    inf and implausible values blanked); a torn last line is ignored.
    Returns (array, torn, value check)."""
    n_cols = len(head.channels)
    try:
        n_lines, torn = count_lines(path)
        arr = np.empty((n_lines, n_cols), dtype=np.float64)
        check = ValueCheck(head.plans)
        row = 0
        for _, block in iter_blocks(path, n_cols):
            k = block.shape[0]
            check.apply(block, row)
            arr[row : row + k] = block
            row += k
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return (arr if row == n_lines else arr[:row]), torn, check


def read_recording(path: str | Path) -> Recording:
    """Read a recording written by :class:`RecordingWriter` (or any BIDS motion file).

    Units of ``_channels.tsv`` are converted into motorlab's (``kgf`` -> N…); what the
    checks of :mod:`motorlab.storage.integrity` find is a one-line :class:`RecordingError`
    naming the file, or a quality flag in ``metadata.extra["quality_flags"]``. Without a
    LATENCY column, timestamps are n / SamplingFrequency (flagged ``no_time_column``).
    """
    head = read_header(path)
    motion = head.motion_path
    name = motion.name
    arr, torn, values = _load_motion(motion, head)
    n_rows = arr.shape[0]
    flags: list[QualityFlag] = [*head.flags, *values.flags(name)]
    expected = head.sidecar.get(COUNT_KEY)
    if isinstance(expected, int) and head.status != "recording":
        if n_rows < expected:
            raise RecordingError(
                f"{motion}: truncated: {n_rows} rows but {expected} when the recording was finalised "
                f"({COUNT_KEY} in {_sidecar(motion, '_motion.json').name})"
            )
        if n_rows > expected:
            flags.append(
                QualityFlag(
                    "sample_count_mismatch",
                    "error",
                    f"{name}: {n_rows} rows but {expected} when the recording was finalised: "
                    "rows were added to the file later",
                    expected,
                    n_rows - expected,
                )
            )
    segments: tuple[tuple[int, int], ...] = ()
    if head.has_latency:
        timecheck = check_time(arr[:, 0], arr, head.sampling_rate, name)
        if timecheck.kept_rows is not None:
            arr = timecheck.kept_rows
        flags += timecheck.flags
        segments = timecheck.segments
        timestamps, data = arr[:, 0], arr[:, 1:]
    else:
        timestamps, data = np.arange(n_rows) / head.sampling_rate, arr
        flags.append(
            QualityFlag(
                "no_time_column",
                "warning",
                f"{name}: no LATENCY time column; samples assumed evenly spaced at "
                f"{head.sampling_rate:g} Hz (dropped samples would shift later events)",
            )
        )
        stated = head.sidecar.get("RecordingDuration")
        duration = float(stated) if isinstance(stated, (int, float)) else float("nan")
        implied = (n_rows - 1) / head.sampling_rate if n_rows > 1 else 0.0
        if (
            np.isfinite(duration)
            and duration > 0
            and abs(implied - duration) > max(2.0 / head.sampling_rate, 0.01 * duration)
        ):
            flags.append(
                QualityFlag(
                    "duration_mismatch",
                    "error",
                    f"{name}: {n_rows} rows at {head.sampling_rate:g} Hz span {implied:.4g} s but "
                    f"RecordingDuration is {duration:.4g} s: without a time column events are misplaced",
                )
            )
    if head.status == "recording":
        warnings.warn(
            f"{name}: recording was not finalised (process stopped?); "
            f"read {n_rows} samples{' and dropped a torn last line' if torn else ''}; "
            "run 'motorlab recover' to finalise it",
            stacklevel=2,
        )
    md = head.metadata
    if flags or len(segments) > 1:
        extra = dict(md.extra)
        extra["quality_flags"] = merge_flags(extra.get("quality_flags") or [], flags)
        if len(segments) > 1:
            extra["timestamp_segments"] = [[int(a), int(b)] for a, b in segments]
        md = md.replace(extra=extra)
    try:
        return Recording(timestamps, data, head.data_channels, head.sampling_rate, md, head.events)
    except RecordingError as exc:
        raise RecordingError(f"{motion}: {exc}") from None


def _metadata_from_name(motion: Path) -> dict[str, Any]:
    ents = dict(part.split("-", 1) for part in motion.name.split("_")[:-1] if "-" in part)
    return {
        "participant": ents.get("sub", "unknown0"),
        "session": ents.get("ses", "01"),
        "task": ents.get("task", "unknown"),
        "tracksys": ents.get("tracksys", "device"),
    }


def read_events(path: Path) -> list[Event]:
    """Events of ``_events.tsv`` (none if the file is missing). A torn last row (the writer
    died mid-line) is ignored; any other row whose onset or duration is not a number is a
    one-line :class:`RecordingError` naming the file and line, and so is an onset that is not
    finite or a duration that is negative or not finite (BIDS: >= 0 or n/a)."""
    if not path.exists():
        return []
    rows = _read_table(path)
    torn = not _read_text(path).endswith("\n")
    out = []
    for i, r in enumerate(rows):
        try:
            onset = float(r["onset"])
            duration = float(r["duration"] if r["duration"] != "n/a" else 0)
        except (KeyError, TypeError, ValueError):
            if torn and i == len(rows) - 1:
                continue
            if "onset" not in r:
                raise RecordingError(f"{path}: no onset column") from None
            cells = f"{r.get('onset')!s} / {r.get('duration')!s}"
            raise RecordingError(
                f"{path}: line {i + 2}: onset/duration {_printable(cells, 40)!r} is not a number of seconds"
            ) from None
        if not math.isfinite(onset) or not math.isfinite(duration) or duration < 0:
            # (BIDS: onset is a number of seconds, duration >= 0 or n/a; a negative or infinite span
            # would silently stretch a trial to the next one)
            raise RecordingError(
                f"{path}: line {i + 2}: onset {r['onset']!s} s, duration {r['duration']!s} s: "
                "an onset must be finite and a duration finite and not negative"
            )
        extra = {
            k: c
            for k, v in r.items()
            if isinstance(k, str) and k not in (*_EVENT_BASE, "info") and isinstance(v, str)
            if (c := _cell(v)) is not None
        }
        info = r.get("info")
        if isinstance(info, str) and info not in ("", "n/a"):
            try:
                parsed = json.loads(info)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                extra.update(parsed)
            else:
                extra["info"] = info
        out.append(Event(onset, duration, r.get("trial_type") or "n/a", extra))
    return apply_trial_status(out)


def apply_trial_status(events: list[Event]) -> list[Event]:
    """Fold later ``trial_status`` events (a trial marked invalid after it ended)
    into the status of the trial they refer to; the marks stay as an audit trail."""
    out = list(events)
    for mark in (e for e in events if e.trial_type == "trial_status"):
        for i in range(len(out) - 1, -1, -1):
            ev = out[i]
            if (
                ev.trial_type == "trial"
                and ev.onset <= mark.onset
                and ev.extra.get("trial") == mark.extra.get("trial")
                and ev.extra.get("hand") == mark.extra.get("hand")
            ):
                out[i] = Event(
                    ev.onset, ev.duration, "trial", {**ev.extra, "status": mark.extra.get("status")}
                )
                break
    return out


def write_recording(rec: Recording, root: str | Path, extra_sidecar: dict[str, Any] | None = None) -> Path:
    """Write a complete in-memory recording; returns the ``_motion.tsv`` path."""
    w = RecordingWriter(root, rec.metadata, rec.channels, rec.sampling_rate, extra_sidecar)
    w.append(rec.timestamps, rec.data)
    for ev in rec.events:
        w.add_event(ev)
    return w.close()


def recover(path: str | Path) -> tuple[Path, int]:
    """Finalise a recording whose writer died. Returns (motion path, samples kept).

    The torn last line (if any) is cut off, the sidecar gets its duration and
    effective rate and the status ``recovered``.
    """
    motion = _motion_tsv_from(Path(path))
    side = _sidecar(motion, "_motion.json")
    try:
        sidecar = json.loads(side.read_text(encoding="utf-8"))
        raw = motion.read_bytes()
    except FileNotFoundError as exc:
        raise MotorlabError(f"{exc.filename}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{side}: not valid JSON ({_printable(str(exc), 80)})") from None
    if raw and not raw.endswith(b"\n"):
        with open(motion, "r+b") as fh:
            fh.truncate(raw.rfind(b"\n") + 1)
    ev_path = _sidecar(motion, "_events.tsv")
    if ev_path.exists():
        ev_raw = ev_path.read_bytes()
        if ev_raw and not ev_raw.endswith(b"\n"):
            with open(ev_path, "r+b") as fh:
                fh.truncate(ev_raw.rfind(b"\n") + 1)
        sort_events_file(ev_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(motion)
    if sidecar.get(STATUS_KEY) == "recording":
        sidecar[STATUS_KEY] = "recovered"
        sidecar[COUNT_KEY] = _load_motion(motion, read_header(motion))[0].shape[
            0
        ]  # rows as the reader counts them
        sidecar["RecordingDuration"] = rec.duration
        eff = rec.effective_sampling_rate()
        sidecar["SamplingFrequencyEffective"] = eff if np.isfinite(eff) else "n/a"
        _atomic_write_json(side, sidecar)
    return motion, rec.n_samples


def recording_status(path: str | Path) -> str:
    motion = _motion_tsv_from(Path(path))
    try:
        side = json.loads(_sidecar(motion, "_motion.json").read_text(encoding="utf-8"))
        return str(side.get(STATUS_KEY, "complete")) if isinstance(side, dict) else "unknown"
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        return "unknown"


def find_recordings(*paths: str | Path) -> list[Path]:
    """All ``*_motion.tsv`` files under the given datasets/folders/files, sorted."""
    out: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.update(p.rglob("*_motion.tsv"))
        elif p.exists():
            out.add(_motion_tsv_from(p))
        else:
            raise MotorlabError(f"{p}: no such file or folder")
    return sorted(out)


def iter_motion_rows(path: str | Path, chunk_rows: int = 100_000) -> Iterator[np.ndarray]:
    """Yield the motion data (LATENCY column included) a block of rows at a time, converted
    like :func:`read_recording` (units, inf and implausible values as NaN), for analyses
    that must keep memory flat on hour-long recordings. ``chunk_rows`` sets the block size
    roughly (about 100 bytes of text per row are assumed). Values read as missing are
    reported at the end as a :class:`~motorlab.errors.MotorlabWarning` per flag (the batch
    keeps warnings with the recording's results)."""
    head = read_header(path)
    check = ValueCheck(head.plans)
    row = 0
    for _, block in iter_blocks(head.motion_path, len(head.channels), max(chunk_rows, 1) * 100):
        if block.shape[0]:
            check.apply(block, row)
            row += block.shape[0]
            yield block
    for flag in check.flags(head.motion_path.name):
        warnings.warn(f"{flag.code}: {flag.message}", MotorlabWarning, stacklevel=2)


def next_session_label(root: str | Path, participant: str) -> str:
    """The next automatic session label (``01``, ``02`` …) for a participant."""
    validate_label(participant, "participant ID")
    folder = Path(root) / f"sub-{participant}"
    nums = [
        int(m.group(1))
        for d in (folder.iterdir() if folder.exists() else [])
        if (m := re.fullmatch(r"ses-(\d+)", d.name))
    ]
    return f"{max(nums, default=0) + 1:02d}"


def list_sessions(root: str | Path, participant: str) -> list[str]:
    folder = Path(root) / f"sub-{participant}"
    return sorted(d.name[4:] for d in folder.glob("ses-*") if d.is_dir()) if folder.exists() else []


def iter_recordings(paths: Iterable[Path]) -> Iterator[Recording]:
    for p in paths:
        yield read_recording(p)
