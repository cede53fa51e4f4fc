"""A limb holding an IMU, with a sinusoidal tremor (drives the WitMotion emulators)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...units import STANDARD_GRAVITY as G_MS2
from ..models import hashed_normal

_POSES = {
    "+x": (1.0, 0.0, 0.0),
    "-x": (-1.0, 0.0, 0.0),
    "+y": (0.0, 1.0, 0.0),
    "-y": (0.0, -1.0, 0.0),
    "+z": (0.0, 0.0, 1.0),
    "-z": (0.0, 0.0, -1.0),
}
#: (roll, pitch) in degrees (aerospace ZYX Euler) for each axis pointing up
_POSE_EULER = {
    "+z": (0.0, 0.0),
    "-z": (180.0, 0.0),
    "+y": (-90.0, 0.0),
    "-y": (90.0, 0.0),
    "+x": (0.0, 90.0),
    "-x": (0.0, -90.0),
}


def pose_gravity(up: str) -> np.ndarray:
    """Specific force (m/s²) an ideal accelerometer reads at rest with axis ``up`` pointing up."""
    if up not in _POSES:
        raise ValueError(f"pose {up!r}: use one of {', '.join(_POSES)}")
    return G_MS2 * np.asarray(_POSES[up])


class TremorParticipant:
    """A limb holding an IMU, with a sinusoidal tremor.

    Args:
        freq_hz: tremor frequency, Hz.
        amp_ms2: peak linear-acceleration amplitude of the tremor, m/s²
            (along the device axis ``tremor_axis``; RMS = amp/√2).
        noise_ms2: accelerometer noise SD, m/s².
        seed: noise seed.
        gyro_amp_dps: peak angular-velocity amplitude of the tremor, deg/s (about ``rot_axis``).
        gyro_noise_dps: gyroscope noise SD, deg/s.
        tremor_axis / rot_axis: device axes (0=x, 1=y, 2=z) of the linear and rotational tremor.

    ``still(True)`` removes the tremor (a limb at rest on a table / a device
    lying on the bench); ``set_pose(up)`` turns the device so that axis ``up``
    points up (6-position accelerometer calibration). Cues ``rest``/``posture``
    start the tremor, ``stop`` ends it. ``truth`` is a dict with the model's
    parameters and the current pose.
    """

    def __init__(
        self,
        freq_hz: float = 6.0,
        amp_ms2: float = 0.5,
        noise_ms2: float = 0.02,
        seed: int = 0,
        gyro_amp_dps: float = 10.0,
        gyro_noise_dps: float = 0.1,
        tremor_axis: int = 0,
        rot_axis: int = 1,
    ):
        self.freq_hz = float(freq_hz)
        self.amp_ms2 = float(amp_ms2)
        self.noise_ms2 = float(noise_ms2)
        self.seed = int(seed)
        self.gyro_amp_dps = float(gyro_amp_dps)
        self.gyro_noise_dps = float(gyro_noise_dps)
        self.tremor_axis = int(tremor_axis)
        self.rot_axis = int(rot_axis)
        self._up = "+z"
        self._still = False
        self.cues: list[tuple[str, float]] = []

    @property
    def truth(self) -> dict[str, Any]:
        return {
            "freq_hz": self.freq_hz,
            "amp_ms2": 0.0 if self._still else self.amp_ms2,
            "rms_ms2": 0.0 if self._still else self.amp_ms2 / math.sqrt(2.0),
            "gyro_amp_dps": 0.0 if self._still else self.gyro_amp_dps,
            "pose": self._up,
            "gravity_ms2": pose_gravity(self._up).tolist(),
            "still": self._still,
            "cues": list(self.cues),
        }

    def set_pose(self, up: str) -> None:
        pose_gravity(up)  # validates
        self._up = up

    def still(self, is_still: bool = True) -> None:
        self._still = bool(is_still)

    def on_cue(self, kind: str, t_s: float) -> None:
        self.cues.append((kind, float(t_s)))
        if kind in ("rest", "posture", "hold"):
            self._still = False
        elif kind == "stop":
            self._still = True

    def motion(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """IMU signals at device times ``t`` (s).

        Returns ``acc_ms2`` (n, 3) with gravity, ``gyro_dps`` (n, 3) and
        ``euler_deg`` (n, 3) = roll, pitch, yaw. The tremor's rotation is small
        (amplitude ``gyro_amp / (2 pi f)`` degrees), so its effect on the
        gravity projection is neglected.
        """
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        n = t.size
        phase = 2.0 * np.pi * self.freq_hz * t
        acc = np.tile(pose_gravity(self._up), (n, 1))
        gyro = np.zeros((n, 3))
        roll0, pitch0 = _POSE_EULER[self._up]
        euler = np.tile([roll0, pitch0, 0.0], (n, 1))
        if not self._still and self.freq_hz > 0:
            acc[:, self.tremor_axis] += self.amp_ms2 * np.sin(phase)
            gyro[:, self.rot_axis] += self.gyro_amp_dps * np.cos(phase)
            euler[:, self.rot_axis] += self.gyro_amp_dps / (2.0 * np.pi * self.freq_hz) * np.sin(phase)
        for k in range(3):
            acc[:, k] += self.noise_ms2 * hashed_normal(t, self.seed, 10 + k)
            gyro[:, k] += self.gyro_noise_dps * hashed_normal(t, self.seed, 20 + k)
        return acc, gyro, euler
