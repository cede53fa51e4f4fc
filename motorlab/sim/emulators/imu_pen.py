"""Emulated DIY IMU pen speaking the motorlab protocol.

A 6-axis IMU (e.g. LSM6DS3: +-8 g, +-1000 deg/s, int16) in the barrel and a
force sensor under the refill: channels ``acc_x/y/z`` (m/s^2, gravity
included), ``gyr_x/y/z`` (deg/s) and ``tip_force`` (N, tared by TARE); 200 Hz by
default, up to 1 kHz. Signals come from a :class:`WriterParticipant` (cues
``write``, ``draw``, ``rest``, ``posture``, ``stop``). Sensor errors for
calibration tests: ``acc_bias`` (m/s^2), ``acc_scale`` (gain, 1 = perfect) and
``gyro_bias`` (deg/s), each a scalar or an ``x,y,z`` triple in the URL.

URL: ``sim://pen?seed=1&rate=200&tremor_hz=6&tremor_amp_cm=0.05&acc_bias=0.1,0,-0.2``
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...devices.device import Device
from ...devices.registry import DeviceURL
from ...devices.spec import device
from ...units import STANDARD_GRAVITY
from ..participants import WriterParticipant
from .motorlab_device import ChannelSpec, Converter, MotorlabDeviceEmulator, build_emulator, open_emulated

SPEC = device("diy-pen")
ACC_SCALE = 8 * STANDARD_GRAVITY / 32768  # m/s^2 per count (+-8 g)
GYRO_SCALE = 1000 / 32768  # deg/s per count (+-1000 deg/s)
TIP_SCALE = 0.001  # N per count

#: the spec's channels with the firmware's count scales; only the tip force is tared
CHANNELS = [
    ChannelSpec.of(ch, {"ACCEL": ACC_SCALE, "GYRO": GYRO_SCALE}.get(ch.type, TIP_SCALE), ch.type == "MISC")
    for ch in SPEC.channels
]


def _vec3(text: str) -> tuple[float, float, float]:
    parts = [float(x) for x in text.split(",")]
    if len(parts) == 1:
        parts *= 3
    if len(parts) != 3:
        raise ValueError(text)
    return (parts[0], parts[1], parts[2])


_vec3.__name__ = "number or x,y,z triple"

_PARTICIPANT_PARAMS = {
    "reaction_s": float,
    "stroke_s": float,
    "stroke_height_cm": float,
    "stroke_width_cm": float,
    "strokes_per_word": int,
    "n_words": int,
    "lift_s": float,
    "tip_force_n": float,
    "force_noise_n": float,
    "acc_noise_ms2": float,
    "gyro_noise_dps": float,
    "spiral_turns": float,
    "spiral_pitch_cm": float,
    "spiral_s": float,
    "tremor_hz": float,
    "tremor_amp_cm": float,
    "text": str,  # letters for the "write" cue (e.g. the protocol's copy sentence); else a zig-zag
    "letter_height_cm": float,
    "writing_speed_cm_s": float,
    "slant_rad": float,
}
_DEVICE_PARAMS: dict[str, Converter] = {
    "serial": str,
    "acc_bias": _vec3,
    "acc_scale": _vec3,
    "gyro_bias": _vec3,
}


class IMUPenEmulator(MotorlabDeviceEmulator):
    """The DIY IMU pen. ``truth`` is the participant's list of activities."""

    sim_name = "sim://pen"
    participant: WriterParticipant

    def __init__(
        self,
        participant: WriterParticipant | None = None,
        *,
        rate_hz: float = SPEC.nominal_rate_hz,
        acc_bias: Any = 0.0,
        acc_scale: Any = 1.0,
        gyro_bias: Any = 0.0,
        serial: str = "P0001",
        **options: Any,
    ):
        self.participant = participant or WriterParticipant()
        self.acc_bias = np.broadcast_to(np.asarray(acc_bias, dtype=float), (3,)).copy()
        self.acc_scale = np.broadcast_to(np.asarray(acc_scale, dtype=float), (3,)).copy()
        self.gyro_bias = np.broadcast_to(np.asarray(gyro_bias, dtype=float), (3,)).copy()
        super().__init__(
            model="motorlab-imu-pen",
            serial=serial,
            firmware="1.0.0",
            channels=CHANNELS,
            sample_format=2,
            rate_hz=rate_hz,
            min_rate_hz=10.0,
            max_rate_hz=1000.0,
            read=self._read,
            participant=self.participant,
            link_name="ttyPEN",
            **options,
        )

    def _read(self, t_s: np.ndarray) -> np.ndarray:
        sig = self.participant.pen(np.asarray(t_s, dtype=np.float64))
        acc = sig["acc_ms2"] * self.acc_scale + self.acc_bias
        gyro = sig["gyro_dps"] + self.gyro_bias
        return np.column_stack([acc, gyro, sig["tip_force_n"]])


def make_emulator(params: dict[str, str], url: str = "sim://pen") -> IMUPenEmulator:
    return build_emulator(IMUPenEmulator, WriterParticipant, params, url, _PARTICIPANT_PARAMS, _DEVICE_PARAMS)


async def open_sim(url: DeviceURL) -> Device:
    """Start the emulated IMU pen; the device's driver is the real motorlab driver."""
    return await open_emulated(make_emulator(url.params), url)
