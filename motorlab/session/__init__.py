"""Live sessions: run a timed task protocol on a device and store it crash-safely.

* :class:`Recorder` — records one :class:`TaskProtocol` from an open
  :class:`~motorlab.devices.Device` into a :class:`RecordingTarget` and publishes
  :class:`LiveSnapshot` s on its :class:`LiveFeed` for any view;
  :func:`record_task` opens, records and closes in one call.
* Protocols: :func:`grip_protocol`, :func:`grip_sustained_protocol`,
  :func:`handwriting_protocol`, :func:`spiral_protocol`, :func:`tremor_protocol`.
* Controls: :class:`ControlQueue`, :class:`ScriptedKeys` (the terminal's keys are
  in :mod:`motorlab.ui.keys`).
* :class:`Acquisition` — driver blocks -> calibration -> time axis -> writer; the
  same acquisition path serves device calibration (:meth:`Acquisition.collect`).
"""

from .acquisition import Acquisition, SignalTracker
from .calibration import CalibrationChoice, calibration_kind, load_calibration
from .controls import Control, ControlQueue, ControlSource, ScriptedKeys, parse_key_script
from .live import LinkState, LiveFeed, LiveSnapshot, SignalState, StepState, Subscriber, WriterState
from .protocols import (
    Step,
    TaskProtocol,
    grip_protocol,
    grip_sustained_protocol,
    handwriting_protocol,
    spiral_protocol,
    tremor_protocol,
)
from .recorder import Recorder, RecordingTarget, RecordResult, record_task

__all__ = [
    "Acquisition",
    "CalibrationChoice",
    "Control",
    "ControlQueue",
    "ControlSource",
    "LinkState",
    "LiveFeed",
    "LiveSnapshot",
    "RecordResult",
    "Recorder",
    "RecordingTarget",
    "ScriptedKeys",
    "SignalState",
    "SignalTracker",
    "Step",
    "StepState",
    "Subscriber",
    "TaskProtocol",
    "WriterState",
    "calibration_kind",
    "grip_protocol",
    "grip_sustained_protocol",
    "handwriting_protocol",
    "load_calibration",
    "parse_key_script",
    "record_task",
    "spiral_protocol",
    "tremor_protocol",
]
