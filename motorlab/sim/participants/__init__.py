"""Seedable virtual participants that drive the device emulators.

A participant turns *cues* (``squeeze``, ``release``, ``hold``, ``write``,
``draw``, ``rest``, ``posture``, ``stop``) heard at a device time into physical
signals sampled at arbitrary device times, and records the noise-free ground
truth tests compare against (``truth``). Everything is a pure function of
(parameters, seed, cue times, sample time); see :mod:`motorlab.sim.models`.

* :class:`GripParticipant` — force for dynamometers and force gauges.
* :class:`TremorParticipant` — a limb holding an IMU, with a tremor.
* :class:`WriterParticipant` — a hand writing or drawing a spiral with an IMU pen.
* :class:`PinchParticipant` — tip, key and palmar pinch on a force gauge (cues ``pinch-tip``…).
"""

from .grip import GRIP_PARTICIPANT_PARAMS, GripParticipant, grip_participant_from_params
from .pinch import PINCH_RATIOS, PinchParticipant
from .tremor import TremorParticipant, pose_gravity
from .writer import WriterParticipant

__all__ = [
    "GRIP_PARTICIPANT_PARAMS",
    "PINCH_RATIOS",
    "GripParticipant",
    "PinchParticipant",
    "TremorParticipant",
    "WriterParticipant",
    "grip_participant_from_params",
    "pose_gravity",
]
