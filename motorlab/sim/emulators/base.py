"""What every emulator offers the host: the :class:`~motorlab.devices.device.Emulator` protocol.

:class:`ParticipantDevice` implements it on top of a virtual participant and a
device clock: :meth:`~ParticipantDevice.cue` passes a cue to the participant at
the current device time, :attr:`~ParticipantDevice.truth` is the participant's
ground truth, and the *virtual technician* methods load the sensor
(:class:`~motorlab.sim.participants.GripParticipant`) or turn it into a pose
(:class:`~motorlab.sim.participants.TremorParticipant`) during calibration.
"""

from __future__ import annotations

from typing import Any, Protocol

from ...errors import DeviceError
from ..participants import GripParticipant, TremorParticipant, WriterParticipant


class ByteLink(Protocol):
    """The device side of a byte stream to the host (a pty, or BLE notifications)."""

    link_path: str

    def write(self, data: bytes) -> bool: ...

    def close(self) -> None: ...


class Participant(Protocol):
    """A virtual participant: hears cues at device times and keeps its ground truth."""

    def on_cue(self, kind: str, t_s: float) -> None: ...

    @property
    def truth(self) -> Any: ...


class ParticipantDevice:
    """Base of the emulators: a participant on a device clock, seen through the Emulator protocol.

    Subclasses set :attr:`participant` and :attr:`sim_name` (used in messages) and
    implement :meth:`device_time`.
    """

    participant: Participant
    #: ``sim://NAME`` of the emulator, for messages
    sim_name: str = "sim://"

    def device_time(self) -> float:
        """Seconds on the device clock."""
        raise NotImplementedError

    def cue(self, kind: str) -> float:
        """The participant hears ``kind`` now; returns the device time (s) of the cue."""
        t = self.device_time()
        self.participant.on_cue(kind, t)
        return t

    @property
    def truth(self) -> Any:
        return self.participant.truth

    def apply_load(self, newtons: float | None) -> None:
        """Virtual technician: hang ``newtons`` N on the load cell (None removes the load)."""
        if not isinstance(self.participant, GripParticipant):
            raise DeviceError(f"{self.sim_name}: this emulated device has no load cell to load")
        self.participant.set_static_load(newtons)

    def set_pose(self, up: str) -> None:
        """Virtual technician: hold the device still with axis ``up`` pointing up."""
        if not isinstance(self.participant, (TremorParticipant, WriterParticipant)):
            raise DeviceError(f"{self.sim_name}: this emulated device cannot be turned into poses")
        self.participant.still(True)
        self.participant.set_pose(up)
