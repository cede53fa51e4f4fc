"""Record a browser pen task: page batches -> codec -> the crash-safe BIDS writer.

A :class:`PenCapture` is one recording of one pen task (:mod:`.protocols_pen`) made on
the browser's writing surface (:mod:`motorlab.devices.codecs.browser_pen`). It opens a
:class:`~motorlab.storage.bids.RecordingWriter` at once (status ``recording``), appends
every batch of samples as it arrives (flushed to the kernel at once, fsynced at most
every 0.2 s: a crash keeps every sample that reached the server), and finalises the
sidecar on :meth:`PenCapture.close` with:

* ``SamplingFrequency``: 1 / median sample interval (the device's real rate, from the
  event timestamps; never assumed), and ``MotorlabSamplingTime`` (median, mean, SD,
  5th/95th percentile and largest interval in ms, duplicates, the rate while in range);
* ``MotorlabPenCapture``: screen, surface, calibration (or ``"uncalibrated": true``),
  browser, clock origin (``time_origin_epoch_ms``: epoch ms of recording time 0);
* ``MotorlabTemplate``: the task and its template geometry in mm (x right, y up);
* ``MotorlabPenStats`` and ``MotorlabSamplesSent``/``MotorlabSamplesLost``: what the page
  said it sent against what arrived;
* quality flags in the metadata (``quality_flags``): ``screen_uncalibrated``,
  ``non_pen_input`` (mouse/touch samples refused), ``no_coalesced_events`` (the page could not
  see the samples between frames), ``pressure_constant`` (a pen without a
  pressure sensor reports 0.5: Pointer Events spec), ``samples_lost``, ``pointer_cancel``.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..devices.codecs.browser_pen import (
    CHANNELS,
    UNCALIBRATED_MM_PER_PX,
    WIRE_FIELDS,
    BrowserPenCodec,
)
from ..devices.screen_calibration import ScreenInfo
from ..devices.spec import BROWSER_PEN
from ..errors import ParameterError
from ..recording import Event, Metadata, validate_pseudonym
from ..signal.timestamps import GAP_FACTOR
from ..storage.bids import RecordingWriter
from .protocols_pen import PenTask

#: tracking-system label of browser pen recordings
TRACKSYS = "browserpen"


@dataclass(frozen=True)
class SurfaceInfo:
    """The writing surface on the page: size in CSS px and the screen calibration."""

    width_px: float
    height_px: float
    mm_per_px: float = UNCALIBRATED_MM_PER_PX
    calibration_id: str | None = None
    calibration_method: str = ""

    @property
    def calibrated(self) -> bool:
        return self.calibration_id is not None

    @property
    def size_mm(self) -> tuple[float, float]:
        return self.width_px * self.mm_per_px, self.height_px * self.mm_per_px


def sampling_time_stats(t_s: np.ndarray) -> dict[str, Any]:
    """Sampling-time statistics of event timestamps (s): intervals in ms, the in-range rate in Hz.

    Intervals longer than ``GAP_FACTOR`` x the median are pen-out-of-range gaps and are left out
    of the mean/SD/rate (they are counted as ``gaps``).
    """
    t = np.asarray(t_s, dtype=np.float64)
    d = np.diff(t) * 1000.0
    if d.size == 0:
        return {"n_samples": int(t.size), "n_intervals": 0}
    pos = d[d > 0]
    med = float(np.median(pos)) if pos.size else float("nan")
    regular = d[(d > 0) & (d <= GAP_FACTOR * med)] if pos.size else d[:0]
    return {
        "n_samples": int(t.size),
        "n_intervals": int(d.size),
        "median_interval_ms": med,
        "mean_interval_ms": float(regular.mean()) if regular.size else float("nan"),
        "sd_interval_ms": float(regular.std(ddof=1)) if regular.size > 1 else float("nan"),
        "p05_interval_ms": float(np.percentile(regular, 5)) if regular.size else float("nan"),
        "p95_interval_ms": float(np.percentile(regular, 95)) if regular.size else float("nan"),
        "max_interval_ms": float(d.max()),
        "min_interval_ms": float(d.min()),
        "duplicates": int(np.count_nonzero(d == 0)),
        "backwards": int(np.count_nonzero(d < 0)),
        "gaps": int(np.count_nonzero(d > GAP_FACTOR * med)) if pos.size else 0,
        "rate_in_range_hz": 1000.0 / float(regular.mean()) if regular.size else float("nan"),
        "rate_source": "browser event timestamps (PointerEvent.timeStamp)",
    }


def _flag(code: str, severity: str, message: str, count: int = 1) -> dict[str, Any]:
    return {"code": code, "severity": severity, "index": None, "count": int(count), "message": message}


@dataclass
class PenCapture:
    """One pen-task recording in progress (see the module docstring).

    Args:
        root: BIDS dataset folder.
        participant, session: pseudonym and session label.
        task: the pen task (its BIDS label, template and instructions).
        surface: writing-surface size and screen calibration.
        screen: the page's screen (for the record).
        t0_ms: page clock (``performance.now()``) at recording time 0.
        time_origin_ms: the page's ``performance.timeOrigin`` (epoch ms).
        hand: ``right`` / ``left`` / ``n/a``.
        user_agent: the browser, for the record.
        coalesced_events: the page has ``getCoalescedEvents()`` (a secure context): False means
            the samples between screen frames were lost (flag ``no_coalesced_events``).
        participant_info: facts for norms (``age``...), never names.
    """

    root: Path
    participant: str
    session: str
    task: PenTask
    surface: SurfaceInfo
    screen: ScreenInfo
    t0_ms: float
    time_origin_ms: float = float("nan")
    hand: str = "n/a"
    user_agent: str = ""
    coalesced_events: bool = True
    participant_info: dict[str, Any] = field(default_factory=dict)
    _times: list[np.ndarray] = field(default_factory=list)
    _pressure: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        validate_pseudonym(self.participant)
        if not (self.surface.width_px > 0 and self.surface.height_px > 0):
            raise ParameterError(f"writing surface {self.surface.width_px} x {self.surface.height_px} px")
        self.codec = BrowserPenCodec(self.t0_ms, self.surface.mm_per_px, self.surface.height_px)
        md = Metadata(
            participant=self.participant,
            session=self.session,
            task=self.task.task,
            tracksys=TRACKSYS,
            hand=self.hand,
            device_model=BROWSER_PEN.model,
            device_serial=self.screen.key(),
            manufacturer="n/a",
            calibration_id=self.surface.calibration_id or "n/a",
            acq_time=_dt.datetime.now().isoformat(timespec="milliseconds"),
            extra={
                "device_protocol": BROWSER_PEN.protocol,
                "pen_task": self.task.kind,
                **self.participant_info,
            },
        )
        w_mm, h_mm = self.surface.size_mm
        origin = self.time_origin_ms + self.t0_ms if math.isfinite(self.time_origin_ms) else None
        self.writer = RecordingWriter(
            self.root,
            md,
            CHANNELS,
            BROWSER_PEN.nominal_rate_hz,
            extra_sidecar={
                "TaskDescription": self.task.title,
                "Instructions": self.task.instructions,
                "MotorlabNominalRateHz": BROWSER_PEN.nominal_rate_hz,
                "MotorlabPenCapture": {
                    "wire_fields": list(WIRE_FIELDS),
                    "time_origin_epoch_ms": origin,
                    "user_agent": self.user_agent[:300],
                    "coalesced_events": self.coalesced_events,
                    "screen": {
                        "width_px": self.screen.width_px,
                        "height_px": self.screen.height_px,
                        "device_pixel_ratio": self.screen.device_pixel_ratio,
                    },
                    "surface": {
                        "width_px": self.surface.width_px,
                        "height_px": self.surface.height_px,
                        "width_mm": w_mm,
                        "height_mm": h_mm,
                    },
                    "coordinates": "pos_x/pos_y in cm from the surface's bottom-left corner, y up; "
                    "pos_x_px/pos_y_px CSS px from its top-left corner, y down",
                    "calibration": {
                        "id": self.surface.calibration_id,
                        "mm_per_px": self.surface.mm_per_px,
                        "method": self.surface.calibration_method,
                    }
                    if self.surface.calibrated
                    else {
                        "uncalibrated": True,
                        "mm_per_px": self.surface.mm_per_px,
                        "assumed": "96 CSS px per inch",
                    },
                },
                "MotorlabTemplate": self.task.to_dict(),
            },
        )

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def n_samples(self) -> int:
        return self.writer.n_samples

    def feed(self, message: Any) -> int:
        """Decode one ``samples`` message and append it to the file; returns samples stored."""
        batch = self.codec.feed(message)
        if batch.t_s.size:
            self.writer.append(batch.t_s, batch.values)
            self._times.append(batch.t_s)
            self._pressure.append(batch.values[:, 2][batch.values[:, 3] > 0])
        for ev in batch.events:
            self.writer.add_event(Event(ev.t_s, 0.0, ev.kind))
        return int(batch.t_s.size)

    def mark(self, onset_s: float, trial_type: str, **extra: Any) -> None:
        """An event row (task start/stop, template blink...)."""
        self.writer.add_event(Event(float(onset_s), 0.0, trial_type, dict(extra)))

    def close(self, n_sent: int | None = None) -> dict[str, Any]:
        """Finalise the recording; ``n_sent``: pen+other samples the page says it sent."""
        st = self.codec.stats
        t = np.concatenate(self._times) if self._times else np.zeros(0)
        timing = sampling_time_stats(t)
        flags: list[dict[str, Any]] = []
        name = self.writer.path.name
        if not self.surface.calibrated:
            flags.append(
                _flag(
                    "screen_uncalibrated",
                    "warning",
                    f"{name}: the screen was not calibrated; mm assume 96 CSS px per inch and may be wrong",
                )
            )
        if not self.coalesced_events:
            flags.append(
                _flag(
                    "no_coalesced_events",
                    "warning",
                    f"{name}: the page had no getCoalescedEvents() (not a secure context: served over the "
                    "network?); pen samples between screen frames were lost",
                )
            )
        refused = st.refused_mouse + st.refused_touch + st.refused_unknown
        if refused:
            flags.append(
                _flag(
                    "non_pen_input",
                    "info",
                    f"{name}: {refused} mouse/touch samples were refused (not stored): "
                    f"{st.refused_mouse} mouse, {st.refused_touch} touch, {st.refused_unknown} unknown",
                    refused,
                )
            )
        lost = None if n_sent is None else int(n_sent) - st.received - st.malformed
        if lost or st.malformed or st.seq_gaps:
            flags.append(
                _flag(
                    "samples_lost",
                    "error",
                    f"{name}: {lost or 0} samples sent but not received, {st.malformed} malformed, "
                    f"{st.seq_gaps} batch sequence gaps",
                    (lost or 0) + st.malformed,
                )
            )
        p = np.concatenate(self._pressure) if self._pressure else np.zeros(0)
        if p.size >= 10 and float(np.ptp(p)) == 0.0:
            flags.append(
                _flag(
                    "pressure_constant",
                    "warning",
                    f"{name}: pen pressure is constant ({p[0]:g}) on the surface: the pen or its driver "
                    "reports no pressure (Windows + Wacom: enable Windows Ink)",
                    int(p.size),
                )
            )
        if st.cancels:
            flags.append(
                _flag(
                    "pointer_cancel",
                    "info",
                    f"{name}: the browser cancelled the pen stream {st.cancels} times "
                    "(pen out of range or palm rejection); strokes end there",
                    st.cancels,
                )
            )
        md = self.writer.metadata
        self.writer.update_metadata(extra={**md.extra, "quality_flags": flags})
        med = timing.get("median_interval_ms", float("nan"))
        if isinstance(med, float) and math.isfinite(med) and med > 0:
            self.writer.sampling_rate = 1000.0 / med
        stats = dict(vars(st))
        self.writer.close(
            MotorlabSamplingTime=timing,
            MotorlabPenStats=stats,
            MotorlabSamplesSent=n_sent,
            MotorlabSamplesLost=lost,
        )
        return {
            "n_samples": self.writer.n_samples,
            "lost": lost,
            "stats": stats,
            "timing": timing,
            "flags": flags,
        }


__all__ = ["TRACKSYS", "PenCapture", "SurfaceInfo", "sampling_time_stats"]
