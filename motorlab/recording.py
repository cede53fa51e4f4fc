"""The typed :class:`Recording`: the one object that flows between layers.

A recording is what one tracking system (one device) measured during one task:
float64 timestamps in seconds, a 2-D float array of samples (rows = samples,
columns = channels), channel descriptions in BIDS-motion terms, metadata and
events. Storage in the BIDS motion layout lives in :mod:`motorlab.storage.bids`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import RecordingError
from .signal.timestamps import MAX_SPAN_S  # refused on construction; finer checks: timestamp_quality()

if TYPE_CHECKING:
    from .signal.timestamps import QualityFlag, TimestampReport

#: Channel types allowed by BIDS motion (``_channels.tsv`` ``type`` column).
#: Force has no BIDS type of its own and is stored as ``MISC`` with units ``N``.
BIDS_CHANNEL_TYPES = frozenset(
    {"ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL"}
)
_COMPONENTS = frozenset({"x", "y", "z", "quat_x", "quat_y", "quat_z", "quat_w", "n/a"})
_LABEL = re.compile(r"^[A-Za-z0-9]+$")


def validate_label(value: str, what: str = "label") -> str:
    """Return ``value`` if it is a valid BIDS label (alphanumeric), else raise."""
    if not isinstance(value, str) or not _LABEL.match(value):
        raise RecordingError(
            f"{what} {value!r} is not a valid BIDS label: use letters and digits only (e.g. P001)"
        )
    return value


def validate_pseudonym(value: str) -> str:
    """Validate a participant pseudonym.

    Recordings are of patients, so only pseudonymous IDs are stored. A valid
    pseudonym is a BIDS label (letters and digits, at most 24 characters) that
    contains at least one digit; a purely alphabetic value (``"JaneDoe"``) looks
    like a name and is refused.
    """
    validate_label(value, "participant ID")
    if len(value) > 24:
        raise RecordingError(f"participant ID {value!r} is too long (max 24 characters)")
    if not any(ch.isdigit() for ch in value):
        raise RecordingError(
            f"participant ID {value!r} looks like a name; use a pseudonym with digits such as P001"
        )
    return value


@dataclass(frozen=True)
class Channel:
    """One column of a recording (one row of BIDS ``_channels.tsv``).

    Attributes:
        name: unique channel name, e.g. ``"force"`` or ``"acc_x"``.
        type: BIDS motion type (ACCEL, GYRO, MAGN, ORNT, POS, VEL, MISC, LATENCY…).
        units: unit string, e.g. ``"N"``, ``"m/s^2"``, ``"deg/s"``.
        component: ``x``/``y``/``z``/``quat_*`` or ``n/a``.
        tracked_point: body or device point the channel describes, e.g. ``"handle"``.
    """

    name: str
    type: str
    units: str
    component: str = "n/a"
    tracked_point: str = "n/a"

    def __post_init__(self) -> None:
        if self.type not in BIDS_CHANNEL_TYPES:
            raise RecordingError(f"channel {self.name!r}: type {self.type!r} is not a BIDS motion type")
        if self.component not in _COMPONENTS:
            raise RecordingError(f"channel {self.name!r}: component {self.component!r} is invalid")


def find_force_channel(channels: Sequence[Channel]) -> str | None:
    """The grip force channel: ``force``, else the first MISC channel in N other than a pen's
    ``tip_force``; None when there is none (the one rule for analysis and recording)."""
    names = [c.name for c in channels]
    if "force" in names:
        return "force"
    for ch in channels:
        if ch.type == "MISC" and ch.units == "N" and ch.name != "tip_force":
            return ch.name
    return None


@dataclass(frozen=True)
class Event:
    """An annotated moment or interval (one row of BIDS ``_events.tsv``).

    ``onset`` and ``duration`` are in seconds from the start of the recording.
    ``trial_type`` names the event, e.g. ``trial``, ``cue``, ``pen_down``,
    ``gap``. ``extra`` holds further columns (``trial``, ``hand``, ``status``…).
    """

    onset: float
    duration: float
    trial_type: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metadata:
    """Who, what and how a recording was made. Only pseudonymous IDs are kept."""

    participant: str
    session: str = "01"
    task: str = "grip"
    tracksys: str = "device"
    hand: str = "n/a"
    device_model: str = "n/a"
    device_serial: str = "n/a"
    firmware: str = "n/a"
    manufacturer: str = "n/a"
    calibration_id: str = "n/a"
    acq_time: str = "n/a"  # ISO 8601, local time of the first sample
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_pseudonym(self.participant)
        validate_label(self.session, "session")
        validate_label(self.task, "task")
        validate_label(self.tracksys, "tracking system")

    def replace(self, **changes: Any) -> Metadata:
        return dataclasses.replace(self, **changes)


@dataclass
class Recording:
    """Samples of one tracking system during one task.

    Attributes:
        timestamps: float64 array (n,), seconds from the recording start.
        data: float64 array (n, n_channels) in the channels' units; NaN = missing.
        channels: one :class:`Channel` per data column.
        sampling_rate: nominal sampling rate in Hz.
        metadata: :class:`Metadata`.
        events: list of :class:`Event`, sorted by onset.
    """

    timestamps: np.ndarray
    data: np.ndarray
    channels: list[Channel]
    sampling_rate: float
    metadata: Metadata
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64).reshape(-1)
        data = np.asarray(self.data, dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        self.data = data
        self.channels = list(self.channels)
        if data.shape != (self.timestamps.size, len(self.channels)):
            raise RecordingError(
                f"data shape {data.shape} does not match {self.timestamps.size} timestamps "
                f"x {len(self.channels)} channels"
            )
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise RecordingError(f"duplicate channel names in {names}")
        if not (self.sampling_rate > 0):
            raise RecordingError(f"sampling rate must be positive, got {self.sampling_rate}")
        self.events = sorted(self.events, key=lambda e: e.onset)
        if self.timestamps.size > 1:
            self._check_span()

    def _check_span(self) -> None:
        t = self.timestamps
        lo, hi = float(np.min(t)), float(np.max(t))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            finite = t[np.isfinite(t)]
            if finite.size < 2:
                return
            lo, hi = float(finite.min()), float(finite.max())
        if hi - lo > MAX_SPAN_S:
            md = self.metadata
            raise RecordingError(
                f"sub-{md.participant} ses-{md.session} task-{md.task}: timestamps span {hi - lo:.4g} s "
                f"(first {t[0]:.6g} s, last {t[-1]:.6g} s), more than {MAX_SPAN_S / 86400:g} days: "
                "rows on different clocks or in the wrong unit; check them with "
                "motorlab.signal.timestamps.timestamp_clean or import the file with 'motorlab import'"
            )

    # -- access ---------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.timestamps.size)

    @property
    def duration(self) -> float:
        """Seconds between first and last sample (0 for < 2 samples)."""
        return float(self.timestamps[-1] - self.timestamps[0]) if self.n_samples > 1 else 0.0

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def channel_index(self, name: str) -> int:
        try:
            return self.channel_names.index(name)
        except ValueError:
            raise KeyError(f"no channel {name!r}; have {self.channel_names}") from None

    def channel(self, name: str) -> np.ndarray:
        """The samples of one channel as a 1-D view."""
        return self.data[:, self.channel_index(name)]

    def channels_of_type(self, ch_type: str) -> list[Channel]:
        return [c for c in self.channels if c.type == ch_type]

    def select(self, names: Sequence[str]) -> np.ndarray:
        """Samples of several channels as an (n, k) array."""
        return self.data[:, [self.channel_index(n) for n in names]]

    def events_of(self, trial_type: str) -> list[Event]:
        return [e for e in self.events if e.trial_type == trial_type]

    def crop(self, tmin: float, tmax: float) -> Recording:
        """Samples with ``tmin <= t < tmax`` (events kept if they start inside)."""
        keep = (self.timestamps >= tmin) & (self.timestamps < tmax)
        return dataclasses.replace(
            self,
            timestamps=self.timestamps[keep],
            data=self.data[keep],
            events=[e for e in self.events if tmin <= e.onset < tmax],
        )

    def with_events(self, events: Iterable[Event]) -> Recording:
        return dataclasses.replace(self, events=[*self.events, *events])

    def effective_sampling_rate(self) -> float:
        """Samples per second actually observed (NaN for < 2 samples)."""
        if self.n_samples < 2 or self.duration <= 0:
            return float("nan")
        return (self.n_samples - 1) / self.duration

    # -- timestamp quality ---------------------------------------------------------
    def timestamp_quality(self, **kwargs: Any) -> TimestampReport:
        """Timestamp quality control of this recording against its nominal rate.

        Mixed clocks, backwards steps, duplicates, gaps, rate changes and implausible
        spans as named flags with one-line messages, and the contiguous forward
        segments; see :func:`motorlab.signal.timestamps.timestamp_quality` (keyword
        arguments go there). Nothing is changed.
        """
        from .signal.timestamps import timestamp_quality

        md = self.metadata
        kwargs.setdefault("source", f"sub-{md.participant} ses-{md.session} task-{md.task}")
        return timestamp_quality(self.timestamps, self.sampling_rate, **kwargs)

    @property
    def quality_flags(self) -> tuple[QualityFlag, ...]:
        """The quality flags recorded with this recording (``metadata.extra["quality_flags"]``,
        set by importers and carried into the BIDS sidecar and result tables)."""
        from .signal.timestamps import QualityFlag

        raw = (self.metadata.extra or {}).get("quality_flags") or []
        return tuple(f if isinstance(f, QualityFlag) else QualityFlag.from_dict(f) for f in raw)

    @property
    def timestamp_segments(self) -> list[tuple[int, int]]:
        """``[start, stop)`` sample ranges in which time never steps back: from
        ``metadata.extra["timestamp_segments"]`` when an importer recorded them, else computed."""
        stored = (self.metadata.extra or {}).get("timestamp_segments")
        if stored:
            return [(int(a), int(b)) for a, b in stored]
        from .signal.timestamps import timestamp_segments

        return timestamp_segments(self.timestamps)

    def __repr__(self) -> str:  # short, for notebooks and logs
        md = self.metadata
        return (
            f"<Recording sub-{md.participant} ses-{md.session} task-{md.task} "
            f"tracksys-{md.tracksys}: {self.n_samples} samples x {len(self.channels)} ch "
            f"({', '.join(self.channel_names)}), {self.sampling_rate:g} Hz, "
            f"{self.duration:.2f} s, {len(self.events)} events>"
        )
